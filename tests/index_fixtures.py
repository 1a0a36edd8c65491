"""Real indexes for the index and search tests, built with the real default model.

Loaded as a plugin (`pytest_plugins = ["index_fixtures"]`) by the modules that
need it, so the session index is built once per run, whichever of them runs
first. Building it embeds 772 passages and 400-odd prompts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corpus_slices import SEED_FILES, slice_files
from indexer.index.build import build_index
from indexer.search import Index


@pytest.fixture(scope="session")
def slice_dir(tmp_path_factory) -> Path:
    """The slice's index directory; tests must not change it (copy it first)."""
    path = tmp_path_factory.mktemp("shared") / "index"
    build_index(slice_files(), path, progress=False)
    return path


@pytest.fixture(scope="session")
def slice_index(slice_dir) -> Index:
    return Index.open(slice_dir)


@pytest.fixture
def slice_copy(slice_dir, tmp_path) -> Path:
    """A throwaway copy of the shared index, `current` symlink included, to damage or edit."""
    copy = tmp_path / "index"
    shutil.copytree(slice_dir, copy, symlinks=True)
    return copy


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory) -> Path:
    """An index of the two seeds (18 passages), for tests that only read it."""
    path = tmp_path_factory.mktemp("seeds") / "index"
    build_index(SEED_FILES, path, progress=False)
    return path
