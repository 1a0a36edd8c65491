"""A version's podium.sqlite: its schema as numbered migrations, and connections to it.

A schema change is a new script appended to MIGRATIONS, never an edit of an
old one; a change readers would misread also bumps FORMAT_VERSION, the layout
of the whole index directory (docs/index-format.md).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..errors import IndexCorrupt
from .layout import DATABASE, rebuild_hint

FORMAT_VERSION = 2  # 2: prompting questions as evidence (migration 2, questions.faiss)

MIGRATIONS = (
    """
    CREATE TABLE documents (
        doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, kind TEXT NOT NULL,
        source_url TEXT, source_name TEXT NOT NULL, path TEXT NOT NULL, sources TEXT NOT NULL
    );
    CREATE TABLE turns (
        doc_id TEXT NOT NULL, number INTEGER NOT NULL, label TEXT NOT NULL,
        speaker TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (doc_id, number)
    );
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY, passage_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
        turn INTEGER NOT NULL, para_start INTEGER NOT NULL, para_end INTEGER NOT NULL,
        speaker TEXT NOT NULL, role TEXT NOT NULL, question TEXT, text TEXT NOT NULL,
        date TEXT, kind TEXT NOT NULL, content_hash TEXT NOT NULL
    );
    CREATE INDEX passages_date ON passages(date);
    CREATE INDEX passages_speaker ON passages(speaker COLLATE NOCASE);
    CREATE INDEX passages_doc ON passages(doc_id);
    CREATE TABLE embeddings (content_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
    CREATE VIRTUAL TABLE passages_fts USING fts5(
        text, content='passages', content_rowid='id', tokenize='porter unicode61'
    );
    """,
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, text TEXT NOT NULL, content_hash TEXT NOT NULL
    );
    ALTER TABLE passages ADD COLUMN question_id INTEGER;
    CREATE VIRTUAL TABLE questions_fts USING fts5(
        text, content='questions', content_rowid='id', tokenize='porter unicode61'
    );
    """,
)


def create_database(version: Path) -> sqlite3.Connection:
    db = sqlite3.connect(version / DATABASE)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for number, script in enumerate(MIGRATIONS, start=1):
        db.executescript(script)
        db.execute("INSERT INTO migrations VALUES (?, datetime('now'))", (number,))
    return db


def connect_readonly(version: Path) -> sqlite3.Connection:
    path = version / DATABASE
    if not path.is_file():
        raise IndexCorrupt(f"{path} is missing; {rebuild_hint(version)}")
    try:
        # as_uri() percent-quotes the path: a ?, # or % in a folder name is part of the name, not of the URI
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        db.execute("SELECT count(*) FROM passages").fetchone()
        db.execute("SELECT rowid FROM passages_fts LIMIT 1").fetchone()
    except sqlite3.DatabaseError as exc:
        raise IndexCorrupt(f"{path} is damaged ({exc}); {rebuild_hint(version)}") from exc
    db.row_factory = sqlite3.Row
    return db


@contextmanager
def damage_reported(version: Path):
    """Damage the open check did not read turns up mid-query: report it like damage found on open.

    The database was verified on open and is read-only, so any error SQLite reports about it while reading
    (whatever its kind, with or without an error code) means the file changed or the disk failed under it;
    errors of Podium's own making (sqlite3.ProgrammingError, InterfaceError) stay bugs."""
    try:
        yield
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:
        kind = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
        detail = repr(str(exc)[:80])  # the message may quote damaged text: cut, and escaped for the terminal
        raise IndexCorrupt(f"{version / DATABASE} is damaged ({kind}: {detail}); {rebuild_hint(version)}") from exc
