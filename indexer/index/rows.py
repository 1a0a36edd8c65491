"""A version's rows in podium.sqlite: written whole, or copied from the previous version with the changes applied.

Rows go in build order: documents, turns and passages as the corpus lists
them, `passages.id` = row in vectors.faiss; the distinct prompts of each
document in the order their passages come, `questions.id` = row in
questions.faiss. A passage's prompt is the reporter question it answers, or,
when no one asked (an opening statement, a written statement), the
document's title: every passage has one, so none ranks lower for lacking it. A patched copy must hold exactly
the rows a whole write would, in the same row order, so it keeps each table's
longest unchanged run of leading rows and writes the rest again (the
keyword index follows through FTS5's 'delete' command). A briefing added
after the others, the usual case, rewrites only its own rows: about 1 s for
the 72,000 press-briefing passages, against 5 s for a whole write. A change
near the start of the order rewrites most rows, and when it would rewrite more
than half of the passages the whole write is faster and leaves a compact file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..ingest.corpus import Corpus
from ..records import Passage
from .layout import DATABASE
from .schema import MIGRATIONS, connect_readonly, create_database

_COLUMNS = {
    "documents": "doc_id, title, date, kind, source_url, source_name, path, sources",
    "turns": "doc_id, number, label, speaker, role, text",
    "passages": "id, passage_id, doc_id, turn, para_start, para_end, speaker, role, question, text, date, "
                "kind, content_hash, question_id",
    "questions": "id, doc_id, text, content_hash",
}
_KEYWORDS = {"passages": ("passages_fts", 9), "questions": ("questions_fts", 2)}  # FTS5 table, text column
_PATCH_LIMIT = 0.5


@dataclass
class Rows:
    """What a version's tables hold; `embeddings` maps each distinct content hash to the first row of the
    vectors (passages', then questions') that holds it."""

    documents: list[tuple]
    turns: list[tuple]
    passages: list[tuple]
    questions: list[tuple]
    embeddings: dict[str, int]


def distinct_questions(corpus: Corpus) -> dict[tuple[str, str], int]:
    """(doc_id, prompt text) -> question id, numbered in the order the passages come."""
    titles = {doc.doc_id: doc.title for doc in corpus.documents}
    questions: dict[tuple[str, str], int] = {}
    for p in corpus.passages:
        questions.setdefault(_prompt(p, titles[p.doc_id]), len(questions))
    return questions


def _prompt(passage: Passage, title: str) -> tuple[str, str]:
    return passage.doc_id, passage.question if passage.question is not None else title


def rows_for(corpus: Corpus, hashes: list[str], questions: dict[tuple[str, str], int]) -> Rows:
    """The rows for `corpus`: `hashes` holds the content hash of each passage, then of each of `questions`."""
    docs = {doc.doc_id: doc for doc in corpus.documents}
    documents = [
        (d.doc_id, d.title, d.date, d.kind, d.source_url, d.source_name, d.path,
         json.dumps([vars(s) for s in d.sources]))
        for d in corpus.documents
    ]
    turns = [(t.doc_id, t.number, t.label, t.speaker, t.role, t.text)
             for doc_turns in corpus.turns.values() for t in doc_turns]
    embeddings: dict[str, int] = {}
    for row, key in enumerate(hashes):
        embeddings.setdefault(key, row)
    passages = []
    for row, (p, key) in enumerate(zip(corpus.passages, hashes)):
        doc = docs[p.doc_id]
        passages.append((row, p.passage_id, p.doc_id, p.turn, p.para_start, p.para_end, p.speaker,
                         p.role, p.question, p.text, doc.date, doc.kind, key, questions[_prompt(p, doc.title)]))
    first = len(corpus.passages)
    question_rows = [(number, doc_id, text, hashes[first + number]) for (doc_id, text), number in questions.items()]
    return Rows(documents, turns, passages, question_rows, embeddings)


def write(version: Path, rows: Rows, vectors: np.ndarray, previous: Path | None) -> None:
    """The version's database: a patched copy of `previous` when that rewrites at most half, else whole."""
    plan = _plan(previous, rows) if previous is not None else None
    if plan is None:
        _write_whole(version, rows, vectors)
    else:
        _patch_copy(previous, version, rows, vectors, plan)


def stored_embeddings(version: Path | None, hashes: set[str]) -> dict[str, np.ndarray]:
    """Vectors an earlier version already has for these content hashes.

    One pass over the table rather than lookups by key: for a rebuild, where
    most hashes are wanted, it takes half the time (0.4 s for 72,000 passages).
    """
    if version is None or not hashes:
        return {}
    db = connect_readonly(version)
    rows = db.execute("SELECT content_hash, vector FROM embeddings")
    found = {key: np.frombuffer(vector, dtype=np.float32) for key, vector in rows if key in hashes}
    db.close()
    return found


def _write_whole(version: Path, rows: Rows, vectors: np.ndarray) -> None:
    db = create_database(version)
    with db:
        for table in _COLUMNS:
            _insert(db, table, getattr(rows, table))
        db.executemany("INSERT INTO embeddings VALUES (?, ?)",
                       ((key, vectors[row].tobytes()) for key, row in rows.embeddings.items()))
        for keywords, _ in _KEYWORDS.values():
            db.execute(f"INSERT INTO {keywords}({keywords}) VALUES ('rebuild')")
    db.execute("VACUUM")
    db.close()


@dataclass
class _Plan:
    """Per table, the rowid from which old rows go and the index of the first new row to insert."""

    tails: dict[str, tuple[int, int]]
    old_tails: dict[str, list[tuple]]
    old_hashes: set[str]


def _plan(previous: Path, rows: Rows) -> _Plan | None:
    """What patching `previous` takes, or None when a whole write is better (another schema, too much changed)."""
    db = connect_readonly(previous)
    db.row_factory = None
    try:
        if db.execute("SELECT count(*) FROM migrations").fetchone()[0] != len(MIGRATIONS):
            return None
        tails, old_tails = {}, {}
        for table, columns in _COLUMNS.items():
            old = db.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchall()
            kept = _common_prefix(old, getattr(rows, table))
            first = db.execute(f"SELECT rowid FROM {table} ORDER BY rowid LIMIT 1 OFFSET ?", (kept,)).fetchone()
            tails[table] = (first[0] if first else None, kept)
            old_tails[table] = old[kept:]
        if len(rows.passages) - tails["passages"][1] > _PATCH_LIMIT * len(rows.passages):
            return None
        old_hashes = {row[0] for row in db.execute("SELECT content_hash FROM embeddings")}
    finally:
        db.close()
    return _Plan(tails, old_tails, old_hashes)


def _common_prefix(old: list[tuple], new: list[tuple]) -> int:
    """How many leading rows the two lists share."""
    for count, (before, after) in enumerate(zip(old, new)):
        if before != after:
            return count
    return min(len(old), len(new))


def _patch_copy(previous: Path, version: Path, rows: Rows, vectors: np.ndarray, plan: _Plan) -> None:
    shutil.copyfile(previous / DATABASE, version / DATABASE)
    db = sqlite3.connect(version / DATABASE)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    with db:
        for table, (keywords, text) in _KEYWORDS.items():
            db.executemany(f"INSERT INTO {keywords}({keywords}, rowid, text) VALUES ('delete', ?, ?)",
                           ((row[0], row[text]) for row in plan.old_tails[table]))
        for table, (first_rowid, kept) in plan.tails.items():
            if first_rowid is not None:
                db.execute(f"DELETE FROM {table} WHERE rowid >= ?", (first_rowid,))
            _insert(db, table, getattr(rows, table)[kept:])
        for table, (keywords, text) in _KEYWORDS.items():
            db.executemany(f"INSERT INTO {keywords}(rowid, text) VALUES (?, ?)",
                           ((row[0], row[text]) for row in getattr(rows, table)[plan.tails[table][1]:]))
        db.executemany("DELETE FROM embeddings WHERE content_hash = ?",
                       ((key,) for key in plan.old_hashes - rows.embeddings.keys()))
        db.executemany("INSERT INTO embeddings VALUES (?, ?)",
                       ((key, vectors[row].tobytes()) for key, row in rows.embeddings.items()
                        if key not in plan.old_hashes))
    db.close()


def _insert(db: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        db.executemany(f"INSERT INTO {table} ({_COLUMNS[table]}) VALUES ({marks})", rows)
