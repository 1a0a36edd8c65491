"""How vector search scales past the corpus: exact (IndexFlatIP) against IVF, up to 1,000,000 passages.

Synthetic but structured vectors: unit vectors drawn around 5,000 topic
centres (cosine to their centre about 0.6, like passages on one subject), the
queries drawn the same way. For each size: the latency of one query for the
n=100 candidates a search asks FAISS for (median, 95th, 99th percentile, in
process, FAISS's 2 threads), the IVF index's build time and its recall@10
against the exact answer; and at the largest size the same with a filter (an
id selector over 10% of the passages, and a narrow one over 0.2%).

With --store milvus, the same vectors in milvus-lite instead (bench/scale_milvus.py: insert rate,
index build time, dense top-100 latency with and without a date filter, BM25 latency), at 100k, 300k
and 1M passages unless --sizes says otherwise.

    .venv/bin/python bench/scale.py                      # table + docs/scale.png
    .venv/bin/python bench/scale.py --sizes 50000,200000 --json
    .venv/bin/python bench/scale.py --store milvus       # milvus-lite, in a temporary folder
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.index import vectors as vector_index  # noqa: E402

DIMENSION = 384
TOPICS = 5_000
SPREAD = 0.045  # per-dimension noise around a topic centre: cosine to the centre about 0.6
CANDIDATES = 100
SIZES = (25_000, 50_000, 100_000, 200_000, 400_000, 700_000, 1_000_000)
MILVUS_SIZES = (100_000, 300_000, 1_000_000)
TEXT_WORDS = 102  # words in a passage on average (the 54,231 passages of all press briefings)


def synthetic(count: int, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`count` unit vectors, each near a random topic centre."""
    out = np.empty((count, DIMENSION), dtype=np.float32)
    for start in range(0, count, 100_000):
        rows = min(100_000, count - start)
        block = centres[rng.integers(0, len(centres), rows)] + rng.normal(0, SPREAD, (rows, DIMENSION))
        out[start : start + rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def latencies(index, settings: dict, queries: np.ndarray, allowed=None) -> tuple[dict, list]:
    """Per-query milliseconds (p50, p95, p99) and each query's ranked ids."""
    times, answers = [], []
    for query in queries:
        started = time.perf_counter()
        answers.append([i for i, _ in vector_index.search(index, settings, query, CANDIDATES, allowed)])
        times.append((time.perf_counter() - started) * 1000)
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "p99": round(float(p99), 2)}, answers


def recall_at_10(found: list, exact: list) -> float:
    return float(np.mean([len(set(f[:10]) & set(e[:10])) / 10 for f, e in zip(found, exact)]))


def measure(size: int, data: np.ndarray, queries: np.ndarray, filtered: bool) -> dict:
    flat_settings = {"faiss_index": "IndexFlatIP"}
    flat = vector_index.build(data[:size], flat_settings)
    row = {"passages": size}
    row["flat_ms"], exact = latencies(flat, flat_settings, queries)
    ivf_settings = vector_index.settings_for(size, exact_limit=0)
    started = time.perf_counter()
    ivf = vector_index.build(data[:size], ivf_settings)
    row["ivf_build_s"] = round(time.perf_counter() - started, 1)
    row["ivf"] = {k: v for k, v in ivf_settings.items() if k != "faiss_index"}
    row["ivf_ms"], found = latencies(ivf, ivf_settings, queries)
    row["ivf_recall@10"] = round(recall_at_10(found, exact), 4)
    if filtered:
        row["filtered"] = filtered_rows(flat, flat_settings, ivf, ivf_settings, queries, size)
    return row


def filtered_rows(flat, flat_settings, ivf, ivf_settings, queries, size: int) -> dict:
    rng = np.random.default_rng(7)
    out = {}
    for name, share in (("10%", 0.10), ("0.2%", 0.002)):
        allowed = np.sort(rng.choice(size, int(size * share), replace=False)).astype(np.int64)
        flat_ms, exact = latencies(flat, flat_settings, queries, allowed)
        ivf_ms, found = latencies(ivf, ivf_settings, queries, allowed)
        out[name] = {"flat_ms": flat_ms, "ivf_ms": ivf_ms, "ivf_recall@10": round(recall_at_10(found, exact), 4)}
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["passages"] for r in rows]
    figure, axis = plt.subplots(figsize=(7, 4.2), dpi=120)
    for key, label, style in (("flat_ms", "exact (IndexFlatIP)", "o-"), ("ivf_ms", "IVF (IndexIVFFlat)", "s-")):
        axis.plot(sizes, [r[key]["p95"] for r in rows], style, label=f"{label}, p95")
        axis.plot(sizes, [r[key]["p50"] for r in rows], style, alpha=0.4, label=f"{label}, median")
    axis.axhline(50, color="grey", linestyle="--", linewidth=1, label="50 ms target (p95, hybrid)")
    axis.axvline(vector_index.EXACT_LIMIT, color="tab:red", linestyle=":", linewidth=1, label="switch to IVF")
    axis.set_xlabel("passages")
    axis.set_ylabel("ms per query (100 candidates)")
    axis.set_title("Vector search latency by index size, 2 cores")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated passage counts")
    parser.add_argument("--queries", type=int, default=300, help="queries per measurement (default 300)")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "scale.png", help="where to save the curve")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--store", choices=("local", "milvus"), default="local",
                        help="FAISS as the local store uses it (default), or milvus-lite")
    parser.add_argument("--bm25-up-to", type=int, default=300_000,
                        help="with --store milvus: give passages text and time BM25 up to this size")
    parser.add_argument("--indexes", default="FLAT,IVF_FLAT,HNSW", help="with --store milvus: index types")
    args = parser.parse_args()
    if args.store == "milvus" and args.sizes == parser.get_default("sizes"):
        args.sizes = ",".join(map(str, MILVUS_SIZES))
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 1, (TOPICS, DIMENSION)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    data = synthetic(sizes[-1], centres, rng)
    queries = synthetic(args.queries, centres, rng)
    if args.store == "milvus":
        return milvus_main(sizes, data, queries, args)
    rows = []
    for size in sizes:
        rows.append(measure(size, data, queries, filtered=size == sizes[-1]))
        if not args.json:
            print(format_row(rows[-1]), flush=True)
    plot(rows, args.plot)
    result = {"exact_limit": vector_index.EXACT_LIMIT, "queries": args.queries, "candidates": CANDIDATES, "rows": rows}
    print(json.dumps(result, indent=2) if args.json else f"plot: {args.plot}")


def milvus_main(sizes: list[int], data: np.ndarray, queries: np.ndarray, args) -> None:
    import scale_milvus

    rows = []
    for size in sizes:
        rows.append(scale_milvus.measure(size, data, queries, TEXT_WORDS, bm25=size <= args.bm25_up_to,
                                         indexes=args.indexes.split(",")))
        if not args.json:
            print(scale_milvus.format_row(rows[-1]), flush=True)
    result = {"store": "milvus-lite", "queries": args.queries, "candidates": CANDIDATES, "text_words": TEXT_WORDS,
              "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))


def format_row(row: dict) -> str:
    text = (f"{row['passages']:>9,}  exact p50 {row['flat_ms']['p50']:7.2f} p95 {row['flat_ms']['p95']:7.2f} ms | "
            f"IVF {row['ivf']} p50 {row['ivf_ms']['p50']:6.2f} p95 {row['ivf_ms']['p95']:6.2f} ms, "
            f"recall@10 {row['ivf_recall@10']:.3f}, built in {row['ivf_build_s']} s")
    for name, f in row.get("filtered", {}).items():
        text += (f"\n           filter {name}: exact p95 {f['flat_ms']['p95']:.2f} ms | IVF p95 {f['ivf_ms']['p95']:.2f} "
                 f"ms, recall@10 {f['ivf_recall@10']:.3f}")
    return text


if __name__ == "__main__":
    main()
