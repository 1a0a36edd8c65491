"""The vector index kind follows the index size: exact below EXACT_LIMIT, IVF above, recorded in the manifest."""

import json

import numpy as np
import pytest

from corpus_slices import slice_files
from indexer.index import vectors as vector_index
from indexer.index.build import build_index
from indexer.search import Filters, Index

pytest_plugins = ["index_fixtures"]


def clustered(count: int, seed: int = 3) -> np.ndarray:
    """Unit vectors around 200 topic centres, like passages on shared subjects."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (200, 64))
    points = centres[rng.integers(0, 200, count)] + rng.normal(0, 0.09, (count, 64))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    vectors = clustered(20_000)
    queries = clustered(50, seed=4)
    flat_settings = vector_index.settings_for(len(vectors))
    ivf_settings = vector_index.settings_for(len(vectors), exact_limit=0)
    return (vectors, queries, vector_index.build(vectors, flat_settings), flat_settings,
            vector_index.build(vectors, ivf_settings), ivf_settings)


def test_exact_below_the_limit_and_ivf_from_it():
    assert vector_index.settings_for(vector_index.EXACT_LIMIT - 1) == {"faiss_index": "IndexFlatIP"}
    assert vector_index.settings_for(1_000_000) == {"faiss_index": "IndexIVFFlat", "nlist": 4000,
                                                     "nprobe": vector_index.NPROBE}


def test_ivf_finds_what_exact_search_finds(data):
    vectors, queries, flat, flat_settings, ivf, ivf_settings = data
    recall = np.mean([
        len({i for i, _ in vector_index.search(ivf, ivf_settings, q, 10)}
            & {i for i, _ in vector_index.search(flat, flat_settings, q, 10)}) / 10
        for q in queries
    ])

    assert recall >= 0.95


@pytest.mark.parametrize("share", [0.001, 0.2], ids=["narrow: exact among the allowed", "broad: selector"])
def test_a_filtered_ivf_search_returns_only_allowed_ids_and_enough_of_them(data, share):
    vectors, queries, flat, flat_settings, ivf, ivf_settings = data
    allowed = np.sort(np.random.default_rng(5).choice(len(vectors), int(len(vectors) * share), replace=False))

    for query in queries[:10]:
        found = vector_index.search(ivf, ivf_settings, query, 10, allowed)
        exact = vector_index.search(flat, flat_settings, query, 10, allowed)
        assert len(found) == 10 and {i for i, _ in found} <= set(allowed.tolist())
        if share < 0.01:
            assert [i for i, _ in found] == [i for i, _ in exact]


def test_a_real_build_past_the_limit_records_ivf_and_answers(slice_dir, tmp_path, monkeypatch):
    """The slice rebuilt (reusing its vectors) with the limit lowered to 500 passages."""
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(slice_dir, copy, symlinks=True)
    monkeypatch.setattr(vector_index, "EXACT_LIMIT", 500)
    report = build_index(slice_files(), copy, progress=False)
    manifest = json.loads((copy / "current" / "manifest.json").read_text())
    ivf, flat = Index.open(copy), Index.open(slice_dir)
    question = "What are the sanctions on Russian banks?"
    psaki = Filters(speakers=("Psaki",))

    assert report.embedded == 0
    assert (manifest["faiss_index"], manifest["nlist"], manifest["nprobe"]) == ("IndexIVFFlat", 108, vector_index.NPROBE)
    assert ivf.store.vectors.nlist == 108
    top = [r.passage_id for r in ivf.search(question, k=5, mode="dense")]
    assert top[:3] == [r.passage_id for r in flat.search(question, k=5, mode="dense")][:3]
    assert [r.passage_id for r in ivf.search(question, k=5, filters=psaki, mode="dense")] == [
        r.passage_id for r in flat.search(question, k=5, filters=psaki, mode="dense")]
