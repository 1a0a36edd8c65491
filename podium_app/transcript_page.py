"""The whole transcript of one briefing: every turn, speakers named, the answer a card opened highlighted and
scrolled to. Its URL is the search's plus `doc` and `passage`, so it can be shared, and Back returns to the
results."""

from __future__ import annotations

import streamlit as st

from indexer.errors import BadQuery
from indexer.search import Index
from indexer.search.results import SOURCE_NAMES, Transcript, long_date, shown_title

from .results_page import POOL
from .scroll import scroll_script
from .text import escape, safe_url, turn_markdown
from .url_state import search_from_url, url_params

ANSWER_KEY = "podium-answer"
ASKED_KEY = "podium-asked"


def render_transcript(index: Index, doc_id: str, passage_key: str | None) -> None:
    """The header with the source, then each turn; the answer's turn in a box, its passage highlighted."""
    question, filters = search_from_url(index)
    has_search = bool(question)
    st.button("← Back to the results" if has_search else "← New search", on_click=close_transcript,
              key="back-to-results")
    try:
        transcript = index.transcript(doc_id)
    except BadQuery:
        st.warning(f"No document {escape(doc_id)} in this index: the link may come from another index.")
        return
    header(transcript)
    answer = transcript.turn_of(passage_key) if passage_key else None
    if passage_key and answer is None:
        st.warning(f"No passage {escape(passage_key)} in this briefing, so it is shown from the start.")
    marked = _marked_paragraphs(answer, passage_key) if answer else range(0)
    asked = _asked(transcript, answer)
    ranks = _result_ranks(index, question, filters, doc_id) if has_search and not _bad_dates(filters) else {}
    for turn in transcript.turns:
        hits = sorted(ranks[p["passage_id"]] for p in turn["passages"] if p["passage_id"] in ranks)
        if hits and turn is not answer:
            st.caption(f"Among the results for your question: {', '.join(f'#{rank}' for rank in hits)}")
        if turn is answer:
            with st.container(border=True, key=ANSWER_KEY):
                st.caption("The answer you opened")
                st.markdown(turn_markdown(turn["speaker"], turn["text"], marked))
        elif turn is asked:
            with st.container(key=ASKED_KEY):
                st.markdown(turn_markdown(turn["speaker"], turn["text"]))
        else:
            st.markdown(turn_markdown(turn["speaker"], turn["text"]))
    if answer:  # the question it answers at the top of the window, the answer under it
        st.html(scroll_script(ASKED_KEY, ANSWER_KEY), unsafe_allow_javascript=True)


def header(transcript: Transcript) -> None:
    st.subheader(escape(shown_title(transcript.title)), anchor=False)
    url = safe_url(transcript.source.url)
    source = f"[{escape(SOURCE_NAMES.get(transcript.source.name, transcript.source.name))}]({url})" if url else \
        escape(SOURCE_NAMES.get(transcript.source.name, transcript.source.name))
    date = long_date(transcript.date) if transcript.date else "undated"
    speakers = len({t["speaker"] for t in transcript.turns if t["role"] == "official"})
    st.caption(f"{escape(date)} · {escape(transcript.kind)} · {len(transcript.turns)} turns, "
               f"{speakers} official{'s' * (speakers != 1)} speaking · the whole transcript from {source}")


def close_transcript() -> None:
    """Back to the results: the URL without the document, as a new history entry; the page then reloads the
    search from it."""
    st.query_params.from_dict({key: list(values) for key, values in url_params().items()
                               if key not in ("doc", "passage")})
    st.session_state._url = None


def _result_ranks(index: Index, question: str, filters, doc_id: str) -> dict[str, int]:
    """passage_id -> rank, for this document's passages among the search's results."""
    return {r.passage_id: r.rank for r in index.search(question, k=POOL, filters=filters) if r.doc_id == doc_id}


def _bad_dates(filters) -> bool:
    return filters.since > filters.until


def _asked(transcript: Transcript, answer: dict | None) -> dict | None:
    """The reporter's turn just before the answer, if it is one."""
    index = next((i for i, turn in enumerate(transcript.turns) if turn is answer), 0)
    before = transcript.turns[index - 1] if index > 0 else None
    return before if before and before["role"] == "reporter" else None


def _marked_paragraphs(turn: dict, passage_key: str) -> range:
    for p in turn["passages"]:
        if passage_key in (p["passage_id"], p["passage_id"].partition("#")[2]):
            return range(p["para_start"], p["para_end"] + 1)
    return range(0)
