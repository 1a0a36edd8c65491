"""Read files and folders into documents, turns and passages, and report what was found."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from tqdm import tqdm

from ..errors import InputPathMissing, UnreadableFile
from ..records import Document, Passage, Turn
from .dedupe import Duplicate, identity, merge_copies, merge_duplicates, signature
from .parse_cache import ParseCache, Parsed
from .passages import MAX_WORDS, make_passages, prompting_questions
from .readers import read_document, read_file
from .speakers import name_from_other_documents
from .turns import split_turns

_SKIPPED_NAMES = ("readme", "license", "changelog")


@dataclass
class Failure:
    path: str
    error: str


@dataclass
class Corpus:
    files: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    turns: dict[str, list[Turn]] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)

    def report(self) -> dict:
        """The `inspect --json` summary."""
        all_turns = [turn for turns in self.turns.values() for turn in turns]
        officials = Counter(turn.speaker for turn in all_turns if turn.role == "official")
        return {
            "files": self.files,
            "failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "documents": len(self.documents),
            "documents_without_text": [doc.doc_id for doc in self.documents if not doc.paragraphs],
            "duplicates": [  # what each kept document absorbed: near copies by id, identical files by path
                {"kept": d.kept, "dropped": d.dropped, "similarity": d.similarity} for d in self.duplicates
            ],
            "turns": len(all_turns),
            "roles": dict(Counter(turn.role for turn in all_turns).most_common()),
            "passages": len(self.passages),
            "qa_pairs": sum(self._qa_pairs(turns) for turns in self.turns.values()),
            "non_official_passages": sum(p.role != "official" for p in self.passages),
            "kinds": dict(Counter(doc.kind for doc in self.documents).most_common()),
            "speakers": [{"name": n, "turns": c} for n, c in officials.most_common(20)],
        }

    @staticmethod
    def _qa_pairs(turns: list[Turn]) -> int:
        return sum(role == "reporter" for _, role in prompting_questions(turns).values())


def collect_files(paths: list[str | Path]) -> list[Path]:
    """Every file named, and every file under every folder named (README/LICENSE and hidden files aside).

    Anything in a folder that is not a folder counts, a FIFO or a socket too: reading it says why it fails."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputPathMissing(f"{path}: no such file or folder; check the path and try again")
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if not p.is_dir() and _wanted(p, path)))
        else:
            files.append(path)
    return files


Outcome = Parsed | UnreadableFile
ParseFiles = Callable[[list[Path], bool], Iterator[tuple[Path, Outcome]]]


def read_corpus(paths: list[str | Path], max_words: int = MAX_WORDS, progress: bool = True,
                cache: ParseCache | None = None, parse: ParseFiles | None = None) -> Corpus:
    """Every file's document, turns and passages; files `cache` holds unchanged are not parsed again.

    `parse` parses the other files one by one (default: `parse_here`, in this process; a build on Ray passes
    its own, indexer/compute/ray_data.py); the steps across documents run here, over every document.
    """
    files = collect_files(paths)
    corpus = Corpus(files=len(files))
    outcomes = _parse_all(files, cache, parse or parse_here, progress)
    parsed, seen = [], set()
    for path in files:
        outcome = copy.deepcopy(outcomes[path]) if path in seen else outcomes[path]  # a file named twice
        seen.add(path)
        if isinstance(outcome, UnreadableFile):
            corpus.failed.append(Failure(str(path), str(outcome)))
        else:
            parsed.append(outcome)
    parsed, copies = merge_copies(parsed)
    documents, signatures = _claim_ids(corpus, parsed)
    kept = {id(doc) for doc in documents}
    corpus.documents, near = merge_duplicates(documents, signatures)
    corpus.duplicates = [Duplicate(doc.doc_id, paths, 1.0) for doc, paths in copies if id(doc) in kept] + near
    for duplicate in near:
        for doc_id in duplicate.dropped:
            del corpus.turns[doc_id]
    name_from_other_documents([turn for turns in corpus.turns.values() for turn in turns])
    for doc in tqdm(corpus.documents, desc="passages", unit="doc", disable=not progress):
        corpus.passages.extend(make_passages(corpus.turns[doc.doc_id], max_words))
    return corpus


def parse_here(files: list[Path], progress: bool) -> Iterator[tuple[Path, Outcome]]:
    """Each file's parse, or why it could not be read, in this process."""
    for path in tqdm(files, desc="reading", unit="file", disable=not progress):
        try:
            yield path, parse_file(path)
        except UnreadableFile as exc:
            yield path, exc


def parse_file(path: Path) -> Parsed:
    """One file's document, turns and signature: what the parse cache keeps."""
    doc, turns = _read_one(path, read_file(path))
    return doc, turns, signature(doc)


def _parse_all(files: list[Path], cache: ParseCache | None, parse: ParseFiles, progress: bool
               ) -> dict[Path, Outcome]:
    """Every file's outcome: from the cache if it holds the file unchanged, else from `parse` (and cached)."""
    keys = {path: _cache_key(path, cache) for path in files}
    outcomes: dict[Path, Outcome] = {}
    for path, key in keys.items():
        if key and (hit := cache.get(path, key)) is not None:
            outcomes[path] = hit
    missing = [path for path in dict.fromkeys(files) if path not in outcomes]
    for path, outcome in parse(missing, progress) if missing else ():
        outcomes[path] = outcome
        if keys[path] and not isinstance(outcome, UnreadableFile):
            cache.put(path, keys[path], outcome)
    return outcomes


def _cache_key(path: Path, cache: ParseCache | None) -> str | None:
    """None without a cache, or for a file that cannot be read (parsing it says why)."""
    if cache is None:
        return None
    try:
        return cache.key(path, read_file(path))
    except UnreadableFile:
        return None


def _read_one(path: Path, raw: bytes) -> tuple[Document, list[Turn]]:
    """One file's document and turns; a parser bug on odd input fails that file, not the whole run."""
    try:
        doc = read_document(path, raw)
        return doc, split_turns(doc)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - reported per file, with the reason
        raise UnreadableFile(f"could not be parsed ({type(exc).__name__}: {str(exc)[:100]}); "
                             "please report this file as a Podium bug") from exc


def _claim_ids(corpus: Corpus, parsed: list[Parsed]) -> tuple[list[Document], dict]:
    """The documents that got an id of their own (their turns in `corpus.turns`), and their signatures by id."""
    documents, signatures = [], {}
    for doc, turns, doc_signature in parsed:
        try:
            _claim_id(doc, turns, corpus.turns)
        except UnreadableFile as exc:
            corpus.failed.append(Failure(doc.path, str(exc)))
            continue
        corpus.turns[doc.doc_id], signatures[doc.doc_id] = turns, doc_signature
        documents.append(doc)
    return documents, signatures


def _claim_id(doc: Document, turns: list[Turn], taken: dict) -> None:
    """A second document with a taken id (the same file name in another folder) gets a suffix from its
    identity, in its turns too; an id still taken after that fails this file, never the run."""
    if doc.doc_id not in taken:
        return
    renamed = f"{doc.doc_id}-{identity(doc)[:8]}"
    if renamed in taken:
        raise UnreadableFile(f"its id {doc.doc_id} is taken by another document, and so is {renamed}: "
                             "rename the file")
    doc.doc_id = renamed
    for turn in turns:
        turn.doc_id = renamed


def _wanted(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    if any(part.startswith(".") for part in parts):
        return False
    return not path.name.lower().startswith(_SKIPPED_NAMES)
