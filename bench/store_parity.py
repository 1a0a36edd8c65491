"""Whether a Milvus store ranks as the local store does, on an index of the same files in each.

    .venv/bin/python bench/store_parity.py LOCAL_INDEX STORE [--sample 500] [--seed 0] [--corpus PATH...]

    e.g. python -m indexer build PATHS... --index /tmp/pb-local
         python -m indexer build PATHS... --store milvus:///tmp/pb-milvus.db
         .venv/bin/python bench/store_parity.py /tmp/pb-local milvus:///tmp/pb-milvus.db

The questions: `--sample` question -> answer pairs drawn as the eval draws
them (from the documents under `--corpus`, each pair's own question left out
of the evidence), the shared questions and the dev set, their answers read
from the local index (both stores number passages and prompts alike). Each is
ranked by the default search in both stores (`Index.rank`, k=10). Prints, per
set, the share of questions whose top-10 ids are the same (in the same
order, and as a set) and hit@10 / MRR@10 in each store, as JSON.
"""

from __future__ import annotations

import argparse
import json

from indexer.evaluation.cases import dev_cases, read_devset, read_shared, sample_pairs, shared_cases
from indexer.evaluation.metrics import dev_metrics, mean_metrics
from indexer.evaluation.runs import DEFAULT_CORPUS
from indexer.search import Index


def question_sets(local: Index, corpus, sample: int, seed: int) -> dict:
    return {"pairs": sample_pairs(local, corpus, sample, seed),
            "shared": [case for case in shared_cases(local, read_shared()) if case.relevant],
            "dev": dev_cases(local, read_devset())}


def compare(local: Index, milvus: Index, cases) -> dict:
    """Top-10 agreement and each store's hit@10 / MRR@10 over `cases`."""
    same_order = same_set = 0
    scored = {"local": [], "milvus": []}
    for case in cases:
        rankings = {name: [pid for pid, _ in index.rank(case.query, k=10, leave_out=case.leave_out)]
                    for name, index in (("local", local), ("milvus", milvus))}
        same_order += rankings["local"] == rankings["milvus"]
        same_set += set(rankings["local"]) == set(rankings["milvus"])
        for name, ranking in rankings.items():
            scored[name].append(dev_metrics(ranking, case.relevant))
    count = max(len(cases), 1)
    return {"questions": len(cases), "same_top10_order": round(same_order / count, 4),
            "same_top10_ids": round(same_set / count, 4),
            **{name: {key: value for key, value in mean_metrics(rows).items() if key != "hit@1"}
               for name, rows in scored.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("local")
    parser.add_argument("store")
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", nargs="+", default=[str(p) for p in DEFAULT_CORPUS])
    args = parser.parse_args()
    local, milvus = Index.open(args.local), Index.open(store=args.store)
    report = {name: compare(local, milvus, cases)
              for name, cases in question_sets(local, args.corpus, args.sample, args.seed).items()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
