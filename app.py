"""Podium's web question box: a thin Streamlit layer over indexer.search (the page's parts are in podium_app/).

Run with `streamlit run app.py`; the index comes from $PODIUM_INDEX or data/index, or from the Milvus
store $PODIUM_STORE names.
Corpus text and queries are always escaped before they reach markdown, so a
passage holding HTML or a `javascript:` link renders as plain text.
"""

from __future__ import annotations

import os
import shlex

import streamlit as st

from indexer.errors import IndexMissing, PodiumError
from indexer.search import Filters, Index, current_version_name, default_index_dir
from podium_app.results_page import render_results
from podium_app.text import escape
from podium_app.transcript_page import render_transcript
from podium_app.url_state import (PAGE_SIZES, date_bounds, filters_from_state, follow_url, search_params,
                                  search_signature, write_url)

EXAMPLES = (
    "What did the White House say about air defense for Ukraine?",
    "gas prices and the Strategic Petroleum Reserve",
    "Did the President talk to Putin about troops on the border?",
)
BUILD_COMMAND = (
    ".venv/bin/python -m indexer build ../shared/corpus/seeds "
    "../shared/corpus/whitehouse/press-briefings/2022-03"
)


@st.cache_resource(show_spinner="Loading the index and the model...", max_entries=2)
def load_index(path: str, version: str | None) -> Index:
    """One index and one model per server process, shared by every session.

    Cached per version: when a build swaps a new version in, the next page run
    opens it, while searches already running finish on the old one.
    """
    index = Index.open(path)
    index.timeline("warm up")  # model, vectors and keyword pages ready before the first question
    return index


def sidebar(index: Index) -> Filters:
    first, last = date_bounds(index)
    counts = dict(index.speakers())
    with st.sidebar:
        st.header("Filters")
        st.date_input("From", min_value=first, max_value=last, key="since")
        st.date_input("To", min_value=first, max_value=last, key="until")
        st.multiselect("Speakers", list(counts), key="speakers",
                       format_func=lambda name: f"{name} ({counts[name]:,})")
        st.multiselect("Kind of document", [kind for kind, _ in index.kinds()], key="kinds")
        st.selectbox("Briefings per page", PAGE_SIZES, key="per_page")
    return filters_from_state()


def ask(example: str) -> None:
    st.session_state.q = example


def examples() -> None:
    st.markdown("Type a question or a few words and press Enter, or try one of these:")
    with st.container(horizontal=True, gap="small"):
        for number, example in enumerate(EXAMPLES):
            st.button(example, key=f"example-{number}", on_click=ask, args=(example,), icon=":material/search:")


def reset_page_on_change() -> None:
    """A new question or filter starts at page 1, and the link's notices no longer apply."""
    signature = search_signature()
    if st.session_state.get("_signature") not in (None, signature):
        st.session_state.page = 1
        st.session_state._notices = []
    st.session_state._signature = signature


def search_page(index: Index) -> None:
    filters = sidebar(index)
    question = st.text_input("Ask what officials said", key="q", placeholder=f"e.g. {EXAMPLES[0]}").strip()
    reset_page_on_change()
    write_url(search_params(index))
    if st.session_state.get("_notices"):
        st.warning("This link asks for what the index does not have, so the results are not limited by it:\n"
                   + "\n".join(f"- {escape(notice)}" for notice in st.session_state._notices))
    if st.session_state.since > st.session_state.until:
        st.warning("The From date is after the To date: pick a From date on or before the To date.")
        return
    if not question:
        examples()
        return
    try:
        render_results(index, question, filters)
    except PodiumError as exc:
        st.error(escape(str(exc)))


def main() -> None:
    st.set_page_config(page_title="Podium: what officials said", page_icon="🎙️", layout="wide")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
        st.markdown("## Podium")
        st.caption("What White House officials actually said, word for word: who said it, when, "
                   "in answer to which question.")
    path = str(default_index_dir())
    store = os.environ.get("PODIUM_STORE")
    try:
        index = load_index(path, current_version_name(path))
    except IndexMissing:
        st.warning(f"There is no index at {escape(store or path)} yet. Build one from the project folder with:")
        st.code(f"{BUILD_COMMAND} {'--store' if store else '--index'} {shlex.quote(store or path)}", language="bash")
        return
    except PodiumError as exc:
        st.error(f"The index cannot be opened: {escape(str(exc))}")
        return
    follow_url(index)
    if st.session_state.get("doc"):
        render_transcript(index, st.session_state.doc, st.session_state.get("passage"))
    else:
        search_page(index)


main()
