"""The Streamlit page through AppTest, over the real 872-passage slice: cards, filters, URL, downloads, states."""

import csv
import datetime as dt
import io
import json
import re
import sys
from pathlib import Path, PurePosixPath

import pytest
import streamlit as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from corpus_slices import CHINA_CALL, SEED_FILES
from indexer.index.build import build_index
from indexer.search import Filters

pytest_plugins = ["index_fixtures"]

APP = Path(__file__).resolve().parents[1] / "app.py"
QUESTION = "What did Biden tell Putin about the Strategic Stability Dialogue in Geneva?"
RESULT_FIELDS = [
    "rank", "score", "text", "highlight", "speaker", "role", "question", "title", "date", "kind",
    "source_url", "doc_id", "passage_id",
]
DECEMBER_CALL = {
    "speaker": "Senior Administration Official",
    "role": "official",
    "date": "2021-12-30",
    "kind": "background call",
    "title": "Background Press Call by a Senior Administration Official on President Biden’s Call with "
             "President Putin of the Russian Federation",
    "url": "https://www.whitehouse.gov/briefing-room/press-briefings/2021/12/30/"
           "background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation/",
    "asked": None,
}
# (sidebar widgets and their values, the same filter for Index.search, what every card obeys, the URL's
# parameters, how many cards): each also has results it takes away.
SIDEBAR_FILTERS = [
    ({"since": dt.date(2022, 3, 1), "until": dt.date(2022, 3, 15)}, Filters(since="2022-03-01", until="2022-03-15"),
     lambda card: "2022-03-01" <= card["date"] <= "2022-03-15", {"since": "2022-03-01", "until": "2022-03-15"}, 10),
    ({"speakers": ["Jen Psaki"]}, Filters(speakers=("Jen Psaki",)),
     lambda card: card["speaker"] == "Jen Psaki", {"speaker": "Jen Psaki"}, 4),
    ({"kinds": ["gaggle"]}, Filters(kinds=("gaggle",)),
     lambda card: card["kind"] == "gaggle", {"kind": "gaggle"}, 8),
]
WIDGETS = {"since": "date_input", "until": "date_input", "speakers": "multiselect", "kinds": "multiselect",
           "role": "selectbox", "per_page": "selectbox"}


@pytest.fixture(scope="module", autouse=True)
def release_cached_indexes():
    """`load_index` is an st.cache_resource: drop the indexes (and models) this module loaded."""
    yield
    st.cache_resource.clear()


@pytest.fixture
def slice_app(slice_dir, monkeypatch):
    monkeypatch.setenv("PODIUM_INDEX", str(slice_dir))


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The bytes each download button serves, by the media file id its URL ends with."""
    served = {}
    store = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        file_id = store(self, data, mimetype, kind, filename)
        served[file_id] = data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return served


def open_app(**params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(params)
    return at.run()


def change(at: AppTest, **values) -> AppTest:
    """Set sidebar widgets the way a user would, then rerun."""
    for key, value in values.items():
        getattr(at, WIDGETS[key])(key=key).set_value(value)
    return at.run()


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def card_blocks(at: AppTest) -> list[Block]:
    return [b for b in at.main.children.values() if isinstance(b, Block) and b.proto.flex_container.border]


def cards(at: AppTest) -> list[dict]:
    """Each result card as it reads: speaker, role, date, kind, title, link, the question asked."""
    return [card(block) for block in card_blocks(at)]


def card(block: Block) -> dict:
    items = list(block.children.values())
    speaker, role, date, kind = plain(items[0].value).replace("**", "").split(" · ")
    link = re.fullmatch(r"\[(.*)\]\((.*)\)", items[1].value)
    title, url = (plain(link[1]), link[2]) if link else (plain(items[1].value), None)
    asked = next((plain(i.value).removeprefix("Asked: ") for i in items if i.type == "caption"), None)
    return {"speaker": speaker, "role": role, "date": date, "kind": kind, "title": title, "url": url, "asked": asked}


def answers(at: AppTest) -> list[str]:
    """Each card's passage as markdown: its third markdown, after the speaker line and the title."""
    return [[i for i in b.children.values() if i.type == "markdown"][2].value for b in card_blocks(at)]


def as_cards(results) -> list[dict]:
    """What the cards must say for these results, the question left out."""
    keys = ("speaker", "role", "date", "kind", "title")
    return [{**{k: getattr(r, k) for k in keys}, "url": r.source_url} for r in results]


def without_asked(shown: list[dict]) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "asked"} for c in shown]


def served(at: AppTest, label: str, downloads: dict[str, bytes]) -> str:
    button = next(b for b in at.get("download_button") if b.proto.label == label)
    return downloads[PurePosixPath(button.proto.url).stem].decode()


def test_a_question_shows_who_said_it_when_where_and_what_they_were_asked(slice_app, slice_index):
    at = open_app()
    at.text_input(key="q").input(QUESTION).run()
    shown = cards(at)

    results = slice_index.search(QUESTION, k=10)
    first_answer = plain(answers(at)[0])

    assert not at.exception and not at.error
    assert without_asked(shown) == as_cards(results)
    assert [c["asked"] is None for c in shown] == [r.question is None for r in results]
    assert shown[0] == DECEMBER_CALL
    assert first_answer.replace("**", "") == results[0].text
    assert "\n\n**The leaders agreed to the sequence of Strategic Stability Dialogue starting on the 9th and 10th " \
           "in Geneva, a NATO-Russia Council conversation on the 12th, and an OSCE meeting on the 13th.** They both" \
           in first_answer
    february = next(c for c in shown if c["date"] == "2022-02-12")
    assert february == {
        "speaker": "Senior Administration Official", "role": "official", "date": "2022-02-12",
        "kind": "background call", "url": None,
        "title": "Background Press Call by a Senior Administration Official on the President's Call with "
                 "Russian President Vladimir Putin",
        "asked": "Thank you so much for doing the call. Could you talk a little bit about, you know, anything "
                 "that President Biden brought to the table today in terms of proposals, as far as an off-ramp "
                 "that he thinks can get us to de-escalation? And then, could you also talk a little bit "
                 "about if you had any signs that an operation was more imminent than thought before? Thank you.",
    }
    assert at.query_params == {"q": QUESTION}


@pytest.mark.parametrize("values, filters, obeys, url, count", SIDEBAR_FILTERS, ids=["dates", "speakers", "kinds"])
def test_a_sidebar_filter_narrows_every_card(slice_app, slice_index, values, filters, obeys, url, count):
    at = open_app(q=QUESTION)
    unfiltered = cards(at)
    shown = cards(change(at, **values))

    assert without_asked(shown) == as_cards(slice_index.search(QUESTION, k=10, filters=filters))
    assert len(shown) == count
    assert all(obeys(c) for c in shown)
    assert not all(obeys(c) for c in unfiltered)
    assert at.query_params == {"q": QUESTION, **url}


def test_the_role_filter_keeps_officials_which_every_passage_is(slice_app, slice_index):
    at = open_app(q=QUESTION)
    unfiltered = cards(at)
    shown = cards(change(at, role="official"))

    assert at.selectbox(key="role").options == ["any", "official"]
    assert shown == unfiltered
    assert [c["role"] for c in shown] == ["official"] * 10
    assert at.query_params == {"q": QUESTION, "role": "official"}


def test_results_per_page_and_the_next_page(slice_app, slice_index):
    at = change(open_app(q=QUESTION), per_page=5)
    first_page = cards(at)
    next(b for b in at.button if b.label == "Next →").click().run()
    ten = as_cards(slice_index.search(QUESTION, k=10))

    assert without_asked(first_page) == ten[:5]
    assert without_asked(cards(at)) == ten[5:]
    assert "showing the most relevant 6–10" in at.markdown[0].value
    assert at.query_params == {"q": QUESTION, "n": "5", "page": "2"}


def test_the_url_restores_the_question_and_every_filter(slice_app, slice_index):
    at = open_app(q=QUESTION, since="2022-03-01", until="2022-03-25", speaker=["Jen Psaki", "Jake Sullivan"],
                  kind="gaggle", role="official", n="5")
    shown = cards(at)
    filters = Filters(since="2022-03-01", until="2022-03-25", speakers=("Jen Psaki", "Jake Sullivan"),
                      role="official", kinds=("gaggle",))

    assert at.text_input(key="q").value == QUESTION
    assert (at.date_input(key="since").value, at.date_input(key="until").value) == (
        dt.date(2022, 3, 1), dt.date(2022, 3, 25))
    assert at.multiselect(key="speakers").value == ["Jen Psaki", "Jake Sullivan"]
    assert at.multiselect(key="kinds").value == ["gaggle"]
    assert (at.selectbox(key="role").value, at.selectbox(key="per_page").value) == ("official", 5)
    assert without_asked(shown) == as_cards(slice_index.search(QUESTION, k=5, filters=filters))
    assert len(shown) == 5 and {c["speaker"] for c in shown} == {"Jen Psaki", "Jake Sullivan"}
    assert all(c["kind"] == "gaggle" and "2022-03-01" <= c["date"] <= "2022-03-25" for c in shown)


def test_the_downloads_hold_every_result_with_every_field(slice_app, slice_index, downloads):
    at = open_app(q=QUESTION)
    expected = [r.to_dict() for r in slice_index.search(QUESTION, k=10)]

    rows = list(csv.DictReader(io.StringIO(served(at, "Download CSV", downloads))))
    payload = json.loads(served(at, "Download JSON", downloads))

    assert rows == [{k: "" if v is None else str(v) for k, v in r.items()} for r in expected]
    assert list(rows[0]) == RESULT_FIELDS
    assert payload == {"query": QUESTION, "results": expected}
    assert [list(r) for r in payload["results"]] == [RESULT_FIELDS] * 10


def test_a_filter_nothing_satisfies_says_so_and_suggests_loosening(slice_app):
    at = open_app(q=QUESTION, speaker="Dr. Fauci", kind="gaggle")

    assert [w.value for w in at.warning] == [
        "No statements match this question with these filters. "
        "Try loosening them: widen the dates, or clear the speakers, role or kinds."
    ]
    assert cards(at) == [] and not at.get("download_button")


def test_a_page_past_the_last_result_shows_the_last_page(slice_app):
    at = open_app(q=QUESTION, speaker="Jen Psaki", n="5", page="3")

    assert [c["speaker"] for c in cards(at)] == ["Jen Psaki"] * 4
    assert at.query_params == {"q": QUESTION, "speaker": "Jen Psaki", "n": "5"}


def test_dates_in_the_wrong_order_ask_for_the_right_order(slice_app):
    at = open_app(q=QUESTION, since="2022-03-15", until="2022-03-01")

    assert [w.value for w in at.warning] == [
        "The From date is after the To date: pick a From date on or before the To date."
    ]
    assert cards(at) == [] and not at.error


def test_no_question_gives_a_hint_and_searches_nothing(slice_app):
    at = open_app()

    assert [plain(i.value) for i in at.info] == [
        "Type a question or a few words and press Enter. For example: "
        "*What did the White House say about air defense for Ukraine?* · *baby formula shortage* · "
        "*Did the President talk to Putin about troops on the border?*"
    ]
    assert cards(at) == [] and not at.get("download_button") and at.query_params == {}


def test_no_index_shows_the_command_that_builds_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_INDEX", str(tmp_path))
    at = open_app(q=QUESTION)

    assert [plain(w.value) for w in at.warning] == [
        f"There is no index at {tmp_path} yet. Build one from the project folder with:"
    ]
    assert [c.value for c in at.code] == [
        ".venv/bin/python -m indexer build ../shared/corpus/seeds "
        f"../shared/corpus/whitehouse/press-briefings/2022-03 --index {tmp_path}"
    ]
    assert not at.exception and not at.sidebar.children


def test_a_damaged_index_is_one_message_naming_the_rebuild(slice_copy, monkeypatch):
    (slice_copy / "current" / "manifest.json").unlink()
    monkeypatch.setenv("PODIUM_INDEX", str(slice_copy))
    at = open_app(q=QUESTION)
    message = plain(at.error[0].value)

    assert len(at.error) == 1 and not at.exception
    assert message.startswith("The index cannot be opened: ") and message.endswith(f"--index {slice_copy}")


def test_a_rebuilt_index_is_served_on_the_next_run_without_a_restart(tmp_path, monkeypatch):
    build_index(SEED_FILES, tmp_path / "index", progress=False)
    monkeypatch.setenv("PODIUM_INDEX", str(tmp_path / "index"))
    at = open_app(q="Xi Jinping")
    before = {c["date"] for c in cards(at)}
    build_index([*SEED_FILES, CHINA_CALL], tmp_path / "index", progress=False)
    after = {c["date"] for c in cards(open_app(q="Xi Jinping"))}

    assert "2022-03-14" not in before
    assert "2022-03-14" in after


def test_a_search_reads_files_only_from_the_index_directory(slice_app, slice_dir):
    """Python's audit hook sees every open() while the page answers a question (after the model has loaded):
    the script itself, the index's files, and Python's own modules, nothing else."""
    at = open_app(q=QUESTION)
    opened = []
    recording = [True]

    def record(event, args):
        if recording[0] and event == "open" and isinstance(args[0], (str, bytes)):
            opened.append(str(args[0]))

    sys.addaudithook(record)
    try:
        at.text_input(key="q").input("sanctions on Russian banks").run()
    finally:
        recording[0] = False
    allowed = (str(APP), str(slice_dir.resolve()), sys.prefix, sys.base_prefix, "/proc/", "/dev/", "/sys/")

    assert cards(at)
    assert [path for path in opened if not path.startswith(allowed)] == []
