"""The ONNX model of a sentence-transformers folder: built once, with no network, and cached.

1. export the transformer (a Hugging Face BertModel) with `torch.onnx.export`,
   batch and sequence axes dynamic;
2. fuse it with onnxruntime.transformers' BERT optimizer (`fuse_bert`): one
   Attention and one BiasGelu op per layer. The residual Adds and
   LayerNormalization stay apart, and the session is told not to fuse them
   (`engines.UNFUSED`): ONNX Runtime's CPU SkipLayerNormalization kernel is
   about four times slower than the three ops it replaces;
3. for int8, rewrite the graph (indexer/embedding/onnx_rewrite.py): the Q, K, V
   products taken out of each Attention op, then every product by a weight
   matrix quantized per token.

A build is cached under `cache_root()`, keyed by the model folder, RECIPE and
the tools' versions (`build_key`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from .onnx_rewrite import OnnxUnsupported, quantize_per_token, split_attention

log = logging.getLogger(__name__)

RECIPE = 4  # bump when the build changes: engines are named with it, so old vectors are never mixed with new
OPSET = 17  # torch.onnx export; onnx_rewrite raises it to 21 for per-token QuantizeLinear (block_size)
_MODEL_FILES = ("config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json",
                "1_Pooling/config.json", "model.safetensors", "pytorch_model.bin")


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
    log.warning("building the %s ONNX encoder (once, 10 to 30 s; cached in %s)...", quantization, final)
    started = time.monotonic()
    try:
        build_model(folder, staging / "model.onnx", quantization)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.warning("built the %s ONNX encoder in %.0f s", quantization, time.monotonic() - started)
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
