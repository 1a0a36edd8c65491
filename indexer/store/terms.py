"""Text as the local store's FTS5 tokenizes it, for a Milvus store's BM25 and its `text_match`.

Milvus analyzes text itself, with other stemming and other word boundaries
than FTS5's `porter unicode61`. So a Milvus store holds each passage's and
prompt's FTS5 terms ("Psaki's sanctions" -> "psaki s sanction"), joined by
spaces: its BM25 vectors are made of them (indexer/store/bm25.py), Milvus's
standard tokenizer splits them for `text_match` exactly where FTS5 did, and a
query's words go through the same stemmer, so the two stores count the same
terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..search.query import Query, words_of
from ..search.vocabulary import Stemmer

_BATCH = 512  # texts stemmed at once: the private FTS5 table stays small


def stemmed(texts: Sequence[str], stemmer: Stemmer) -> list[str]:
    """Each text's FTS5 terms, in order, joined by spaces."""
    found = []
    for start in range(0, len(texts), _BATCH):
        found += [" ".join(terms) for terms in stemmer.terms(list(texts[start:start + _BATCH]))]
    return found


def query_units(query: Query, stemmer: Stemmer) -> list[str]:
    """The query's words and its phrases' words, each stemmed as FTS5 would, one entry a word: a word FTS5
    cuts in two ("president’s" -> "presid s") stays one entry, which FTS5 searches as a phrase."""
    words = [word for phrase in query.phrases for word in phrase.split()] + list(query.terms)
    return [units for units in stemmed(words, stemmer) if units]


def word_phrases(texts: Iterable[str], stemmer: Stemmer) -> set[str]:
    """Every word of `texts` that FTS5 cuts into several terms, as its terms: what a query may search as a
    phrase (indexer/store/bm25.py counts them in every row)."""
    joined = {word for text in texts for word in words_of(text) if not word.isalnum()}
    return {units for units in stemmed(sorted(joined), stemmer) if " " in units}


def phrase_terms(query: Query, stemmer: Stemmer) -> list[str]:
    """Each quoted phrase as its run of terms."""
    return [terms for terms in stemmed(list(query.phrases), stemmer) if terms]


def holds_phrases(terms: str, phrases: list[str]) -> bool:
    """Whether a passage's terms hold every phrase's terms, adjacent and in order (FTS5's phrase match)."""
    padded = f" {terms} "
    return all(f" {phrase} " in padded for phrase in phrases)
