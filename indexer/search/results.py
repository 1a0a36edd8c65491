"""What a search returns: `Result`, one passage with its speaker, date, source and best sentences, read
from whichever store holds the index (indexer/store/)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from ..errors import BadQuery
from ..records import Source, real_date
from .limits import shown
from .highlight import best_sentences
from .query import Query


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
        """"Jen Psaki, Press Briefing by Press Secretary Jen Psaki, March 7th, 2022, <url>": one date
        (`citation()` below; give it the document's source name to name a source without a link)."""
        return citation(self)


class Results(list):
    """The results of one search, best first; `no_close_match` says that none of them answers the
    question (they are the closest statements, not answers)."""

    def __init__(self, results=(), no_close_match: bool = False):
        super().__init__(results)
        self.no_close_match = no_close_match


def results_for(store, chosen: list[tuple[int, float]], query: Query) -> list[Result]:
    """The chosen (id, score) as results, in their order, each with the sentences that best match the query."""
    if not chosen:
        return []
    by_id = store.passage_rows([i for i, _ in chosen])
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


def context(store, passage_id: str, before: int = 2, after: int = 2) -> list[dict]:
    """The turns around a passage's turn, for showing the exchange it belongs to."""
    place = store.passage_place(passage_id)
    if place is None:
        raise BadQuery(f"no passage {shown(passage_id)} in this index")
    doc_id, turn = place
    return [t | {"is_answer": t["number"] == turn} for t in store.turns(doc_id, turn - before, turn + after)]


_DATE_IN_TITLE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+"
    r"\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b|\b\d{4}-\d{2}-\d{2}\b"
)
SOURCE_NAMES = {"American Presidency Project": "The American Presidency Project"}


def citation(result: Result, source_name: str | None = None) -> str:
    """"Speaker, Title, Month D, YYYY, link": one date (none added when the title already names one), and
    where to find it: the link, else the source by name (`source_name`, "The American Presidency
    Project"), else the document id."""
    parts = [result.speaker, result.title]
    if not _DATE_IN_TITLE.search(result.title):
        parts.append(long_date(result.date) if result.date else "undated")
    parts.append(result.source_url or SOURCE_NAMES.get(source_name or "", source_name) or result.doc_id)
    return ", ".join(parts)


TITLE_SHOWN = 200  # characters of a title the page and the CLI's readable output show (the corpus's longest: 94)


def shown_title(title: str) -> str:
    """The title as a card or the CLI shows it: cut to TITLE_SHOWN characters, an ellipsis saying so, so a
    100 kB title cannot make a page-long card. JSON, CSV and the citation keep it whole."""
    return title if len(title) <= TITLE_SHOWN else title[:TITLE_SHOWN - 1].rstrip() + "\u2026"


def long_date(iso: str) -> str:
    """"2022-03-07" -> "March 7, 2022"; text that is not a real date (an older index's 2022-13-45) as it is."""
    if not real_date(iso):
        return iso
    day = dt.date.fromisoformat(iso)
    return f"{day:%B} {day.day}, {day.year}"


@dataclass
class DocumentResults:
    """One document's results in rank order: what the app shows as one card (`best`, then `more`)."""

    doc_id: str
    results: list[Result]

    @property
    def best(self) -> Result:
        return self.results[0]

    @property
    def more(self) -> list[Result]:
        return self.results[1:]


def group_by_document(results: list[Result]) -> list[DocumentResults]:
    """The results grouped by document, documents in the order of their best result, each document's
    results in rank order."""
    groups: dict[str, DocumentResults] = {}
    for result in results:
        groups.setdefault(result.doc_id, DocumentResults(result.doc_id, [])).results.append(result)
    return list(groups.values())


@dataclass
class Transcript:
    """A whole document as the index holds it: every turn in order, with the passages cut from each.

    Each turn is a dict: `number`, `speaker`, `role`, `text` (paragraphs joined by blank lines) and
    `passages`, the passages of that turn as dicts with `passage_id`, `para_start` and `para_end`
    (the inclusive paragraph span inside the turn)."""

    doc_id: str
    title: str
    date: str | None
    kind: str
    source: Source  # the source it was read from (a merged duplicate's preferred one)
    turns: list[dict]

    def turn_of(self, passage_id: str) -> dict | None:
        """The turn holding the passage (its full id, or the part after '#'), None if none does."""
        for turn in self.turns:
            if any(passage_id in (p["passage_id"], p["passage_id"].partition("#")[2]) for p in turn["passages"]):
                return turn
        return None


def transcript(store, doc_id: str) -> Transcript:
    """Every turn of a document, each with the passages cut from it; BadQuery if the index has no such
    document."""
    doc = store.document(doc_id)
    if doc is None:
        raise BadQuery(f"no document {shown(doc_id)} in this index")
    passages: dict[int, list[dict]] = {}
    for row in store.passages_of(doc_id):
        passages.setdefault(row["turn"], []).append(
            {"passage_id": row["passage_id"], "para_start": row["para_start"], "para_end": row["para_end"]})
    turns = [t | {"passages": passages.get(t["number"], [])} for t in store.turns(doc_id)]
    return Transcript(doc["doc_id"], doc["title"], doc["date"], doc["kind"],
                      Source(doc["path"], doc["source_name"], doc["source_url"]), turns)
