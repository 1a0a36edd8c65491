"""The int8 rewrite of a fused BERT graph (indexer/embedding/onnx_build.py, step 3).

`split_attention` turns each fused Attention op into three MatMuls (Q, K, V)
and a MultiHeadAttention without a padding mask, so ONNX Runtime runs its
flash-attention kernel; the mask moves into the attention scores instead.
`quantize_per_token` then turns every product by a weight matrix into int8
weights per output column times uint8 activations per token, computed on the
fly: one activation scale per batch, as in ONNX Runtime's stock dynamic
quantization, loses accuracy, as BERT has outlier channels and a scale wide
enough for them leaves ordinary tokens a few levels.
"""

from __future__ import annotations

import numpy as np

WEIGHT_LEVELS = 127  # int8 weights in [-127, 127]
MASK_SCORE = -30000.0  # a padded key's score before the softmax scale: exp() of it is 0 in float32
GELU_OPS = ("BiasGelu", "Gelu", "FastGelu")
GELU_FLOOR = 0.17  # GELU's minimum is -0.16997 (at x = -0.75)
GELU_ZERO_POINT = 24  # uint8 zero point of GELU outputs (calibrated: 19-26 by layer on briefing passages)


class OnnxUnsupported(Exception):
    """This model or machine cannot use the ONNX engine; the caller falls back to torch."""


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

    by_input, quantized = _quantized_weights(targets, weights, producers, weight_levels)
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


def _quantized_weights(targets: list, weights: dict, producers: dict, weight_levels: int) -> tuple[dict, dict]:
    """The target MatMuls grouped by input, and per input (K, extra zero-point rows, each MatMul's
    quantized weight, whether a GELU made the input)."""
    from onnx import numpy_helper

    by_input: dict[str, list] = {}
    for node in targets:
        by_input.setdefault(node.input[0], []).append(node)
    quantized = {}
    for x, group in by_input.items():
        parts = [_quantize_weight(numpy_helper.to_array(weights[n.input[1]]), weight_levels) for n in group]
        gelu = producers.get(x) in GELU_OPS
        extra = 0 if gelu else max(1, max(_rows_for(colsum) for _, _, colsum in parts))
        quantized[x] = (weights[group[0].input[1]].dims[0], extra, parts, gelu)
    return by_input, quantized


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
