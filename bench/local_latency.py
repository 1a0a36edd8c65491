"""The local store's search latency under two checkouts of the code, side by side on one index.

    .venv/bin/python bench/local_latency.py INDEX QUESTIONS.txt OLD_ROOT NEW_ROOT [--rounds 3]

Each round runs one process per checkout (their order alternating), which
opens INDEX, warms up on 10 questions and times one `Index.search` (k=10)
for every question of QUESTIONS.txt (one a line); it prints p50 and p95 in
ms. A checkout is a folder holding `indexer/`, e.g. `git worktree add
/tmp/old <commit>`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_TIMED = r'''
import json, sys, time
from indexer.search import Index
index = Index.open(sys.argv[1])
questions = [line.strip() for line in open(sys.argv[2]) if line.strip()]
for question in questions[:10]:
    index.search(question, k=10)
times = []
for question in questions:
    started = time.perf_counter()
    index.search(question, k=10)
    times.append(1000 * (time.perf_counter() - started))
times.sort()
print(json.dumps({"p50": round(times[len(times) // 2], 1), "p95": round(times[int(0.95 * (len(times) - 1))], 1)}))
'''


def timed(root: str, index: str, questions: str) -> dict:
    env = {**os.environ, "PYTHONPATH": root, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", _TIMED, index, questions], cwd=root, env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index")
    parser.add_argument("questions")
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for number in range(args.rounds):
        order = [args.new, args.old] if number % 2 == 0 else [args.old, args.new]
        for root in order:
            print(json.dumps({"round": number, "code": root, **timed(root, args.index, args.questions)}))


if __name__ == "__main__":
    main()
