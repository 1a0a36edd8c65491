"""Cut official turns into answer passages, each paired with the question that prompted it.

A passage is at most about `max_words` words and ends on a paragraph
boundary, or, inside a long paragraph, on a sentence boundary: never
mid-sentence. Official words that only run the briefing (procedure.py) and
passages under MIN_PASSAGE_WORDS words are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syntok import segmenter

from ..records import Passage, Turn
from .procedure import MIN_PASSAGE_WORDS, asked_question, is_aside, is_procedure

MAX_WORDS = 200
_MIN_TAIL_WORDS = 25
_TAIL_SLACK = 1.15


@dataclass
class _Piece:
    text: str
    para: int
    part: int | None = None
    words: int = field(init=False)

    def __post_init__(self):
        self.words = len(self.text.split())


def prompting_questions(turns: list[Turn]) -> dict[int, tuple[str, str]]:
    """Turn number -> (question text, role of who asked) for each official turn.

    The question is the reporter turn just before the answer (or, when that
    turn only says "Yes." to an official's counter-question, the question
    before it; none when it says nothing, "Hi."); an official who takes over another official's answer inherits
    its question; a moderator who asks (an interviewer) counts as the asker.
    """
    questions: dict[int, tuple[str, str]] = {}
    for index, turn in enumerate(turns):
        if turn.role != "official" or index == 0:
            continue
        before = turns[index - 1]
        if before.role == "reporter":
            if (asked := asked_question(turns, index - 1)) is not None:
                questions[turn.number] = (asked, "reporter")
        elif before.role == "moderator" and "?" in before.text:
            questions[turn.number] = (before.text, "moderator")
        elif before.role == "official" and before.speaker != turn.speaker and before.number in questions:
            questions[turn.number] = questions[before.number]
    return questions


def make_passages(turns: list[Turn], max_words: int = MAX_WORDS) -> list[Passage]:
    questions = prompting_questions(turns)
    passages = []
    for index, turn in enumerate(turns):
        if turn.role != "official" or is_aside(turn, turns[index + 1] if index + 1 < len(turns) else None):
            continue
        question = questions.get(turn.number, (None, None))[0]
        for group in _group_pieces(_pieces(turn, max_words), max_words):
            passage = _passage(turn, group, question)
            if passage.word_count >= MIN_PASSAGE_WORDS:
                passages.append(passage)
    return passages


def _pieces(turn: Turn, max_words: int) -> list[_Piece]:
    """Whole paragraphs, and long paragraphs split into runs of sentences; procedure left out."""
    pieces = []
    for number, paragraph in enumerate(turn.paragraphs):
        if is_procedure(paragraph):
            continue
        piece = _Piece(paragraph, number)
        if piece.words <= max_words:
            pieces.append(piece)
            continue
        runs = _group_sentences(syntok_sentences(paragraph), max_words)
        pieces.extend(_Piece(run, number, part) for part, run in enumerate(runs))
    return pieces


def _group_pieces(pieces: list[_Piece], max_words: int) -> list[list[_Piece]]:
    groups: list[list[_Piece]] = []
    group_words = 0
    for piece in pieces:
        last = groups[-1] if groups else None
        fits = last is not None and group_words + piece.words <= max_words
        if fits and last[-1].part is None and piece.part is None:
            last.append(piece)
            group_words += piece.words
        else:
            groups.append([piece])
            group_words = piece.words
    if len(groups) > 1 and _tail_fits(groups[-2], groups[-1], max_words):
        groups[-2].extend(groups.pop())
    return groups


def _tail_fits(previous: list[_Piece], tail: list[_Piece], max_words: int) -> bool:
    """A short last piece joins the one before rather than standing alone."""
    tail_words = sum(p.words for p in tail)
    total = tail_words + sum(p.words for p in previous)
    same_shape = previous[-1].part is None and tail[0].part is None
    return same_shape and tail_words < _MIN_TAIL_WORDS and total <= max_words * _TAIL_SLACK


def syntok_sentences(paragraph: str) -> list[str]:
    """Sentences as syntok finds them (it knows "U.S." and "Mr." do not end one)."""
    sentences = []
    for para in segmenter.analyze(paragraph):
        for sentence in para:
            text = "".join(token.spacing + token.value for token in sentence).strip()
            if text:
                sentences.append(text)
    return sentences or [paragraph]


def _group_sentences(sentences: list[str], max_words: int) -> list[str]:
    runs: list[list[str]] = [[]]
    count = 0
    for sentence in sentences:
        words = len(sentence.split())
        if runs[-1] and count + words > max_words:
            runs.append([])
            count = 0
        runs[-1].append(sentence)
        count += words
    return [" ".join(run) for run in runs]


def _passage(turn: Turn, group: list[_Piece], question: str | None) -> Passage:
    first, last = group[0], group[-1]
    passage_id = f"{turn.doc_id}#t{turn.number}p{first.para}-{last.para}"
    if first.part is not None:
        passage_id += f"s{first.part}"
    return Passage(
        passage_id=passage_id,
        doc_id=turn.doc_id,
        turn=turn.number,
        para_start=first.para,
        para_end=last.para,
        speaker=turn.speaker,
        role=turn.role,
        question=question,
        text="\n\n".join(piece.text for piece in group),
    )
