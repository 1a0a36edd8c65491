"""Podium's web question box: a thin Streamlit layer over indexer.search.

Run with `streamlit run app.py`; the index comes from $PODIUM_INDEX or data/index.
Corpus text and queries are always escaped before they reach markdown, so a
passage holding HTML or a `javascript:` link renders as plain text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
import textwrap
import time
from urllib.parse import quote

import pandas as pd
import streamlit as st

from indexer.errors import IndexMissing, PodiumError
from indexer.search import Filters, Index, Result, current_version_name, default_index_dir
from indexer.search.export import results_csv, results_json

PAGE_SIZES = (5, 10, 20, 50)
MAX_PAGE = 20
TIMELINE_TOP = 200
EXAMPLES = (
    "What did the White House say about air defense for Ukraine?",
    "baby formula shortage",
    "Did the President talk to Putin about troops on the border?",
)
BUILD_COMMAND = (
    ".venv/bin/python -m indexer build ../shared/corpus/seeds "
    "../shared/corpus/whitehouse/press-briefings/2022-03"
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'@])")


@st.cache_resource(show_spinner="Loading the index and the model...", max_entries=2)
def load_index(path: str, version: str | None) -> Index:
    """One index and one model per server process, shared by every session.

    Cached per version: when a build swaps a new version in, the next page run
    opens it, while searches already running finish on the old one.
    """
    index = Index.open(path)
    index.timeline("warm up")  # model, vectors and keyword pages ready before the first question
    return index


def escape(text: str) -> str:
    """Markdown-inert text: every character markdown or Streamlit could read as syntax is escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def safe_url(url: str | None) -> str | None:
    if not url or not re.match(r"https?://[^\s]+$", url):
        return None
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def answer_markdown(text: str, highlight: str) -> str:
    """The passage paragraph by paragraph, the highlight in bold."""
    start = text.find(highlight) if highlight else -1
    end = start + len(highlight) if start >= 0 else -1
    lines, offset = [], 0
    for paragraph in text.split("\n\n"):
        lines.append(_bold_span(paragraph, start - offset, end - offset))
        offset += len(paragraph) + 2
    return "\n\n".join(lines)


def _bold_span(paragraph: str, start: int, end: int) -> str:
    start, end = max(start, 0), min(end, len(paragraph))
    if end <= start:
        return escape(paragraph)
    before, inside, after = paragraph[:start], paragraph[start:end], paragraph[end:]
    stripped = inside.strip()
    if not stripped:
        return escape(paragraph)
    return f"{escape(before)}**{escape(stripped)}**{escape(after)}"


def state_from_url(index: Index) -> None:
    """On a session's first run, take the question and filters from the URL."""
    if st.session_state.get("_from_url"):
        return
    params = st.query_params
    speakers = {name for name, _ in index.speakers()}
    kinds = {kind for kind, _ in index.kinds()}
    first, last = _date_bounds(index)
    st.session_state.q = params.get("q", "")
    st.session_state.speakers = [s for s in params.get_all("speaker") if s in speakers]
    st.session_state.kinds = [k for k in params.get_all("kind") if k in kinds]
    st.session_state.role = params.get("role", "any")
    st.session_state.since = _url_date(params.get("since"), first, first, last)
    st.session_state.until = _url_date(params.get("until"), last, first, last)
    st.session_state.per_page = _int(params.get("n"), 10, PAGE_SIZES)
    st.session_state.page = _int(params.get("page"), 1, range(1, MAX_PAGE + 1))
    st.session_state._from_url = True


def state_to_url(index: Index) -> None:
    first, last = _date_bounds(index)
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
    if state.role != "any":
        params["role"] = state.role
    if state.kinds:
        params["kind"] = list(state.kinds)
    if state.per_page != 10:
        params["n"] = str(state.per_page)
    if state.page != 1:
        params["page"] = str(state.page)
    st.query_params.from_dict(params)


def sidebar(index: Index) -> Filters:
    first, last = _date_bounds(index)
    counts = dict(index.speakers())
    with st.sidebar:
        st.header("Filters")
        st.date_input("From", min_value=first, max_value=last, key="since")
        st.date_input("To", min_value=first, max_value=last, key="until")
        st.multiselect("Speakers", list(counts), key="speakers",
                       format_func=lambda name: f"{name} ({counts[name]:,})")
        st.selectbox("Role", ["any", *index.roles()], key="role")
        st.multiselect("Kind of document", [kind for kind, _ in index.kinds()], key="kinds")
        st.selectbox("Results per page", PAGE_SIZES, key="per_page")
    state = st.session_state
    return Filters(
        since=state.since.isoformat(),
        until=state.until.isoformat(),
        speakers=tuple(state.speakers),
        role=None if state.role == "any" else state.role,
        kinds=tuple(state.kinds),
    )


def render_card(index: Index, result: Result) -> None:
    """Who said it and when, where, what they were asked, then their words with the best sentences in bold."""
    with st.container(border=True):
        st.markdown(
            f"**{escape(result.speaker)}** · {escape(result.role)} · {escape(result.date or 'undated')}"
            f" · {escape(result.kind)}"
        )
        url = safe_url(result.source_url)
        title = escape(result.title)
        st.markdown(f"[{title}]({url})" if url else title)
        if result.question:
            st.caption(f"Asked: {escape(textwrap.shorten(result.question, 500, placeholder=' ...'))}")
        st.markdown(answer_markdown(result.text, result.highlight))
        with st.expander("Context: the exchange around this answer"):
            for turn in index.context(result.passage_id):
                marker = "▶ " if turn["is_answer"] else ""
                st.markdown(f"{marker}**{escape(turn['speaker'])}** ({escape(turn['role'])}): "
                            f"{escape(textwrap.shorten(turn['text'], 1200, placeholder=' ...'))}")
        st.code(result.citation(), language=None, wrap_lines=True)


def render_results(index: Index, question: str, filters: Filters) -> None:
    """The summary, the timeline, the downloads and the cards; the timeline is filled in last, above
    the cards, so the first answers show before the 200-result search behind the chart."""
    state = st.session_state
    started = time.perf_counter()
    results = index.search(question, k=state.per_page * state.page, filters=filters)
    last_page = max(1, math.ceil(len(results) / state.per_page))
    if state.page > last_page:
        state.page = last_page
        st.rerun()
    shown = results[(state.page - 1) * state.per_page :]
    matches = index.match_count(question, filters)
    seconds = time.perf_counter() - started
    if not results:
        st.warning("No statements match this question with these filters. "
                   "Try loosening them: widen the dates, or clear the speakers, role or kinds.")
        return
    first = (state.page - 1) * state.per_page + 1
    st.markdown(
        f"**{matches:,}** statements use these words · showing the most relevant "
        f"{first}–{first + len(shown) - 1} · {seconds:.2f} s"
    )
    chart = st.container()
    with st.container(horizontal=True):
        st.download_button("Download CSV", results_csv(results), "podium-results.csv", "text/csv")
        st.download_button("Download JSON", results_json(question, results), "podium-results.json",
                           "application/json")
    for result in shown:
        render_card(index, result)
    pager(len(results) == state.per_page * state.page and state.page < MAX_PAGE)
    render_timeline(chart, index.timeline(question, filters, top=TIMELINE_TOP))


def render_timeline(chart, timeline: list[tuple[str, int]]) -> None:
    if not timeline:
        return
    with chart:
        st.caption(f"When it was talked about: the {TIMELINE_TOP} most relevant statements, by month")
        frame = pd.DataFrame(timeline, columns=["month", "statements"]).set_index("month")
        st.bar_chart(frame, height=160)


def pager(has_more: bool) -> None:
    left, _, right = st.columns([1, 4, 1])
    if st.session_state.page > 1 and left.button("← Previous"):
        st.session_state.page -= 1
        st.rerun()
    if has_more and right.button("Next →"):
        st.session_state.page += 1
        st.rerun()


def reset_page_on_change(question: str, filters: Filters) -> None:
    signature = (question, filters, st.session_state.per_page)
    if st.session_state.get("_signature") not in (None, signature):
        st.session_state.page = 1
    st.session_state._signature = signature


def main() -> None:
    st.set_page_config(page_title="Podium: what officials said", page_icon="🎙️", layout="wide")
    st.title("Podium")
    st.caption("Search what White House officials actually said, word for word: "
               "who said it, when, in answer to which question.")
    path = str(default_index_dir())
    try:
        index = load_index(path, current_version_name(path))
    except IndexMissing:
        st.warning(f"There is no index at {escape(path)} yet. Build one from the project folder with:")
        st.code(f"{BUILD_COMMAND} --index {shlex.quote(path)}", language="bash")
        return
    except PodiumError as exc:
        st.error(f"The index cannot be opened: {escape(str(exc))}")
        return
    state_from_url(index)
    filters = sidebar(index)
    question = st.text_input("Ask what officials said", key="q",
                             placeholder=f"e.g. {EXAMPLES[0]}").strip()
    reset_page_on_change(question, filters)
    state_to_url(index)
    if st.session_state.since > st.session_state.until:
        st.warning("The From date is after the To date: pick a From date on or before the To date.")
        return
    if not question:
        st.info("Type a question or a few words and press Enter. For example: "
                + " · ".join(f"*{escape(example)}*" for example in EXAMPLES))
        return
    try:
        render_results(index, question, filters)
    except PodiumError as exc:
        st.error(escape(str(exc)))


def _date_bounds(index: Index) -> tuple[dt.date, dt.date]:
    first, last = index.date_range()
    today = dt.date.today()
    return (dt.date.fromisoformat(first) if first else today, dt.date.fromisoformat(last) if last else today)


def _url_date(value: str | None, default: dt.date, first: dt.date, last: dt.date) -> dt.date:
    try:
        return min(max(dt.date.fromisoformat(value), first), last) if value else default
    except ValueError:
        return default


def _int(value: str | None, default: int, allowed) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    return number if number in allowed else default


main()
