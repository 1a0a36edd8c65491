"""Compare passage encoders on a fixed sample of real press-briefing passages.

Every variant embeds the same passages in the same run; the baseline is plain
sentence-transformers fp32 (batch 32, chunks of 512, as `Embedder` used to do).
The sample is split into rounds, and each round runs every variant on its own
slice in a rotated order, so a load that comes and goes (another build on the
same cores) falls on every variant alike. Reported per variant: passages/s over
all rounds, speedup over the baseline, cosine of each vector with the
baseline's (mean, min), and how many of the baseline's 10 nearest passages
each question still finds (nn@10), for the reporters' questions in the sample.

    .venv/bin/python bench/encoders.py                 # all variants, table
    .venv/bin/python bench/encoders.py --json          # the same as JSON
    .venv/bin/python bench/encoders.py --variants torch-fp32,onnx-int8
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from indexer.build import embed_input  # noqa: E402
from indexer.corpus import read_corpus  # noqa: E402
from indexer.embed import resolve_model  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "whitehouse" / "press-briefings"
MONTHS = ("2021-05", "2022-03", "2023-03", "2024-03")
STEP = 3  # every third passage of those months: 2,229 passages
QUESTIONS = 200  # at most this many distinct reporter questions, spread over the sample
BASELINE = "torch-fp32"


def load_sample(limit: int | None = None) -> tuple[list[str], list[str]]:
    """(passage texts, distinct reporter questions) from the fixed sample months."""
    corpus = read_corpus([CORPUS / m for m in MONTHS], progress=False)
    passages = corpus.passages[::STEP][:limit]
    questions = sorted({p.question for p in passages if p.question and len(p.question.split()) >= 5})
    questions = questions[:: max(1, len(questions) // QUESTIONS)][:QUESTIONS]
    return [embed_input(p) for p in passages], questions


class SentenceTransformerEncoder:
    """Plain sentence-transformers on torch, fp32; `chunk` texts per encode call."""

    def __init__(self, folder: str, batch_size: int = 32, chunk: int | None = 512, threads: int | None = None):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(folder, device="cpu")
        self.batch_size, self.chunk, self.threads = batch_size, chunk, threads

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        before = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            step = self.chunk or len(texts)
            parts = [
                self.model.encode(texts[i : i + step], batch_size=self.batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True)
                for i in range(0, len(texts), step)
            ]
        finally:
            torch.set_num_threads(before)
        return np.concatenate(parts).astype(np.float32)


@dataclass
class Variant:
    name: str
    description: str
    make: Callable[[str, Path], object]  # (model folder, work dir) -> object with .encode(texts)


def _variants() -> list[Variant]:
    st = SentenceTransformerEncoder
    return [
        Variant(BASELINE, "sentence-transformers fp32, batch 32, chunks of 512",
                lambda folder, work: st(folder)),
        Variant("torch-fp32-b16-all", "sentence-transformers fp32, batch 16, one call (global length sort)",
                lambda folder, work: st(folder, batch_size=16, chunk=None)),
        Variant("torch-fp32-b64-all", "sentence-transformers fp32, batch 64, one call (global length sort)",
                lambda folder, work: st(folder, batch_size=64, chunk=None)),
        Variant("torch-fp32-1thread", "sentence-transformers fp32, batch 32, torch.set_num_threads(1)",
                lambda folder, work: st(folder, threads=1)),
    ]


VARIANTS = {v.name: v for v in _variants()}


@dataclass
class Measured:
    variant: Variant
    encoder: object
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    round_rates: list[float] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)


def run(names: list[str], texts: list[str], rounds: int, work: Path, log=print) -> list[Measured]:
    """Time every variant on every round's slice, rotating which variant goes first."""
    _, folder = resolve_model(None)
    measured = []
    for name in names:
        log(f"loading {name} ...")
        variant = VARIANTS[name]
        encoder = variant.make(folder, work)
        encoder.encode(texts[:32])  # warm-up: first-call allocations and lazy init are not measured
        measured.append(Measured(variant, encoder))
    bounds = np.linspace(0, len(texts), rounds + 1).astype(int)
    for r in range(rounds):
        chunk = texts[bounds[r] : bounds[r + 1]]
        for i in range(len(measured)):
            m = measured[(i + r) % len(measured)]
            wall, cpu = time.perf_counter(), time.process_time()
            m.vectors.append(m.encoder.encode(chunk))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            m.seconds += wall
            m.cpu_seconds += cpu
            m.round_rates.append(len(chunk) / wall)
            log(f"round {r + 1}/{rounds} {m.variant.name:24s} {len(chunk) / wall:7.1f} passages/s "
                f"(load {os.getloadavg()[0]:.2f})")
    return measured


def neighbours(passages: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-(queries @ passages.T), axis=1, kind="stable")[:, :k]


def summarize(measured: list[Measured], texts: list[str], questions: list[str]) -> list[dict]:
    base = next(m for m in measured if m.variant.name == BASELINE) if any(
        m.variant.name == BASELINE for m in measured) else measured[0]
    base_vectors = np.concatenate(base.vectors)
    base_queries = base.encoder.encode(questions)
    base_nn = neighbours(base_vectors, base_queries)
    base_rate = len(texts) / base.seconds
    rows = []
    for m in measured:
        vectors = np.concatenate(m.vectors)
        cos = (vectors * base_vectors).sum(axis=1)
        nn = neighbours(vectors, m.encoder.encode(questions))
        overlap = np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(nn, base_nn)])
        rate = len(texts) / m.seconds
        rows.append({
            "variant": m.variant.name,
            "description": m.variant.description,
            "passages_per_s": round(rate, 1),
            "speedup": round(rate / base_rate, 2),
            "cpu_ms_per_passage": round(1000 * m.cpu_seconds / len(texts), 1),
            "round_rates": [round(x, 1) for x in m.round_rates],
            "cos_mean": round(float(cos.mean()), 5),
            "cos_min": round(float(cos.min()), 5),
            "nn10_overlap": round(float(overlap), 3),
        })
    return rows


def machine() -> dict:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def table(rows: list[dict]) -> str:
    lines = ["| variant | passages/s | speedup | cpu ms/passage | cos mean | cos min | nn@10 |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['passages_per_s']} | {r['speedup']:.2f}x | {r['cpu_ms_per_passage']} "
                     f"| {r['cos_mean']:.5f} | {r['cos_min']:.5f} | {r['nn10_overlap']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated; first is timed first")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N sample passages")
    parser.add_argument("--work", default=None, help="folder for built models (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")

    import tempfile

    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    texts, questions = load_sample(args.limit)
    load_before = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        measured = run(names, texts, args.rounds, work, log)
        rows = summarize(measured, texts, questions)
    report = {
        "command": "python bench/encoders.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "passages": len(texts),
        "questions": len(questions),
        "sample": f"press-briefings {', '.join(MONTHS)}, every {STEP}rd passage",
        "rounds": args.rounds,
        "results": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['passages']} passages, {report['questions']} questions, {args.rounds} rounds; "
              f"{report['machine']['nproc']} x {report['machine']['cpu']}; load average "
              f"{report['load_average_before']} before, {report['load_average_after']} after")
        print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
