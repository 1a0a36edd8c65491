"""What an index holds, row by row and vector by vector: two builds that must agree are compared with these."""

import sqlite3
from pathlib import Path

import numpy as np

from indexer.search import Index


def contents(index_dir: Path) -> dict:
    """Every row of every table, in row order (embeddings by key), and the keyword index's answers."""
    db = sqlite3.connect(index_dir / "current" / "podium.sqlite")
    try:
        found = {table: db.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
                 for table in ("documents", "turns", "passages", "questions")}
        found["embeddings"] = sorted(db.execute("SELECT content_hash, vector FROM embeddings"))
        found["keywords"] = db.execute(
            "SELECT rowid, bm25(passages_fts) FROM passages_fts WHERE passages_fts MATCH 'russia OR china OR call' "
            "ORDER BY rank, rowid").fetchall()
        found["question keywords"] = db.execute(
            "SELECT rowid, bm25(questions_fts) FROM questions_fts WHERE questions_fts MATCH 'russia OR china OR call' "
            "ORDER BY rank, rowid").fetchall()
        for keywords in ("passages_fts", "questions_fts"):
            db.execute(f"INSERT INTO {keywords}({keywords}, rank) VALUES ('integrity-check', 1)")
        return found
    finally:
        db.close()


def vectors_of(index_dir: Path):
    """The passages' vectors, then the questions'."""
    index = Index.open(index_dir)
    try:
        store = index.store
        return np.concatenate([store.vectors.reconstruct_n(0, store.vectors.ntotal),
                               store.questions.reconstruct_n(0, store.questions.ntotal)])
    finally:
        index.close()
