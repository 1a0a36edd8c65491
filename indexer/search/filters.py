"""What a search is limited to: dates, speakers, role, kinds, checked, and as a WHERE clause over the passages
(a Milvus store spells them as its own expression, indexer/store/milvus_filters.py).

The clause is applied before the top k are cut (indexer/search/retrieval.py),
so a narrow filter still returns k results when k exist. Every field is
checked here, at the API's edge: a value that cannot be read is a BadQuery
naming it, never a filter that silently matches nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import process

from ..errors import BadQuery
from ..records import FIRST_DAY, ROLES
from .limits import check_names, shown

DATE_FORMS = "YYYY-MM-DD, YYYY-MM or YYYY (digits 0-9; a one-digit month or day is fine)"
LAST_YEAR = 2100  # a bound names a year of White House statements: from FIRST_DAY's to this one
_BOUND = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{1,2})(?:-(?P<day>[0-9]{1,2}))?)?")


@dataclass(frozen=True)
class Filters:
    since: str | None = None
    until: str | None = None
    speakers: tuple[str, ...] = ()
    role: str | None = None
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bounds:
    """Filters checked against the index and spelled out: ISO dates, the speakers' display names."""

    since: str | None
    until: str | None
    speakers: tuple[str, ...]
    role: str | None
    kinds: tuple[str, ...]


def resolve(filters: Filters | None, facts) -> Bounds:
    """The filters as bounds, or BadQuery naming the fix. `facts` (indexer/search/facts.py) names the
    index's speakers and kinds, read only if the filters name some."""
    filters = _checked(filters)
    since = parse_date_bound(filters.since, end=False, name="--since")
    until = parse_date_bound(filters.until, end=True, name="--until")
    if since and until and since > until:
        raise BadQuery(f"--since {since} is after --until {until}; swap them")
    speakers = tuple(match_speakers(filters.speakers, facts.speaker_names)) if filters.speakers else ()
    if filters.role and filters.role not in ROLES:
        raise BadQuery(f"unknown role {shown(filters.role)}; use one of: {', '.join(ROLES)}")
    if filters.kinds:
        _check_kinds(filters.kinds, {kind for kind, _ in facts.kinds})
    return Bounds(since, until, speakers, filters.role or None, tuple(filters.kinds or ()))


def filter_sql(filters: Filters | None, facts) -> tuple[str, list]:
    """(clause over `passages p`, its parameters); "" for no filter."""
    bounds = resolve(filters, facts)
    clauses, params = [], []
    if bounds.since:
        clauses.append("p.date >= ?")
        params.append(bounds.since)
    if bounds.until:
        clauses.append("p.date <= ?")
        params.append(bounds.until)
    if bounds.speakers:
        clauses.append(f"p.speaker IN ({','.join('?' * len(bounds.speakers))})")
        params.extend(bounds.speakers)
    if bounds.role:
        clauses.append("p.role = ?")
        params.append(bounds.role)
    if bounds.kinds:
        clauses.append(f"p.kind IN ({','.join('?' * len(bounds.kinds))})")
        params.extend(bounds.kinds)
    return " AND ".join(clauses), params


def _checked(filters: Filters | None) -> Filters:
    """The filters with every field of the type it must have, else a BadQuery naming the field; an empty
    field (None, "", ()) is no filter."""
    if filters is None:
        return Filters()
    if not isinstance(filters, Filters):
        raise BadQuery(f"filters must be a Filters(...), not {type(filters).__name__}")
    for name in ("since", "until", "role"):
        value = getattr(filters, name)
        if value is not None and not isinstance(value, str):
            raise BadQuery(f"{name} must be text such as '2022-03' or None, not {type(value).__name__}")
    for name in ("speakers", "kinds"):
        values = getattr(filters, name)
        if not values:
            continue
        check_names(values, name)
    return filters


def _check_kinds(kinds: tuple[str, ...], known: set[str]) -> None:
    for kind in kinds:
        if kind not in known:
            raise BadQuery(f"unknown kind {shown(kind)}; this index has: {', '.join(sorted(known))}")


def match_speakers(wanted: tuple[str, ...], names: list[str]) -> list[str]:
    """Display names for the requested speakers: a full name or a surname, any case."""
    check_names(wanted, "speakers")
    matched = []
    for request in wanted:
        key = request.strip().casefold()
        hits = [n for n in names if n.casefold() == key] or [
            n for n in names if n.split() and n.split()[-1].casefold() == key
        ]
        if not hits:
            close = [m[0] for m in process.extract(request, names, limit=3, score_cutoff=60)]
            hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m indexer stats`"
            raise BadQuery(f"no speaker named {shown(request)} in this index{hint}")
        matched.extend(hits)
    return matched


def parse_date_bound(value: str | None, end: bool, name: str) -> str | None:
    """The ISO date a bound means: "2022" and "2022-03" (or "2022-3") are the whole year or month, its first
    day for a start (`end` False), its last for an end. Anything else is a BadQuery, never a guess."""
    if value is None or not str.strip(value):
        return None
    text = str.strip(value)  # a str subclass may redefine strip
    match = _BOUND.fullmatch(text)
    if match is None:
        raise BadQuery(_not_a_date(name, text))
    year, month, day = (int(part) if part else None for part in match.group("year", "month", "day"))
    if not FIRST_DAY.year <= year <= LAST_YEAR:
        raise BadQuery(f"{name} {shown(text)}: the year must be from {FIRST_DAY.year} to {LAST_YEAR}")
    try:
        if month is None:
            return (dt.date(year, 12, 31) if end else dt.date(year, 1, 1)).isoformat()
        if day is None:
            return dt.date(year, month, calendar.monthrange(year, month)[1] if end else 1).isoformat()
        return dt.date(year, month, day).isoformat()
    except ValueError as exc:
        raise BadQuery(_not_a_date(name, text)) from exc


def _not_a_date(name: str, text: str) -> str:
    if "/" in text:
        start, _, finish = (part.strip() for part in text.partition("/"))
        return (f"{name} {shown(text)} is a range; give each end its own bound: --since {shown(start)} "
                f"--until {shown(finish)}")
    return f"{name} {shown(text)} is not a date; use {DATE_FORMS}"
