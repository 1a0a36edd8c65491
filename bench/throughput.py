"""Indexing speed, query latency and serving memory, measured in one run on this machine.

1. Embedding: the fixed sample of real passages of bench/encoders.py (2,236),
   plain sentence-transformers fp32 (batch 32, the baseline) against the
   project's default encoder, in interleaved rounds; cosine between the two.
2. Build: every press briefing but the newest into a fresh index (a
   subprocess: seconds, passages, peak memory), then the newest added
   (seconds: the daily case).
3. Queries: 1,000 real reporter questions, sampled with a fixed seed from the
   index, in process, for dense, keyword, hybrid, and hybrid with a filter
   (one year), each with the default tuning and no question vector cached:
   median, 95th and 99th percentile in ms.
4. Serving memory: a fresh process that opens the index, loads the model and
   answers a few questions; its resident memory.

    .venv/bin/python bench/throughput.py                 # table
    .venv/bin/python bench/throughput.py --json
    .venv/bin/python bench/throughput.py --index /tmp/bench/pb-index --skip-build   # reuse a built index
    .venv/bin/python bench/throughput.py --skip-build --skip-embed                  # queries and memory only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["HF_HUB_OFFLINE"] = "1"

from bench.encoders import SentenceTransformerEncoder, load_sample, machine  # noqa: E402
from indexer.embedding.embedder import Embedder, model_folder  # noqa: E402
from indexer.search import Filters, Index  # noqa: E402

BRIEFINGS = ROOT.parent / "shared" / "corpus" / "whitehouse" / "press-briefings"
QUESTIONS = 1000
ROUNDS = 2
FILTER = Filters(since="2022", until="2022")

SERVE = textwrap.dedent("""
    import json, sys, psutil
    from indexer.search import Index
    index = Index.open(sys.argv[1])
    for question in sys.argv[2:]:
        index.search(question)
    print(json.dumps({"rss_mb": psutil.Process().memory_info().rss / 1e6}))
""")


def measure_embedding(log) -> dict:
    """Passages per second of the baseline and the default over the same sample, and their agreement."""
    texts, _ = load_sample()
    baseline = SentenceTransformerEncoder(model_folder(None), batch_size=32)
    default = Embedder()
    default.encode(texts[:8])
    engines = {"baseline": baseline.encode, "default": default.encode}
    seconds = {name: 0.0 for name in engines}
    vectors = {name: [] for name in engines}
    for round_texts in np.array_split(np.arange(len(texts)), ROUNDS):
        chunk = [texts[i] for i in round_texts]
        for name, encode in engines.items():
            started = time.perf_counter()
            vectors[name].append(encode(chunk))
            seconds[name] += time.perf_counter() - started
    cosines = np.sum(np.concatenate(vectors["baseline"]) * np.concatenate(vectors["default"]), axis=1)
    result = {
        "passages": len(texts),
        "default_encoder": default.encoder,
        "baseline_per_s": round(len(texts) / seconds["baseline"], 1),
        "default_per_s": round(len(texts) / seconds["default"], 1),
        "cos_mean": round(float(cosines.mean()), 5),
        "cos_min": round(float(cosines.min()), 5),
    }
    result["speedup"] = round(result["default_per_s"] / result["baseline_per_s"], 2)
    log(f"embed: {result}")
    return result


def measure_build(index_dir: Path, log) -> dict:
    """All press briefings but the newest, then the newest added."""
    files = sorted(BRIEFINGS.rglob("*.md"))
    staging = Path(tempfile.mkdtemp(prefix="podium-briefings-"))
    for path in files[:-1]:
        target = staging / path.relative_to(BRIEFINGS)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(path, target)
    shutil.rmtree(index_dir, ignore_errors=True)
    first = run_build([staging], index_dir)
    target = staging / files[-1].relative_to(BRIEFINGS)
    os.symlink(files[-1], target)
    second = run_build([staging], index_dir)
    shutil.rmtree(staging)
    result = {"seconds": first["seconds"], "files": len(files) - 1, "passages": first["passages"],
              "embedded": first["embedded"], "peak_rss_mb": first["peak_rss_mb"],
              "add_one_seconds": second["seconds"], "add_one_embedded": second["embedded"]}
    log(f"build: {result}")
    return result


def run_build(paths: list[Path], index_dir: Path) -> dict:
    """One `indexer build` process: seconds, counts, and its peak resident memory, sampled every 0.2 s
    (not ru_maxrss, which on Linux starts from this process's size at fork)."""
    command = [sys.executable, "-m", "indexer", "build", *map(str, paths), "--index", str(index_dir)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, psutil.Process(process.pid).memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if process.wait() != 0:
        raise RuntimeError(f"build failed with exit code {process.returncode}")
    summary = process.stdout.read().splitlines()
    passages = int(summary[0].split(" documents, ")[1].split()[0])
    embedded = int(summary[2].split("prompts: ")[1].split()[0])
    return {"seconds": round(seconds, 1), "passages": passages, "embedded": embedded, "peak_rss_mb": round(peak / 1e6)}


def sample_questions(index: Index, count: int, seed: int = 0) -> list[str]:
    rows = index.db.execute("SELECT DISTINCT question FROM passages WHERE question IS NOT NULL").fetchall()
    questions = sorted(row[0] for row in rows if len(row[0].split()) >= 4)
    return random.Random(seed).sample(questions, min(count, len(questions)))


def measure_queries(index_dir: Path, log) -> dict:
    index = Index.open(index_dir)
    questions = sample_questions(index, QUESTIONS)
    for question in questions[:20]:
        index.search(question)
    runs = {"dense": dict(mode="dense"), "keyword": dict(mode="keyword"), "hybrid": dict(mode="hybrid"),
            "hybrid_filtered": dict(mode="hybrid", filters=FILTER)}
    result = {}
    for name, options in runs.items():
        times = []
        for question in questions:
            index.__dict__.pop("_vector_cache", None)  # every mode pays for embedding its question
            started = time.perf_counter()
            index.search(question, **options)
            times.append((time.perf_counter() - started) * 1000)
        p50, p95, p99 = np.percentile(times, [50, 95, 99])
        result[name] = {"p50": round(float(p50), 1), "p95": round(float(p95), 1), "p99": round(float(p99), 1)}
        log(f"query {name}: {result[name]}")
    result["questions"] = len(questions)
    result["filter"] = "since 2022, until 2022"
    return result


def measure_serving(index_dir: Path, log) -> float:
    questions = ["air defense for Ukraine", "baby formula shortage", "gas prices",
                 "Can you say what the administration is doing about gas prices, and when the President will "
                 "speak to it, and whether the White House expects Congress to act on it this week?"]
    done = subprocess.run([sys.executable, "-c", SERVE, str(index_dir), *questions], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    rss = round(json.loads(done.stdout.splitlines()[-1])["rss_mb"])
    log(f"serve: {rss} MB")
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/bench/pb-index"), help="index directory to build")
    parser.add_argument("--skip-build", action="store_true", help="measure an index already built at --index")
    parser.add_argument("--skip-embed", action="store_true", help="leave out the embedding comparison")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args()
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    result = {"machine": machine(), "load_before": os.getloadavg()}
    if not args.skip_embed:
        result["embed"] = measure_embedding(log)
    if not args.skip_build:
        result["build"] = measure_build(args.index, log)
    result["query_ms"] = measure_queries(args.index, log)
    result["serve_rss_mb"] = measure_serving(args.index, log)
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2) if args.json else f"load before {result['load_before']}, "
          f"after {result['load_after']}")


if __name__ == "__main__":
    main()
