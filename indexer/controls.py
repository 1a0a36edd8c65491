"""Control characters: the readers drop them from what they store, and the CLI never prints one raw.

C0 and C1 controls (tab and newline aside) and the bidirectional overrides. In a terminal, ESC and BEL start
sequences that set the window title, write the clipboard or recolour the screen (`\\e]0;...\\a`,
`\\e]52;c;...\\a`); in a title or a file name they are never text anyone meant.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` safe to print: each control character shown as its escape (ESC as `\\x1b`), layout kept."""
    return CONTROL.sub(lambda match: match[0].encode("unicode_escape").decode("ascii"), text)
