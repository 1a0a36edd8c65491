"""Text as the local store's FTS5 tokenizes it, for Milvus's BM25 and its `text_match`.

Milvus analyzes text itself, with other stemming and other word boundaries
than FTS5's `porter unicode61`. So a Milvus store holds each passage's and
prompt's FTS5 terms ("Psaki's sanctions" -> "psaki s sanction"), joined by
spaces, in its BM25 field: Milvus's standard tokenizer then splits exactly
where FTS5 did, a query's words go through the same stemmer, and the two
stores count the same terms (their BM25 still differs in its IDF and in
Milvus's per-segment statistics: docs/benchmarks.md). The vocabulary (how
many passages hold each term) is counted here at build time, as FTS5's own
table would give it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from ..search.query import Query
from ..search.vocabulary import Stemmer, Vocabulary

_BATCH = 512  # texts stemmed at once: the private FTS5 table stays small


def stemmed(texts: Sequence[str], stemmer: Stemmer) -> list[str]:
    """Each text's FTS5 terms, in order, joined by spaces."""
    found = []
    for start in range(0, len(texts), _BATCH):
        found += [" ".join(terms) for terms in stemmer.terms(list(texts[start:start + _BATCH]))]
    return found


def vocabulary_counts(passage_terms: Iterable[str], question_terms: Iterable[str]) -> dict:
    """How many passages hold each term, and every term of the prompts: what `Vocabulary` reads."""
    frequencies: Counter = Counter()
    for terms in passage_terms:
        frequencies.update(set(terms.split()))
    asked = sorted({term for terms in question_terms for term in terms.split()})
    return {"frequencies": dict(frequencies), "asked": asked}


def vocabulary_of(counts: dict, passages: int) -> Vocabulary:
    return Vocabulary(counts["frequencies"], passages, asked=frozenset(counts["asked"]))


def query_terms(query: Query, stemmer: Stemmer) -> str:
    """The terms BM25 searches for: the query's words and its phrases' words, each stemmed as FTS5 would."""
    return " ".join(stemmed([*query.phrases, *query.terms], stemmer))


def phrase_terms(query: Query, stemmer: Stemmer) -> list[str]:
    """Each quoted phrase as its run of terms."""
    return [terms for terms in stemmed(list(query.phrases), stemmer) if terms]


def holds_phrases(terms: str, phrases: list[str]) -> bool:
    """Whether a passage's terms hold every phrase's terms, adjacent and in order (FTS5's phrase match)."""
    padded = f" {terms} "
    return all(f" {phrase} " in padded for phrase in phrases)
