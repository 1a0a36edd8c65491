"""Control characters: the readers drop them from what they store, and nothing Podium prints carries one raw.

C0 and C1 controls (tab and newline aside) and the bidirectional marks, embeddings, overrides and isolates
(U+061C, U+200E/F, U+202A-202E, U+2066-2069). In a terminal, ESC and BEL start sequences that set the window
title, write the clipboard or recolour the screen (`\\e]0;...\\a`, `\\e]52;c;...\\a`), and U+009B (CSI) is
ESC [ in one character; a bidi override shows text in an order other than the one stored ("gnp.exe" for
"exe.png"). In a title or a file name they are never text anyone meant.
"""

from __future__ import annotations

import json
import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
_RAW_IN_JSON = re.compile(f"[\\x7f-\\x9f{_BIDI}\\u2028\\u2029]")  # what json.dumps leaves raw with ensure_ascii off


def printable(text: str) -> str:
    """`text` safe to print: each control character shown as its escape (ESC as `\\x1b`), layout kept."""
    return CONTROL.sub(lambda match: match[0].encode("unicode_escape").decode("ascii"), text)


def json_text(value, indent: int | None = 2) -> str:
    """`value` as JSON, non-ASCII text readable, with every control and bidi character (and U+2028/9, which
    end a line in JavaScript) written as a \\uXXXX escape: the same data once parsed, inert on a screen. They
    can only stand inside strings, where the escape means the same character."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match[0]):04x}", text)
