"""Answer a question from an index: dense (FAISS), keyword (FTS5 BM25) or both fused.

Filters are applied before the cut: the allowed passages are selected in
SQLite and both retrievers search only among them, so a narrow filter still
returns k results when k exist. BM25 searches only the question's rarer
words (indexer/vocabulary.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
from dateutil import parser as dateparser
from rapidfuzz import process

from . import store
from . import vectors as vector_index
from .embed import Embedder, model_name, shared_embedder
from .encoders import TORCH
from .errors import BadQuery, IndexCorrupt, IndexMismatch
from .fusion import reciprocal_rank_fusion, score_fusion
from .highlight import best_sentences
from .model import ROLES
from .query import Query, parse_query
from .rerank import DEFAULT_TUNING, Tuning, drop_repeats, is_non_answer, seeks_substance, with_document_evidence
from .understand import Hints, clean_question, read_hints
from .vocabulary import Vocabulary

DEFAULT_INDEX = Path("data/index")
MODES = ("hybrid", "dense", "keyword")
_MIN_CANDIDATES = 100
_GROWTH = 4
_MAX_ROUNDS = 4
_OPEN_ATTEMPTS = 3
_VECTOR_CACHE = 2048
_FILTER_CACHE = 32
_BM25 = "SELECT rowid, bm25(passages_fts) AS s FROM passages_fts WHERE passages_fts MATCH ?"


def default_index_dir() -> Path:
    return Path(os.environ.get("PODIUM_INDEX") or DEFAULT_INDEX)


def current_version_name(path: str | Path) -> str | None:
    """The name of the version an index directory serves now (None if it has none): cheap, one readlink."""
    version = store.current_version(Path(path))
    return version.name if version else None


def _damage_reported(method):
    """For methods that read the database: a damaged page met mid-query is an IndexCorrupt error."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with store.damage_reported(self.version):
            return method(self, *args, **kwargs)

    return wrapper


def _remembered(method):
    """For facts of the whole index (speakers, kinds, dates): computed once, as a version never changes.
    The app asks for them on every page run."""

    @functools.wraps(method)
    def wrapper(self):
        cache = self.__dict__.setdefault("_remembered", {})
        if method.__name__ not in cache:
            cache[method.__name__] = method(self)
        return cache[method.__name__]

    return wrapper


@dataclass(frozen=True)
class Filters:
    since: str | None = None
    until: str | None = None
    speakers: tuple[str, ...] = ()
    role: str | None = None
    kinds: tuple[str, ...] = ()


@dataclass
class Result:
    rank: int
    score: float
    text: str
    highlight: str
    speaker: str
    role: str
    question: str | None
    title: str
    date: str | None
    kind: str
    source_url: str | None
    doc_id: str
    passage_id: str

    def to_dict(self) -> dict:
        return asdict(self)

    def citation(self) -> str:
        """"Jen Psaki, Press Briefing by Press Secretary Jen Psaki, 2022-03-01, <url>"."""
        parts = [self.speaker, self.title, self.date or "undated", self.source_url or self.doc_id]
        return ", ".join(parts)


@dataclass
class Index:
    """One version of an index, opened for searching.

    Its one read-only SQLite connection serves every thread (this SQLite is
    serialized, `sqlite3.threadsafety == 3`), so a version a later build prunes
    stays readable through the open file for as long as the Index lives.
    """

    path: Path
    version: Path
    manifest: dict
    vectors: faiss.Index = field(repr=False)
    db: sqlite3.Connection = field(repr=False)

    @classmethod
    def open(cls, path: str | Path | None = None, model: str | None = None) -> Index:
        """Open the current version of the index at `path` (default: $PODIUM_INDEX or data/index).

        `model`, if given, must be the one the index was built with.
        """
        path = Path(path) if path else default_index_dir()
        version, manifest, db, vectors = _open_current(path)
        if model and model_name(model) != manifest.get("model"):
            raise IndexMismatch(
                f"the index at {path} was built with model {manifest.get('model')!r}, not {model!r}; "
                f"search without --model, or rebuild with: python -m indexer build PATH... "
                f"--index {path} --model {model}"
            )
        return cls(path, version, manifest, vectors, db)

    @property
    def embedder(self) -> Embedder:
        """The model and engine that built the index (torch for an index from before engines were recorded)."""
        return shared_embedder(self.manifest["model"], self.manifest.get("encoder", TORCH))

    @_damage_reported
    def search(
        self,
        question: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = "hybrid",
        per_doc: int | None = 2,
        tuning: Tuning | None = None,
    ) -> list[Result]:
        """The best k passages for `question`; `tuning` (default DEFAULT_TUNING) picks the ranking's levers."""
        query, chosen = self._choose(question, k, filters, mode, per_doc, tuning)
        return self._results(chosen, query)

    @_damage_reported
    def rank(self, question: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
             per_doc: int | None = 2, tuning: Tuning | None = None) -> list[tuple[str, float]]:
        """(passage_id, score) of what `search` would return, without building results (for the eval)."""
        _, chosen = self._choose(question, k, filters, mode, per_doc, tuning)
        return [(self._passage_ids[i], score) for i, score in chosen]

    @cached_property
    def _passage_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT passage_id FROM passages ORDER BY id")]

    def _choose(self, question, k, filters, mode, per_doc, tuning) -> tuple[Query, list[tuple[int, float]]]:
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
        if k < 1:
            raise BadQuery("k must be at least 1")
        tuning = DEFAULT_TUNING if tuning is None else tuning
        query = self._parse(question, tuning)
        where = self._filter_sql(filters or Filters())
        allowed = self._allowed_ids(where, query)
        if allowed is not None and len(allowed) == 0:
            return query, []
        vector = _embedding_pool().submit(self._query_vector, query.text) if mode != "keyword" else None
        searched = self._telling(query) if mode != "dense" else query
        hints = read_hints(question, self._speaker_names) if tuning.hint_weight else Hints()
        wanted = max(_MIN_CANDIDATES, 10 * k)
        for _ in range(_MAX_ROUNDS):
            ranked, exhausted = self._ranked(searched, where, vector, allowed, mode, wanted, tuning, hints)
            ranked = self._rerank(ranked, question, tuning)
            chosen = self._cap_per_document(ranked, k, per_doc)
            if len(chosen) >= k or exhausted:
                break
            wanted *= _GROWTH
        return query, chosen

    def _parse(self, question: str, tuning: Tuning) -> Query:
        """The question as search terms, without a reporter's pleasantries if the tuning says so."""
        if tuning.clean_query:
            try:
                return parse_query(clean_question(question))
            except BadQuery:
                pass
        return parse_query(question)

    def _telling(self, query: Query) -> Query:
        """The query BM25 runs: its rarer words only, as many as fit the postings budget; phrases whole."""
        return replace(query, terms=self._vocabulary.telling(query.terms))

    @cached_property
    def _vocabulary(self) -> Vocabulary:
        return Vocabulary.of_index(self.db)

    def _query_vector(self, text: str) -> np.ndarray:
        """The question's vector; up to 2,048 are kept (1.5 MB), as the eval asks each question several ways."""
        return self._kept("_vector_cache", text, _VECTOR_CACHE, lambda: self.embedder.encode_query(text))

    def _kept(self, name: str, key, size: int, compute):
        """`compute()`, kept under `key` in the cache `name` of at most `size` entries (emptied when full).
        Threads share the cache, so the value is returned from a local, never read back from it."""
        cache = self.__dict__.setdefault(name, {})
        value = cache.get(key)
        if value is None:
            value = compute()
            if len(cache) >= size:
                cache.clear()
            cache[key] = value
        return value

    @cached_property
    def _speaker_names(self) -> list[str]:
        return [name for name, _ in self.speakers()]

    def _ranked(self, query: Query, where, vector: Future | None, allowed, mode: str, wanted: int,
                tuning: Tuning, hints: Hints = Hints()):
        """(id, score) best first, and whether every allowed passage was already considered. BM25 runs
        while another thread embeds the question (both release the GIL), so on two cores a hybrid
        query waits for the slower of the two, not their sum."""
        keyword = self._keyword(query, where, allowed, wanted) if mode != "dense" else []
        vector = vector.result() if vector is not None else None
        dense = self._dense(vector, allowed, wanted) if vector is not None else []
        exhausted = len(dense) < wanted and len(keyword) < wanted
        if mode == "dense" and not hints:
            return dense, len(dense) < wanted
        if mode == "keyword" and not hints:
            return keyword, len(keyword) < wanted
        scored = {"dense": dense, "keyword": keyword}
        weights = {"dense": tuning.dense_weight, "keyword": tuning.keyword_weight}
        for name, hint_where in self._hint_filters(where, hints):
            hint_allowed = self._allowed_ids(hint_where, query)
            if mode != "keyword":
                scored[f"dense {name}"] = self._dense(vector, hint_allowed, wanted)
                weights[f"dense {name}"] = tuning.dense_weight * tuning.hint_weight
            if mode != "dense":
                scored[f"keyword {name}"] = self._keyword(query, hint_where, hint_allowed, wanted)
                weights[f"keyword {name}"] = tuning.keyword_weight * tuning.hint_weight
        fused = fuse(scored, weights, tuning)
        if tuning.document_weight:
            fused = with_document_evidence(fused, self._document_of, tuning.document_weight)
        return fused, exhausted

    @staticmethod
    def _hint_filters(where: tuple[str, list], hints: Hints):
        """(name, where) for each hint: the user's filters narrowed to the period, or to the speakers, named."""
        base, params = where
        narrowed = []
        if hints.since:
            narrowed.append(("period", "p.date BETWEEN ? AND ?", [hints.since, hints.until]))
        if hints.speakers:
            narrowed.append(("speaker", f"p.speaker IN ({','.join('?' * len(hints.speakers))})", list(hints.speakers)))
        for name, clause, extra in narrowed:
            yield name, (f"{base} AND {clause}" if base else clause, [*params, *extra])

    def _rerank(self, ranked, question: str, tuning: Tuning) -> list[tuple[int, float]]:
        """The first `rerank_depth` candidates with non-answers scored down and repeated talking points
        dropped (per the tuning), re-sorted; the rest as they were."""
        demote = tuning.non_answer_factor != 1 and seeks_substance(question)
        head, tail = ranked[: tuning.rerank_depth], ranked[tuning.rerank_depth :]
        if not head or not (demote or tuning.merge_repeats):
            return ranked
        ids = [i for i, _ in head]
        texts = dict(self.db.execute(
            f"SELECT id, text FROM passages WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall())
        if demote:
            head = sorted(((i, s * tuning.non_answer_factor if is_non_answer(texts[i]) else s) for i, s in head),
                          key=lambda pair: -pair[1])
        if tuning.merge_repeats:
            head = drop_repeats(head, texts)
        return head + tail

    def _dense(self, vector: np.ndarray, allowed: np.ndarray | None, wanted: int) -> list[tuple[int, float]]:
        return vector_index.search(self.vectors, self.manifest, vector, wanted, allowed)

    def _keyword(self, query: Query, where: tuple[str, list], allowed: np.ndarray | None,
                 wanted: int) -> list[tuple[int, float]]:
        """BM25 among the allowed passages. When they are one run of ids (a date filter: ids follow the
        documents' dates) FTS5 itself keeps to that range, without the join to the passages: a year of
        the press briefings took 5 ms instead of 28."""
        expression = query.fts_expression()
        if not expression:
            return []
        where, params = where
        span = _one_run(allowed) if where else None
        if span:
            sql = f"{_BM25} AND rowid BETWEEN ? AND ? ORDER BY s LIMIT ?"
            params = list(span)
        elif where:
            sql = ("SELECT f.rowid, bm25(passages_fts) AS s FROM passages_fts f "
                   f"JOIN passages p ON p.id = f.rowid WHERE passages_fts MATCH ? AND {where} ORDER BY s LIMIT ?")
        else:  # no filter, no join: half the time
            sql = f"{_BM25} ORDER BY s LIMIT ?"
        rows = self.db.execute(sql, [expression, *params, wanted]).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _allowed_ids(self, where: tuple[str, list], query: Query) -> np.ndarray | None:
        """The passage ids that obey the filters and contain every quoted phrase; None for all."""
        where, params = where
        phrase = query.phrase_expression()
        if not phrase:
            return self._filtered_ids(where, tuple(params)) if where else None
        sql = "SELECT p.id FROM passages p JOIN passages_fts f ON f.rowid = p.id WHERE "
        sql += f"{where} AND passages_fts MATCH ?" if where else "passages_fts MATCH ?"
        return self._ids(sql, [*params, phrase])

    def _filtered_ids(self, where: str, params: tuple) -> np.ndarray:
        """The ids within the filters; the last 32 filters' are kept, at most 0.6 MB each (a user asks
        several questions with the same filters, and reading the 17,000 ids of a year took 6-10 ms)."""
        return self._kept("_filter_cache", (where, params), _FILTER_CACHE,
                          lambda: self._ids(f"SELECT p.id FROM passages p WHERE {where}", params))

    def _ids(self, sql: str, params) -> np.ndarray:
        ids = np.array(sorted(row[0] for row in self.db.execute(sql, params)), dtype=np.int64)
        ids.flags.writeable = False  # shared by the searches the cache serves
        return ids

    def _filter_sql(self, filters: Filters) -> tuple[str, list]:
        clauses, params = [], []
        since = parse_date_bound(filters.since, end=False, name="--since")
        until = parse_date_bound(filters.until, end=True, name="--until")
        if since and until and since > until:
            raise BadQuery(f"--since {since} is after --until {until}; swap them")
        if since:
            clauses.append("p.date >= ?")
            params.append(since)
        if until:
            clauses.append("p.date <= ?")
            params.append(until)
        if filters.speakers:
            names = self.match_speakers(filters.speakers)
            clauses.append(f"p.speaker IN ({','.join('?' * len(names))})")
            params.extend(names)
        if filters.role:
            if filters.role not in ROLES:
                raise BadQuery(f"unknown role {filters.role!r}; use one of: {', '.join(ROLES)}")
            clauses.append("p.role = ?")
            params.append(filters.role)
        if filters.kinds:
            known = {kind for kind, _ in self.kinds()}
            for kind in filters.kinds:
                if kind not in known:
                    raise BadQuery(f"unknown kind {kind!r}; this index has: {', '.join(sorted(known))}")
            clauses.append(f"p.kind IN ({','.join('?' * len(filters.kinds))})")
            params.extend(filters.kinds)
        return " AND ".join(clauses), params

    def match_speakers(self, wanted: tuple[str, ...]) -> list[str]:
        """Display names for the requested speakers: a full name or a surname, any case."""
        names = [name for name, _ in self.speakers()]
        matched = []
        for request in wanted:
            key = request.strip().casefold()
            hits = [n for n in names if n.casefold() == key] or [
                n for n in names if n.split()[-1].casefold() == key
            ]
            if not hits:
                close = [m[0] for m in process.extract(request, names, limit=3, score_cutoff=60)]
                hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m indexer stats`"
                raise BadQuery(f"no speaker named {request!r} in this index{hint}")
            matched.extend(hits)
        return matched

    def _cap_per_document(self, ranked, k: int, per_doc: int | None) -> list[tuple[int, float]]:
        """The best k, with at most `per_doc` passages from one document (no cap if None or 0)."""
        chosen, taken = [], {}
        for passage, score in ranked:
            doc = self._document_of[passage]
            if per_doc and taken.get(doc, 0) >= per_doc:
                continue
            taken[doc] = taken.get(doc, 0) + 1
            chosen.append((passage, score))
            if len(chosen) == k:
                break
        return chosen

    @cached_property
    def _document_of(self) -> np.ndarray:
        """Passage id -> a number for its document, to cap results per document without a query."""
        numbers: dict[str, int] = {}
        rows = self.db.execute("SELECT doc_id FROM passages ORDER BY id")
        return np.array([numbers.setdefault(row[0], len(numbers)) for row in rows], dtype=np.int32)

    def _results(self, chosen, query: Query) -> list[Result]:
        if not chosen:
            return []
        ids = [i for i, _ in chosen]
        rows = self.db.execute(
            "SELECT p.id, p.passage_id, p.doc_id, p.speaker, p.role, p.question, p.text, p.date, "
            "p.kind, d.title, d.source_url FROM passages p JOIN documents d ON d.doc_id = p.doc_id "
            f"WHERE p.id IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall()
        by_id = {row["id"]: row for row in rows}
        words = list(query.terms) + [w for p in query.phrases for w in p.split()]
        return [
            Result(
                rank=rank,
                score=round(score, 6),
                text=row["text"],
                highlight=best_sentences(row["text"], words),
                speaker=row["speaker"],
                role=row["role"],
                question=row["question"],
                title=row["title"],
                date=row["date"],
                kind=row["kind"],
                source_url=row["source_url"],
                doc_id=row["doc_id"],
                passage_id=row["passage_id"],
            )
            for rank, (row, score) in enumerate(((by_id[i], s) for i, s in chosen), start=1)
        ]

    @_remembered
    @_damage_reported
    def speakers(self) -> list[tuple[str, int]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT speaker, count(*) c FROM passages GROUP BY speaker ORDER BY c DESC, speaker")]

    @_remembered
    @_damage_reported
    def kinds(self) -> list[tuple[str, int]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT kind, count(*) c FROM passages GROUP BY kind ORDER BY c DESC, kind")]

    @_remembered
    @_damage_reported
    def roles(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT DISTINCT role FROM passages ORDER BY role")]

    @_remembered
    @_damage_reported
    def date_range(self) -> tuple[str | None, str | None]:
        return tuple(self.db.execute("SELECT min(date), max(date) FROM passages").fetchone())

    @_damage_reported
    def context(self, passage_id: str, before: int = 2, after: int = 2) -> list[dict]:
        """The turns around a passage's turn, for showing the exchange it belongs to."""
        row = self.db.execute("SELECT doc_id, turn FROM passages WHERE passage_id = ?", (passage_id,)).fetchone()
        if row is None:
            raise BadQuery(f"no passage {passage_id!r} in this index")
        turns = self.db.execute(
            "SELECT number, speaker, role, text FROM turns WHERE doc_id = ? AND number BETWEEN ? AND ? "
            "ORDER BY number",
            (row["doc_id"], row["turn"] - before, row["turn"] + after),
        )
        return [dict(t) | {"is_answer": t["number"] == row["turn"]} for t in turns]

    @_damage_reported
    def stats(self) -> dict:
        first, last = self.date_range()
        speakers = self.speakers()
        return {
            "index": str(self.path),
            "version": self.version.name,
            "documents": self.db.execute("SELECT count(*) FROM documents").fetchone()[0],
            "passages": self.vectors.ntotal,
            "speakers": len(speakers),
            "top_speakers": [{"name": n, "passages": c} for n, c in speakers[:10]],
            "kinds": dict(self.kinds()),
            "date_range": [first, last],
            "model": self.manifest.get("model"),
            "encoder": self.manifest.get("encoder", TORCH),
            "dimension": self.manifest.get("dimension"),
            "built_at": self.manifest.get("built_at"),
            "size_bytes": store.directory_size(self.version),
        }

    @_damage_reported
    def match_count(self, question: str, filters: Filters | None = None) -> int:
        """How many passages within the filters contain any of the question's words (all its phrases)."""
        query = parse_query(question)
        where, params = self._filter_sql(filters or Filters())
        sql = ("SELECT count(*) FROM passages_fts f JOIN passages p ON p.id = f.rowid "
               f"WHERE passages_fts MATCH ? {'AND ' + where if where else ''}")
        return self.db.execute(sql, [query.fts_expression(), *params]).fetchone()[0]

    @_damage_reported
    def timeline(self, question: str, filters: Filters | None = None, top: int = 200) -> list[tuple[str, int]]:
        """(YYYY-MM, count) of the `top` most relevant passages: when a topic was talked about.

        Ranks without building results: only the dates are needed, not 200 texts and highlights."""
        _, chosen = self._choose(question, top, filters, "hybrid", None, None)
        months = Counter(self._months[i] for i, _ in chosen if self._months[i])
        return sorted(months.items())

    @cached_property
    def _months(self) -> list[str | None]:
        """Passage id -> YYYY-MM of its date, for the timeline."""
        return [row[0][:7] if row[0] else None for row in self.db.execute("SELECT date FROM passages ORDER BY id")]

    def close(self) -> None:
        self.db.close()


_POOL: tuple[int, ThreadPoolExecutor] | None = None


def fuse(scored: dict[str, list[tuple[int, float]]], weights: dict[str, float], tuning: Tuning):
    """The retrievers' (id, score) lists as one ranking, by the tuning's fusion: ranks, or scores with
    each keyword list's BM25 taken relative to its best."""
    if tuning.fusion == "scores":
        return score_fusion(scored, weights, relative=[name for name in scored if name.startswith("keyword")])
    return reciprocal_rank_fusion({name: [i for i, _ in items] for name, items in scored.items()}, weights,
                                  k=tuning.rrf_k)


def _embedding_pool() -> ThreadPoolExecutor:
    """The threads that embed questions, made per process (a forked child inherits no threads)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="podium-embed"))
    return _POOL[1]


def _open_current(path: Path):
    """(version, manifest, connection, vectors) of the current version.

    If files vanish while opening because builds swapped in newer versions and
    pruned this one meanwhile, the version current now is opened instead.
    """
    for attempt in range(1, _OPEN_ATTEMPTS + 1):
        resolved = store.current_version(path)
        try:
            version, manifest = store.open_version(path)
            db = store.connect_readonly(version)
            try:
                passages = db.execute("SELECT count(*) FROM passages").fetchone()[0]
                return version, manifest, db, store.load_vectors(version, passages)
            except IndexCorrupt:
                db.close()
                raise
        except IndexCorrupt:
            if attempt == _OPEN_ATTEMPTS or store.current_version(path) == resolved:
                raise


def _one_run(ids: np.ndarray | None) -> tuple[int, int] | None:
    """(first, last) if the sorted, distinct `ids` are every id from first to last, else None."""
    if ids is None or not len(ids) or int(ids[-1] - ids[0]) + 1 != len(ids):
        return None
    return int(ids[0]), int(ids[-1])


def parse_date_bound(value: str | None, end: bool, name: str) -> str | None:
    """ISO date for a bound: "2022" and "2022-03" mean the whole year or month."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-12-31" if end else f"{value}-01-01"
    if re.fullmatch(r"\d{4}-\d{2}", value):
        first = dt.date.fromisoformat(f"{value}-01") if _valid_month(value) else None
        if first is None:
            raise BadQuery(f"{name} {value!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY")
        if not end:
            return first.isoformat()
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return (following - dt.timedelta(days=1)).isoformat()
    try:
        return dateparser.parse(value).date().isoformat()
    except (ValueError, OverflowError) as exc:
        raise BadQuery(f"{name} {value!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY") from exc


def _valid_month(value: str) -> bool:
    return 1 <= int(value[5:7]) <= 12
