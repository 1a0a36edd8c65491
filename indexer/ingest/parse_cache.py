"""What reading a file gave last time, so a rebuild parses only the files that changed.

Parsing and MinHash-signing the 1,153 press briefings takes about 27 s on a
busy 2-core machine, most of a rebuild, though adding one briefing changes one
file. The cache keeps, per file, the output of reading it: the document, its
turns before other documents name their speakers, and its MinHash signature.
Steps across documents (duplicates, names from other documents, passages)
still run over every document, so a build from the cache gives exactly what a
build without it does.

An entry is used only if the file's bytes, its path and the code that parses
(every module of this package, the records, errors and controls modules, and the
versions of the parsing libraries) are the same; an entry whose zlib checksum fails, or a damaged cache file, is
parsed again. The cache is a SQLite file beside the index's versions
(INDEX_DIR/parsed.sqlite), outside them: it is not part of any version, and
losing it costs only time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import sys
import zlib
from importlib import metadata
from pathlib import Path

from datasketch import LeanMinHash

from ..records import Document, Source, Turn

log = logging.getLogger(__name__)

FILE = "parsed.sqlite"
_INGEST = Path(__file__).resolve().parent
PARSING_MODULES = (*sorted(_INGEST.glob("*.py")),
                   *(_INGEST.parent / name for name in ("controls.py", "errors.py", "records.py")))
_LIBRARIES = ("datasketch", "python-frontmatter", "PyYAML", "markdown-it-py", "python-dateutil", "rapidfuzz")
_SCHEMA = "CREATE TABLE IF NOT EXISTS parsed (path TEXT PRIMARY KEY, key TEXT NOT NULL, entry BLOB NOT NULL)"

Parsed = tuple[Document, list[Turn], LeanMinHash | None]


class ParseCache:
    """Entries by path; `get` and `put` during a read, `save` writes new entries and drops unused ones."""

    def __init__(self, path: Path):
        self.path = path
        self._code = _code_fingerprint()
        self._stored = _load(path)
        self._fresh: dict[str, tuple[str, bytes]] = {}
        self._used: set[str] = set()
        self.hits = 0

    def key(self, path: Path, data: bytes) -> str:
        """What an entry for this file must have been made from: the parsing code, the path and the bytes."""
        return hashlib.sha256(b"\0".join((self._code.encode(), str(path).encode(), data))).hexdigest()

    def get(self, path: Path, key: str) -> Parsed | None:
        """The parse of `path` if its entry matches `key` and is whole."""
        self._used.add(str(path))
        stored = self._stored.get(str(path))
        if stored is None or stored[0] != key:
            return None
        try:
            parsed = decode(stored[1])
        except (ValueError, KeyError, IndexError, TypeError, StopIteration, zlib.error):
            return None
        self.hits += 1
        return parsed

    def put(self, path: Path, key: str, parsed: Parsed) -> None:
        """Remember a fresh parse; encoded now, before later steps change the objects in place."""
        self._fresh[str(path)] = (key, encode(parsed))

    def save(self) -> None:
        """Write fresh entries and keep only the files this read used (the build calls it under its lock);
        a file that is not a readable cache is replaced. The cache only saves time, so a cache that cannot be
        written (locked, disk full, read-only) is skipped with a warning rather than failing the build."""
        try:
            try:
                _save(self.path, self._fresh, self._used)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    raise
                self.path.unlink(missing_ok=True)
                _save(self.path, self._fresh, self._used)
        except (sqlite3.Error, OSError) as exc:
            log.warning("parse cache %s not saved (%s); the next build parses every file again", self.path, exc)


def _code_fingerprint() -> str:
    """Python's version, the parsing modules' source and the parsing libraries' versions: a change to any starts afresh."""
    digest = hashlib.sha256(sys.version.encode())  # unicodedata (NFKC) comes with the Python version
    for module in PARSING_MODULES:
        digest.update(f"{module.relative_to(_INGEST.parent)}".encode() + b"\0" + module.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()


def _load(path: Path) -> dict[str, tuple[str, bytes]]:
    """Every stored entry by path; none from a file that is not a readable cache."""
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)  # the path quoted, as in schema.py
        try:
            return {row[0]: (row[1], row[2]) for row in db.execute("SELECT path, key, entry FROM parsed")}
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return {}


def _save(path: Path, fresh: dict[str, tuple[str, bytes]], used: set[str]) -> None:
    db = sqlite3.connect(path, timeout=30)
    try:
        with db:
            db.execute(_SCHEMA)
            db.executemany("INSERT OR REPLACE INTO parsed VALUES (?, ?, ?)",
                           ((name, key, entry) for name, (key, entry) in fresh.items()))
            stored = [row[0] for row in db.execute("SELECT path FROM parsed")]
            db.executemany("DELETE FROM parsed WHERE path = ?", ((name,) for name in stored if name not in used))
    finally:
        db.close()


def encode(parsed: Parsed) -> bytes:
    """JSON, zlib-compressed, each turn's paragraphs as references into the document's (see `_references`)."""
    doc, turns, signature = parsed
    body = json.dumps({
        "doc": {**vars(doc), "sources": [vars(source) for source in doc.sources]},
        "turns": [[t.doc_id, t.number, t.label, t.speaker, t.role] for t in turns],
        "paragraphs": _references(doc.paragraphs, [p for t in turns for p in t.paragraphs]),
        "counts": [len(t.paragraphs) for t in turns],
        "signature": None if signature is None else {
            "seed": signature.seed, "scheme": signature.scheme, "hashvalues": signature.hashvalues.tolist()},
    }, ensure_ascii=False).encode()
    return zlib.compress(body, 1)


def _references(document: list[str], paragraphs: list[str]) -> list:
    """Each of a document's turn paragraphs as [i, k], for the document's paragraph i from character k (a turn's
    first paragraph is its document paragraph without the label), or as text if no document paragraph ends
    with it: this halves what is stored and decoded."""
    found, start = [], 0
    for paragraph in paragraphs:
        at = next((i for i in range(start, len(document)) if document[i].endswith(paragraph)), None)
        if at is None:
            found.append(paragraph)
            continue
        found.append([at, len(document[at]) - len(paragraph)])
        start = at + 1
    return found


def decode(entry: bytes) -> Parsed:
    """The parse back from its bytes; zlib.error if they are damaged (zlib checks their Adler-32)."""
    data = json.loads(zlib.decompress(entry))
    doc = Document(**data["doc"])
    doc.sources = [Source(**source) for source in doc.sources]
    paragraphs = iter([p if type(p) is str else doc.paragraphs[p[0]][p[1]:] for p in data["paragraphs"]])
    turns = [Turn(*fields, [next(paragraphs) for _ in range(count)])
             for fields, count in zip(data["turns"], data["counts"], strict=True)]
    signature = data["signature"]
    if signature is not None:
        signature = LeanMinHash(seed=signature["seed"], scheme=signature["scheme"], hashvalues=signature["hashvalues"])
    return doc, turns, signature
