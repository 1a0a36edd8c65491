"""The index on disk: one directory, whole versions swapped in atomically.

    INDEX_DIR/
      current -> builds/<id>      symlink, replaced atomically at the end of a build (publishing.py)
      builds/<id>/manifest.json   how the version was built (manifest.py)
      builds/<id>/podium.sqlite   documents, turns, passages, FTS5 keywords, embeddings (schema.py, rows.py)
      builds/<id>/vectors.faiss   the passage vectors, row i = passages.id i (vectors.py)
      builds/<id>/questions.faiss the prompting questions' vectors, row i = questions.id i
      build.lock                  held while a build runs
      parsed.sqlite               the parse cache (indexer/ingest/parse_cache.py), outside every version

A version directory is never changed once `current` points at it, so a
reader that opened it keeps a consistent view while a new version is built
beside it. See docs/index-format.md.
"""

from __future__ import annotations

import errno
from pathlib import Path

from ..errors import IndexCorrupt

MANIFEST = "manifest.json"
DATABASE = "podium.sqlite"
VECTORS = "vectors.faiss"
QUESTION_VECTORS = "questions.faiss"
CURRENT = "current"
BUILDS = "builds"
LOCK = "build.lock"


def current_version(index_dir: Path) -> Path | None:
    """The version `current` points at; None if there is none; IndexCorrupt if the link cannot be followed
    (it points at itself or loops) or leads anywhere but a version in this index's builds/ (`..`, `/`,
    another index's version), which the next build repairs."""
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    try:
        target = link.resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: Python 3.11's "Symlink loop"; OSError (ELOOP) later
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        raise IndexCorrupt(f"the index is damaged: its link {link} loops ({exc}); {rebuild_hint(index_dir)}") from exc
    if not target.is_dir():
        return None
    if target.parent != (index_dir / BUILDS).resolve():
        raise IndexCorrupt(f"the index is damaged: its link {link} leads to {target}, not to a version in "
                           f"{index_dir / BUILDS}; {rebuild_hint(index_dir)}")
    return target


def rebuild_hint(version: Path) -> str:
    index_dir = version.parent.parent if version.parent.name == BUILDS else version
    return f"rebuild it with: python -m indexer build PATH... --index {index_dir}"


def build_hint(index_dir: Path) -> str:
    return f"python -m indexer build ../shared/corpus/seeds --index {index_dir}"


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
