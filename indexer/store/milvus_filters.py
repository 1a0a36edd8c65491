"""A search's filters and quoted phrases in a Milvus store: a filter expression over the passages' fields.

The filters are checked as for the local store (indexer/search/filters.py)
and spelled as a Milvus expression, applied inside each search, before the
cut. Milvus has no phrase query: a phrase's words are required with
`text_match` (one term each, so all of them), and the passages that hold them
are kept only if their FTS5 terms hold the phrase's terms adjacent and in
order, as FTS5's phrase match does (indexer/store/terms.py). Strings are
quoted as JSON literals, whose escapes Milvus's parser reads alike, so
nothing a user types reaches the expression as syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..search.filters import Filters, resolve
from ..search.query import Query
from ..search.question import Hints
from ..search.vocabulary import Stemmer
from . import terms


@dataclass(frozen=True)
class Where:
    """The filters as an expression ("" for none), and the phrases (as runs of terms) every passage must hold."""

    expression: str = ""
    phrases: tuple[str, ...] = ()


def where(filters: Filters, facts, query: Query | None, stemmer: Stemmer) -> Where:
    bounds = resolve(filters, facts)
    clauses = []
    if bounds.since:
        clauses.append(f"date >= {literal(bounds.since)}")
    if bounds.until:
        clauses.append(f'date != "" and date <= {literal(bounds.until)}')  # undated is "", not NULL
    if bounds.speakers:
        clauses.append(f"speaker in {_list(bounds.speakers)}")
    if bounds.role:
        clauses.append(f"role == {literal(bounds.role)}")
    if bounds.kinds:
        clauses.append(f"kind in {_list(bounds.kinds)}")
    phrases = tuple(terms.phrase_terms(query, stemmer)) if query else ()
    return Where(" and ".join(clauses), phrases)


def narrowed(base: Where, hints: Hints):
    """(name, where) for each hint: the user's filters narrowed to the period, or to the speakers, named."""
    clauses = []
    if hints.periods:
        clauses.append(("period", " or ".join(f"(date >= {literal(first)} and date <= {literal(last)})"
                                              for first, last in hints.periods)))
    if hints.speakers:
        clauses.append(("speaker", f"speaker in {_list(hints.speakers)}"))
    for name, clause in clauses:
        yield name, Where(both(base.expression, f"({clause})"), base.phrases)


def with_phrase_words(where: Where) -> str:
    """The expression, requiring every word of every phrase (the candidates for the phrase check)."""
    words = dict.fromkeys(word for phrase in where.phrases for word in phrase.split())
    return both(where.expression, " and ".join(f"text_match(terms, {literal(word)})" for word in words))


def any_word(words: str) -> str:
    return f"text_match(terms, {literal(words)})"


def both(first: str, second: str) -> str:
    return f"({first}) and {second}" if first and second else first or second


def ids_in(ids) -> str:
    return f"id in [{','.join(str(int(i)) for i in ids)}]"


def literal(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _list(values) -> str:
    return f"[{', '.join(literal(value) for value in values)}]"
