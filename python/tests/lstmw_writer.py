"""A minimal `.lstmw` writer for tests (spec/binary.md §3–§5): builds hand-made and mutated files."""

from __future__ import annotations

import struct
import zlib
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

MAGIC = b"\x89LST\r\n\x1a\n"
DTYPE_CODES = {"f32": 1, "f16": 2, "bf16": 3, "f64": 4}
NUMPY = {"f32": "<f4", "f16": "<f2", "bf16": "<u2", "f64": "<f8"}


def align64(value: int) -> int:
    return (value + 63) // 64 * 64


def encode_value(kind: str, value: Any) -> bytes:
    if kind == "int":
        return b"\x01" + struct.pack("<q", value)
    if kind == "double":
        return b"\x02" + struct.pack("<d", value)
    if kind == "string":
        raw = value.encode("utf-8")
        return b"\x03" + struct.pack("<I", len(raw)) + raw
    if kind == "bool":
        return b"\x04" + bytes([1 if value else 0])
    raise ValueError(kind)


def encode(metadata: Sequence[Tuple[str, str, Any]], tensors: Sequence[Tuple[str, str, Tuple[int, ...], bytes, Optional[str]]],
           major: int = 1, minor: int = 0) -> bytes:
    """metadata: (key, kind, value); tensors: (path, dtype, shape, little-endian bytes, source)."""
    header = bytearray(struct.pack("<I", len(metadata)))
    for key, kind, value in metadata:
        raw = key.encode("ascii")
        header += struct.pack("<H", len(raw)) + raw + encode_value(kind, value)
    header += struct.pack("<I", len(tensors))
    data = bytearray()
    for path, dtype, shape, payload, source in tensors:
        offset = align64(len(data))
        data += b"\x00" * (offset - len(data))
        raw = path.encode("ascii")
        header += struct.pack("<H", len(raw)) + raw + bytes([DTYPE_CODES[dtype], len(shape)])
        header += b"".join(struct.pack("<Q", d) for d in shape)
        header += struct.pack("<QQI", offset, len(payload), zlib.crc32(payload))
        src = (source or "").encode("utf-8")
        header += struct.pack("<H", len(src)) + src
        data += payload
    head = MAGIC + struct.pack("<HH", major, minor) + b"\x04\x03\x02\x01" + struct.pack("<Q", len(header))
    crc = zlib.crc32(bytes(header), zlib.crc32(struct.pack("<I", 0), zlib.crc32(head)))
    preamble = head + struct.pack("<II", crc, 0)
    body = preamble + bytes(header)
    return body + b"\x00" * (align64(len(body)) - len(body)) + bytes(data)


def from_checkpoint(ck: Any) -> Tuple[List[Tuple[str, str, Any]], List[Tuple[str, str, Tuple[int, ...], bytes, Optional[str]]]]:
    """The metadata and tensors of a loaded checkpoint, in a form `encode` accepts (for mutations)."""
    from lstmw.schema import type_name

    metadata = [(key, type_name(value), value) for key, value in ck.metadata.items()]
    for layer in ck.layers:
        for key, value in ck.layer_metadata[layer.index].items():
            metadata.append((f"layer.{layer.index}.{key}", type_name(value), value))
    tensors = []
    for path, array in ck.tensors.items():
        dtype = ck.dtypes[path]
        raw = np.ascontiguousarray(array).view(NUMPY[dtype]) if dtype == "bf16" else np.ascontiguousarray(array, NUMPY[dtype])
        tensors.append((path, dtype, tuple(array.shape), raw.tobytes(), ck.sources[path]))
    return metadata, tensors
