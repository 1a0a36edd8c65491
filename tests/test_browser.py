"""End to end: `streamlit run app.py` driven by headless Chromium at 1280x900, over the quick-start index
(README's set-up: the two seeds and March 2022's press briefings), and over the seeds plus one hostile
transcript.

The hostile transcript is a real NATO-summit background call with a paragraph appended to an answer that
holds a <script>, an <img onerror>, a javascript: link and text the page's markdown would autolink (a www.
name, an https URL, an e-mail address), and a source URL that tries to break out of its markdown link. The
page must show all of it as text, run none of it, and link only the source.

With PODIUM_SCREENSHOT set to a path, the first test saves the result page there: README's picture is
refreshed with `PODIUM_SCREENSHOT=docs/screenshot.png .venv/bin/python -m pytest tests/test_browser.py`
(commit it when the page has changed). Without it, the run writes nothing.
"""

import os
import re
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import frontmatter
import pytest
from playwright.sync_api import sync_playwright

from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from corpus_slices import BRIEFINGS, REPO, SEEDS
from indexer.index.build import build_index
from indexer.search import Index
from indexer.search.results import group_by_document

WAIT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 900}
QUICK_START = [SEEDS, BRIEFINGS / "2022-03"]
NATO_CALL = BRIEFINGS / "2021-06" / (
    "2021-06-14-background-press-call-by-a-senior-administration-official-on-president-bidens-engagements-at-"
    "nato-summit.md"
)
ANSWER_END = "aspect of the\nAfghanistan drawdown.\n"
HOSTILE = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">',
           "[x](javascript:window.__pwned=1)")
AUTOLINKED = "Write to user@evil.example, or see www.evil.example and https://evil.example/steal?x=1."
# The same three, markdown-escaped as whitehouse.gov pages escape brackets, so the reader keeps them as text.
HOSTILE_PARAGRAPH = (
    "\nAs for the schedule: \\<script\\>window.\\_\\_pwned=1\\</script\\> "
    '\\<img src=x onerror="window.\\_\\_pwned=1"\\> \\[x\\](javascript:window.\\_\\_pwned=1) is all we can share. '
    f"{AUTOLINKED}\n"
)
HOSTILE_URL = "https://www.whitehouse.gov/briefing-room/x)[y](javascript:window.__pwned=1)"
QUESTION = "What did Biden tell Putin about the talks in Geneva?"
CARD = "[class*='st-key-card-']"
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b(?:January|February|March|April|May|June|July|August|September|"
                  r"October|November|December) \d{1,2}(?:st|nd|rd|th)?, \d{4}\b")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}; .ci/run installs it"),
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    """The quick-start index, as README's set-up command builds it."""
    folder = tmp_path_factory.mktemp("quick-start")
    build_index(QUICK_START, folder / "index", progress=False)
    return folder / "index"


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    """The seeds and the hostile call."""
    folder = tmp_path_factory.mktemp("hostile")
    call = frontmatter.load(NATO_CALL)
    assert call.content.count(ANSWER_END) == 1
    call.content = call.content.replace(ANSWER_END, ANSWER_END + HOSTILE_PARAGRAPH)
    call.metadata["source_url"] = HOSTILE_URL
    transcript = folder / "2021-06-14-nato-call.md"
    transcript.write_text(frontmatter.dumps(call))
    build_index([SEEDS, transcript], folder / "index", progress=False)
    return folder / "index"


@pytest.fixture(scope="module")
def groups(index_dir):
    """What the page must show for QUESTION: the 100 best passages, one group per briefing."""
    index = Index.open(index_dir)
    yield group_by_document(index.search(QUESTION, k=100))
    index.close()


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory):
    """The app's URL on a free local port; the server is stopped however the tests end."""
    with streamlit_server(index_dir, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def hostile_server(hostile_dir, tmp_path_factory):
    with streamlit_server(hostile_dir, tmp_path_factory.mktemp("hostile-server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server)
    yield page
    context.close()


def ask(page, question: str) -> None:
    box = page.get_by_label("Ask what officials said")
    box.fill(question)
    box.press("Enter")
    settle(page, page.locator(CARD).first)


def settle(page, locator) -> None:
    """Wait for `locator`, then for the run to end."""
    locator.wait_for()
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")


def words(text: str) -> str:
    return " ".join(text.split())


def speakers(groups) -> set[str]:
    return {r.speaker for g in groups for r in g.results}


def test_one_card_per_briefing_the_first_above_the_fold_and_more_from_each_briefing(page, groups):
    ask(page, QUESTION)
    page.get_by_test_id("stVegaLiteChart").locator("svg.marks").wait_for()
    if os.environ.get("PODIUM_SCREENSHOT"):
        page.get_by_label("Ask what officials said").blur()
        page.mouse.move(VIEWPORT["width"] - 10, VIEWPORT["height"] - 10)
        page.screenshot(path=REPO / os.environ["PODIUM_SCREENSHOT"])
    cards = page.locator(CARD)
    first = cards.first.bounding_box()
    with_more = next(i for i, g in enumerate(groups[:10]) if len(g.more) >= 2)
    more = cards.nth(with_more).get_by_text(f"{len(groups[with_more].more)} more from this briefing")
    more.click()  # its passages are drawn on opening
    details = cards.nth(with_more).get_by_test_id("stExpanderDetails")
    settle(page, details.get_by_role("button", name="Read it in the whole transcript").first)
    shown = details.get_by_test_id("stMarkdown")

    assert cards.count() == 10
    assert [cards.nth(i).get_by_test_id("stMarkdownContainer").nth(1).text_content() for i in range(10)] == [
        g.best.title + ("" if g.best.source_url else " · The American Presidency Project") for g in groups[:10]]
    assert 0 < first["y"] < VIEWPORT["height"] - 200, "the first answer starts inside the first screen"
    assert page.get_by_text(f"The 100 most relevant passages, from {len(groups)} briefings").is_visible()
    answers = [words(t) for t in shown.all_text_contents() if words(t) and words(t) not in speakers(groups)
               and not t.startswith(("Asked: ", "The copy button"))]
    assert answers[:2] == [words(r.text) for r in groups[with_more].more[:2]]
    assert "?q=What+did+Biden+tell+Putin+about+the+talks+in+Geneva%3F" in page.url


def test_the_whole_transcript_opens_at_the_answer_and_back_returns_to_the_results(page, groups):
    ask(page, QUESTION)
    results_url = page.url
    page.locator(CARD).first.get_by_role("button", name="Read it in the whole transcript").click()
    answer = page.locator(".st-key-podium-answer")
    settle(page, answer)
    page.wait_for_function("() => { const box = document.querySelector('.st-key-podium-answer')"
                           ".getBoundingClientRect(); return box.top >= 0 && box.top < 900; }")
    opened = parse_qs(urlsplit(page.url).query)
    best = groups[0].best

    assert opened == {"q": [QUESTION], "doc": [best.doc_id], "passage": [best.passage_id.partition("#")[2]]}
    assert page.get_by_role("heading", name=best.title).count() == 1
    assert answer.get_by_text(best.text.split("\n\n")[0][:60]).count() == 1
    assert page.locator(CARD).count() == 0

    page.go_back()
    settle(page, page.locator(CARD).first)
    assert page.url == results_url
    assert page.get_by_label("Ask what officials said").input_value() == QUESTION
    assert page.locator(CARD).count() == 10 and page.locator(".st-key-podium-answer").count() == 0


def test_a_shared_transcript_link_opens_scrolled_to_its_answer(browser, server, groups):
    best = groups[0].best
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server}?doc={best.doc_id}&passage={best.passage_id.partition('#')[2]}")
    settle(page, page.locator(".st-key-podium-answer"))
    page.wait_for_function("() => { const box = document.querySelector('.st-key-podium-answer')"
                           ".getBoundingClientRect(); return box.top >= 0 && box.top < 900; }")

    assert page.get_by_role("button", name="← New search").is_visible()
    context.close()


def test_a_link_with_an_unknown_speaker_names_it_in_a_notice(browser, server):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server}?q=gas+prices&speaker=John+Kirby")
    settle(page, page.locator(CARD).first)
    notice = page.get_by_test_id("stAlert").first.text_content()

    assert "no speaker John Kirby in this index" in notice
    assert "speaker" not in parse_qs(urlsplit(page.url).query)
    context.close()


def test_copy_citation_copies_one_date_and_the_link(page, groups):
    ask(page, QUESTION)
    card = page.locator(CARD).first
    card.get_by_role("button", name="Copy citation").click()
    code = page.get_by_test_id("stCode").first
    code.hover()
    code.get_by_role("button", name="Copy to clipboard").click()
    copied = page.evaluate("navigator.clipboard.readText()")

    assert copied == code.text_content()
    assert copied.startswith(f"{groups[0].best.speaker}, {groups[0].best.title}")
    assert len(DATE.findall(copied)) == 1
    assert copied.endswith(groups[0].best.source_url) and "bidenwhitehouse.archives.gov" in copied


def test_a_hostile_passage_shows_as_text_and_runs_nothing(browser, hostile_server):
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    page.goto(hostile_server)
    ask(page, "Did NATO allies support the drawdown from Afghanistan?")
    paragraph = page.locator("p", has_text="As for the schedule:")
    settle(page, paragraph.first)

    card = page.locator(CARD, has=paragraph.first)
    assert paragraph.first.text_content().replace("\u2060", "") == (
        f"As for the schedule: {' '.join(HOSTILE)} is all we can share. {AUTOLINKED}")
    assert card.locator("a").count() == 1  # the source link: no text of the passage became one
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("[...document.scripts].filter(s => s.outerHTML.includes('pwned')).length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror], img[src=x]').length") == 0
    protocols = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.protocol)")
    assert set(protocols) == {"http:", "https:"}
    assert page.get_by_role("link", name="Background Press Call by a Senior Administration Official On "
                            "President Biden’s Engagements at NATO Summit").first.get_attribute("href") == (
        "https://bidenwhitehouse.archives.gov/briefing-room/x%29%5By%5D%28javascript:window.__pwned=1%29")
    page.close()


def listening_addresses(port: int) -> set[str]:
    """The addresses a socket listens on at `port`, from the kernel's tables (IPv4 and IPv6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word reversed
                found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words))
    return found


def test_the_app_is_served_on_this_machine_only(server):
    """Started as README starts it (no --server.address), the app listens on 127.0.0.1 alone, not on every
    interface (.streamlit/config.toml)."""
    assert listening_addresses(urlsplit(server).port) == {"127.0.0.1"}
