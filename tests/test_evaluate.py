"""The eval: metric functions on hand-made rankings, dev-set matching, and a real run on four background calls."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from corpus_slices import BRIEFINGS
from indexer.embedding.embedder import content_hash
from indexer.errors import BadQuery, IndexCorrupt
from indexer.evaluation import cases, metrics, runs
from indexer.embedding.embedder import BASE_MODEL, DEFAULT_MODEL
from indexer.search import Index

CALLS = [
    BRIEFINGS / "2022-03" / name
    for name in (
        "2022-03-08-background-press-call-on-announcement-of-u-s-ban-on-imports-of-russian-oil-liquefied-natural-gas-and-coal.md",
        "2022-03-14-background-press-call-by-senior-administration-officials-on-china.md",
        "2022-03-18-background-press-call-by-a-senior-administration-official-on-president-bidens-call-with-president-xi-jinping-of-china.md",
        "2022-03-29-background-press-call-by-a-senior-administration-official-previewing-the-visit-of-prime-minister-lee-of-singapore.md",
    )
]
OIL_BAN = "2022-03-08-background-press-call-on-announcement-of-u-s-ban-on-imports-of-russian-oil-liquefied-natural-gas-and-coal"
DEVSET = [
    {"id": "t1", "question": "Did the U.S. ask Europe to join the ban on Russian oil?",
     "relevant": [{"doc_id": OIL_BAN, "quote": "we do not expect them and did not\n   ask them to join us"}]},
    {"id": "t2", "question": "What is the price of tea?",
     "relevant": [{"doc_id": OIL_BAN, "quote": "no passage says this"}]},
]
SHARED = [
    {"id": "s1", "query": "Were European allies asked to stop buying Russian oil too?", "kind": "paraphrase",
     "relevant": [{"doc": f"{OIL_BAN}.md", "phrase": "did not ask them to join us"}]},
    {"id": "s2", "query": "What did the White House say about the Kalush Orchestra Eurovision win?", "kind": "none",
     "relevant": []},
]


def test_reciprocal_rank_counts_the_first_relevant_within_k():
    assert metrics.reciprocal_rank(["a", "b", "c"], {"b", "c"}) == 0.5
    assert metrics.reciprocal_rank(["a", "b", "c"], {"z"}) == 0.0
    assert metrics.reciprocal_rank([str(i) for i in range(20)], {"12"}, k=10) == 0.0
    assert metrics.reciprocal_rank([str(i) for i in range(20)], {"9"}, k=10) == 0.1


def test_recall_hit_and_ndcg_on_hand_made_rankings():
    ranking = ["a", "x", "b", "y"]
    assert metrics.recall(ranking, {"a", "b", "c", "d"}, 1) == 0.25
    assert metrics.recall(ranking, {"a", "b", "c", "d"}, 10) == 0.5
    assert metrics.hit(ranking, {"b"}, 1) == 0.0 and metrics.hit(ranking, {"b"}, 3) == 1.0
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal for 2 relevant = 1 + 1/log2(3)
    assert metrics.ndcg(ranking, {"a", "b"}) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert metrics.ndcg(["a", "b"], {"a", "b"}) == 1.0
    assert metrics.ndcg(["x"], set()) == 0.0


def test_mean_metrics_averages_each_key():
    assert metrics.mean_metrics([{"mrr@10": 1.0}, {"mrr@10": 0.5}]) == {"mrr@10": 0.75}


@pytest.fixture(scope="module")
def eval_options(tmp_path_factory) -> dict:
    """The eval's settings for the four calls, with the small dev set and shared questions written out."""
    folder = tmp_path_factory.mktemp("eval")
    devset, shared = folder / "devset.jsonl", folder / "questions.jsonl"
    devset.write_text("\n".join(json.dumps(item) for item in DEVSET) + "\n")
    shared.write_text("\n".join(json.dumps(item) for item in SHARED) + "\n")
    return dict(sample=15, seed=3, index_root=folder / "indexes", devset_path=devset, shared_path=shared,
                progress=False)


@pytest.fixture(scope="module")
def eval_run(eval_options):
    """Two evals over the same slice and index folder: the first builds, the second reuses.
    Returns the plain model's index, where the baselines ran."""
    first, second = runs.evaluate(CALLS, **eval_options), runs.evaluate(CALLS, **eval_options)
    return Path(first["config"]["indexes"][BASE_MODEL]), first, second


@pytest.fixture(scope="module")
def eval_milvus(eval_options, tmp_path_factory):
    """The same two evals with `--store` a Milvus Lite file: (its spec, the first report, the second)."""
    spec = f"milvus://{tmp_path_factory.mktemp('eval-milvus') / 'eval.db'}"
    return spec, runs.evaluate(CALLS, **eval_options, store=spec), runs.evaluate(CALLS, **eval_options, store=spec)


def test_the_report_has_every_configuration_and_metric(eval_run):
    _, report, _ = eval_run
    assert list(report["results"]) == ["keyword", "dense", "hybrid", "default"]
    for result in report["results"].values():
        assert set(result) == {"mrr@10", "ndcg@10", "recall@1", "recall@10", "recall@100",
                               "seconds", "median_ms", "p95_ms", "dev", "shared"}
        assert set(result["dev"]) == {"hit@1", "hit@10", "mrr@10", "non_answers@10", "seconds"}
        assert set(result["shared"]) == {"hit@1", "hit@10", "mrr@10", "questions", "by_kind", "by_training",
                                         "no_close_match"}
        assert result["shared"]["questions"] == 2 and set(result["shared"]["by_kind"]) == {"paraphrase"}
        assert 0 <= result["mrr@10"] <= 1 and result["recall@1"] <= result["recall@10"] <= result["recall@100"]
    config = report["config"]
    assert (config["passages"], config["sample"], config["seed"]) == (54, 15, 3)
    assert (config["devset_questions"], config["devset_unmatched_quotes"], config["built"]) == (2, 1, True)
    assert config["models"] == {"keyword": BASE_MODEL, "dense": BASE_MODEL, "hybrid": BASE_MODEL,
                                "default": DEFAULT_MODEL}
    assert sorted(config["indexes"]) == sorted([BASE_MODEL, DEFAULT_MODEL])
    assert all(Path(path).parent == Path(config["indexes"][BASE_MODEL]).parent for path in config["indexes"].values())
    assert config["runs_on"]["pairs"]["default"] == {"model": DEFAULT_MODEL, "training_documents": 0}


def test_a_matching_index_is_reused_and_the_figures_repeat(eval_run):
    _, first, second = eval_run
    assert second["config"]["built"] is False
    for name in first["results"]:
        for metric in ("mrr@10", "ndcg@10", "recall@100"):
            assert second["results"][name][metric] == first["results"][name][metric]


def test_dev_relevance_matches_the_quote_whitespace_normalized(eval_run):
    index = Index.open(eval_run[0])
    found, missing = cases.dev_cases(index, DEVSET)
    assert found.relevant == {f"{OIL_BAN}#t1p5-8"}
    assert (missing.relevant, missing.unmatched) == (set(), ["no passage says this"])


def test_questions_never_reach_either_retriever(eval_run):
    """The leave-out rule: keywords and vectors come from the passage text alone, never the question."""
    index = Index.open(eval_run[0])
    runs.check_no_leakage(index)
    assert [row[1] for row in index.db.execute("PRAGMA table_info(passages_fts)")] == ["text"]
    rows = index.db.execute("SELECT text, content_hash, question FROM passages").fetchall()
    assert sum(question is not None for _, _, question in rows) == 34
    assert all(content_hash(text) == key for text, key, _ in rows)
    index.manifest.passage_settings = {"max_words": 200, "embed_input": "question + passage text"}
    with pytest.raises(IndexCorrupt, match="questions left out"):
        runs.check_no_leakage(index)


def test_a_sampled_pair_leaves_its_own_question_out(eval_run):
    """Leave-one-out: the pair's question is indexed as evidence for its answer; ranked with its question id
    left out, that copy adds nothing, so its answer scores what a new question of the same words would."""
    index = Index.open(eval_run[0])
    case = cases.sample_pairs(index, CALLS, 1, 3)[0]
    marks = ",".join("?" * len(case.relevant))
    asked = {row[0] for row in index.db.execute(
        f"SELECT question_id FROM passages WHERE passage_id IN ({marks})", sorted(case.relevant))}
    with_own = dict(index.rank(case.query, k=200))
    without = dict(index.rank(case.query, k=200, leave_out=case.leave_out))
    answer = sorted(case.relevant)[0]

    assert asked == set(case.leave_out) and len(asked) == 1
    assert with_own[answer] > without.get(answer, 0.0) + 0.05


def test_sampling_is_fixed_by_the_seed_and_stays_in_the_slice(eval_run):
    index = Index.open(eval_run[0])
    first = cases.sample_pairs(index, CALLS, 10, 3)
    assert [c.query for c in first] == [c.query for c in cases.sample_pairs(index, CALLS, 10, 3)]
    assert [c.query for c in first] != [c.query for c in cases.sample_pairs(index, CALLS, 10, 4)]
    assert all(pid.split("#")[0] in {p.stem for p in CALLS} for c in first for pid in c.relevant)
    assert all(len(c.query.split()) >= cases.MIN_QUESTION_WORDS for c in first)


def _cases(index: Index) -> list[list[tuple]]:
    """What each question set asks of an index and what it counts as relevant there."""
    found = [cases.sample_pairs(index, CALLS, 15, 3), cases.dev_cases(index, DEVSET), cases.shared_cases(index, SHARED)]
    return [[(c.query, c.relevant, c.leave_out, c.unmatched) for c in kind] for kind in found]


def test_the_eval_on_milvus_lite_asks_the_same_and_scores_alike(eval_run, eval_milvus):
    """`eval --store`: one Lite file per model beside the spec's, reused, and the same pairs, dev and shared
    cases as the local eval, scored within 0.01 (both stores rank with FTS5's BM25 and exact dense search)."""
    local_dir, local, _ = eval_run
    spec, first, second = eval_milvus
    assert (first["config"]["built"], second["config"]["built"]) == (True, False)
    assert all(path.startswith(spec.removesuffix(".db") + "-") for path in first["config"]["indexes"].values())
    assert first["config"]["passages"] == local["config"]["passages"]
    local_index, milvus_index = Index.open(local_dir), Index.open(store=first["config"]["indexes"][BASE_MODEL])
    runs.check_no_leakage(milvus_index)
    assert _cases(milvus_index) == _cases(local_index)
    for name, result in local["results"].items():
        on_milvus = first["results"][name]
        for scores, there in [(result, on_milvus), (result["dev"], on_milvus["dev"]),
                              (result["shared"], on_milvus["shared"])]:
            for metric in set(scores) & {"mrr@10", "ndcg@10", "recall@10", "recall@100", "hit@1", "hit@10"}:
                assert there[metric] == pytest.approx(scores[metric], abs=0.01), (name, metric)
    milvus_index.manifest.passage_settings = {"max_words": 200, "embed_input": "question + passage text"}
    with pytest.raises(IndexCorrupt, match="questions left out"):
        runs.check_no_leakage(milvus_index)


def test_the_eval_names_a_server_store_it_cannot_use():
    with pytest.raises(BadQuery, match="needs a Milvus Lite file"):
        runs.ensure_index([str(CALLS[0])], store="http://127.0.0.1:9")
