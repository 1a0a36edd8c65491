"""The page's ways in and out through AppTest, over the real 872-passage slice: shared links (and notices
for what the index lacks), the whole transcript and the way back, the browser's Back, and every empty or
broken state."""

import datetime as dt
import sys

from streamlit.testing.v1.element_tree import Block

from app_driver import APP, POOL, QUESTION, as_cards, briefly, cards, click, open_app, plain
from corpus_slices import CHINA_CALL, SEED_FILES
from indexer.index.build import build_index
from indexer.search import Filters
from indexer.search.results import group_by_document

pytest_plugins = ["index_fixtures", "app_fixtures"]


def test_the_url_restores_the_question_and_every_filter(slice_app, slice_index):
    at = open_app(q=QUESTION, since="2022-03-01", until="2022-03-25", speaker=["Jen Psaki", "Jake Sullivan"],
                  kind="gaggle", n="5")
    shown = cards(at)
    filters = Filters(since="2022-03-01", until="2022-03-25", speakers=("Jen Psaki", "Jake Sullivan"),
                      kinds=("gaggle",))

    assert at.text_input(key="q").value == QUESTION
    assert (at.date_input(key="since").value, at.date_input(key="until").value) == (
        dt.date(2022, 3, 1), dt.date(2022, 3, 25))
    assert at.multiselect(key="speakers").value == ["Jen Psaki", "Jake Sullivan"]
    assert at.multiselect(key="kinds").value == ["gaggle"]
    assert at.selectbox(key="per_page").value == 5
    assert briefly(shown) == as_cards(slice_index.search(QUESTION, k=POOL, filters=filters))[:5]
    assert {c["speaker"] for c in shown} <= {"Jen Psaki", "Jake Sullivan"}
    assert all(c["kind"] == "gaggle" and "2022-03-01" <= c["date"] <= "2022-03-25" for c in shown)
    assert not [w.value for w in at.warning if "does not have" in w.value]  # no notice about the link itself


def test_a_link_s_dates_are_read_as_the_search_reads_them(slice_app, slice_index):
    """One parser for the link and the search (indexer/search/filters.py): 2022-2 is February, digits that
    are not 0-9 are named in a notice, spaces are no date at all."""
    at = open_app(q=QUESTION, since="2022-2", until="٢٠٢٢-٠٣")
    spaces = open_app(q=QUESTION, since="  ")

    assert at.date_input(key="since").value == dt.date(2022, 2, 1)
    assert at.date_input(key="until").value == dt.date(2022, 3, 31)  # the index's last day
    assert plain(at.warning[0].value).endswith("- To date ٢٠٢٢-٠٣ is not a date (use YYYY-MM-DD)")
    assert spaces.date_input(key="since").value == dt.date(2021, 12, 30) and not spaces.warning


def test_a_link_naming_what_the_index_lacks_says_so_in_a_notice(slice_app, slice_index):
    at = open_app(q=QUESTION, speaker=["John Kirby", "psaki"], kind=["rally", "gaggle"], since="2022-13-45")

    assert [plain(w.value) for w in at.warning][:1] == [
        "This link asks for what the index does not have, so the results are not limited by it:\n"
        "- no speaker John Kirby in this index\n"
        "- no kind of document rally in this index (it has background call, press briefing, gaggle, press call)\n"
        "- From date 2022-13-45 is not a date (use YYYY-MM-DD)"
    ]
    assert at.multiselect(key="speakers").value == ["Jen Psaki"] and at.multiselect(key="kinds").value == ["gaggle"]
    assert briefly(cards(at)) == as_cards(slice_index.search(QUESTION, k=POOL, filters=Filters(
        speakers=("Jen Psaki",), kinds=("gaggle",))))[:10]
    assert at.query_params == {"q": QUESTION, "speaker": "Jen Psaki", "kind": "gaggle"}
    assert not at.text_input(key="q").set_value("gas prices").run().warning  # a new search drops the notice
    assert at.query_params == {"q": "gas prices", "speaker": "Jen Psaki", "kind": "gaggle"}


def test_a_card_opens_the_whole_transcript_at_its_answer_and_back_returns_to_the_results(slice_app, slice_index):
    at = open_app(q=QUESTION)
    before = cards(at)
    best = group_by_document(slice_index.search(QUESTION, k=POOL))[0].best
    transcript = slice_index.transcript(best.doc_id)
    click(at, "Read it in the whole transcript")
    turns = [plain(m.value) for m in at.markdown]
    answer_box = next(b for b in at.main.children.values() if isinstance(b, Block) and "podium-answer" in b.proto.id)
    passage = next(p for t in transcript.turns for p in t["passages"] if p["passage_id"] == best.passage_id)

    assert at.query_params == {"q": QUESTION, "doc": best.doc_id, "passage": best.passage_id.partition("#")[2]}
    assert [plain(h.value) for h in at.subheader] == [transcript.title]
    assert len([t for t in turns if t.startswith("**")]) == len(transcript.turns)
    assert [t.split(":**")[0].removeprefix("**") for t in turns if t.startswith("**")] == [
        t["speaker"] for t in transcript.turns]
    assert answer_box.caption[0].value == "The answer you opened"
    assert plain(answer_box.markdown[0].value).count(":blue-background[") == (
        passage["para_end"] - passage["para_start"] + 1)
    assert not cards(at)

    click(at, "← Back to the results")
    assert cards(at) == before and at.query_params == {"q": QUESTION}


def test_a_shared_transcript_link_opens_it_and_an_unknown_one_says_so(slice_app, slice_index):
    doc = "2022-02-12-background-press-call-biden-putin"
    shared = open_app(doc=doc)
    unknown = open_app(doc="2022-02-30-no-such-call", q=QUESTION)

    assert [plain(h.value) for h in shared.subheader] == [slice_index.transcript(doc).title]
    assert plain(shared.caption[1].value) == ("February 12, 2022 · background call · 10 turns, 1 official speaking · "
                                              "the whole transcript from The American Presidency Project")
    assert [b.label for b in shared.button] == ["← New search"]
    assert [plain(w.value) for w in unknown.warning] == [
        "No document 2022-02-30-no-such-call in this index: the link may come from another index."]
    assert not click(unknown, "← Back to the results").warning and cards(unknown)


def test_the_browser_s_back_button_returns_to_the_previous_search(slice_app):
    """Back makes Streamlit rerun the page with the previous URL: the page must follow it, not rewrite it."""
    at = open_app(q=QUESTION)
    first = cards(at)
    at.text_input(key="q").set_value("gas prices").run()
    at.query_params.clear()
    at.query_params["q"] = QUESTION
    at.run()

    assert at.text_input(key="q").value == QUESTION
    assert cards(at) == first and at.query_params == {"q": QUESTION}


def test_a_filter_nothing_satisfies_names_the_filters_that_are_set(slice_app, slice_index):
    at = open_app(q=QUESTION, speaker="Dr. Fauci", kind="gaggle")
    from podium_app.results_page import no_results_message
    first, last = slice_index.date_range()

    assert [plain(w.value) for w in at.warning] == [
        "No statements match this question with these filters: speaker Dr. Fauci, kind gaggle. "
        "Widen the dates, or clear a speaker or a kind."
    ]
    assert cards(at) == [] and not at.get("download_button")
    assert no_results_message(slice_index, Filters(since=first, until=last)) == (
        "No statements in this index match this question. Try other words.")


def test_a_page_past_the_last_result_shows_the_last_page(slice_app):
    at = open_app(q=QUESTION, speaker="Jen Psaki", n="5", page="3")

    assert len(cards(at)) == 2
    assert at.query_params == {"q": QUESTION, "speaker": "Jen Psaki", "n": "5"}


def test_dates_in_the_wrong_order_ask_for_the_right_order(slice_app):
    at = open_app(q=QUESTION, since="2022-03-15", until="2022-03-01")

    assert [w.value for w in at.warning] == [
        "The From date is after the To date: pick a From date on or before the To date."
    ]
    assert cards(at) == [] and not at.error


def test_no_question_offers_example_questions_to_click(slice_app):
    at = open_app()
    offered = [b.label for b in at.button]

    assert offered == ["What did the White House say about air defense for Ukraine?",
                       "gas prices and the Strategic Petroleum Reserve",
                       "Did the President talk to Putin about troops on the border?"]
    assert cards(at) == [] and not at.get("download_button") and at.query_params == {}
    click(at, "gas prices and the Strategic Petroleum Reserve")
    assert at.text_input(key="q").value == "gas prices and the Strategic Petroleum Reserve"
    assert cards(at) and at.query_params == {"q": "gas prices and the Strategic Petroleum Reserve"}


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
