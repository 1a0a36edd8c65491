"""Driving the Streamlit page through AppTest, for tests/test_app*.py: opening it with URL parameters, setting
widgets, and reading each card back as data (the fixtures are in app_fixtures.py)."""

import datetime as dt
import re
from pathlib import Path, PurePosixPath

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from indexer.search import Filters, Result
from indexer.search.results import group_by_document
from podium_app.results_page import card_key

APP = Path(__file__).resolve().parents[1] / "app.py"
POOL = 100
QUESTION = "What did Biden tell Putin about the Strategic Stability Dialogue in Geneva?"
RESULT_FIELDS = [
    "rank", "score", "text", "highlight", "speaker", "role", "question", "title", "date", "kind",
    "source_url", "doc_id", "passage_id",
]
DECEMBER_CALL = {
    "speaker": "Senior Administration Official",
    "date": "2021-12-30",
    "kind": "background call",
    "title": "Background Press Call by a Senior Administration Official on President Biden’s Call with "
             "President Putin of the Russian Federation",
    "url": "https://bidenwhitehouse.archives.gov/briefing-room/press-briefings/2021/12/30/"
           "background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation/",
    "source": None,
    "more": 7,  # all eight of its passages are among the 100 best
}
PRESIDENCY_CALL = {
    "speaker": "Senior Administration Official", "date": "2022-02-12", "kind": "background call",
    "title": "Background Press Call by a Senior Administration Official on the President's Call with "
             "Russian President Vladimir Putin",
    "url": None, "source": "The American Presidency Project", "more": 7,  # all eight of its passages too
    "asked": "Thank you so much for doing the call. Could you talk a little bit about, you know, anything "
             "that President Biden brought to the table today in terms of proposals, as far as an off-ramp "
             "that he thinks can get us to de-escalation? And then, could you also talk a little bit "
             "about if you had any signs that an operation was more imminent than thought before? Thank you.",
}
# (sidebar widgets and their values, the same filter for Index.search, what every card obeys, the URL's
# parameters): each also has results it takes away.
SIDEBAR_FILTERS = [
    ({"since": dt.date(2022, 3, 1), "until": dt.date(2022, 3, 15)}, Filters(since="2022-03-01", until="2022-03-15"),
     lambda card: "2022-03-01" <= card["date"] <= "2022-03-15", {"since": "2022-03-01", "until": "2022-03-15"}),
    ({"speakers": ["Jen Psaki"]}, Filters(speakers=("Jen Psaki",)),
     lambda card: card["speaker"] == "Jen Psaki", {"speaker": "Jen Psaki"}),
    ({"kinds": ["gaggle"]}, Filters(kinds=("gaggle",)),
     lambda card: card["kind"] == "gaggle", {"kind": "gaggle"}),
]
WIDGETS = {"since": "date_input", "until": "date_input", "speakers": "multiselect", "kinds": "multiselect",
           "per_page": "selectbox"}


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
    return [b for b in at.main.children.values() if isinstance(b, Block) and "-card-" in b.proto.id]


def cards(at: AppTest) -> list[dict]:
    """Each card as it reads: speaker, date, kind, title, link or source, the question, how many more."""
    return [card(block) for block in card_blocks(at)]


def card(block: Block) -> dict:
    items = list(block.children.values())
    speaker, date, kind = plain(items[0].value).replace("**", "").split(" · ")
    link = re.fullmatch(r"\[(.*)\]\((.*)\)", items[1].value)
    if link:
        title, url, source = plain(link[1]), link[2], None
    else:
        title, _, source = plain(items[1].value).rpartition(" · ") if " · " in items[1].value else (
            plain(items[1].value), None, None)
        url = None
    asked = next((plain(i.value).removeprefix("Asked: ") for i in items if i.type == "caption"), None)
    more = next((int(i.label.split()[0]) for i in items if i.type == "expander"), 0)
    return {"speaker": speaker, "date": date, "kind": kind, "title": title, "url": url, "source": source,
            "asked": asked, "more": more}


def answer(block: Block) -> str:
    """The card's passage as markdown: its third markdown, after the speaker line and the title."""
    return [i for i in block.children.values() if i.type == "markdown"][2].value


def open_more(at: AppTest, doc_id: str) -> AppTest:
    """Open a card's "N more from this briefing" as a click does: its state, then a rerun (it is drawn only
    when open)."""
    at.session_state["more-" + card_key(doc_id)] = True
    return at.run()


def more_answers(block: Block) -> list[str]:
    """The passages under "N more from this briefing", in the order shown, as plain text."""
    expander = next(i for i in block.children.values() if i.type == "expander")
    texts = [i.value for i in expander.children.values() if i.type == "markdown"]
    return [plain(t).replace("**", "") for t in texts[1::2]]  # each passage: its speaker, then its words


def as_cards(results: list[Result]) -> list[dict]:
    """What the cards must say for these results (the question and a link-less source left out)."""
    keys = ("speaker", "date", "kind", "title")
    return [{**{k: getattr(g.best, k) for k in keys}, "url": g.best.source_url, "more": len(g.more)}
            for g in group_by_document(results)]


def briefly(shown: list[dict]) -> list[dict]:
    return [{k: v for k, v in c.items() if k not in ("asked", "source")} for c in shown]


def served(at: AppTest, label: str, downloads: dict[str, bytes]) -> bytes:
    button = next(b for b in at.get("download_button") if b.proto.label == label)
    return downloads[PurePosixPath(button.proto.url).stem]


def summary(at: AppTest) -> str:
    return plain(next(m.value for m in at.markdown if "briefing" in m.value and "shown" in m.value))


def click(at: AppTest, label: str, nth: int = 0) -> AppTest:
    [b for b in at.button if b.label == label][nth].click()
    return at.run()
