"""Rebuilds that reuse work: the parse cache, and a database patched from the previous version.

Either way the result must be exactly what a build from scratch gives: the
same rows in the same order in every table, the same answers.
"""

import ast
import shutil
import sqlite3
from pathlib import Path

import pytest

from corpus_slices import CHINA_CALL, REPO, SEED_COPY, SEED_FILES, UPCOMING_CALL, background_calls_march
from index_contents import contents, vectors_of
from indexer.index import rows
from indexer.index.build import build_index
from indexer.ingest import corpus as corpus_module
from indexer.ingest import parse_cache
from indexer.ingest.corpus import read_corpus
from indexer.search import Index

PRESIDENCY_SEED, WHITEHOUSE_SEED = SEED_FILES[1], SEED_FILES[0]


@pytest.fixture
def whole_writes(monkeypatch) -> list:
    """Records each database written whole rather than patched."""
    calls = []
    write_whole = rows._write_whole

    def recording(version, *args):
        calls.append(version)
        return write_whole(version, *args)

    monkeypatch.setattr(rows, "_write_whole", recording)
    return calls


def test_adding_a_transcript_patches_the_database_into_what_a_build_from_scratch_writes(tmp_path, whole_writes):
    before, after = [*SEED_FILES, UPCOMING_CALL], [*SEED_FILES, UPCOMING_CALL, CHINA_CALL]
    build_index(before, tmp_path / "index", progress=False)
    added = build_index(after, tmp_path / "index", progress=False)
    build_index(after, tmp_path / "scratch", progress=False)

    assert (added.documents_added, added.embedded) == (1, 19)  # its passages and their prompts
    assert len(whole_writes) == 2 and "scratch" in str(whole_writes[1])
    assert contents(tmp_path / "index") == contents(tmp_path / "scratch")
    assert (vectors_of(tmp_path / "index") == vectors_of(tmp_path / "scratch")).all()


def test_removing_a_transcript_rewrites_the_rows_after_it_exactly(tmp_path, whole_writes):
    """The call removed sits before the last one: its rows and those after it are written again."""
    calls = background_calls_march()[:5]
    build_index(calls, tmp_path / "index", progress=False)
    removed = build_index(calls[:3] + calls[4:], tmp_path / "index", progress=False)
    build_index(calls[:3] + calls[4:], tmp_path / "scratch", progress=False)

    assert (removed.documents_removed, removed.embedded) == (1, 0)
    assert len(whole_writes) == 2
    assert contents(tmp_path / "index") == contents(tmp_path / "scratch")
    assert (vectors_of(tmp_path / "index") == vectors_of(tmp_path / "scratch")).all()


def test_a_change_to_most_passages_writes_the_database_whole(tmp_path, whole_writes):
    build_index([CHINA_CALL, *SEED_FILES], tmp_path / "index", progress=False)
    report = build_index(SEED_FILES, tmp_path / "index", progress=False)

    assert len(whole_writes) == 2 and report.passages == 16


# The parse cache.


def cached_read(paths, index_dir: Path):
    cache = parse_cache.ParseCache(index_dir / parse_cache.FILE)
    corpus = read_corpus(paths, progress=False, cache=cache)
    index_dir.mkdir(exist_ok=True)
    cache.save()
    return corpus, cache.hits


def test_reading_from_the_cache_gives_what_parsing_gives(tmp_path):
    """Duplicates across sources and a doc_id two files share are decided after the cache, as without it."""
    same_name = tmp_path / "elsewhere" / WHITEHOUSE_SEED.name
    same_name.parent.mkdir()
    shutil.copy(WHITEHOUSE_SEED, same_name)
    paths = [PRESIDENCY_SEED, SEED_COPY, WHITEHOUSE_SEED, same_name, UPCOMING_CALL, CHINA_CALL]

    parsed = read_corpus(paths, progress=False)
    first, first_hits = cached_read(paths, tmp_path / "index")
    cached, hits = cached_read(paths, tmp_path / "index")

    assert (first_hits, hits) == (0, 6)
    assert len(parsed.duplicates) == 2 and len(parsed.documents) == 4
    for corpus in (first, cached):
        assert corpus.documents == parsed.documents and corpus.duplicates == parsed.duplicates
        assert corpus.turns == parsed.turns and corpus.passages == parsed.passages


@pytest.mark.parametrize("name", ["index", "idx?2#x%41", "100% sure"])  # SQLite reads a URI: ? # % are quoted
def test_a_rebuild_parses_only_the_files_that_changed(tmp_path, monkeypatch, name):
    folder, index_dir = tmp_path / "corpus", tmp_path / name
    folder.mkdir()
    for path in (*SEED_FILES, CHINA_CALL):
        shutil.copy(path, folder)
    build_index([folder], index_dir, progress=False)
    parsed = []
    read_one = corpus_module._read_one
    monkeypatch.setattr(corpus_module, "_read_one", lambda path, raw: parsed.append(path.name) or read_one(path, raw))
    changed = folder / CHINA_CALL.name
    changed.write_text(changed.read_text().replace("President Xi", "Chairman Xi"))

    report = build_index([folder], index_dir, progress=False)

    index = Index.open(index_dir)
    assert parsed == [CHINA_CALL.name] and report.embedded == 1
    assert [r.doc_id for r in index.search('"Chairman Xi"', mode="keyword")] == [CHINA_CALL.stem]
    index.close()


def test_a_damaged_cache_is_parsed_again(tmp_path):
    paths = [*SEED_FILES, CHINA_CALL]
    expected, _ = cached_read(paths, tmp_path / "index")
    cache_file = tmp_path / "index" / parse_cache.FILE
    db = sqlite3.connect(cache_file)
    with db:
        db.execute("UPDATE parsed SET entry = substr(entry, 1, 40) || zeroblob(20) || substr(entry, 61)")
    db.close()
    damaged_entries, entry_hits = cached_read(paths, tmp_path / "index")
    cache_file.write_bytes(b"not a database" * 100)
    damaged_file, file_hits = cached_read(paths, tmp_path / "index")

    assert (entry_hits, file_hits) == (0, 0)
    assert damaged_entries.passages == damaged_file.passages == expected.passages


def test_the_cache_is_keyed_by_every_module_that_parses():
    """A change to a module a parse runs through must start the cache afresh, so each is in the key."""
    ingest = REPO / "indexer" / "ingest"
    needed, frontier = set(), [ingest / "readers.py", ingest / "turns.py", ingest / "dedupe.py"]
    while frontier:
        module = frontier.pop()
        needed.add(module)
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                imported = module.parents[node.level - 1] / f"{node.module.replace('.', '/')}.py"
                if imported not in needed:
                    frontier.append(imported)

    assert needed | {ingest / "corpus.py", ingest / "parse_cache.py"} <= set(parse_cache.PARSING_MODULES)
