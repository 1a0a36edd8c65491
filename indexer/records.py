"""The records that flow through the pipeline: document -> turns -> passages."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

ROLES = ("official", "reporter", "moderator", "other")


FIRST_DAY = dt.date(1789, 1, 1)  # the first White House statement can be no older than the presidency
DATE_RANGE = "1789-01-01 to tomorrow"


def real_date(text: str | None) -> str | None:
    """`text` if it is a day of the calendar as YYYY-MM-DD (what a record's `date` holds) from FIRST_DAY to
    tomorrow (a zone ahead of ours), else None: the one check for 2022-13-45, 2022-02-30 and 9999-12-31, made
    where dates are read and where an index's dates are shown."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return text if FIRST_DAY <= day <= dt.date.today() + dt.timedelta(days=1) else None


@dataclass(frozen=True)
class Source:
    """One place a document was read from; a deduplicated document has several."""

    path: str
    name: str
    url: str | None = None


@dataclass
class Document:
    """A transcript or statement, as read from one source file.

    `paragraphs` is the body as plain text, one paragraph per item, with
    markdown and hard wrapping removed; `president` is the sitting president
    the source names (used to resolve `THE PRESIDENT`).
    """

    doc_id: str
    title: str
    date: str | None
    kind: str
    source_url: str | None
    source_name: str
    path: str
    paragraphs: list[str]
    president: str | None = None
    sources: list[Source] = field(default_factory=list)


@dataclass
class Turn:
    """What one speaker said without interruption."""

    doc_id: str
    number: int
    label: str
    speaker: str
    role: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class Passage:
    """A piece of an official turn, small enough to embed and to quote.

    `para_start`/`para_end` are the inclusive paragraph span inside turn
    `turn`; `question` is the reporter question that prompted the turn.
    """

    passage_id: str
    doc_id: str
    turn: int
    para_start: int
    para_end: int
    speaker: str
    role: str
    question: str | None
    text: str

    @property
    def word_count(self) -> int:
        return len(self.text.split())
