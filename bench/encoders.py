"""Compare passage encoders on a fixed sample of real press-briefing passages.

Every variant embeds the same passages in the same run; the baseline is plain
sentence-transformers fp32 (batch 32, chunks of 512, as `Embedder` used to do).
The sample is split into rounds, and each round runs every variant on its own
slice in a rotated order, so a load that comes and goes (another build on the
same cores) falls on every variant alike. Reported per variant: passages/s over
all rounds, speedup over the baseline, cosine of each vector with the
baseline's (mean, min), and how many of the baseline's 10 nearest passages
each question still finds (nn@10), for the reporters' questions in the sample.

    .venv/bin/python bench/encoders.py                 # the main variants (DEFAULT_RUN), table
    .venv/bin/python bench/encoders.py --json          # the same as JSON
    .venv/bin/python bench/encoders.py --variants torch-fp32,onnx-int8
    .venv/bin/python bench/encoders.py --variants all --limit 300   # every variant, a quicker sample

Variants build their ONNX files in --work (default: a temporary folder) with
the package's own steps (export_onnx, fuse_bert, split_attention,
quantize_per_token) or ONNX Runtime's stock quantizers; `onnx-int8` is
`Embedder` itself, on its cached build, exactly as `build` runs it.
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

from indexer.embedding.embedder import BASE_MODEL, model_folder  # noqa: E402
from indexer.index.build import embed_input  # noqa: E402
from indexer.ingest.corpus import read_corpus  # noqa: E402

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


class Onnx:
    """An OnnxEncoder on a given model file, with a batch size (None: the package's token budget),
    intra-op threads and concurrent runs."""

    def __init__(self, folder: str, path: Path, batch_size: int | None = None, threads: int | None = None,
                 workers: int | None = None):
        from indexer.embedding.engines import OnnxEncoder

        self.encoder = OnnxEncoder(folder, model_path=path, threads=threads, workers=workers)
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts, batch_size=self.batch_size)


def _built(work: Path, name: str, build: Callable[[Path], None]) -> Path:
    """Build a model file once per work dir (variants share exports)."""
    path = work / f"{name}.onnx"
    if not path.exists():
        build(path)
    return path


def _exported(folder: str, work: Path) -> Path:
    from indexer.embedding.onnx_build import export_onnx

    return _built(work, "exported", lambda path: export_onnx(Path(folder), path))


def _fused(folder: str, work: Path) -> Path:
    import onnx

    from indexer.embedding.onnx_build import fuse_bert

    config = json.loads((Path(folder) / "config.json").read_text())
    return _built(work, "fused", lambda path: onnx.save(fuse_bert(_exported(folder, work), config), str(path)))


def _dynamic(source: Callable[[str, Path], Path], name: str, **options) -> Callable[[str, Path], Path]:
    """onnxruntime.quantization.quantize_dynamic on the exported or fused graph."""

    def make(folder: str, work: Path) -> Path:
        from onnxruntime.quantization import quantize_dynamic

        def build(path: Path) -> None:
            extra = {"DefaultTensorType": 1}  # fused graphs: contrib-op outputs have no inferred type
            quantize_dynamic(str(source(folder, work)), str(path), extra_options=extra, **options)

        return _built(work, name, build)

    return make


def _static_qdq(folder: str, work: Path) -> Path:
    """quantize_static, QDQ, per-channel weights, activations calibrated (min/max) on other real passages."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from tokenizers import Tokenizer

    class Passages(CalibrationDataReader):
        def __init__(self):
            corpus = read_corpus([CORPUS / "2022-09"], progress=False)
            texts = [embed_input(p) for p in corpus.passages[::10][:128]]
            tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
            tokenizer.enable_truncation(256)
            tokenizer.enable_padding()
            self.batches = []
            for i in range(0, len(texts), 16):
                enc = tokenizer.encode_batch(texts[i : i + 16])
                ids = np.array([e.ids for e in enc], np.int64)
                mask = np.array([e.attention_mask for e in enc], np.int64)
                self.batches.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
            self.batches = iter(self.batches)

        def get_next(self):
            return next(self.batches, None)

    def build(path: Path) -> None:
        quantize_static(str(_exported(folder, work)), str(path), Passages(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["MatMul"])

    return _built(work, "static-qdq", build)


def _per_token(source: Callable[[str, Path], Path], name: str, split: bool = False,
               levels: int | None = None) -> Callable[[str, Path], Path]:
    """The package's per-token int8 quantization on the exported or fused graph (`split`: QKV taken out
    of the fused Attention ops first, so it is quantized too)."""

    def make(folder: str, work: Path) -> Path:
        import onnx

        from indexer.embedding.onnx_rewrite import WEIGHT_LEVELS, quantize_per_token, split_attention

        def build(path: Path) -> None:
            model = onnx.load(str(source(folder, work)))
            model = split_attention(model) if split else model
            onnx.save(quantize_per_token(model, levels or WEIGHT_LEVELS), str(path))

        return _built(work, name, build)

    return make


class Shipped:
    """`Embedder` itself with an engine, on the base model, as the build uses it (its own cache, chunks of 512)."""

    def __init__(self, encoder: str):
        from indexer.embedding.embedder import Embedder

        self.embedder = Embedder(model=BASE_MODEL, encoder=encoder)
        self.embedder.encoder  # noqa: B018 (load, and build on first use, before timing)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)


def _variants() -> list[Variant]:
    st = SentenceTransformerEncoder

    def onnx_variant(name, description, model, batch_size=None, threads=None, workers=None):
        return Variant(name, description,
                       lambda folder, work: Onnx(folder, model(folder, work), batch_size, threads, workers))

    int8 = _per_token(_fused, "pt-split", split=True)
    return [
        Variant(BASELINE, "sentence-transformers fp32, batch 32, chunks of 512 (Embedder before ONNX)",
                lambda folder, work: st(folder)),
        Variant("torch-fp32-b64-all", "sentence-transformers fp32, batch 64, one call (global length sort)",
                lambda folder, work: st(folder, batch_size=64, chunk=None)),
        Variant("torch-fp32-1thread", "sentence-transformers fp32, batch 32, torch.set_num_threads(1)",
                lambda folder, work: st(folder, threads=1)),
        onnx_variant("onnx-fp32-b32", "torch.onnx.export, ORT_ENABLE_ALL at load, batch 32, 1 run at a time",
                     _exported, batch_size=32, threads=2, workers=1),
        onnx_variant("onnx-fp32", "torch.onnx.export, ORT_ENABLE_ALL at load, 512-token batches, 2 runs at once",
                     _exported),
        onnx_variant("onnx-fp32-fused", "+ onnxruntime.transformers BERT fusions", _fused),
        onnx_variant("ort-dynamic-default", "quantize_dynamic() defaults (per-tensor) on the export",
                     _dynamic(_exported, "dyn-default")),
        onnx_variant("ort-dynamic-fused", "quantize_dynamic() defaults on the fused graph (QAttention)",
                     _dynamic(_fused, "dyn-fused")),
        onnx_variant("ort-dynamic-pc-fused", "quantize_dynamic per-channel s8 on the fused graph",
                     _dynamic(_fused, "dyn-pc-fused", per_channel=True)),
        onnx_variant("ort-static-qdq", "quantize_static QDQ per-channel, min/max calibrated on 128 passages",
                     _static_qdq),
        onnx_variant("per-token-export", "per-token int8 on the unfused export (all 36 products, QKV too)",
                     _per_token(_exported, "pt-export")),
        onnx_variant("per-token-fused", "per-token int8 on the fused graph, QKV fp32 inside Attention (recipe 1)",
                     _per_token(_fused, "pt-fused")),
        onnx_variant("per-token-split", "per-token int8 on the fused graph, QKV split out (= onnx-int8)", int8),
        onnx_variant("per-token-split-b4", "the same, 4 texts a batch (recipe 2's batching)", int8, batch_size=4),
        onnx_variant("per-token-split-b8", "the same, batch 8", int8, batch_size=8),
        onnx_variant("per-token-split-b16", "the same, batch 16", int8, batch_size=16),
        onnx_variant("per-token-split-1x2", "the same, 1 run at a time on 2 threads", int8, threads=2, workers=1),
        Variant("onnx-int8", "the package default: Embedder(encoder='onnx-int8'), cached build",
                lambda folder, work: Shipped("onnx-int8")),
    ]


DEFAULT_RUN = ("torch-fp32", "onnx-fp32", "onnx-fp32-fused", "ort-dynamic-default", "ort-dynamic-pc-fused",
               "per-token-export", "per-token-fused", "onnx-int8")
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
    folder = model_folder(BASE_MODEL)  # every variant runs all-MiniLM-L6-v2 as it ships
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
    parser.add_argument("--variants", default=",".join(DEFAULT_RUN),
                        help=f"comma-separated, or 'all'; first is timed first (default: {','.join(DEFAULT_RUN)})")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N sample passages")
    parser.add_argument("--work", default=None, help="folder for built models (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    names = list(VARIANTS) if args.variants == "all" else [n.strip() for n in args.variants.split(",") if n.strip()]
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
