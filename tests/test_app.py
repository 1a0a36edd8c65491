"""The results page through AppTest, over the real 872-passage slice: one card per briefing with its other
passages under it, counts that say what is shown, filters, pages, downloads, citations and the timeline."""

import csv
import io
import json

import pytest

from app_driver import (DECEMBER_CALL, POOL, PRESIDENCY_CALL, QUESTION, RESULT_FIELDS, SIDEBAR_FILTERS, answer,
                        as_cards, briefly, card_blocks, cards, change, click, more_answers, open_app, open_more, plain, served,
                        summary)
from indexer.search import Filters, Result
from indexer.search.results import citation, group_by_document

pytest_plugins = ["index_fixtures", "app_fixtures"]


def test_a_question_shows_one_card_per_briefing_with_its_best_passage_and_the_others_under_it(slice_app,
                                                                                             slice_index):
    at = open_app()
    at.text_input(key="q").input(QUESTION).run()
    shown, blocks = cards(at), card_blocks(at)
    results = slice_index.search(QUESTION, k=POOL)
    groups = group_by_document(results)
    december = next(i for i, c in enumerate(shown) if c["date"] == "2021-12-30")

    assert not at.exception and not at.error
    assert len(results) == POOL and len(groups) == 19
    assert summary(at).startswith("**The 100 most relevant passages, from 19 briefings** · briefings 1–10 shown · ")
    assert briefly(shown) == as_cards(results)[:10]
    assert len({c["title"] for c in shown}) == 10
    assert groups[december].best.passage_id.endswith("#t1p3-4")  # the official's opening: no one asked
    assert shown[december] == DECEMBER_CALL | {"asked": None}
    assert plain(answer(blocks[december])).replace("**", "") == groups[december].best.text
    assert more_answers(blocks[december]) == []  # drawn when opened
    open_more(at, groups[december].doc_id)
    blocks = card_blocks(at)
    assert "The leaders agreed to the sequence of Strategic Stability Dialogue starting on the 9th and 10th in " \
           "Geneva, a NATO-Russia Council conversation on the 12th, and an OSCE meeting on the 13th." \
           in plain(answer(blocks[december])).replace("**", "")
    assert more_answers(blocks[december]) == [r.text for r in groups[december].more]
    assert next(c for c in shown if c["date"] == "2022-02-12") == PRESIDENCY_CALL
    assert at.query_params == {"q": QUESTION}


def test_a_briefing_with_many_passages_shows_ten_under_its_card_and_says_how_many_more(slice_app, slice_index):
    at = open_app(q=QUESTION, speaker="Jen Psaki")
    groups = group_by_document(slice_index.search(QUESTION, k=POOL, filters=Filters(speakers=("Jen Psaki",))))
    first = card_blocks(open_more(at, groups[0].doc_id))[0]
    expander = next(i for i in first.children.values() if i.type == "expander")

    assert summary(at).startswith("**The 100 most relevant passages, from 2 briefings** · briefings 1–2 shown")
    assert expander.label == f"{len(groups[0].more)} more from this briefing"
    assert more_answers(first) == [r.text for r in groups[0].more[:10]]
    assert expander.caption[-1].value == (f"and {len(groups[0].more) - 10} more further down the ranking: "
                                          "read them in the whole transcript")


@pytest.mark.parametrize("values, filters, obeys, url", SIDEBAR_FILTERS, ids=["dates", "speakers", "kinds"])
def test_a_sidebar_filter_narrows_every_card(slice_app, slice_index, values, filters, obeys, url):
    at = open_app(q=QUESTION)
    unfiltered = cards(at)
    shown = cards(change(at, **values))

    assert briefly(shown) == as_cards(slice_index.search(QUESTION, k=POOL, filters=filters))[:10]
    assert all(obeys(c) for c in shown)
    assert not all(obeys(c) for c in unfiltered)
    assert at.query_params == {"q": QUESTION, **url}


def test_a_narrow_filter_counts_what_it_shows(slice_app, slice_index):
    at = open_app(q="gas prices", since="2022-03-08", until="2022-03-08")
    results = slice_index.search("gas prices", k=POOL, filters=Filters(since="2022-03-08", until="2022-03-08"))

    assert len(results) == 61
    assert summary(at).startswith("**61 passages from 2 briefings** · briefings 1–2 shown · ")
    assert sum(1 + c["more"] for c in cards(at)) == len(results)


def test_there_is_no_role_filter_since_every_passage_is_an_official_s_answer(slice_app):
    at = open_app(q=QUESTION, role="official")
    other = open_app(q=QUESTION, role="reporter")

    assert [s.label for s in at.selectbox] == ["Briefings per page"]
    assert not at.warning and at.query_params == {"q": QUESTION}
    assert "role reporter: every passage is an official's answer" in plain(other.warning[0].value)


def test_briefings_per_page_and_the_next_page(slice_app, slice_index):
    at = change(open_app(q=QUESTION), per_page=5)
    first_page = cards(at)
    click(at, "Next →")
    expected = as_cards(slice_index.search(QUESTION, k=POOL))

    assert briefly(first_page) == expected[:5]
    assert briefly(cards(at)) == expected[5:10]
    assert "briefings 6–10 shown" in summary(at)
    assert at.query_params == {"q": QUESTION, "n": "5", "page": "2"}


def test_the_downloads_hold_every_passage_counted_with_every_field(slice_app, slice_index, downloads):
    at = open_app(q=QUESTION)
    expected = [r.to_dict() for r in slice_index.search(QUESTION, k=POOL)]

    data = served(at, "Download CSV", downloads)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    payload = json.loads(served(at, "Download JSON", downloads))

    assert data.startswith(b"\xef\xbb\xbf\"rank\",\"score\",\"text\",")  # a byte-order mark: Excel reads it as UTF-8
    assert rows == [{k: "" if v is None else str(v) for k, v in r.items()} for r in expected]
    assert list(rows[0]) == RESULT_FIELDS
    assert payload == {"query": QUESTION, "no_close_match": False, "results": expected}


def test_the_copy_citation_control_holds_one_date_and_the_link(slice_app, slice_index):
    at = open_app(q=QUESTION)
    groups = group_by_document(slice_index.search(QUESTION, k=POOL))
    december = next(i for i, g in enumerate(groups) if g.best.date == "2021-12-30")
    actions = next(b for b in card_blocks(at)[december].children.values() if b.type == "flex_container")
    popover = next(b for b in actions.children.values() if b.type == "popover")
    code = next(i for i in popover.children.values() if i.type == "code")

    assert [b.label for b in at.button][:1] == ["Read it in the whole transcript"]
    assert code.value == citation(groups[december].best) == (
        "Senior Administration Official, Background Press Call by a Senior Administration Official on President "
        "Biden’s Call with President Putin of the Russian Federation, December 30, 2021, "
        "https://bidenwhitehouse.archives.gov/briefing-room/press-briefings/2021/12/30/"
        "background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation/")
    assert "2021-12-30" not in code.value


def test_the_timeline_counts_the_same_passages_by_month_and_hides_when_nothing_matches_closely(slice_app):
    at = open_app(q=QUESTION)
    chart = at.get("vega_lite_chart")
    nonsense = open_app(q="xyzzy plugh frobnicate")

    assert len(chart) == 1 and "These passages by month" in [c.value for c in at.caption]
    assert [plain(w.value) for w in nonsense.warning] == [
        "No close match: nothing in this index answers this question. The closest statements:"]
    assert not nonsense.get("vega_lite_chart") and cards(nonsense)


def test_the_timeline_shows_empty_months_as_zero():
    from podium_app.results_page import months_of

    def on(date: str) -> Result:
        return Result(1, 0.5, "", "", "Jen Psaki", "official", None, "T", date, "press briefing", None, "d", "d#p")

    assert months_of([on("2021-11-30"), on("2022-02-01"), on("2022-02-03"), on(None)]) == [
        ("2021-11", 1), ("2021-12", 0), ("2022-01", 0), ("2022-02", 2)]
