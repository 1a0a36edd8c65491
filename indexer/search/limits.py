"""The limits of a search request, checked at `Index.search`'s edge before any work is done.

A value outside them is a BadQuery that says the limit, never an overflow, a
truncated k or an empty answer: k is a whole number from 1 to MAX_K, per_doc
None or a whole number (0 and None: no cap, as `--per-doc 0`), the mode one
of MODES, and the question text of at most MAX_QUESTION_CHARS
(only its first MAX_QUERY_CHARS are searched; a longer one costs time for
nothing: 0.7 s a million characters). `tuning` is a ranking.Tuning or None.

The other entry points are held to the same edge: a passage or document id is
text of at most MAX_ID_CHARS that can be stored (no lone surrogate), the turns
around a passage a whole number from 0 to MAX_CONTEXT_TURNS, speakers a tuple
of names. A value a message names is shown cut (`shown`), never echoed whole.
"""

from __future__ import annotations

import numbers
import reprlib

from ..errors import BadQuery
from .query import MAX_QUERY_CHARS
from .ranking import Tuning

MODES = ("hybrid", "dense", "keyword")
MAX_K = 1000
MAX_QUESTION_CHARS = 100_000
MAX_ID_CHARS = 1_000  # the longest id a file name gives is 255 bytes
MAX_CONTEXT_TURNS = 1_000
_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60


def shown(value) -> str:
    """`value` as a message shows it: its repr, cut to about 60 characters ("'xxxx...xxxx'")."""
    return _SHOWN.repr(value)


def check_request(question: str, k: int, mode: str, per_doc: int | None, tuning: Tuning | None = None) -> None:
    check_question(question)
    if not _whole(k) or not 1 <= k <= MAX_K:
        raise BadQuery(f"k must be a whole number from 1 to {MAX_K:,}, not {shown(k)}")
    if per_doc is not None and (not _whole(per_doc) or per_doc < 0):
        raise BadQuery(f"per_doc must be a whole number of at least 0 (None or 0: no cap), not {shown(per_doc)}")
    if not isinstance(mode, str) or mode not in MODES:
        raise BadQuery(f"unknown mode {shown(mode)}; use one of: {', '.join(MODES)}")
    if tuning is not None and not isinstance(tuning, Tuning):
        raise BadQuery(f"tuning must be a ranking.Tuning(...) or None, not {type(tuning).__name__}")


def check_question(question: str) -> None:
    if not isinstance(question, str):
        raise BadQuery(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuery(f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,} "
                       f"(only the first {MAX_QUERY_CHARS:,} are searched): shorten it")


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_id(value, what: str) -> None:
    """A passage or document id: text that SQLite can bind, of a length an id can have."""
    if not isinstance(value, str):
        raise BadQuery(f"a {what} id must be text, not {type(value).__name__}")
    if len(value) > MAX_ID_CHARS or not _encodable(value):
        raise BadQuery(f"no {what} {shown(value)} in this index (an id is UTF-8 text of at most "
                       f"{MAX_ID_CHARS:,} characters)")


def check_turns(before, after) -> None:
    for name, value in (("before", before), ("after", after)):
        if not _whole(value) or not 0 <= value <= MAX_CONTEXT_TURNS:
            raise BadQuery(f"{name} must be a whole number of turns from 0 to {MAX_CONTEXT_TURNS:,}, "
                           f"not {shown(value)}")


def check_names(values, name: str) -> None:
    """Speakers or kinds: a tuple (or list) of non-empty texts."""
    if isinstance(values, str):
        raise BadQuery(f"{name} must be a tuple of names, e.g. {name}=({shown(values)},)")
    if not isinstance(values, (tuple, list)) or not all(isinstance(v, str) and v.strip() for v in values):
        raise BadQuery(f"{name} must be a tuple of names (non-empty text), not {shown(values)}")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
