"""A Milvus store opened for searching: the current version's collections, read as the ranking asks.

Each search runs in Milvus with the filters as an expression (before the
cut); the scores are computed in our code, as for the local store: dense
hits come as inner products of unit vectors (FLAT: exact, as FAISS's
IndexFlatIP), BM25 hits as inner products of the query's IDFs and the rows'
stored weights, which is FTS5's score (indexer/store/bm25.py). The facts the ranking keeps in memory (each passage's
document, prompt, date, speaker) are read in one pass on first use.
"""

from __future__ import annotations

import threading
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import IndexMismatch, IndexMissing
from ..index.manifest import Manifest
from ..index.schema import FORMAT_VERSION
from ..search.facts import BoundedCache
from ..search.query import Query
from ..search.vocabulary import Stemmer, Vocabulary
from . import location, milvus_filters, terms
from .bm25 import Statistics
from .milvus_filters import Where
from .milvus_layout import PARTS, all_rows, collection, current_version, read_blob

TOP_K = 16_384  # Milvus's most hits per search
_FILTERED_QUESTIONS = 10  # as the local store: under a filter, the best prompts of the whole index, kept to it
_FACTS = ["id", "passage_id", "doc_id", "question_id", "date", "speaker", "kind", "role"]
_RESULT = ["id", "passage_id", "doc_id", "speaker", "role", "question", "asked", "text", "date", "kind"]


def build_hint(spec: str) -> str:
    return f"python -m indexer build ../shared/corpus/seeds --store {spec}"


def read_manifest(client, version: str) -> Manifest:
    name = collection(version, "meta")
    client.load_collection(name)
    return Manifest.from_dict(read_blob(client.query(name, filter='name == "manifest"', output_fields=["*"])))


def replaced(client, version: str | None) -> str | None:
    """The version `version` replaced (kept for the readers that opened it), None if none."""
    if version is None:
        return None
    return read_blob(client.query(collection(version, "meta"), filter='name == "replaces"', output_fields=["*"]))


class MilvusStore:
    """The current version of the index in a Milvus store."""

    def __init__(self, spec: str, client, version: str, manifest: Manifest, statistics: Statistics):
        self.location, self.client, self.manifest = spec, client, manifest
        self.version = PurePosixPath(version)
        self.names = {part: collection(version, part) for part in PARTS}
        self.passage_vectors = _Vectors(client, self.names["passages"], manifest.dimension)
        self.question_vectors = _Vectors(client, self.names["questions"], manifest.dimension)
        self._statistics, self._stemmer = statistics, Stemmer()
        self._filtered = BoundedCache(32)
        self._columns: dict[str, list] | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, spec: str, client) -> MilvusStore:
        """The version the alias names, its manifest checked, its collections loaded."""
        version = current_version(client)
        if version is None:
            raise IndexMissing(f"no index in the Milvus store {spec}; build one first, e.g.: {build_hint(spec)}")
        manifest = read_manifest(client, version)
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatch(f"the index in {spec} has format version {manifest.format_version}, this Podium "
                                f"reads version {FORMAT_VERSION}; rebuild it with: python -m indexer build PATH... "
                                f"--store {spec}")
        for part in PARTS:
            client.load_collection(collection(version, part))
        statistics = read_blob(client.query(collection(version, "meta"), filter='name == "bm25"',
                                            output_fields=["*"]))
        return cls(spec, client, version, manifest, Statistics.from_dict(statistics))

    def reading(self):
        """A store lost mid-query is one clear error."""
        return location.failures_reported(self.location)

    def column(self, name: str) -> list:
        """One field of the passages, in row order (all the facts' fields are read in one pass)."""
        with self._lock:
            if self._columns is None:
                rows = sorted((row for batch in all_rows(self.client, self.names["passages"], _FACTS)
                               for row in batch), key=lambda row: row["id"])
                self._columns = {field: [row[field] for row in rows] for field in _FACTS}
        return self._columns[name]

    def vocabulary(self) -> Vocabulary:
        return self._statistics.vocabulary()

    def where(self, filters, facts, query: Query | None = None) -> Where:
        """The filters as an expression, with the query's phrases (Milvus searches cannot take FTS5's MATCH)."""
        return milvus_filters.where(filters, facts, query, self._stemmer)

    def narrowed(self, where: Where, hints):
        return milvus_filters.narrowed(where, hints)

    def texts(self, ids: list[int]) -> dict[int, str]:
        return {row["id"]: row["text"] for row in self._get("passages", ids, ["text"])}

    def dense(self, vector: np.ndarray, where: Where, allowed, wanted: int) -> list[tuple[int, float]]:
        return self._search("passages", vector.tolist(), "vector", self._filter(where, allowed), wanted)

    def keyword(self, query: Query, where: Where, allowed, wanted: int) -> list[tuple[int, float]]:
        words = self._statistics.query_vector("passages", terms.query_units(query, self._stemmer))
        if not words:
            return []
        return self._search("passages", words, "sparse", self._filter(where, allowed), wanted)

    def question_dense(self, vector: np.ndarray, asked, wanted: int, leave_out: frozenset[int]):
        """(question id, cosine) of the reporter questions closest to the user's, among `asked` (None: all)."""
        within = "" if asked is None else milvus_filters.ids_in(asked)
        if asked is not None and not len(asked):
            return []
        found = self._search("questions", vector.tolist(), "vector", within, wanted + len(leave_out))
        return [(q, s) for q, s in found if q not in leave_out][:wanted]

    def question_keyword(self, query: Query, asked, wanted: int, leave_out: frozenset[int]):
        """(question id, BM25) of the prompts that share the query's words, among `asked`: the best of the
        whole index, _FILTERED_QUESTIONS times more under a filter, kept to `asked`, as the local store does."""
        words = self._statistics.query_vector("questions", terms.query_units(query, self._stemmer))
        if not words or (asked is not None and not len(asked)):
            return []
        limit = (wanted if asked is None else _FILTERED_QUESTIONS * wanted) + len(leave_out)
        found = [(q, s) for q, s in self._search("questions", words, "sparse", "", limit)
                 if q not in leave_out]
        if asked is not None:
            kept = np.isin([q for q, _ in found], asked)
            found = [pair for pair, keep in zip(found, kept) if keep]
        return found[:wanted]

    def allowed_ids(self, where: Where, query: Query) -> np.ndarray | None:
        """The passage ids within the filters that hold every quoted phrase; None for all."""
        if not where.expression and not where.phrases:
            return None
        return self._filtered.get(where, lambda: self._allowed(where))

    def _allowed(self, where: Where) -> np.ndarray:
        if where.phrases:
            expression = milvus_filters.with_phrase_words(where)
            rows = (row for batch in all_rows(self.client, self.names["passages"], ["id", "terms"], expression)
                    for row in batch if terms.holds_phrases(row["terms"], list(where.phrases)))
        else:
            rows = (row for batch in all_rows(self.client, self.names["passages"], ["id"], where.expression)
                    for row in batch)
        ids = np.array(sorted(row["id"] for row in rows), dtype=np.int64)
        ids.flags.writeable = False  # shared by the searches the cache serves
        return ids

    def match_count(self, query: Query, where: Where) -> int:
        """How many passages within the filters contain any of the query's words (all its phrases)."""
        if where.phrases:
            return len(self.allowed_ids(where, query))
        words = " ".join(terms.query_units(query, self._stemmer))
        if not words:
            return 0
        expression = milvus_filters.both(where.expression, milvus_filters.any_word(words))
        return self.client.query(self.names["passages"], filter=expression, output_fields=["count(*)"])[0]["count(*)"]

    def passage_rows(self, ids: list[int]) -> dict[int, dict]:
        """Each passage's fields and its document's title and link, by row id."""
        rows = self._get("passages", ids, _RESULT)
        docs = {row["doc_id"]: row for row in self._where("documents", _in("doc_id", {r["doc_id"] for r in rows}),
                                                          ["doc_id", "title", "source_url"])}
        return {row["id"]: _passage(row, docs[row["doc_id"]]) for row in rows}

    def passage_place(self, passage_id: str) -> tuple[str, int] | None:
        rows = self._where("passages", f"passage_id == {milvus_filters.literal(passage_id)}", ["doc_id", "turn"])
        return (rows[0]["doc_id"], rows[0]["turn"]) if rows else None

    def turns(self, doc_id: str, first: int | None = None, last: int | None = None) -> list[dict]:
        """A document's turns (numbers `first`..`last` if given) in order: number, speaker, role, text."""
        expression = f"doc_id == {milvus_filters.literal(doc_id)}"
        if first is not None:
            expression += f" and number >= {int(first)} and number <= {int(last)}"
        parts = sorted(self._where("turns", expression, ["number", "part", "speaker", "role", "text"]),
                       key=lambda row: (row["number"], row["part"]))
        turns: dict[int, dict] = {}
        for row in parts:
            turn = turns.setdefault(row["number"], {"number": row["number"], "speaker": row["speaker"],
                                                    "role": row["role"], "text": ""})
            turn["text"] += row["text"]
        return list(turns.values())

    def document(self, doc_id: str) -> dict | None:
        rows = self._where("documents", f"doc_id == {milvus_filters.literal(doc_id)}",
                           ["doc_id", "title", "date", "kind", "path", "source_name", "source_url"])
        return rows and {**rows[0], "date": rows[0]["date"] or None, "source_url": rows[0]["source_url"] or None}

    def passages_of(self, doc_id: str) -> list[dict]:
        rows = self._where("passages", f"doc_id == {milvus_filters.literal(doc_id)}",
                           ["passage_id", "turn", "para_start", "para_end"])
        return sorted(rows, key=lambda row: (row["turn"], row["para_start"]))

    # ---- what the eval reads (indexer/evaluation/): the same rows as the local store's

    def document_paths(self) -> list[tuple[str, str]]:
        return [(row["doc_id"], row["path"]) for row in self._where("documents", "", ["doc_id", "path"])]

    def prompted_passages(self) -> list[tuple[str, str, str, int]]:
        """(doc_id, question, passage_id, question_id) of every passage a question prompted, in row order."""
        rows = sorted(self._where("passages", "asked == true", ["id", "doc_id", "question", "passage_id",
                                                                 "question_id"]), key=lambda row: row["id"])
        return [(row["doc_id"], row["question"], row["passage_id"], row["question_id"]) for row in rows]

    def passage_texts_in(self, doc_id: str) -> list[tuple[str, str]]:
        rows = self._where("passages", f"doc_id == {milvus_filters.literal(doc_id)}", ["passage_id", "text"])
        return [(row["passage_id"], row["text"]) for row in rows]

    def passages_on(self, dates: list[str]) -> list[tuple[str, str, str]]:
        rows = self._where("passages", _in("date", dates), ["passage_id", "text", "date"])
        return [(row["passage_id"], row["text"], row["date"]) for row in rows]

    def texts_by_passage_id(self, passage_ids: list[str]) -> dict[str, str]:
        return {row["passage_id"]: row["text"]
                for row in self._where("passages", _in("passage_id", passage_ids), ["passage_id", "text"])}

    def keyword_text_only(self) -> bool:
        """Whether a prompted passage's BM25 terms (its sparse vector's words) are its text's and no more."""
        rows = self.client.query(self.names["passages"], filter="asked == true", output_fields=["text", "terms"],
                                 limit=1)
        return not rows or rows[0]["terms"] == terms.stemmed([rows[0]["text"]], self._stemmer)[0]

    def a_prompted_passage(self) -> tuple[str, str] | None:
        rows = self.client.query(self.names["passages"], filter="asked == true",
                                 output_fields=["text", "content_hash"], limit=1)
        return (rows[0]["text"], rows[0]["content_hash"]) if rows else None

    def sizes(self) -> dict:
        count = {part: self._count(part) for part in ("documents", "passages")}
        file = Path(location.uri(self.location))
        return {**count, "size_bytes": _size(file) if self.location.startswith(location.LITE) else None}

    def close(self) -> None:
        self.client.close()

    def _filter(self, where: Where, allowed) -> str | None:
        """The expression a search keeps to: the filters', or the ids that hold the phrases; None: nothing."""
        if allowed is not None and not len(allowed):
            return None
        return milvus_filters.ids_in(allowed) if where.phrases else where.expression

    def _search(self, part: str, data, field: str, expression: str | None, wanted: int):
        """(id, inner product) best first: of unit vectors for `vector`, BM25 for `sparse`."""
        if expression is None or wanted < 1:
            return []
        hits = self.client.search(self.names[part], data=[data], anns_field=field, limit=min(wanted, TOP_K),
                                  filter=expression, output_fields=["id"], search_params={"metric_type": "IP"})
        return [(int(hit["id"]), float(hit["distance"])) for hit in hits[0]]

    def _get(self, part: str, ids, fields: list[str]) -> list[dict]:
        if not len(ids):
            return []
        return self.client.get(self.names[part], ids=[int(i) for i in ids], output_fields=["id", *fields])

    def _where(self, part: str, expression: str, fields: list[str]) -> list[dict]:
        return [row for batch in all_rows(self.client, self.names[part], fields, expression) for row in batch]

    def _count(self, part: str) -> int:
        return self.client.query(self.names[part], filter="", output_fields=["count(*)"])[0]["count(*)"]


class _Vectors:
    """A collection's vectors by id, as evidence.scores reads FAISS's (`reconstruct_batch`)."""

    def __init__(self, client, name: str, dimension: int):
        self.client, self.name, self.dimension = client, name, dimension

    def reconstruct_batch(self, ids) -> np.ndarray:
        ids = [int(i) for i in ids]
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = {row["id"]: row["vector"] for row in self.client.get(self.name, ids=ids, output_fields=["vector"])}
        return np.array([rows[i] for i in ids], dtype=np.float32)


def _passage(row: dict, doc: dict) -> dict:
    return {**row, "question": row["question"] if row["asked"] else None, "date": row["date"] or None,
            "title": doc["title"], "source_url": doc["source_url"] or None}


def _in(field: str, values) -> str:
    return f"{field} in [{', '.join(milvus_filters.literal(v) for v in sorted(values))}]"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
