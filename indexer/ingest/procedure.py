"""Official words that run a briefing rather than answer a question.

Calling on a reporter ("Phil.", "Go ahead, Peter."), "Let me finish my answer.",
a counter-question ("— applied to Russia?"), handing a question to another
official ("You want to answer it?", "Have we lost [senior administration
official]?", "Dr. Fauci actually has to go."), a greeting said on its own
("Good afternoon, everybody."), a call's ground rules, embargo notice and
sign-off ("That concludes the call. And with that, the embargo is lifted"):
they stay in the transcript, but they are not passages, so they never rank as
answers. A reporter's "Yes." after an official's counter-question is not the
question either: the answer that follows was prompted by the question before
the counter-question."""

from __future__ import annotations

import re

from ..records import Turn

MIN_PASSAGE_WORDS = 8  # shorter is a reply like "Yeah." or "Go ahead, Ed.", never an answer to quote alone
_ASIDE_WORDS = 25  # an official turn this short that ends in a question mark asks back, it does not answer
_CONFIRMATION_WORDS = 8  # a reporter turn this short with no question mark confirms ("Yes.", "That's right.")
_EMPTY_WORDS = 4  # a confirmation this short says nothing at all ("Hi.", "Got it.", "Thanks, Jen.")
_PROCEDURE_WORDS = 100  # a paragraph of ground rules or a sign-off is short; a long one is substance
_PROCEDURE = re.compile(
    r"\b(?:embargo(?:ed)?|on background|on-background|attributable to|attributed to|ground rules|"
    r"(?:that|this) concludes|concludes (?:our|the|this|today)|that(?:['’]s| is) all the time we have|"
    r"(?:thank you|thanks)(?: all| everyone| everybody)?(?: so much| very much)? for joining|"
    r"(?:leave|end) it there)",
    re.IGNORECASE,
)
_CALLING_ON = re.compile(r"\b(?:go ahead|next question|last question|one more question|in the back|take a few)",
                         re.IGNORECASE)
_CALLING_WORDS = 15
_HANDING_OVER = re.compile(
    r"\b(?:you want|you like) to (?:take|answer|add|jump|kick|start|speak)[^.?!]{0,40}\?|"
    r"(?:he|she)(?: says (?:he|she))?['’]ll (?:answer|take) (?:it|that|this)|have we lost|over to you|"
    r"(?:has|have) to (?:go|run)[.,!]|take (?:a couple|a few|one|two) more questions?|"
    r"\bgood (?:morning|afternoon|evening),? (?:everybody|everyone|all)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def is_procedure(paragraph: str) -> bool:
    """Ground rules, an embargo notice, a sign-off, calling on the next reporter, handing a question to
    another official, or a greeting on its own."""
    words = len(paragraph.split())
    if words < _PROCEDURE_WORDS and _PROCEDURE.search(paragraph):
        return True
    if _hands_over(paragraph):
        return True
    return words < _CALLING_WORDS and bool(_CALLING_ON.search(paragraph))


def _hands_over(paragraph: str) -> bool:
    """A paragraph of handing over or greeting, with fewer other words than a passage needs:
    "All right. Good afternoon, everybody." runs the briefing; a greeting and the day's news is news."""
    sentences = _SENTENCE_END.split(paragraph)
    rest = [sentence for sentence in sentences if not _HANDING_OVER.search(sentence)]
    return len(rest) < len(sentences) and len(" ".join(rest).split()) < MIN_PASSAGE_WORDS


def is_aside(turn: Turn, following: Turn | None) -> bool:
    """An official turn that is no answer: too short to be one, or a short question back to the reporter
    or to another official (a hand-over)."""
    words = sum(len(p.split()) for p in turn.paragraphs if not is_procedure(p))
    if words < MIN_PASSAGE_WORDS:
        return True
    asks = turn.text.rstrip().endswith("?") and following is not None
    answered_by_another = asks and (following.role == "reporter"
                                    or (following.role == "official" and following.speaker != turn.speaker))
    return answered_by_another and words < _ASIDE_WORDS


def is_confirmation(turn: Turn) -> bool:
    """A reporter's short reply with no question in it: "Yes.", "That's right.", "Thank you."."""
    return turn.role == "reporter" and "?" not in turn.text and len(turn.text.split()) < _CONFIRMATION_WORDS


def asked_question(turns: list[Turn], index: int) -> str | None:
    """The question for the answer after the reporter turn `turns[index]`: that turn's text, unless it
    only confirms what an official asked back ("Yes."), then the question before; None if what is left
    says nothing ("Hi.", "Got it.")."""
    while index >= 2 and is_confirmation(turns[index]) and turns[index - 2].role == "reporter" \
            and _asks_back(turns[index - 1], turns[index]):
        index -= 2
    text = turns[index].text
    return None if is_confirmation(turns[index]) and len(text.split()) < _EMPTY_WORDS else text


def _asks_back(turn: Turn, following: Turn) -> bool:
    return turn.role == "official" and (is_aside(turn, following) or turn.text.rstrip().endswith("?"))
