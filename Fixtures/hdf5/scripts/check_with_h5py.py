#!/usr/bin/env python3
"""Checks an lstmconv .h5 file with h5py against a manifest of the model it should hold.

    python3 check_with_h5py.py MODEL.h5 MANIFEST.json

The manifest is written by the Swift test from the in-memory model (not from the file):

    {"compressed": bool,
     "root": [[key, type, value], ...],            # type: int | double | bool | string
     "layers": [[[key, type, value], ...], ...],
     "tensors": [{"path", "dtype", "shape", "hex" (little-endian bytes), "crc32", "source"}, ...]}

It checks, through h5py and numpy only: every attribute's presence, stored HDF5 type (int64 LE, float64 LE, uint8,
variable-length UTF-8 string) and value; that the datasets are exactly the manifest's, with its shapes; each
dataset's HDF5 float type (IEEE f16/f32/f64 little-endian, or the spec's bfloat16 layout), its raw bytes, the
values h5py converts them to, its crc32 (recomputed with zlib) and dtype/source attributes; and the chunking,
shuffle and deflate settings of a compressed file. Prints "ok" and exits 0, or lists every problem and exits 1.
"""

import json
import sys
import zlib

import h5py
import numpy as np

PROBLEMS = []


def problem(text):
    PROBLEMS.append(text)


def check_attribute(obj, where, key, kind, value):
    if key not in obj.attrs:
        problem(f"{where}: attribute {key} is missing")
        return
    attr_id = h5py.h5a.open(obj.id, key.encode())
    htype = attr_id.get_type()
    space = attr_id.get_space()
    if space.get_simple_extent_type() != h5py.h5s.SCALAR:
        problem(f"{where}@{key}: not a scalar")
    stored = obj.attrs[key]
    if kind == "int":
        if not (isinstance(htype, h5py.h5t.TypeIntegerID) and htype.get_size() == 8
                and htype.get_sign() == h5py.h5t.SGN_2 and htype.get_order() == h5py.h5t.ORDER_LE):
            problem(f"{where}@{key}: expected H5T_STD_I64LE")
        if int(stored) != value:
            problem(f"{where}@{key}: {stored} != {value}")
    elif kind == "double":
        if not (isinstance(htype, h5py.h5t.TypeFloatID) and htype.get_size() == 8 and htype.get_order() == h5py.h5t.ORDER_LE):
            problem(f"{where}@{key}: expected H5T_IEEE_F64LE")
        if float(stored) != value:
            problem(f"{where}@{key}: {stored!r} != {value!r}")
    elif kind == "bool":
        if not (isinstance(htype, h5py.h5t.TypeIntegerID) and htype.get_size() == 1
                and htype.get_sign() == h5py.h5t.SGN_NONE):
            problem(f"{where}@{key}: expected H5T_STD_U8LE")
        if int(stored) != (1 if value else 0):
            problem(f"{where}@{key}: {stored} != {value}")
    elif kind == "string":
        if not (isinstance(htype, h5py.h5t.TypeStringID) and htype.is_variable_str()
                and htype.get_cset() == h5py.h5t.CSET_UTF8):
            problem(f"{where}@{key}: expected a variable-length UTF-8 string")
        if stored != value:
            problem(f"{where}@{key}: {stored!r} != {value!r}")
    else:
        problem(f"manifest: unknown type {kind}")


FLOAT_LAYOUTS = {  # dtype -> (size, (spos, epos, esize, mpos, msize), ebias)
    "f16": (2, (15, 10, 5, 0, 10), 15),
    "bf16": (2, (15, 7, 8, 0, 7), 127),
    "f32": (4, (31, 23, 8, 0, 23), 127),
    "f64": (8, (63, 52, 11, 0, 52), 1023),
}


def decode(raw, dtype):
    """Little-endian bytes of dtype -> float64 values, with numpy only."""
    if dtype == "bf16":
        bits = np.frombuffer(raw, dtype="<u2").astype("<u4") << 16
        return bits.view("<f4").astype(np.float64)
    return np.frombuffer(raw, dtype={"f16": "<f2", "f32": "<f4", "f64": "<f8"}[dtype]).astype(np.float64)


def check_dataset(f, tensor, compressed):
    path = tensor["path"]
    dataset = f[path]
    shape = tuple(tensor["shape"])
    dtype = tensor["dtype"]
    expected = bytes.fromhex(tensor["hex"])
    if dataset.shape != shape:
        problem(f"{path}: shape {dataset.shape} != {shape}")
        return
    htype = dataset.id.get_type()
    size, fields, ebias = FLOAT_LAYOUTS[dtype]
    if not isinstance(htype, h5py.h5t.TypeFloatID):
        problem(f"{path}: not a float type")
        return
    if (htype.get_size(), htype.get_fields(), htype.get_ebias()) != (size, fields, ebias):
        problem(f"{path}: float layout {htype.get_size(), htype.get_fields(), htype.get_ebias()} is not {dtype}")
    if htype.get_order() != h5py.h5t.ORDER_LE:
        problem(f"{path}: not little-endian")
    # The raw stored bytes, read without conversion.
    raw = np.empty(shape, dtype=f"<u{size}")
    dataset.id.read(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=htype)
    if raw.tobytes() != expected:
        problem(f"{path}: stored bytes differ from the model's")
    # The values h5py hands a user (converted by libhdf5 to a numpy float type).
    values = dataset[()].astype(np.float64).reshape(-1)
    if not np.array_equal(values, decode(expected, dtype), equal_nan=True):
        problem(f"{path}: values read by h5py differ from the model's")
    crc = zlib.crc32(expected) & 0xFFFFFFFF
    if crc != tensor["crc32"]:
        problem(f"{path}: manifest crc32 {tensor['crc32']} != zlib {crc}")
    check_attribute(dataset, path, "dtype", "string", dtype)
    check_attribute(dataset, path, "source", "string", tensor["source"])
    crc_type = h5py.h5a.open(dataset.id, b"crc32").get_type()
    if not (isinstance(crc_type, h5py.h5t.TypeIntegerID) and crc_type.get_size() == 4
            and crc_type.get_sign() == h5py.h5t.SGN_NONE and crc_type.get_order() == h5py.h5t.ORDER_LE):
        problem(f"{path}@crc32: expected H5T_STD_U32LE")
    if int(dataset.attrs["crc32"]) != crc:
        problem(f"{path}@crc32: stored {int(dataset.attrs['crc32'])} != zlib {crc}")
    if compressed:
        if dataset.chunks != shape or dataset.compression != "gzip" or dataset.compression_opts != 6 or not dataset.shuffle:
            problem(f"{path}: expected one chunk {shape}, shuffle, gzip 6; found {dataset.chunks}, "
                    f"{dataset.shuffle}, {dataset.compression} {dataset.compression_opts}")
    elif dataset.chunks is not None or dataset.compression is not None:
        problem(f"{path}: expected contiguous storage")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[2]) as handle:
        manifest = json.load(handle)
    with h5py.File(sys.argv[1], "r") as f:
        for key, kind, value in manifest["root"]:
            check_attribute(f, "/", key, kind, value)
        check_attribute(f, "/", "about", "string", f.attrs.get("about", ""))
        for index, attributes in enumerate(manifest["layers"]):
            group = f[f"layer_{index}"]
            for key, kind, value in attributes:
                check_attribute(group, f"layer_{index}", key, kind, value)
        found = []
        f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
        expected = [tensor["path"] for tensor in manifest["tensors"]]
        if sorted(found) != sorted(expected):
            problem(f"datasets {sorted(found)} != {sorted(expected)}")
        for tensor in manifest["tensors"]:
            if tensor["path"] in f:
                check_dataset(f, tensor, manifest["compressed"])
    if PROBLEMS:
        print("\n".join(PROBLEMS))
        sys.exit(1)
    print(f"ok: {len(manifest['tensors'])} datasets, h5py {h5py.__version__}, HDF5 {h5py.version.hdf5_version}")


if __name__ == "__main__":
    main()
