"""Real indexes for the index and search tests, built with the real default model.

Loaded as a plugin (`pytest_plugins = ["index_fixtures"]`) by the modules that
need it, so the session index is built once per run, whichever of them runs
first. Building it embeds 769 passages and 400-odd prompts. The same slice
in a Milvus Lite file (`slice_milvus`) is built once per run too, for the
search tests that run over both stores (`any_index`), and `milvus_server`
runs `milvus-lite server` for the tests that reach a store over the network.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
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


@pytest.fixture(scope="session")
def slice_milvus(tmp_path_factory) -> str:
    """The slice built into a Milvus Lite file: its --store spec; tests must not change it."""
    spec = f"milvus://{tmp_path_factory.mktemp('milvus') / 'slice.db'}"
    build_index(slice_files(), None, progress=False, store=spec)
    return spec


@pytest.fixture(scope="session")
def slice_milvus_index(slice_milvus) -> Index:
    return Index.open(store=slice_milvus)


@pytest.fixture(scope="session", params=["local", "milvus"])
def any_index(request) -> Index:
    """The slice in each store: a test taking it runs once on the local store and once on Milvus Lite."""
    return request.getfixturevalue("slice_index" if request.param == "local" else "slice_milvus_index")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unused_port() -> int:
    """A port of 127.0.0.1 nothing listens on."""
    return free_port()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory) -> str:
    """`milvus-lite server` on a free port of 127.0.0.1, as a process of its own: its --store spec."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("milvus-lite")), "server", "--data-dir",
               str(tmp_path_factory.mktemp("milvus-server")), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    """Until the server accepts connections (it is still starting while the port is closed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"milvus-lite server exited with {server.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"milvus-lite server did not listen on port {port} within {seconds} s")
