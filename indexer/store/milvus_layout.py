"""A Milvus store's collections: one set per version, and the alias that names the current one.

    podium_<version>_passages   one row per passage: its fields, its FTS5 terms and their BM25 vector, its vector
    podium_<version>_questions  one row per distinct prompt: text, terms, BM25 vector, vector
    podium_<version>_documents  one row per document (a placeholder vector: Milvus wants one in every collection)
    podium_<version>_turns      one row per turn, or per part of a turn too long for one field
    podium_<version>_meta       the manifest and the BM25 statistics, as JSON in parts
    podium_current              alias of the current version's meta collection

A build writes a whole new set and moves the one alias (atomic in Milvus), so
a reader sees one version or the other, never half of each; the version it
replaced is kept for readers that opened it, older ones are dropped. See
docs/index-format.md.
"""

from __future__ import annotations

import json
import time
import uuid

PREFIX = "podium"
ALIAS = f"{PREFIX}_current"
PARTS = ("passages", "questions", "documents", "turns", "meta")
TEXT = 65_535  # bytes in a VARCHAR, Milvus's most
NAME = 1_024
CHUNK = 16_000  # characters of a turn or of JSON per row: at most 4 bytes each, within TEXT
PLACEHOLDER = 2  # dimension of the vector a collection without one of its own carries
MATCH_ANALYZER = {"tokenizer": "standard"}  # splits the FTS5 terms at their spaces (indexer/store/terms.py)


def new_version() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}"


def collection(version: str, part: str) -> str:
    return f"{PREFIX}_{version}_{part}"


def version_of(name: str) -> str | None:
    """The version a collection of ours belongs to, None for another's collection."""
    head, _, part = name.rpartition("_")
    if not head.startswith(f"{PREFIX}_") or part not in PARTS:
        return None
    return head.removeprefix(f"{PREFIX}_")


def current_version(client) -> str | None:
    """The version the alias names, None if the store holds no index yet."""
    if ALIAS not in client.list_aliases().get("aliases", []):
        return None
    return version_of(client.describe_alias(ALIAS)["collection_name"])


def schemas(client, dimension: int) -> dict:
    """Each part's schema and index parameters."""
    from pymilvus import DataType

    def fields(schema, spec):
        for name, kind, options in spec:
            schema.add_field(name, kind, **options)
        return schema

    text, name = {"max_length": TEXT}, {"max_length": NAME}
    terms = {"max_length": TEXT, "enable_analyzer": True, "enable_match": True, "analyzer_params": MATCH_ANALYZER}
    shared = {
        "passages": [("id", DataType.INT64, {"is_primary": True}), ("passage_id", DataType.VARCHAR, name),
                     ("doc_id", DataType.VARCHAR, name), ("turn", DataType.INT64, {}),
                     ("para_start", DataType.INT64, {}), ("para_end", DataType.INT64, {}),
                     ("speaker", DataType.VARCHAR, name), ("role", DataType.VARCHAR, name),
                     ("question", DataType.VARCHAR, text), ("asked", DataType.BOOL, {}),
                     ("text", DataType.VARCHAR, text), ("date", DataType.VARCHAR, name),
                     ("kind", DataType.VARCHAR, name), ("content_hash", DataType.VARCHAR, name),
                     ("question_id", DataType.INT64, {}), ("terms", DataType.VARCHAR, terms)],
        "questions": [("id", DataType.INT64, {"is_primary": True}), ("doc_id", DataType.VARCHAR, name),
                      ("text", DataType.VARCHAR, text), ("content_hash", DataType.VARCHAR, name),
                      ("terms", DataType.VARCHAR, terms)],
        "documents": [("doc_id", DataType.VARCHAR, {"is_primary": True, **name}), ("title", DataType.VARCHAR, text),
                      ("date", DataType.VARCHAR, name), ("kind", DataType.VARCHAR, name),
                      ("source_url", DataType.VARCHAR, text), ("source_name", DataType.VARCHAR, name),
                      ("path", DataType.VARCHAR, text), ("sources", DataType.VARCHAR, text)],
        "turns": [("key", DataType.VARCHAR, {"is_primary": True, **name}), ("doc_id", DataType.VARCHAR, name),
                  ("number", DataType.INT64, {}), ("part", DataType.INT64, {}), ("label", DataType.VARCHAR, text),
                  ("speaker", DataType.VARCHAR, name), ("role", DataType.VARCHAR, name),
                  ("text", DataType.VARCHAR, text)],
        "meta": [("key", DataType.VARCHAR, {"is_primary": True, **name}), ("name", DataType.VARCHAR, name),
                 ("part", DataType.INT64, {}), ("value", DataType.VARCHAR, text)],
    }
    return {part: _with_vectors(client, part, fields(client.create_schema(), spec), dimension)
            for part, spec in shared.items()}


def _with_vectors(client, part: str, schema, dimension: int):
    """The part's vector fields and their indexes: exact inner product (FAISS's IndexFlatIP) for the
    embeddings, and for the BM25 vectors of the terms (indexer/store/bm25.py) of passages and prompts; a
    placeholder elsewhere."""
    from pymilvus import DataType

    index = client.prepare_index_params()
    if part in ("passages", "questions"):
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    else:
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=PLACEHOLDER)
        index.add_index("vector", index_type="FLAT", metric_type="L2")
    return schema, index


def blob_rows(name: str, value) -> list[dict]:
    """`value` as JSON in rows of the meta collection."""
    text = json.dumps(value, ensure_ascii=True)
    return [{"key": f"{name}/{number}", "name": name, "part": number, "value": part, "vector": [0.0] * PLACEHOLDER}
            for number, part in enumerate(chunks(text))]


def read_blob(rows: list[dict]):
    return json.loads("".join(row["value"] for row in sorted(rows, key=lambda row: row["part"])))


def chunks(text: str) -> list[str]:
    """A long text in parts that each fit one field."""
    return [text[start:start + CHUNK] for start in range(0, len(text), CHUNK)] or [""]


def all_rows(client, name: str, fields: list[str], filter: str = ""):
    """Every row of a collection (within `filter`), in batches."""
    iterator = client.query_iterator(name, batch_size=4_000, filter=filter, output_fields=fields)
    try:
        while batch := iterator.next():
            yield batch
    finally:
        iterator.close()
