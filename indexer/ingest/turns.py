"""Split a document's paragraphs into speaker turns.

A labelled transcript becomes one turn per label; the preamble before the
first label (place, time stamp) and everything that is not speech (time
stamps, `END`, a lone `(Laughter.)`) is left out. A document with no labels
at all is a written statement: one turn, by its author.
"""

from __future__ import annotations

import re

from ..records import Document, Turn
from .speakers import SpeakerResolver, is_person_label, split_label

_TIME_STAMP = re.compile(r"^\d{1,2}:\d{2}\s*[AaPp]\.?\s*[Mm]\.?(?:\s+[A-Z]{2,4}T?)?\.?$")
_END = re.compile(r"^END(?:\b|$)")
_STAGE_DIRECTION = re.compile(r"^[\[(][^\])]{0,80}[\])]\.?$")
_TRANSCRIPT_KINDS = ("press briefing", "background call", "press call", "gaggle",
                     "press conference", "interview", "remarks")


def split_turns(doc: Document) -> list[Turn]:
    if not doc.paragraphs:
        return []
    resolver = SpeakerResolver(doc)
    labelled = [split_label(p) for p in doc.paragraphs]
    if not _is_transcript(doc, labelled):
        return [_statement_turn(doc, resolver)]
    turns: list[Turn] = []
    current: Turn | None = None
    for paragraph, found in zip(doc.paragraphs, labelled):
        if found:
            label, rest = found
            speaker = resolver.resolve(label)
            current = Turn(doc.doc_id, len(turns), label, speaker.name, speaker.role, [])
            turns.append(current)
            paragraph = rest
        elif _END.match(paragraph):
            current = None
            continue
        if current is not None and _is_speech(paragraph):
            current.paragraphs.append(paragraph)
    turns = [turn for turn in turns if turn.paragraphs or turn.role != "official"]
    for number, turn in enumerate(turns):
        turn.number = number
    _mark_interviewers(doc, turns)
    return turns


def _is_transcript(doc: Document, labelled: list) -> bool:
    """Labels make a transcript; in a written release, headings like `FACT:` do not."""
    labels = [found[0] for found in labelled if found]
    if not labels:
        return False
    if doc.kind in _TRANSCRIPT_KINDS or "Q" in labels:
        return True
    people = [label for label in labels if is_person_label(label)]
    return len(people) >= 3 and len(set(people)) >= 2


def _statement_turn(doc: Document, resolver: SpeakerResolver) -> Turn:
    author = resolver.author()
    paragraphs = [p for p in doc.paragraphs if _is_speech(p)]
    return Turn(doc.doc_id, 0, author.label, author.name, author.role, paragraphs)


def _is_speech(paragraph: str) -> bool:
    return bool(paragraph) and not (
        _TIME_STAMP.match(paragraph) or _STAGE_DIRECTION.match(paragraph) or _END.match(paragraph)
    )


def _mark_interviewers(doc: Document, turns: list[Turn]) -> None:
    """An interviewer (`MR. COOPER` at a town hall) asks; an official answers.

    A named speaker the title does not name, who speaks at least twice and
    mostly in questions, in a document where someone else answers, is the
    moderator of that exchange, not an official.
    """
    by_speaker: dict[str, list[Turn]] = {}
    for turn in turns:
        if turn.role == "official":
            by_speaker.setdefault(turn.speaker, []).append(turn)
    if len(by_speaker) < 2:
        return
    for speaker, spoken in by_speaker.items():
        asks = sum("?" in turn.text[-200:] for turn in spoken)
        surname = speaker.split()[-1]
        if len(spoken) >= 2 and asks >= 0.6 * len(spoken) and surname not in doc.title:
            for turn in spoken:
                turn.role = "moderator"
