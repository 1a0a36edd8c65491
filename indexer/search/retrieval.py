"""The retrievers, among the passages the filters allow: BM25 over FTS5, and dense search in FAISS, over
the passages and over the reporter questions they answer.

Filters are applied before the cut: the allowed passages are selected in
SQLite and both retrievers search only among them, so a narrow filter still
returns k results when k exist. BM25 searches only the question's rarer
words (indexer/search/vocabulary.py). A hybrid search runs both and fuses
them, with the lists a period or speaker the question names adds
(indexer/search/question.py, indexer/search/fusion.py).
"""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor

import faiss
import numpy as np

from ..index import vectors as vector_index
from . import evidence
from .facts import BoundedCache, Facts
from .fusion import fuse
from .query import Query
from .question import Hints
from .ranking import Tuning, with_document_evidence

_FILTER_CACHE = 32
_FILTERED_QUESTIONS = 10
_BM25 = "SELECT rowid, bm25(passages_fts) AS s FROM passages_fts WHERE passages_fts MATCH ?"
_QUESTION_BM25 = "SELECT rowid, bm25(questions_fts) AS s FROM questions_fts WHERE questions_fts MATCH ?"
_POOL: tuple[int, ThreadPoolExecutor] | None = None


class Retriever:
    """BM25 and dense search over one open version."""

    def __init__(self, db: sqlite3.Connection, vectors: faiss.Index, questions: faiss.Index, settings: dict,
                 facts: Facts, question_db: sqlite3.Connection):
        self.db, self.vectors, self.questions, self.settings, self.facts = db, vectors, questions, settings, facts
        self.question_db = question_db  # a second connection, so both BM25 searches run at once
        self._filtered = BoundedCache(_FILTER_CACHE)

    def ranking(self, query: Query, where: tuple[str, list], vector: Future | None, allowed, mode: str,
                wanted: int, tuning: Tuning, hints: Hints, leave_out: frozenset[int]):
        """(id, score) best first, whether every allowed passage was considered, and the confidence
        (None unless the ranking measures it): the default's `weighed` in hybrid mode, else `ranked`."""
        if mode == "hybrid" and tuning.fusion == "evidence":
            return self.weighed(query, where, vector, allowed, wanted, tuning, hints, leave_out)
        return (*self.ranked(query, where, vector, allowed, mode, wanted, tuning, hints), None)

    def texts(self, ids: list[int]) -> dict[int, str]:
        return dict(self.db.execute(f"SELECT id, text FROM passages WHERE id IN ({','.join('?' * len(ids))})",
                                    ids).fetchall())

    def weighed(self, query: Query, where: tuple[str, list], vector: Future, allowed, wanted: int,
                tuning: Tuning, hints: Hints, leave_out: frozenset[int] = frozenset()):
        """The default's hybrid ranking (indexer/search/evidence.py): (id, score) best first, whether every
        allowed passage was considered, and how close the best candidate comes in meaning. The questions
        are searched on another thread while the passages are (each search releases the GIL)."""
        asked = self.facts.questions_of(allowed)
        asked_keyword = embedding_pool().submit(self.question_keyword, query, asked, wanted, leave_out)
        keyword = self.keyword(query, where, allowed, wanted)
        vector = vector.result()
        asked_dense = embedding_pool().submit(self.question_dense, vector, asked, wanted, leave_out)
        dense = self.dense(vector, allowed, wanted)
        asked_keyword, asked_dense = asked_keyword.result(), asked_dense.result()
        hinted = [self.allowed_ids(hint_where, query) for _, hint_where in _hint_filters(where, hints)]
        found = self._candidates(allowed, [dense, keyword, *(self.dense(vector, h, wanted) for h in hinted)],
                                 [asked_dense, asked_keyword], hinted, keyword, asked_keyword,
                                 frozenset(q for q, _ in asked_dense[: tuning.question_depth]))
        weights = evidence.Weights(tuning.keyword_weight, tuning.question_weight, tuning.question_keyword_weight,
                                   tuning.hint_weight)
        totals, confidence = evidence.scores(found, vector, self.vectors, self.questions, self.facts.question_of,
                                             weights, leave_out)
        order = np.argsort(-totals, kind="stable")
        ranked = [(int(found.ids[i]), float(totals[i])) for i in order]
        if tuning.document_weight:
            ranked = with_document_evidence(ranked, self.facts.document_of, tuning.document_weight)
        return ranked, len(dense) < wanted and len(keyword) < wanted, confidence

    def _candidates(self, allowed, passage_lists, question_lists, hinted, keyword, asked_keyword, closest):
        """Every passage a list names, or that answers a question a list names, within the filters."""
        ids = {i for found in passage_lists for i, _ in found}
        ids.update(self.facts.answers_to([q for found in question_lists for q, _ in found]).tolist())
        ids = np.array(sorted(ids), dtype=np.int64)
        if allowed is not None:
            ids = ids[np.isin(ids, allowed)]
        boosted = np.full(len(ids), bool(hinted))
        for within in hinted:
            boosted &= np.isin(ids, within)
        return evidence.Candidates(ids, dict(keyword), dict(asked_keyword), boosted, closest)

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

    def ranked(self, query: Query, where: tuple[str, list], vector: Future | None, allowed, mode: str,
               wanted: int, tuning: Tuning, hints: Hints):
        """(id, score) best first, and whether every allowed passage was already considered. BM25 runs
        while another thread embeds the question (both release the GIL), so on two cores a hybrid
        query waits for the slower of the two, not their sum."""
        keyword = self.keyword(query, where, allowed, wanted) if mode != "dense" else []
        vector = vector.result() if vector is not None else None
        dense = self.dense(vector, allowed, wanted) if vector is not None else []
        exhausted = len(dense) < wanted and len(keyword) < wanted
        if mode == "dense" and not hints:
            return dense, len(dense) < wanted
        if mode == "keyword" and not hints:
            return keyword, len(keyword) < wanted
        scored = {"dense": dense, "keyword": keyword}
        weights = {"dense": tuning.dense_weight, "keyword": tuning.keyword_weight}
        for name, hint_where in _hint_filters(where, hints):
            hint_allowed = self.allowed_ids(hint_where, query)
            if mode != "keyword":
                scored[f"dense {name}"] = self.dense(vector, hint_allowed, wanted)
                weights[f"dense {name}"] = tuning.dense_weight * tuning.hint_weight
            if mode != "dense":
                scored[f"keyword {name}"] = self.keyword(query, hint_where, hint_allowed, wanted)
                weights[f"keyword {name}"] = tuning.keyword_weight * tuning.hint_weight
        fused = fuse(scored, weights, tuning)
        if tuning.document_weight:
            fused = with_document_evidence(fused, self.facts.document_of, tuning.document_weight)
        return fused, exhausted

    def dense(self, vector: np.ndarray, allowed: np.ndarray | None, wanted: int) -> list[tuple[int, float]]:
        return vector_index.search(self.vectors, self.settings, vector, wanted, allowed)

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


def _hint_filters(where: tuple[str, list], hints: Hints):
    """(name, where) for each hint: the user's filters narrowed to the period, or to the speakers, named."""
    base, params = where
    narrowed = []
    if hints.periods:
        clause = " OR ".join("p.date BETWEEN ? AND ?" for _ in hints.periods)
        narrowed.append(("period", f"({clause})", [date for period in hints.periods for date in period]))
    if hints.speakers:
        narrowed.append(("speaker", f"p.speaker IN ({','.join('?' * len(hints.speakers))})", list(hints.speakers)))
    for name, clause, extra in narrowed:
        yield name, (f"{base} AND {clause}" if base else clause, [*params, *extra])


def _one_run(ids: np.ndarray | None) -> tuple[int, int] | None:
    """(first, last) if the sorted, distinct `ids` are every id from first to last, else None."""
    if ids is None or not len(ids) or int(ids[-1] - ids[0]) + 1 != len(ids):
        return None
    return int(ids[0]), int(ids[-1])


def embedding_pool() -> ThreadPoolExecutor:
    """The threads that embed questions, made per process (a forked child inherits no threads)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="podium-embed"))
    return _POOL[1]
