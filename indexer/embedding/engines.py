"""The engines behind `Embedder`: sentence-transformers on torch, or the same model on ONNX Runtime.

`load_encoder` picks one by name ("torch", "onnx-int8", "onnx-fp32", or a name
an index recorded, such as "onnx-int8-r4") and falls back to torch when ONNX
cannot run the model. The name carries the ONNX build's recipe
(indexer/embedding/onnx_build.py) and the index records it, so vectors from
another engine or recipe are never mixed into an index.

The ONNX engine tokenizes with the model folder's tokenizer.json, sorts the
texts by length and runs batches of up to BATCH_TOKENS tokens, padding
included (short texts go many at a time), several batches at once, one thread
each. Each text is padded to a multiple of PAD_MULTIPLE tokens and a batch
holds one padded width, so a vector never depends on its batch mates. Mean
pooling over the attention mask and L2 normalization, the rest of
all-MiniLM-L6-v2's sentence-transformers pipeline, are numpy.
bench/encoders.py measures this against plain sentence-transformers.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path

import numpy as np

from .onnx_build import RECIPE, cached_model
from .onnx_rewrite import OnnxUnsupported

log = logging.getLogger(__name__)

QUANTIZATIONS = ("int8", "fp32")
TORCH = "torch-fp32"  # the engine of an index that records none (built before engines were recorded)
DEFAULT_ENGINE = "onnx-int8"
BATCH_TOKENS = 1024  # tokens per batch, padding included (measured fastest of 512 to 1,024)
PAD_MULTIPLE = 4  # a text is padded to a multiple of 4 tokens, whatever its batch mates: see OnnxEncoder.encode
UNFUSED = ["SkipLayerNormFusion"]  # session optimizers left off: see onnx_build's docstring, step 2


# --- torch -------------------------------------------------------------------------------


class TorchEncoder:
    """Plain sentence-transformers, fp32."""

    name = TORCH

    def __init__(self, folder: str):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(folder, device="cpu")

    @property
    def dimension(self) -> int:
        if hasattr(self.model, "get_embedding_dimension"):
            return self.model.get_embedding_dimension()
        return self.model.get_sentence_embedding_dimension()

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size or 32, normalize_embeddings=True,
                                 convert_to_numpy=True)


# --- ONNX Runtime --------------------------------------------------------------------------


def onnx_unsupported_reason(folder: str | Path) -> str | None:
    """Why the ONNX engine cannot run this model (None: it can)."""
    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
        return "onnxruntime is not installed"
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError) as exc:
        return f"not a local sentence-transformers folder ({exc.__class__.__name__})"
    if config.get("model_type") != "bert":
        return f"model type {config.get('model_type')!r} (the ONNX engine handles BERT)"
    if modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}:
        return f"modules {modules} (the ONNX engine handles Transformer, Pooling, Normalize)"
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        return f"pooling {modes} (the ONNX engine does mean pooling)"
    if not (folder / "tokenizer.json").exists():
        return "no tokenizer.json"
    return None


class OnnxEncoder:
    """The model on ONNX Runtime; `quantization` is "int8" or "fp32".

    `workers` batches run at once (default: one per usable CPU), each on
    `threads` intra-op threads; many small independent runs keep both cores busy
    even when another process takes one of them for a while. A batch holds up to
    `batch_tokens` tokens, or `batch_size` texts if that is given.
    """

    def __init__(self, folder: str, quantization: str = "int8", cache_dir: str | Path | None = None,
                 workers: int | None = None, threads: int | None = None, batch_size: int | None = None,
                 model_path: str | Path | None = None, batch_tokens: int = BATCH_TOKENS):
        reason = onnx_unsupported_reason(folder)
        if reason:
            raise OnnxUnsupported(reason)
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {QUANTIZATIONS}")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = engine_name(quantization)
        self.folder = Path(folder)
        self.path = Path(model_path) if model_path else cached_model(self.folder, quantization, cache_dir)
        config = json.loads((self.folder / "config.json").read_text())
        settings_file = self.folder / "sentence_bert_config.json"
        settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(settings.get("max_seq_length") or config["max_position_embeddings"])
        self.dimension = config["hidden_size"]
        self.workers = workers or _usable_cpus()
        self.batch_size, self.batch_tokens = batch_size, batch_tokens
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"],
                                            disabled_optimizers=UNFUSED)
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Unit vectors; texts are batched by token length so batches carry little padding.

        A text's vector must not depend on its batch mates (an index patched in place equals
        one built from scratch, bit for bit). The flash-attention kernel's float rounding
        depends on the padded length, so each text is padded to its own `padded_width` and a
        batch holds texts of one width.
        """
        from concurrent.futures import ThreadPoolExecutor

        encodings = self.tokenizer.encode_batch(list(texts))
        batches = length_batches([len(e.ids) for e in encodings], self.batch_tokens, batch_size or self.batch_size,
                                 PAD_MULTIPLE)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)

        def run(rows: np.ndarray) -> None:
            vectors[rows] = self._embed([encodings[i].ids for i in rows])

        if self.workers == 1 or len(batches) == 1:
            for rows in batches:
                run(rows)
        else:
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(run, batches))  # list(): re-raise a worker's error here
        return vectors

    def _embed(self, token_ids: list[list[int]]) -> np.ndarray:
        width = padded_width(max(len(ids) for ids in token_ids), PAD_MULTIPLE)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def length_batches(lengths: list[int], tokens: int, size: int | None = None,
                   multiple: int | None = None) -> list[np.ndarray]:
    """Indexes of texts by increasing length, in batches of `size` texts, or (no size) as many
    as fit in `tokens` once padded to the batch's longest; a longer text goes alone. With
    `multiple`, texts are padded to `padded_width` and a batch never mixes two widths."""
    order = np.argsort(lengths, kind="stable")
    widths = [padded_width(n, multiple) for n in lengths]
    batches, start = [], 0
    for end, i in enumerate(order):
        count = end - start + 1
        full = count > size if size else count * widths[i] > tokens
        if end > start and (full or (multiple and widths[i] != widths[order[start]])):
            batches.append(order[start:end])
            start = end
    return batches + [order[start:]] if len(order) else batches


def padded_width(length: int, multiple: int | None = None) -> int:
    """`length` tokens rounded up to a multiple of `multiple` (at least 1)."""
    multiple = multiple or 1
    return max(1, -(-length // multiple) * multiple)


def engine_name(quantization: str) -> str:
    """The name an index records for vectors from this engine: "onnx-int8-r4"."""
    return f"onnx-{quantization}-r{RECIPE}"


def load_encoder(folder: str, requested: str, explicit: bool = True, workers: int | None = None):
    """The engine `requested` names ("torch", "onnx-int8", "onnx-fp32", or a recorded name such as
    "onnx-int8-r4"), or TorchEncoder when ONNX cannot run here or its build fails. `workers`: ONNX batches
    run at once (default: one per usable CPU).

    Falling back is logged: as a warning when the build failed or the engine was
    asked for explicitly (`explicit`), as info when ONNX simply
    does not apply (no onnxruntime, not a BERT model).
    """
    engine = requested.strip().lower()
    if engine in ("torch", TORCH):
        return TorchEncoder(folder)
    parts = engine.split("-")
    if len(parts) not in (2, 3) or parts[0] != "onnx" or parts[1] not in QUANTIZATIONS:
        raise ValueError(f"unknown encoder {requested!r}; use torch, onnx-int8 or onnx-fp32")
    if len(parts) == 3 and parts[2] != f"r{RECIPE}":
        log.warning("encoder %s is an older build recipe; using %s (vectors close to it: cosine about 0.999)",
                    requested, engine_name(parts[1]))
    reason = onnx_unsupported_reason(folder)
    if reason:
        (log.warning if explicit else log.info)(
            "ONNX encoder unavailable (%s); using sentence-transformers on torch", reason)
        return TorchEncoder(folder)
    try:
        return OnnxEncoder(folder, parts[1], workers=workers)
    except Exception as exc:  # a failed export, a full disk, a broken cache: torch still works
        log.warning("could not build or load the ONNX encoder (%s: %s); using sentence-transformers on torch",
                    exc.__class__.__name__, str(exc).splitlines()[0][:200] if str(exc) else "")
        return TorchEncoder(folder)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
