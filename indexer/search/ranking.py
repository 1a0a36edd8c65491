"""The default ranking's levers on top of plain retrieval: which are on, how strongly, and non-answers.

After fusion, `rerank` scores non-answers down and drops repeated talking
points among the first candidates, and `cap_per_document` keeps the best k
with at most a few passages from one document.

`PLAIN` is the baselines' setting (every lever off: plain reciprocal rank
fusion, k=60, equal weights). `DEFAULT_TUNING` is what `Index.search` uses
unless told otherwise, so the CLI, the app and the eval rank alike. Each
lever's measured effect is in docs/quality.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .fusion import RRF_K

FUSIONS = ("rrf", "scores", "evidence")
NO_CLOSE_MATCH = 0.45  # below this confidence (indexer/search/evidence.py) nothing answers the question


@dataclass(frozen=True)
class Tuning:
    """How a search ranks beyond plain retrieval."""

    clean_query: bool = False        # drop greetings, thanks, "two questions" from the question
    fusion: str = "rrf"              # "rrf": reciprocal rank fusion; "scores": cosine + weighted BM25 share;
    #                                  "evidence": every candidate scored on its own and its question's evidence
    dense_weight: float = 1.0        # fusion weight of the meaning ranking
    keyword_weight: float = 1.0      # fusion weight of the BM25 ranking
    rrf_k: int = RRF_K               # the k of reciprocal rank fusion (fusion "rrf")
    question_weight: float = 0.0     # fusion "evidence": weight of the reporter question's vector in the exchange's
    question_keyword_weight: float = 0.0  # fusion "evidence": weight of that question's BM25 share
    question_depth: int = 0          # fusion "evidence": only answers to this many closest prompts score as exchanges
    hint_weight: float = 0.0         # weight of the rankings within a period or speaker the question names (0: off;
    #                                  fusion "evidence": a passage within them scores 1 + this times more)
    non_answer_factor: float = 1.0   # score multiplier for non-answers when the question seeks substance (1: off;
    #                                  measured with rank fusion, whose scores are never negative)
    document_weight: float = 0.0     # add this times the document's best few scores to each passage's (0: off;
    #                                  measured with rank fusion: score fusion's scores are about 30 times larger)
    merge_repeats: bool = False      # keep only the best of passages that open with the same words
    rerank_depth: int = 200          # how many fused candidates the multipliers look at

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {self.fusion!r}")


PLAIN = Tuning()
DEFAULT_TUNING = Tuning(clean_query=True, fusion="evidence", keyword_weight=0.1, question_weight=1.0,
                        question_keyword_weight=0.1, question_depth=3, hint_weight=0.5,
                        document_weight=0.2)


def no_close_match(confidence: float | None, unknown_names: list[str]) -> bool:
    """Whether to say that nothing answers the question: it names someone or something the index never
    mentions, or (when measured) no candidate comes close in meaning."""
    return bool(unknown_names) or (confidence is not None and confidence < NO_CLOSE_MATCH)

_DEFLECTION = re.compile(
    r"\b(?:"
    r"I don['’]t have (?:anything|any (?:update|more|new|additional|comment|details|specifics)|an update|more|a (?:comment|timeline|date|specific)|details)|"
    r"(?:I['’]d|I would|I['’]ll|I will|we['’]d|we would) (?:refer|point|direct) (?:you|them|your)|"
    r"(?:refer|point) you to (?:the|my|our)|"
    r"I['’]m not (?:going|gonna) to (?:get ahead|speak|comment|weigh in|get into|preview|go into|detail|characterize|confirm)|"
    r"(?:don['’]t|do not) want to get ahead|not going to get ahead|"
    r"I (?:can['’]t|cannot) (?:speak to|comment|get into|confirm|get ahead|go into)|"
    r"I['’]ll (?:let|leave it to) (?:the|them|him|her|DOD|DOJ)|"
    r"I haven['’]t (?:seen|talked|had a chance|spoken)|I['’]m not aware of|"
    r"(?:we|I)['’]ll (?:have|get you) more|I['’]ll (?:have to )?(?:check|circle back|get back)|"
    r"(?:a question|questions) for (?:the|them)|I just don['’]t have"
    r")",
    re.IGNORECASE,
)
_ASKS_ABOUT_SILENCE = re.compile(r"\b(?:declin|refus|no comment|would ?n['’]?o?t (?:say|comment)|dodg|silen)", re.IGNORECASE)
_SHORT_WORDS = 15
_DEFLECTION_WORDS = 70


def is_non_answer(text: str) -> bool:
    """A passage that says nothing of substance: very short, or a short deflection ("I'd refer you to DoD")."""
    words = len(text.split())
    return words < _SHORT_WORDS or (words < _DEFLECTION_WORDS and bool(_DEFLECTION.search(text)))


def seeks_substance(question: str) -> bool:
    """False for questions about a refusal or silence itself, where a non-answer may be the answer."""
    return not _ASKS_ABOUT_SILENCE.search(question)


_REPEAT_WORDS = 20


def drop_repeats(ranked: list[tuple[int, float]], texts: dict[int, str]) -> list[tuple[int, float]]:
    """The ranking without later passages whose first words repeat an earlier one's (a talking point said again)."""
    seen, kept = set(), []
    for item in ranked:
        words = re.findall(r"\w+", texts[item[0]].lower())
        key = tuple(words[:_REPEAT_WORDS])
        if len(words) >= _REPEAT_WORDS and key in seen:
            continue
        seen.add(key)
        kept.append(item)
    return kept


_DOCUMENT_EVIDENCE = 3


def with_document_evidence(ranked: list[tuple[int, float]], document_of, weight: float) -> list[tuple[int, float]]:
    """Each score plus `weight` times the sum of its document's best few scores: a briefing that
    keeps coming back to the topic lifts all its passages (follow-up questions ask about the same thing)."""
    best: dict[int, list[float]] = {}
    for passage, score in ranked:
        scores = best.setdefault(int(document_of[passage]), [])
        if len(scores) < _DOCUMENT_EVIDENCE:
            scores.append(score)
    boosted = [(p, s + weight * sum(best[int(document_of[p])])) for p, s in ranked]
    return sorted(boosted, key=lambda pair: -pair[1])


def rerank(ranked: list[tuple[int, float]], question: str, tuning: Tuning, texts_of) -> list[tuple[int, float]]:
    """The first `rerank_depth` candidates with non-answers scored down and repeated talking points
    dropped (per the tuning), re-sorted; the rest as they were. `texts_of(ids)` gives {id: text}."""
    demote = tuning.non_answer_factor != 1 and seeks_substance(question)
    head, tail = ranked[: tuning.rerank_depth], ranked[tuning.rerank_depth :]
    if not head or not (demote or tuning.merge_repeats):
        return ranked
    texts = texts_of([i for i, _ in head])
    if demote:
        head = sorted(((i, s * tuning.non_answer_factor if is_non_answer(texts[i]) else s) for i, s in head),
                      key=lambda pair: -pair[1])
    if tuning.merge_repeats:
        head = drop_repeats(head, texts)
    return head + tail


def cap_per_document(ranked, k: int, per_doc: int | None, document_of) -> list[tuple[int, float]]:
    """The best k, with at most `per_doc` passages from one document (no cap if None or 0)."""
    chosen, taken = [], {}
    for passage, score in ranked:
        doc = document_of[passage]
        if per_doc and taken.get(doc, 0) >= per_doc:
            continue
        taken[doc] = taken.get(doc, 0) + 1
        chosen.append((passage, score))
        if len(chosen) == k:
            break
    return chosen
