"""Writing one version into a Milvus store, switching the alias onto it, and dropping what it replaced.

The rows are the local store's (indexer/index/rows.py) with their vectors and
FTS5 terms; `None` is kept as "" (with `asked` saying whether a passage has a
question), as Milvus Lite has no null. A build that fails drops the
collections it made; one that was killed leaves collections no alias names,
dropped by the next build, and the current version answers meanwhile.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..index.rows import Rows
from . import milvus_layout as layout
from .bm25 import Statistics

_BATCH = 1_000  # rows per insert: a few MB per request, well within gRPC's limit


def write_version(client, version: str, rows: Rows, vectors: np.ndarray, terms: list[str], statistics: Statistics,
                  meta: dict) -> None:
    """Every collection of `version`, filled and flushed; `terms` holds each passage's, then each prompt's, and
    `statistics` makes their BM25 vectors."""
    made = []
    try:
        for part, (schema, index) in layout.schemas(client, vectors.shape[1]).items():
            name = layout.collection(version, part)
            client.create_collection(name, schema=schema, index_params=index)
            made.append(name)
            for start in itertools.count(0, _BATCH):
                batch = _rows(part, rows, vectors, (terms, statistics), meta, start, start + _BATCH)
                if not batch:
                    break
                client.insert(name, batch)
            client.flush(name)
    except BaseException:
        for name in made:
            client.drop_collection(name)
        raise


def switch_to(client, version: str) -> None:
    """Point the alias at `version`, keep the version it named, drop every other of ours."""
    previous = layout.current_version(client)
    meta = layout.collection(version, "meta")
    if previous is None:
        client.create_alias(meta, layout.ALIAS)
    else:
        client.alter_alias(meta, layout.ALIAS)
    drop_others(client, keep={version, previous})


def drop_others(client, keep: set[str | None]) -> None:
    """Drop our collections of every version but `keep` (what killed or replaced builds left)."""
    for name in client.list_collections():
        owner = layout.version_of(name)
        if owner is not None and owner not in keep:
            client.drop_collection(name)


def _rows(part: str, rows: Rows, vectors: np.ndarray, words: tuple[list[str], Statistics], meta: dict, start: int,
          stop: int):
    """Rows `start`..`stop` of one part, as Milvus takes them."""
    passages, (terms, statistics) = len(rows.passages), words
    if part == "passages":
        return [{**_passage(row, vectors[row[0]], terms[row[0]]),
                 "sparse": statistics.row_vector(part, terms[row[0]])} for row in rows.passages[start:stop]]
    if part == "questions":
        return [{"id": q, "doc_id": doc, "text": text, "content_hash": key, "terms": terms[passages + q],
                 "sparse": statistics.row_vector(part, terms[passages + q]), "vector": vectors[passages + q].tolist()}
                for q, doc, text, key in rows.questions[start:stop]]
    if part == "documents":
        return [_document(row) for row in rows.documents[start:stop]]
    if part == "turns":
        return [turn for row in rows.turns[start:stop] for turn in _turn_parts(row)]
    return [row for name, value in meta.items() for row in layout.blob_rows(name, value)] if start == 0 else []


def _passage(row: tuple, vector: np.ndarray, terms: str) -> dict:
    (number, passage_id, doc_id, turn, para_start, para_end, speaker, role, question, text, date, kind,
     key, question_id) = row
    return {"id": number, "passage_id": passage_id, "doc_id": doc_id, "turn": turn, "para_start": para_start,
            "para_end": para_end, "speaker": speaker, "role": role, "question": question or "",
            "asked": question is not None, "text": text, "date": date or "", "kind": kind, "content_hash": key,
            "question_id": -1 if question_id is None else question_id, "terms": terms, "vector": vector.tolist()}


def _document(row: tuple) -> dict:
    doc_id, title, date, kind, source_url, source_name, path, sources = row
    return {"doc_id": doc_id, "title": title, "date": date or "", "kind": kind, "source_url": source_url or "",
            "source_name": source_name, "path": path, "sources": sources, "vector": [0.0] * layout.PLACEHOLDER}


def _turn_parts(row: tuple) -> list[dict]:
    doc_id, number, label, speaker, role, text = row
    return [{"key": f"{doc_id}#{number}#{part}", "doc_id": doc_id, "number": number, "part": part, "label": label,
             "speaker": speaker, "role": role, "text": chunk, "vector": [0.0] * layout.PLACEHOLDER}
            for part, chunk in enumerate(layout.chunks(text))]


def stored_vectors(client, version: str | None, hashes: set[str]) -> dict[str, np.ndarray]:
    """Vectors `version` already holds for these content hashes (passages' and prompts'), in one pass over
    each collection, as the local store reads its embeddings table."""
    found: dict[str, np.ndarray] = {}
    if version is None or not hashes:
        return found
    for part in ("passages", "questions"):
        client.load_collection(layout.collection(version, part))
        for batch in layout.all_rows(client, layout.collection(version, part), ["content_hash", "vector"]):
            found.update((row["content_hash"], np.asarray(row["vector"], dtype=np.float32))
                         for row in batch if row["content_hash"] in hashes)
    return found
