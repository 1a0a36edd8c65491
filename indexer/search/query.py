"""A user's question as words, never as FTS5 syntax.

`NOT`, `*`, `:`, `NEAR(` and stray quotes are just words here: every term is
quoted before it reaches MATCH. A researcher's "exact phrase" in double
quotes is kept as a phrase that every result must contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadQuery

MAX_QUERY_CHARS = 2000

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just let me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    say said says tell told think thinks going get got also ok okay yes thank thanks please hi
    hello question questions ask asked can't don't won't isn't aren't there's that's what's""".split()
)

_PHRASE = re.compile(r'"([^"]+)"')
_WORD = re.compile(r"\w+(?:['’]\w+)?", re.UNICODE)


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[str, ...]
    phrases: tuple[str, ...]

    def fts_expression(self) -> str | None:
        """An FTS5 MATCH string: phrases required, other terms optional (OR), all quoted."""
        phrases = [_quote(p) for p in self.phrases]
        terms = [_quote(t) for t in self.terms]
        if phrases and terms:
            required = " AND ".join(phrases)
            return f"{required} AND ({' OR '.join(phrases + terms)})"
        if phrases:
            return " AND ".join(phrases)
        return " OR ".join(terms) or None

    def phrase_expression(self) -> str | None:
        return " AND ".join(_quote(p) for p in self.phrases) or None


def parse_query(text: str) -> Query:
    if text is None or not text.strip():
        raise BadQuery("the question is empty; type what you want to find, e.g. \"air defense for Ukraine\"")
    text = _printable(text)[:MAX_QUERY_CHARS].strip()
    phrases = tuple(
        " ".join(words_of(p)) for p in _PHRASE.findall(text) if _WORD.search(p)
    )
    rest = _PHRASE.sub(" ", text)
    words = list(dict.fromkeys(words_of(rest)))
    terms = [word for word in words if word not in STOPWORDS] or ([] if phrases else words)
    if not terms and not phrases:
        raise BadQuery("the question has no words to search for; type a few words")
    return Query(text=text, terms=tuple(terms), phrases=phrases)


def words_of(text: str) -> list[str]:
    """The words a query is made of, lowercased; "president’s" is one (FTS5 searches it as a phrase)."""
    return _WORD.findall(text.lower())


def _quote(words: str) -> str:
    return '"' + words.replace('"', '""') + '"'


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)

