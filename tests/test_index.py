"""Building indexes on disk: layout, incremental rebuilds, removals, and builds killed with kill -9."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from corpus_slices import CHINA_CALL, REPO, SEED_FILES, background_calls_march
from indexer.index import layout, publishing
from indexer.index.schema import FORMAT_VERSION
from indexer.index.vectors import load_vectors
from indexer.index.build import build_index
from indexer.ingest.corpus import read_corpus
from indexer.embedding.embedder import DEFAULT_MODEL, content_hash
from indexer.search import Index

pytest_plugins = ["index_fixtures"]

QUESTIONS = [
    "What did the two presidents discuss on the phone?",
    "consequences if Russia invades Ukraine",
    "nothing about you without you",
]


def answers(index_dir: Path) -> dict:
    """What the index answers, exactly: passage ids and scores per question, in every mode."""
    index = Index.open(index_dir)
    try:
        return {
            (question, mode): [(r.passage_id, r.score) for r in index.search(question, k=5, mode=mode)]
            for question in QUESTIONS
            for mode in ("hybrid", "dense", "keyword")
        }
    finally:
        index.close()


def tables(db_path: Path) -> set[str]:
    db = sqlite3.connect(db_path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    finally:
        db.close()


# The layout on disk (docs/index-format.md).


def test_an_index_is_a_current_symlink_to_a_finished_version(seeds_dir):
    link = seeds_dir / layout.CURRENT
    version = link.resolve()

    assert link.is_symlink() and os.readlink(link) == f"builds/{version.name}"
    assert version.parent == seeds_dir / "builds" and not version.name.endswith(".partial")
    assert sorted(p.name for p in version.iterdir()) == ["manifest.json", "podium.sqlite", "questions.faiss", "vectors.faiss"]
    assert (seeds_dir / "build.lock").is_file()


def test_the_manifest_records_how_the_index_was_built(seeds_dir):
    manifest = json.loads((seeds_dir / "current" / "manifest.json").read_text())
    corpus = read_corpus(SEED_FILES, progress=False)
    turns = sum(len(t) for t in corpus.turns.values())

    assert manifest["format_version"] == FORMAT_VERSION == 2
    assert manifest["model"] == DEFAULT_MODEL and manifest["dimension"] == 384
    assert manifest["normalized"] is True and manifest["faiss_index"] == "IndexFlatIP"
    assert manifest["passage_settings"] == {"max_words": 200, "embed_input": "passage text",
                                            "question_input": "prompting question, else document title"}
    assert manifest["counts"] == {"documents": 2, "turns": turns, "passages": 16, "questions": 8, "speakers": 1,
                                  "failed_files": 0}
    assert manifest["date_range"] == ["2021-12-30", "2022-02-12"]
    assert manifest["doc_ids"] == [doc.doc_id for doc in corpus.documents]
    assert manifest["sources"] == [str(p) for p in SEED_FILES] and manifest["built_at"]


def test_the_database_holds_every_table_and_one_vector_per_passage_and_question(seeds_dir):
    version = seeds_dir / "current"
    db = sqlite3.connect(version / "podium.sqlite")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("documents", "turns", "passages", "embeddings", "passages_fts", "questions", "questions_fts")}
    asked = db.execute("SELECT count(DISTINCT question_id) FROM passages").fetchone()[0]
    migrations = db.execute("SELECT version FROM migrations").fetchall()
    ids = [row[0] for row in db.execute("SELECT id FROM passages ORDER BY id")]
    vector = db.execute("SELECT vector FROM embeddings LIMIT 1").fetchone()[0]
    db.close()

    assert {"documents", "turns", "passages", "embeddings", "passages_fts", "questions", "questions_fts",
            "migrations", "passages_date", "passages_speaker", "passages_doc"} <= tables(version / "podium.sqlite")
    turns = sum(len(t) for t in read_corpus(SEED_FILES, progress=False).turns.values())
    assert counts == {"documents": 2, "turns": turns, "passages": 16, "embeddings": 24, "passages_fts": 16,
                      "questions": 8, "questions_fts": 8}
    assert asked == 8
    assert migrations == [(1,), (2,)]
    assert ids == list(range(16))
    assert len(vector) == 384 * 4
    assert load_vectors(version, 16).ntotal == 16
    assert load_vectors(version, 8, layout.QUESTION_VECTORS).ntotal == 8


# Incremental rebuilds.


def test_rebuilds_embed_only_what_changed_and_forget_removed_files(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in SEED_FILES:
        shutil.copy(path, folder)
    index_dir = tmp_path / "index"
    new_passages = read_corpus([CHINA_CALL], progress=False).passages
    new_doc = new_passages[0].doc_id

    first = build_index([folder], index_dir, progress=False)
    again = build_index([folder], index_dir, progress=False)
    shutil.copy(CHINA_CALL, folder)
    added = build_index([folder], index_dir, progress=False)
    found_before = Index.open(index_dir).search("what Xi said about Russia", k=5, per_doc=0)
    (folder / CHINA_CALL.name).unlink()
    removed = build_index([folder], index_dir, progress=False)

    # the seeds: 16 passages and 8 prompts (6 questions, 2 titles); the China call: 12 passages and 7 prompts
    assert (first.documents_added, first.embedded, first.passages) == (2, 24, 16)
    assert (again.embedded, again.reused, again.documents_kept, again.documents_added) == (0, 24, 2, 0)
    assert len({p.text for p in new_passages}) == len(new_passages) == 12
    assert (added.embedded, added.reused, added.documents_added, added.documents_kept) == (19, 24, 1, 2)
    assert any(r.doc_id == new_doc for r in found_before)
    assert (removed.documents_removed, removed.embedded, removed.documents, removed.passages) == (1, 0, 2, 16)

    index = Index.open(index_dir)
    assert index.db.execute("SELECT count(*) FROM passages WHERE doc_id = ?", (new_doc,)).fetchone()[0] == 0
    assert index.db.execute("SELECT count(*) FROM documents WHERE doc_id = ?", (new_doc,)).fetchone()[0] == 0
    assert index.db.execute("SELECT count(*) FROM turns WHERE doc_id = ?", (new_doc,)).fetchone()[0] == 0
    assert index.db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 24
    assert index.db.execute("SELECT count(*) FROM questions WHERE doc_id = ?", (new_doc,)).fetchone()[0] == 0
    assert index.store.vectors.ntotal == 16
    assert new_doc not in index.manifest.doc_ids
    assert not any(r.doc_id == new_doc for r in index.search("what Xi said about Russia", k=18, per_doc=0))
    assert index.search("Xi Jinping", mode="keyword") == []


def test_the_replaced_version_is_kept_for_readers_and_older_ones_pruned(tmp_path, monkeypatch):
    """Three builds within a second or two, into a relative path: names do not sort by age there."""
    monkeypatch.chdir(tmp_path)
    versions = []
    for _ in range(3):
        build_index(SEED_FILES, "index", progress=False)
        versions.append(layout.current_version(Path("index")).name)

    assert len(set(versions)) == 3
    assert {p.name for p in (tmp_path / "index" / "builds").iterdir()} == set(versions[1:])


def test_a_rebuild_with_unchanged_texts_gives_the_same_answers(seeds_dir, tmp_path):
    before = answers(seeds_dir)
    copy = tmp_path / "index"
    shutil.copytree(seeds_dir, copy, symlinks=True)

    assert build_index(SEED_FILES, copy, progress=False).embedded == 0
    assert answers(copy) == before


# Builds killed with kill -9.


def wait_for(condition, process: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the build exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_build_killed_while_embedding_leaves_the_old_index_answering(tmp_path):
    index_dir = tmp_path / "index"
    build_index(SEED_FILES, index_dir, progress=False)
    before = answers(index_dir)
    version = layout.current_version(index_dir)
    log = tmp_path / "build.log"
    files = [*SEED_FILES, *background_calls_march()]

    with open(log, "w") as stderr:
        build = subprocess.Popen(
            [sys.executable, "-m", "indexer", "build", *map(str, files), "--index", str(index_dir)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
    wait_for(lambda: "embedding:" in log.read_text(), build, timeout=180, what="embedding started")
    time.sleep(1.0)
    assert build.poll() is None, "the build finished before it was killed; give it more to embed"
    os.kill(build.pid, signal.SIGKILL)
    assert build.wait() == -signal.SIGKILL

    assert layout.current_version(index_dir) == version
    assert answers(index_dir) == before
    report = build_index([*SEED_FILES, CHINA_CALL], index_dir, progress=False)
    assert (report.documents, report.embedded) == (3, 19)


KILL_BEFORE_VECTORS = textwrap.dedent("""
    import os, signal, sys
    from indexer.index import build

    def kill_myself(*args):
        os.kill(os.getpid(), signal.SIGKILL)

    build.write_vectors = kill_myself
    build.build_index(sys.argv[2:], sys.argv[1], progress=False)
""")


def test_a_build_killed_half_written_leaves_the_old_index_and_is_cleaned_up(tmp_path):
    """kill -9 right after the new database is written, before its vectors: a real half-built version."""
    index_dir = tmp_path / "index"
    build_index(SEED_FILES, index_dir, progress=False)
    before = answers(index_dir)
    version = layout.current_version(index_dir)

    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_VECTORS, str(index_dir), *map(str, SEED_FILES)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    partials = list((index_dir / "builds").glob("*.partial"))

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(partials) == 1 and sorted(p.name for p in partials[0].iterdir()) == ["podium.sqlite"]
    assert layout.current_version(index_dir) == version
    assert answers(index_dir) == before

    report = build_index(SEED_FILES, index_dir, progress=False)
    assert report.embedded == 0
    assert not list((index_dir / "builds").glob("*.partial"))
    assert answers(index_dir) == before


def test_a_second_build_is_refused_while_one_runs(tmp_path):
    """A build holding the lock makes a second one fail at once rather than interleave."""
    index_dir = tmp_path / "index"
    with publishing.build_lock(index_dir):
        with pytest.raises(publishing.IndexBusy, match="another build is running"):
            build_index(SEED_FILES, index_dir, progress=False)
    assert build_index(SEED_FILES, index_dir, progress=False).documents == 2


def test_content_hash_is_the_sha1_of_the_text():
    assert content_hash("Thank you.") == "174534c6b3882921f07bb41f7a29c9824d9b171b"
