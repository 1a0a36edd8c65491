"""Scrolling the page to a keyed container once it is drawn: the transcript's answer, a card after Back."""

from __future__ import annotations

import re


def scroll_script(*keys: str) -> str:
    """Our own script (the keys are [a-z0-9-] only, no corpus text): once drawn, scroll the first container
    with one of these keys to the top of the window."""
    selector = ", ".join(f".st-key-{re.sub(r'[^a-z0-9-]', '-', key.lower())}" for key in keys)
    return f"""<script>
(function find(tries) {{
  const target = document.querySelector("{selector}");
  if (target) {{ target.scrollIntoView({{block: "start"}}); }}
  else if (tries > 0) {{ setTimeout(() => find(tries - 1), 100); }}
}})(100);
</script>"""
