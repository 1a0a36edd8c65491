"""Opening a version for reading: its manifest checked, every file verified, database and vectors loaded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import faiss

from ..errors import IndexCorrupt, IndexMismatch, IndexMissing
from .integrity import check_version
from .layout import QUESTION_VECTORS, build_hint, current_version, rebuild_hint
from .manifest import Manifest, read_manifest
from .schema import FORMAT_VERSION, connect_readonly
from .storage import storage_errors
from .vectors import load_vectors

_OPEN_ATTEMPTS = 3


def open_version(index_dir: Path) -> tuple[Path, Manifest]:
    """The current version directory and its manifest, or a clear error; every file's checksum is verified."""
    index_dir = Path(index_dir)
    version = current_version(index_dir)
    if version is None:
        raise IndexMissing(f"no index at {index_dir}; build one first, e.g.: {build_hint(index_dir)}")
    manifest = read_manifest(version)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"the index at {index_dir} has format version {manifest.format_version}, "
            f"this Podium reads version {FORMAT_VERSION}; {rebuild_hint(version)}"
        )
    damage = next((problem for problem in check_version(version, manifest) if problem.damaged), None)
    if damage:
        problem = "is missing" if damage.detail == "missing" else f"is damaged ({damage.detail})"
        raise IndexCorrupt(f"{damage.path} {problem}; {rebuild_hint(version)}")
    return version, manifest


def open_current(path: Path) -> tuple[Path, Manifest, sqlite3.Connection, faiss.Index, faiss.Index]:
    """(version, manifest, connection, passage vectors, question vectors) of the current version.

    If files vanish while opening because builds swapped in newer versions and
    pruned this one meanwhile, the version current now is opened instead.
    """
    with storage_errors(path, writing=False):
        return _open_current(path)


def _open_current(path: Path) -> tuple[Path, Manifest, sqlite3.Connection, faiss.Index, faiss.Index]:
    for attempt in range(1, _OPEN_ATTEMPTS + 1):
        resolved = current_version(path)
        try:
            version, manifest = open_version(path)
            db = connect_readonly(version)
            try:
                passages = db.execute("SELECT count(*) FROM passages").fetchone()[0]
                questions = db.execute("SELECT count(*) FROM questions").fetchone()[0]
                return (version, manifest, db, load_vectors(version, passages),
                        load_vectors(version, questions, QUESTION_VECTORS))
            except IndexCorrupt:
                db.close()
                raise
        except IndexCorrupt:
            if attempt == _OPEN_ATTEMPTS or current_version(path) == resolved:
                raise
