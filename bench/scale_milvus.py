"""bench/scale.py --store milvus: the same synthetic passages in milvus-lite, embedded in a temporary folder.

For each size: the insert rate (rows a second, in batches of BATCH, with the
text's terms and their BM25 vector when --bm25 covers the size, made as a
Milvus store's build makes them, indexer/store/bm25.py, timed apart),
then for each index type a Milvus store would use, the time to build it
(create_index and load_collection, until lite has indexed every segment; the
first one also waits for lite to compact the segments just flushed) and the
latency of one dense top-100 search (p50, p95), alone and with a date filter on
about 10% and 0.2% of the passages, with recall@10 against FLAT (exact); and the
latency of a BM25 top-100 search for a few words (the inner product of the
query's IDFs and the rows' weights, as the store searches). The text is words drawn from a
Zipf vocabulary, as long as a real passage on average (bench/scale.py's TEXT_WORDS).

milvus-lite is a single process that keeps segments of at most 100,000 rows
and indexes each on its own; it is the test stand-in, not Milvus's server, so
these figures are a floor for what one query node does, not a forecast of it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.store.bm25 import Statistics

BATCH = 10_000
DAYS = 3_650  # dates spread evenly over ten years
FILTERS = {"10%": 365, "0.2%": 7}  # date windows, in days, holding that share of the passages
INDEXES = {  # what a Milvus store would ask for, and the search parameters it would use
    "FLAT": ({}, {}),
    "IVF_FLAT": ({"nlist": 1264}, {"nprobe": 48}),  # the local store's IVF at 100,000 (a lite segment's most)
    "HNSW": ({"M": 16, "efConstruction": 200}, {"ef": 128}),
}
VOCABULARY = 50_000
ZIPF = 1.2


def measure(size: int, data: np.ndarray, queries: np.ndarray, text_words: int, bm25: bool,
            indexes: list[str]) -> dict:
    """One size's figures, in a fresh milvus-lite database that is deleted afterwards."""
    from pymilvus import MilvusClient

    folder = Path(tempfile.mkdtemp(prefix="podium-milvus-scale-"))
    try:
        client = MilvusClient(str(folder / "scale.db"))
        rng = np.random.default_rng(size)
        dates = rng.integers(0, DAYS, size)
        _create(client, bm25)
        texts = _texts(rng, size, text_words) if bm25 else None
        started = time.perf_counter()
        statistics = Statistics.of(texts, [], set()) if bm25 else None
        row = {"passages": size, "bm25": bm25,
               "insert_rows_per_s": _insert(client, data[:size], dates, texts, statistics)}
        if bm25:
            row["bm25_weights_s"] = round(time.perf_counter() - started, 1)  # statistics, weights and insert
        exact = None
        for kind in indexes:
            row[kind], found = _index_and_search(client, kind, queries, bm25)
            if kind == "FLAT":
                exact = found
            elif exact is not None:
                row[kind]["recall@10"] = {name: _recall(found[name], exact[name]) for name in found}
        if bm25:
            row["bm25_ms"] = _bm25_latency(client, rng, len(queries), statistics)
        row["disk_mb"] = round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6)
        client.close()
        return row
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _create(client, bm25: bool) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=384)
    schema.add_field("date", DataType.INT64)
    if bm25:
        schema.add_field("text", DataType.VARCHAR, max_length=8_000)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    client.create_collection("passages", schema=schema)


def _insert(client, vectors: np.ndarray, dates: np.ndarray, texts: list[str] | None,
            statistics: Statistics | None) -> float:
    """Rows a second, flushed to segments; the texts' BM25 vectors made outside the timing."""
    spent = 0.0
    for start in range(0, len(vectors), BATCH):
        stop = min(start + BATCH, len(vectors))
        rows = [{"id": i, "vector": vectors[i], "date": int(dates[i])} for i in range(start, stop)]
        for row, text in zip(rows, texts[start:stop] if texts else ()):
            row["text"], row["sparse"] = text, statistics.row_vector("passages", text)
        started = time.perf_counter()
        client.insert("passages", rows)
        spent += time.perf_counter() - started
    started = time.perf_counter()
    client.flush("passages")
    return round(len(vectors) / (spent + time.perf_counter() - started))


def _texts(rng: np.random.Generator, count: int, words: int) -> list[str]:
    ranks = (rng.zipf(ZIPF, (count, words)) - 1) % VOCABULARY
    return [" ".join(f"w{rank}" for rank in row) for row in ranks]


def _index_and_search(client, kind: str, queries: np.ndarray, bm25: bool) -> tuple[dict, dict]:
    """Build `kind` (the sparse field's index too, once), then time dense searches with and without filters."""
    build, search = INDEXES[kind]
    client.release_collection("passages")
    if "vector" in client.list_indexes("passages"):
        client.drop_index("passages", "vector")
    params = client.prepare_index_params()
    params.add_index("vector", index_type=kind, metric_type="IP", params=build)
    if bm25 and "sparse" not in client.list_indexes("passages"):
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    started = time.perf_counter()
    _create_index(client, params)
    client.load_collection("passages", timeout=None)
    figures = {"build_s": round(time.perf_counter() - started, 1), "params": build, "search": search}
    found = {}
    for name, expression in {"none": None, **{share: f"date >= 1000 and date < {1000 + days}"
                                              for share, days in FILTERS.items()}}.items():
        figures[f"ms_{name}"], found[name] = _latency(client, queries, search, expression)
    return figures, found


def _create_index(client, params) -> None:
    """The call waits while lite compacts and indexes; the client may time out and retry it, and the retry
    finds the index the first call made."""
    from pymilvus import MilvusException

    try:
        client.create_index("passages", params, timeout=None)
    except MilvusException as exc:
        if "already exists" not in str(exc):
            raise


def _latency(client, queries: np.ndarray, search: dict, expression: str | None) -> tuple[dict, list]:
    times, answers = [], []
    for query in queries:
        started = time.perf_counter()
        hits = client.search("passages", [query.tolist()], limit=100, anns_field="vector",
                             search_params={"metric_type": "IP", "params": search}, filter=expression or "")
        times.append((time.perf_counter() - started) * 1000)
        answers.append([hit["id"] for hit in hits[0]])
    return _percentiles(times), answers


def _bm25_latency(client, rng: np.random.Generator, count: int, statistics: Statistics) -> dict:
    """A BM25 top-100 for four words of middling frequency (ranks 100 to 5,000), as a question's rarer words."""
    times = []
    for _ in range(count):
        words = statistics.query_vector("passages", [f"w{rank}" for rank in rng.integers(100, 5_000, 4)])
        started = time.perf_counter()
        client.search("passages", [words], limit=100, anns_field="sparse", search_params={"metric_type": "IP"})
        times.append((time.perf_counter() - started) * 1000)
    return _percentiles(times)


def _percentiles(times: list[float]) -> dict:
    p50, p95 = np.percentile(times, [50, 95])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1)}


def _recall(found: list, exact: list) -> float:
    return round(float(np.mean([len(set(f[:10]) & set(e[:10])) / 10 for f, e in zip(found, exact)])), 4)


def format_row(row: dict) -> str:
    lines = [f"{row['passages']:>9,}  milvus-lite insert {row['insert_rows_per_s']:,} rows/s"
             f"{' (with BM25 text)' if row['bm25'] else ''}, {row['disk_mb']} MB on disk"
             + (f"; terms and BM25 vectors made and inserted in {row['bm25_weights_s']} s" if row['bm25'] else "")]
    for kind in INDEXES:
        if kind in row:
            f = row[kind]
            recall = f.get("recall@10", {})
            lines.append(f"           {kind:8} built {f['build_s']:6.1f} s | "
                         + " | ".join(f"{name} p50 {f[f'ms_{name}']['p50']:.1f} p95 {f[f'ms_{name}']['p95']:.1f} ms"
                                      + (f" r@10 {recall[name]:.3f}" if name in recall else "")
                                      for name in ("none", *FILTERS)))
    if "bm25_ms" in row:
        lines.append(f"           BM25 top-100: p50 {row['bm25_ms']['p50']:.1f} p95 {row['bm25_ms']['p95']:.1f} ms")
    return "\n".join(lines)
