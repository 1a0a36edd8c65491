"""The Milvus store beyond what the search tests run over both stores: a server of its own, builds that
reuse, replace and fail, the views, and the errors a user can meet."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app_driver import POOL, QUESTION, as_cards, briefly, cards, open_app
from corpus_slices import CHINA_CALL, SEED_FILES
from indexer.cli import main
from indexer.errors import IndexMismatch, IndexMissing, StoreUnreachable
from indexer.index.build import build_index
from indexer.search import Filters, Index
from indexer.search.question import parse_question
from indexer.store import milvus_layout, milvus_write

pytest_plugins = ["index_fixtures", "app_fixtures"]

SEEDS = [str(path) for path in SEED_FILES]
SEED_CALL = "2022-02-12-background-press-call-biden-putin"


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def versions(spec: str) -> set[str]:
    client = Index.open(store=spec).store.client
    return {milvus_layout.version_of(name) for name in client.list_collections()} - {None}


def test_a_server_builds_searches_filters_and_checks_with_only_the_uri_changed(milvus_server):
    built = run("build", *SEEDS, "--store", milvus_server)
    found = run("search", "sanctions on Russia", "--store", milvus_server, "--since", "2022-02", "-k", "3", "--json")
    stats = run("stats", "--store", milvus_server, "--json")
    checked = run("check", "--store", milvus_server)

    assert built.exit_code == 0 and "2 documents, 16 passages" in built.output
    results = json.loads(found.output)["results"]
    assert len(results) == 3 and {r["doc_id"] for r in results} == {SEED_CALL}
    assert json.loads(stats.output)["passages"] == 16 and json.loads(stats.output)["size_bytes"] is None
    assert checked.exit_code == 0 and "is whole" in checked.output


def test_the_store_comes_from_podium_store_when_not_given(milvus_server, monkeypatch):
    run("build", *SEEDS, "--store", milvus_server)
    monkeypatch.setenv("PODIUM_STORE", milvus_server)

    assert Index.open().stats()["passages"] == 16
    assert json.loads(run("stats", "--json").output)["index"] == milvus_server


def test_a_rebuild_reuses_every_vector_and_adds_only_the_new_file(tmp_path):
    spec = f"milvus://{tmp_path / 'store.db'}"
    first = build_index(SEEDS, None, progress=False, store=spec)
    again = build_index(SEEDS, None, progress=False, store=spec)
    more = build_index([*SEEDS, str(CHINA_CALL)], None, progress=False, store=spec)

    assert (first.embedded, again.embedded, again.reused) == (24, 0, 24)
    assert more.reused == 24 and more.embedded > 0 and more.documents_added == 1
    assert versions(spec) == {again.version, more.version}  # the replaced version stays for its readers
    assert build_index(SEEDS, None, progress=False, store=spec).reused == 24
    assert more.version in versions(spec) and again.version not in versions(spec)
    assert Index.open(store=spec).stats()["documents"] == 2


def test_a_build_that_fails_leaves_the_served_version_whole(tmp_path, monkeypatch):
    spec = f"milvus://{tmp_path / 'store.db'}"
    replaced = build_index(SEEDS, None, progress=False, store=spec)
    served = build_index(SEEDS, None, progress=False, store=spec)
    inserted = milvus_write._rows

    def fail_on_turns(part, *args):
        if part == "turns":
            raise OSError("disk full")
        return inserted(part, *args)

    monkeypatch.setattr(milvus_write, "_rows", fail_on_turns)
    with pytest.raises(OSError):
        build_index([*SEEDS, str(CHINA_CALL)], None, progress=False, store=spec)

    assert versions(spec) == {replaced.version, served.version}
    assert len(Index.open(store=spec).search("Putin", k=3)) == 3


def test_what_a_killed_build_left_is_dropped_by_the_next(tmp_path):
    spec = f"milvus://{tmp_path / 'store.db'}"
    build_index(SEEDS, None, progress=False, store=spec)
    Index.open(store=spec).store.client.create_collection(milvus_layout.collection("20200101T000000_deadbeef", "meta"),
                                                          dimension=2)
    served = build_index(SEEDS, None, progress=False, store=spec)

    assert "20200101T000000_deadbeef" not in versions(spec) and served.version in versions(spec)


def test_context_and_transcript_are_the_local_store_s(slice_index, slice_milvus_index):
    passage = slice_index.search("Would Washington object if Warsaw handed its fighter aircraft to Kyiv?", k=1)[0]

    assert slice_milvus_index.context(passage.passage_id) == slice_index.context(passage.passage_id)
    assert slice_milvus_index.transcript(passage.doc_id) == slice_index.transcript(passage.doc_id)
    assert slice_milvus_index.match_count("oil", Filters(kinds=("gaggle",))) == \
        slice_index.match_count("oil", Filters(kinds=("gaggle",)))
    assert slice_milvus_index.stats() | {"index": "", "version": "", "built_at": "", "size_bytes": 0} == \
        slice_index.stats() | {"index": "", "version": "", "built_at": "", "size_bytes": 0}


def test_a_phrase_is_matched_as_fts5_matches_it(slice_index, slice_milvus_index):
    question = '"central bank" sanctions'

    assert slice_milvus_index.match_count(question) == slice_index.match_count(question) > 0


@pytest.mark.parametrize("question", [
    "sanctions on Russian banks",
    "What is the President’s message to Putin?",  # a word FTS5 cuts in two ("presid s") is a phrase to it
    "U.S. oil reserves and gas prices",
    "don't they're can't won't",
])
def test_bm25_is_fts5_s_score_for_score(slice_index, slice_milvus_index, question):
    """Milvus's own BM25 takes another IDF and counts per segment; the store's sparse vectors give FTS5's."""
    query = parse_question(question, clean=True)
    local, milvus = slice_index.store, slice_milvus_index.store
    for search in ("keyword", "question_keyword"):
        args = (None, 50, frozenset()) if search == "question_keyword" else None
        found = {name: (getattr(store, search)(query, *args) if args else
                        getattr(store, search)(query, store.where(None, index._facts, query), None, 50))
                 for name, store, index in (("local", local, slice_index), ("milvus", milvus, slice_milvus_index))}
        assert found["local"], search
        assert [s for _, s in found["milvus"]] == pytest.approx([s for _, s in found["local"]], rel=1e-5), search
        assert by_score(found["milvus"]) == by_score(found["local"]), search  # ties in either order


def by_score(hits: list[tuple[int, float]]) -> list[int]:
    return [i for i, s in sorted(hits, key=lambda hit: (-round(hit[1], 4), hit[0]))]


def test_opening_with_another_model_is_refused(slice_milvus):
    with pytest.raises(IndexMismatch, match="rebuild with: python -m indexer build PATH... --store milvus://"):
        Index.open(store=slice_milvus, model="some/other")
    refused = run("search", "oil", "--store", slice_milvus, "--model", "some/other")
    assert refused.exit_code == 2 and refused.output.startswith("error: ") and "some/other" in refused.output


def test_a_server_that_cannot_be_reached_is_one_error_line(unused_port):
    spec = f"http://127.0.0.1:{unused_port}"

    with pytest.raises(StoreUnreachable, match="cannot reach the Milvus store"):
        Index.open(store=spec)
    refused = run("search", "oil", "--store", spec)
    assert refused.exit_code == 2 and refused.output.count("\n") == 1 and "cannot reach" in refused.output


def test_an_empty_store_says_how_to_build_one(tmp_path):
    spec = f"milvus://{tmp_path / 'empty.db'}"

    with pytest.raises(IndexMissing, match=f"build one first, e.g.: python -m indexer build .* --store {spec}"):
        Index.open(store=spec)
    assert run("search", "oil", "--store", "ftp://x").output.startswith("error: unknown store 'ftp://x'")


def test_the_app_answers_from_the_store_podium_store_names(slice_milvus, slice_milvus_index, monkeypatch):
    monkeypatch.setenv("PODIUM_STORE", slice_milvus)
    at = open_app()
    at.text_input(key="q").input(QUESTION).run()

    assert not at.exception and not at.error
    assert briefly(cards(at)) == as_cards(slice_milvus_index.search(QUESTION, k=POOL))[:10]
