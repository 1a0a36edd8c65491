"""Many searchers at once while builds swap new versions in: no errors, every answer from one version.

Four threads and four processes open the index and search it in a loop while
`build` processes rebuild it back and forth between two corpora (the seeds,
and the seeds plus one more briefing). Each answer must equal what one of the
two versions answers when nothing else runs. The searching lasts until at
least two builds have swapped in and 8 seconds have passed; `pytest -m slow`
at least 30 seconds and four builds (docs/reliability.md).
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from corpus_slices import CHINA_CALL, REPO, SEED_FILES
from indexer.index.build import build_index
from indexer.search import Index

QUESTIONS = ("What did the two presidents discuss on the phone?", "Xi Jinping and Russia")
CORPORA = {"seeds": SEED_FILES, "seeds+china": [*SEED_FILES, CHINA_CALL]}

SEARCHER = textwrap.dedent("""
    import json, sys, time
    from indexer.search import Index

    from pathlib import Path

    index_dir, stop, questions = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    while not stop.exists():
        try:
            index = Index.open(index_dir)
            answer = [[r.passage_id for r in index.search(q, k=5)] for q in questions]
            index.close()
            print(json.dumps({"answer": answer}), flush=True)
        except Exception as exc:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
""")


def answer_of(index: Index) -> list[list[str]]:
    return [[r.passage_id for r in index.search(q, k=5)] for q in QUESTIONS]


def expected_answers(root: Path) -> dict[str, list[list[str]]]:
    """What each corpus's version answers when nothing else runs."""
    expected = {}
    for name, files in CORPORA.items():
        build_index(files, root / name, progress=False)
        index = Index.open(root / name)
        expected[name] = answer_of(index)
        index.close()
    return expected


def search_in_threads(index_dir: Path, stop: Path, outcomes: list, threads: int) -> list[threading.Thread]:
    def loop():
        while not stop.exists():
            try:
                index = Index.open(index_dir)
                outcomes.append({"answer": answer_of(index)})
                index.close()
            except Exception as exc:  # the test reports every failure, of any kind
                outcomes.append({"error": f"{type(exc).__name__}: {exc}"})

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    return workers


def rebuild_back_and_forth(index_dir: Path, seconds: float, least: int) -> int:
    """Alternate the two corpora in `build` subprocesses for `seconds` and `least` builds; returns how many."""
    builds, until = 0, time.monotonic() + seconds
    while time.monotonic() < until or builds < least:
        files = CORPORA["seeds+china" if builds % 2 == 0 else "seeds"]
        subprocess.run([sys.executable, "-m", "indexer", "build", *map(str, files), "--index", str(index_dir)],
                       cwd=REPO, check=True, capture_output=True, timeout=300)
        builds += 1
    return builds


def run_load(tmp_path: Path, seconds: float, least_builds: int) -> tuple[dict, list[dict], int]:
    expected = expected_answers(tmp_path)
    index_dir = tmp_path / "served"
    build_index(CORPORA["seeds"], index_dir, progress=False)
    Index.open(index_dir).search(QUESTIONS[0])  # load the model before the clock starts
    stop = tmp_path / "stop"
    processes = [
        subprocess.Popen([sys.executable, "-c", SEARCHER, str(index_dir), str(stop), *QUESTIONS],
                         cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=os.environ | {"PYTHONUNBUFFERED": "1"})
        for _ in range(4)
    ]
    outcomes: list[dict] = []
    threads = search_in_threads(index_dir, stop, outcomes, threads=4)
    try:
        builds = rebuild_back_and_forth(index_dir, seconds, least_builds)
    finally:
        stop.touch()
    for thread in threads:
        thread.join()
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        outcomes += [json.loads(line) for line in out.splitlines()]
    return expected, outcomes, builds


def verify(expected: dict, outcomes: list[dict], builds: int) -> dict:
    errors = [o["error"] for o in outcomes if "error" in o]
    seen = {name: sum(o.get("answer") == answer for o in outcomes) for name, answer in expected.items()}

    assert expected["seeds"] != expected["seeds+china"]
    assert errors == []
    assert sum(seen.values()) == len(outcomes), "some answer matches neither version"
    assert builds >= 2 and all(seen.values()), f"the searches did not straddle a swap: {seen}, {builds} builds"
    return seen


def test_8_searchers_during_swaps_get_answers_of_one_version(tmp_path):
    verify(*run_load(tmp_path, seconds=8, least_builds=2))


@pytest.mark.slow
def test_8_searchers_for_30_seconds_during_swaps(tmp_path):
    expected, outcomes, builds = run_load(tmp_path, seconds=30, least_builds=4)
    seen = verify(expected, outcomes, builds)
    print(f"\n{len(outcomes)} searches by 8 searchers, {builds} builds swapped in, 0 errors; "
          f"answers per version: {seen}")
