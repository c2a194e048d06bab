"""The logical model of spec/README.md §2–§4: typed attributes, the tensors a layer needs, validation.

Both encodings hand this module the same thing: the root attributes, one attribute dictionary per layer
and the set of stored tensor paths with their shapes. It rebuilds the layers or raises `ModelError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .errors import ModelError

FORMAT_NAME = "lstmconv"
FORMAT_MAJOR = 1
FORMAT_MINOR = 0
# The newest schema this reader understands (README §1): 2 adds the `rnn` kind, `final_output`, the masking keys,
# `time_major` and `stateful`; schema-1 files are read as before.
SCHEMA_VERSION = 2
MAX_LAYERS = 64
MAX_SIZE = 1 << 20

ROOT_KEYS = (
    "format", "format_major", "format_minor", "schema_version", "layer_count",
    "provenance.source_framework", "provenance.source_framework_version", "provenance.source_layout",
    "provenance.source_sha256", "provenance.converter",
)

KINDS = ("embedding", "lstm", "gru", "rnn", "dense")
FINAL_OUTPUTS = ("final_state", "last_step")
MASKED_OUTPUTS = ("previous", "zero")
ACTIVATIONS = ("linear", "tanh", "sigmoid", "relu", "softmax", "hard_sigmoid")
MERGE_MODES = ("none", "concat", "sum", "mul", "ave")
BIASES = ("single", "double")
USE_GATES = ("standard", "document")
PEEPHOLES = ("none", "diagonal", "full")
RESETS = ("before", "after")
DIRECTIONS = ("forward", "backward")

# Python type of each schema type (bool is checked before int: bool is a subclass of int).
TYPE_NAMES = {bool: "bool", int: "int", float: "double", str: "string"}


def type_name(value: Any) -> str:
    for python_type, name in TYPE_NAMES.items():
        if type(value) is python_type:
            return name
    return type(value).__name__


@dataclass
class Layer:
    """One layer: its kind and every attribute as the spec names it (``hidden_size``, ``use_gate`` …)."""

    index: int
    kind: str
    attributes: Dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.attributes[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)

    @property
    def is_recurrent(self) -> bool:
        return self.kind in ("lstm", "gru", "rnn")

    @property
    def directions(self) -> int:
        return int(self.attributes.get("directions", 1))

    @property
    def direction_names(self) -> Tuple[str, ...]:
        return DIRECTIONS[: self.directions]

    @property
    def recurrent_size(self) -> int:
        """R: the width of STM_{t-1} (P with projection, else H)."""
        projection = int(self.attributes.get("projection_size", 0))
        return projection if projection > 0 else int(self.attributes["hidden_size"])

    @property
    def output_size(self) -> int:
        if self.kind == "embedding":
            return int(self.attributes["embedding_size"])
        if self.kind == "dense":
            return int(self.attributes["units"])
        width = self.recurrent_size
        return width * 2 if self.directions == 2 and self.attributes.get("merge_mode") == "concat" else width

    @property
    def input_size(self) -> Optional[int]:
        value = self.attributes.get("input_size")
        return None if value is None else int(value)

    def expected_tensors(self) -> List[Tuple[str, Tuple[int, ...]]]:
        """The stored tensors of this layer in canonical order (spec/binary.md §5), with their shapes."""
        a = self.attributes
        prefix = f"layer_{self.index}"
        if self.kind == "embedding":
            return [(f"{prefix}/W_e", (a["vocabulary_size"], a["embedding_size"]))]
        if self.kind == "dense":
            out = [(f"{prefix}/W_d", (a["units"], a["input_size"]))]
            if a["use_bias"]:
                out.append((f"{prefix}/b_d", (a["units"],)))
            return out
        hidden, inputs, recurrent = a["hidden_size"], a["input_size"], self.recurrent_size
        out: List[Tuple[str, Tuple[int, ...]]] = []
        for direction in self.direction_names:
            names: List[Tuple[str, Tuple[int, ...]]] = []
            matrix = (hidden, recurrent + inputs)
            if self.kind == "lstm":
                names += [("W_n", matrix), ("b_n", (hidden,)), ("W_i", matrix), ("b_i", (hidden,)),
                          ("W_f", matrix), ("b_f", (hidden,))]
                if a.get("use_gate") == "document":
                    names += [("W_u", (hidden, hidden)), ("b_u", (hidden,))]
                names += [("W_v", matrix), ("b_v", (hidden,))]
                if a["bias"] == "double":
                    names += [(f"bh_{g}", (hidden,)) for g in ("n", "i", "f", "v")]
                peepholes = a.get("peepholes", "none")
                if peepholes != "none":
                    shape = (hidden,) if peepholes == "diagonal" else (hidden, hidden)
                    names += [(f"P_{g}", shape) for g in ("i", "f", "v")]
                if a.get("projection_size", 0) > 0:
                    names.append(("W_p", (a["projection_size"], hidden)))
            elif self.kind == "rnn":
                names += [("W_s", matrix), ("b_s", (hidden,))]
                if a["bias"] == "double":
                    names.append(("bh_s", (hidden,)))
            else:
                names += [("W_z", matrix), ("b_z", (hidden,)), ("W_r", matrix), ("b_r", (hidden,)),
                          ("W_c", matrix), ("b_c", (hidden,))]
                if a["bias"] == "double":
                    names += [(f"bh_{g}", (hidden,)) for g in ("z", "r", "c")]
            out += [(f"{prefix}/{direction}/{name}", tuple(int(d) for d in shape)) for name, shape in names]
        return out


# (key, type, allowed values or None, required) per kind, in the order of spec/README.md §2.2.
_RECURRENT_HEAD = [
    ("input_size", int, None, True), ("hidden_size", int, None, True), ("projection_size", int, None, True),
    ("directions", int, None, True), ("merge_mode", str, MERGE_MODES, True),
    ("return_sequences", bool, None, True), ("go_backwards", bool, None, True),
    ("activation", str, ACTIVATIONS, True), ("recurrent_activation", str, ACTIVATIONS, True),
    ("bias", str, BIASES, True),
]
# Optional keys of every recurrent kind (schema 2), after the kind's own keys.
_RECURRENT_TAIL = [
    ("final_output", str, FINAL_OUTPUTS, False), ("mask_value", float, None, False),
    ("masked_output", str, MASKED_OUTPUTS, False), ("time_major", bool, None, False), ("stateful", bool, None, False),
]
LAYER_KEYS: Dict[str, List[Tuple[str, type, Optional[Tuple[str, ...]], bool]]] = {
    "embedding": [("vocabulary_size", int, None, True), ("embedding_size", int, None, True),
                  ("mask_zero", bool, None, False)],
    "dense": [("input_size", int, None, True), ("units", int, None, True),
              ("activation", str, ACTIVATIONS, True), ("use_bias", bool, None, True)],
    "lstm": _RECURRENT_HEAD + [
        ("use_gate", str, USE_GATES, True), ("peepholes", str, PEEPHOLES, True),
        ("cell_clip", float, None, False), ("projection_clip", float, None, False),
        ("forget_bias", float, None, True), ("gate_clip", float, None, False),
    ] + _RECURRENT_TAIL,
    "gru": _RECURRENT_HEAD + [
        # LSTM-only keys (use_gate, peepholes, clips, forget_bias) are unknown keys on a GRU: ignored (README §2.2).
        ("reset", str, RESETS, True), ("gate_clip", float, None, False),
    ] + _RECURRENT_TAIL,
    # The plain RNN has no gates: no recurrent_activation.
    "rnn": [entry for entry in _RECURRENT_HEAD if entry[0] != "recurrent_activation"] + [
        ("gate_clip", float, None, False),
    ] + _RECURRENT_TAIL,
}


def _typed(attributes: Mapping[str, Any], key: str, expected: type, required: bool, shown: str) -> Any:
    if key not in attributes:
        if required:
            raise ModelError("missingAttribute", f"attribute {shown} is missing", key=shown,
                             expected=TYPE_NAMES[expected])
        return None
    value = attributes[key]
    if type(value) is not expected:
        raise ModelError("wrongAttributeType", f"attribute {shown} has the wrong type", key=shown,
                         expected=TYPE_NAMES[expected], found=type_name(value))
    return value


def _layer_key(index: int, key: str, style: str) -> str:
    return f"layer.{index}.{key}" if style == "binary" else f"layer_{index}/{key}"


def read_layers(root: Mapping[str, Any], layer_attributes: Sequence[Mapping[str, Any]], style: str) -> List[Layer]:
    """Typed attribute lookups (README §2): `layer_attributes[k]` are layer k's attributes (without prefix).

    `style` names keys in errors as the encoding does (``binary``: ``layer.0.kind``; ``hdf5``: ``layer_0/kind``).
    """
    count = _typed(root, "layer_count", int, True, "layer_count")
    if not 1 <= count <= MAX_LAYERS:
        raise ModelError("invalidAttributeValue", f"layer_count must be 1…{MAX_LAYERS}", key="layer_count",
                         expected=f"1…{MAX_LAYERS}", found=str(count))
    for key in ROOT_KEYS[5:]:
        _typed(root, key, str, True, key)
    layers = []
    for index in range(count):
        attributes = layer_attributes[index] if index < len(layer_attributes) else {}
        shown = lambda key: _layer_key(index, key, style)  # noqa: E731
        kind = _typed(attributes, "kind", str, True, shown("kind"))
        if kind not in KINDS:
            raise ModelError("invalidAttributeValue", f"unknown layer kind {kind!r}", key=shown("kind"),
                             expected=", ".join(KINDS), found=kind)
        values: Dict[str, Any] = {"kind": kind}
        for key, expected, allowed, required in LAYER_KEYS[kind]:
            value = _typed(attributes, key, expected, required, shown(key))
            if value is None:
                continue
            if allowed is not None and value not in allowed:
                raise ModelError("invalidAttributeValue", f"{value!r} is not a valid {key}", key=shown(key),
                                 expected=", ".join(allowed), found=value)
            if expected is int and key != "directions" and not 0 <= value <= MAX_SIZE:
                raise ModelError("invalidAttributeValue", f"{value} is outside 0…{MAX_SIZE}", key=shown(key),
                                 expected=f"0…{MAX_SIZE}", found=str(value))
            if key == "directions" and value not in (1, 2):
                raise ModelError("invalidAttributeValue", f"directions must be 1 or 2, found {value}",
                                 key=shown(key), expected="1 or 2", found=str(value))
            values[key] = value
            if key in ("activation", "recurrent_activation") and value == "hard_sigmoid":
                for suffix in ("slope", "offset"):
                    extra = f"{key}_{suffix}"
                    values[extra] = _typed(attributes, extra, float, True, shown(extra))
        layers.append(Layer(index=index, kind=kind, attributes=values))
    return layers


def check_tensors(layers: Sequence[Layer], stored: Mapping[str, Tuple[int, ...]], style: str,
                  load: Optional[Callable[[str, Tuple[int, ...]], None]] = None) -> List[str]:
    """Tensor presence and shapes; returns the canonical order of the stored tensors.

    `load(path, shape)` (HDF5) reads one present tensor before its shape is compared; it checks the shape itself
    before it reads any data.
    """
    expected_tensors = [item for layer in layers for item in layer.expected_tensors()]
    expected = {path for path, _ in expected_tensors}
    for path in stored:
        if path not in expected:
            raise ModelError("unexpectedTensor", f"tensor {path} is not used by the model", tensor=path,
                             expected="absent", found=_shape(tuple(stored[path])))
    canonical: List[str] = []
    for path, shape in expected_tensors:
        if path not in stored:
            raise ModelError("missingTensor", f"tensor {path} is missing", tensor=path,
                             expected=_shape(shape), found="absent")
        if load is not None:
            load(path, shape)
        found = tuple(stored[path])
        if found != shape:
            raise ModelError("shapeMismatch", f"tensor {path} has the wrong shape", tensor=path,
                             expected=_shape(shape), found=_shape(found))
        canonical.append(path)
    return canonical


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _invalid(message: str, key: str, expected: Optional[str] = None, found: Any = None) -> ModelError:
    return ModelError("invalidHyperparameter", message, key=key, expected=expected,
                      found=None if found is None else str(found))


def validate(layers: Sequence[Layer], style: str) -> None:
    """`Model.validate()`: README §4, every rule after typing and tensors."""
    previous: Optional[Layer] = None
    for layer in layers:
        a = layer.attributes
        shown = lambda key: _layer_key(layer.index, key, style)  # noqa: E731
        size_keys = {"embedding": ("vocabulary_size", "embedding_size"), "dense": ("input_size", "units")}.get(
            layer.kind, ("input_size", "hidden_size"))
        for key in size_keys:
            if not 1 <= a[key] <= MAX_SIZE:
                raise _invalid(f"{key} must be 1…2^20", shown(key), "1…1048576", a[key])
        if layer.kind == "embedding" and layer.index != 0:
            raise _invalid("an embedding layer must be the first layer", shown("kind"), "first", layer.index)
        if previous is not None and previous.kind == "dense" and layer.kind != "dense":
            raise _invalid("a dense layer may only be followed by dense layers", shown("kind"), "dense", layer.kind)
        if previous is not None and layer.kind != "embedding" and a["input_size"] != previous.output_size:
            raise _invalid("input_size differs from the previous layer's output size", shown("input_size"),
                           str(previous.output_size), a["input_size"])
        for key in ("activation", "recurrent_activation"):
            if a.get(key) == "hard_sigmoid":
                slope, offset = a[f"{key}_slope"], a[f"{key}_offset"]
                if not (math.isfinite(slope) and slope > 0 and math.isfinite(offset)):
                    raise _invalid("hard_sigmoid needs a finite positive slope and a finite offset",
                                   shown(f"{key}_slope"), "finite, > 0", f"{slope}, {offset}")
        if layer.is_recurrent:
            projection = a["projection_size"]
            if projection < 0 or projection > MAX_SIZE:
                raise _invalid("projection_size must be 0…2^20", shown("projection_size"), "0…1048576", projection)
            if a["directions"] not in (1, 2):
                raise _invalid("directions must be 1 or 2", shown("directions"), "1 or 2", a["directions"])
            if a["directions"] == 2 and a["merge_mode"] == "none":
                raise _invalid("a bidirectional layer needs a merge mode", shown("merge_mode"),
                               "concat, sum, mul, ave", "none")
            if a["directions"] == 1 and a["merge_mode"] != "none":
                raise _invalid("a one-direction layer has no merge mode", shown("merge_mode"), "none", a["merge_mode"])
            for key in ("activation", "recurrent_activation"):
                if a.get(key) == "softmax":
                    raise _invalid("softmax is not a recurrent activation", shown(key), "not softmax", "softmax")
            for key in ("cell_clip", "projection_clip", "gate_clip"):
                if key in a and not (math.isfinite(a[key]) and a[key] > 0):
                    raise _invalid(f"{key} must be finite and positive", shown(key), "finite, > 0", a[key])
            if "forget_bias" in a and not math.isfinite(a["forget_bias"]):
                raise _invalid("forget_bias must be finite", shown("forget_bias"), "finite", a["forget_bias"])
            if "mask_value" in a and (layer.index != 0 or not math.isfinite(a["mask_value"])):
                raise _invalid("mask_value is only valid, and finite, on the first layer", shown("mask_value"),
                               "finite, layer 0", a["mask_value"])
            if a.get("time_major") and layer.index != 0:
                raise _invalid("time_major is only valid on the first layer", shown("time_major"), "layer 0", True)
            if layer.kind == "rnn" and projection != 0:
                raise _invalid("a plain RNN has no projection", shown("projection_size"), "0", projection)
            if layer.kind == "gru":
                if projection != 0:
                    raise _invalid("a GRU has no projection", shown("projection_size"), "0", projection)
                if a["reset"] == "after" and a["bias"] != "double":
                    raise _invalid("a reset-after GRU needs two biases", shown("bias"), "double", a["bias"])
        previous = layer
