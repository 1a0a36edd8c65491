"""Measure answer quality: every configuration on the three question sets, over one index per model.

No leakage: a passage's prompting question is evidence for it only through
the question tables (questions_fts, questions.faiss), never in the passage's
own keywords or vector (`check_no_leakage` verifies both on the index the
eval uses), so leaving a sampled pair's question out of the question evidence
(`Case.leave_out`, passed to `Index.rank`) leaves nothing of it to match.

The baselines run all-MiniLM-L6-v2 as it ships; the default runs the default
model, that model adapted to briefings with other briefings' pairs
(indexer/embedding/adapter.py). Each model has its own index of the same
passages: the chosen corpus slice plus every judged document. A question set
whose answers lie in a document the adapter was trained on runs the default
on the plain model's index instead (`model_for`); the dev set's judged
documents span 2021-2024, so it does. Only pairs from the slice's own
documents are sampled (indexer/evaluation/cases.py). The shared questions run
every configuration on its own model and report the split instead
(indexer/evaluation/shared.py).
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..embedding import adapter
from ..embedding.embedder import BASE_MODEL, DEFAULT_MODEL, content_hash, model_name
from ..errors import BadQuery, IndexCorrupt, IndexMissing
from ..index.build import EMBED_INPUT, build_index, passage_settings
from ..index.manifest import Manifest
from ..index.opening import open_version
from ..ingest.passages import MAX_WORDS
from ..search import Index
from ..search.ranking import DEFAULT_TUNING, PLAIN, Tuning, is_non_answer
from ..store import location
from .cases import (CORPUS_ROOT, DEVSET, SHARED_QUESTIONS, Case, answer_documents, dev_cases, eval_sources,
                    judged_files, passage_texts, read_devset, read_shared, sample_pairs, shared_cases)
from .metrics import auto_metrics, dev_metrics, mean_metrics
from .shared import readable_shared, run_shared

DEFAULT_CORPUS = (CORPUS_ROOT / "press-briefings" / "2022-03",)
EVAL_ROOT = Path("/tmp/eval")

# name -> (mode, tuning, model): the three baselines on the model as it ships, and the project's default.
CONFIGS: dict[str, tuple[str, Tuning, str]] = {
    "keyword": ("keyword", PLAIN, BASE_MODEL),
    "dense": ("dense", PLAIN, BASE_MODEL),
    "hybrid": ("hybrid", PLAIN, BASE_MODEL),
    "default": ("hybrid", DEFAULT_TUNING, DEFAULT_MODEL),
}


# ---- the index the eval uses


def index_key(sources: list[str], model: str) -> str:
    """Names the eval index by what it holds and how it is built."""
    settings = json.dumps([sources, model, MAX_WORDS, EMBED_INPUT])
    return hashlib.sha1(settings.encode()).hexdigest()[:12]


def matches(index_dir: Path, sources: list[str], model: str) -> bool:
    """Whether the index at `index_dir` was built from exactly `sources` with these settings."""
    try:
        _, manifest = open_version(index_dir)
    except (IndexMissing, IndexCorrupt):
        return False
    return _built_as(manifest, sources, model)


def _built_as(manifest: Manifest | None, sources: list[str], model: str) -> bool:
    return (
        manifest is not None
        and sorted(str(Path(s).resolve()) for s in manifest.sources) == sources
        and manifest.model == model
        and manifest.passage_settings == passage_settings(MAX_WORDS)
    )


def ensure_index(sources: list[str], root: Path | None = None, model: str | None = None,
                 progress: bool = True, store: str | None = None) -> tuple[Index, bool]:
    """(the eval index of `model`, opened; whether it was built now): a matching one is reused, else built.
    Locally it is a folder under `root`; in a Milvus Lite `store` (milvus:///dir/eval.db), a file beside it."""
    name = model_name(model)
    key = index_key(sources, name)
    spec = location.chosen(store)
    if spec:
        spec = eval_store(spec, key)
        fresh = not _built_as(location.current_manifest(spec), sources, name)
        if fresh:
            build_index(sources, None, model=model, progress=progress, store=spec)
        return Index.open(store=spec), fresh
    index_dir = Path(root or EVAL_ROOT) / f"index-{key}"
    fresh = not matches(index_dir, sources, name)
    if fresh:
        build_index(sources, index_dir, model=model, progress=progress)
    return Index.open(index_dir), fresh


def eval_store(spec: str, key: str) -> str:
    """The Milvus Lite file of one eval index: `key` added to the file `spec` names. A Milvus server holds one
    index (one alias), and the eval needs one per model, so it takes a Lite file only."""
    if not spec.startswith(location.LITE):
        raise BadQuery(f"eval --store needs a Milvus Lite file, e.g. milvus:///tmp/eval/eval.db, not {spec}: it "
                       "builds one index per model and a Milvus server holds one index")
    path = Path(location.uri(spec))
    return f"{location.LITE}{path.with_name(f'{path.stem}-{key}{path.suffix}')}"


def check_no_leakage(index: Index) -> None:
    """Fail unless the prompting questions are out of both retrievers: the keyword index (FTS5 locally, the
    BM25 terms in Milvus) holds only passage text, and the model saw only passage text (the manifest's
    embed_input, checked against stored hashes)."""
    if not index.store.keyword_text_only():
        raise IndexCorrupt("the keyword index holds more than the passage text: questions would leak")
    if index.manifest.passage_settings.get("embed_input") != EMBED_INPUT:
        raise IndexCorrupt("the index embeds more than the passage text; rebuild the eval index with questions left out")
    row = index.store.a_prompted_passage()
    if row and content_hash(row[0]) != row[1]:
        raise IndexCorrupt("the stored vectors were not made from the passage text alone: questions may leak")


# ---- running the configurations


def model_for(model: str, documents: set[str]) -> dict:
    """The model a question set runs a configuration on: the adapted default model falls back to the
    plain one when the set's answers lie in a document whose pairs trained it (it saw those answers)."""
    seen = documents & adapter.trained_documents() if model == DEFAULT_MODEL else set()
    return {"model": BASE_MODEL if seen else model, "training_documents": len(seen)}


@dataclass
class Run:
    metrics: dict[str, float]
    seconds: float
    median_ms: float
    p95_ms: float
    non_answers_at_10: float | None = None


def run_config(index: Index, cases: list[Case], mode: str, tuning: Tuning, dev: bool, depth: int = 100,
               per_doc: int | None = None) -> Run:
    """Every case searched with one configuration, `depth` results deep."""
    rows, times, non_answers = [], [], []
    started = time.perf_counter()
    for case in cases:
        t0 = time.perf_counter()
        ranking = [pid for pid, _ in index.rank(case.query, k=depth, mode=mode, per_doc=per_doc, tuning=tuning,
                                                 leave_out=case.leave_out)]
        times.append(time.perf_counter() - t0)
        rows.append(dev_metrics(ranking, case.relevant) if dev else auto_metrics(ranking, case.relevant))
        non_answers.extend(is_non_answer(text) for text in passage_texts(index, ranking[:10]))
    seconds = time.perf_counter() - started
    times.sort()
    return Run(
        metrics=mean_metrics(rows),
        seconds=round(seconds, 1),
        median_ms=round(1000 * statistics.median(times), 1),
        p95_ms=round(1000 * times[int(0.95 * (len(times) - 1))], 1),
        non_answers_at_10=round(statistics.fmean(non_answers), 4) if non_answers else None,
    )


def evaluate(
    corpus: Sequence[str | Path] = DEFAULT_CORPUS,
    sample: int = 1000,
    seed: int = 0,
    index_root: Path | None = None,
    devset_path: Path = DEVSET,
    configs: dict[str, tuple[str, Tuning, str]] = CONFIGS,
    progress: bool = True,
    shared_path: Path = SHARED_QUESTIONS,
    store: str | None = None,
) -> dict:
    """Build or reuse the eval indexes (one per model, under `index_root`, or Milvus Lite files beside the one
    `store` names), then score every configuration on the three question sets."""
    devset, shared = read_devset(devset_path), read_shared(shared_path)
    sources = eval_sources(corpus, judged_files(devset, shared))
    built, indexes = {}, {}
    for model in dict.fromkeys([BASE_MODEL, *(model for _, _, model in configs.values())]):
        indexes[model], built[model] = ensure_index(sources, index_root, model, progress=progress, store=store)
        check_no_leakage(indexes[model])
    plain = indexes[BASE_MODEL]  # where the pairs are drawn and the dev quotes found (same passages in each)
    pairs = sample_pairs(plain, corpus, sample, seed)
    judged = dev_cases(plain, devset)
    asked = shared_cases(plain, shared)
    documents = {"pairs": answer_documents(pairs), "dev": answer_documents(judged)}
    runs_on = {kind: {name: model_for(model, docs) for name, (_, _, model) in configs.items()}
               for kind, docs in documents.items()}
    report = {
        "config": {
            "corpus": [str(p) for p in corpus],
            "indexes": {model: str(index.path) for model, index in indexes.items()},
            "built": any(built.values()),
            "passages": plain.stats()["passages"],
            "models": {name: model for name, (_, _, model) in configs.items()},
            "encoders": {model: index.manifest.encoder for model, index in indexes.items()},
            "sample": len(pairs), "seed": seed, "devset": str(devset_path), "devset_questions": len(judged),
            "devset_unmatched_quotes": sum(len(c.unmatched) for c in judged),
            "shared": str(shared_path), "shared_questions": len(asked),
            "default": vars(DEFAULT_TUNING),
            "runs_on": runs_on,
        },
        "results": {},
    }
    for name, config in configs.items():
        on = [indexes[runs_on["pairs"][name]["model"]], indexes[runs_on["dev"][name]["model"]], indexes[config[2]]]
        report["results"][name] = _scored(config, on, pairs, judged, asked)
    for index in indexes.values():
        index.close()
    return report


def _scored(config: tuple[str, Tuning, str], indexes: list[Index], pairs: list[Case], judged: list[Case],
            asked: list[Case]) -> dict:
    """One configuration's figures on the pairs, the dev set and the shared questions, each on its index."""
    mode, tuning, _ = config
    auto = run_config(indexes[0], pairs, mode, tuning, dev=False)
    dev = run_config(indexes[1], judged, mode, tuning, dev=True)
    return {
        **auto.metrics, "seconds": auto.seconds, "median_ms": auto.median_ms, "p95_ms": auto.p95_ms,
        "dev": {**dev.metrics, "non_answers@10": dev.non_answers_at_10, "seconds": dev.seconds},
        **({"shared": run_shared(indexes[2], asked, mode, tuning)} if asked else {}),
    }


def readable_report(report: dict) -> str:
    config = report["config"]
    lines = [
        f"indexes {', '.join(config['indexes'].values())} ({config['passages']} passages each, "
        f"{'built now' if config['built'] else 'reused'})",
        f"models: {', '.join(f'{name} {model}' for name, model in config['models'].items())}",
        f"{config['sample']} question->answer pairs (seed {config['seed']}); "
        f"dev set: {config['devset_questions']} questions",
        "",
        f"{'':10}{'MRR@10':>8}{'nDCG@10':>9}{'R@1':>7}{'R@10':>7}{'R@100':>7}{'ms p50':>8}{'p95':>6}"
        f"{'   dev hit@1':>12}{'hit@10':>8}{'MRR@10':>8}{'non-ans':>8}",
    ]
    for name, r in report["results"].items():
        d = r["dev"]
        lines.append(
            f"{name:10}{r['mrr@10']:>8.3f}{r['ndcg@10']:>9.3f}{r['recall@1']:>7.3f}{r['recall@10']:>7.3f}"
            f"{r['recall@100']:>7.3f}{r['median_ms']:>8.1f}{r['p95_ms']:>6.0f}"
            f"{d['hit@1']:>12.3f}{d['hit@10']:>8.3f}{d['mrr@10']:>8.3f}{d['non_answers@10']:>8.3f}"
        )
    for kind, runs in config["runs_on"].items():
        for name, run in runs.items():
            if run["training_documents"]:
                lines.append(f"{name} ran the {kind} on {run['model']}: {run['training_documents']} of their "
                             "answer documents trained the adapted model")
    if config.get("shared_questions"):
        lines += readable_shared(report["results"])
    return "\n".join(lines)
