"""The Ray engine: parse files and embed texts with Ray Data, on a Ray started here or on a cluster.

Parsing runs `parse_file` in Ray tasks, a file a row; a parse comes back
encoded as the parse cache stores it (indexer/ingest/parse_cache.py: compact
bytes, decoded here to the same objects). Embedding runs `map_batches` with a
callable class, so each actor loads the model and its ONNX encoder once (from
the on-disk cache that the build's own load of the model filled, PODIUM_CACHE)
and embeds batches of BATCH texts on CPUS_PER_ACTOR threads. A row carries its
position, so the order Ray returns rows in does not matter, and every batch
names the encoder that made it: a node that fell back to another engine (no
onnxruntime there) fails the build instead of mixing vectors. Ray Data's own
progress output is turned off; the build shows one bar a step, as rows come back.

On a cluster (an address), every node needs this package and the model
installed, and the transcripts at the same paths (a shared filesystem).
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
from tqdm import tqdm

from ..embedding.embedder import Embedder
from ..errors import UnreadableFile
from ..ingest import parse_cache
from ..ingest.corpus import Outcome, parse_file
from . import EngineUnavailable

try:
    import ray
    import ray.data
except ImportError as missing:  # reported when the engine is asked for, not on import
    ray, _MISSING = None, missing

BATCH = 512  # texts an actor embeds at a time: enough for the encoder's length buckets
CPUS_PER_ACTOR = 1
LOCAL_CPUS = None  # a Ray started here uses every CPU, unless a caller (a test) says otherwise
_CONNECT_SECONDS = 5


class RayEngine:
    """Both steps on Ray; connects on first use, and stops the Ray it started when the build is done."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = LOCAL_CPUS):
        if ray is None:
            raise EngineUnavailable(f"ray is not importable here ({_MISSING}); install it with "
                                    "pip install 'ray[data]>=2.60,<3', or build with --engine local")
        self.address, self.num_cpus = address or None, num_cpus
        self._started = False

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc) -> None:
        if self._started:
            ray.shutdown()
            self._started = False

    def parse(self, files: list[Path], progress: bool) -> Iterator[tuple[Path, Outcome]]:
        self._connect(progress)
        rows = ray.data.from_items([{"path": str(path)} for path in files]).map(_parse_row)
        with tqdm(total=len(files), desc="reading on ray", unit="file", disable=not progress) as bar:
            for row in rows.iter_rows():
                yield Path(row["path"]), (UnreadableFile(row["error"]) if row["error"]
                                          else parse_cache.decode(row["entry"]))
                bar.update()

    def embed(self, embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
        self._connect(progress)
        actors = max(1, int(ray.cluster_resources().get("CPU", 1) // CPUS_PER_ACTOR))
        batches = ray.data.from_items([{"row": i, "text": text} for i, text in enumerate(texts)]).map_batches(
            _Encode, fn_constructor_kwargs={"model": embedder.name, "encoder": embedder.encoder},
            batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=CPUS_PER_ACTOR)
        vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        with tqdm(total=len(texts), desc="embedding on ray", unit="passage", disable=not progress) as bar:
            for batch in batches.iter_batches(batch_size=None, batch_format="numpy"):
                _same_encoder(batch["encoder"], embedder.encoder)
                vectors[batch["row"]] = batch["vector"]
                bar.update(len(batch["row"]))
        return vectors

    def _connect(self, progress: bool) -> None:
        """Join the cluster at the address, or start Ray here; a Ray this process already runs is used as is."""
        if self.address and self.address != "auto":
            _check_reachable(self.address)
        quiet()
        if ray.is_initialized():
            return
        if progress:
            tqdm.write(f"starting Ray {'client of ' + self.address if self.address else 'here'}...", file=sys.stderr)
        logging.getLogger("ray").setLevel(logging.ERROR)  # its notes on start (token auth is on, as it should be)
        try:
            ray.init(address=self.address, num_cpus=None if self.address else self.num_cpus,
                     include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise EngineUnavailable(f"cannot start or join Ray at {self.address or 'this machine'} "
                                    f"({str(exc).splitlines()[0][:160]}); check --ray-address / RAY_ADDRESS") from exc
        self._started = True


def quiet() -> None:
    """Ray Data's progress bars and execution log off: the build's own bars say how far it is."""
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False


class _Encode:
    """A Ray actor's embedder: loaded once, then a batch of rows at a time."""

    def __init__(self, model: str, encoder: str):
        self.embedder = Embedder(model, encoder=encoder, workers=CPUS_PER_ACTOR)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode(list(batch["text"]))
        return {"row": batch["row"], "vector": vectors, "encoder": np.full(len(vectors), self.embedder.encoder)}


def _parse_row(row: dict) -> dict:
    path = Path(row["path"])
    try:
        return {"path": row["path"], "entry": parse_cache.encode(parse_file(path)), "error": ""}
    except UnreadableFile as exc:
        return {"path": row["path"], "entry": b"", "error": str(exc)}


def _same_encoder(made_by: np.ndarray, expected: str) -> None:
    others = set(made_by.tolist()) - {expected}
    if others:
        raise EngineUnavailable(f"a Ray worker embedded with {', '.join(sorted(others))}, not {expected} as this "
                                "build does; install the same packages (onnxruntime) on every node")


def _check_reachable(address: str) -> None:
    """Fail in seconds on an address nothing listens at (ray.init would retry for minutes)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EngineUnavailable(f"Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, or "
                                "ray://10.0.0.5:10001 for Ray Client); check --ray-address / RAY_ADDRESS")
    try:
        socket.create_connection((host, int(port)), timeout=_CONNECT_SECONDS).close()
    except OSError as exc:
        raise EngineUnavailable(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start it "
                                "(ray start --head) or check --ray-address / RAY_ADDRESS") from exc
