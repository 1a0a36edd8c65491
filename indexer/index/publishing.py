"""Writing a version beside the current one and swapping it in: one build at a time, atomic, pruned.

A build takes the lock (a killed build's leftovers are cleared), writes
`builds/<id>.partial/` (removed at once if the build fails), and `publish` seals the manifest, renames the folder
and moves the `current` symlink onto it with one rename; a reader of the
version it replaced keeps it until the next build.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ..errors import IndexCorrupt, PodiumError
from .integrity import file_digests
from .layout import BUILDS, CURRENT, LOCK, current_version
from .manifest import Manifest, write_manifest


class IndexBusy(PodiumError):
    """Another build holds the lock."""


@contextmanager
def build_lock(index_dir: Path):
    """One build at a time per index; stale half-built versions of killed builds are cleared."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusy(f"another build is running on {index_dir}; wait for it to finish") from exc
        _remove_unfinished(index_dir)
        yield


@contextmanager
def new_version(index_dir: Path):
    """A fresh `builds/<id>.partial/` to write a version into (under the lock). If the build fails before
    `publish` has made it current, it is removed at once, renamed or not: a full disk is not left full."""
    path = index_dir / BUILDS / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.partial"
    path.mkdir(parents=True)
    try:
        yield path
    except BaseException:
        if _replaced_version(index_dir) != _final(path):
            shutil.rmtree(_final(path), ignore_errors=True)
        _remove_unfinished(index_dir)
        raise


def publish(index_dir: Path, version: Path, manifest: Manifest) -> Path:
    """Finish a version and make it current in one atomic rename; older versions are pruned."""
    write_manifest(version, replace(manifest, files=file_digests(version)))
    _fsync_tree(version)
    final = _final(version)
    version.rename(final)
    previous = _replaced_version(index_dir)
    link_tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    os.symlink(Path(BUILDS) / final.name, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    _prune_old_versions(index_dir, keep=[final, previous])
    return final


def _final(version: Path) -> Path:
    return version.with_name(version.name.removesuffix(".partial"))


def _replaced_version(index_dir: Path) -> Path | None:
    """The version `current` points at, if it can be followed: a build replaces a link that loops."""
    try:
        return current_version(index_dir)
    except IndexCorrupt:
        return None


def _remove_unfinished(index_dir: Path) -> None:
    for partial in (index_dir / BUILDS).glob("*.partial") if (index_dir / BUILDS).is_dir() else ():
        shutil.rmtree(partial, ignore_errors=True)
    for stray in index_dir.glob(f".{CURRENT}.*"):
        stray.unlink(missing_ok=True)


def _prune_old_versions(index_dir: Path, keep: list[Path | None]) -> None:
    """Keep the new version and the one it replaced (a reader may still be using it).

    The replaced one is known from the old link, not guessed from names: two
    builds in the same second have names that do not sort by age.
    """
    names = {version.name for version in keep if version is not None}
    for old in (index_dir / BUILDS).iterdir():
        if old.is_dir() and old.name not in names:
            shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(path: Path) -> None:
    for file in path.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
