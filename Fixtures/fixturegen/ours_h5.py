"""A second, independent writer (and a strict reader) of lstmconv's HDF5 encoding, built on h5py.

Follows spec/hdf5.md and Sources/LSTMModel/Schema.swift + TensorRole.swift (format 1.0, schema 1):

* root attributes, in this order: format, format_major, format_minor, schema_version, layer_count,
  provenance.source_framework, provenance.source_framework_version, provenance.source_layout,
  provenance.source_sha256, provenance.converter, then `about` (ignored by readers);
* one group `layer_<k>` per layer with the layer attributes in canonical order; recurrent layers hold one
  group per direction (`forward`, then `backward`) with datasets named as the document tensors; embedding
  and dense datasets (`W_e`, `W_d`, `b_d`) live in the layer group;
* attribute types: int → scalar H5T_STD_I64LE, double → scalar H5T_IEEE_F64LE, bool → scalar H5T_STD_U8LE
  (0/1), string → scalar variable-length UTF-8;
* datasets: C order, contiguous, little-endian IEEE (f32, f64, f16, and a 2-byte bf16 float type with sign
  bit 15, exponent bits 7–14, bias 127, mantissa bits 0–6); attributes `dtype` (f32|f16|bf16|f64), `crc32`
  (scalar H5T_STD_U32LE, zlib CRC-32 of the tensor's little-endian bytes) and `source` (string).

Layers are the dicts of numpy_reference.py, plus "sources" (per direction for recurrent layers).
"""

from __future__ import annotations

import os
import zlib

import h5py
import numpy as np

try:  # bfloat16 arrays; optional so that reading and checking works with only numpy + h5py (as in CI)
    import ml_dtypes
except ImportError:  # pragma: no cover
    ml_dtypes = None

FORMAT_NAME = "lstmconv"
FORMAT_MAJOR = 1
FORMAT_MINOR = 0
SCHEMA_VERSION = 1

BF16 = np.dtype(ml_dtypes.bfloat16) if ml_dtypes else None

# TensorRole declaration order (canonical order).
ROLE_ORDER = [
    "W_n", "b_n", "W_i", "b_i", "W_f", "b_f", "W_u", "b_u", "W_v", "b_v",
    "bh_n", "bh_i", "bh_f", "bh_v", "P_i", "P_f", "P_v", "W_p",
    "W_z", "b_z", "W_r", "b_r", "W_c", "b_c", "bh_z", "bh_r", "bh_c",
    "W_e", "W_d", "b_d",
]

DIRECTION_NAMES = ["forward", "backward"]


# ---------------------------------------------------------------------------------------------------------
# Layer constructors (hyperparameters as the schema names them)


def lstm_layer(input_size, hidden_size, directions, *, sources=None, projection_size=None, merge_mode=None,
               return_sequences=False, go_backwards=False, activation=("tanh",), recurrent_activation=("sigmoid",),
               bias="single", use_gate="standard", peepholes="none", cell_clip=None, projection_clip=None,
               forget_bias=0.0):
    return {
        "kind": "lstm", "input_size": input_size, "hidden_size": hidden_size,
        "projection_size": projection_size or 0, "directions": directions,
        "merge_mode": merge_mode or "none", "return_sequences": return_sequences, "go_backwards": go_backwards,
        "activation": tuple(activation), "recurrent_activation": tuple(recurrent_activation), "bias": bias,
        "use_gate": use_gate, "peepholes": peepholes, "cell_clip": cell_clip, "projection_clip": projection_clip,
        "forget_bias": float(forget_bias), "gate_clip": None,
        "sources": sources or [{} for _ in directions],
    }


def gru_layer(input_size, hidden_size, directions, *, sources=None, merge_mode=None, return_sequences=False,
              go_backwards=False, activation=("tanh",), recurrent_activation=("sigmoid",), bias="double",
              reset="after"):
    return {
        "kind": "gru", "input_size": input_size, "hidden_size": hidden_size, "projection_size": 0,
        "directions": directions, "merge_mode": merge_mode or "none", "return_sequences": return_sequences,
        "go_backwards": go_backwards, "activation": tuple(activation),
        "recurrent_activation": tuple(recurrent_activation), "bias": bias, "reset": reset, "gate_clip": None,
        "use_gate": "standard", "peepholes": "none",
        "sources": sources or [{} for _ in directions],
    }


def dense_layer(W_d, b_d=None, *, activation=("linear",), sources=None):
    tensors = {"W_d": W_d}
    if b_d is not None:
        tensors["b_d"] = b_d
    return {
        "kind": "dense", "input_size": int(W_d.shape[1]), "units": int(W_d.shape[0]),
        "activation": tuple(activation), "use_bias": b_d is not None, "tensors": tensors,
        "sources": sources or {},
    }


def embedding_layer(W_e, *, sources=None):
    return {
        "kind": "embedding", "vocabulary_size": int(W_e.shape[0]), "embedding_size": int(W_e.shape[1]),
        "tensors": {"W_e": W_e}, "sources": sources or {},
    }


def output_size(layer):
    kind = layer["kind"]
    if kind == "embedding":
        return layer["embedding_size"]
    if kind == "dense":
        return layer["units"]
    r = layer["projection_size"] or layer["hidden_size"]
    if len(layer["directions"]) == 2 and layer["merge_mode"] == "concat":
        return 2 * r
    return r


# ---------------------------------------------------------------------------------------------------------
# Schema: canonical attributes and expected tensors (mirrors Schema.swift / TensorRole.swift)


def _activation_attrs(activation, key):
    out = [(key, "string", activation[0])]
    if activation[0] == "hard_sigmoid":
        out.append((key + "_slope", "double", float(activation[1])))
        out.append((key + "_offset", "double", float(activation[2])))
    return out


def layer_attributes(layer):
    """The layer's attributes in canonical order as (key, schema type, value)."""
    kind = layer["kind"]
    attrs = [("kind", "string", kind)]
    if kind == "embedding":
        attrs += [("vocabulary_size", "int", layer["vocabulary_size"]), ("embedding_size", "int", layer["embedding_size"])]
    elif kind == "dense":
        attrs += [("input_size", "int", layer["input_size"]), ("units", "int", layer["units"])]
        attrs += _activation_attrs(layer["activation"], "activation")
        attrs.append(("use_bias", "bool", layer["use_bias"]))
    else:
        attrs += [
            ("input_size", "int", layer["input_size"]),
            ("hidden_size", "int", layer["hidden_size"]),
            ("projection_size", "int", layer["projection_size"] or 0),
            ("directions", "int", len(layer["directions"])),
            ("merge_mode", "string", layer["merge_mode"]),
            ("return_sequences", "bool", layer["return_sequences"]),
            ("go_backwards", "bool", layer["go_backwards"]),
        ]
        attrs += _activation_attrs(layer["activation"], "activation")
        attrs += _activation_attrs(layer["recurrent_activation"], "recurrent_activation")
        attrs.append(("bias", "string", layer["bias"]))
        if kind == "lstm":
            attrs.append(("use_gate", "string", layer["use_gate"]))
            attrs.append(("peepholes", "string", layer["peepholes"]))
            if layer.get("cell_clip") is not None:
                attrs.append(("cell_clip", "double", float(layer["cell_clip"])))
            if layer.get("projection_clip") is not None:
                attrs.append(("projection_clip", "double", float(layer["projection_clip"])))
            attrs.append(("forget_bias", "double", float(layer["forget_bias"])))
        else:
            attrs.append(("reset", "string", layer["reset"]))
        if layer.get("gate_clip") is not None:
            attrs.append(("gate_clip", "double", float(layer["gate_clip"])))
    return attrs


def expected_tensors(layer):
    """(role, shape) pairs one direction (or the layer) must hold, in canonical order."""
    kind = layer["kind"]
    if kind == "embedding":
        return [("W_e", (layer["vocabulary_size"], layer["embedding_size"]))]
    if kind == "dense":
        out = [("W_d", (layer["units"], layer["input_size"]))]
        if layer["use_bias"]:
            out.append(("b_d", (layer["units"],)))
        return out
    h = layer["hidden_size"]
    r = layer["projection_size"] or h
    cols = r + layer["input_size"]
    out = []
    if kind == "lstm":
        out += [("W_n", (h, cols)), ("b_n", (h,)), ("W_i", (h, cols)), ("b_i", (h,)), ("W_f", (h, cols)), ("b_f", (h,))]
        if layer["use_gate"] == "document":
            out += [("W_u", (h, h)), ("b_u", (h,))]
        out += [("W_v", (h, cols)), ("b_v", (h,))]
        if layer["bias"] == "double":
            out += [("bh_n", (h,)), ("bh_i", (h,)), ("bh_f", (h,)), ("bh_v", (h,))]
        if layer["peepholes"] == "diagonal":
            out += [("P_i", (h,)), ("P_f", (h,)), ("P_v", (h,))]
        elif layer["peepholes"] == "full":
            out += [("P_i", (h, h)), ("P_f", (h, h)), ("P_v", (h, h))]
        if layer["projection_size"]:
            out.append(("W_p", (layer["projection_size"], h)))
    else:
        out += [("W_z", (h, cols)), ("b_z", (h,)), ("W_r", (h, cols)), ("b_r", (h,)), ("W_c", (h, cols)), ("b_c", (h,))]
        if layer["bias"] == "double":
            out += [("bh_z", (h,)), ("bh_r", (h,)), ("bh_c", (h,))]
    return out


def validate(model):
    """Checks chaining, required/extra tensors and shapes, like Model.validate()."""
    previous = None
    for index, layer in enumerate(model["layers"]):
        where = f"layer_{index}"
        if previous is not None:
            if layer["kind"] == "embedding":
                raise ValueError(f"{where}: embedding may only be first")
            if layer["input_size"] != previous:
                raise ValueError(f"{where}: input_size {layer['input_size']} != previous output {previous}")
        if layer["kind"] in ("lstm", "gru"):
            sets = layer["directions"]
            if len(sets) not in (1, 2):
                raise ValueError(f"{where}: directions")
            if (len(sets) == 2) != (layer["merge_mode"] != "none"):
                raise ValueError(f"{where}: merge_mode vs directions")
            if layer["kind"] == "gru" and layer["reset"] == "after" and layer["bias"] != "double":
                raise ValueError(f"{where}: reset-after GRU needs double bias")
        else:
            sets = [layer["tensors"]]
        expected = expected_tensors(layer)
        for tensors in sets:
            roles = {role for role, _ in expected}
            extra = set(tensors) - roles
            if extra:
                raise ValueError(f"{where}: unexpected tensors {sorted(extra)}")
            for role, shape in expected:
                if role not in tensors:
                    raise ValueError(f"{where}: missing {role}")
                if tuple(tensors[role].shape) != tuple(shape):
                    raise ValueError(f"{where}/{role}: shape {tensors[role].shape} != {shape}")
        previous = output_size(layer)


# ---------------------------------------------------------------------------------------------------------
# Writing


def dtype_name(array):
    dt = np.asarray(array).dtype
    if dt == np.float32:
        return "f32"
    if dt == np.float64:
        return "f64"
    if dt == np.float16:
        return "f16"
    if BF16 is not None and dt == BF16:
        return "bf16"
    raise TypeError(f"unsupported tensor dtype {dt}")


def little_endian_bytes(array):
    """The tensor's bytes as the format stores them: little-endian, C order."""
    array = np.ascontiguousarray(array)
    if BF16 is not None and array.dtype == BF16:
        return array.view(np.uint16).astype("<u2").tobytes()
    return array.astype(array.dtype.newbyteorder("<")).tobytes()


def crc32(array):
    return zlib.crc32(little_endian_bytes(array)) & 0xFFFFFFFF


def _bf16_h5type():
    t = h5py.h5t.IEEE_F32LE.copy()
    t.set_fields(15, 7, 8, 0, 7)  # sign bit 15, exponent bits 7–14, mantissa bits 0–6
    t.set_offset(0)
    t.set_precision(16)
    t.set_size(2)
    t.set_ebias(127)
    return t


_STRING = h5py.string_dtype("utf-8")


def _set_attr(obj, key, kind, value):
    if kind == "int":
        obj.attrs.create(key, np.int64(value), dtype="<i8")
    elif kind == "double":
        obj.attrs.create(key, np.float64(value), dtype="<f8")
    elif kind == "bool":
        obj.attrs.create(key, np.uint8(1 if value else 0), dtype="<u1")
    elif kind == "string":
        obj.attrs.create(key, str(value), dtype=_STRING)
    elif kind == "u32":
        obj.attrs.create(key, np.uint32(value), dtype="<u4")
    else:
        raise ValueError(kind)


def _write_tensor(group, name, array, source):
    array = np.ascontiguousarray(array)
    kind = dtype_name(array)
    if kind == "bf16":
        h5type = _bf16_h5type()
        space = h5py.h5s.create_simple(array.shape)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_obj_track_times(False)  # no timestamps: same input, same bytes
        dataset_id = h5py.h5d.create(group.id, name.encode(), h5type, space, dcpl=dcpl)
        dataset_id.write(h5py.h5s.ALL, h5py.h5s.ALL, array.view(np.uint16), mtype=h5type)
        dataset = h5py.Dataset(dataset_id)
    else:
        le = {"f32": "<f4", "f64": "<f8", "f16": "<f2"}[kind]
        dataset = group.create_dataset(name, data=array.astype(le), dtype=le, track_times=False)
    _set_attr(dataset, "dtype", "string", kind)
    _set_attr(dataset, "crc32", "u32", crc32(array))
    _set_attr(dataset, "source", "string", source or "")


def write_model(path, model, provenance, about="", overwrite=True):
    """Writes `model` in our HDF5 encoding to `path` (temporary file + rename)."""
    validate(model)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(path)
    tmp = str(path) + ".tmp"
    with h5py.File(tmp, "w", track_order=False) as f:
        root = [
            ("format", "string", FORMAT_NAME),
            ("format_major", "int", FORMAT_MAJOR),
            ("format_minor", "int", FORMAT_MINOR),
            ("schema_version", "int", SCHEMA_VERSION),
            ("layer_count", "int", len(model["layers"])),
            ("provenance.source_framework", "string", provenance["source_framework"]),
            ("provenance.source_framework_version", "string", provenance["source_framework_version"]),
            ("provenance.source_layout", "string", provenance["source_layout"]),
            ("provenance.source_sha256", "string", provenance.get("source_sha256", "")),
            ("provenance.converter", "string", provenance["converter"]),
            ("about", "string", about),
        ]
        for key, kind, value in root:
            _set_attr(f, key, kind, value)
        for index, layer in enumerate(model["layers"]):
            group = f.create_group(f"layer_{index}")
            for key, kind, value in layer_attributes(layer):
                _set_attr(group, key, kind, value)
            expected = expected_tensors(layer)
            if layer["kind"] in ("lstm", "gru"):
                for d, tensors in enumerate(layer["directions"]):
                    sub = group.create_group(DIRECTION_NAMES[d])
                    sources = layer["sources"][d]
                    for role, _ in expected:
                        _write_tensor(sub, role, tensors[role], sources.get(role, ""))
            else:
                for role, _ in expected:
                    _write_tensor(group, role, layer["tensors"][role], layer["sources"].get(role, ""))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------------------
# Strict reading (used to verify what we wrote, through the numpy reference)


def _read_attr(obj, key, kind, where):
    if key not in obj.attrs:
        raise ValueError(f"{where}: missing attribute {key}")
    attr_id = h5py.h5a.open(obj.id, key.encode())
    t = attr_id.get_type()
    space = attr_id.get_space()
    if space.get_simple_extent_type() != h5py.h5s.SCALAR:
        raise ValueError(f"{where}/{key}: not scalar")
    cls, size = t.get_class(), t.get_size()
    if kind == "string":
        ok = cls == h5py.h5t.STRING and t.is_variable_str() and t.get_cset() == h5py.h5t.CSET_UTF8
    elif kind == "int":
        ok = cls == h5py.h5t.INTEGER and size == 8 and t.get_sign() == h5py.h5t.SGN_2 and t.get_order() == h5py.h5t.ORDER_LE
    elif kind == "u32":
        ok = cls == h5py.h5t.INTEGER and size == 4 and t.get_sign() == h5py.h5t.SGN_NONE and t.get_order() == h5py.h5t.ORDER_LE
    elif kind == "bool":
        ok = cls == h5py.h5t.INTEGER and size == 1 and t.get_sign() == h5py.h5t.SGN_NONE
    elif kind == "double":
        ok = cls == h5py.h5t.FLOAT and size == 8 and t.get_order() == h5py.h5t.ORDER_LE
    else:
        raise ValueError(kind)
    if not ok:
        raise ValueError(f"{where}/{key}: wrong HDF5 type for {kind}")
    value = obj.attrs[key]
    if kind == "string":
        return value.decode() if isinstance(value, bytes) else str(value)
    if kind == "bool":
        if int(value) not in (0, 1):
            raise ValueError(f"{where}/{key}: bool not 0/1")
        return bool(value)
    if kind == "double":
        return float(value)
    return int(value)


def _read_tensor(dataset, where):
    kind = _read_attr(dataset, "dtype", "string", where)
    t = dataset.id.get_type()
    if t.get_class() != h5py.h5t.FLOAT or t.get_order() != h5py.h5t.ORDER_LE:
        raise ValueError(f"{where}: not a little-endian float dataset")
    fields = (t.get_size(), t.get_fields(), t.get_ebias())
    want = {
        "f32": (4, (31, 23, 8, 0, 23), 127),
        "f64": (8, (63, 52, 11, 0, 52), 1023),
        "f16": (2, (15, 10, 5, 0, 10), 15),
        "bf16": (2, (15, 7, 8, 0, 7), 127),
    }[kind]
    if fields != want:
        raise ValueError(f"{where}: HDF5 float type {fields} does not match dtype attribute {kind}")
    if dataset.chunks is not None:
        raise ValueError(f"{where}: expected contiguous layout")
    if kind == "bf16":
        raw = np.empty(dataset.shape, dtype=np.uint16)
        dataset.id.read(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=t)
        checksum = zlib.crc32(raw.astype("<u2").tobytes()) & 0xFFFFFFFF
        # Without ml_dtypes, widen exactly to float32 (bf16 bits are the top half of a float32).
        array = raw.view(BF16) if BF16 is not None else (raw.astype(np.uint32) << 16).view(np.float32)
    else:
        array = dataset[()].astype({"f32": np.float32, "f64": np.float64, "f16": np.float16}[kind])
        checksum = crc32(array)
    stored = _read_attr(dataset, "crc32", "u32", where)
    if stored != checksum:
        raise ValueError(f"{where}: crc32 mismatch")
    return array, _read_attr(dataset, "source", "string", where)


def read_model(path):
    """Reads and checks a file in our HDF5 encoding; returns (model, provenance)."""
    with h5py.File(path, "r") as f:
        if _read_attr(f, "format", "string", "/") != FORMAT_NAME:
            raise ValueError("not an lstmconv file")
        if _read_attr(f, "format_major", "int", "/") != FORMAT_MAJOR:
            raise ValueError("unsupported major")
        _read_attr(f, "format_minor", "int", "/")
        _read_attr(f, "schema_version", "int", "/")
        count = _read_attr(f, "layer_count", "int", "/")
        provenance = {
            key: _read_attr(f, "provenance." + key, "string", "/")
            for key in ("source_framework", "source_framework_version", "source_layout", "source_sha256", "converter")
        }
        layers = []
        for index in range(count):
            group = f[f"layer_{index}"]
            where = f"layer_{index}"
            kind = _read_attr(group, "kind", "string", where)

            def act(key):
                name = _read_attr(group, key, "string", where)
                if name == "hard_sigmoid":
                    return (name, _read_attr(group, key + "_slope", "double", where),
                            _read_attr(group, key + "_offset", "double", where))
                return (name,)

            if kind == "embedding":
                layer = {"kind": kind, "vocabulary_size": _read_attr(group, "vocabulary_size", "int", where),
                         "embedding_size": _read_attr(group, "embedding_size", "int", where)}
            elif kind == "dense":
                layer = {"kind": kind, "input_size": _read_attr(group, "input_size", "int", where),
                         "units": _read_attr(group, "units", "int", where), "activation": act("activation"),
                         "use_bias": _read_attr(group, "use_bias", "bool", where)}
            else:
                layer = {
                    "kind": kind,
                    "input_size": _read_attr(group, "input_size", "int", where),
                    "hidden_size": _read_attr(group, "hidden_size", "int", where),
                    "projection_size": _read_attr(group, "projection_size", "int", where),
                    "merge_mode": _read_attr(group, "merge_mode", "string", where),
                    "return_sequences": _read_attr(group, "return_sequences", "bool", where),
                    "go_backwards": _read_attr(group, "go_backwards", "bool", where),
                    "activation": act("activation"),
                    "recurrent_activation": act("recurrent_activation"),
                    "bias": _read_attr(group, "bias", "string", where),
                    "gate_clip": _read_attr(group, "gate_clip", "double", where) if "gate_clip" in group.attrs else None,
                }
                directions = _read_attr(group, "directions", "int", where)
                if kind == "lstm":
                    layer["use_gate"] = _read_attr(group, "use_gate", "string", where)
                    layer["peepholes"] = _read_attr(group, "peepholes", "string", where)
                    layer["cell_clip"] = _read_attr(group, "cell_clip", "double", where) if "cell_clip" in group.attrs else None
                    layer["projection_clip"] = (_read_attr(group, "projection_clip", "double", where)
                                                if "projection_clip" in group.attrs else None)
                    layer["forget_bias"] = _read_attr(group, "forget_bias", "double", where)
                else:
                    layer["reset"] = _read_attr(group, "reset", "string", where)
                    layer["use_gate"], layer["peepholes"] = "standard", "none"
                layer["directions"] = [{} for _ in range(directions)]
                layer["sources"] = [{} for _ in range(directions)]
            expected = expected_tensors(layer)
            if kind in ("lstm", "gru"):
                for d in range(len(layer["directions"])):
                    sub = group[DIRECTION_NAMES[d]]
                    names = set(sub.keys())
                    for role, _ in expected:
                        array, source = _read_tensor(sub[role], f"{where}/{DIRECTION_NAMES[d]}/{role}")
                        layer["directions"][d][role] = array
                        layer["sources"][d][role] = source
                        names.discard(role)
                    if names:
                        raise ValueError(f"{where}: extra tensors {sorted(names)}")
            else:
                layer["tensors"], layer["sources"] = {}, {}
                names = set(group.keys())
                for role, _ in expected:
                    array, source = _read_tensor(group[role], f"{where}/{role}")
                    layer["tensors"][role] = array
                    layer["sources"][role] = source
                    names.discard(role)
                if names:
                    raise ValueError(f"{where}: extra members {sorted(names)}")
            layers.append(layer)
        model = {"layers": layers}
        validate(model)
        return model, provenance


def summary(model):
    """The layer summary recorded in case.json: every layer's attributes (no tensors)."""
    out = []
    for layer in model["layers"]:
        entry = {}
        for key, kind, value in layer_attributes(layer):
            entry[key] = bool(value) if kind == "bool" else value
        out.append(entry)
    return out
