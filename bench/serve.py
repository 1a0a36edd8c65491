"""Start `streamlit run app.py` on a free loopback port for a given index, and stop it however things end.

Shared by the browser tests and bench/app_load.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class ServerFailed(RuntimeError):
    """The app server exited or did not answer its health check in time."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def streamlit_server(index_dir: Path, log_path: Path, startup_seconds: float = 60):
    """Yield the app's URL (http://127.0.0.1:PORT/) serving `index_dir`."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py",  # on 127.0.0.1: .streamlit/config.toml
               "--server.port", str(port), "--server.headless", "true"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=os.environ | {"PODIUM_INDEX": str(index_dir)},
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}", process, log_path, startup_seconds)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.25)
    raise ServerFailed(f"streamlit did not answer within {seconds} s:\n{log_path.read_text()}")
