"""A damaged index file is named on open, with the rebuild command; `indexer check` verifies every file."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_slices import SEED_FILES
from indexer.index import layout
from indexer.index.build import build_index
from indexer.cli import main
from indexer.errors import IndexCorrupt, IndexMismatch
from indexer.search import Index

pytest_plugins = ["index_fixtures"]

FILES = (layout.MANIFEST, layout.DATABASE, layout.VECTORS, layout.QUESTION_VECTORS)


@pytest.fixture
def seeds_copy(seeds_dir, tmp_path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(seeds_dir, copy, symlinks=True)
    return copy


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_byte(path: Path, where: float) -> None:
    """Flip the low bit of one byte, `where` of the way into the file."""
    data = bytearray(path.read_bytes())
    offset = min(int(len(data) * where), len(data) - 1)
    data[offset] ^= 1
    path.write_bytes(bytes(data))


def empty(path: Path) -> None:
    path.write_bytes(b"")


DAMAGES = {
    "truncated": truncate,
    "emptied": empty,
    "byte flipped at the start": lambda path: flip_byte(path, 0.0),
    "byte flipped in the middle": lambda path: flip_byte(path, 0.5),
    "byte flipped at the end": lambda path: flip_byte(path, 1.0),
    "deleted": Path.unlink,
}


def check(index_dir: Path):
    return CliRunner().invoke(main, ["check", "--index", str(index_dir)])


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("damage", DAMAGES, ids=str)
def test_opening_a_damaged_file_names_it_and_the_rebuild_command(seeds_copy, name, damage):
    target = layout.current_version(seeds_copy) / name
    DAMAGES[damage](target)

    with pytest.raises((IndexCorrupt, IndexMismatch)) as raised:
        Index.open(seeds_copy)

    message = str(raised.value)
    assert str(target) in message or (name == layout.MANIFEST and "format version" in message)
    assert f"python -m indexer build PATH... --index {seeds_copy}" in message


@pytest.mark.parametrize("name", [layout.DATABASE, layout.VECTORS, layout.QUESTION_VECTORS])
def test_check_finds_the_damaged_file_and_exits_2(seeds_copy, name):
    version = layout.current_version(seeds_copy)
    flip_byte(version / name, 0.5)

    result = check(seeds_copy)

    assert result.exit_code == 2
    assert f"DAMAGED  {version / name}: its SHA-256 does not match the manifest" in result.stdout
    others = [n for n in FILES if n != name]
    assert all(f"ok       {version / other}" in result.stdout for other in others)
    assert result.stderr.strip() == (
        f"error: the index at {seeds_copy} is damaged; "
        f"rebuild it with: python -m indexer build PATH... --index {seeds_copy}"
    )


def test_check_notices_an_edited_manifest(seeds_copy):
    manifest_path = layout.current_version(seeds_copy) / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["counts"]["passages"] += 1
    manifest_path.write_text(json.dumps(manifest))

    result = check(seeds_copy)

    assert result.exit_code == 2
    assert f"DAMAGED  {manifest_path}: its content does not match its checksum" in result.stdout


def test_check_passes_a_whole_index(seeds_dir):
    version = layout.current_version(seeds_dir)
    manifest = json.loads((version / layout.MANIFEST).read_text())

    result = check(seeds_dir)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok       {version / layout.MANIFEST}: checksum ok",
        f"ok       {version / layout.DATABASE}: {manifest['files'][layout.DATABASE]['bytes']} bytes, SHA-256 ok",
        f"ok       {version / layout.VECTORS}: {manifest['files'][layout.VECTORS]['bytes']} bytes, SHA-256 ok",
        f"ok       {version / layout.QUESTION_VECTORS}: "
        f"{manifest['files'][layout.QUESTION_VECTORS]['bytes']} bytes, SHA-256 ok",
        f"the index at {seeds_dir} is whole (version {version.name})",
    ]


def test_check_without_an_index_says_how_to_build_one(tmp_path):
    result = check(tmp_path / "nothing")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: no index at {tmp_path / 'nothing'}; build one first")


def test_a_damaged_index_is_rebuilt_from_scratch_not_reused(seeds_copy):
    """Vectors from a damaged version are never carried into the next one."""
    flip_byte(layout.current_version(seeds_copy) / layout.DATABASE, 0.5)

    report = build_index(SEED_FILES, seeds_copy, progress=False)

    assert (report.embedded, report.reused) == (24, 0)  # 16 passages and 8 prompts
    assert check(seeds_copy).exit_code == 0


def test_an_index_from_before_checksums_still_opens_and_check_says_so(seeds_copy):
    manifest_path = layout.current_version(seeds_copy) / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    del manifest["files"], manifest["manifest_sha256"]
    manifest_path.write_text(json.dumps(manifest))

    result = check(seeds_copy)

    assert Index.open(seeds_copy).search("Putin", k=1)
    assert result.exit_code == 0
    assert f"ok       {manifest_path}: no checksums recorded (built before checksums); rebuild to add them" in result.stdout


def test_a_manifest_that_lost_half_its_checksums_is_damaged(seeds_copy):
    manifest_path = layout.current_version(seeds_copy) / layout.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    del manifest["files"]
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(IndexCorrupt, match="it has lost part of its checksums"):
        Index.open(seeds_copy)


BAD_LINKS = {  # links made in the index folder, `current` last; a target of None: another index's version
    "current -> current": ([("current", "current")], "loops ("),
    "current -> a -> b -> a": ([("current", "a"), ("a", "b"), ("b", "a")], "loops ("),
    "current -> ..": ([("current", "..")], "leads to "),
    "current -> /": ([("current", "/")], "leads to "),
    "current -> builds": ([("current", "builds")], "leads to "),
    "current -> another index's version": ([("current", None)], "leads to "),
}


def make_bad_link(index_dir: Path, links, elsewhere: Path) -> None:
    (index_dir / layout.CURRENT).unlink()
    for name, target in links:
        (index_dir / name).unlink(missing_ok=True)
        (index_dir / name).symlink_to(target or layout.current_version(elsewhere))


@pytest.mark.parametrize("link", BAD_LINKS)
@pytest.mark.parametrize("command", [["check"], ["search", "Putin"], ["stats"]])
def test_a_current_link_that_loops_or_leads_out_of_builds_is_reported_as_damage(seeds_copy, seeds_dir, link,
                                                                                 command):
    links, reason = BAD_LINKS[link]
    make_bad_link(seeds_copy, links, seeds_dir)

    result = CliRunner().invoke(main, [*command, "--index", str(seeds_copy)])

    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: the index is damaged: its link {seeds_copy / 'current'} {reason}")
    assert result.stderr.endswith(f"; rebuild it with: python -m indexer build PATH... --index {seeds_copy}\n")


@pytest.mark.parametrize("link", BAD_LINKS)
def test_a_build_replaces_a_bad_current_link(seeds_copy, seeds_dir, link):
    make_bad_link(seeds_copy, BAD_LINKS[link][0], seeds_dir)

    result = CliRunner().invoke(main, ["build", *map(str, SEED_FILES), "--index", str(seeds_copy)])

    assert result.exit_code == 0, result.output
    assert check(seeds_copy).exit_code == 0
    assert [r.doc_id for r in Index.open(seeds_copy).search("Putin", k=1, mode="keyword")] == [
        "2022-02-12-background-press-call-biden-putin"]


def test_text_damaged_under_an_open_index_is_reported_as_damage(seeds_copy):
    """The database changes under an open index (verified on open, then overwritten): a passage's text no
    longer decodes, an SQLite error that carries no error code. It is IndexCorrupt, not an AttributeError."""
    index = Index.open(seeds_copy)
    database = layout.current_version(seeds_copy) / layout.DATABASE
    data = database.read_bytes()
    database.write_bytes(data.replace(b"sanctions", b"\xffanctions"))

    with pytest.raises(IndexCorrupt) as raised:
        index.search("sanctions", k=5, mode="keyword")

    assert str(raised.value).startswith(f"{database} is damaged (OperationalError: \"Could not decode to UTF-8 column 'text'")
    assert str(raised.value).endswith(f"rebuild it with: python -m indexer build PATH... --index {seeds_copy}")
