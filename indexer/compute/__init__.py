"""How a build reads files and embeds texts: in this process (the default) or on Ray (ray_data.py).

The build (indexer/index/build.py) leaves an engine two steps: parsing the
files the parse cache does not hold (the same `parse_file` wherever it runs)
and embedding the texts no earlier version embedded (the same model and
encoder). Everything else runs in the build's process whatever the engine:
the steps across documents (duplicates, names from other documents, cutting
passages), the reuse of vectors by content hash and the writing to the store.
So an index built on Ray is the one built here, and only new texts go to Ray.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from ..embedding.embedder import Embedder
from ..errors import PodiumError
from ..ingest.corpus import Outcome, parse_here

ENGINES = ("local", "ray")


class EngineUnavailable(PodiumError):
    """The engine asked for cannot run here: Ray is not installed, or its cluster cannot be reached."""


class Engine(Protocol):
    name: str

    def parse(self, files: list[Path], progress: bool) -> Iterator[tuple[Path, Outcome]]:
        """Each file's parse (`indexer.ingest.corpus.parse_file`), or the UnreadableFile it raised."""

    def embed(self, embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
        """One unit vector a text, in order, exactly as `embedder.encode` makes them."""


class LocalEngine:
    """The plain build: both steps in this process."""

    name = "local"

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def parse(self, files: list[Path], progress: bool) -> Iterator[tuple[Path, Outcome]]:
        return parse_here(files, progress)

    def embed(self, embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
        return embedder.encode(texts, progress=progress)


def engine_for(name: str, address: str | None = None):
    """The engine called `name` (one of ENGINES); `address`: a Ray cluster's (default: start Ray here)."""
    if name == "ray":
        from .ray_data import RayEngine

        return RayEngine(address)
    if name != "local":
        raise EngineUnavailable(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
    return LocalEngine()
