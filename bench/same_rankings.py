"""Every ranking an index gives for the dev set and sampled pairs, as JSON, to compare two versions of the code.

    .venv/bin/python bench/same_rankings.py INDEX OUT.json [--sample 200] [--seed 0]

For each dev-set question (bench/devset.jsonl) and each of the sampled
question -> answer pairs (the eval's `sample_pairs` over March 2022), and for
each mode (hybrid, dense, keyword) with the default tuning, it records
`Index.rank` as the eval calls it (100 deep, no per-document cap) and as
`search` ranks (k=10, two per document): passage ids and scores. Run it on the
same index before and after a change and compare the files (`cmp`): a
refactor must leave them identical.
"""

from __future__ import annotations

import argparse
import json

from indexer.evaluation.cases import dev_cases, read_devset, sample_pairs
from indexer.evaluation.runs import DEFAULT_CORPUS
from indexer.search import MODES, Index

SHAPES = {"eval": {"k": 100, "per_doc": None}, "search": {"k": 10, "per_doc": 2}}


def rankings(index: Index, sample: int, seed: int) -> dict:
    questions = [("pair", c.query) for c in sample_pairs(index, DEFAULT_CORPUS, sample, seed)]
    questions += [("dev", c.query) for c in dev_cases(index, read_devset())]
    found = {}
    for mode in MODES:
        for shape, options in SHAPES.items():
            found[f"{mode} {shape}"] = [
                {"set": kind, "question": question, "ranking": index.rank(question, mode=mode, **options)}
                for kind, question in questions
            ]
    return {"index": str(index.path), "version": index.version.name, "questions": len(questions),
            "rankings": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index")
    parser.add_argument("out")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = rankings(Index.open(args.index), args.sample, args.seed)
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=1)
    count = sum(len(items) for items in report["rankings"].values())
    print(f"{count} rankings of {report['questions']} questions from {args.index} -> {args.out}")


if __name__ == "__main__":
    main()
