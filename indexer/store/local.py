"""The local store: one version of an index directory, FAISS vectors and SQLite tables, read for searching.

Filters are applied before the cut: the allowed passages are selected in
SQLite and both retrievers search only among them, so a narrow filter still
returns k results when k exist. BM25 is FTS5's. Its one read-only SQLite
connection serves every thread (this SQLite is serialized,
`sqlite3.threadsafety == 3`), so a version a later build prunes stays
readable through the open file for as long as the store is open; a second
connection lets the passages' and the questions' BM25 run at once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import faiss
import numpy as np

from ..index import layout, opening, schema
from ..index import vectors as vector_index
from ..index.manifest import Manifest
from ..search.facts import BoundedCache
from ..search.filters import Filters, filter_sql
from ..search.query import Query
from ..search.question import Hints
from ..search.vocabulary import Vocabulary

_FILTER_CACHE = 32
_FILTERED_QUESTIONS = 10
_BM25 = "SELECT rowid, bm25(passages_fts) AS s FROM passages_fts WHERE passages_fts MATCH ?"
_QUESTION_BM25 = "SELECT rowid, bm25(questions_fts) AS s FROM questions_fts WHERE questions_fts MATCH ?"
_RESULT_COLUMNS = ("SELECT p.id, p.passage_id, p.doc_id, p.speaker, p.role, p.question, p.text, p.date, "
                   "p.kind, d.title, d.source_url FROM passages p JOIN documents d ON d.doc_id = p.doc_id ")


class LocalStore:
    """One version of an index directory, opened read-only."""

    def __init__(self, path: Path, version: Path, manifest: Manifest, db: sqlite3.Connection,
                 vectors: faiss.Index, questions: faiss.Index):
        self.path, self.version, self.manifest, self.db = path, version, manifest, db
        self.vectors, self.questions = vectors, questions
        self.passage_vectors, self.question_vectors = vectors, questions  # what evidence.scores reconstructs from
        self.question_db = schema.connect_readonly(version)
        self.settings = manifest.vector_settings
        self._filtered = BoundedCache(_FILTER_CACHE)

    @classmethod
    def open(cls, path: Path) -> LocalStore:
        version, manifest, db, vectors, questions = opening.open_current(path)
        return cls(path, version, manifest, db, vectors, questions)

    @property
    def location(self) -> str:
        return str(self.path)

    def reading(self):
        """For methods that read the database: a damaged page met mid-query is an IndexCorrupt error."""
        return schema.damage_reported(self.version)

    def column(self, name: str) -> list:
        """One column of the passages, in row order."""
        return [row[0] for row in self.db.execute(f"SELECT {name} FROM passages ORDER BY id")]

    def vocabulary(self) -> Vocabulary:
        return Vocabulary.of_index(self.db)

    def where(self, filters: Filters, facts, query: Query | None = None) -> tuple[str, list]:
        """The filters as SQL; the query's phrases are kept by `allowed_ids` through FTS5."""
        return filter_sql(filters, facts)

    def narrowed(self, where: tuple[str, list], hints: Hints):
        """(name, where) for each hint: the user's filters narrowed to the period, or to the speakers, named."""
        base, params = where
        narrowed = []
        if hints.periods:
            clause = " OR ".join("p.date BETWEEN ? AND ?" for _ in hints.periods)
            narrowed.append(("period", f"({clause})", [date for period in hints.periods for date in period]))
        if hints.speakers:
            narrowed.append(("speaker", f"p.speaker IN ({','.join('?' * len(hints.speakers))})",
                             list(hints.speakers)))
        for name, clause, extra in narrowed:
            yield name, (f"{base} AND {clause}" if base else clause, [*params, *extra])

    def texts(self, ids: list[int]) -> dict[int, str]:
        return dict(self.db.execute(f"SELECT id, text FROM passages WHERE id IN ({','.join('?' * len(ids))})",
                                    ids).fetchall())

    def dense(self, vector: np.ndarray, where, allowed: np.ndarray | None, wanted: int) -> list[tuple[int, float]]:
        return vector_index.search(self.vectors, self.settings, vector, wanted, allowed)

    def question_dense(self, vector: np.ndarray, asked: np.ndarray | None, wanted: int,
                       leave_out: frozenset[int]) -> list[tuple[int, float]]:
        """(question id, cosine) of the reporter questions closest to the user's, among `asked` (None: all)."""
        found = vector_index.search(self.questions, vector_index.QUESTION_SETTINGS, vector,
                                    wanted + len(leave_out), asked)
        return [(q, s) for q, s in found if q not in leave_out][:wanted]

    def question_keyword(self, query: Query, asked: np.ndarray | None, wanted: int,
                         leave_out: frozenset[int]) -> list[tuple[int, float]]:
        """(question id, BM25) of the reporter questions that share the query's words, among `asked`. FTS5
        cannot keep to a set of ids that is not one run (a `rowid IN` list took 850 ms), so under a filter the
        best matches of the whole index are taken, _FILTERED_QUESTIONS times more, and kept to `asked`."""
        expression = query.fts_expression()
        if not expression or (asked is not None and not len(asked)):
            return []
        limit = (wanted if asked is None else _FILTERED_QUESTIONS * wanted) + len(leave_out)
        rows = self.question_db.execute(f"{_QUESTION_BM25} ORDER BY s LIMIT ?", [expression, limit]).fetchall()
        found = [(int(q), -float(s)) for q, s in rows if int(q) not in leave_out]
        if asked is not None:
            kept = np.isin([q for q, _ in found], asked)
            found = [pair for pair, keep in zip(found, kept) if keep]
        return found[:wanted]

    def keyword(self, query: Query, where: tuple[str, list], allowed: np.ndarray | None,
                wanted: int) -> list[tuple[int, float]]:
        """BM25 among the allowed passages. When they are one run of ids (a date filter: ids follow the
        documents' dates) FTS5 itself keeps to that range, without the join to the passages: a year of
        the press briefings took 5 ms instead of 28."""
        expression = query.fts_expression()
        if not expression:
            return []
        where, params = where
        span = _one_run(allowed) if where else None
        if span:
            sql = f"{_BM25} AND rowid BETWEEN ? AND ? ORDER BY s LIMIT ?"
            params = list(span)
        elif where:
            sql = ("SELECT f.rowid, bm25(passages_fts) AS s FROM passages_fts f "
                   f"JOIN passages p ON p.id = f.rowid WHERE passages_fts MATCH ? AND {where} ORDER BY s LIMIT ?")
        else:  # no filter, no join: half the time
            sql = f"{_BM25} ORDER BY s LIMIT ?"
        rows = self.db.execute(sql, [expression, *params, wanted]).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def allowed_ids(self, where: tuple[str, list], query: Query) -> np.ndarray | None:
        """The passage ids that obey the filters and contain every quoted phrase; None for all."""
        where, params = where
        phrase = query.phrase_expression()
        if not phrase:
            return self._filtered_ids(where, tuple(params)) if where else None
        sql = "SELECT p.id FROM passages p JOIN passages_fts f ON f.rowid = p.id WHERE "
        sql += f"{where} AND passages_fts MATCH ?" if where else "passages_fts MATCH ?"
        return self._ids(sql, [*params, phrase])

    def match_count(self, query: Query, where: tuple[str, list]) -> int:
        """How many passages within the filters contain any of the query's words (all its phrases)."""
        where, params = where
        sql = ("SELECT count(*) FROM passages_fts f JOIN passages p ON p.id = f.rowid "
               f"WHERE passages_fts MATCH ? {'AND ' + where if where else ''}")
        return self.db.execute(sql, [query.fts_expression(), *params]).fetchone()[0]

    def _filtered_ids(self, where: str, params: tuple) -> np.ndarray:
        """The ids within the filters; the last 32 filters' are kept, at most 0.6 MB each (a user asks
        several questions with the same filters, and reading the 17,000 ids of a year took 6-10 ms)."""
        return self._filtered.get((where, params), lambda: self._ids(f"SELECT p.id FROM passages p WHERE {where}",
                                                                     params))

    def _ids(self, sql: str, params) -> np.ndarray:
        ids = np.array(sorted(row[0] for row in self.db.execute(sql, params)), dtype=np.int64)
        ids.flags.writeable = False  # shared by the searches the cache serves
        return ids

    def passage_rows(self, ids: list[int]) -> dict[int, sqlite3.Row]:
        """Each passage's fields and its document's title and link, by row id."""
        rows = self.db.execute(f"{_RESULT_COLUMNS}WHERE p.id IN ({','.join('?' * len(ids))})", ids).fetchall()
        return {row["id"]: row for row in rows}

    def passage_place(self, passage_id: str) -> tuple[str, int] | None:
        """(doc_id, turn) of a passage, None if the index has none of that id."""
        row = self.db.execute("SELECT doc_id, turn FROM passages WHERE passage_id = ?", (passage_id,)).fetchone()
        return (row["doc_id"], row["turn"]) if row else None

    def turns(self, doc_id: str, first: int | None = None, last: int | None = None) -> list[dict]:
        """A document's turns (numbers `first`..`last` if given) in order: number, speaker, role, text."""
        sql = "SELECT number, speaker, role, text FROM turns WHERE doc_id = ?"
        params = [doc_id]
        if first is not None:
            sql += " AND number BETWEEN ? AND ?"
            params += [first, last]
        return [dict(row) for row in self.db.execute(f"{sql} ORDER BY number", params)]

    def document(self, doc_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT doc_id, title, date, kind, path, source_name, source_url FROM documents "
                               "WHERE doc_id = ?", (doc_id,)).fetchone()

    def passages_of(self, doc_id: str) -> list[sqlite3.Row]:
        """A document's passages in order: passage_id, turn, para_start, para_end."""
        return self.db.execute("SELECT passage_id, turn, para_start, para_end FROM passages WHERE doc_id = ? "
                               "ORDER BY turn, para_start", (doc_id,)).fetchall()

    # ---- what the eval reads (indexer/evaluation/): the same rows from either store

    def document_paths(self) -> list[tuple[str, str]]:
        """(doc_id, path) of every document."""
        return [tuple(row) for row in self.db.execute("SELECT doc_id, path FROM documents")]

    def prompted_passages(self) -> list[tuple[str, str, str, int]]:
        """(doc_id, question, passage_id, question_id) of every passage a question prompted, in row order."""
        return [tuple(row) for row in self.db.execute(
            "SELECT doc_id, question, passage_id, question_id FROM passages WHERE question IS NOT NULL ORDER BY id")]

    def passage_texts_in(self, doc_id: str) -> list[tuple[str, str]]:
        """(passage_id, text) of a document's passages."""
        return [tuple(row) for row in self.db.execute("SELECT passage_id, text FROM passages WHERE doc_id = ?",
                                                      (doc_id,))]

    def passages_on(self, dates: list[str]) -> list[tuple[str, str, str]]:
        """(passage_id, text, date) of the passages of these dates."""
        return [tuple(row) for row in self.db.execute(
            f"SELECT passage_id, text, date FROM passages WHERE date IN ({','.join('?' * len(dates))})", dates)]

    def texts_by_passage_id(self, passage_ids: list[str]) -> dict[str, str]:
        return dict(self.db.execute(f"SELECT passage_id, text FROM passages WHERE passage_id IN "
                                    f"({','.join('?' * len(passage_ids))})", passage_ids).fetchall())

    def keyword_text_only(self) -> bool:
        """Whether the keyword index holds the passage text and nothing else (no question words)."""
        return [row[1] for row in self.db.execute("PRAGMA table_info(passages_fts)")] == ["text"]

    def a_prompted_passage(self) -> tuple[str, str] | None:
        """(text, content_hash) of one passage a question prompted, None if none was."""
        row = self.db.execute("SELECT text, content_hash FROM passages WHERE question IS NOT NULL LIMIT 1").fetchone()
        return tuple(row) if row else None

    def sizes(self) -> dict:
        """How many documents and passages the version holds, and its bytes on disk."""
        return {"documents": self.db.execute("SELECT count(*) FROM documents").fetchone()[0],
                "passages": self.vectors.ntotal, "size_bytes": layout.directory_size(self.version)}

    def close(self) -> None:
        self.db.close()
        self.question_db.close()


def _one_run(ids: np.ndarray | None) -> tuple[int, int] | None:
    """(first, last) if the sorted, distinct `ids` are every id from first to last, else None."""
    if ids is None or not len(ids) or int(ids[-1] - ids[0]) + 1 != len(ids):
        return None
    return int(ids[0]), int(ids[-1])
