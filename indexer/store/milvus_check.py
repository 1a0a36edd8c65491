"""`indexer check --store`: each collection of the current version against the counts its manifest records."""

from __future__ import annotations

from pathlib import PurePosixPath

from ..index.integrity import FileCheck
from . import location
from .milvus_layout import collection
from .milvus_read import MilvusStore

_COUNTED = {"passages": "passages", "questions": "questions", "documents": "documents"}


def check_store(spec: str) -> tuple[PurePosixPath, list[FileCheck]]:
    """The current version and what counting each of its collections found."""
    store = MilvusStore.open(spec, location.connect(spec))
    with store.reading():
        version = store.version.name
        checks = [_check(store, collection(version, part), store.manifest.counts.get(counted))
                  for part, counted in _COUNTED.items()]
    store.close()
    return store.version, checks


def _check(store: MilvusStore, name: str, expected: int | None) -> FileCheck:
    count = store.client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
    damaged = count != expected
    detail = f"{count} rows" + (f", the manifest says {expected}" if damaged else "")
    return FileCheck(PurePosixPath(name), damaged, detail)
