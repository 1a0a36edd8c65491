"""The limits of a search request, checked at `Index.search`'s edge before any work is done.

A value outside them is a BadQuery that says the limit, never an overflow, a
truncated k or an empty answer: k is a whole number from 1 to MAX_K, per_doc
None or a whole number (0 and None: no cap, as `--per-doc 0`), the mode one
of MODES, and the question text of at most MAX_QUESTION_CHARS
(only its first MAX_QUERY_CHARS are searched; a longer one costs time for
nothing: 0.7 s a million characters).
"""

from __future__ import annotations

import numbers

from ..errors import BadQuery
from .query import MAX_QUERY_CHARS

MODES = ("hybrid", "dense", "keyword")
MAX_K = 1000
MAX_QUESTION_CHARS = 100_000


def check_request(question: str, k: int, mode: str, per_doc: int | None) -> None:
    check_question(question)
    if not _whole(k) or not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be a whole number from 1 to {MAX_K:,}, not {k!r}")
    if per_doc is not None and (not _whole(per_doc) or per_doc < 0):
        raise BadQuery(f"per_doc must be a whole number of at least 0 (None or 0: no cap), not {per_doc!r}")
    if not isinstance(mode, str) or mode not in MODES:
        raise BadQuery(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")


def check_question(question: str) -> None:
    if not isinstance(question, str):
        raise BadQuery(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuery(f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,} "
                       f"(only the first {MAX_QUERY_CHARS:,} are searched): shorten it")


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
