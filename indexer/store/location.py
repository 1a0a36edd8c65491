"""Which store an index lives in, and connecting to a Milvus one.

`--store` or $PODIUM_STORE names a Milvus deployment: `milvus:///path/to/file.db`
runs Milvus Lite in the process on that file; `http://host:port` (or https)
reaches a server (`milvus-lite server`, Milvus Standalone, a cluster) with
the token in $PODIUM_MILVUS_TOKEN if it needs one. Neither: the local store
(`--index`, $PODIUM_INDEX).
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path

from ..errors import BadQuery, StoreUnreachable

STORE_ENV = "PODIUM_STORE"
TOKEN_ENV = "PODIUM_MILVUS_TOKEN"
LITE = "milvus://"
SERVERS = ("http://", "https://")
TIMEOUT = 5.0  # seconds to wait for a server before saying it cannot be reached


def chosen(store: str | None) -> str | None:
    """The Milvus store asked for (the argument, else $PODIUM_STORE), None for the local store."""
    spec = (store or os.environ.get(STORE_ENV) or "").strip()
    if spec and not spec.startswith((LITE, *SERVERS)):
        raise BadQuery(f"unknown store {spec!r}; use milvus:///path/to/file.db (Milvus Lite) "
                       "or http://host:port (a Milvus server)")
    return spec or None


def uri(spec: str) -> str:
    """What the Milvus client connects to: a Milvus Lite file's path, or the server's URL."""
    return spec.removeprefix(LITE) if spec.startswith(LITE) else spec


def connect(spec: str):
    """A client of the store, or StoreUnreachable naming what to do."""
    from pymilvus import MilvusClient, MilvusException

    for library in ("pymilvus", "milvus_lite"):  # their logged errors become our one-line errors
        logging.getLogger(library).setLevel(logging.CRITICAL)
    target = uri(spec)
    if spec.startswith(LITE):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=target, token=os.environ.get(TOKEN_ENV, ""), timeout=TIMEOUT)
    except (MilvusException, OSError, RuntimeError) as exc:
        raise StoreUnreachable(
            f"cannot reach the Milvus store {spec} ({reason(exc)}); start the server or fix --store / "
            f"${STORE_ENV}, and set ${TOKEN_ENV} if it needs a token") from exc


def current_version_name(spec: str) -> str | None:
    """The version the store serves now (None if it holds no index): one connection, one alias read."""
    from .milvus_layout import current_version

    return _read(spec, current_version)


def current_manifest(spec: str):
    """The manifest of the version the store serves now, None if it holds no index."""
    from .milvus_layout import current_version
    from .milvus_read import read_manifest

    def manifest(client):
        version = current_version(client)
        return read_manifest(client, version) if version else None

    return _read(spec, manifest)


def _read(spec: str, read):
    """`read(client)` over one connection, its failures one clear error."""
    client = connect(spec)
    with failures_reported(spec):
        found = read(client)
    client.close()
    return found


def open_milvus(spec: str):
    """The current version of the index in a Milvus store, opened for searching."""
    from .milvus_read import MilvusStore

    return MilvusStore.open(spec, connect(spec))


@contextmanager
def failures_reported(spec: str):
    """A Milvus error met while reading or writing is one clear error, never a traceback."""
    from pymilvus import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise StoreUnreachable(f"the Milvus store {spec} failed ({reason(exc)}); check that it is running "
                               "and that its index was built by this Podium, then try again") from exc


def reason(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc).splitlines()[0][:200]
