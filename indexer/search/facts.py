"""The two ways an open index keeps what it has read: facts of the version, and small bounded caches.

A version never changes, so its facts (speakers, kinds, dates, the id maps
the ranking needs) are read once, on first use (`Facts`). What depends on the
question (its vector, the ids a filter allows) is kept in a `BoundedCache`,
emptied when full.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import numpy as np

from ..records import real_date
from .vocabulary import Vocabulary


class Facts:
    """What one version holds, each read on first use (the app asks for them on every page run) from its
    store's columns (indexer/store/): the same facts, whichever store holds the passages."""

    def __init__(self, store):
        self.store = store

    @cached_property
    def speakers(self) -> list[tuple[str, int]]:
        return _counts(self.store.column("speaker"))

    @cached_property
    def speaker_names(self) -> list[str]:
        return [name for name, _ in self.speakers]

    @cached_property
    def kinds(self) -> list[tuple[str, int]]:
        return _counts(self.store.column("kind"))

    @cached_property
    def roles(self) -> list[str]:
        return sorted(set(self.store.column("role")))

    @cached_property
    def date_range(self) -> tuple[str | None, str | None]:
        """The first and last real dates: a row an older reader stored as 2022-13-45 is not one."""
        dates = [day for day in set(self.store.column("date")) if day and real_date(day)]
        return (min(dates), max(dates)) if dates else (None, None)

    @cached_property
    def years(self) -> range:
        """The years the index's dates span."""
        first, last = self.date_range
        return range(int(first[:4]), int(last[:4]) + 1) if first and last else range(0)

    @cached_property
    def passage_ids(self) -> list[str]:
        """Row (passages.id) -> passage_id."""
        return self.store.column("passage_id")

    @cached_property
    def document_of(self) -> np.ndarray:
        """Row -> a number for its document, to cap results per document without a query."""
        numbers: dict[str, int] = {}
        return np.array([numbers.setdefault(doc, len(numbers)) for doc in self.store.column("doc_id")],
                        dtype=np.int32)

    @cached_property
    def question_of(self) -> np.ndarray:
        """Row -> the id of the reporter question it answers (questions.id), -1 for none."""
        return np.array([-1 if q is None else q for q in self.store.column("question_id")], dtype=np.int64)

    @cached_property
    def _answers(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows sorted by their question, and where each question's run of rows starts (CSR)."""
        order = np.argsort(self.question_of, kind="stable")
        asked = self.question_of[order]
        starts = np.searchsorted(asked, np.arange(int(asked.max(initial=-1)) + 2))
        return order, starts

    def answers_to(self, questions: list[int]) -> np.ndarray:
        """The rows that answer any of `questions`."""
        order, starts = self._answers
        runs = [order[starts[q]:starts[q + 1]] for q in questions if 0 <= q < len(starts) - 1]
        return np.concatenate(runs) if runs else np.zeros(0, dtype=np.int64)

    def questions_of(self, rows: np.ndarray | None) -> np.ndarray | None:
        """The sorted ids of the questions the `rows` answer (None: every question)."""
        if rows is None:
            return None
        asked = np.unique(self.question_of[rows])
        return asked[asked >= 0]

    @cached_property
    def months(self) -> list[str | None]:
        """Row -> YYYY-MM of its date, for the timeline."""
        return [date[:7] if date else None for date in self.store.column("date")]

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return self.store.vocabulary()


def _counts(values: list[str]) -> list[tuple[str, int]]:
    """(value, rows) for each distinct value, most rows first, then by value."""
    return sorted(Counter(values).items(), key=lambda pair: (-pair[1], pair[0]))


class BoundedCache:
    """Values by key, at most `size` of them (emptied when full). Threads share it, so `get` returns
    the value it computed from a local, never read back from the cache."""

    def __init__(self, size: int):
        self.size = size
        self._values: dict = {}

    def get(self, key, compute):
        """The value kept under `key`, else `compute()`, kept."""
        value = self._values.get(key)
        if value is None:
            value = compute()
            if len(self._values) >= self.size:
                self._values.clear()
            self._values[key] = value
        return value

    def clear(self) -> None:
        self._values.clear()
