"""Pick the sentence or two of a passage that best answer the question.

Cheap on purpose (it runs for every result of every query): sentences are
found by a regular expression that knows common abbreviations (syntok, which
cuts passages at build time, took 8 ms a passage: most of a query's time),
scored by the distinct question words they contain, compared on crude stems
so "sanction" finds "sanctions"; two neighbouring sentences win over one
when together they cover more of the question.
"""

from __future__ import annotations

import re

from .query import STOPWORDS

_WORD = re.compile(r"\w+")
# A sentence ends at . ! or ? (and any closing quotes or brackets) before a space and a capital,
# a digit or an opening quote ...
_BOUNDARY = re.compile(r"(?<=[.!?])([\"'”’)\]]*)(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
# ... unless the word ending there is an abbreviation or an initial: "Mr. Putin", "U.S. Officials", "John F. Kennedy".
_ABBREVIATION = re.compile(
    r"(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Adm|Amb|Jr|Sr|No|Nos|Vol|vs|etc|Inc|Co|Corp|Ltd|"
    r"Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|(?:[A-Za-z]\.)+[A-Za-z])\.",
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def best_sentences(text: str, question_words: list[str] | tuple[str, ...], max_sentences: int = 2) -> str:
    """The best window of up to `max_sentences` consecutive sentences, as an exact substring of
    `text`; the opening sentences if no question word occurs."""
    sentences = [s for paragraph in text.split("\n\n") for s in quick_sentences(paragraph)]
    if not sentences:
        return text
    wanted = {stem(w) for w in question_words if w.lower() not in STOPWORDS}
    found = [wanted & {stem(w) for w in _WORD.findall(s)} for s in sentences]
    best, best_score = (0, 1), (0, 0)
    for start in range(len(sentences)):
        for size in range(1, max_sentences + 1):
            window = found[start : start + size]
            if len(window) < size:
                break
            covered = len(set().union(*window))
            score = (covered, -size)
            if score > best_score:
                best, best_score = (start, size), score
    if best_score[0] == 0:
        best = (0, min(max_sentences, len(sentences)))
    start, size = best
    return _span(text, sentences, start, start + size)


def _span(text: str, sentences: list[str], first: int, stop: int) -> str:
    """The exact stretch of `text` from sentence `first` to sentence `stop - 1`, so a page can mark it."""
    position = 0
    offsets = []
    for sentence in sentences[:stop]:
        found = text.find(sentence, position)
        if found < 0:
            return " ".join(sentences[first:stop])
        offsets.append((found, found + len(sentence)))
        position = found + len(sentence)
    return text[offsets[first][0] : offsets[stop - 1][1]]


def quick_sentences(paragraph: str) -> list[str]:
    """The paragraph's sentences by a regular expression, each an exact substring of it; close to, but
    not always the same as, `ingest.passages.syntok_sentences`, which cuts passages at build time."""
    sentences, start = [], 0
    for boundary in _BOUNDARY.finditer(paragraph):
        words = paragraph[start : boundary.start()].split()
        if words and _ABBREVIATION.fullmatch(words[-1]):
            continue
        sentences.append(paragraph[start : boundary.start(2)].strip())
        start = boundary.end()
    sentences.append(paragraph[start:].strip())
    return [sentence for sentence in sentences if sentence] or [paragraph]
