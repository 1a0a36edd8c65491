"""Build an index from transcripts: read, embed what is new, write a version, swap it in.

Incremental by content: a file unchanged since the last build is not parsed
again (indexer/ingest/parse_cache.py), a passage whose text an earlier version already
embedded (same model, same encoder) reuses that vector, so rebuilding over the
same files embeds nothing, and the database is the previous version's copy
with only the changed rows rewritten (indexer/index/rows.py). Atomic: the new
version is written beside the old one and becomes current with one rename; a
build that fails or is killed leaves the previous index as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compute import Engine, LocalEngine
from ..compute import Engine, LocalEngine
from ..embedding.embedder import Embedder, content_hash
from ..errors import IndexCorrupt, NoDocuments
from ..ingest import parse_cache
from ..ingest.corpus import Corpus, read_corpus
from ..ingest.passages import MAX_WORDS
from ..records import Passage
from ..store import milvus_build
from . import rows
from .integrity import check_version
from .layout import QUESTION_VECTORS, current_version
from .manifest import Manifest, read_manifest
from .publishing import build_lock, new_version, publish
from .schema import FORMAT_VERSION, connect_readonly
from .storage import storage_errors
from .vectors import QUESTION_SETTINGS, settings_for, write_vectors


SHOWN_FAILURES = 20  # the build's summary names this many failed files and their reasons


@dataclass
class BuildReport:
    index_dir: str
    version: str
    model: str
    encoder: str
    documents: int
    passages: int
    documents_added: int
    documents_kept: int
    documents_removed: int
    embedded: int  # distinct texts (passages and their questions) the model embedded
    reused: int  # texts whose vector came from the previous version
    repeated: int  # texts the same as an earlier one in this build: embedded once
    failed: list[dict]
    seconds: float
    merged: int = 0  # files merged into a document another file holds: identical or near copies

    def summary(self) -> str:
        return (
            f"index {self.index_dir}: {self.documents} documents, {self.passages} passages "
            f"(model {self.model})\n"
            f"documents: {self.documents_added} added, {self.documents_kept} kept, "
            f"{self.documents_removed} removed"
            + (f"; {self.merged} duplicate file{'s' * (self.merged != 1)} merged" if self.merged else "")
            + "\n"
            f"passages and prompts: {self.embedded} embedded, {self.reused} reused from the previous version"
            + (f", {self.repeated} repeated passage{'s' * (self.repeated != 1)} embedded once" if self.repeated else "")
            + "\n"
            f"encoder: {self.encoder}\n"
            f"{len(self.failed)} files failed; took {self.seconds:.1f} s"
            + "".join(f"\n  {f['path']}: {f['error']}" for f in self.failed[:SHOWN_FAILURES])
            + (f"\n  and {len(self.failed) - SHOWN_FAILURES} more: `python -m indexer inspect PATH...` lists "
               "them all" if len(self.failed) > SHOWN_FAILURES else "")
        )


EMBED_INPUT = "passage text"
QUESTION_INPUT = "prompting question, else document title"  # questions.faiss: each distinct prompt, embedded


def passage_settings(max_words: int) -> dict:
    """How passages were cut and what the model saw, as the manifest records it."""
    return {"max_words": max_words, "embed_input": EMBED_INPUT, "question_input": QUESTION_INPUT}


def embed_input(passage: Passage) -> str:
    """What the model sees for a passage (recorded in the manifest as EMBED_INPUT)."""
    return passage.text


def build_index(
    paths: list[str | Path],
    index_dir: str | Path,
    model: str | None = None,
    progress: bool = True,
    max_words: int = MAX_WORDS,
    store: str | None = None,
    engine: Engine | None = None,
) -> BuildReport:
    """Build into the index directory, or into the Milvus `store` if given (indexer/store/milvus_build.py);
    `engine` parses the files and embeds the new texts (default: in this process; indexer/compute)."""
    engine = engine or LocalEngine()
    if store:
        return milvus_build.build_milvus(paths, store, model, progress, max_words, engine)
    return _build_local(paths, index_dir, model, progress, max_words, engine)


def _build_local(paths: list[str | Path], index_dir: str | Path, model: str | None, progress: bool,
                 max_words: int, engine: Engine) -> BuildReport:
    started = time.monotonic()
    index_dir = Path(index_dir)
    with storage_errors(index_dir, writing=True):
        return _build(paths, index_dir, model, progress, max_words, engine, started)


def _build(paths, index_dir: Path, model: str | None, progress: bool, max_words: int, engine: Engine,
           started: float) -> BuildReport:
    cache = parse_cache.ParseCache(index_dir / parse_cache.FILE)
    corpus = read_corpus(paths, max_words=max_words, progress=progress, cache=cache, parse=engine.parse)
    require_passages(corpus, paths)
    embedder = Embedder(model)
    with build_lock(index_dir):
        cache.save()
        previous, previous_manifest = _previous_version(index_dir)
        reusable = previous if _same_embedding(previous_manifest, embedder) else None
        questions = rows.distinct_questions(corpus)
        texts = [embed_input(p) for p in corpus.passages] + [text for _, text in questions]
        hashes = [content_hash(text) for text in texts]
        known = rows.stored_embeddings(reusable, set(hashes))
        vectors, embedded, reused = _vectors(texts, hashes, embedder, known, progress, engine)
        with new_version(index_dir) as version:
            rows.write(version, rows.rows_for(corpus, hashes, questions), vectors, previous=reusable)
            settings = _write_both(version, vectors, len(corpus.passages))
            manifest = _manifest(corpus, embedder, vectors.shape[1], paths, max_words, settings, len(questions))
            final = publish(index_dir, version, manifest)
    return report(str(index_dir), final.name, embedder, corpus, previous_manifest,
                  (embedded, reused, len(texts) - embedded - reused), started)


def require_passages(corpus: Corpus, paths) -> None:
    """NoDocuments, naming the first failed file's reason, if the corpus gave no passages."""
    if not corpus.passages:
        raise NoDocuments(
            f"no transcript passages found in {', '.join(map(str, paths))} "
            f"({corpus.files} files, {len(corpus.failed)} failed"
            + (f", the first: {corpus.failed[0].path}: {corpus.failed[0].error}" if corpus.failed else "")
            + "); point build at a folder of transcripts"
        )


def report(where: str, version: str, embedder: Embedder, corpus: Corpus, previous_manifest: Manifest,
           counts: tuple[int, int, int], started: float) -> BuildReport:
    """What a build did, in either store; `counts` are the texts embedded, reused and repeated."""
    old_docs, new_docs = set(previous_manifest.doc_ids), {doc.doc_id for doc in corpus.documents}
    embedded, reused, repeated = counts
    return BuildReport(
        index_dir=where,
        version=version,
        model=embedder.name,
        encoder=embedder.encoder,
        documents=len(corpus.documents),
        passages=len(corpus.passages),
        documents_added=len(new_docs - old_docs),
        documents_kept=len(new_docs & old_docs),
        documents_removed=len(old_docs - new_docs),
        embedded=embedded,
        reused=reused,
        repeated=repeated,
        failed=[{"path": f.path, "error": f.error} for f in corpus.failed],
        seconds=round(time.monotonic() - started, 1),
        merged=sum(len(d.dropped) for d in corpus.duplicates),
    )


def _write_both(version: Path, vectors: np.ndarray, passages: int) -> dict:
    """vectors.faiss (the first `passages` rows) and questions.faiss (the rest); the passages' index settings."""
    settings = settings_for(passages)
    write_vectors(version, vectors[:passages], settings)
    write_vectors(version, vectors[passages:], QUESTION_SETTINGS, QUESTION_VECTORS)
    return settings


def _previous_version(index_dir: Path) -> tuple[Path | None, Manifest]:
    """The version to reuse vectors from; a damaged one is simply rebuilt from scratch."""
    try:
        previous = current_version(index_dir)
        if previous is None:
            return None, Manifest()
        manifest = read_manifest(previous)
        connect_readonly(previous).close()
    except IndexCorrupt:
        return None, Manifest()
    if any(check.damaged for check in check_version(previous, manifest)):
        return None, Manifest()
    return previous, manifest


def _same_embedding(manifest: Manifest, embedder: Embedder) -> bool:
    """Whether vectors in a version with this manifest are what `embedder` would make."""
    return manifest.model == embedder.name and manifest.encoder == embedder.encoder


def _vectors(texts: list[str], hashes: list[str], embedder: Embedder, known: dict[str, np.ndarray], progress: bool,
             engine: Engine):
    """One vector per text (`hashes[i]` is text i's content hash), those `known` (the previous version's, by
    hash) reused and the rest embedded by `engine`; returns (vectors, how many distinct texts had to be
    embedded, how many were known)."""
    reused = sum(key in known for key in hashes)
    missing = {}
    for text, key in zip(texts, hashes):
        if key not in known:
            missing.setdefault(key, text)
    if missing:
        fresh = engine.embed(embedder, list(missing.values()), progress)
        known.update(zip(missing.keys(), fresh))
    dimension = len(next(iter(known.values())))
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    for row, key in enumerate(hashes):
        vectors[row] = known[key]
    return vectors, len(missing), reused


def _manifest(corpus: Corpus, embedder: Embedder, dimension: int, paths, max_words: int,
              settings: dict, questions: int) -> Manifest:
    dates = sorted(d.date for d in corpus.documents if d.date)
    return Manifest(
        format_version=FORMAT_VERSION,
        model=embedder.name,
        encoder=embedder.encoder,
        dimension=int(dimension),
        normalized=True,
        metric="cosine (inner product of unit vectors)",
        passage_settings=passage_settings(max_words),
        counts={
            "documents": len(corpus.documents),
            "turns": sum(len(t) for t in corpus.turns.values()),
            "passages": len(corpus.passages),
            "questions": questions,
            "speakers": len({p.speaker for p in corpus.passages}),
            "failed_files": len(corpus.failed),
        },
        date_range=[dates[0], dates[-1]] if dates else None,
        sources=[str(p) for p in paths],
        doc_ids=sorted(doc.doc_id for doc in corpus.documents),
        built_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **settings,
    )
