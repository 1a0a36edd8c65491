"""Corpus text as inert markdown: every character markdown or Streamlit could read as syntax is escaped, so a
passage holding HTML or a `javascript:` link renders as plain text, and no text becomes a link.

Escaping alone does not stop links: the page's markdown (remark-gfm) turns `www.x.y`, `https://...` and
`user@x.y` into links after escapes are read. A word joiner (U+2060, invisible, no line break) where those
patterns start (`www\u2060.`, `http\u2060s://`, `\u2060@`) leaves nothing for it to match; the only links on a
card are the source links the page builds itself (`safe_url`).
"""

from __future__ import annotations

import re
from urllib.parse import quote

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'@])")
_AUTOLINK_START = re.compile(r"(?i)(?<=http)(?=s?://)|(?<=www)(?=\.)|(?=@)")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines breaks at
WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Markdown-inert text on one line, with nothing the page could turn into a link."""
    return _LINE_BREAK.sub(" ", _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK_START.sub(WORD_JOINER, text)))


def safe_url(url: str | None) -> str | None:
    """An http(s) link with the characters that could end a markdown link percent-encoded; None otherwise."""
    if not url or not re.match(r"https?://[^\s]+$", url):
        return None
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def answer_markdown(text: str, highlight: str) -> str:
    """The passage paragraph by paragraph, the highlight in bold."""
    start = text.find(highlight) if highlight else -1
    end = start + len(highlight) if start >= 0 else -1
    lines, offset = [], 0
    for paragraph in text.split("\n\n"):
        lines.append(_bold_span(paragraph, start - offset, end - offset))
        offset += len(paragraph) + 2
    return "\n\n".join(lines)


def turn_markdown(speaker: str, text: str, marked: range = range(0)) -> str:
    """A transcript turn: the speaker in bold, then its paragraphs; those numbered in `marked` (the answer)
    on a highlighted background."""
    paragraphs = [escape(p) for p in text.split("\n\n")]
    paragraphs = [f":blue-background[{p}]" if number in marked else p for number, p in enumerate(paragraphs)]
    return f"**{escape(speaker)}:** " + "\n\n".join(paragraphs)


def _bold_span(paragraph: str, start: int, end: int) -> str:
    start, end = max(start, 0), min(end, len(paragraph))
    if end <= start:
        return escape(paragraph)
    before, inside, after = paragraph[:start], paragraph[start:end], paragraph[end:]
    stripped = inside.strip()
    if not stripped:
        return escape(paragraph)
    return f"{escape(before)}**{escape(stripped)}**{escape(after)}"
