"""Build an index into a Milvus store: the local build's reading, cutting and embedding, written as collections.

Incremental by content: a passage or prompt whose text the current version
already embedded (same model, same encoder) takes its vector from there, so
rebuilding over the same files embeds nothing. Each build writes a whole new
version and then moves the alias (indexer/store/milvus_write.py): rows are
not upserted into the served collections, which would let a reader see half
a build, or leave half of one when a build fails.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..embedding.embedder import Embedder, content_hash
from ..index import build, rows
from ..index.manifest import Manifest
from ..ingest import parse_cache
from ..ingest.corpus import read_corpus
from ..search.vocabulary import Stemmer
from . import bm25, location, milvus_layout, milvus_read, milvus_write, terms

VECTOR_SETTINGS = {"faiss_index": "Milvus FLAT (exact inner product)"}


def build_milvus(paths: list[str | Path], spec: str, model: str | None, progress: bool, max_words: int,
                 engine) -> build.BuildReport:
    """Build into the Milvus store `spec`, `engine` (indexer/compute) parsing the files and embedding new texts."""
    started = time.monotonic()
    cache = _parse_cache(spec)
    corpus = read_corpus(paths, max_words=max_words, progress=progress, cache=cache, parse=engine.parse)
    build.require_passages(corpus, paths)
    embedder = Embedder(model)
    client = location.connect(spec)
    with location.failures_reported(spec):
        if cache:
            cache.save()
        version, previous_manifest, counts = _write(client, corpus, embedder, paths, max_words, progress, engine)
    client.close()
    return build.report(spec, version, embedder, corpus, previous_manifest, counts, started)


def _write(client, corpus, embedder: Embedder, paths, max_words: int, progress: bool, engine):
    """A new version written and made current, its vectors reused from the current one where the text is the
    same; (version, the replaced version's manifest, (texts embedded, reused, repeated))."""
    previous = milvus_layout.current_version(client)
    previous_manifest = milvus_read.read_manifest(client, previous) if previous else Manifest()
    milvus_write.drop_others(client, keep={previous, milvus_read.replaced(client, previous)})  # killed builds' leftovers
    reusable = previous if build._same_embedding(previous_manifest, embedder) else None
    questions = rows.distinct_questions(corpus)
    texts = [build.embed_input(p) for p in corpus.passages] + [text for _, text in questions]
    hashes = [content_hash(text) for text in texts]
    known = milvus_write.stored_vectors(client, reusable, set(hashes))
    vectors, embedded, reused = build._vectors(texts, hashes, embedder, known, progress, engine)
    written, stemmer = [p.text for p in corpus.passages] + [text for _, text in questions], Stemmer()
    stemmed = terms.stemmed(written, stemmer)
    statistics = bm25.Statistics.of(stemmed[:len(corpus.passages)], stemmed[len(corpus.passages):],
                                    terms.word_phrases(written, stemmer))
    manifest = build._manifest(corpus, embedder, vectors.shape[1], paths, max_words, VECTOR_SETTINGS, len(questions))
    meta = {"manifest": manifest.to_dict(), "replaces": previous, "bm25": statistics.to_dict()}
    version = milvus_layout.new_version()
    milvus_write.write_version(client, version, rows.rows_for(corpus, hashes, questions), vectors, stemmed,
                               statistics, meta)
    milvus_write.switch_to(client, version)
    return version, previous_manifest, (embedded, reused, len(texts) - embedded - reused)


def _parse_cache(spec: str) -> parse_cache.ParseCache | None:
    """A Milvus Lite file keeps its parse cache beside it; a server's build parses every file (it has no
    local folder of its own)."""
    if not spec.startswith(location.LITE):
        return None
    return parse_cache.ParseCache(Path(f"{location.uri(spec)}.{parse_cache.FILE}"))
