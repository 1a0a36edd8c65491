"""The question adapter: its weight arithmetic, the cached adapted model, the question vectors it gives,
and the eval turning it off for questions it learned from."""

import numpy as np
import pytest

from corpus_slices import background_calls_march
from indexer import adapter
from indexer.corpus import read_corpus
from indexer.embed import Embedder
from indexer.evaluate import Case, adapter_status, answer_documents

QUESTION = "Can you tell us what the administration is doing to bring down gas prices for American families?"


def test_an_adapted_layer_gains_its_low_rank_change_and_the_rest_is_untouched():
    rng = np.random.default_rng(0)
    weights = {"layer.query.weight": rng.normal(size=(4, 3)).astype(np.float32),
               "layer.query.bias": np.zeros(4, np.float32), "other.weight": np.ones((2, 2), np.float32)}
    a, b = rng.normal(size=(2, 3)).astype(np.float16), rng.normal(size=(4, 2)).astype(np.float16)
    merged = adapter.merged_weights(weights, {"layer.query.A": a, "layer.query.B": b})
    assert np.allclose(merged["layer.query.weight"], weights["layer.query.weight"] + b.astype(np.float32) @ a.astype(np.float32))
    assert merged["other.weight"] is weights["other.weight"] and merged["layer.query.bias"] is weights["layer.query.bias"]


def test_the_shipped_adapter_names_its_base_model_and_its_training_documents():
    meta = adapter.metadata()
    assert meta["base_model"] == "all-MiniLM-L6-v2" and meta["held_out"] == "2022"
    documents = adapter.trained_documents()
    assert len(documents) > 500
    assert not any(doc.startswith("2022-") for doc in documents)


def test_the_adapted_model_is_made_once_and_differs_only_in_the_adapted_layers():
    from safetensors.numpy import load_file

    base = Embedder()._location
    folder = adapter.adapted_folder(base)
    assert adapter.adapted_folder(base) == folder
    before, after = load_file(f"{base}/model.safetensors"), load_file(str(folder / "model.safetensors"))
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    assert changed and all(name.endswith(".weight") and ".layer." in name for name in changed)
    assert (folder / "tokenizer.json").read_bytes() == (adapter.Path(base) / "tokenizer.json").read_bytes()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_an_adapted_question_vector_moves_towards_its_answer(embedder):
    """On real pairs held out from training (March 2022 calls), the adapted question is nearer its own
    answer, relative to the other answers, more often than not."""
    corpus = read_corpus(background_calls_march(), progress=False)
    pairs = {}
    for passage in corpus.passages:
        if passage.question and len(passage.question.split()) >= 12:
            pairs.setdefault(passage.question, passage.text)
    questions, answers = list(pairs), embedder.encode(list(pairs.values()))
    plain = np.stack([embedder.encode_query(q) for q in questions])
    adapted = np.stack([embedder.encode_query(q, adapted=True) for q in questions])
    assert 0.5 < float(np.mean(np.sum(plain * adapted, axis=1))) < 0.99

    def rank_of_own_answer(vectors):
        scores = vectors @ answers.T
        return np.array([(row > row[i]).sum() for i, row in enumerate(scores)])

    assert len(questions) >= 30
    assert rank_of_own_answer(adapted).mean() < rank_of_own_answer(plain).mean()


def test_another_model_has_no_adapter(tmp_path):
    assert Embedder().adapter == adapter.name()
    assert Embedder(str(tmp_path)).adapter is None


class _Index:
    embedder = Embedder()


def test_the_eval_turns_the_adapter_off_for_answers_in_its_training_documents():
    trained = sorted(adapter.trained_documents())[0]
    held_out = Case(query=QUESTION, relevant={"2022-03-08-a-briefing#t4p0-2"}, id="2022-03-08-a-briefing:0")
    seen = Case(query=QUESTION, relevant={f"{trained}#t9p1-1", f"{trained}#t9p2-2"}, id="dev-7")
    assert answer_documents([held_out, seen]) == {"2022-03-08-a-briefing", trained}
    assert adapter_status(_Index(), answer_documents([held_out]))["used"] is True
    status = adapter_status(_Index(), answer_documents([held_out, seen]))
    assert status == {"name": adapter.name(), "used": False, "training_documents": 1}


def test_the_dev_set_runs_without_the_adapter():
    """Its judged documents span 2021-2024, so some are ones the adapter learned from."""
    from indexer.evaluate import read_devset

    judged = {r["doc_id"] for item in read_devset() for r in item["relevant"]}
    assert judged & adapter.trained_documents()
