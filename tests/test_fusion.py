"""Weighted reciprocal rank fusion on hand-made ranked lists: exact order and scores."""

import pytest

from indexer.fusion import RRF_K, reciprocal_rank_fusion


def test_items_in_both_lists_win_and_scores_are_sums_of_reciprocal_ranks():
    fused = reciprocal_rank_fusion({"dense": ["a", "b", "c"], "keyword": ["c", "a"]})

    assert [item for item, _ in fused] == ["a", "c", "b"]
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)


def test_default_k_is_60():
    assert RRF_K == 60
    assert reciprocal_rank_fusion({"only": ["x"]}) == [("x", pytest.approx(1 / 61))]


def test_weights_scale_each_list():
    fused = reciprocal_rank_fusion(
        {"dense": ["a", "b"], "keyword": ["b", "a"]}, weights={"dense": 1.0, "keyword": 3.0}
    )

    assert fused == [("b", pytest.approx(1 / 62 + 3 / 61)), ("a", pytest.approx(1 / 61 + 3 / 62))]


def test_a_list_missing_from_weights_counts_once():
    fused = reciprocal_rank_fusion({"dense": ["a"], "keyword": ["b"]}, weights={"dense": 2.0})

    assert fused == [("a", pytest.approx(2 / 61)), ("b", pytest.approx(1 / 61))]


def test_a_zero_weight_keeps_the_list_order_out_of_the_ranking():
    fused = reciprocal_rank_fusion({"dense": ["a", "b"], "keyword": ["b", "a"]}, weights={"keyword": 0.0})

    assert [item for item, _ in fused] == ["a", "b"]


def test_ties_keep_first_seen_order_list_by_list():
    fused = reciprocal_rank_fusion({"dense": ["a", "b"], "keyword": ["b", "a"]})

    assert fused == [("a", pytest.approx(1 / 61 + 1 / 62)), ("b", pytest.approx(1 / 62 + 1 / 61))]
    assert [item for item, _ in reciprocal_rank_fusion({"x": ["p"], "y": ["q"]})] == ["p", "q"]


def test_smaller_k_sharpens_the_preference_for_top_ranks():
    fused = reciprocal_rank_fusion({"dense": ["a", "b"], "keyword": ["c"]}, k=1)

    assert fused == [("a", pytest.approx(1 / 2)), ("c", pytest.approx(1 / 2)), ("b", pytest.approx(1 / 3))]


def test_empty_lists_fuse_to_nothing():
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"dense": [], "keyword": []}) == []


def test_any_hashable_ids_work():
    fused = reciprocal_rank_fusion({"dense": [7, 3], "keyword": [3]})

    assert [item for item, _ in fused] == [3, 7]
