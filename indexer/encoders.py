"""The engines behind `Embedder`: sentence-transformers on torch, or the same model on ONNX Runtime.

The ONNX engine is built once from the model folder, with no network, and kept
in a cache folder keyed by that folder and the recipe:

1. export the transformer (a Hugging Face BertModel) with `torch.onnx.export`,
   batch and sequence axes dynamic;
2. fuse it with onnxruntime.transformers' BERT optimizer (`fuse_bert`): one
   Attention and one BiasGelu op per layer. The residual Adds and
   LayerNormalization stay apart, and the session is told not to fuse them
   (SkipLayerNormFusion): ONNX Runtime's CPU SkipLayerNormalization kernel took
   790 us a call where Add + Add + LayerNormalization take 180, 16% of the
   int8 model's time against 4%;
3. for int8, take the Q, K, V products out of each Attention op
   (`split_attention`: three MatMuls, then MultiHeadAttention). The padding
   mask moves into the attention scores, as one more Q and K channel per head,
   so MultiHeadAttention runs without a mask, on ONNX Runtime's flash-attention
   kernel (18% less time in the op). Then quantize every product by a weight
   matrix (`quantize_per_token`): weights symmetric int8 per output column,
   activations asymmetric uint8 per token, computed on the fly. One activation
   scale per batch, as in ONNX Runtime's stock dynamic quantization, is what
   loses accuracy: BERT has outlier channels, and a scale wide enough for them
   leaves ordinary tokens a few levels. A zero point per token costs extra rows
   in the product (up to 15% more); GELU outputs, bounded below, share one
   fixed zero point and need none.

Engines are named with the recipe ("onnx-int8-r4"); the index records the name,
so vectors from another engine or recipe are never mixed into it.

Texts are tokenized with the folder's tokenizer.json, sorted by length and run
in batches of up to 1,024 tokens, padding included (short texts go many at a
time), on one thread each, several batches at once; each text is padded to a multiple of 4 tokens and a batch holds one
padded width, so a vector never depends on its batch mates. Mean pooling over
the attention mask and L2 normalization, the rest of all-MiniLM-L6-v2's
sentence-transformers pipeline, are numpy.
bench/encoders.py measures this against plain sentence-transformers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RECIPE = 4  # bump when the build below changes (1: QKV products fp32; 2: SkipLayerNormalization fused;
#             3: padding mask into MultiHeadAttention, a zero point per token for GELU outputs too)
QUANTIZATIONS = ("int8", "fp32")
TORCH = "torch-fp32"
DEFAULT_ENGINE = "onnx-int8"
WEIGHT_LEVELS = 127  # int8 weights in [-127, 127]
OPSET = 17  # torch.onnx export; raised to 21 for per-token QuantizeLinear (block_size)
BATCH_TOKENS = 1024  # tokens per batch, padding included (recipe 3: 512 best of 256..2048 and 4 texts a batch;
#                     recipe 4, one padded width a batch: 1024 3% faster than 512, 640 and 768 between)
PAD_MULTIPLE = 4  # a text is padded to a multiple of 4 tokens, whatever its batch mates: see OnnxEncoder.encode
MASK_SCORE = -30000.0  # a padded key's score before the softmax scale: exp() of it is 0 in float32
GELU_OPS = ("BiasGelu", "Gelu", "FastGelu")
GELU_FLOOR = 0.17  # GELU's minimum is -0.16997 (at x = -0.75)
GELU_ZERO_POINT = 24  # uint8 zero point of GELU outputs (calibrated: 19-26 by layer on briefing passages)
UNFUSED = ["SkipLayerNormFusion"]  # session optimizers left off: see the module docstring, step 2
_MODEL_FILES = ("config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json",
                "1_Pooling/config.json", "model.safetensors", "pytorch_model.bin")


class OnnxUnsupported(Exception):
    """This model or machine cannot use the ONNX engine; the caller falls back to torch."""


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


def load_encoder(folder: str, requested: str, explicit: bool = True):
    """The engine `requested` names ("torch", "onnx-int8", "onnx-fp32", or a recorded name such as
    "onnx-int8-r4"), or TorchEncoder when ONNX cannot run here or its build fails.

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
        return OnnxEncoder(folder, parts[1])
    except Exception as exc:  # a failed export, a full disk, a broken cache: torch still works
        log.warning("could not build or load the ONNX encoder (%s: %s); using sentence-transformers on torch",
                    exc.__class__.__name__, str(exc).splitlines()[0][:200] if str(exc) else "")
        return TorchEncoder(folder)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- building and caching the ONNX model ---------------------------------------------------------


def cache_root() -> Path:
    """$PODIUM_CACHE, else $XDG_CACHE_HOME/podium, else ~/.cache/podium."""
    if os.environ.get("PODIUM_CACHE"):
        return Path(os.environ["PODIUM_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "podium"


def build_key(folder: Path, quantization: str) -> str:
    """Names the built model: the source files (path, size, mtime), the recipe and the tools' versions."""
    from importlib.metadata import version

    parts = [f"recipe={RECIPE}", f"quantization={quantization}", f"folder={folder.resolve()}"]
    for name in _MODEL_FILES:
        path = folder / name
        if path.exists():
            stat = path.stat()
            parts.append(f"{name}={stat.st_size}:{stat.st_mtime_ns}")
    parts += [f"{pkg}={version(pkg)}" for pkg in ("torch", "transformers", "onnx", "onnxruntime")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cached_model(folder: Path, quantization: str, cache_dir: str | Path | None = None) -> Path:
    """The built model for this folder and quantization, building it on first use."""
    root = Path(cache_dir) if cache_dir else cache_root()
    final = root / "encoders" / f"{folder.name}-{quantization}-{build_key(folder, quantization)}"
    if (final / "model.onnx").exists():
        return final / "model.onnx"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=final.parent))
    except OSError:  # no writable cache: build for this process only
        staging = final = Path(tempfile.mkdtemp(prefix="podium-encoder-"))
    log.warning("building the %s ONNX encoder (once, about 10 s; cached in %s)", quantization, final)
    started = time.monotonic()
    try:
        build_model(folder, staging / "model.onnx", quantization)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (staging / "build.json").write_text(json.dumps({
        "source": str(folder.resolve()), "quantization": quantization, "recipe": RECIPE,
        "seconds": round(time.monotonic() - started, 1),
    }, indent=2))
    if staging != final:
        try:
            staging.rename(final)
        except OSError:  # another process finished first: use its copy
            shutil.rmtree(staging, ignore_errors=True)
    return final / "model.onnx"


def build_model(folder: Path, dest: Path, quantization: str = "int8") -> None:
    """Export, fuse and (for int8) quantize the model in `folder` into `dest`."""
    import onnx

    config = json.loads((folder / "config.json").read_text())
    with tempfile.TemporaryDirectory(prefix="podium-export-") as tmp:
        exported = Path(tmp) / "exported.onnx"
        export_onnx(folder, exported)
        model = fuse_bert(exported, config)
    if quantization == "int8":
        model = quantize_per_token(split_attention(model))
    onnx.save(model, str(dest))


def fuse_bert(path: str | Path, config: dict):
    """The exported graph with onnxruntime.transformers' BERT fusions: one Attention op per layer,
    BiasGelu and EmbedLayerNormalization, the residual Adds and LayerNormalization left apart
    (module docstring, step 2); raises OnnxUnsupported if a layer did not fuse (a model whose
    graph the optimizer does not recognize)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    optimized = optimize_model(str(path), model_type="bert", num_heads=config["num_attention_heads"],
                               hidden_size=config["hidden_size"], opt_level=0, optimization_options=options)
    fused = optimized.get_fused_operator_statistics()
    layers = config["num_hidden_layers"]
    if fused.get("Attention", 0) != layers or fused.get("LayerNormalization", 0) != 2 * layers:
        raise OnnxUnsupported(f"the BERT optimizer fused {fused.get('Attention', 0)} of {layers} attention layers")
    model = optimized.model
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        from onnx import helper

        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def export_onnx(folder: Path, dest: Path) -> None:
    """The transformer's last hidden state as an ONNX graph with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    sample = tokenizer(["a short one", "a somewhat longer example sentence, with padding"],
                       padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHiddenState(model), tuple(sample[n] for n in names), str(dest),
                          input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)


def split_attention(model):
    """Each fused Attention op -> MatMuls by its Q, K and V weights, then MultiHeadAttention, so the
    products can be quantized too (three products, not one and a Split: no copy).

    MultiHeadAttention gets no padding mask: ONNX Runtime's CPU kernel takes its flash-attention
    path (MlasFlashAttention) only without one, 18% less time in the op. The mask goes into the
    scores instead: every head gets one more Q and K channel, 1 in Q (a bias), and in K 0 for a
    real token and MASK_SCORE for padding (`_padding_term`, added to K), so q.k is unchanged for
    real keys and hopeless for padded ones. The softmax scale stays 1/sqrt(head size).
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    nodes, padding = [], None
    for node in graph.node:
        if node.op_type != "Attention" or node.domain != "com.microsoft":
            nodes.append(node)
            continue
        x, weight, bias = list(node.input)[:3]
        heads = next(a.i for a in node.attribute if a.name == "num_heads")
        w, b = numpy_helper.to_array(initializers[weight]), numpy_helper.to_array(initializers[bias])
        hidden = w.shape[1] // 3
        size = hidden // heads
        scale = next((a.f for a in node.attribute if a.name == "scale"), 0.0) or 1 / np.sqrt(size)
        if padding is None:
            padding = _padding_term(graph, nodes, heads, size)
        p = (node.name or node.output[0]) + "_split"
        parts = {
            "_wq": _with_head_channel(w[:, :hidden], heads, 0.0),
            "_wk": _with_head_channel(w[:, hidden : 2 * hidden], heads, 0.0),
            "_wv": w[:, 2 * hidden :],
            "_bias": np.concatenate([_with_head_channel(b[:hidden], heads, 1.0),
                                     _with_head_channel(b[hidden : 2 * hidden], heads, 0.0), b[2 * hidden :]]),
        }
        graph.initializer.extend(numpy_helper.from_array(v.astype(np.float32), p + k) for k, v in parts.items())
        nodes += [
            helper.make_node("MatMul", [x, p + "_wq"], [p + "_q"], name=p + "_q"),
            helper.make_node("MatMul", [x, p + "_wk"], [p + "_k0"], name=p + "_k"),
            helper.make_node("MatMul", [x, p + "_wv"], [p + "_v"], name=p + "_v"),
            helper.make_node("Add", [p + "_k0", padding], [p + "_k"]),
            helper.make_node("MultiHeadAttention", [p + "_q", p + "_k", p + "_v", p + "_bias"], list(node.output),
                             domain="com.microsoft", num_heads=heads, scale=float(scale), name=p + "_mha"),
        ]
    _set_nodes(graph, nodes)
    return model


def _set_nodes(graph, nodes: list, new_initializers=()) -> None:
    """Make `nodes` the graph's nodes, keeping only the initializers (old, then `new_initializers`) they use."""
    used = {i for n in nodes for i in n.input}
    kept = [t for t in [*graph.initializer, *new_initializers] if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _with_head_channel(block: np.ndarray, heads: int, value: float) -> np.ndarray:
    """Weight columns (or bias) of `heads` heads, each followed by one more column of `value`."""
    split = block.reshape(block.shape[:-1] + (heads, -1))
    extra = np.full(split.shape[:-1] + (1,), value, np.float32)
    return np.concatenate([split, extra], axis=-1).reshape(block.shape[:-1] + (-1,))


def _padding_term(graph, nodes: list, heads: int, size: int) -> str:
    """Append nodes computing, from the attention_mask input, what to add to K: MASK_SCORE in each
    head's extra channel at padded positions, 0 elsewhere; return its name."""
    from onnx import TensorProto, helper, numpy_helper

    if "attention_mask" not in {i.name for i in graph.input}:
        raise OnnxUnsupported("the exported graph has no attention_mask input")
    pattern = np.zeros(heads * (size + 1), np.float32)
    pattern[size :: size + 1] = -MASK_SCORE  # times (mask - 1): MASK_SCORE where mask is 0
    graph.initializer.extend([
        numpy_helper.from_array(pattern, "padding_pattern"),
        numpy_helper.from_array(np.array(-1, np.float32), "padding_minus_one"),
        numpy_helper.from_array(np.array([-1], np.int64), "padding_last_axis"),
    ])
    nodes += [
        helper.make_node("Cast", ["attention_mask"], ["padding_mask"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["padding_mask", "padding_minus_one"], ["padding_off"]),
        helper.make_node("Unsqueeze", ["padding_off", "padding_last_axis"], ["padding_column"]),
        helper.make_node("Mul", ["padding_column", "padding_pattern"], ["padding_term"]),
    ]
    return "padding_term"


def quantize_per_token(model, weight_levels: int = WEIGHT_LEVELS):
    """Every MatMul by a constant 2-D weight -> int8 weights per column x uint8 activations per token.

    For input X (..., K) and weight W (K, N): per token, s = (max(x, 0) - min(x, 0)) / 255
    and z = round(-min(x, 0) / s), so q = round(x / s) + z is in [0, 255]; W is
    stored as Wq * w where Wq is int8 per output column. ONNX Runtime's
    MatMulIntegerToFloat takes a per-token scale but only one zero point, so
    the zero-point term -z * colsum(Wq) is folded into the product itself:
    z is appended to q a few times and rows summing to -colsum(Wq) to Wq, which
    keeps the arithmetic exact in int32. MatMuls sharing an input (Q, K, V)
    quantize it once. GELU outputs, which never go below -GELU_FLOOR, take
    one fixed zero point instead (`_gelu_quantization`): no extra rows.
    """
    from onnx import helper, numpy_helper

    _require_opset(model, 21)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    producers = {o: n.op_type for n in graph.node for o in n.output}
    targets = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights
               and len(weights[n.input[1]].dims) == 2]
    added: dict[str, object] = {}

    def const(name: str, value: np.ndarray) -> str:
        added.setdefault(name, numpy_helper.from_array(value, name))
        return name

    by_input: dict[str, list] = {}
    for node in targets:
        by_input.setdefault(node.input[0], []).append(node)
    quantized = {}
    for x, group in by_input.items():
        parts = [_quantize_weight(numpy_helper.to_array(weights[n.input[1]]), weight_levels) for n in group]
        gelu = producers.get(x) in GELU_OPS
        extra = 0 if gelu else max(1, max(_rows_for(colsum) for _, _, colsum in parts))
        quantized[x] = (weights[group[0].input[1]].dims[0], extra, parts, gelu)
    nodes, emitted = [], set()
    for node in graph.node:
        if node not in targets:
            nodes.append(node)
            continue
        x = node.input[0]
        k, extra, parts, gelu = quantized[x]
        p = "ptq_" + _safe(x)
        if x not in emitted:
            emitted.add(x)
            nodes += _gelu_quantization(x, p, k, const) if gelu else _token_quantization(x, p, k, extra, const)
        wq, scale, colsum = parts[by_input[x].index(node)]
        w = "ptq_w_" + _safe(node.input[1])
        if gelu:  # MatMulIntegerToFloat's own (scalar) zero point
            stored, zero_point = wq, [const("ptq_gelu_zero_point", np.array(GELU_ZERO_POINT, np.uint8))]
        else:
            stored, zero_point = np.concatenate([wq, _rows_summing_to(-colsum, extra)]).astype(np.int8), []
        inputs = [p + "_q", const(w + "_q", stored), p + "_scale", const(w + "_s", scale), *zero_point]
        nodes.append(helper.make_node("MatMulIntegerToFloat", inputs, list(node.output), domain="com.microsoft",
                                      name=node.name + "_int8"))
    _set_nodes(graph, nodes, added.values())
    return model


def _token_quantization(x: str, p: str, k: int, extra: int, const) -> list:
    """Nodes quantizing `x` (..., k) per token, asymmetric: p_scale, and p_q with the zero point
    appended `extra` times (quantize_per_token). The zero point is itself a QuantizeLinear of
    -min(x, 0) by the scale, which rounds and stays within [0, 255]."""
    from onnx import TensorProto, helper

    zero, tiny = const("ptq_zero", np.array(0, np.float32)), const("ptq_tiny", np.array(1e-12, np.float32))
    inv255, last_axis = const("ptq_inv255", np.array(1 / 255, np.float32)), const("ptq_axes", np.array([-1], np.int64))
    return [
        helper.make_node("ReduceMin", [x, last_axis], [p + "_min"], keepdims=1),
        helper.make_node("ReduceMax", [x, last_axis], [p + "_max"], keepdims=1),
        helper.make_node("Min", [p + "_min", zero], [p + "_lo"]),
        helper.make_node("Max", [p + "_max", zero], [p + "_hi"]),
        helper.make_node("Sub", [p + "_hi", p + "_lo"], [p + "_range"]),
        helper.make_node("Mul", [p + "_range", inv255], [p + "_s0"]),
        helper.make_node("Max", [p + "_s0", tiny], [p + "_scale"]),
        helper.make_node("Neg", [p + "_lo"], [p + "_below"]),
        helper.make_node("QuantizeLinear", [p + "_below", p + "_scale"], [p + "_z"], axis=-1, block_size=1,
                         output_dtype=TensorProto.UINT8),
        helper.make_node("QuantizeLinear", [x, p + "_scale", p + "_z"], [p + "_q0"], axis=-1, block_size=k),
        helper.make_node("Concat", [p + "_q0"] + [p + "_z"] * extra, [p + "_q"], axis=-1),
    ]


def _gelu_quantization(x: str, p: str, k: int, const) -> list:
    """Nodes quantizing a GELU output per token with the fixed zero point GELU_ZERO_POINT:
    s = max(max(x) / (255 - z), GELU_FLOOR / z), so GELU's floor still maps to >= 0. The zero
    point goes to MatMulIntegerToFloat as its one scalar, and min(x) is never needed."""
    from onnx import helper, numpy_helper

    z = GELU_ZERO_POINT
    last_axis = const("ptq_axes", np.array([-1], np.int64))
    up, floor = const("ptq_gelu_up", np.array(1 / (255 - z), np.float32)), const(
        "ptq_gelu_floor", np.array(GELU_FLOOR / z, np.float32))
    return [
        helper.make_node("ReduceMax", [x, last_axis], [p + "_max"], keepdims=1),
        helper.make_node("Mul", [p + "_max", up], [p + "_s0"]),
        helper.make_node("Max", [p + "_s0", floor], [p + "_scale"]),
        helper.make_node("Shape", [p + "_scale"], [p + "_shape"]),
        helper.make_node("ConstantOfShape", [p + "_shape"], [p + "_z"],
                         value=numpy_helper.from_array(np.array([z], np.uint8))),
        helper.make_node("QuantizeLinear", [x, p + "_scale", p + "_z"], [p + "_q"], axis=-1, block_size=k),
    ]


def _safe(name: str) -> str:
    return name.replace("/", "_").replace(".", "_").replace(":", "_")


def _quantize_weight(weight: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int weights, per-column scale, per-column sum of the int weights)."""
    weight = weight.astype(np.float32)
    scale = (np.maximum(np.abs(weight).max(axis=0), 1e-12) / levels).astype(np.float32)
    q = np.clip(np.round(weight / scale), -levels, levels).astype(np.int8)
    return q, scale, q.astype(np.int64).sum(axis=0)


def _rows_for(total: np.ndarray) -> int:
    return int(np.ceil(np.abs(total).max() / 127))


def _rows_summing_to(total: np.ndarray, rows: int) -> np.ndarray:
    """`rows` int8 rows whose column sums are `total` (greedy, each entry within [-127, 127])."""
    out = np.zeros((rows, total.shape[0]), np.int64)
    left = total.copy()
    for r in range(rows):
        out[r] = np.clip(left, -127, 127)
        left -= out[r]
    assert not left.any(), "not enough rows for the zero-point correction"
    return out


def _require_opset(model, version: int) -> None:
    """Raise the default-domain opset; the ops a fused BERT graph keeps read the same at 17 and 21."""
    safe = {"Cast", "MatMul", "Split", "Shape", "Reshape", "Add", "Mul", "Gather", "Unsqueeze", "Concat",
            "LayerNormalization"}
    default = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if default and default[0].version >= version:
        return
    ops = {n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")}
    if ops - safe:
        from onnx import version_converter

        if any(n.domain not in ("", "ai.onnx") for n in model.graph.node):
            raise OnnxUnsupported(f"cannot move ops {sorted(ops - safe)} to opset {version}")
        model.CopyFrom(version_converter.convert_version(model, version))
    else:
        default[0].version = version
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        from onnx import helper

        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
