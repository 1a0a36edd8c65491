"""`Index`: one version of an index, opened for searching; the API the CLI, the app and the eval use.

A search reads the question (query.py, question.py), has its store (the local
FAISS + SQLite, or Milvus: indexer/store/) turn the filters into its own
terms (filters.py), retrieves and fuses (retrieval.py, fusion.py), re-ranks
and caps per document (ranking.py) and builds results (results.py); this
class only wires them together.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath

import numpy as np

from ..embedding.embedder import Embedder, model_name, shared_embedder
from ..errors import IndexMismatch
from ..index import layout
from ..index.manifest import Manifest
from ..store import local, location
from . import ranking, results
from .facts import BoundedCache, Facts
from .filters import Filters, match_speakers
from .limits import check_id, check_question, check_request, check_turns
from .query import Query, parse_query
from .question import Hints, named_words, parse_question, read_hints
from .retrieval import Retriever, embedding_pool

DEFAULT_INDEX = Path("data/index")
_MIN_CANDIDATES, _GROWTH, _MAX_ROUNDS = 100, 4, 4
_VECTOR_CACHE = 2048  # question vectors kept (1.5 MB), as the eval asks each question several ways


def default_index_dir() -> Path:
    return Path(os.environ.get("PODIUM_INDEX") or DEFAULT_INDEX)


def current_version_name(path: str | Path) -> str | None:
    """The name of the version an index directory serves now (None if it has none): cheap, one readlink; or,
    when $PODIUM_STORE names a Milvus store, the version its alias names."""
    spec = location.chosen(None)
    if spec:
        return location.current_version_name(spec)
    version = layout.current_version(Path(path))
    return version.name if version else None


def _open_store(path, store: str | None):
    """The store `Index.open` names (Milvus if `store` or $PODIUM_STORE says so) and how a build names it."""
    spec = location.chosen(store)
    if spec:
        return location.open_milvus(spec), f"--store {spec}"
    path = Path(path) if path else default_index_dir()
    return local.LocalStore.open(path), f"--index {path}"


def _damage_reported(method):
    """For methods that read the store: damage met mid-query (the local database) is an IndexCorrupt error."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.store.reading():
            return method(self, *args, **kwargs)

    return wrapper


@dataclass
class Index:
    """One version of an index, opened for searching from its store: the local one (a directory, FAISS +
    SQLite, indexer/store/local.py) or a Milvus deployment (indexer/store/milvus_read.py)."""

    path: Path | str
    store: object = field(repr=False)

    def __post_init__(self):
        self._facts = Facts(self.store)
        self._retriever = Retriever(self.store, self._facts)
        self._question_vectors = BoundedCache(_VECTOR_CACHE)

    @classmethod
    def open(cls, path: str | Path | None = None, model: str | None = None, store: str | None = None) -> Index:
        """Open the current version of the index at `path` (default: $PODIUM_INDEX or data/index), or in the
        Milvus `store` (default: $PODIUM_STORE; "milvus:///file.db" or "http://host:port").

        `model`, if given, must be the one the index was built with.
        """
        opened, fix = _open_store(path, store)
        if model and model_name(model) != opened.manifest.model:
            raise IndexMismatch(
                f"the index at {opened.location} was built with model {opened.manifest.model!r}, not {model!r}; "
                f"search without --model, or rebuild with: python -m indexer build PATH... {fix} --model {model}"
            )
        return cls(opened.path if isinstance(opened, local.LocalStore) else opened.location, opened)

    @property
    def version(self) -> PurePath:
        """The version served (a directory for the local store; `.name` names it in either)."""
        return self.store.version

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest

    @property
    def db(self):
        """The local store's read-only SQLite connection (the eval and the benchmarks read it)."""
        return self.store.db

    @property
    def embedder(self) -> Embedder:
        """The model and engine that built the index."""
        return shared_embedder(self.manifest.model, self.manifest.encoder)

    @_damage_reported
    def search(self, question: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
               per_doc: int | None = None, tuning: ranking.Tuning | None = None) -> results.Results:
        """The best k passages for `question` (at most `per_doc` from one document if given); `tuning`
        (default DEFAULT_TUNING) picks the ranking's levers. `no_close_match` on the results says that
        nothing answers the question."""
        query, chosen, confidence = self._choose(question, k, filters, mode, per_doc, tuning)
        unheard = self._facts.vocabulary.unheard(named_words(question))
        return results.Results(results.results_for(self.store, chosen, query),
                               ranking.no_close_match(confidence, unheard) or not chosen)

    @_damage_reported
    def rank(self, question: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
             per_doc: int | None = None, tuning: ranking.Tuning | None = None,
             leave_out: frozenset[int] = frozenset()) -> list[tuple[str, float]]:
        """(passage_id, score) of what `search` would return, without building results (for the eval);
        the reporter questions `leave_out` names are no evidence (the pair benchmark's leave-one-out)."""
        _, chosen, _ = self._choose(question, k, filters, mode, per_doc, tuning, leave_out)
        return [(self._facts.passage_ids[i], score) for i, score in chosen]

    def _choose(self, question, k, filters, mode, per_doc, tuning, leave_out=frozenset()):
        """The query, the best k (id, score) and the confidence (None unless measured): candidates are
        fetched wider until k survive the cuts."""
        check_request(question, k, mode, per_doc, tuning)
        tuning = ranking.DEFAULT_TUNING if tuning is None else tuning
        query = parse_question(question, clean=tuning.clean_query)
        where = self.store.where(filters, self._facts, query)
        allowed = self.store.allowed_ids(where, query)
        if allowed is not None and len(allowed) == 0:
            return query, [], None
        vector = embedding_pool().submit(self._question_vector, query.text) if mode != "keyword" else None
        searched = replace(query, terms=self._facts.vocabulary.telling(query.terms)) if mode != "dense" else query
        hints = read_hints(question, self._facts.speaker_names, self._facts.years) if tuning.hint_weight else Hints()
        wanted = max(_MIN_CANDIDATES, 10 * k)
        confidence = None
        for _ in range(_MAX_ROUNDS):
            ranked, exhausted, confidence = self._retriever.ranking(searched, where, vector, allowed, mode, wanted,
                                                                    tuning, hints, leave_out)
            ranked = ranking.rerank(ranked, question, tuning, self.store.texts)
            chosen = ranking.cap_per_document(ranked, k, per_doc, self._facts.document_of)
            if len(chosen) >= k or exhausted:
                break
            wanted *= _GROWTH
        return query, chosen, confidence

    def _question_vector(self, text: str) -> np.ndarray:
        return self._question_vectors.get(text, lambda: self.embedder.encode_query(text))

    @_damage_reported
    def speakers(self) -> list[tuple[str, int]]:
        return self._facts.speakers

    @_damage_reported
    def kinds(self) -> list[tuple[str, int]]:
        return self._facts.kinds

    @_damage_reported
    def roles(self) -> list[str]:
        return self._facts.roles

    @_damage_reported
    def date_range(self) -> tuple[str | None, str | None]:
        return self._facts.date_range

    @_damage_reported
    def match_speakers(self, wanted: tuple[str, ...]) -> list[str]:
        """Display names for the requested speakers: a full name or a surname, any case."""
        return match_speakers(wanted, self._facts.speaker_names)

    @_damage_reported
    def context(self, passage_id: str, before: int = 2, after: int = 2) -> list[dict]:
        """The turns around a passage's turn, for showing the exchange it belongs to."""
        check_id(passage_id, "passage")
        check_turns(before, after)
        return results.context(self.store, passage_id, before, after)

    @_damage_reported
    def stats(self) -> dict:
        """What the index holds, for `python -m indexer stats`."""
        return _stats(self)

    @_damage_reported
    def match_count(self, question: str, filters: Filters | None = None) -> int:
        """How many passages within the filters contain any of the question's words (all its phrases)."""
        check_question(question)
        query = parse_query(question)
        return self.store.match_count(query, self.store.where(filters, self._facts, query))

    @_damage_reported
    def timeline(self, question: str, filters: Filters | None = None, top: int = 200) -> list[tuple[str, int]]:
        """(YYYY-MM, count) of the `top` most relevant passages: when a topic was talked about.

        Ranks without building results: only the dates are needed, not 200 texts and highlights."""
        _, chosen, _ = self._choose(question, top, filters, "hybrid", None, None)
        months = Counter(self._facts.months[i] for i, _ in chosen if self._facts.months[i])
        return sorted(months.items())

    @_damage_reported
    def transcript(self, doc_id: str) -> results.Transcript:
        """The whole document: every turn, with the passages cut from each (BadQuery if there is none)."""
        check_id(doc_id, "document")
        return results.transcript(self.store, doc_id)

    def close(self) -> None:
        self.store.close()


def _stats(index: Index) -> dict:
    speakers, manifest = index.speakers(), index.manifest
    sizes = index.store.sizes()
    return {
        "index": str(index.path), "version": index.version.name,
        "documents": sizes["documents"], "passages": sizes["passages"], "speakers": len(speakers),
        "top_speakers": [{"name": n, "passages": c} for n, c in speakers[:10]],
        "kinds": dict(index.kinds()), "date_range": list(index.date_range()),
        "model": manifest.model, "encoder": manifest.encoder,
        "dimension": manifest.dimension, "built_at": manifest.built_at,
        "size_bytes": sizes["size_bytes"],
    }
