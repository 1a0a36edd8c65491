"""The results page: one card per briefing (its best passage, the others under "N more from this briefing"),
counts that say what is shown, a small timeline of the same passages, downloads and pages of briefings."""

from __future__ import annotations

import hashlib
import math
import re
import textwrap
import time
from collections import Counter

import altair as alt
import pandas as pd
import streamlit as st

from indexer.records import real_date
from indexer.search import Filters, Index, Result
from indexer.search.export import results_csv, results_json
from indexer.search.results import (SOURCE_NAMES, DocumentResults, citation, group_by_document, long_date,
                                    shown_title)

from .scroll import scroll_script
from .text import answer_markdown, escape, safe_url
from .url_state import date_bounds, search_params, write_url

POOL = 100  # passages a search fetches: the cards, the timeline and the downloads all count these
NO_CLOSE_MATCH = "No close match: nothing in this index answers this question. The closest statements:"
MORE_SHOWN = 10  # a briefing's further passages shown under its card; the transcript has them all


def render_results(index: Index, question: str, filters: Filters) -> None:
    """The notice (if nothing answers), the summary beside the timeline, the cards and the pager."""
    state = st.session_state
    started = time.perf_counter()
    results = index.search(question, k=POOL, filters=filters)
    groups = group_by_document(results)
    seconds = time.perf_counter() - started
    if not results:
        st.warning(no_results_message(index, filters))
        return
    last_page = max(1, math.ceil(len(groups) / state.per_page))
    if state.page > last_page:
        state.page = last_page
        st.rerun()
    first = (state.page - 1) * state.per_page
    shown = groups[first:first + state.per_page]
    if results.no_close_match:
        st.warning(NO_CLOSE_MATCH)
    summary, chart = st.columns([5, 2], vertical_alignment="top")
    with summary.container(key=summary_key(question)):
        st.markdown(summary_line(len(results), len(groups), first + 1, first + len(shown), seconds))
        downloads(question, results)
    if not results.no_close_match:
        render_timeline(chart, results)
    for group in shown:
        render_card(index, group)
    pager(state.page < last_page)
    if state.get("_return_to") in {g.doc_id for g in shown}:  # Back from its transcript: to its card
        st.html(scroll_script(card_key(state._return_to)), unsafe_allow_javascript=True)
    state._return_to = None


def summary_key(question: str) -> str:
    """The summary's container key, one per question, so a page driver (bench/app_load.py) sees this
    question's answer arrive even when its counts read as the last one's did."""
    return "podium-summary-" + hashlib.sha1(question.encode()).hexdigest()[:12]


def summary_line(passages: int, briefings: int, first: int, last: int, seconds: float) -> str:
    """What is shown, counted: "**The 100 most relevant passages, from 18 briefings** · briefings 1–10 shown"."""
    counted = (f"The {passages} most relevant passages, from {_n(briefings, 'briefing')}" if passages == POOL
               else f"{_n(passages, 'passage')} from {_n(briefings, 'briefing')}")
    return f"**{counted}** · briefings {first}–{last} shown · {seconds:.2f} s"


def downloads(question: str, results: list[Result]) -> None:
    with st.container(horizontal=True):
        st.download_button("Download CSV", results_csv(results, bom=True), "podium-results.csv",
                           "text/csv; charset=utf-8", type="tertiary", icon=":material/download:")
        st.download_button("Download JSON", results_json(question, results), "podium-results.json",
                           "application/json", type="tertiary", icon=":material/download:")


def render_timeline(chart, results: list[Result]) -> None:
    """The same passages by month, empty months as zero; one month is said in words, not charted."""
    months = months_of(results)
    if not months:
        return
    if len(months) == 1:
        chart.caption(f"All {_n(len(results), 'passage')} from {_month_name(months[0][0])}.")
        return
    frame = pd.DataFrame([(_month_name(m, short=True), c) for m, c in months], columns=["month", "passages"])
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("month:N", sort=None, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=True)),
        y=alt.Y("passages:Q", title=None, axis=alt.Axis(tickCount=2)),
        tooltip=["month", "passages"])
    chart.caption("These passages by month")
    chart.altair_chart(bars, height=110, width="stretch")


def months_of(results: list[Result]) -> list[tuple[str, int]]:
    """(YYYY-MM, passages) from the first month to the last, months without any as 0. Months are counted as
    numbers (year * 12 + month); `real_date` bounds the span to the years since 1789."""
    counts = Counter(int(r.date[:4]) * 12 + int(r.date[5:7]) - 1 for r in results if real_date(r.date))
    if not counts:
        return []
    return [(f"{n // 12:04d}-{n % 12 + 1:02d}", counts[n]) for n in range(min(counts), max(counts) + 1)]


def render_card(index: Index, group: DocumentResults) -> None:
    """Who said it, when, where; what they were asked; their words with the best sentences in bold; the
    transcript and the citation; the briefing's other passages in rank order under the card."""
    best = group.best
    with st.container(border=True, key=card_key(group.doc_id)):
        st.markdown(f"**{escape(best.speaker)}** · {escape(best.date or 'undated')} · {escape(best.kind)}")
        st.markdown(source_line(index, best))
        passage(index, best)
        if group.more:
            more = st.expander(f"{len(group.more)} more from this briefing", key="more-" + card_key(group.doc_id),
                               on_change="rerun")
            if not more.open:  # drawn only when opened: ten cards' passages would triple the page's time
                return
            with more:
                for before, result in zip(group.results, group.more[:MORE_SHOWN]):
                    if before is not best:
                        st.divider()
                    st.markdown(f"**{escape(result.speaker)}**")
                    passage(index, result, asked=result.question != before.question)
                if len(group.more) > MORE_SHOWN:
                    st.caption(f"and {len(group.more) - MORE_SHOWN} more further down the ranking: "
                               "read them in the whole transcript")


def card_key(doc_id: str) -> str:
    """A widget key (and CSS class) for a document's card: its id made readable, then a hash of the exact id,
    since two ids may differ only in case or in the characters the readable part replaces."""
    digest = hashlib.sha1(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"card-{re.sub(r'[^a-z0-9-]', '-', doc_id.lower())}-{digest}"


def passage(index: Index, result: Result, asked: bool = True) -> None:
    """The question (unless the passage before it answered the same one), the answer, its two actions."""
    if result.question and asked:
        st.caption(f"Asked: {escape(textwrap.shorten(result.question, 400, placeholder=' ...'))}")
    st.markdown(answer_markdown(result.text, result.highlight))
    with st.container(horizontal=True, gap="medium"):
        st.button("Read it in the whole transcript", key=f"read-{result.passage_id}", type="tertiary",
                  icon=":material/article:", on_click=open_transcript, args=(index, result.doc_id, result.passage_id))
        with st.popover("Copy citation", type="tertiary", icon=":material/content_copy:"):
            st.code(citation(result, source_name(index, result)), language=None, wrap_lines=True)
            st.caption("The copy button is at the box's top right.")


def source_line(index: Index, result: Result) -> str:
    """The title, linked to the source; a source with no link is named ("The American Presidency Project")."""
    url, title = safe_url(result.source_url), escape(shown_title(result.title))
    if url:
        return f"[{title}]({url})"
    name = source_name(index, result)
    return f"{title} · {escape(SOURCE_NAMES.get(name, name))}" if name else title


def source_name(index: Index, result: Result) -> str | None:
    """Where a result with no link comes from (read from its document only then)."""
    return None if result.source_url else index.transcript(result.doc_id).source.name


def open_transcript(index: Index, doc_id: str, passage_id: str) -> None:
    """The card's button: the same URL plus the document and the passage, as a new history entry."""
    st.session_state.doc, st.session_state.passage = doc_id, passage_id.partition("#")[2]
    write_url(search_params(index) | {"doc": doc_id, "passage": st.session_state.passage})


def no_results_message(index: Index, filters: Filters) -> str:
    """Nothing matched: say which filters are set, or that none are."""
    first, last = date_bounds(index)
    limits = []
    if filters.since != first.isoformat() or filters.until != last.isoformat():
        limits.append(f"from {filters.since} to {filters.until}")
    limits += [f"speaker {escape(s)}" for s in filters.speakers] + [f"kind {escape(k)}" for k in filters.kinds]
    if not limits:
        return "No statements in this index match this question. Try other words."
    return (f"No statements match this question with these filters: {', '.join(limits)}. "
            "Widen the dates, or clear a speaker or a kind.")


def pager(has_more: bool) -> None:
    left, _, right = st.columns([1, 4, 1])
    if st.session_state.page > 1 and left.button("← Previous"):
        st.session_state.page -= 1
        st.rerun()
    if has_more and right.button("Next →"):
        st.session_state.page += 1
        st.rerun()


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' * (count != 1)}"


def _month_name(month: str, short: bool = False) -> str:
    name = long_date(f"{month}-01")  # "March 1, 2022"
    words = name.split()
    return f"{words[0][:3]} {words[2]}" if short else f"{words[0]} {words[2]}"
