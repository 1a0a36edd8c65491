"""Combine ranked lists from several retrievers: weighted reciprocal rank fusion, or a weighted sum of scores.

`fuse` picks one by the tuning (indexer/search/ranking.py); the two fusions are pure functions.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ranking import Tuning

RRF_K = 60


def fuse(scored: dict[str, list[tuple[int, float]]], weights: dict[str, float], tuning: Tuning):
    """The retrievers' (id, score) lists as one ranking, by the tuning's fusion: ranks, or scores with
    each keyword list's BM25 taken relative to its best."""
    if tuning.fusion == "scores":
        return score_fusion(scored, weights, relative=[name for name in scored if name.startswith("keyword")])
    return reciprocal_rank_fusion({name: [i for i, _ in items] for name, items in scored.items()}, weights,
                                  k=tuning.rrf_k)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Hashable]],
    weights: Mapping[str, float] | None = None,
    k: int = RRF_K,
) -> list[tuple[Hashable, float]]:
    """Items ordered by sum of weight / (k + rank) over the lists they appear in (rank from 1).

    Ties keep the order in which items were first seen, list by list.
    """
    scores: dict[Hashable, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def score_fusion(
    scored: Mapping[str, Sequence[tuple[Hashable, float]]],
    weights: Mapping[str, float] | None = None,
    relative: Collection[str] = (),
) -> list[tuple[Hashable, float]]:
    """Items ordered by sum of weight x score over the lists they appear in (absent: nothing added).

    A list named in `relative` counts its scores as fractions of its best one: a
    BM25 score means nothing from one query to the next, a cosine does; such a
    list whose best score is not above 0 adds nothing (it has no fractions). Unlike
    rank fusion, how far apart two items score is kept: a meaning ranking that is
    sure of its first answer is not overruled by a keyword list's first hit.
    Ties keep the order in which items were first seen, list by list.
    """
    scores: dict[Hashable, float] = {}
    for name, items in scored.items():
        if not items:
            continue
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        best = items[0][1]
        if name in relative and best <= 0:
            continue
        scale = 1.0 / best if name in relative else 1.0
        for item, score in items:
            scores[item] = scores.get(item, 0.0) + weight * score * scale
    return sorted(scores.items(), key=lambda pair: -pair[1])
