"""The FAISS side of an index: exact search while it is fast enough, IVF beyond, chosen by size.

Below `EXACT_LIMIT` vectors an `IndexFlatIP` scans every vector (exact, no
training). From there on an `IndexIVFFlat` with `nlist` = 4 x sqrt(n) lists
and `nprobe` lists searched per query keeps latency flat; bench/scale.py
measured where the exact scan stops meeting the latency target and the
recall of IVF against exact search (docs/benchmarks.md). The kind and its
parameters are recorded in the manifest.

Filters: a filtered search over an IVF index scores the allowed vectors
exactly when they are few (a narrow filter must still find its k), and
searches the probed lists with an id selector when they are many.

A query runs on one thread: with two cores shared by a server's other
requests, FAISS's OpenMP threads wait for each other (one query over 72,000
vectors took 32 ms on two threads and 8 ms on one, on a busy machine).
Building uses every core.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

from ..errors import IndexCorrupt
from .layout import VECTORS, rebuild_hint

EXACT_LIMIT = 200_000
NPROBE = 48
EXACT_SUBSET = 50_000
TRAINING_PER_LIST = 64
QUESTION_SETTINGS = {"faiss_index": "IndexFlatIP"}  # questions.faiss is searched exactly, at every size


def settings_for(count: int, exact_limit: int | None = None) -> dict:
    """The index kind and parameters for `count` vectors, as recorded in the manifest."""
    if count < (EXACT_LIMIT if exact_limit is None else exact_limit):
        return {"faiss_index": "IndexFlatIP"}
    nlist = 4 * int(math.sqrt(count))
    return {"faiss_index": "IndexIVFFlat", "nlist": nlist, "nprobe": NPROBE}


def build(vectors: np.ndarray, settings: dict, seed: int = 1) -> faiss.Index:
    """A FAISS index over unit `vectors` (row i gets id i) of the kind `settings` names."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    dimension = vectors.shape[1]
    if settings["faiss_index"] == "IndexFlatIP":
        index = faiss.IndexFlatIP(dimension)
        index.add(vectors)
        return index
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, settings["nlist"], faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).permutation(len(vectors))[: settings["nlist"] * TRAINING_PER_LIST]
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.make_direct_map()
    return index


def write_vectors(version: Path, vectors: np.ndarray, settings: dict, name: str = VECTORS) -> None:
    """The version's vectors.faiss (or another vector file `name`), of the kind `settings` names; written
    through a Python file, so a full or read-only disk is an OSError (indexer/index/storage.py)."""
    with open(version / name, "wb") as handle:
        faiss.write_index(build(vectors, settings), faiss.PyCallbackIOWriter(handle.write))


def load_vectors(version: Path, expected: int, name: str = VECTORS) -> faiss.Index:
    """The version's vectors.faiss (or `name`), which must hold one vector for each of `expected` rows."""
    path = version / name
    if not path.is_file():
        raise IndexCorrupt(f"{path} is missing; {rebuild_hint(version)}")
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorrupt(f"{path} is damaged; {rebuild_hint(version)}") from exc
    if index.ntotal != expected:
        raise IndexCorrupt(
            f"{path} holds {index.ntotal} vectors for {expected} rows; {rebuild_hint(version)}"
        )
    return index


def search(index: faiss.Index, settings: dict, query: np.ndarray, n: int,
           allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The n best (id, inner product) for a unit `query`, among `allowed` ids if given (sorted int64)."""
    limit = index.ntotal if allowed is None else len(allowed)
    n = min(n, limit)
    if n == 0:
        return []
    faiss.omp_set_num_threads(1)
    if settings.get("faiss_index", "IndexFlatIP") == "IndexFlatIP":
        params = None if allowed is None else faiss.SearchParameters(sel=_selector(allowed, index.ntotal))
        return _pairs(*index.search(query[None, :], n, params=params))
    if allowed is not None and len(allowed) <= EXACT_SUBSET:
        return _exact_among(index, query, n, allowed)
    selector = None if allowed is None else _selector(allowed, index.ntotal)
    params = faiss.SearchParametersIVF(sel=selector, nprobe=settings.get("nprobe", NPROBE))
    return _pairs(*index.search(query[None, :], n, params=params))


def _selector(allowed: np.ndarray, total: int) -> faiss.IDSelector:
    """A bitmap of the allowed ids: one bit test per vector (a hash set of ids, IDSelectorBatch, took 10 ms
    a query for 20,000 ids in 200,000, the bitmap 0.5 ms)."""
    mask = np.zeros(total, dtype=bool)
    mask[allowed] = True
    bits = np.packbits(mask, bitorder="little")
    selector = faiss.IDSelectorBitmap(total, faiss.swig_ptr(bits))
    selector.bits_owner = bits  # FAISS keeps only a pointer: the array lives as long as the selector
    return selector


def _exact_among(index: faiss.Index, query: np.ndarray, n: int, allowed: np.ndarray) -> list[tuple[int, float]]:
    scores = index.reconstruct_batch(allowed) @ query
    top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(allowed[i]), float(scores[i])) for i in top]


def _pairs(scores: np.ndarray, ids: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
