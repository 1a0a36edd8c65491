"""Builds killed with kill -9 at many points, spread over reading, embedding and writing.

A harness runs the real build in a subprocess and counts the calls into
Podium's and sentence-transformers' code; a dry run tells how many calls
each phase makes (reading, embedding, writing the new version, publishing it:
checksums, swap, pruning), and each kill run SIGKILLs itself at one chosen
call. After every kill the index must be whole (`check`) and answer exactly
as before the build or exactly as after it, never a mix. The default run
kills once per phase; `pytest -m slow` 6 times per phase, 24 in all
(docs/reliability.md).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from corpus_slices import REPO, SEED_FILES, background_calls_march
from indexer.index import layout
from indexer.index.integrity import check_index
from indexer.index.build import build_index
from indexer.search import Index

PHASES = ("reading", "embedding", "writing", "publishing")
QUESTIONS = ("What did the two presidents discuss on the phone?", "sanctions on Russian banks")
NEW_FILES = [*SEED_FILES, *background_calls_march()[:4]]

HARNESS = textwrap.dedent("""
    import json, os, signal, sys
    from indexer.index.build import build_index

    PHASE_STARTS = {"read_corpus": "reading", "encode": "embedding", "new_version": "writing",
                    "publish": "publishing"}
    kill_at, index_dir, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    calls, starts = 0, {}

    def count(frame, event, arg):
        global calls
        module = frame.f_globals.get("__name__") or ""
        if event != "call" or not module.startswith(("indexer", "sentence_transformers")):
            return
        phase = PHASE_STARTS.get(frame.f_code.co_name) if module.startswith("indexer") else None
        if phase and phase not in starts:
            starts[phase] = calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    sys.setprofile(count)
    build_index(files, index_dir, progress=False)
    sys.setprofile(None)
    print(json.dumps({"calls": calls, "starts": starts}))
""")


def run_harness(kill_at: int, index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", HARNESS, str(kill_at), str(index_dir), *map(str, NEW_FILES)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )


def answers(index_dir: Path) -> dict:
    index = Index.open(index_dir)
    try:
        return {
            (question, mode): [(r.passage_id, round(r.score, 4)) for r in index.search(question, k=5, mode=mode)]
            for question in QUESTIONS
            for mode in ("hybrid", "dense", "keyword")
        }
    finally:
        index.close()


def kill_points(profile: dict, per_phase: int) -> list[tuple[str, int]]:
    """`per_phase` calls evenly inside each phase, as (phase, call number)."""
    starts = [profile["starts"][phase] for phase in PHASES] + [profile["calls"]]
    points = []
    for phase, start, end in zip(PHASES, starts, starts[1:]):
        step = (end - start) / (per_phase + 1)
        points += [(phase, int(start + step * (i + 1)) + 1) for i in range(per_phase)]
    return points


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory):
    """A pristine index of the seeds, the answers before and after the build, and the dry run's profile."""
    root = tmp_path_factory.mktemp("crash")
    pristine = root / "pristine"
    build_index(SEED_FILES, pristine, progress=False)
    finished = root / "finished"
    shutil.copytree(pristine, finished, symlinks=True)
    dry_run = run_harness(0, finished)
    assert dry_run.returncode == 0, dry_run.stderr
    return pristine, answers(pristine), answers(finished), json.loads(dry_run.stdout)


def kill_and_verify(before_and_after, tmp_path, per_phase: int) -> list[dict]:
    pristine, before, after, profile = before_and_after
    outcomes = []
    for phase, call in kill_points(profile, per_phase):
        index_dir = tmp_path / f"{phase}-{call}"
        shutil.copytree(pristine, index_dir, symlinks=True)
        killed = run_harness(call, index_dir)
        assert killed.returncode == -signal.SIGKILL, f"{phase} call {call}: {killed.stderr[-500:]}"
        version, checks = check_index(index_dir)
        assert not any(c.damaged for c in checks), f"{phase} call {call}: {checks}"
        now = answers(index_dir)
        assert now in (before, after), f"killed while {phase} (call {call}): answers are a mix"
        outcomes.append({"phase": phase, "call": call, "state": "before" if now == before else "after"})
        shutil.rmtree(index_dir)
    return outcomes


def test_the_dry_run_passes_through_every_phase(before_and_after):
    _, before, after, profile = before_and_after
    starts = [profile["starts"][phase] for phase in PHASES]

    assert starts == sorted(starts) and len(set(starts)) == len(PHASES) and starts[-1] < profile["calls"]
    assert before != after


def test_a_build_killed_in_each_phase_leaves_the_index_before_or_after(before_and_after, tmp_path):
    outcomes = kill_and_verify(before_and_after, tmp_path, per_phase=1)

    assert [o["phase"] for o in outcomes] == list(PHASES)
    assert [o["state"] for o in outcomes[:3]] == ["before", "before", "before"]


@pytest.mark.slow
def test_a_build_killed_at_24_points_leaves_the_index_before_or_after(before_and_after, tmp_path):
    outcomes = kill_and_verify(before_and_after, tmp_path, per_phase=6)

    states = {state: sum(o["state"] == state for o in outcomes) for state in ("before", "after")}
    print(f"\nkill -9 at {len(outcomes)} points: {states['before']} left the old index, "
          f"{states['after']} the new one, 0 a mix")
    assert len(outcomes) == 24 and states["after"] > 0


def test_the_next_build_clears_what_a_killed_one_left(before_and_after, tmp_path):
    pristine, _, after, profile = before_and_after
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir, symlinks=True)
    (_, call), = [point for point in kill_points(profile, 1) if point[0] == "writing"]

    assert run_harness(call, index_dir).returncode == -signal.SIGKILL
    report = build_index(NEW_FILES, index_dir, progress=False)

    assert not list((index_dir / layout.BUILDS).glob("*.partial"))
    assert report.documents == len(NEW_FILES)
    assert answers(index_dir) == after
    assert os.path.islink(index_dir / layout.CURRENT)
