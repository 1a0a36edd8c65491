"""A full disk, a read-only mount or a missing permission: one `error:` line and exit 2, the half-written
version removed at once, the previous version still answering (issue 18, finding 6).

The writers fail three ways: made to raise mid-build (each errno at each writer), for real under a file size
limit in a subprocess (RLIMIT_FSIZE: SQLite and shutil meet EFBIG), and for real without permission, in a
subprocess that drops root's power to ignore permission bits (the tests run as root).
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_slices import REPO, SEED_FILES
from indexer.cli import main
from indexer.index import build, layout, publishing, rows
from indexer.search import Index

pytest_plugins = ["index_fixtures"]

KEPT = "the index is as it was before this build"
WRITERS = {  # where the disk gives out: each writer writes its file whole, then the disk refuses
    "the database": (rows, "write"),
    "the vectors": (build, "write_vectors"),
    "the manifest": (publishing, "write_manifest"),
}
REFUSALS = {
    errno.ENOSPC: "error: no space left on the disk holding {index} (No space left on device); free some space, "
                  "or build into another --index DIR; " + KEPT,
    errno.EROFS: "error: {file} is on a read-only file system; build into a writable --index DIR; " + KEPT,
    errno.EACCES: "error: no permission to write {file}; build as a user who may write to {index}, or into "
                  "another --index DIR; " + KEPT,
}


@pytest.fixture
def seeds_copy(seeds_dir, tmp_path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(seeds_dir, copy, symlinks=True)
    return copy


def answers(index_dir: Path) -> list[str]:
    index = Index.open(index_dir)
    try:
        return [r.passage_id for r in index.search("Putin sanctions", k=5, mode="keyword")]
    finally:
        index.close()


def assert_left_as_it_was(index_dir: Path, version: Path, before: list[str]) -> None:
    """Only the previous version on disk, still current, whole and answering as before."""
    assert sorted(p.name for p in (index_dir / layout.BUILDS).iterdir()) == [version.name]
    assert layout.current_version(index_dir) == version
    assert not list(index_dir.glob(".current.*"))
    assert CliRunner().invoke(main, ["check", "--index", str(index_dir)]).exit_code == 0
    assert answers(index_dir) == before


def error_line(exit_code: int, stderr: str) -> str:
    """The one `error:` line that ends stderr (progress bars may come before it)."""
    assert exit_code == 2, stderr
    assert "Traceback" not in stderr and stderr.count("error: ") == 1, stderr
    return stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("code", REFUSALS, ids=errno.errorcode.get)
@pytest.mark.parametrize("writer", WRITERS)
def test_a_build_the_disk_refuses_mid_way_is_one_error_line_and_leaves_no_half_written_version(
        seeds_copy, seeds_dir, monkeypatch, writer, code):
    module, name = WRITERS[writer]
    real, refused = getattr(module, name), []

    def write_then_refuse(version, *args, **kwargs):
        real(version, *args, **kwargs)
        refused.append(version / "more")
        raise OSError(code, os.strerror(code), str(version / "more"))

    monkeypatch.setattr(module, name, write_then_refuse)
    version, before = layout.current_version(seeds_copy), answers(seeds_dir)

    result = CliRunner().invoke(main, ["build", *map(str, SEED_FILES), "--index", str(seeds_copy)])

    assert error_line(result.exit_code, result.stderr) == REFUSALS[code].format(index=seeds_copy, file=refused[0])
    assert_left_as_it_was(seeds_copy, version, before)
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["build", *map(str, SEED_FILES), "--index", str(seeds_copy)]).exit_code == 0
    assert answers(seeds_copy) == before


def run_cli(args: list[str], preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, preexec_fn=preexec)


def at_most_100_kb_a_file():
    """In the child: files may not grow past 100 kB, and growing one is an error (EFBIG), not a signal."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_a_build_past_a_real_file_size_limit_over_an_index_leaves_it_answering(seeds_copy, seeds_dir):
    version, before = layout.current_version(seeds_copy), answers(seeds_dir)

    completed = run_cli(["build", *map(str, SEED_FILES), "--index", str(seeds_copy)], at_most_100_kb_a_file)

    assert error_line(completed.returncode, completed.stderr) == (
        f"error: no space left on the disk holding {seeds_copy} (File too large); free some space, or build into "
        f"another --index DIR; {KEPT}")
    assert_left_as_it_was(seeds_copy, version, before)


def test_a_first_build_past_a_real_file_size_limit_leaves_no_version(tmp_path):
    """SQLite's own writes fail here (the database is made afresh): its error is the disk's too."""
    index_dir = tmp_path / "index"

    completed = run_cli(["build", *map(str, SEED_FILES), "--index", str(index_dir)], at_most_100_kb_a_file)

    assert error_line(completed.returncode, completed.stderr) == (
        f"error: the disk failed while writing {index_dir} (SQLite: disk I/O error); check the disk and build "
        f"again; {KEPT}")
    assert list((index_dir / layout.BUILDS).iterdir()) == []
    assert not (index_dir / layout.CURRENT).is_symlink()


def obey_permission_bits():
    """In the child: root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped from the bounding set
    before exec), so permission bits apply to it as to any user; another user needs nothing dropped."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # 24: PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def without_permission():
    """Run the CLI as a user bound by permission bits; skip where this root may not drop its capabilities."""
    def run(args):
        try:
            return run_cli(args, obey_permission_bits)
        except subprocess.SubprocessError as exc:
            pytest.skip(f"cannot drop root's permission override here: {exc}")
    return run


def test_a_build_into_a_folder_it_may_not_write_leaves_the_index_answering(seeds_copy, seeds_dir,
                                                                          without_permission):
    """The index folder is read-only to the builder: the new version is whole in builds/ (writable) when
    linking it fails; it is removed at once."""
    version, before = layout.current_version(seeds_copy), answers(seeds_dir)
    seeds_copy.chmod(0o555)
    try:
        completed = without_permission(["build", *map(str, SEED_FILES), "--index", str(seeds_copy)])
    finally:
        seeds_copy.chmod(0o755)

    line = error_line(completed.returncode, completed.stderr)
    assert line.startswith(f"error: no permission to write {seeds_copy}/.current.")
    assert line.endswith(f"; build as a user who may write to {seeds_copy}, or into another --index DIR; {KEPT}")
    assert_left_as_it_was(seeds_copy, version, before)


@pytest.mark.parametrize("command", [["search", "Putin", "--mode", "keyword"], ["check"], ["stats"]])
def test_reading_an_index_without_permission_is_one_error_line(seeds_copy, without_permission, command):
    version = layout.current_version(seeds_copy)
    version.chmod(0)
    try:
        completed = without_permission([*command, "--index", str(seeds_copy)])
    finally:
        version.chmod(0o755)

    assert error_line(completed.returncode, completed.stderr) == (
        f"error: no permission to read {version / layout.MANIFEST}; run as a user who may read {seeds_copy} "
        f"(e.g. chmod -R a+rX {seeds_copy}), or use another --index DIR")
    assert completed.stdout == ""
