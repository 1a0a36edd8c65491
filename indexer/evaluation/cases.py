"""The three question sets: the corpus's own question -> answer pairs, the hand-judged dev set, and the
shared questions people wrote (../shared/questions).

A sampled reporter question is the query, and the official answer that
followed it (its passages) is what should come back; the question itself is
indexed as evidence for its answer, so each pair leaves its own copy out
(`Case.leave_out`, leave-one-out). Every set is read through the store's
methods, so the same cases come from the local store and from Milvus. The dev set
(bench/devset.jsonl) names relevant passages by document and a quote: a
result is relevant when its doc_id matches and its text contains the quote,
whitespace-normalized. The shared questions are judged by their own scorer's
rule (../shared/questions/score.py, loaded from there): a passage of the judged
date that holds the judged phrase or shares a run of 8 words with the answer.
`judged_files` finds the judged documents under the corpus root, so the eval's
index holds them.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from functools import cache
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadQuery
from ..search import Index

REPO = Path(__file__).resolve().parents[2]
DEVSET = REPO / "bench" / "devset.jsonl"
CORPUS_ROOT = REPO.parent / "shared" / "corpus" / "whitehouse"
SHARED_QUESTIONS = REPO.parent / "shared" / "questions" / "questions.jsonl"
MIN_QUESTION_WORDS = 6


def judged_files(devset: list[dict], shared: list[dict] = (), root: Path = CORPUS_ROOT) -> list[Path]:
    """The transcript file of every document the dev set judges, found by name under `root`, and of every
    document the shared questions judge, found by their scorer."""
    wanted = {r["doc_id"] for q in devset for r in q["relevant"]}
    shared_files = {Path(_scorer().verify.find_doc(r["doc"])) for q in shared for r in q["relevant"]}
    found = {path.stem.split(".")[0]: path for path in root.rglob("*.md") if path.stem.split(".")[0] in wanted}
    missing = sorted(wanted - set(found))
    if missing:
        raise BadQuery(f"{len(missing)} judged documents are not under {root}, e.g. {missing[0]}")
    return sorted(set(found.values()) | shared_files)


def eval_sources(corpus: Sequence[str | Path], judged: list[Path]) -> list[str]:
    """The corpus slice plus the judged files it does not already hold, as sorted absolute paths."""
    slice_paths = [Path(p).resolve() for p in corpus]
    extra = [p.resolve() for p in judged
             if not any(p.resolve().is_relative_to(s) for s in slice_paths)]
    return sorted(str(p) for p in slice_paths + extra)


@dataclass
class Case:
    """One query and the passage_ids that answer it."""

    query: str
    relevant: set[str]
    id: str = ""
    unmatched: list[str] = field(default_factory=list)
    leave_out: frozenset[int] = frozenset()  # question ids that are no evidence for this query
    kind: str = ""


def sample_pairs(index: Index, corpus: Sequence[str | Path], n: int, seed: int) -> list[Case]:
    """`n` reporter question -> official answer pairs from the slice's own documents, drawn with `seed`.

    The relevant passages are every passage of that document prompted by the same question (the
    answer, and a hand-over to another official). Questions under MIN_QUESTION_WORDS words are skipped.
    """
    roots = [str(Path(p).resolve()) for p in corpus]
    in_slice = {
        doc for doc, path in index.store.document_paths()
        if any(str(Path(path).resolve()).startswith(root) for root in roots)
    }
    groups: dict[tuple[str, str], set[str]] = {}
    asked: dict[tuple[str, str], int] = {}
    for doc, question, passage, question_id in index.store.prompted_passages():
        if doc in in_slice and len(question.split()) >= MIN_QUESTION_WORDS:
            groups.setdefault((doc, question), set()).add(passage)
            asked[(doc, question)] = question_id
    keys = sorted(groups)
    chosen = random.Random(seed).sample(keys, min(n, len(keys)))
    return [Case(query=question, relevant=groups[(doc, question)], id=f"{doc}:{i}",
                 leave_out=frozenset({asked[(doc, question)]}))
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
            hits = {pid for pid, text in index.store.passage_texts_in(judged["doc_id"]) if quote in normalize(text)}
            relevant |= hits
            if not hits:
                unmatched.append(judged["quote"])
        cases.append(Case(query=item["question"], relevant=relevant, id=item["id"], unmatched=unmatched))
    return cases


def read_shared(path: Path = SHARED_QUESTIONS) -> list[dict]:
    return read_devset(path) if Path(path).is_file() else []


def shared_cases(index: Index, questions: list[dict]) -> list[Case]:
    """Each shared question with the passages its scorer judges relevant (none for kind `none`)."""
    scorer, cases = _scorer(), []
    for item in questions:
        judged = scorer.judgments(item) if item["relevant"] else []
        dates = sorted({date for date, _, _ in judged})
        rows = index.store.passages_on(dates) if dates else []
        relevant = {pid for pid, text, date in rows if scorer.relevant({"text": text, "date": date}, judged)}
        cases.append(Case(query=item["query"], relevant=relevant, id=item["id"], kind=item["kind"]))
    return cases


@cache
def _scorer():
    """../shared/questions/score.py, the shared set's own judge, as a module."""
    path = SHARED_QUESTIONS.parent / "score.py"
    sys.path.insert(0, str(path.parent))  # it imports its neighbour verify.py
    spec = importlib.util.spec_from_file_location("shared_questions_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answer_documents(cases: list[Case]) -> set[str]:
    """The documents holding a question set's relevant passages (a passage_id starts with its doc_id)."""
    return {passage.split("#", 1)[0] for case in cases for passage in case.relevant}


def passage_texts(index: Index, passage_ids: list[str]) -> list[str]:
    rows = index.store.texts_by_passage_id(passage_ids) if passage_ids else {}
    return [rows[pid] for pid in passage_ids]
