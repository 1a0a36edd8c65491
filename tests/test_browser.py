"""End to end: `streamlit run app.py` driven by headless Chromium, over the seeds plus one hostile transcript.

The hostile transcript is a real NATO-summit background call with a paragraph appended to an answer that
holds a <script>, an <img onerror> and a javascript: link, and a source URL that tries to break out of its
markdown link. The page must show all of it as text and run none of it.

With PODIUM_SCREENSHOT set to a path, the first test saves the result page there: README's picture is
refreshed with `PODIUM_SCREENSHOT=docs/screenshot.png .venv/bin/python -m pytest tests/test_browser.py`
(commit it when the page has changed). Without it, the run writes nothing.
"""

import os
from pathlib import Path

import frontmatter
import pytest
from playwright.sync_api import sync_playwright

from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from corpus_slices import BRIEFINGS, REPO, SEED_FILES
from indexer.index.build import build_index

WAIT_MS = 60_000
NATO_CALL = BRIEFINGS / "2021-06" / (
    "2021-06-14-background-press-call-by-a-senior-administration-official-on-president-bidens-engagements-at-"
    "nato-summit.md"
)
ANSWER_END = "aspect of the\nAfghanistan drawdown.\n"
HOSTILE = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">',
           "[x](javascript:window.__pwned=1)")
# The same three, markdown-escaped as whitehouse.gov pages escape brackets, so the reader keeps them as text.
HOSTILE_PARAGRAPH = (
    "\nAs for the schedule: \\<script\\>window.\\_\\_pwned=1\\</script\\> "
    '\\<img src=x onerror="window.\\_\\_pwned=1"\\> \\[x\\](javascript:window.\\_\\_pwned=1) is all we can share.\n'
)
HOSTILE_URL = "https://www.whitehouse.gov/briefing-room/x)[y](javascript:window.__pwned=1)"
QUESTION = "What did Biden tell Putin about the talks in Geneva?"
DECEMBER_TITLE = ("Background Press Call by a Senior Administration Official on President Biden’s Call with "
                  "President Putin of the Russian Federation")
DECEMBER_URL = ("https://www.whitehouse.gov/briefing-room/press-briefings/2021/12/30/"
                "background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation/")
DECEMBER_HIGHLIGHT = ("President Biden laid out two paths, two aspects of the U.S. approach that will really depend "
                      "on Russia’s actions in the period ahead.")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}; .ci/run installs it"),
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    call = frontmatter.load(NATO_CALL)
    assert call.content.count(ANSWER_END) == 1
    call.content = call.content.replace(ANSWER_END, ANSWER_END + HOSTILE_PARAGRAPH)
    call.metadata["source_url"] = HOSTILE_URL
    transcript = folder / "2021-06-14-nato-call.md"
    transcript.write_text(frontmatter.dumps(call))
    build_index([*SEED_FILES, transcript], folder / "index", progress=False)
    return folder / "index"


@pytest.fixture(scope="module")
def server(hostile_index, tmp_path_factory):
    """The app's URL on a free local port; the server is stopped however the tests end."""
    with streamlit_server(hostile_index, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    page.goto(server)
    yield page
    page.close()


def ask(page, question: str) -> None:
    box = page.get_by_label("Ask what officials said")
    box.fill(question)
    box.press("Enter")


def test_a_question_shows_linked_cards_with_the_best_sentences_in_bold(page):
    ask(page, QUESTION)
    bold = page.locator("strong", has_text=DECEMBER_HIGHLIGHT)
    bold.wait_for()
    page.get_by_role("button", name="Download JSON").wait_for()
    page.get_by_test_id("stVegaLiteChart").locator("svg.marks").wait_for()
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")

    assert bold.text_content() == DECEMBER_HIGHLIGHT
    assert page.get_by_role("link", name=DECEMBER_TITLE).first.get_attribute("href") == DECEMBER_URL
    assert "?q=What+did+Biden+tell+Putin+about+the+talks+in+Geneva%3F" in page.url
    if os.environ.get("PODIUM_SCREENSHOT"):
        page.get_by_label("Ask what officials said").blur()
        page.screenshot(path=REPO / os.environ["PODIUM_SCREENSHOT"])


def test_a_hostile_passage_shows_as_text_and_runs_nothing(page):
    ask(page, "Did NATO allies support the drawdown from Afghanistan?")
    paragraph = page.locator("p", has_text="As for the schedule:")
    paragraph.wait_for()
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")

    assert paragraph.text_content() == f"As for the schedule: {' '.join(HOSTILE)} is all we can share."
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("[...document.scripts].filter(s => s.outerHTML.includes('pwned')).length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror], img[src=x]').length") == 0
    protocols = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.protocol)")
    assert set(protocols) == {"http:", "https:"}
    assert page.get_by_role("link", name="Background Press Call by a Senior Administration Official On "
                            "President Biden’s Engagements at NATO Summit").first.get_attribute("href") == (
        "https://www.whitehouse.gov/briefing-room/x%29%5By%5D%28javascript:window.__pwned=1%29")
