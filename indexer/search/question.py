"""Read a question before searching: drop a reporter's pleasantries, find a period or a speaker it names.

`clean_question` turns "Thanks, Jen. Two questions. On Ukraine: ..." into
"On Ukraine: ...". `read_hints` finds "in early March 2022" (a date range)
and "Kirby said" (a speaker); the search uses them as a soft boost, never as
a hard filter.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import BadQuery
from ..ingest.speakers import OFFICE_HOLDERS
from .query import Query, parse_query

_NAME = r"[A-Z][\w'’.-]*"
_GREETING = (
    r"thanks|thank you|hi|hello|hey|good (?:morning|afternoon|evening)|yes|yeah|sure|okay|ok|so|and|great|"
    r"all right|alright|sorry|follow[- ]up|just a follow[- ]up|(?:mr\.|ms\.|madam) \w+|can you hear me|"
    r"(?:thanks|thank you)(?: so much| very much)? for (?:doing this|taking (?:my|the|our) questions?|this)"
)
_PLEASANTRY = re.compile(
    rf"^(?:and )?(?:{_GREETING})(?:,? (?:so much|very much|again|all|everyone|sir|ma'am|{_NAME}))?(?: {_NAME})?[.!,:;?]?$",
    re.IGNORECASE,
)
_ANNOUNCE = re.compile(
    r"^(?:i (?:have|had|wanted to ask|want to ask|just wanted to ask|'ve got|’ve got)|just|i've got|(?:a|two|three|"
    r"a couple|a few)\b).{0,40}\b(?:questions?|things?|topics?|follow[- ]ups?)\b[^.?!]{0,40}[.:!]?$",
    re.IGNORECASE,
)
_NOISE = re.compile(r"\((?:laughter|inaudible|cross-?talk|applause)\.?\)|--+|—", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.?!:])\s+|(?<=\w),\s+(?=(?:and )?(?:thanks|thank you|hi|hello)\b)", re.IGNORECASE)


def parse_question(question: str, clean: bool) -> Query:
    """The question as search terms (indexer/search/query.py), without a reporter's pleasantries if `clean`."""
    if clean:
        try:
            return parse_query(clean_question(question))
        except BadQuery:
            pass
    return parse_query(question)


def clean_question(text: str) -> str:
    """The question without greetings, thanks and "two questions" announcements; the text itself if nothing is left."""
    text = _NOISE.sub(" ", text)
    kept = [s for s in _SENTENCE.split(text.strip()) if s and not _filler(s)]
    cleaned = " ".join(kept).strip()
    return cleaned if re.search(r"\w", cleaned) else text.strip()


def _filler(sentence: str) -> bool:
    sentence = sentence.strip()
    return bool(_PLEASANTRY.match(sentence) or _ANNOUNCE.match(sentence))


# ---- hints: a period, a speaker


@dataclass(frozen=True)
class Hints:
    """The periods (since, until) and the speakers a question names: any of the periods, any of the speakers."""

    periods: tuple[tuple[str, str], ...] = ()
    speakers: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.periods or self.speakers)


_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))
_PART = r"(?P<part>early|mid|middle of|late|end of|the end of|beginning of|the beginning of|start of|the start of)"
_MONTH_YEAR = re.compile(
    rf"\b(?:{_PART}[ -])?(?P<month>{_MONTH_WORD})\.?(?: (?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?)?(?: of)? (?P<year>20\d\d)\b",
    re.IGNORECASE,
)
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11)}
_SEASON_YEAR = re.compile(r"\b(?P<season>spring|summer|fall|autumn)(?: of)? (?P<year>20\d\d)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(20[12]\d)\b")
_PART_YEAR = re.compile(r"\b(?P<part>early|mid|late|end of|the end of|beginning of|the beginning of)[ -](?P<year>20\d\d)\b",
                        re.IGNORECASE)
_YEAR_PARTS = {"early": (1, 4), "beginning of": (1, 4), "mid": (5, 8), "late": (9, 12), "end of": (9, 12)}
_MONTH_DAY = re.compile(rf"\b(?P<month>{_MONTH_WORD})\.? (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?!,? ?(?:of )?20\d\d)",
                        re.IGNORECASE)
_WEEK_OF = re.compile(r"\bweek of\s*$", re.IGNORECASE)
_NOT_FIRST_NAMES = {"The", "Senior", "Surgeon", "Chief", "Dr.", "Mr.", "Ms.", "Mrs.", "Governor", "Secretary"}
_SUBJECTS = {name for holders in OFFICE_HOLDERS.values() for name, _, _ in holders}


def read_period(text: str) -> tuple[str | None, str | None]:
    """(since, until) ISO dates for the first period the question names, or (None, None)."""
    if match := _MONTH_YEAR.search(text):
        return _month_range(match, week=bool(_WEEK_OF.search(text[: match.start()])))
    if match := _PART_YEAR.search(text):
        first, last = _YEAR_PARTS[match["part"].lower().removeprefix("the ")]
        year = int(match["year"])
        return dt.date(year, first, 1).isoformat(), _month_end(year, last).isoformat()
    if match := _SEASON_YEAR.search(text):
        first, last = _SEASONS[match["season"].lower()]
        year = int(match["year"])
        return dt.date(year, first, 1).isoformat(), _month_end(year, last).isoformat()
    if match := _YEAR.search(text):
        return f"{match[1]}-01-01", f"{match[1]}-12-31"
    return None, None


def _month_range(match: re.Match, week: bool = False) -> tuple[str, str]:
    """The month, its part, or a day (two days either side; "the week of" a day: that day and six after)."""
    year, month = int(match["year"]), _MONTHS[match["month"].lower()]
    end = _month_end(year, month)
    if match["day"] and 1 <= int(match["day"]) <= end.day:
        day = dt.date(year, month, int(match["day"]))
        before, after = (0, 6) if week else (2, 2)
        return (day - dt.timedelta(days=before)).isoformat(), (day + dt.timedelta(days=after)).isoformat()
    part = (match["part"] or "").lower().removeprefix("the ")
    first = dt.date(year, month, 1)
    if part in ("early", "beginning of", "start of"):
        return first.isoformat(), dt.date(year, month, 12).isoformat()
    if part in ("mid", "middle of"):
        return dt.date(year, month, 8).isoformat(), dt.date(year, month, 23).isoformat()
    if part in ("late", "end of"):
        return dt.date(year, month, 18).isoformat(), (end + dt.timedelta(days=3)).isoformat()
    return first.isoformat(), end.isoformat()


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def read_speakers(text: str, names: Iterable[str]) -> tuple[str, ...]:
    """Officials the question names, by full name or surname as written: "Jen Psaki", "Kirby on whether",
    "FEMA's Criswell", "Dr. Jha". The holders of the offices a label names (the President, the Vice
    President) are left out: a question names them as its subject far more often than as who answered."""
    found = []
    for name in names:
        parts = name.split()
        if len(parts) < 2 or parts[0] in _NOT_FIRST_NAMES or name in _SUBJECTS or parts[-1] not in text:
            continue
        if re.search(rf"(?<![\w-]){re.escape(parts[-1])}(?![\w-])", text):
            found.append(name)
    return tuple(found)


_CAPITALIZED = re.compile(r"(?<![.?!:]\s)(?<!^)(?<![\w'’-])([A-Z][\w'’-]+)")


def named_words(text: str) -> list[str]:
    """Capitalized words not opening a sentence: the names a question gives ("Coco Gauff", "DeepSeek")."""
    return _CAPITALIZED.findall(text.strip())


def read_days(text: str, years: Iterable[int]) -> tuple[tuple[str, str], ...]:
    """A day named without its year ("the February 12 call"): that day, a day either side, in each of `years`."""
    match = _MONTH_DAY.search(text)
    if not match:
        return ()
    month, day = _MONTHS[match["month"].lower()], int(match["day"])
    found = []
    for year in years:
        if 1 <= day <= calendar.monthrange(year, month)[1]:
            date = dt.date(year, month, day)
            found.append(((date - dt.timedelta(days=1)).isoformat(), (date + dt.timedelta(days=1)).isoformat()))
    return tuple(found)


def read_hints(text: str, names: Iterable[str], years: Iterable[int] = ()) -> Hints:
    """The period (or the days of any year in `years`) and the speakers `text` names."""
    since, until = read_period(text)
    periods = ((since, until),) if since else read_days(text, years)
    return Hints(periods=periods, speakers=read_speakers(text, names))
