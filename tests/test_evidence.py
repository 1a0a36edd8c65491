"""The default's scoring of candidates (indexer/search/evidence.py) on hand-made unit vectors."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from indexer.search import evidence

WEIGHTS = evidence.Weights(keyword=0.1, question=1.0, question_keyword=0.1, hint=0.5)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def flat(*vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(len(vectors[0]))
    index.add(np.stack(vectors))
    return index


# The user asks about axis 0. Passage 0 says something else (axis 1) but answers a question on axis 0
# ("Is Putin a war criminal?" "He was speaking from his heart."); passage 1 is half on topic, its
# prompt is not.
QUERY = unit(1, 0, 0)
PASSAGES = flat(unit(0.2, 1, 0), unit(1, 0, 1))
QUESTIONS = flat(unit(1, 0.1, 0), unit(0, 0, 1))
QUESTION_OF = np.array([0, 1])


def found(boosted=(False, False), keyword=None, asked_keyword=None, closest=(0, 1)) -> evidence.Candidates:
    return evidence.Candidates(np.array([0, 1]), keyword or {}, asked_keyword or {}, np.array(boosted),
                               frozenset(closest))


def test_an_answer_whose_question_names_the_topic_scores_on_the_exchange():
    scores, confidence = evidence.scores(found(), QUERY, PASSAGES, QUESTIONS, QUESTION_OF, WEIGHTS)

    exchange = unit(0.2, 1, 0) + unit(1, 0.1, 0)
    assert scores[0] == pytest.approx(float(exchange @ QUERY / np.linalg.norm(exchange)), abs=1e-6)
    assert scores[1] == pytest.approx(float(unit(1, 0, 1) @ QUERY), abs=1e-6)  # its own cosine is closer
    assert scores[0] > scores[1] and confidence == pytest.approx(float(scores[0]), abs=1e-6)


def test_only_the_closest_prompts_make_exchanges():
    scores, _ = evidence.scores(found(closest=(1,)), QUERY, PASSAGES, QUESTIONS, QUESTION_OF, WEIGHTS)

    assert scores[0] == pytest.approx(float(unit(0.2, 1, 0) @ QUERY), abs=1e-6)


def test_a_question_left_out_is_no_evidence():
    scores, _ = evidence.scores(found(), QUERY, PASSAGES, QUESTIONS, QUESTION_OF, WEIGHTS, leave_out=frozenset({0}))

    assert scores[0] == pytest.approx(float(unit(0.2, 1, 0) @ QUERY), abs=1e-6)
    assert scores[0] < scores[1]


def test_keywords_count_as_shares_of_the_best_and_hints_multiply():
    plain, _ = evidence.scores(found(), QUERY, PASSAGES, QUESTIONS, QUESTION_OF, WEIGHTS)
    worded, _ = evidence.scores(found(keyword={1: 8.0, 0: 2.0}, asked_keyword={0: 5.0}), QUERY, PASSAGES, QUESTIONS,
                                QUESTION_OF, WEIGHTS)
    hinted, _ = evidence.scores(found(boosted=(False, True)), QUERY, PASSAGES, QUESTIONS, QUESTION_OF, WEIGHTS)

    assert worded - plain == pytest.approx([0.1 * 2 / 8 + 0.1 * 1.0, 0.1 * 1.0])
    assert hinted[0] == pytest.approx(plain[0]) and hinted[1] == pytest.approx(1.5 * plain[1])
