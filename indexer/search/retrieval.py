"""The retrievers' lists gathered and fused, among the passages the filters allow, over a store's BM25 and
dense search (indexer/store/: the local FAISS + SQLite, or Milvus), over the passages and over the reporter
questions they answer.

Filters are applied before the cut: both retrievers search only among the
allowed passages, so a narrow filter still returns k results when k exist.
BM25 searches only the question's rarer words (indexer/search/vocabulary.py).
A hybrid search runs both and fuses them, with the lists a period or speaker
the question names adds (indexer/search/question.py,
indexer/search/fusion.py). Scores are computed here, whichever store
retrieved the candidates.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from . import evidence
from .facts import Facts
from .fusion import fuse
from .query import Query
from .question import Hints
from .ranking import Tuning, with_document_evidence

_POOL: tuple[int, ThreadPoolExecutor] | None = None


class Retriever:
    """The candidates of one search, gathered from a store and scored: by evidence, or fused."""

    def __init__(self, store, facts: Facts):
        self.store, self.facts = store, facts

    def ranking(self, query: Query, where, vector: Future | None, allowed, mode: str,
                wanted: int, tuning: Tuning, hints: Hints, leave_out: frozenset[int]):
        """(id, score) best first, whether every allowed passage was considered, and the confidence
        (None unless the ranking measures it): the default's `weighed` in hybrid mode, else `ranked`."""
        if mode == "hybrid" and tuning.fusion == "evidence":
            return self.weighed(query, where, vector, allowed, wanted, tuning, hints, leave_out)
        return (*self.ranked(query, where, vector, allowed, mode, wanted, tuning, hints), None)

    def weighed(self, query: Query, where, vector: Future, allowed, wanted: int,
                tuning: Tuning, hints: Hints, leave_out: frozenset[int] = frozenset()):
        """The default's hybrid ranking (indexer/search/evidence.py): (id, score) best first, whether every
        allowed passage was considered, and how close the best candidate comes in meaning. The questions
        are searched on another thread while the passages are (each search releases the GIL)."""
        asked = self.facts.questions_of(allowed)
        store = self.store
        asked_keyword = embedding_pool().submit(store.question_keyword, query, asked, wanted, leave_out)
        keyword = store.keyword(query, where, allowed, wanted)
        vector = vector.result()
        asked_dense = embedding_pool().submit(store.question_dense, vector, asked, wanted, leave_out)
        dense = store.dense(vector, where, allowed, wanted)
        asked_keyword, asked_dense = asked_keyword.result(), asked_dense.result()
        narrowed = [(within, store.allowed_ids(within, query)) for _, within in store.narrowed(where, hints)]
        hinted = [ids for _, ids in narrowed]
        found = self._candidates(allowed, [dense, keyword, *(store.dense(vector, w, ids, wanted) for w, ids in narrowed)],
                                 [asked_dense, asked_keyword], hinted, keyword, asked_keyword,
                                 frozenset(q for q, _ in asked_dense[: tuning.question_depth]))
        weights = evidence.Weights(tuning.keyword_weight, tuning.question_weight, tuning.question_keyword_weight,
                                   tuning.hint_weight)
        totals, confidence = evidence.scores(found, vector, store.passage_vectors, store.question_vectors,
                                             self.facts.question_of, weights, leave_out)
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

    def ranked(self, query: Query, where, vector: Future | None, allowed, mode: str,
               wanted: int, tuning: Tuning, hints: Hints):
        """(id, score) best first, and whether every allowed passage was already considered. BM25 runs
        while another thread embeds the question (both release the GIL), so on two cores a hybrid
        query waits for the slower of the two, not their sum."""
        store = self.store
        keyword = store.keyword(query, where, allowed, wanted) if mode != "dense" else []
        vector = vector.result() if vector is not None else None
        dense = store.dense(vector, where, allowed, wanted) if vector is not None else []
        exhausted = len(dense) < wanted and len(keyword) < wanted
        if mode == "dense" and not hints:
            return dense, len(dense) < wanted
        if mode == "keyword" and not hints:
            return keyword, len(keyword) < wanted
        scored = {"dense": dense, "keyword": keyword}
        weights = {"dense": tuning.dense_weight, "keyword": tuning.keyword_weight}
        for name, hint_where in store.narrowed(where, hints):
            hint_allowed = store.allowed_ids(hint_where, query)
            if mode != "keyword":
                scored[f"dense {name}"] = store.dense(vector, hint_where, hint_allowed, wanted)
                weights[f"dense {name}"] = tuning.dense_weight * tuning.hint_weight
            if mode != "dense":
                scored[f"keyword {name}"] = store.keyword(query, hint_where, hint_allowed, wanted)
                weights[f"keyword {name}"] = tuning.keyword_weight * tuning.hint_weight
        fused = fuse(scored, weights, tuning)
        if tuning.document_weight:
            fused = with_document_evidence(fused, self.facts.document_of, tuning.document_weight)
        return fused, exhausted


def embedding_pool() -> ThreadPoolExecutor:
    """The threads that embed questions, made per process (a forked child inherits no threads)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="podium-embed"))
    return _POOL[1]
