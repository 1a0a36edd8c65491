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

from pathlib import Path

MANIFEST = "manifest.json"
DATABASE = "podium.sqlite"
VECTORS = "vectors.faiss"
QUESTION_VECTORS = "questions.faiss"
CURRENT = "current"
BUILDS = "builds"
LOCK = "build.lock"


def current_version(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def rebuild_hint(version: Path) -> str:
    index_dir = version.parent.parent if version.parent.name == BUILDS else version
    return f"rebuild it with: python -m indexer build PATH... --index {index_dir}"


def build_hint(index_dir: Path) -> str:
    return f"python -m indexer build ../shared/corpus/seeds --index {index_dir}"


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
