"""The default model: all-MiniLM-L6-v2 adapted to briefings with the corpus's own question -> answer pairs.

The adapted model is the base model plus low-rank weight changes (LoRA, rank
8, on every linear layer of the transformer), trained by
bench/train_adapter.py to pull a reporter's question and the official answer
that followed it together, both sides through the same model (in-batch
negatives). The changes ship in ADAPTER (about 0.7 MB); the first use on a
machine adds them to the base weights and caches the result as a model folder
beside the ONNX builds. Passages and questions are both embedded by it, so an
index records it as its model (`embedder.DEFAULT_MODEL`), and an index of the
plain base model stays searchable with the plain model.

The training pairs come from press briefings not dated 2022 (the eval's
slice); their document ids are stored in the file, and the eval uses the
plain model for a question set whose answers lie in one of them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .onnx_build import cache_root

ADAPTER = Path(__file__).resolve().parents[1] / "data" / "briefings-adapter.safetensors"
_WEIGHTS = "model.safetensors"


@lru_cache(maxsize=1)
def name() -> str:
    """The shipped adapter as a model name carries it."""
    return name_of(ADAPTER)


def name_of(path: Path) -> str:
    """An adapter file's name in a model name: "briefings-" and the start of the file's SHA-256."""
    return "briefings-" + hashlib.sha256(path.read_bytes()).hexdigest()[:8]


@lru_cache(maxsize=1)
def metadata() -> dict:
    """What the shipped adapter was trained on and how: base model, rank, pairs, held-out documents."""
    return metadata_of(ADAPTER)


def metadata_of(path: Path) -> dict:
    """An adapter file's training record, as bench/train_adapter.py writes it."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as adapter:
        raw = adapter.metadata() or {}
    return {key: json.loads(value) for key, value in raw.items()}


def trained_documents() -> frozenset[str]:
    """The doc_ids whose question -> answer pairs the adapter learned from."""
    return frozenset(metadata().get("documents", []))


def adapted_folder(base: str | Path) -> Path:
    """A model folder like `base` with the adapter's changes added to its weights, made once and cached."""
    base = Path(base)
    final = cache_root() / "adapted" / f"{base.name}-{_key(base)}"
    if (final / _WEIGHTS).exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=final.parent))
    try:
        shutil.copytree(base, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(_WEIGHTS))
        _write_merged_weights(base / _WEIGHTS, staging / _WEIGHTS)
        staging.rename(final)
    except OSError:
        if not (final / _WEIGHTS).exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def merged_weights(weights: dict[str, np.ndarray], changes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each adapted layer's weight W becomes W + B @ A (the low-rank change trained for it)."""
    merged = dict(weights)
    for name in {key.rsplit(".", 1)[0] for key in changes}:
        a, b = changes[f"{name}.A"].astype(np.float32), changes[f"{name}.B"].astype(np.float32)
        merged[f"{name}.weight"] = weights[f"{name}.weight"] + b @ a
    return merged


def _write_merged_weights(source: Path, dest: Path) -> None:
    from safetensors.numpy import load_file, save_file

    save_file(merged_weights(load_file(str(source)), load_file(str(ADAPTER))), str(dest))


def _key(base: Path) -> str:
    """Names the merged copy by the adapter (its name carries its bytes' hash) and the base weights it was added to."""
    stat = (base / _WEIGHTS).stat()
    return hashlib.sha256(f"{name()}:{base.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
