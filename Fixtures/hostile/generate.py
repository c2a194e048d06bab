#!/usr/bin/env python3
"""Writes structurally valid but hostile files: every CRC right, real HDF5 (h5py), real zips (zipfile), real
pickles (opcodes written by hand, never executed), each aimed at one way a reader can be made to crash, hang,
allocate gigabytes or read something the framework would not. Issue 12.

Usage: generate.py OUT_DIR   — writes the files and OUT_DIR/cases.json, deterministically (same bytes every run).

Needs only numpy and h5py (CI's plain python3 has both; no framework). The bases are committed fixtures: the
PyTorch `lstm_1layer` case, the Keras `k3_functional_chain` case, the golden `small_lstm` checkpoint, the NumPy
`doc_embedding_stack_dense` case. HostileFileTests runs every CLI command on every file listed in cases.json.

cases.json: a list of {name, file, role, base, expect, note}:
  role    model (given as MODEL / IN / SOURCE), input (--input), states (--initial-states)
  base    the committed fixture folder whose model / input.npy / expected.npy go with the file
  expect  "refuse": every command exits 2…125 with one stderr line naming the file;
          {"default": "refuse", "<command>": "any"}: that command may also succeed (exit 0) — what is asserted
          for it is only that it ends in time, within the memory limit, with no crash and no leftovers.
"""

import io
import json
import os
import pathlib
import shutil
import struct
import sys
import zipfile
import zlib

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIX = ROOT / "Fixtures"
TORCH_BASE = FIX / "pytorch" / "lstm_1layer"
KERAS_BASE = FIX / "keras" / "k3_functional_chain"
EMBED_BASE = FIX / "numpy" / "doc_embedding_stack_dense"
GOLDEN = FIX / "golden" / "small_lstm.lstmw"
GOLDEN_H5 = FIX / "hdf5" / "golden" / "small_lstm.h5"

cases = []
OUT = None


def case(name, file, role="model", base="pytorch/lstm_1layer", expect="refuse", note=""):
    cases.append({"name": name, "file": file, "role": role, "base": base, "expect": expect, "note": note})


def fixed_zip(path, members, compress=zipfile.ZIP_STORED):
    """A zip with fixed timestamps; `members` is a list of (name, bytes), duplicates allowed."""
    buffer = io.BytesIO()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that is the point
        with zipfile.ZipFile(buffer, "w", compression=compress) as archive:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = compress
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
    (OUT / path).write_bytes(buffer.getvalue())


# MARK: - Pickles (opcodes, protocol 2)

class Pickle:
    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def op(self, data):
        self.out += data
        return self

    def put(self):
        index = self.memo
        self.memo += 1
        self.out += b"r" + struct.pack("<I", index)  # LONG_BINPUT
        return index

    def get(self, index):
        self.out += b"j" + struct.pack("<I", index)  # LONG_BINGET
        return self

    def string(self, text):
        raw = text.encode()
        self.out += b"X" + struct.pack("<I", len(raw)) + raw
        return self

    def int(self, value):
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])
        elif -(1 << 31) <= value < (1 << 31):
            self.out += b"J" + struct.pack("<i", value)
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            self.out += b"\x8a" + bytes([len(raw)]) + raw  # LONG1
        return self

    def ints(self, values):
        self.op(b"(")
        for value in values:
            self.int(value)
        return self.op(b"t")

    def glob(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def stop(self):
        return bytes(self.out + b".")


def state_dict_pickle(tensors):
    """A torch.save state_dict pickle: tensors is a list of (key, storage_id, numel, offset, size, stride)."""
    p = Pickle()
    p.glob("collections", "OrderedDict").op(b")R")
    p.op(b"(")
    for key, storage, numel, offset, size, stride in tensors:
        p.string(key)
        p.glob("torch._utils", "_rebuild_tensor_v2")
        p.op(b"(")
        p.op(b"(").string("storage").glob("torch", "FloatStorage").string(storage).string("cpu").int(numel).op(b"t")
        p.op(b"Q")  # BINPERSID
        p.int(offset).ints(size).ints(stride).op(b"\x89")  # NEWFALSE (requires_grad)
        p.glob("collections", "OrderedDict").op(b")R")
        p.op(b"tR")
    p.op(b"u")
    return p.stop()


def torch_zip(path, tensors, storages, pickle_bytes=None):
    members = [("archive/data.pkl", pickle_bytes if pickle_bytes is not None else state_dict_pickle(tensors))]
    members += [("archive/byteorder", b"little")]
    members += [(f"archive/data/{key}", data) for key, data in storages.items()]
    members += [("archive/version", b"3\n")]
    fixed_zip(path, members)


def lstm_1layer_tensors():
    """The lstm_1layer weights (from its safetensors) as (key, float32 array)."""
    return read_safetensors(TORCH_BASE / "model.safetensors")


def read_safetensors(path):
    raw = path.read_bytes()
    (length,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + length])
    out = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(raw[8 + length + start:8 + length + end], dtype="<f4").reshape(info["shape"])
        out.append((key, info["shape"], array))
    out.sort(key=lambda item: header[item[0]]["data_offsets"][0])
    return out


def write_safetensors(path, entries):
    """entries: list of (key, dtype, shape, bytes)."""
    header, offset, blob = {}, 0, bytearray()
    for key, dtype, shape, data in entries:
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blob += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    (OUT / path).write_bytes(struct.pack("<Q", len(text)) + text + bytes(blob))


# MARK: - PyTorch and safetensors

def pytorch_cases():
    weights = lstm_1layer_tensors()
    # 1. A zero-element recurrent matrix [0, 2^62]: its columns become H, and 4·H overflows.
    entries = [(k, "F32", [0, 1 << 62], b"") if k == "weight_hh_l0" else (k, "F32", list(s), a.tobytes()) for k, s, a in weights]
    write_safetensors("zero_dim_huge.safetensors", entries)
    case("zero_dim_huge_safetensors", "zero_dim_huge.safetensors", note="weight_hh_l0 [0, 2^62]: 4·H overflows")

    storages = {str(i): a.tobytes() for i, (k, s, a) in enumerate(weights)}
    tensors = []
    for i, (key, shape, array) in enumerate(weights):
        stride = [shape[1], 1] if len(shape) == 2 else [1]
        tensors.append((key, str(i), array.size, 0, list(shape), stride))
    ordinary = list(tensors)
    index = next(i for i, t in enumerate(tensors) if t[0] == "weight_hh_l0")
    tensors[index] = ("weight_hh_l0", str(index), 0, 0, [0, 1 << 62], [1, 1])
    storages_zero = dict(storages)
    storages_zero[str(index)] = b""
    torch_zip("zero_dim_huge.pt", tensors, storages_zero)
    case("zero_dim_huge_pt", "zero_dim_huge.pt", note="weight_hh_l0 [0, 2^62] in a torch zip")

    # 2. An expanded (stride-0) view: 2^32 elements over a one-element storage.
    expanded = ordinary + [("expanded_unused", "9", 1, 0, [1 << 16, 1 << 16], [0, 0])]
    torch_zip("expanded_unused.pt", expanded, dict(storages, **{"9": b"\0\0\0\0"}))
    case("expanded_unused_pt", "expanded_unused.pt", expect={"default": "any"},
         note="an unused key is a 16 GiB stride-0 view of 4 bytes: never expanded")
    used = list(ordinary)
    index = next(i for i, t in enumerate(ordinary) if t[0] == "weight_ih_l0")
    rows, columns = ordinary[index][4]
    used[index] = ("weight_ih_l0", "9", 1, 0, [rows, columns], [0, 0])
    torch_zip("expanded_used.pt", used, dict(storages, **{"9": b"\0\0\0\0"}))
    case("expanded_used_pt", "expanded_used.pt", note="weight_ih_l0 is a stride-0 view: refused by name")

    # 3. Lists nested 50,000 deep, each appended while still empty (the depth seen at APPEND is 1).
    p = Pickle()
    count = 50_000
    for _ in range(count):
        p.op(b"]")
        p.put()
        p.op(b"0")  # POP
    for index in range(count - 1):
        p.get(index).get(index + 1).op(b"a0")  # APPEND, POP
    p.op(b"}").string("x").get(0).op(b"s")
    deep = p.stop()
    torch_zip("deep_lists.pt", [], {}, pickle_bytes=deep)
    case("deep_lists_pt", "deep_lists.pt", note="50,000 nested lists, filled after being appended")
    (OUT / "deep_lists_stream.pt").write_bytes(deep)
    case("deep_lists_stream_pt", "deep_lists_stream.pt", note="the same as a bare pickle stream")

    # 4. Tuples of memo references: t_k = (t_{k-1}, t_{k-1}), 60 levels: 2^60 paths, under 1 KB.
    p = Pickle()
    p.op(b")")
    previous = p.put()
    for _ in range(60):
        p.get(previous).get(previous).op(b"\x86")  # TUPLE2
        previous = p.put()
    p.op(b"}").string("x").get(previous).op(b"s")
    torch_zip("memo_tuples.pt", [], {}, pickle_bytes=p.stop())
    case("memo_tuples_pt", "memo_tuples.pt", note="2^60 tuple paths through the memo")
    # The same with lists: l_k = [l_{k-1}, l_{k-1}].
    p = Pickle()
    p.op(b"]")
    previous = p.put()
    p.op(b"0")
    for _ in range(60):
        p.op(b"]")
        current = p.put()
        p.op(b"(").get(previous).get(previous).op(b"e0")  # APPENDS, POP
        previous = current
    p.op(b"}").string("x").get(previous).op(b"s")
    torch_zip("memo_lists.pt", [], {}, pickle_bytes=p.stop())
    case("memo_lists_pt", "memo_lists.pt", note="2^60 list paths through the memo")

    # 5. Two members with one name (Python's zipfile reads the last).
    pickle_bytes = state_dict_pickle(ordinary)
    members = [("archive/data.pkl", pickle_bytes), ("archive/byteorder", b"little")]
    members += [(f"archive/data/{k}", v) for k, v in storages.items()]
    members += [("archive/data/0", bytes(len(storages["0"]))), ("archive/version", b"3\n")]
    fixed_zip("duplicate_member.pt", members)
    case("duplicate_member_pt", "duplicate_member.pt", note="archive/data/0 twice")


# MARK: - NumPy inputs

def npy_bytes(array_header_shape, descr, data=b""):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join(f"{d}, " for d in array_header_shape) if len(array_header_shape) != 1 else f"{array_header_shape[0]},")
    header = header.encode("latin1")
    total = 10 + len(header) + 1
    header += b" " * (-total % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def numpy_cases():
    features = np.load(TORCH_BASE / "input.npy").shape[-1]
    (OUT / "empty_huge_batch.npy").write_bytes(npy_bytes([1 << 40, 0, features], "<f4"))
    case("empty_huge_batch_npy", "empty_huge_batch.npy", role="input", note="(2^40, 0, F): no data, huge batch")
    (OUT / "empty_big_batch.npy").write_bytes(npy_bytes([1 << 24, 0, features], "<f4"))
    case("empty_big_batch_npy", "empty_big_batch.npy", role="input", note="(2^24, 0, F): states of 2^24 rows")
    (OUT / "empty_time.npy").write_bytes(npy_bytes([2, 0, features], "<f4"))
    case("empty_time_npy", "empty_time.npy", role="input", expect={"default": "any"}, note="(2, 0, F): valid, empty output")
    (OUT / "tokens_empty_huge.npy").write_bytes(npy_bytes([0, 1 << 62], "<i8"))
    case("tokens_empty_huge_npy", "tokens_empty_huge.npy", role="input", base="numpy/doc_embedding_stack_dense",
         note="token ids (0, 2^62)")
    (OUT / "shape_overflow.npy").write_bytes(npy_bytes([1 << 40, 1 << 40, 0], "<f4"))
    case("shape_overflow_npy", "shape_overflow.npy", role="input", note="(2^40, 2^40, 0): the product overflows before the 0")

    # A states .npz whose entry inflates 1000:1 (16 MiB from 16 KiB) before its shape says it is wrong.
    zeros = npy_bytes([1 << 22], "<f4", bytes(1 << 24))
    fixed_zip("states_bomb.npz", [("layer_0/forward/STM.npy", zeros)], compress=zipfile.ZIP_DEFLATED)
    case("states_bomb_npz", "states_bomb.npz", role="states", note="a 16 MiB entry deflated 1000:1")
    good = np.zeros((2, 4), dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, good)
    fixed_zip("states_duplicate.npz", [("layer_0/forward/STM.npy", buffer.getvalue())] * 2)
    case("states_duplicate_npz", "states_duplicate.npz", role="states", note="one entry name twice")


# MARK: - Keras

def keras_members():
    with zipfile.ZipFile(KERAS_BASE / "model.keras") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def keras_cases():
    members = keras_members()
    config = members["config.json"]
    order = ["metadata.json", "config.json", "model.weights.h5"]

    fixed_zip("duplicate_config.keras", [(n, members[n]) for n in order] + [("config.json", config.replace(b'"units": 5', b'"units": 7'))])
    case("duplicate_config_keras", "duplicate_config.keras", base="keras/k3_functional_chain", note="config.json twice")
    fixed_zip("duplicate_weights.keras", [(n, members[n]) for n in order] + [("model.weights.h5", members["model.weights.h5"])])
    case("duplicate_weights_keras", "duplicate_weights.keras", base="keras/k3_functional_chain", note="model.weights.h5 twice")

    def with_config(name, text, note):
        fixed_zip(name, [("metadata.json", members["metadata.json"]), ("config.json", text), ("model.weights.h5", members["model.weights.h5"])])
        case(name.replace(".", "_"), name, base="keras/k3_functional_chain", note=note)

    with_config("duplicate_json_key.keras", config.replace(b'"units": 5,', b'"units": 5, "units": 6,', 1), "\"units\" twice in one object")
    with_config("json5_comment.keras", config.replace(b'"units": 5,', b'"units": 5, /* JSON5 */', 1), "a JSON5 comment")
    with_config("json5_trailing_comma.keras", config.rstrip()[:-1] + b",}", "a trailing comma")
    with_config("number_overflow.keras", config.replace(b'"units": 5', b'"units": 1e400', 1), "units 1e400")
    with_config("deep_json.keras", b'{"class_name": "Sequential", "config": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "arrays nested 100,000 deep")

    # A member whose headers declare a smaller size than it holds.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, members[name])
    raw = bytearray(buffer.getvalue())
    size = len(members["config.json"])
    for signature, field in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size in local / central headers
        start = 0
        while True:
            at = raw.find(signature, start)
            if at < 0:
                break
            name_length = struct.unpack_from("<H", raw, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            name = bytes(raw[at + (30 if signature == b"PK\x03\x04" else 46):][:name_length])
            if name == b"config.json":
                struct.pack_into("<I", raw, at + field, size - 100)
            start = at + 4
    (OUT / "lying_size.keras").write_bytes(bytes(raw))
    case("lying_size_keras", "lying_size.keras", base="keras/k3_functional_chain", note="config.json declares 100 bytes less than it holds")

    # A weights member far larger than the config justifies (units 5, 3, 3 features): 64 MiB of zeros,
    # deflated by the zip (a 1 MB .keras that would fill 64 MiB of $TMPDIR).
    weights = OUT / "big_weights.h5"
    with open(weights, "wb") as handle:
        handle.write(members["model.weights.h5"])
    with h5py.File(weights, "a") as h5:
        h5.create_dataset("padding", data=np.zeros(1 << 24, dtype=np.float32))
    fixed_zip("weights_bomb.keras", [("metadata.json", members["metadata.json"]), ("config.json", config),
                                     ("model.weights.h5", weights.read_bytes())], compress=zipfile.ZIP_DEFLATED)
    weights.unlink()
    case("weights_bomb_keras", "weights_bomb.keras", base="keras/k3_functional_chain",
         note="model.weights.h5 of 64 MiB for a model of a few hundred weights")

    # A Functional chain of 30,000 Dropout layers (quadratic graph handling took minutes).
    layers = [{"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_shape": [None, 6, 3]}, "inbound_nodes": []}]
    previous = "in"
    for index in range(30_000):
        name = f"d{index}"
        layers.append({"class_name": "Dropout", "name": name, "config": {"name": name, "rate": 0.1},
                       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [previous, 0, 0]}}], "kwargs": {}}]})
        previous = name
    chain = {"class_name": "Functional", "config": {"name": "m", "layers": layers, "input_layers": ["in", 0, 0], "output_layers": [previous, 0, 0]}}
    with_config("long_chain.keras", json.dumps(chain).encode(), "a Functional chain of 30,000 layers")
    cases[-1]["expect"] = {"default": "any"}

    # Legacy .h5: a hard link that makes a cycle (model_weights/drop/loop -> model_weights).
    shutil.copyfile(KERAS_BASE / "model.h5", OUT / "hardlink_cycle_keras.h5")
    with h5py.File(OUT / "hardlink_cycle_keras.h5", "a") as h5:
        h5["model_weights/drop/loop"] = h5["model_weights"]
    case("hardlink_cycle_keras_h5", "hardlink_cycle_keras.h5", base="keras/k3_functional_chain", expect={"default": "any"},
         note="a hard-link cycle in an unused part of the file: listed once, never walked forever")

    # Legacy .h5: a kernel 128 MiB large (deflated) for an LSTM of 5 units.
    shutil.copyfile(KERAS_BASE / "model.h5", OUT / "kernel_bomb_keras.h5")
    with h5py.File(OUT / "kernel_bomb_keras.h5", "a") as h5:
        path = "model_weights/encoder/encoder/lstm_cell/kernel"
        del h5[path]
        h5.create_dataset(path, shape=(8192, 4096), dtype="<f4", chunks=(1024, 1024), compression="gzip", compression_opts=9,
                          data=np.zeros((8192, 4096), dtype=np.float32))
    case("kernel_bomb_keras_h5", "kernel_bomb_keras.h5", base="keras/k3_functional_chain", note="a 128 MiB kernel for 5 units")


# MARK: - Our encodings

def lstmw_encode(metadata, tensors, major=1, minor=0):
    """spec/binary.md: metadata [(key, kind, value)], tensors [(path, dtype_code, shape, data, source)]."""
    header = bytearray(struct.pack("<I", len(metadata)))
    for key, kind, value in metadata:
        raw = key.encode()
        header += struct.pack("<H", len(raw)) + raw
        if kind == "int":
            header += b"\x01" + struct.pack("<q", value)
        elif kind == "double":
            header += b"\x02" + struct.pack("<d", value)
        elif kind == "string":
            text = value.encode()
            header += b"\x03" + struct.pack("<I", len(text)) + text
        else:
            header += b"\x04" + bytes([1 if value else 0])
    header += struct.pack("<I", len(tensors))
    offset, blob = 0, bytearray()
    for path, code, shape, data, source in tensors:
        raw = path.encode()
        header += struct.pack("<H", len(raw)) + raw + bytes([code, len(shape)])
        header += b"".join(struct.pack("<Q", d) for d in shape)
        header += struct.pack("<QQI", offset, len(data), zlib.crc32(data))
        src = source.encode()
        header += struct.pack("<H", len(src)) + src
        blob += data + bytes(-(len(data)) % 64 if tensors[-1][0] != path else 0)
        offset += len(data) + (-(len(data)) % 64)
    preamble = bytearray(b"\x89LST\r\n\x1a\n" + struct.pack("<HH", major, minor) + bytes([4, 3, 2, 1]))
    preamble += struct.pack("<QII", len(header), 0, 0)
    crc = zlib.crc32(bytes(preamble[0:24]) + bytes(preamble[28:32]) + bytes(header))
    struct.pack_into("<I", preamble, 24, crc)
    body = bytes(preamble) + bytes(header)
    body += bytes(-len(body) % 64)
    return body + bytes(blob)


def ours_cases():
    decoded = json.loads((FIX / "golden" / "small_lstm.expected.json").read_text())
    metadata = [(m["key"], m["type"], m["value"]) for m in decoded["metadata"]]
    codes = {"f32": (1, "<f4"), "f16": (2, "<f2"), "f64": (4, "<f8")}
    tensors = [(t["path"], codes[t["dtype"]][0], t["shape"], np.array(t["values"], dtype=codes[t["dtype"]][1]).tobytes(), t["source"])
               for t in decoded["tensors"]]
    assert lstmw_encode(metadata, tensors) == GOLDEN.read_bytes(), "the .lstmw encoder does not reproduce the golden file"
    np.save(OUT / "golden_input.npy", np.random.default_rng(12).standard_normal((2, 3, 3)).astype(np.float32))
    aliased = metadata + [("layer.00.hidden_size", "int", 5)]
    (OUT / "layer_alias.lstmw").write_bytes(lstmw_encode(aliased, tensors))
    case("layer_alias_lstmw", "layer_alias.lstmw", base="golden", note="layer.00.hidden_size next to layer.0.hidden_size")

    shutil.copyfile(GOLDEN_H5, OUT / "hardlink_cycle.h5")
    with h5py.File(OUT / "hardlink_cycle.h5", "a") as h5:
        h5["layer_0/forward/loop"] = h5["layer_0"]
    case("hardlink_cycle_h5", "hardlink_cycle.h5", base="golden", note="layer_0/forward/loop -> layer_0")

    # A tensor of 128 MiB (deflated ~1000:1) where the hyperparameters require [4, 7]; its attributes are right
    # (dtype, the CRC-32 of its zeros, source).
    shutil.copyfile(GOLDEN_H5, OUT / "deflate_bomb.h5")
    with h5py.File(OUT / "deflate_bomb.h5", "a") as h5:
        old = h5["layer_0/forward/W_n"]
        attrs = {k: old.attrs[k] for k in old.attrs}
        del h5["layer_0/forward/W_n"]
        data = np.zeros((8192, 4096), dtype=np.float32)
        new = h5.create_dataset("layer_0/forward/W_n", data=data, chunks=(1024, 1024), compression="gzip", compression_opts=9)
        attrs["crc32"] = np.uint32(zlib.crc32(data.tobytes()))
        for key, value in attrs.items():
            new.attrs[key] = value
    case("deflate_bomb_h5", "deflate_bomb.h5", base="golden", expect={"default": "refuse", "inspect": "any"},
         note="W_n of 128 MiB deflated: refused by shape before any data is read (inspect reads no data)")


def main():
    global OUT
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT = pathlib.Path(sys.argv[1])
    OUT.mkdir(parents=True, exist_ok=True)
    pytorch_cases()
    numpy_cases()
    keras_cases()
    ours_cases()
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {len(cases)} hostile files to {OUT}")


if __name__ == "__main__":
    main()
