"""FTS5's BM25 as sparse vectors, so that a Milvus store ranks words as the local store does.

FTS5 scores a row for a query as the sum over the query's terms of

    idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average length))

with idf = log((N - n + 0.5) / (n + 0.5)), or 1e-6 where that is not above 0,
N the rows of the table and n the rows that hold the term. Milvus's own BM25
function takes log(1 + ...) for the IDF and counts per segment, which changed
the top 10 of one question in four (docs/benchmarks.md). So a build stores
each row's part of the formula as a sparse vector over term numbers, a query
is its terms' IDFs over the same numbers, and Milvus's inner product of the
two is FTS5's score, with the statistics of the whole version, on Milvus Lite
and on a cluster alike. A word FTS5 cuts into several terms ("president’s"
-> "presid s") is a phrase to FTS5, counted where its terms stand together:
each such word of the corpus has a dimension of its own, counted so. (A
phrase the user quotes is scored as its words: the rows it is searched among
are those that hold it, indexer/store/milvus_filters.py.)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ..search.vocabulary import Vocabulary

K1, B = 1.2, 0.75  # FTS5's
_FLOOR = 1e-6  # FTS5's IDF for a term in half the rows or more


@dataclass(frozen=True)
class Part:
    """One collection's statistics: how many rows hold each term, the rows, their average length in terms."""

    frequencies: dict[str, int]
    rows: int
    average_length: float

    @classmethod
    def of(cls, rows_terms: Sequence[str], phrases: Phrases) -> Part:
        frequencies: Counter = Counter()
        length = 0
        for terms in rows_terms:
            length += len(terms.split())
            frequencies.update(set(phrases.counts(terms)))
        return cls(dict(frequencies), len(rows_terms), length / len(rows_terms) if rows_terms else 0.0)

    def idf(self, term: str) -> float:
        held = self.frequencies[term]
        return max(math.log((self.rows - held + 0.5) / (held + 0.5)), _FLOOR)

    def weights(self, terms: str, phrases: Phrases) -> dict[str, float]:
        """A row's part of the formula for each of its terms and phrases."""
        length = len(terms.split())
        norm = K1 * (1 - B + B * length / self.average_length) if self.average_length else K1
        return {term: count * (K1 + 1) / (count + norm) for term, count in phrases.counts(terms).items()}


class Phrases:
    """The corpus's words of several terms, as their terms joined by spaces, found as runs in a row's terms."""

    def __init__(self, phrases):
        self.phrases = frozenset(phrases)
        self.heads = {phrase.split()[0] for phrase in self.phrases}
        self.sizes = sorted({phrase.count(" ") + 1 for phrase in self.phrases})

    def counts(self, terms: str) -> Counter:
        """How often a row holds each of its terms, and each phrase."""
        words = terms.split()
        found = Counter(words)
        for start, word in enumerate(words):
            if word in self.heads:
                found.update(run for size in self.sizes if (run := " ".join(words[start:start + size])) in self.phrases)
        return found


@dataclass(frozen=True)
class Statistics:
    """The numbers the terms and phrases of a version are stored under, and the passages' and the prompts'
    statistics."""

    numbers: dict[str, int]
    passages: Part
    questions: Part

    @classmethod
    def of(cls, passage_terms: Sequence[str], question_terms: Sequence[str], phrases: set[str]) -> Statistics:
        phrases = Phrases(phrases)
        passages, questions = Part.of(passage_terms, phrases), Part.of(question_terms, phrases)
        every = sorted(set(passages.frequencies) | set(questions.frequencies))
        return cls({term: number for number, term in enumerate(every)}, passages, questions)

    @classmethod
    def from_dict(cls, raw: dict) -> Statistics:
        return cls({term: number for number, term in enumerate(raw["terms"])},
                   Part(**raw["passages"]), Part(**raw["questions"]))

    @cached_property
    def phrases(self) -> Phrases:
        return Phrases(term for term in self.numbers if " " in term)

    def to_dict(self) -> dict:
        return {"terms": sorted(self.numbers, key=self.numbers.get),
                "passages": vars(self.passages), "questions": vars(self.questions)}

    def row_vector(self, part: str, terms: str) -> dict[int, float]:
        """What a row of `part` ("passages" or "questions") stores for its terms."""
        weights = self._part(part).weights(terms, self.phrases)
        return {self.numbers[term]: weight for term, weight in weights.items()}

    def query_vector(self, part: str, units: list[str]) -> dict[int, float]:
        """A query's words (their terms, indexer/store/terms.py `query_units`) as IDFs. A word no row of `part`
        holds adds nothing, as in FTS5; one asked twice ("sanctions sanction") counts twice, as FTS5 counts
        both words."""
        statistics, vector = self._part(part), {}
        for term in units:
            if statistics.frequencies.get(term):
                vector[self.numbers[term]] = vector.get(self.numbers[term], 0.0) + statistics.idf(term)
        return vector

    def vocabulary(self) -> Vocabulary:
        """What the question's understanding reads (indexer/search/vocabulary.py): terms and who asked them."""
        return Vocabulary({term: held for term, held in self.passages.frequencies.items() if " " not in term},
                          self.passages.rows, asked=frozenset(t for t in self.questions.frequencies if " " not in t))

    def _part(self, part: str) -> Part:
        return self.passages if part == "passages" else self.questions
