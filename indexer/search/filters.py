"""What a search is limited to: dates, speakers, role, kinds, checked, and as a WHERE clause over the passages
(a Milvus store spells them as its own expression, indexer/store/milvus_filters.py).

The clause is applied before the top k are cut (indexer/search/retrieval.py),
so a narrow filter still returns k results when k exist.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dateutil import parser as dateparser
from rapidfuzz import process

from ..errors import BadQuery
from ..records import ROLES


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


def resolve(filters: Filters, facts) -> Bounds:
    """The filters as bounds, or BadQuery naming the fix. `facts` (indexer/search/facts.py) names the
    index's speakers and kinds, read only if the filters name some."""
    since = parse_date_bound(filters.since, end=False, name="--since")
    until = parse_date_bound(filters.until, end=True, name="--until")
    if since and until and since > until:
        raise BadQuery(f"--since {since} is after --until {until}; swap them")
    speakers = tuple(match_speakers(filters.speakers, facts.speaker_names)) if filters.speakers else ()
    if filters.role and filters.role not in ROLES:
        raise BadQuery(f"unknown role {filters.role!r}; use one of: {', '.join(ROLES)}")
    if filters.kinds:
        _check_kinds(filters.kinds, {kind for kind, _ in facts.kinds})
    return Bounds(since, until, speakers, filters.role, tuple(filters.kinds))


def filter_sql(filters: Filters, facts) -> tuple[str, list]:
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


def _check_kinds(kinds: tuple[str, ...], known: set[str]) -> None:
    for kind in kinds:
        if kind not in known:
            raise BadQuery(f"unknown kind {kind!r}; this index has: {', '.join(sorted(known))}")


def match_speakers(wanted: tuple[str, ...], names: list[str]) -> list[str]:
    """Display names for the requested speakers: a full name or a surname, any case."""
    matched = []
    for request in wanted:
        key = request.strip().casefold()
        hits = [n for n in names if n.casefold() == key] or [
            n for n in names if n.split()[-1].casefold() == key
        ]
        if not hits:
            close = [m[0] for m in process.extract(request, names, limit=3, score_cutoff=60)]
            hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m indexer stats`"
            raise BadQuery(f"no speaker named {request!r} in this index{hint}")
        matched.extend(hits)
    return matched


def parse_date_bound(value: str | None, end: bool, name: str) -> str | None:
    """ISO date for a bound: "2022" and "2022-03" mean the whole year or month."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-12-31" if end else f"{value}-01-01"
    if re.fullmatch(r"\d{4}-\d{2}", value):
        first = dt.date.fromisoformat(f"{value}-01") if _valid_month(value) else None
        if first is None:
            raise BadQuery(f"{name} {value!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY")
        if not end:
            return first.isoformat()
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return (following - dt.timedelta(days=1)).isoformat()
    try:
        return dateparser.parse(value).date().isoformat()
    except (ValueError, OverflowError) as exc:
        raise BadQuery(f"{name} {value!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY") from exc


def _valid_month(value: str) -> bool:
    return 1 <= int(value[5:7]) <= 12
