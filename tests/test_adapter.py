"""The default model, all-MiniLM-L6-v2 adapted to briefings: its weight arithmetic, the cached adapted
copy, its vectors on held-out pairs, and the eval falling back to the plain model for answers it learned from."""

import numpy as np
import pytest

from corpus_slices import background_calls_march
from indexer.embedding import adapter
from indexer.ingest.corpus import read_corpus
from indexer.embedding.embedder import BASE_MODEL, DEFAULT_MODEL, Embedder, ModelUnavailable, model_folder, model_name
from indexer.evaluation.cases import Case, answer_documents, read_devset
from indexer.evaluation.runs import model_for

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
    assert meta["base_model"] == BASE_MODEL and meta["held_out"] == "2022"
    documents = adapter.trained_documents()
    assert len(documents) > 500
    assert not any(doc.startswith("2022-") for doc in documents)


def test_the_default_model_is_the_adapted_copy_and_the_plain_model_stays_selectable():
    assert DEFAULT_MODEL == f"{BASE_MODEL}+{adapter.name()}" and adapter.name().startswith("briefings-")
    assert model_name(None) == model_name("default") == Embedder().name == DEFAULT_MODEL
    assert model_name("sentence-transformers/all-MiniLM-L6-v2") == Embedder(BASE_MODEL).name == BASE_MODEL
    assert model_folder(None) == str(adapter.adapted_folder(model_folder(BASE_MODEL)))


def test_the_adapted_model_is_made_once_and_differs_only_in_the_adapted_layers():
    from safetensors.numpy import load_file

    base = model_folder(BASE_MODEL)
    folder = adapter.adapted_folder(base)
    assert adapter.adapted_folder(base) == folder
    before, after = load_file(f"{base}/model.safetensors"), load_file(str(folder / "model.safetensors"))
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    assert changed and all(name.endswith(".weight") and ".layer." in name for name in changed)
    assert (folder / "tokenizer.json").read_bytes() == (adapter.Path(base) / "tokenizer.json").read_bytes()


def test_the_adapted_model_ranks_held_out_answers_higher_than_the_plain_model():
    """On real pairs the adapter never saw (March 2022 calls), with each model embedding both sides,
    a question's own answer ranks higher among the answers."""
    corpus = read_corpus(background_calls_march(), progress=False)
    pairs = {}
    for passage in corpus.passages:
        if passage.question and len(passage.question.split()) >= 12:
            pairs.setdefault(passage.question, passage.text)
    assert len(pairs) >= 30

    def mean_rank_of_own_answer(embedder: Embedder) -> float:
        scores = embedder.encode(list(pairs)) @ embedder.encode(list(pairs.values())).T
        return float(np.mean([(row > row[i]).sum() for i, row in enumerate(scores)]))

    assert mean_rank_of_own_answer(Embedder()) < mean_rank_of_own_answer(Embedder(BASE_MODEL))


def test_the_eval_runs_the_default_on_the_plain_model_for_answers_in_the_training_documents():
    trained = sorted(adapter.trained_documents())[0]
    held_out = Case(query=QUESTION, relevant={"2022-03-08-a-briefing#t4p0-2"}, id="2022-03-08-a-briefing:0")
    seen = Case(query=QUESTION, relevant={f"{trained}#t9p1-1", f"{trained}#t9p2-2"}, id="dev-7")
    assert answer_documents([held_out, seen]) == {"2022-03-08-a-briefing", trained}
    assert model_for(DEFAULT_MODEL, answer_documents([held_out])) == {"model": DEFAULT_MODEL, "training_documents": 0}
    assert model_for(DEFAULT_MODEL, answer_documents([held_out, seen])) == {"model": BASE_MODEL, "training_documents": 1}
    assert model_for(BASE_MODEL, answer_documents([held_out, seen])) == {"model": BASE_MODEL, "training_documents": 0}


def test_the_dev_set_runs_the_default_on_the_plain_model():
    """Its judged documents span 2021-2024, so some are ones the adapter learned from."""
    judged = {r["doc_id"] for item in read_devset() for r in item["relevant"]}
    assert judged & adapter.trained_documents()
    assert model_for(DEFAULT_MODEL, judged)["model"] == BASE_MODEL


def test_a_cache_that_cannot_hold_the_adapted_copy_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PODIUM_CACHE", str(blocker / "cache"))
    with pytest.raises(ModelUnavailable, match="set PODIUM_CACHE to a writable folder"):
        Embedder().encode(["air defense for Ukraine"])


def test_an_index_of_an_earlier_adapter_asks_for_a_rebuild():
    with pytest.raises(ModelUnavailable, match="earlier adaptation of the default model.*rebuild it"):
        model_folder(f"{BASE_MODEL}+briefings-00000000")
