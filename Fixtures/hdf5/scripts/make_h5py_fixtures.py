#!/usr/bin/env python3
"""Writes lstmconv HDF5 files with h5py, following spec/hdf5.md independently of lstmconv's own writer.

    python3 make_h5py_fixtures.py OUTPUT_DIR

OUTPUT_DIR/h5py/<name>.h5      the four golden models of Tests/LSTMTestSupport/GoldenModels.swift, re-derived
                               here from the same value formula, written the way a Python user would: h5py
                               defaults (no creation order), numpy-typed attributes, and on purpose some
                               variations the reader must accept: big-endian datasets, h5py's boolean enum,
                               fixed-length strings, auto-chunked gzip, a custom bfloat16 type.
OUTPUT_DIR/malformed/<name>.h5 broken variants of small_lstm, one defect each (see MALFORMED below).
OUTPUT_DIR/bridge/keras_like.h5 groups, datasets and attributes of every kind Keras' h5 files use (fixed- and
                               variable-length strings, string arrays, split attributes, numbers, bools), plus
                               the datatypes and links the HDF5 layer must refuse; read by BridgeTests.swift.

The committed copies live in Fixtures/hdf5/ (regenerate with `python3 Fixtures/hdf5/scripts/make_h5py_fixtures.py
Fixtures/hdf5`); the Swift tests read them, and re-run this script into a temporary folder when python3 can import
h5py. Needs only h5py and numpy.
"""

import math
import os
import shutil
import sys
import zlib

import h5py
import numpy as np

# ---------------------------------------------------------------------------------------------------------------
# Values and dtypes


def golden_values(count, seed):
    """GoldenModels.values(count:seed:): Float(frac(x * 0.61803398875) - 0.5) * 0.8 with x = 7i + 13 seed + 1."""
    out = np.empty(count, dtype=np.float32)
    for index in range(count):
        x = float(index * 7 + seed * 13 + 1)
        out[index] = np.float32(math.fmod(x * 0.61803398875, 1.0) - 0.5) * np.float32(0.8)
    return out


def bfloat16_bits(values):
    """float32 -> bfloat16 bits, rounding to nearest even (as FloatBits.bfloat(from:))."""
    bits = values.astype("<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def bfloat16_type(order_big_endian=False):
    """An HDF5 float type of size 2: sign 15, exponent 7..14 (bias 127), mantissa 0..6."""
    t = h5py.h5t.IEEE_F32BE.copy() if order_big_endian else h5py.h5t.IEEE_F32LE.copy()
    t.set_fields(15, 7, 8, 0, 7)
    t.set_size(2)
    t.set_ebias(127)
    return t


def little_endian_bytes(values, dtype):
    """The tensor's little-endian bytes in its declared dtype: what crc32 covers."""
    if dtype == "f32":
        return values.astype("<f4").tobytes()
    if dtype == "f64":
        return values.astype(np.float64).astype("<f8").tobytes()
    if dtype == "f16":
        return values.astype("<f2").tobytes()
    if dtype == "bf16":
        return bfloat16_bits(values).tobytes()
    raise ValueError(dtype)


# ---------------------------------------------------------------------------------------------------------------
# The golden models (same hyperparameters, seeds and tensor order as GoldenModels.swift)

PROVENANCE = [
    ("provenance.source_framework", "lstmconv"),
    ("provenance.source_framework_version", ""),
    ("provenance.source_layout", "document"),
    ("provenance.source_sha256", ""),
    ("provenance.converter", "lstmconv golden"),
]


def lstm_tensors(h, columns, use_gate="standard", bias="single", peepholes="none", projection=None):
    slots = [("W_n", [h, columns]), ("b_n", [h]), ("W_i", [h, columns]), ("b_i", [h]), ("W_f", [h, columns]), ("b_f", [h])]
    if use_gate == "document":
        slots += [("W_u", [h, h]), ("b_u", [h])]
    slots += [("W_v", [h, columns]), ("b_v", [h])]
    if bias == "double":
        slots += [("bh_n", [h]), ("bh_i", [h]), ("bh_f", [h]), ("bh_v", [h])]
    if peepholes == "diagonal":
        slots += [("P_i", [h]), ("P_f", [h]), ("P_v", [h])]
    if peepholes == "full":
        slots += [("P_i", [h, h]), ("P_f", [h, h]), ("P_v", [h, h])]
    if projection:
        slots.append(("W_p", [projection, h]))
    return slots


def gru_tensors(h, columns, bias):
    slots = [("W_z", [h, columns]), ("b_z", [h]), ("W_r", [h, columns]), ("b_r", [h]), ("W_c", [h, columns]), ("b_c", [h])]
    if bias == "double":
        slots += [("bh_z", [h]), ("bh_r", [h]), ("bh_c", [h])]
    return slots


def layer(attrs, seed, dtype, groups):
    """groups: [(group path relative to the layer, [(role, shape)], with_source)]; seeds run on across groups."""
    tensors = []
    for group, slots, with_source in groups:
        for role, shape in slots:
            seed += 1
            values = golden_values(int(np.prod(shape)), seed).reshape(shape)
            tensors.append((group, role, shape, values, "golden/" + role if with_source else ""))
    return {"attrs": attrs, "dtype": dtype, "tensors": tensors}


def recurrent_attrs(kind, i, h, projection, directions, merge, return_sequences, go_backwards, recurrent_activation, bias, extra):
    attrs = [
        ("kind", kind),
        ("input_size", np.int64(i)),
        ("hidden_size", np.int64(h)),
        ("projection_size", np.int64(projection)),
        ("directions", np.int64(directions)),
        ("merge_mode", merge),
        ("return_sequences", np.uint8(return_sequences)),
        ("go_backwards", np.uint8(go_backwards)),
        ("activation", "tanh"),
    ]
    attrs += recurrent_activation
    attrs.append(("bias", bias))
    return attrs + extra


def models():
    sigmoid = [("recurrent_activation", "sigmoid")]
    small = [
        layer(
            recurrent_attrs("lstm", 3, 4, 0, 1, "none", 1, 0, sigmoid, "single",
                            [("use_gate", "standard"), ("peepholes", "none"), ("forget_bias", np.float64(0.0))]),
            1, "f32", [("forward", lstm_tensors(4, 7), True)]),
    ]
    gru = [
        layer(
            recurrent_attrs("gru", 2, 3, 0, 2, "concat", 0, 0, sigmoid, "double", [("reset", "after")]),
            2, "f32", [("forward", gru_tensors(3, 5, "double"), True), ("backward", gru_tensors(3, 5, "double"), True)]),
        layer(
            [("kind", "dense"), ("input_size", np.int64(6)), ("units", np.int64(2)), ("activation", "softmax"),
             ("use_bias", np.uint8(1))],
            3, "f32", [("", [("W_d", [2, 6]), ("b_d", [2])], False)]),
    ]
    hard_sigmoid = [("recurrent_activation", "hard_sigmoid"), ("recurrent_activation_slope", np.float64(0.2)),
                    ("recurrent_activation_offset", np.float64(0.5))]
    projected = [
        layer(
            recurrent_attrs("lstm", 3, 4, 2, 1, "none", 1, 0, hard_sigmoid, "double",
                            [("use_gate", "standard"), ("peepholes", "diagonal"), ("cell_clip", np.float64(3.0)),
                             ("projection_clip", np.float64(2.5)), ("forget_bias", np.float64(1.0))]),
            4, "f16", [("forward", lstm_tensors(4, 5, bias="double", peepholes="diagonal", projection=2), True)]),
    ]
    document = [
        layer([("kind", "embedding"), ("vocabulary_size", np.int64(5)), ("embedding_size", np.int64(3))],
              5, "bf16", [("", [("W_e", [5, 3])], False)]),
        layer(
            recurrent_attrs("lstm", 3, 3, 0, 1, "none", 0, 1, sigmoid, "single",
                            [("use_gate", "document"), ("peepholes", "full"), ("forget_bias", np.float64(0.0))]),
            6, "f64", [("forward", lstm_tensors(3, 6, use_gate="document", peepholes="full"), True)]),
    ]
    return {"small_lstm": small, "bidirectional_gru": gru, "projected_peephole_lstm": projected, "document_lstm": document}


# ---------------------------------------------------------------------------------------------------------------
# Writing


def root_attrs(layer_count):
    return [
        ("format", "lstmconv"),
        ("format_major", np.int64(1)),
        ("format_minor", np.int64(0)),
        ("schema_version", np.int64(1)),
        ("layer_count", np.int64(layer_count)),
    ] + PROVENANCE


def write_dataset(group, role, shape, values, dtype, source, style):
    """style: dict with 'big_endian', 'compress' (bool), 'fixed_strings' (bool)."""
    big = style.get("big_endian", False)
    order = ">" if big else "<"
    kwargs = {}
    if style.get("compress"):
        kwargs = {"chunks": True, "compression": "gzip", "compression_opts": 4, "shuffle": True}
    if dtype == "bf16":
        bits = bfloat16_bits(values.reshape(-1)).reshape(shape)
        space = h5py.h5s.create_simple(tuple(shape))
        ftype = bfloat16_type(order_big_endian=big)
        dsid = h5py.h5d.create(group.id, role.encode(), ftype, space)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(bits), mtype=bfloat16_type())
        dataset = group[role]
    else:
        numpy_type = {"f32": "f4", "f64": "f8", "f16": "f2"}[dtype]
        dataset = group.create_dataset(role, data=values.astype(order + numpy_type), **kwargs)
    crc = zlib.crc32(little_endian_bytes(values.reshape(-1), dtype)) & 0xFFFFFFFF
    if style.get("fixed_strings"):
        dataset.attrs["dtype"] = np.bytes_(dtype.encode("ascii"))
    else:
        dataset.attrs["dtype"] = dtype
    dataset.attrs["crc32"] = np.uint32(crc)
    dataset.attrs["source"] = source
    return dataset


def write_model(path, layers, style=None, mutate=None):
    style = style or {}
    with h5py.File(path, "w") as f:
        for key, value in root_attrs(len(layers)):
            f.attrs[key] = value
        for index, spec in enumerate(layers):
            group = f.create_group(f"layer_{index}")
            for key, value in spec["attrs"]:
                if style.get("h5py_bools") and isinstance(value, np.uint8):
                    value = np.bool_(bool(value))
                group.attrs[key] = value
            for sub, role, shape, values, source in spec["tensors"]:
                target = group.require_group(sub) if sub else group
                write_dataset(target, role, shape, values, spec["dtype"], source, style)
        if mutate:
            mutate(f)


STYLES = {
    "small_lstm": {},
    "bidirectional_gru": {"big_endian": True, "compress": True},
    "projected_peephole_lstm": {"big_endian": True, "h5py_bools": True},
    "document_lstm": {"fixed_strings": True, "h5py_bools": True},
}

# ---------------------------------------------------------------------------------------------------------------
# Malformed variants of small_lstm: (file name, mutation of the open file). The expected error code of each is
# listed in Tests/LSTMHDF5Tests/MalformedTests.swift.

W_N = "layer_0/forward/W_n"


def replace_dataset(f, path, data, dtype_attr="f32", crc=None):
    attrs = dict(f[path].attrs)
    del f[path]
    dataset = f.create_dataset(path, data=data)
    dataset.attrs["dtype"] = dtype_attr
    dataset.attrs["crc32"] = attrs["crc32"] if crc is None else np.uint32(crc)
    dataset.attrs["source"] = attrs["source"]


def set_attr(path, key, value):
    def mutate(f):
        f[path].attrs[key] = value
    return mutate


def delete_attr(path, key):
    def mutate(f):
        del f[path].attrs[key]
    return mutate


def wrong_int(f):
    replace_dataset(f, W_N, np.arange(28, dtype="<i4").reshape(4, 7))


def wrong_size(f):
    replace_dataset(f, W_N, f[W_N][()].astype("<f8"))


def wrong_layout(f):
    # A bfloat16 dataset whose dtype attribute says f16: same size, different bit layout.
    values = f[W_N][()]
    attrs = dict(f[W_N].attrs)
    del f[W_N]
    space = h5py.h5s.create_simple((4, 7))
    dsid = h5py.h5d.create(f["layer_0/forward"].id, b"W_n", bfloat16_type(), space)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, bfloat16_bits(values.reshape(-1)).reshape(4, 7), mtype=bfloat16_type())
    f[W_N].attrs["dtype"] = "f16"
    f[W_N].attrs["crc32"] = attrs["crc32"]
    f[W_N].attrs["source"] = attrs["source"]


def wrong_compound(f):
    values = f[W_N][()]
    data = np.zeros((4, 7), dtype=[("value", "<f4"), ("extra", "<f4")])
    data["value"] = values
    replace_dataset(f, W_N, data)


def wrong_vlen(f):
    attrs = dict(f[W_N].attrs)
    del f[W_N]
    dataset = f["layer_0/forward"].create_dataset("W_n", shape=(4,), dtype=h5py.vlen_dtype(np.float32))
    for row in range(4):
        dataset[row] = np.arange(7, dtype=np.float32)
    for key, value in attrs.items():
        dataset.attrs[key] = value


def checksum_mismatch(f):
    f[W_N].attrs["crc32"] = np.uint32(int(f[W_N].attrs["crc32"]) ^ 1)


def soft_link(f):
    del f[W_N]
    f[W_N] = h5py.SoftLink("/layer_0/forward/W_i")


def external_link(f):
    del f[W_N]
    f[W_N] = h5py.ExternalLink("external_target.h5", "/W_n")


def external_storage(f):
    values = f[W_N][()]
    attrs = dict(f[W_N].attrs)
    del f[W_N]
    dataset = f["layer_0/forward"].create_dataset(
        "W_n", shape=(4, 7), dtype="<f4", external=[("external_storage_W_n.bin", 0, 4 * 28)])
    dataset[()] = values
    for key, value in attrs.items():
        dataset.attrs[key] = value
    f.flush()
    # The raw bytes file (libhdf5 puts it in the current directory) is deleted afterwards: a reader must
    # refuse the dataset before ever opening it.
    STALE.append("external_storage_W_n.bin")


def shape_mismatch(f):
    data = f[W_N][()][:, :6].copy()
    replace_dataset(f, W_N, data, crc=zlib.crc32(data.astype("<f4").tobytes()))


def rank_mismatch(f):
    path = "layer_0/forward/b_n"
    attrs = dict(f[path].attrs)
    data = f[path][()].reshape(1, 4)
    del f[path]
    dataset = f.create_dataset(path, data=data)
    for key, value in attrs.items():
        dataset.attrs[key] = value


def missing_tensor(f):
    del f[W_N]


def unexpected_tensor(f):
    dataset = f["layer_0/forward"].create_dataset("P_i", data=np.zeros(4, dtype="<f4"))
    dataset.attrs["dtype"] = "f32"
    dataset.attrs["crc32"] = np.uint32(zlib.crc32(np.zeros(4, dtype="<f4").tobytes()))
    dataset.attrs["source"] = ""


def missing_layer_group(f):
    f.attrs["layer_count"] = np.int64(2)


def invalid_utf8(f):
    f["layer_0"].attrs["activation"] = np.bytes_(b"tan\xffh")


MALFORMED = [
    ("wrong_datatype_int.h5", wrong_int),
    ("wrong_datatype_size.h5", wrong_size),
    ("wrong_datatype_layout.h5", wrong_layout),
    ("wrong_datatype_compound.h5", wrong_compound),
    ("wrong_datatype_vlen.h5", wrong_vlen),
    ("missing_attribute.h5", delete_attr("layer_0", "hidden_size")),
    ("missing_dataset_attribute.h5", delete_attr(W_N, "crc32")),
    ("missing_format.h5", delete_attr("/", "format")),
    ("wrong_format.h5", set_attr("/", "format", "keras")),
    ("newer_major.h5", set_attr("/", "format_major", np.int64(2))),
    ("newer_schema.h5", set_attr("/", "schema_version", np.int64(3))),
    ("wrong_attribute_type_string.h5", set_attr("layer_0", "hidden_size", "4")),
    ("wrong_attribute_type_int32.h5", set_attr("layer_0", "hidden_size", np.int32(4))),
    ("wrong_attribute_type_array.h5", set_attr("layer_0", "hidden_size", np.array([4], dtype=np.int64))),
    ("wrong_attribute_type_crc.h5", set_attr(W_N, "crc32", np.int64(0))),
    ("invalid_bool.h5", set_attr("layer_0", "return_sequences", np.uint8(2))),
    ("invalid_dtype_name.h5", set_attr(W_N, "dtype", "f8")),
    ("invalid_utf8.h5", invalid_utf8),
    ("checksum_mismatch.h5", checksum_mismatch),
    ("soft_link.h5", soft_link),
    ("external_link.h5", external_link),
    ("external_storage.h5", external_storage),
    ("shape_mismatch.h5", shape_mismatch),
    ("rank_mismatch.h5", rank_mismatch),
    ("missing_tensor.h5", missing_tensor),
    ("unexpected_tensor.h5", unexpected_tensor),
    ("missing_layer_group.h5", missing_layer_group),
]
STALE = []

# ---------------------------------------------------------------------------------------------------------------
# The HDF5 layer's own fixture


def write_keras_like(path):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.15.0")  # fixed-length, NULLPAD, ASCII (what Keras 2 writes)
        f.attrs["backend"] = "tensorflow"  # variable-length UTF-8
        f.attrs["layer_names"] = np.array([b"lstm", b"dense_1"])  # fixed-length string array
        f.attrs["weight_names0"] = np.array([b"a", b"bb"])  # split attribute, part 0
        f.attrs["weight_names1"] = np.array([b"ccc"])  # part 1
        f.attrs["vlen_names"] = np.array(["\u03b1", "b"], dtype=h5py.string_dtype())
        f.attrs["ints"] = np.array([1, -2, 3], dtype="<i4")
        f.attrs["floats"] = np.array([0.5, 1.5], dtype=">f4")
        f.attrs["flag"] = np.bool_(True)
        f.attrs["huge"] = np.uint64(2**63 + 5)
        f.attrs["compound"] = np.zeros(1, dtype=[("a", "<i4"), ("b", "<f4")])[0]
        padded = h5py.h5t.C_S1.copy()
        padded.set_size(8)
        padded.set_strpad(h5py.h5t.STR_SPACEPAD)
        attribute = h5py.h5a.create(f.id, b"space_padded", padded, h5py.h5s.create(h5py.h5s.SCALAR))
        attribute.write(np.array(b"abc     ", dtype="S8"), mtype=padded)
        weights = f.create_group("model_weights")
        lstm = weights.create_group("lstm/lstm")
        kernel = np.arange(12, dtype=np.float32).reshape(3, 4) / 8
        lstm.create_dataset("kernel:0", data=kernel.astype("<f4"))
        lstm.create_dataset("recurrent_kernel:0", data=kernel.astype(">f4"))
        lstm.create_dataset("bias:0", data=np.array([0.5, -1, 2, 0.25], dtype="<f2"))
        lstm.create_dataset("f64:0", data=np.array([1 / 3, -2.5], dtype=">f8"))
        space = h5py.h5s.create_simple((3,))
        dsid = h5py.h5d.create(lstm.id, b"bf16:0", bfloat16_type(), space)
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, bfloat16_bits(np.array([1.0, -0.5, 3.0], dtype=np.float32)),
                   mtype=bfloat16_type())
        lstm.create_dataset("ints:0", data=np.arange(4, dtype="<i4"))
        lstm.create_dataset("compound:0", data=np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))
        vlen = lstm.create_dataset("vlen:0", shape=(2,), dtype=h5py.vlen_dtype(np.float32))
        vlen[0] = np.arange(3, dtype=np.float32)
        vlen[1] = np.arange(2, dtype=np.float32)
        lstm.create_dataset("empty:0", shape=(2, 2), dtype="<f4")  # never written: no storage
        partial = lstm.create_dataset("partial:0", shape=(4, 4), dtype="<f4", chunks=(2, 4))
        partial[0:2, :] = 1.0  # one of two chunks written: the other would read as fill values
        weights["alias"] = h5py.SoftLink("/model_weights/lstm")
        weights["elsewhere"] = h5py.ExternalLink("other.h5", "/x")
        weights.attrs["layer_names"] = np.array([b"lstm"])
        ordered = f.create_group("ordered", track_order=True)
        unordered = f.create_group("unordered")
        for name in ["b", "a", "10", "2"]:
            ordered.create_group(name)
            unordered.create_group(name)
        ordered.attrs["z"] = np.int64(1)
        ordered.attrs["a"] = np.int64(2)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    valid_dir = os.path.join(out, "h5py")
    bad_dir = os.path.join(out, "malformed")
    bridge_dir = os.path.join(out, "bridge")
    for folder in (valid_dir, bad_dir, bridge_dir):
        os.makedirs(folder, exist_ok=True)
    write_keras_like(os.path.join(bridge_dir, "keras_like.h5"))
    all_models = models()
    for name, layers in all_models.items():
        write_model(os.path.join(valid_dir, name + ".h5"), layers, STYLES[name])
    for name, mutate in MALFORMED:
        write_model(os.path.join(bad_dir, name), all_models["small_lstm"], mutate=mutate)
    for path in STALE:
        if os.path.exists(path):
            os.remove(path)
    # The target of external_link.h5 exists and is valid: the reader must still refuse to follow the link.
    with h5py.File(os.path.join(bad_dir, "external_target.h5"), "w") as f:
        f.create_dataset("W_n", data=np.zeros((4, 7), dtype="<f4"))
    # A truncated file: the first half of a valid one.
    with open(os.path.join(valid_dir, "small_lstm.h5"), "rb") as source:
        data = source.read()
    with open(os.path.join(bad_dir, "truncated.h5"), "wb") as target:
        target.write(data[: len(data) // 2])
    with open(os.path.join(bad_dir, "not_hdf5.h5"), "wb") as target:
        target.write(b"This is a text file with an .h5 name, not HDF5.\n" * 20)
    print(f"wrote {len(all_models)} models to {valid_dir} and {len(MALFORMED) + 2} malformed files to {bad_dir}")


if __name__ == "__main__":
    main()
