"""What a search returns: `Result`, one passage with its speaker, date, source and best sentences."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass

from ..errors import BadQuery
from .highlight import best_sentences
from .query import Query


@dataclass
class Result:
    rank: int
    score: float
    text: str
    highlight: str
    speaker: str
    role: str
    question: str | None
    title: str
    date: str | None
    kind: str
    source_url: str | None
    doc_id: str
    passage_id: str

    def to_dict(self) -> dict:
        return asdict(self)

    def citation(self) -> str:
        """"Jen Psaki, Press Briefing by Press Secretary Jen Psaki, 2022-03-01, <url>"."""
        parts = [self.speaker, self.title, self.date or "undated", self.source_url or self.doc_id]
        return ", ".join(parts)


class Results(list):
    """The results of one search, best first; `no_close_match` says that none of them answers the
    question (they are the closest statements, not answers)."""

    def __init__(self, results=(), no_close_match: bool = False):
        super().__init__(results)
        self.no_close_match = no_close_match


def results_for(db: sqlite3.Connection, chosen: list[tuple[int, float]], query: Query) -> list[Result]:
    """The chosen (id, score) as results, in their order, each with the sentences that best match the query."""
    if not chosen:
        return []
    ids = [i for i, _ in chosen]
    rows = db.execute(
        "SELECT p.id, p.passage_id, p.doc_id, p.speaker, p.role, p.question, p.text, p.date, "
        "p.kind, d.title, d.source_url FROM passages p JOIN documents d ON d.doc_id = p.doc_id "
        f"WHERE p.id IN ({','.join('?' * len(ids))})",
        ids,
    ).fetchall()
    by_id = {row["id"]: row for row in rows}
    words = list(query.terms) + [w for p in query.phrases for w in p.split()]
    return [
        Result(
            rank=rank,
            score=round(score, 6),
            text=row["text"],
            highlight=best_sentences(row["text"], words),
            speaker=row["speaker"],
            role=row["role"],
            question=row["question"],
            title=row["title"],
            date=row["date"],
            kind=row["kind"],
            source_url=row["source_url"],
            doc_id=row["doc_id"],
            passage_id=row["passage_id"],
        )
        for rank, (row, score) in enumerate(((by_id[i], s) for i, s in chosen), start=1)
    ]


def context(db: sqlite3.Connection, passage_id: str, before: int = 2, after: int = 2) -> list[dict]:
    """The turns around a passage's turn, for showing the exchange it belongs to."""
    row = db.execute("SELECT doc_id, turn FROM passages WHERE passage_id = ?", (passage_id,)).fetchone()
    if row is None:
        raise BadQuery(f"no passage {passage_id!r} in this index")
    turns = db.execute(
        "SELECT number, speaker, role, text FROM turns WHERE doc_id = ? AND number BETWEEN ? AND ? "
        "ORDER BY number",
        (row["doc_id"], row["turn"] - before, row["turn"] + after),
    )
    return [dict(t) | {"is_answer": t["number"] == row["turn"]} for t in turns]
