"""Measure answer quality: the corpus's own question->answer pairs, and a hand-judged dev set.

The automatic benchmark uses each sampled reporter question as the query and
the official answer that followed it (its passages) as the relevant results.
No leakage: a passage's prompting question is stored in SQLite for display
only; it is neither embedded nor in the keyword index (`check_no_leakage`
verifies both on the index the eval uses), so a query can never be matched
against its own question text.

The baselines run all-MiniLM-L6-v2 as it ships; the default runs the default
model, that model adapted to briefings with other briefings' pairs
(indexer/adapter.py). Each model has its own index of the same passages. A
question set whose answers lie in a document the adapter was trained on runs
the default on the plain model's index instead (`model_for`); the dev set's
judged documents span 2021-2024, so it does.

The dev set (bench/devset.jsonl) names relevant passages by document and a
quote: a result is relevant when its doc_id matches and its text contains the
quote, whitespace-normalized.

One index per model serves both: the chosen corpus slice plus every judged
document (found by file name under the corpus root). Only pairs from the
slice's own documents are sampled.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import adapter, store
from .build import EMBED_INPUT, build_index
from .embed import BASE_MODEL, DEFAULT_MODEL, model_name
from .errors import BadQuery, IndexCorrupt, IndexMissing
from .passages import MAX_WORDS
from .search import Index
from .rerank import DEFAULT_TUNING, PLAIN, Tuning, is_non_answer

REPO = Path(__file__).resolve().parents[1]
DEVSET = REPO / "bench" / "devset.jsonl"
CORPUS_ROOT = REPO.parent / "shared" / "corpus" / "whitehouse"
DEFAULT_CORPUS = (CORPUS_ROOT / "press-briefings" / "2022-03",)
EVAL_ROOT = Path("/tmp/eval")
CUTOFFS = (1, 10, 100)
MIN_QUESTION_WORDS = 6

# name -> (mode, tuning, model): the three baselines on the model as it ships, and the project's default.
CONFIGS: dict[str, tuple[str, Tuning, str]] = {
    "keyword": ("keyword", PLAIN, BASE_MODEL),
    "dense": ("dense", PLAIN, BASE_MODEL),
    "hybrid": ("hybrid", PLAIN, BASE_MODEL),
    "default": ("hybrid", DEFAULT_TUNING, DEFAULT_MODEL),
}


# ---- metrics: pure functions over a ranking (ids, best first) and a relevant set


def reciprocal_rank(ranking: Sequence, relevant: set, k: int = 10) -> float:
    """1 / rank of the first relevant item within the top k, else 0."""
    for rank, item in enumerate(ranking[:k], start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def recall(ranking: Sequence, relevant: set, k: int) -> float:
    """Share of the relevant items found in the top k."""
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def hit(ranking: Sequence, relevant: set, k: int) -> float:
    """1 if any relevant item is in the top k, else 0."""
    return float(any(item in relevant for item in ranking[:k]))


def ndcg(ranking: Sequence, relevant: set, k: int = 10) -> float:
    """Binary-gain nDCG@k: DCG of the ranking over DCG of an ideal one."""
    dcg = sum(1 / math.log2(rank + 1) for rank, item in enumerate(ranking[:k], start=1) if item in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def auto_metrics(ranking: Sequence, relevant: set) -> dict[str, float]:
    return {
        "mrr@10": reciprocal_rank(ranking, relevant, 10),
        "ndcg@10": ndcg(ranking, relevant, 10),
        **{f"recall@{k}": recall(ranking, relevant, k) for k in CUTOFFS},
    }


def dev_metrics(ranking: Sequence, relevant: set) -> dict[str, float]:
    return {
        "hit@1": hit(ranking, relevant, 1),
        "hit@10": hit(ranking, relevant, 10),
        "mrr@10": reciprocal_rank(ranking, relevant, 10),
    }


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]} if rows else {}


# ---- the index the eval uses


def judged_files(devset: list[dict], root: Path = CORPUS_ROOT) -> list[Path]:
    """The transcript file of every document the dev set judges, found by name under `root`."""
    wanted = {r["doc_id"] for q in devset for r in q["relevant"]}
    found = {path.stem.split(".")[0]: path for path in root.rglob("*.md") if path.stem.split(".")[0] in wanted}
    missing = sorted(wanted - set(found))
    if missing:
        raise BadQuery(f"{len(missing)} judged documents are not under {root}, e.g. {missing[0]}")
    return sorted(found.values())


def eval_sources(corpus: Sequence[str | Path], devset: list[dict], root: Path = CORPUS_ROOT) -> list[str]:
    """The corpus slice plus the judged files it does not already hold, as sorted absolute paths."""
    slice_paths = [Path(p).resolve() for p in corpus]
    extra = [p.resolve() for p in judged_files(devset, root)
             if not any(p.resolve().is_relative_to(s) for s in slice_paths)]
    return sorted(str(p) for p in slice_paths + extra)


def index_key(sources: list[str], model: str) -> str:
    """Names the eval index by what it holds and how it is built."""
    settings = json.dumps([sources, model, MAX_WORDS, EMBED_INPUT])
    return hashlib.sha1(settings.encode()).hexdigest()[:12]


def matches(index_dir: Path, sources: list[str], model: str) -> bool:
    """Whether the index at `index_dir` was built from exactly `sources` with these settings."""
    try:
        version, manifest = store.open_version(index_dir)
    except (IndexMissing, IndexCorrupt):
        return False
    return (
        sorted(str(Path(s).resolve()) for s in manifest.get("sources", [])) == sources
        and manifest.get("model") == model
        and manifest.get("passage_settings") == {"max_words": MAX_WORDS, "embed_input": EMBED_INPUT}
    )


def ensure_index(sources: list[str], root: Path | None = None, model: str | None = None,
                 progress: bool = True) -> tuple[Path, bool]:
    """(index directory under `root`, whether it was built now): reuse a matching index, else build one."""
    name = model_name(model)
    index_dir = Path(root or EVAL_ROOT) / f"index-{index_key(sources, name)}"
    if matches(index_dir, sources, name):
        return index_dir, False
    build_index(sources, index_dir, model=model, progress=progress)
    return index_dir, True


def check_no_leakage(index: Index) -> None:
    """Fail unless the prompting questions are out of both retrievers: FTS holds only passage text,
    and the model saw only passage text (the manifest's embed_input, checked against stored hashes)."""
    columns = [row[1] for row in index.db.execute("PRAGMA table_info(passages_fts)")]
    if columns != ["text"]:
        raise IndexCorrupt(f"the keyword index holds {columns}, not just the passage text: questions would leak")
    if index.manifest.get("passage_settings", {}).get("embed_input") != "passage text":
        raise IndexCorrupt("the index embeds more than the passage text; rebuild the eval index with questions left out")
    row = index.db.execute("SELECT text, content_hash FROM passages WHERE question IS NOT NULL LIMIT 1").fetchone()
    if row and hashlib.sha1(row["text"].encode()).hexdigest() != row["content_hash"]:
        raise IndexCorrupt("the stored vectors were not made from the passage text alone: questions may leak")


# ---- the two question sets


@dataclass
class Case:
    """One query and the passage_ids that answer it."""

    query: str
    relevant: set[str]
    id: str = ""
    unmatched: list[str] = field(default_factory=list)


def sample_pairs(index: Index, corpus: Sequence[str | Path], n: int, seed: int) -> list[Case]:
    """`n` reporter question -> official answer pairs from the slice's own documents, drawn with `seed`.

    The relevant passages are every passage of that document prompted by the same question (the
    answer, and a hand-over to another official). Questions under MIN_QUESTION_WORDS words are skipped.
    """
    roots = [str(Path(p).resolve()) for p in corpus]
    in_slice = {
        doc for doc, path in index.db.execute("SELECT doc_id, path FROM documents")
        if any(str(Path(path).resolve()).startswith(root) for root in roots)
    }
    groups: dict[tuple[str, str], set[str]] = {}
    for doc, question, passage in index.db.execute(
        "SELECT doc_id, question, passage_id FROM passages WHERE question IS NOT NULL ORDER BY id"
    ):
        if doc in in_slice and len(question.split()) >= MIN_QUESTION_WORDS:
            groups.setdefault((doc, question), set()).add(passage)
    keys = sorted(groups)
    chosen = random.Random(seed).sample(keys, min(n, len(keys)))
    return [Case(query=question, relevant=groups[(doc, question)], id=f"{doc}:{i}")
            for i, (doc, question) in enumerate(chosen)]


def normalize(text: str) -> str:
    return " ".join(text.split())


def read_devset(path: Path = DEVSET) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def dev_cases(index: Index, devset: list[dict]) -> list[Case]:
    """Each dev question with the passages whose doc_id matches a judgement and whose text holds its quote."""
    cases = []
    for item in devset:
        relevant, unmatched = set(), []
        for judged in item["relevant"]:
            quote = normalize(judged["quote"])
            hits = {pid for pid, text in index.db.execute(
                "SELECT passage_id, text FROM passages WHERE doc_id = ?", (judged["doc_id"],)
            ) if quote in normalize(text)}
            relevant |= hits
            if not hits:
                unmatched.append(judged["quote"])
        cases.append(Case(query=item["question"], relevant=relevant, id=item["id"], unmatched=unmatched))
    return cases


# ---- running the configurations


def model_for(model: str, documents: set[str]) -> dict:
    """The model a question set runs a configuration on: the adapted default model falls back to the
    plain one when the set's answers lie in a document whose pairs trained it (it saw those answers)."""
    seen = documents & adapter.trained_documents() if model == DEFAULT_MODEL else set()
    return {"model": BASE_MODEL if seen else model, "training_documents": len(seen)}


def answer_documents(cases: list[Case]) -> set[str]:
    """The documents holding a question set's relevant passages (a passage_id starts with its doc_id)."""
    return {passage.split("#", 1)[0] for case in cases for passage in case.relevant}


def passage_texts(index: Index, passage_ids: list[str]) -> list[str]:
    marks = ",".join("?" * len(passage_ids))
    rows = dict(index.db.execute(f"SELECT passage_id, text FROM passages WHERE passage_id IN ({marks})", passage_ids))
    return [rows[pid] for pid in passage_ids]


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
        ranking = [pid for pid, _ in index.rank(case.query, k=depth, mode=mode, per_doc=per_doc, tuning=tuning)]
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
) -> dict:
    """Build or reuse the eval indexes (one per model, under `index_root`), then score every
    configuration on both question sets."""
    devset = read_devset(devset_path)
    sources = eval_sources(corpus, devset)
    built, indexes = {}, {}
    for model in dict.fromkeys([BASE_MODEL, *(model for _, _, model in configs.values())]):
        index_dir, built[model] = ensure_index(sources, index_root, model, progress=progress)
        indexes[model] = Index.open(index_dir)
        check_no_leakage(indexes[model])
    plain = indexes[BASE_MODEL]  # where the pairs are drawn and the dev quotes found (same passages in each)
    pairs = sample_pairs(plain, corpus, sample, seed)
    judged = dev_cases(plain, devset)
    documents = {"pairs": answer_documents(pairs), "dev": answer_documents(judged)}
    runs_on = {kind: {name: model_for(model, docs) for name, (_, _, model) in configs.items()}
               for kind, docs in documents.items()}
    report = {
        "config": {
            "corpus": [str(p) for p in corpus],
            "indexes": {model: str(index.path) for model, index in indexes.items()},
            "built": any(built.values()),
            "passages": plain.vectors.ntotal,
            "models": {name: model for name, (_, _, model) in configs.items()},
            "encoders": {model: index.manifest.get("encoder", "torch-fp32") for model, index in indexes.items()},
            "sample": len(pairs), "seed": seed, "devset": str(devset_path), "devset_questions": len(judged),
            "devset_unmatched_quotes": sum(len(c.unmatched) for c in judged),
            "default": vars(DEFAULT_TUNING),
            "runs_on": runs_on,
        },
        "results": {},
    }
    for name, (mode, tuning, _) in configs.items():
        auto = run_config(indexes[runs_on["pairs"][name]["model"]], pairs, mode, tuning, dev=False)
        dev = run_config(indexes[runs_on["dev"][name]["model"]], judged, mode, tuning, dev=True)
        report["results"][name] = {
            **auto.metrics, "seconds": auto.seconds, "median_ms": auto.median_ms, "p95_ms": auto.p95_ms,
            "dev": {**dev.metrics, "non_answers@10": dev.non_answers_at_10, "seconds": dev.seconds},
        }
    for index in indexes.values():
        index.close()
    return report


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
    return "\n".join(lines)
