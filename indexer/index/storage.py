"""The disk refusing a read or a write, as one StorageError that names the path and the fix.

A full disk, a read-only mount or a missing permission reaches the index as
an OSError (Python's own writes, the vectors included: indexer/index/vectors.py
writes them through a Python file) or as an SQLite error; other errors are
left as they are. A build that meets one removes its half-written version
(publishing.py), so what is said about the previous index holds.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..errors import StorageError

_KINDS = {
    errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EFBIG: "full",
    errno.EROFS: "read-only", errno.EACCES: "denied", errno.EPERM: "denied", errno.EIO: "failed",
}
_SQLITE_KINDS = {"SQLITE_FULL": "full", "SQLITE_READONLY": "read-only", "SQLITE_PERM": "denied",
                 "SQLITE_CANTOPEN": "cannot open", "SQLITE_IOERR": "failed"}
_KEPT = "the index is as it was before this build"


@contextmanager
def storage_errors(index_dir: Path, writing: bool):
    """Turn a full, read-only or forbidden disk met inside the block into a StorageError about `index_dir`."""
    try:
        yield
    except OSError as exc:
        kind = _KINDS.get(exc.errno)
        if kind is None:
            raise
        named = exc.filename2 or exc.filename  # the destination of a rename or a link, else the file
        where = Path(named or index_dir) if kind in ("denied", "read-only") else index_dir
        raise StorageError(_message(kind, where, index_dir, writing, exc.strerror)) from exc
    except sqlite3.OperationalError as exc:
        name = getattr(exc, "sqlite_errorname", None) or ""
        kind = next((kind for prefix, kind in _SQLITE_KINDS.items() if name.split("_")[:2] == prefix.split("_")), None)
        if kind is None:
            raise
        raise StorageError(_message(kind, index_dir, index_dir, writing, f"SQLite: {exc}")) from exc


def _message(kind: str, where: Path, index_dir: Path, writing: bool, detail: str) -> str:
    inside = Path(os.path.realpath(where)).is_relative_to(os.path.realpath(index_dir))  # else a transcript
    if kind == "denied" and not (writing and inside):
        top, other = (index_dir, ", or use another --index DIR") if inside else (where, "")
        return f"no permission to read {where}; run as a user who may read {top} (e.g. chmod -R a+rX {top}){other}"
    if not writing:
        return f"cannot read {where} ({detail}); check the disk, then search again"
    fixes = {
        "full": f"no space left on the disk holding {where} ({detail}); free some space, or build into another "
                f"--index DIR",
        "read-only": f"{where} is on a read-only file system; build into a writable --index DIR",
        "denied": f"no permission to write {where}; build as a user who may write to {index_dir}, "
                  f"or into another --index DIR",
        "cannot open": f"cannot create a file in {where} ({detail}); check that it is writable and its disk not full",
        "failed": f"the disk failed while writing {where} ({detail}); check the disk and build again",
    }
    return f"{fixes[kind]}; {_KEPT}"
