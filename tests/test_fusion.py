"""Weighted reciprocal rank fusion and score fusion on hand-made ranked lists: exact order and scores."""

import pytest

from indexer.search.fusion import RRF_K, reciprocal_rank_fusion, score_fusion
from indexer.search.ranking import DEFAULT_TUNING, PLAIN, Tuning
from indexer.search.fusion import fuse


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


def test_score_fusion_sums_weighted_scores_over_the_lists_an_item_is_in():
    fused = score_fusion({"dense": [("a", 0.6), ("b", 0.5)], "keyword": [("b", 8.0), ("c", 4.0)]},
                         weights={"keyword": 0.1}, relative=["keyword"])

    assert fused == [("a", pytest.approx(0.6)), ("b", pytest.approx(0.5 + 0.1)), ("c", pytest.approx(0.05))]


def test_score_fusion_keeps_a_confident_first_answer_that_rank_fusion_overrules():
    lists = {"dense": [("sure", 0.70), ("close", 0.40)], "keyword": [("close", 9.0), ("x", 5.0), ("y", 3.0), ("sure", 1.0)]}

    by_scores = score_fusion(lists, weights={"keyword": 0.1}, relative=["keyword"])
    by_ranks = reciprocal_rank_fusion({name: [i for i, _ in items] for name, items in lists.items()},
                                      weights={"keyword": 1.0})

    assert [item for item, _ in by_scores][:2] == ["sure", "close"]
    assert [item for item, _ in by_ranks][:2] == ["close", "sure"]


def test_score_fusion_takes_raw_scores_unless_told_they_are_relative():
    fused = score_fusion({"keyword": [("a", 10.0), ("b", 5.0)]})

    assert fused == [("a", pytest.approx(10.0)), ("b", pytest.approx(5.0))]
    assert score_fusion({"keyword": [("a", 10.0)]}, relative=["keyword"]) == [("a", pytest.approx(1.0))]


def test_score_fusion_of_nothing_is_nothing():
    assert score_fusion({}) == []
    assert score_fusion({"dense": [], "keyword": []}, relative=["keyword"]) == []


def test_a_relative_list_whose_best_score_is_not_positive_adds_nothing():
    fused = score_fusion({"dense": [("a", 0.5)], "keyword": [("b", 0.0), ("a", -1.0)]}, relative=["keyword"])

    assert fused == [("a", pytest.approx(0.5))]


def test_score_fusion_takes_every_keyword_list_relative_to_its_own_best_hint_lists_included():
    scored = {"dense": [(1, 0.70), (2, 0.60)], "keyword": [(2, 12.0), (1, 6.0)],
              "dense speaker": [(2, 0.60)], "keyword speaker": [(2, 3.0)]}
    weights = {"dense": 1.0, "keyword": 0.1, "dense speaker": 0.5, "keyword speaker": 0.05}

    fused = fuse(scored, weights, Tuning(fusion="scores"))

    # passage 2: 0.60 + 0.1 x 12/12 + 0.5 x 0.60 + 0.05 x 3/3; passage 1: 0.70 + 0.1 x 6/12
    assert fused == [(2, pytest.approx(1.05)), (1, pytest.approx(0.75))]
    assert [i for i, _ in fuse(scored, weights, PLAIN)] == [2, 1]


def test_a_tuning_names_a_fusion_that_exists():
    assert DEFAULT_TUNING.fusion == "evidence" and PLAIN.fusion == "rrf"
    with pytest.raises(ValueError, match="fusion"):
        Tuning(fusion="score")
