"""The two question sets: the corpus's own question -> answer pairs, and the hand-judged dev set.

A sampled reporter question is the query, and the official answer that
followed it (its passages) is what should come back. The dev set
(bench/devset.jsonl) names relevant passages by document and a quote: a
result is relevant when its doc_id matches and its text contains the quote,
whitespace-normalized. `judged_files` finds the dev set's documents under the
corpus root, so the eval's index holds them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadQuery
from ..search import Index

REPO = Path(__file__).resolve().parents[2]
DEVSET = REPO / "bench" / "devset.jsonl"
CORPUS_ROOT = REPO.parent / "shared" / "corpus" / "whitehouse"
MIN_QUESTION_WORDS = 6


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


def answer_documents(cases: list[Case]) -> set[str]:
    """The documents holding a question set's relevant passages (a passage_id starts with its doc_id)."""
    return {passage.split("#", 1)[0] for case in cases for passage in case.relevant}


def passage_texts(index: Index, passage_ids: list[str]) -> list[str]:
    marks = ",".join("?" * len(passage_ids))
    rows = dict(index.db.execute(f"SELECT passage_id, text FROM passages WHERE passage_id IN ({marks})", passage_ids))
    return [rows[pid] for pid in passage_ids]
