"""Checksums: every data file's size and SHA-256 in the manifest, verified on open and by `indexer check`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import IndexMissing
from .layout import DATABASE, MANIFEST, QUESTION_VECTORS, VECTORS, build_hint, current_version
from .manifest import Manifest, digest, read_manifest
from .storage import storage_errors


@dataclass(frozen=True)
class FileCheck:
    """What `check` found for one file of a version."""

    path: Path
    damaged: bool
    detail: str


def file_digests(version: Path) -> dict[str, dict]:
    """Size and SHA-256 of each data file, for the manifest."""
    return {name: {"bytes": (version / name).stat().st_size, "sha256": _sha256(version / name)}
            for name in (DATABASE, VECTORS, QUESTION_VECTORS)}


def check_index(index_dir: Path) -> tuple[Path, list[FileCheck]]:
    """The current version and what verifying each of its files found (for `indexer check`)."""
    index_dir = Path(index_dir)
    with storage_errors(index_dir, writing=False):
        version = current_version(index_dir)
        if version is None:
            raise IndexMissing(f"no index at {index_dir}; build one first, e.g.: {build_hint(index_dir)}")
        return version, check_version(version, read_manifest(version))


def check_version(version: Path, manifest: Manifest) -> list[FileCheck]:
    """Verify the manifest's own checksum and each file's size and SHA-256 against it."""
    checks = [_check_manifest(version, manifest.raw)]
    for name, expected in (manifest.raw.get("files") or {}).items():
        checks.append(_check_file(version / name, expected))
    return checks


def _check_manifest(version: Path, raw: dict) -> FileCheck:
    path = version / MANIFEST
    recorded = raw.get("manifest_sha256")
    if recorded is None and "files" not in raw:
        return FileCheck(path, False, "no checksums recorded (built before checksums); rebuild to add them")
    if recorded is None or "files" not in raw:
        return FileCheck(path, True, "it has lost part of its checksums")
    if recorded != digest(raw):
        return FileCheck(path, True, "its content does not match its checksum")
    return FileCheck(path, False, "checksum ok")


def _check_file(path: Path, expected: dict) -> FileCheck:
    if not path.is_file():
        return FileCheck(path, True, "missing")
    size = path.stat().st_size
    if size != expected.get("bytes"):
        return FileCheck(path, True, f"{size} bytes, the manifest says {expected.get('bytes')}")
    if _sha256(path) != expected.get("sha256"):
        return FileCheck(path, True, "its SHA-256 does not match the manifest")
    return FileCheck(path, False, f"{size} bytes, SHA-256 ok")


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
