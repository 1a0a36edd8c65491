"""The shared questions on any index, as `eval` scores them (figures of docs/quality.md).

python bench/shared_questions.py INDEX [--json]

Runs the default, and dense and keyword alone, over ../shared/questions on
INDEX (the full press-briefings index for the issue's targets): hit@1, hit@10
and MRR@10 overall, by kind and by whether the adapted model trained on the
answer's briefing, and the no_close_match rates.
"""
import argparse
import json

from indexer.evaluation import cases
from indexer.evaluation.shared import run_shared
from indexer.search import Index
from indexer.search.ranking import DEFAULT_TUNING, PLAIN

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("index")
parser.add_argument("--json", action="store_true")
args = parser.parse_args()
index = Index.open(args.index)
asked = cases.shared_cases(index, cases.read_shared())
report = {name: run_shared(index, asked, mode, tuning)
          for name, mode, tuning in (("default", "hybrid", DEFAULT_TUNING), ("dense", "dense", PLAIN),
                                     ("keyword", "keyword", PLAIN))}
if args.json:
    print(json.dumps(report, indent=2))
for name, shared in report.items():
    flags = shared["no_close_match"]
    kinds = ", ".join(f"{k} {v['hits@10']}/{v['questions']}" for k, v in shared["by_kind"].items())
    split = ", ".join(f"{k} {v['hit@10']:.3f}/{v['mrr@10']:.3f} ({v['questions']})"
                      for k, v in sorted(shared["by_training"].items()))
    print(f"{name:8} hit@1 {shared['hit@1']:.3f} hit@10 {shared['hit@10']:.3f} MRR@10 {shared['mrr@10']:.3f} | "
          f"no_close_match none {flags.get('none', 0):.2f} answerable {flags.get('answerable', 0):.3f} | {kinds} | "
          f"hit@10/MRR@10 {split}")
