"""Which real files of ../shared/corpus the index and search tests use."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SEEDS = CORPUS / "seeds"
BRIEFINGS = CORPUS / "whitehouse" / "press-briefings"

SEED_FILES = sorted(SEEDS.iterdir())
CHINA_CALL = BRIEFINGS / "2022-03" / "2022-03-14-background-press-call-by-senior-administration-officials-on-china.md"
# The site's own copy of the 2022-02-12 seed (merged with it), and the call the day before the 2021-12-30 seed (kept apart).
SEED_COPY = CORPUS / "whitehouse" / "statements-releases" / "2022-02" / (
    "2022-02-12-background-press-call-by-a-senior-administration-official-on-the-presidents-call-with-russian-"
    "president-vladimir-putin.md"
)
UPCOMING_CALL = BRIEFINGS / "2021-12" / (
    "2021-12-29-background-press-call-by-a-senior-administration-official-on-president-bidens-upcoming-call-with-"
    "president-putin-of-the-russian-federation.md"
)


def slice_files() -> list[Path]:
    """30 documents, 769 passages, 2021-12-30 .. 2022-03-31.

    The two seeds, the February 2022 background calls, and March 2022 without
    nine long Jen Psaki briefings (her March 7 one stays): four kinds, seventeen
    speakers, a few hundred passages about Russia, oil, COVID and Afghanistan.
    """
    february = sorted((BRIEFINGS / "2022-02").glob("*background-press-call*"))
    march = [
        path for path in sorted((BRIEFINGS / "2022-03").iterdir())
        if "press-briefing-by-press-secretary-jen-psaki" not in path.name or "march-7th" in path.name
    ]
    return SEED_FILES + february + march


def background_calls_march() -> list[Path]:
    """13 files, ~270 passages: enough for a build to spend several seconds embedding."""
    return sorted((BRIEFINGS / "2022-03").glob("*background-press-call*"))
