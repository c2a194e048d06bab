"""Document tensors → a PyTorch ``state_dict`` (spec/export.md).

The layout tables are data: `mappings.json` (a copy of spec/mappings.json, which the Swift tests render from the
code's `FusedLayout` tables). `pytorch.lstm` and `pytorch.gru` are read backwards: for every source tensor of the
table, each gate's document block (``W_g = [recurrent columns | input columns]``, ``b_g``, ``bh_g``, ``W_p``) is
joined along the fused axis in the table's gate order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import json
from importlib import resources

import numpy as np

from .errors import LstmwError
from .schema import Layer



def layouts() -> Dict[str, Dict[str, Any]]:
    """Every layout table of spec/mappings.json by id (``pytorch.lstm``, ``keras.lstm…``, ``onnx.lstm`` …)."""
    text = resources.files(__package__).joinpath("mappings.json").read_text(encoding="utf-8")
    return {layout["id"]: layout for layout in json.loads(text)["layouts"]}


_LAYOUTS = layouts()
TORCH_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64"}


@dataclass
class Export:
    """The result of `export`: the ``state_dict``, the modules to build, and the notes `lstmconv export` prints."""

    state_dict: Dict[str, np.ndarray] = field(default_factory=dict)
    modules: List[Dict[str, Any]] = field(default_factory=list)
    zero_bias_hh: List[str] = field(default_factory=list)


def _refuse(layer: Layer, attribute: str, why: str) -> LstmwError:
    key = f"layer_{layer.index}/{attribute}"
    return LstmwError("notExpressible", why, key=key)


def _check_recurrent(layer: Layer, followed_by_recurrent: bool) -> None:
    a = layer.attributes
    if layer.kind == "lstm":
        if a.get("use_gate") == "document":
            raise _refuse(layer, "use_gate", "use_gate document: nn.LSTM computes h = o·tanh(c); there is no W_u, b_u")
        if a.get("peepholes", "none") != "none":
            raise _refuse(layer, "peepholes", "PyTorch has no peephole weights")
    for clip in ("cell_clip", "gate_clip", "projection_clip"):
        if clip in a:
            raise _refuse(layer, clip, f"{clip}: PyTorch does not clip")
    if a.get("forget_bias", 0.0) != 0.0:
        raise _refuse(layer, "forget_bias", "forget_bias ≠ 0: PyTorch has no run-time forget-gate constant")
    if a["activation"] != "tanh":
        raise _refuse(layer, "activation", f"activation {a['activation']}: fixed to tanh in nn.LSTM / nn.GRU")
    if a["recurrent_activation"] != "sigmoid":
        raise _refuse(layer, "recurrent_activation",
                      f"recurrent_activation {a['recurrent_activation']}: fixed to sigmoid in nn.LSTM / nn.GRU")
    if layer.kind == "gru" and a["reset"] != "after":
        raise _refuse(layer, "reset", "reset before: nn.GRU applies r after the recurrent product")
    if a["go_backwards"]:
        raise _refuse(layer, "go_backwards", "go_backwards: PyTorch has no such option")
    if a["directions"] == 2 and a["merge_mode"] != "concat":
        raise _refuse(layer, "merge_mode", f"merge_mode {a['merge_mode']}: a bidirectional module concatenates")
    if not a["return_sequences"] and followed_by_recurrent:
        raise _refuse(layer, "return_sequences", "return_sequences false before another recurrent layer: "
                      "PyTorch feeds every step to the next layer")


def _layer_dtype(ck: Any, layer: Layer) -> str:
    dtypes = {ck.dtypes[path] for path, _ in layer.expected_tensors()}
    if len(dtypes) != 1:
        raise _refuse(layer, "dtype", f"mixed dtypes {sorted(dtypes)}: a fused tensor has one dtype")
    return dtypes.pop()


def _stacks(a: Layer, b: Layer, dtype_a: str, dtype_b: str) -> bool:
    return (a.kind == b.kind and a["hidden_size"] == b["hidden_size"]
            and a["projection_size"] == b["projection_size"] and a["directions"] == b["directions"]
            and dtype_a == dtype_b)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def export(ck: Any, *, prefix: str = "", head_prefix: str = "head", embedding_prefix: str = "embedding",
           cell: bool = False, no_bias: bool = False) -> Export:
    """The checkpoint as PyTorch modules (spec/export.md); refusals raise `LstmwError` code ``notExpressible``."""
    layers: Sequence[Layer] = ck.layers
    out = Export()
    embedding: Optional[Layer] = layers[0] if layers and layers[0].kind == "embedding" else None
    recurrent: List[Layer] = []
    head: Optional[Layer] = None
    dtypes: List[str] = []
    # Refusals in layer order, as `lstmconv export` reports the first one.
    for position, layer in enumerate(layers):
        if layer.is_recurrent:
            later = layers[position + 1:]
            _check_recurrent(layer, any(other.is_recurrent for other in later))
            dtypes.append(_layer_dtype(ck, layer))
            recurrent.append(layer)
        elif layer.kind == "dense":
            if head is not None:
                raise LstmwError("notExpressible", "a second dense layer: one trailing nn.Linear is exported",
                                  key=f"layer_{layer.index}")
            head = layer
    if not recurrent:
        raise LstmwError("notExpressible", "the model has no recurrent layer: nothing to export")

    # Runs of stacking layers → one module each.
    runs: List[List[int]] = []
    for position in range(len(recurrent)):
        if runs and _stacks(recurrent[runs[-1][-1]], recurrent[position], dtypes[runs[-1][-1]], dtypes[position]):
            runs[-1].append(position)
        else:
            runs.append([position])
    if cell:
        first = recurrent[0]
        if len(recurrent) != 1 or first["directions"] != 1 or first["projection_size"] != 0:
            raise _refuse(first, "kind", "--cell needs a single one-direction layer without projection")

    if embedding is not None:
        out.state_dict[_join(embedding_prefix, "weight")] = ck.tensors[f"layer_{embedding.index}/W_e"]
        out.modules.append({"prefix": embedding_prefix, "class": "Embedding",
                            "args": {"num_embeddings": embedding["vocabulary_size"],
                                     "embedding_dim": embedding["embedding_size"]},
                            "dtype": TORCH_DTYPES[ck.dtypes[f"layer_{embedding.index}/W_e"]],
                            "layers": [embedding.index]})

    for number, run in enumerate(runs):
        module_prefix = prefix if len(runs) == 1 else _join(prefix, str(number))
        first = recurrent[run[0]]
        for k, position in enumerate(run):
            _fuse(ck, recurrent[position], k, module_prefix, cell, no_bias, out)
        kind = "LSTM" if first.kind == "lstm" else "GRU"
        if cell:
            args = {"input_size": first["input_size"], "hidden_size": first["hidden_size"], "bias": not no_bias}
            kind += "Cell"
        else:
            args = {"input_size": first["input_size"], "hidden_size": first["hidden_size"], "num_layers": len(run),
                    "bias": not no_bias, "batch_first": True, "bidirectional": first["directions"] == 2}
            if first.kind == "lstm":
                args["proj_size"] = first["projection_size"]
        last = recurrent[run[-1]]
        out.modules.append({"prefix": module_prefix, "class": kind, "args": args, "dtype": TORCH_DTYPES[dtypes[run[0]]],
                            "layers": [recurrent[p].index for p in run],
                            "output": "sequence" if last["return_sequences"] else "final_state"})

    if head is not None:
        out.state_dict[_join(head_prefix, "weight")] = ck.tensors[f"layer_{head.index}/W_d"]
        if head["use_bias"]:
            out.state_dict[_join(head_prefix, "bias")] = ck.tensors[f"layer_{head.index}/b_d"]
        dtype = ck.dtypes[f"layer_{head.index}/W_d"]
        out.modules.append({"prefix": head_prefix, "class": "Linear",
                            "args": {"in_features": head["input_size"], "out_features": head["units"],
                                     "bias": head["use_bias"]},
                            "dtype": TORCH_DTYPES[dtype], "layers": [head.index],
                            "output": "every_step" if recurrent[-1]["return_sequences"] else "final_state"})
        # A state_dict holds no activation: the head's is stated with the module (spec/export.md), for the caller to
        # apply to the nn.Linear output.
        if head["activation"] != "linear":
            activation = {"name": head["activation"]}
            if head["activation"] == "hard_sigmoid":
                activation.update(slope=head["activation_slope"], offset=head["activation_offset"])
            out.modules[-1]["activation"] = activation
    return out


def _source_name(pattern: str, k: int, backward: bool, cell: bool) -> str:
    if cell:
        return pattern.split("_l{k}")[0]
    return pattern.replace("{k}", str(k)).replace("{_reverse}", "_reverse" if backward else "")


def _fuse(ck: Any, layer: Layer, k: int, module_prefix: str, cell: bool, no_bias: bool, out: Export) -> None:
    """Disassembles one layer by the `pytorch.<cell>` table: the inverse of the importer's slicing."""
    table = _LAYOUTS[f"pytorch.{layer.kind}"]
    gates = [entry["gate"] for entry in sorted(table["gates"], key=lambda entry: entry["block"])]
    r = layer.recurrent_size
    base = f"layer_{layer.index}"
    double = layer["bias"] == "double"
    for direction in layer.direction_names:
        tensor = lambda name: ck.tensors[f"{base}/{direction}/{name}"]  # noqa: E731
        for source in table["tensors"]:
            part = source["part"]
            if part == "inputColumns":
                blocks = [tensor(f"W_{g}")[:, r:] for g in gates]
            elif part == "recurrentColumns":
                blocks = [tensor(f"W_{g}")[:, :r] for g in gates]
            elif part == "bias":
                blocks = [tensor(f"b_{g}") for g in gates]
            elif part == "secondBias":
                blocks = [tensor(f"bh_{g}") if double else np.zeros_like(tensor(f"b_{g}")) for g in gates]
            elif part == "projection":
                if layer.kind != "lstm" or layer["projection_size"] == 0:
                    continue
                blocks = [tensor("W_p")]
            else:  # a part the PyTorch tables do not use
                raise LstmwError("notExpressible", f"table {table['id']} part {part} has no export")
            if source["transform"] == "transpose":
                blocks = [block.T for block in blocks]
            fused = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=source["fused_axis"])
            name = _join(module_prefix, _source_name(source["name"], k, direction == "backward", cell))
            if part in ("bias", "secondBias"):
                if no_bias:
                    if fused.view(np.uint8).any():
                        raise _refuse(layer, "bias", "--no-bias needs every recurrent bias to be exactly zero")
                    continue
                if part == "secondBias" and not double:
                    out.zero_bias_hh.append(name)
            out.state_dict[name] = fused
