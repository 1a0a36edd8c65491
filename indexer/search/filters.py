"""What a search is limited to: dates, speakers, role, kinds, as a WHERE clause over the passages.

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


def filter_sql(filters: Filters, facts) -> tuple[str, list]:
    """(clause over `passages p`, its parameters); "" for no filter. `facts` (indexer/search/facts.py)
    names the index's speakers and kinds, read only if the filters name some."""
    clauses, params = [], []
    since = parse_date_bound(filters.since, end=False, name="--since")
    until = parse_date_bound(filters.until, end=True, name="--until")
    if since and until and since > until:
        raise BadQuery(f"--since {since} is after --until {until}; swap them")
    if since:
        clauses.append("p.date >= ?")
        params.append(since)
    if until:
        clauses.append("p.date <= ?")
        params.append(until)
    if filters.speakers:
        names = match_speakers(filters.speakers, facts.speaker_names)
        clauses.append(f"p.speaker IN ({','.join('?' * len(names))})")
        params.extend(names)
    if filters.role:
        if filters.role not in ROLES:
            raise BadQuery(f"unknown role {filters.role!r}; use one of: {', '.join(ROLES)}")
        clauses.append("p.role = ?")
        params.append(filters.role)
    if filters.kinds:
        _check_kinds(filters.kinds, {kind for kind, _ in facts.kinds})
        clauses.append(f"p.kind IN ({','.join('?' * len(filters.kinds))})")
        params.extend(filters.kinds)
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
