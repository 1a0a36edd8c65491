"""Embedding and building on Ray (`build --engine ray`) against in process, on this machine.

1. Embedding: bench/encoders.py's fixed sample of real passages, embedded by
   the default encoder in process and by the Ray engine on a Ray started here
   with --cpus CPUs (its start timed apart; the actors' model loads are inside
   the Ray figure, as in a build): passages a second, and the largest
   difference between the two sets of vectors.
2. Build: the tests' slice (30 documents, 772 passages) built from scratch
   both ways, in seconds, the Ray build including Ray's start.

    .venv/bin/python bench/ray_build.py             # 2 CPUs
    .venv/bin/python bench/ray_build.py --cpus 2 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.encoders import load_sample, machine  # noqa: E402
from corpus_slices import slice_files  # noqa: E402
from indexer.compute import LocalEngine  # noqa: E402
from indexer.compute.ray_data import RayEngine  # noqa: E402
from indexer.embedding.embedder import Embedder  # noqa: E402
from indexer.index.build import build_index  # noqa: E402


def timed(work) -> tuple[object, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def measure_embedding(cpus: int) -> dict:
    import ray

    texts, _ = load_sample()
    embedder = Embedder()
    embedder.encode(texts[:8])
    here, here_s = timed(lambda: embedder.encode(texts))
    _, start_s = timed(lambda: ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                                        logging_level=logging.ERROR))
    try:
        on_ray, ray_s = timed(lambda: RayEngine().embed(embedder, texts, progress=False))
    finally:
        ray.shutdown()
    return {"passages": len(texts), "cpus": cpus, "here_per_s": round(len(texts) / here_s, 1),
            "ray_per_s": round(len(texts) / ray_s, 1), "ray_start_s": round(start_s, 1),
            "max_abs_difference": float(np.abs(here - on_ray).max())}


def measure_build(cpus: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="podium-ray-bench-") as folder:
        here, here_s = timed(lambda: build_index(slice_files(), Path(folder) / "here", progress=False,
                                                 engine=LocalEngine()))

        def on_ray():
            with RayEngine(num_cpus=cpus) as engine:
                return build_index(slice_files(), Path(folder) / "ray", progress=False, engine=engine)

        _, ray_s = timed(on_ray)
    return {"documents": here.documents, "passages": here.passages, "embedded": here.embedded,
            "here_s": round(here_s, 1), "ray_s": round(ray_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the Ray started here (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = {"machine": machine(), "embedding": measure_embedding(args.cpus), "build": measure_build(args.cpus)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    e, b = result["embedding"], result["build"]
    print(f"embedding {e['passages']} passages: {e['here_per_s']}/s in process, {e['ray_per_s']}/s on Ray "
          f"({e['cpus']} CPUs; Ray started in {e['ray_start_s']} s); largest difference {e['max_abs_difference']}")
    print(f"build of {b['documents']} documents ({b['passages']} passages, {b['embedded']} texts embedded): "
          f"{b['here_s']} s in process, {b['ray_s']} s on Ray, its start included")


if __name__ == "__main__":
    main()
