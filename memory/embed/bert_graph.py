"""Build an ONNX graph of a BERT sentence encoder straight from its safetensors weights.

The graph is the forward pass of a Hugging Face ``BertModel`` followed by
sentence-transformers' mean pooling, so ONNX Runtime can run the bundled
all-MiniLM-L6-v2 without torch. It is built from the weights with ``onnx``'s
helpers rather than traced with ``torch.onnx.export``: building takes about a
second, never imports torch, and does not depend on how a transformers release
happens to trace.

Inputs ``input_ids`` and ``attention_mask`` (int64, ``[batch, tokens]``); output
``sentence_embedding`` (float32, ``[batch, hidden]``, not yet normalised).
Token types are always 0 for a single sentence, so that row is folded into the
position table.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from memory.errors import EmbeddingError

__all__ = ["BertShape", "build_bert_graph", "read_bert_shape"]

_OPSET = 17  # first opset with LayerNormalization


class BertShape:
    """The few ``config.json`` fields the graph depends on."""

    def __init__(self, config: dict[str, Any]) -> None:
        if config.get("model_type") != "bert":
            raise EmbeddingError(f"not a BERT model: model_type={config.get('model_type')!r}")
        if config.get("hidden_act", "gelu") != "gelu":
            raise EmbeddingError(f"unsupported activation {config.get('hidden_act')!r}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise EmbeddingError("only absolute position embeddings are supported")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.pad_id = int(config.get("pad_token_id", 0))
        self.max_positions = int(config.get("max_position_embeddings", 512))


def read_bert_shape(model_dir: Path) -> BertShape:
    """The model's shape from ``<model_dir>/config.json``.

    Raises:
        EmbeddingError: the file is missing, unreadable or not a supported BERT.
    """
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"cannot read {model_dir / 'config.json'}: {exc}") from exc
    return BertShape(config)


class _Graph:
    """Collects nodes and initializers; every helper returns its output's name."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._constants: set[str] = set()
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        """An initializer; a name already added is reused (shared scalars)."""
        if name not in self._constants:
            self._constants.add(name)
            array = np.ascontiguousarray(value)
            self.initializers.append(self._numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        self._count += 1
        output = f"{op_type.lower()}_{self._count}"
        self.node(op_type, list(inputs), [output], **attributes)
        return output

    def node(self, op_type: str, inputs: list[str], outputs: list[str], **attributes: Any) -> None:
        self.nodes.append(self._helper.make_node(op_type, inputs, outputs, **attributes))

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        # torch's Linear stores [out, in]; MatMul wants [in, out].
        product = self.op("MatMul", x, self.const(f"{name}.w", weight.T.astype(np.float32)))
        return self.op("Add", product, self.const(f"{name}.b", bias.astype(np.float32)))

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], name: str, eps: float) -> str:
        scale = self.const(f"{name}.g", weights[f"{name}.weight"])
        shift = self.const(f"{name}.beta", weights[f"{name}.bias"])
        return self.op("LayerNormalization", x, scale, shift, axis=-1, epsilon=eps)


def _find_prefix(weights: dict[str, np.ndarray]) -> str:
    for key in weights:
        if key.endswith("embeddings.word_embeddings.weight"):
            return key[: -len("embeddings.word_embeddings.weight")]
    raise EmbeddingError("the weights have no embeddings.word_embeddings.weight")


def build_bert_graph(weights: dict[str, np.ndarray], shape: BertShape) -> Any:
    """The ONNX model (an ``onnx.ModelProto``): BERT forward pass plus masked mean pooling.

    Args:
        weights: the safetensors tensors of a ``BertModel`` (an optional prefix
            such as ``bert.`` is recognised).
        shape: the model's configuration.

    Raises:
        EmbeddingError: a weight is missing or has an unexpected shape.
    """
    from onnx import TensorProto, helper

    prefix = _find_prefix(weights)
    w = {key[len(prefix) :]: value for key, value in weights.items() if key.startswith(prefix)}
    head_dim = shape.hidden // shape.heads
    g = _Graph()
    try:
        hidden = _embeddings(g, w, shape)
        mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
        additive = _additive_mask(g, mask)
        for layer in range(shape.layers):
            hidden = _encoder_layer(g, w, shape, layer, hidden, additive, head_dim)
    except KeyError as exc:
        raise EmbeddingError(f"the weights have no tensor {exc}") from exc
    _mean_pool(g, hidden, mask)
    batch_tokens = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes,
        "bert_mean_pooling",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, batch_tokens),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, batch_tokens),
        ],
        [
            helper.make_tensor_value_info(
                "sentence_embedding", TensorProto.FLOAT, ["batch", shape.hidden]
            )
        ],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="zettelmem"
    )
    model.ir_version = 8  # readable by every onnxruntime since 1.14
    return model


def _embeddings(g: _Graph, w: dict[str, np.ndarray], shape: BertShape) -> str:
    words = g.op(
        "Gather", g.const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"
    )
    # Single-sentence input: token type 0 everywhere, a constant row added to each position.
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    tokens = g.op("Shape", "input_ids", start=1, end=2)
    first = g.const("zero_1d", np.array([0], dtype=np.int64))
    axis0 = g.const("axis0_1d", np.array([0], dtype=np.int64))
    used = g.op(
        "Slice", g.const("position_table", positions.astype(np.float32)), first, tokens, axis0
    )
    summed = g.op("Add", words, used)
    return g.layer_norm(summed, w, "embeddings.LayerNorm", shape.eps)


def _additive_mask(g: _Graph, mask: str) -> str:
    """``[batch, 1, 1, tokens]``: 0 where attended, the float minimum at padding (as HF)."""
    blocked = g.op("Sub", g.const("one", np.array(1.0, dtype=np.float32)), mask)
    lowest = g.const("lowest", np.array(np.finfo(np.float32).min, dtype=np.float32))
    scaled = g.op("Mul", blocked, lowest)
    return g.op("Unsqueeze", scaled, g.const("axes_1_2", np.array([1, 2], dtype=np.int64)))


def _encoder_layer(
    g: _Graph,
    w: dict[str, np.ndarray],
    shape: BertShape,
    layer: int,
    hidden: str,
    additive_mask: str,
    head_dim: int,
) -> str:
    name = f"encoder.layer.{layer}"
    attention = f"{name}.attention"
    # Q, K and V in one MatMul; the 1/sqrt(head_dim) score scale is folded into Q.
    scale = 1.0 / math.sqrt(head_dim)
    weight = np.concatenate(
        [
            w[f"{attention}.self.query.weight"] * scale,
            w[f"{attention}.self.key.weight"],
            w[f"{attention}.self.value.weight"],
        ]
    )
    bias = np.concatenate(
        [
            w[f"{attention}.self.query.bias"] * scale,
            w[f"{attention}.self.key.bias"],
            w[f"{attention}.self.value.bias"],
        ]
    )
    qkv = g.linear(hidden, weight, bias, f"{attention}.qkv")
    split = g.const(f"{name}.split", np.array([shape.hidden] * 3, dtype=np.int64))
    q, k, v = (f"{name}.{part}" for part in "qkv")
    g.node("Split", [qkv, split], [q, k, v], axis=-1)
    heads = g.const(f"{name}.heads", np.array([0, 0, shape.heads, head_dim], dtype=np.int64))
    q_heads = g.op("Transpose", g.op("Reshape", q, heads), perm=[0, 2, 1, 3])
    k_heads = g.op("Transpose", g.op("Reshape", k, heads), perm=[0, 2, 3, 1])
    v_heads = g.op("Transpose", g.op("Reshape", v, heads), perm=[0, 2, 1, 3])
    scores = g.op("Add", g.op("MatMul", q_heads, k_heads), additive_mask)
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v_heads)
    merged_shape = g.const(f"{name}.merged", np.array([0, 0, shape.hidden], dtype=np.int64))
    merged = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merged_shape)
    attended = g.linear(
        merged,
        w[f"{attention}.output.dense.weight"],
        w[f"{attention}.output.dense.bias"],
        f"{attention}.output.dense",
    )
    hidden = g.layer_norm(
        g.op("Add", attended, hidden), w, f"{attention}.output.LayerNorm", shape.eps
    )
    inner = g.linear(
        hidden,
        w[f"{name}.intermediate.dense.weight"],
        w[f"{name}.intermediate.dense.bias"],
        f"{name}.intermediate.dense",
    )
    activated = _gelu(g, inner)
    out = g.linear(
        activated,
        w[f"{name}.output.dense.weight"],
        w[f"{name}.output.dense.bias"],
        f"{name}.output.dense",
    )
    return g.layer_norm(g.op("Add", out, hidden), w, f"{name}.output.LayerNorm", shape.eps)


def _gelu(g: _Graph, x: str) -> str:
    """Exact (erf) GELU, written in the pattern ONNX Runtime fuses into one kernel."""
    root_two = g.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    one = g.const("one", np.array(1.0, dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    erf = g.op("Erf", g.op("Div", x, root_two))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, one)), half)


def _mean_pool(g: _Graph, hidden: str, mask: str) -> None:
    """Masked mean over tokens, exactly sentence-transformers' ``Pooling(mean)``."""
    axis1 = g.const("axis1_1d", np.array([1], dtype=np.int64))
    axis2 = g.const("axis2_1d", np.array([2], dtype=np.int64))
    weights = g.op("Unsqueeze", mask, axis2)
    summed = g.op("ReduceSum", g.op("Mul", hidden, weights), axis1, keepdims=0)
    counts = g.op("ReduceSum", weights, axis1, keepdims=0)
    floor = g.const("count_floor", np.array(1e-9, dtype=np.float32))
    g.node("Div", [summed, g.op("Max", counts, floor)], ["sentence_embedding"])
