"""Many browser sessions asking the web app at once: time from pressing Enter to the first result card.

Starts `streamlit run app.py` on 127.0.0.1 over the given index, opens N
headless Chromium pages at once (Debian's /usr/bin/chromium, driven by
Playwright), and has each ask several real questions in turn. Prints the
median, 95th percentile and worst time to results, and the errors (a page that
showed an error or no card in time).

    .venv/bin/python bench/app_load.py --index /tmp/bench/pb-index --sessions 20
    .venv/bin/python bench/app_load.py --index data/index --sessions 5 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402
from podium_app.results_page import summary_key  # noqa: E402

QUESTIONS = (
    "What did the White House say about air defense for Ukraine?",
    "baby formula shortage",
    "Did the President talk to Putin about troops on the border?",
    "gas prices and the Strategic Petroleum Reserve",
    "vaccines for young children",
    "sanctions on Russian banks",
    "What is the plan for the evacuation from Kabul?",
    "inflation and supply chains",
)
WAIT_MS = 120_000
CARD_MARKER = "Read it in the whole transcript"


async def one_session(browser, url: str, questions: list[str]) -> list[dict]:
    """One page asking each question in turn; one timing record per question."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    records = []
    try:
        started = time.perf_counter()
        await page.goto(url)
        box = page.get_by_label("Ask what officials said")
        await box.wait_for()
        loaded = time.perf_counter() - started
        for question in questions:
            records.append(await ask(page, box, question) | {"page_load_s": loaded})
    finally:
        await page.close()
    return records


async def ask(page, box, question: str) -> dict:
    """Type a question, press Enter, time until this question's first card (or its no-result note) shows.

    The summary ("The 100 most relevant passages, from 18 briefings ... 0.1 s") is drawn before the
    cards in a container keyed by the question (podium_app.results_page.summary_key), so the answer is
    on screen once this question's summary and a card show; the run is then waited out, so the next
    question starts from a quiet page.
    """
    summary = page.locator(f".st-key-{summary_key(question)}")
    await box.fill(question)
    started = time.perf_counter()
    await box.press("Enter")
    seconds = None
    try:
        while seconds is None:
            if time.perf_counter() - started > WAIT_MS / 1000:
                raise TimeoutError(f"no answer within {WAIT_MS / 1000:.0f} s")
            if await answered(page, summary):
                seconds = time.perf_counter() - started
            else:
                await asyncio.sleep(0.02)
        await page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    except Exception as exc:  # a timeout or a closed page is this question's error, not the run's
        return {"question": question, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    shown_errors = await page.get_by_test_id("stException").count() + await page.locator(".stAlert").filter(
        has_text="cannot").count()
    return {"question": question, "seconds": seconds, **({"error": "the page shows an error"} if shown_errors else {})}


async def answered(page, summary) -> bool:
    if await page.get_by_text("No statements match").count():
        return True
    if not await summary.count():
        return False
    return await page.get_by_text(CARD_MARKER).count() > 0


async def drive(url: str, sessions: int, rounds: int) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            plans = [[QUESTIONS[(s + r) % len(QUESTIONS)] for r in range(rounds)] for s in range(sessions)]
            results = await asyncio.gather(*(one_session(browser, url, plan) for plan in plans))
        finally:
            await browser.close()
    return [record for session in results for record in session]


def summary(records: list[dict], sessions: int, wall: float) -> dict:
    times = sorted(r["seconds"] for r in records if "seconds" in r and "error" not in r)
    loads = sorted({r["page_load_s"] for r in records if "page_load_s" in r})
    return {
        "sessions": sessions,
        "searches": len(records),
        "answered": len(times),
        "errors": [r for r in records if "error" in r],
        "time_to_results_s": {
            "median": round(statistics.median(times), 3) if times else None,
            "p95": round(times[max(0, int(len(times) * 0.95 + 0.5) - 1)], 3) if times else None,
            "max": round(times[-1], 3) if times else None,
        },
        "page_load_s_median": round(statistics.median(loads), 3) if loads else None,
        "wall_s": round(wall, 1),
    }


def run(index_dir: Path, sessions: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="podium-load-") as tmp:
        with streamlit_server(index_dir, Path(tmp) / "streamlit.log") as url:
            started = time.perf_counter()
            records = asyncio.run(drive(url, sessions, rounds))
            return summary(records, sessions, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path, help="index directory the app serves")
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="questions each session asks in turn (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.index, args.sessions, args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    t = result["time_to_results_s"]
    print(f"{result['sessions']} sessions, {result['searches']} searches, {result['answered']} answered, "
          f"{len(result['errors'])} errors, {result['wall_s']} s")
    print(f"time to results: median {t['median']} s, p95 {t['p95']} s, max {t['max']} s; "
          f"page load median {result['page_load_s_median']} s")
    for error in result["errors"]:
        print(f"  error: {error['question']}: {error['error']}")


if __name__ == "__main__":
    main()
