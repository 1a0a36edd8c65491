"""The default's scoring: each candidate passage scored on all its evidence, its own and its question's.

The retrievers only gather candidates (the best passages by meaning and by
keywords, and the passages answering the reporters' questions closest to the
user's). Each candidate is then scored exactly, whichever list brought it:

    the closer of: cosine(question, passage), and
                   cosine(question, the exchange: passage + question_weight x its prompt)
    + keyword_weight x its BM25 over the query's best BM25
    + question_keyword_weight x that question's BM25 over the best question BM25

times 1 + hint_weight when it lies in the period and with the speakers the
question names. A reporter's question often carries the topic its answer
never repeats ("Is Putin a war criminal?" "He was speaking from his heart."),
so it counts as evidence for its answer; a passage no one asked for (an
opening statement, a written statement) has its document's title as its
prompt (indexer/index/rows.py). The exchange's vector is the sum of the two
unit vectors, normalized: the cosine to it is (cos_p + w cos_q) / |v_p + w v_q|,
so a question and an answer that say different things (the implicit case)
make a short sum and count for more together than either alone; an answer
whose prompt is far from the user's question keeps its own cosine. Only the
answers to the few prompts closest to the user's question (`closest`, the
tuning's question_depth) are scored as exchanges and by their prompt's BM25:
counted for every candidate, other reporters' similar questions lifted their
answers over the one asked for (docs/quality.md, "Prompts as evidence"). `leave_out` names questions whose
evidence is ignored: the pair benchmark asks each sampled reporter question
and must not find that question's own copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np


@dataclass(frozen=True)
class Candidates:
    """What the retrievers found: passage ids, and the BM25 scores of passages and of questions by id."""

    ids: np.ndarray
    keyword: dict[int, float]
    asked_keyword: dict[int, float]
    boosted: np.ndarray  # per id: whether it lies within every hint
    closest: frozenset[int] = frozenset()  # the prompts closest to the question: only theirs count as exchanges


@dataclass(frozen=True)
class Weights:
    keyword: float
    question: float
    question_keyword: float
    hint: float


def scores(found: Candidates, vector: np.ndarray, passages: faiss.Index, questions: faiss.Index,
           question_of: np.ndarray, weights: Weights, leave_out: frozenset[int] = frozenset()):
    """Each candidate's score, in the order of `found.ids`, and the confidence: how close the best one comes
    in meaning alone (its cosine, or its exchange's; see `ranking.no_close_match`)."""
    ids = found.ids
    said = passages.reconstruct_batch(ids)
    close = said @ vector
    asked = question_of[ids]
    heard = (asked >= 0) & ~np.isin(asked, list(leave_out)) & np.isin(asked, list(found.closest))
    if heard.any() and weights.question:
        close[heard] = _exchange_cosine(said[heard], questions.reconstruct_batch(asked[heard]), vector,
                                        weights.question)
    total = (close + weights.keyword * _relative(found.keyword, ids)
             + weights.question_keyword * np.where(heard, _relative(found.asked_keyword, asked), 0.0))
    return np.where(found.boosted, total * (1 + weights.hint), total), float(close.max(initial=0.0))


def _exchange_cosine(said: np.ndarray, asked: np.ndarray, vector: np.ndarray, weight: float) -> np.ndarray:
    """Cosine of `vector` to each answer, or to the normalized sum of its and its prompt's unit vectors if closer."""
    exchange = said + weight * asked
    return np.maximum(said @ vector, (exchange @ vector) / np.linalg.norm(exchange, axis=1))


def _relative(scored: dict[int, float], keys: np.ndarray) -> np.ndarray:
    """Each key's score as a share of the best (BM25 means nothing from one query to the next); 0 if absent."""
    best = max(scored.values(), default=0.0)
    if best <= 0:
        return np.zeros(len(keys))
    return np.array([scored.get(int(key), 0.0) for key in keys]) / best
