"""Answer-quality metrics: pure functions over a ranking (ids, best first) and the set of relevant ids."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

CUTOFFS = (1, 10, 100)


def reciprocal_rank(ranking: Sequence, relevant: set, k: int = 10) -> float:
    """1 / rank of the first relevant item within the top k, else 0."""
    for rank, item in enumerate(ranking[:k], start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def recall(ranking: Sequence, relevant: set, k: int) -> float:
    """Share of the relevant items found in the top k."""
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def hit(ranking: Sequence, relevant: set, k: int) -> float:
    """1 if any relevant item is in the top k, else 0."""
    return float(any(item in relevant for item in ranking[:k]))


def ndcg(ranking: Sequence, relevant: set, k: int = 10) -> float:
    """Binary-gain nDCG@k: DCG of the ranking over DCG of an ideal one."""
    dcg = sum(1 / math.log2(rank + 1) for rank, item in enumerate(ranking[:k], start=1) if item in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def auto_metrics(ranking: Sequence, relevant: set) -> dict[str, float]:
    return {
        "mrr@10": reciprocal_rank(ranking, relevant, 10),
        "ndcg@10": ndcg(ranking, relevant, 10),
        **{f"recall@{k}": recall(ranking, relevant, k) for k in CUTOFFS},
    }


def dev_metrics(ranking: Sequence, relevant: set) -> dict[str, float]:
    return {
        "hit@1": hit(ranking, relevant, 1),
        "hit@10": hit(ranking, relevant, 10),
        "mrr@10": reciprocal_rank(ranking, relevant, 10),
    }


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]} if rows else {}
