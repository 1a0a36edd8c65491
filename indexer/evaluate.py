"""Measure answer quality: the corpus's own question->answer pairs, and a hand-judged dev set.

The automatic benchmark uses each sampled reporter question as the query and
the official answer that followed it (its passages) as the relevant results.
No leakage: a passage's prompting question is stored in SQLite for display
only; it is neither embedded nor in the keyword index (`check_no_leakage`
verifies both on the index the eval uses), so a query can never be matched
against its own question text. The default ranking embeds long questions with
the question adapter (indexer/adapter.py), trained on other briefings' pairs;
a question set whose answers lie in a document it was trained on is run
without it, in every configuration (`adapter_status`). The dev set's judged
documents span 2021-2024, so the dev set runs without it.

The dev set (bench/devset.jsonl) names relevant passages by document and a
quote: a result is relevant when its doc_id matches and its text contains the
quote, whitespace-normalized.

One index serves both: the chosen corpus slice plus every judged document
(found by file name under the corpus root). Only pairs from the slice's own
documents are sampled.
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
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import adapter, store
from .build import EMBED_INPUT, build_index
from .embed import resolve_model
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

# name -> (mode, tuning): the three baselines and the project's default.
CONFIGS: dict[str, tuple[str, Tuning]] = {
    "keyword": ("keyword", PLAIN),
    "dense": ("dense", PLAIN),
    "hybrid": ("hybrid", PLAIN),
    "default": ("hybrid", DEFAULT_TUNING),
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


def ensure_index(sources: list[str], index_dir: Path | None = None, model: str | None = None,
                 progress: bool = True) -> tuple[Path, bool]:
    """(index directory, whether it was built now): reuse a matching index, else build one."""
    name = resolve_model(model)[0]
    index_dir = Path(index_dir) if index_dir else EVAL_ROOT / f"index-{index_key(sources, name)}"
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


def adapter_status(index: Index, documents: set[str]) -> dict:
    """Whether a question set may be embedded with the question adapter: not when its answers lie in a
    document whose pairs trained it (the adapter would have seen the answers it is asked to find)."""
    name = index.embedder.adapter
    if not name:
        return {"name": None, "used": False, "training_documents": 0}
    seen = documents & adapter.trained_documents()
    return {"name": name, "used": not seen, "training_documents": len(seen)}


def answer_documents(cases: list[Case]) -> set[str]:
    """The documents holding a question set's relevant passages (a passage_id starts with its doc_id)."""
    return {passage.split("#", 1)[0] for case in cases for passage in case.relevant}


def without_adapter(configs: dict[str, tuple[str, Tuning]]) -> dict[str, tuple[str, Tuning]]:
    return {name: (mode, replace(tuning, adapter_words=0)) for name, (mode, tuning) in configs.items()}


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
    index_dir: Path | None = None,
    devset_path: Path = DEVSET,
    configs: dict[str, tuple[str, Tuning]] = CONFIGS,
    progress: bool = True,
) -> dict:
    """Build or reuse the eval index, then score every configuration on both question sets."""
    devset = read_devset(devset_path)
    sources = eval_sources(corpus, devset)
    index_dir, built = ensure_index(sources, index_dir, progress=progress)
    index = Index.open(index_dir)
    check_no_leakage(index)
    pairs = sample_pairs(index, corpus, sample, seed)
    judged = dev_cases(index, devset)
    status = {"pairs": adapter_status(index, answer_documents(pairs)),
              "dev": adapter_status(index, answer_documents(judged))}
    configs_for = {kind: configs if status[kind]["used"] else without_adapter(configs) for kind in status}
    report = {
        "config": {
            "corpus": [str(p) for p in corpus], "index": str(index_dir), "built": built,
            "passages": index.vectors.ntotal, "model": index.manifest.get("model"),
            "encoder": index.manifest.get("encoder", "torch-fp32"),
            "sample": len(pairs), "seed": seed, "devset": str(devset_path), "devset_questions": len(judged),
            "devset_unmatched_quotes": sum(len(c.unmatched) for c in judged),
            "default": vars(DEFAULT_TUNING),
            "question_adapter": status,
        },
        "results": {},
    }
    for name in configs:
        auto = run_config(index, pairs, *configs_for["pairs"][name], dev=False)
        dev = run_config(index, judged, *configs_for["dev"][name], dev=True)
        report["results"][name] = {
            **auto.metrics, "seconds": auto.seconds, "median_ms": auto.median_ms, "p95_ms": auto.p95_ms,
            "dev": {**dev.metrics, "non_answers@10": dev.non_answers_at_10, "seconds": dev.seconds},
        }
    index.close()
    return report


def readable_report(report: dict) -> str:
    config = report["config"]
    lines = [
        f"index {config['index']} ({config['passages']} passages, model {config['model']}"
        f"{', built now' if config['built'] else ', reused'})",
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
    return "\n".join(lines)
