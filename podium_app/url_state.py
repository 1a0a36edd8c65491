"""The URL is the page's state: the question, the filters, the page and the open transcript.

The page writes the URL after each change, which Streamlit records as a new
browser history entry; whenever the URL says something the page did not write
(a first visit, a shared link, the browser's Back or Forward), the page loads
its state from it. A value the index does not have (a speaker, a kind, a date)
is left out with a notice naming it, never dropped silently.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from indexer.errors import BadQuery
from indexer.records import real_date
from indexer.search import Filters, Index
from indexer.search.filters import parse_date_bound

PAGE_SIZES = (5, 10, 20, 50)
DEFAULT_PER_PAGE = 10
MAX_PAGE = 100


def url_params() -> dict[str, tuple[str, ...]]:
    """What the URL says, each parameter with all its values."""
    return {key: tuple(st.query_params.get_all(key)) for key in st.query_params}


def follow_url(index: Index) -> None:
    """Load the state from the URL unless the page wrote this URL itself."""
    params = url_params()
    if st.session_state.get("_url") != params:
        load_state(index, params)
        st.session_state._url = params


def write_url(params: dict[str, str | list[str]]) -> None:
    """Put `params` in the URL (a new history entry when they changed) and remember them as the page's own."""
    if {key: tuple(value if isinstance(value, list) else [value]) for key, value in params.items()} != url_params():
        st.query_params.from_dict(params)
    st.session_state._url = url_params()


def load_state(index: Index, params: dict[str, tuple[str, ...]]) -> None:
    """The widgets' and the view's state from the URL's parameters; notices for values left out."""
    state, notices = st.session_state, []
    first, last = date_bounds(index)
    state.q = _one(params, "q") or ""
    state.speakers = _known_speakers(index, params.get("speaker", ()), notices)
    state.kinds = _known_kinds(index, params.get("kind", ()), notices)
    state.since = _url_date(_one(params, "since"), "From", first, (first, last), notices)
    state.until = _url_date(_one(params, "until"), "To", last, (first, last), notices)
    role = _one(params, "role")
    if role and role != "official":
        notices.append(f"role {role}: every passage is an official's answer")
    state.per_page = _int(_one(params, "n"), DEFAULT_PER_PAGE, PAGE_SIZES)
    state.page = _int(_one(params, "page"), 1, range(1, MAX_PAGE + 1))
    came_from = state.get("doc")
    state.doc, state.passage = _one(params, "doc"), _one(params, "passage")
    state._return_to = came_from if came_from and not state.doc else None  # Back from a transcript: its card
    state._notices = notices
    state._signature = search_signature()


def search_params(index: Index) -> dict[str, str | list[str]]:
    """The URL parameters for the search the widgets hold (defaults left out)."""
    first, last = date_bounds(index)
    state = st.session_state
    params: dict[str, str | list[str]] = {}
    if state.q.strip():
        params["q"] = state.q.strip()
    if state.since != first:
        params["since"] = state.since.isoformat()
    if state.until != last:
        params["until"] = state.until.isoformat()
    if state.speakers:
        params["speaker"] = list(state.speakers)
    if state.kinds:
        params["kind"] = list(state.kinds)
    if state.per_page != DEFAULT_PER_PAGE:
        params["n"] = str(state.per_page)
    if state.page != 1:
        params["page"] = str(state.page)
    return params


def search_signature() -> tuple:
    state = st.session_state
    return (state.q.strip(), state.since, state.until, tuple(state.speakers), tuple(state.kinds), state.per_page)


def filters_from_state() -> Filters:
    state = st.session_state
    return Filters(since=state.since.isoformat(), until=state.until.isoformat(), speakers=tuple(state.speakers),
                   kinds=tuple(state.kinds))


def search_from_url(index: Index) -> tuple[str, Filters]:
    """The question and filters the URL holds, as load_state reads them (for a page without the widgets)."""
    params, ignored = url_params(), []
    first, last = date_bounds(index)
    since = _url_date(_one(params, "since"), "From", first, (first, last), ignored)
    until = _url_date(_one(params, "until"), "To", last, (first, last), ignored)
    return (_one(params, "q") or "").strip(), Filters(
        since=since.isoformat(), until=until.isoformat(),
        speakers=tuple(_known_speakers(index, params.get("speaker", ()), ignored)),
        kinds=tuple(_known_kinds(index, params.get("kind", ()), ignored)))


def date_bounds(index: Index) -> tuple[dt.date, dt.date]:
    """The index's first and last dates (today for one it lacks, or that is not a real date)."""
    first, last = (real_date(day) or dt.date.today().isoformat() for day in index.date_range())
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)


def _known_speakers(index: Index, wanted: tuple[str, ...], notices: list[str]) -> list[str]:
    """Display names for the link's speakers (a full name or a surname, any case); a notice for each unknown."""
    names: list[str] = []
    for request in wanted:
        try:
            names += [name for name in index.match_speakers((request,)) if name not in names]
        except BadQuery:
            notices.append(f"no speaker {request} in this index")
    return names


def _known_kinds(index: Index, wanted: tuple[str, ...], notices: list[str]) -> list[str]:
    known = [kind for kind, _ in index.kinds()]
    for kind in wanted:
        if kind not in known:
            notices.append(f"no kind of document {kind} in this index (it has {', '.join(known)})")
    return [kind for kind in dict.fromkeys(wanted) if kind in known]


def _url_date(value: str | None, label: str, default: dt.date, bounds: tuple[dt.date, dt.date],
              notices: list[str]) -> dt.date:
    """The link's date (any form the search takes: "2022-03-07", "2022-03", "2022-3" or "2022"), kept inside
    the index's dates."""
    try:
        bound = parse_date_bound(value, end=label == "To", name=label)
    except BadQuery:
        notices.append(f"{label} date {value} is not a date (use YYYY-MM-DD)")
        return default
    return default if bound is None else min(max(dt.date.fromisoformat(bound), bounds[0]), bounds[1])


def _one(params: dict[str, tuple[str, ...]], key: str) -> str | None:
    values = params.get(key, ())
    return values[-1] if values else None


def _int(value: str | None, default: int, allowed) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    return number if number in allowed else default
