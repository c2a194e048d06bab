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


# ---------------------------------------------------------------------------------------------------------
# RawFile: the Python port of Tests/LSTMBinaryTests/RawFile.swift, every field of the container editable.

def le(value: int, size: int) -> bytes:
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


class Entry:
    def __init__(self, key: Any, kind: str, value: Any) -> None:
        self.key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        encoded = encode_value(kind, value)
        self.type = encoded[0]
        self.payload = encoded[1:]

    def bytes(self) -> bytes:
        return le(len(self.key), 2) + self.key + bytes([self.type]) + self.payload


class Directory:
    def __init__(self, path: bytes, dtype: int, dims: List[int], offset: int, nbytes: int, crc: int, source: bytes):
        self.path, self.dtype, self.rank, self.dims = path, dtype, None, dims
        self.offset, self.nbytes, self.crc, self.source = offset, nbytes, crc, source

    def bytes(self) -> bytes:
        rank = len(self.dims) if self.rank is None else self.rank
        out = le(len(self.path), 2) + self.path + bytes([self.dtype, rank])
        out += b"".join(le(d, 8) for d in self.dims)
        return out + le(self.offset, 8) + le(self.nbytes, 8) + le(self.crc, 4) + le(len(self.source), 2) + self.source


class Item:
    def __init__(self, path: str, dtype: str, shape: Sequence[int], payload: bytes, source: str = "") -> None:
        self.path, self.dtype, self.shape, self.payload, self.source = path, dtype, list(shape), payload, source


class RawFile:
    def __init__(self, metadata: List[Entry], items: List[Item]) -> None:
        self.magic = MAGIC
        self.major, self.minor = 1, 0
        self.byte_order_mark = b"\x04\x03\x02\x01"
        self.header_length: Optional[int] = None
        self.header_checksum: Optional[int] = None
        self.flags = 0
        self.metadata_count: Optional[int] = None
        self.metadata = metadata
        self.tensor_count: Optional[int] = None
        self.header_trailer = b""
        self.omit_directory = False
        self.drop_header_tail = 0
        self.head_padding: Optional[bytes] = None
        self.trailer = b""
        self.directory: List[Directory] = []
        data = bytearray()
        for item in items:
            data += b"\x00" * ((64 - len(data) % 64) % 64)
            self.directory.append(Directory(item.path.encode(), DTYPE_CODES[item.dtype], list(item.shape), len(data),
                                            len(item.payload), zlib.crc32(item.payload), item.source.encode()))
            data += item.payload
        self.data = data

    @staticmethod
    def of(ck: Any) -> "RawFile":
        metadata, tensors = from_checkpoint(ck)
        return RawFile([Entry(k, kind, v) for k, kind, v in metadata], RawFile.items_of(ck))

    @staticmethod
    def items_of(ck: Any) -> List[Item]:
        _, tensors = from_checkpoint(ck)
        return [Item(path, dtype, shape, payload, source or "") for path, dtype, shape, payload, source in tensors]

    def header_bytes(self) -> bytes:
        out = bytearray(le(len(self.metadata) if self.metadata_count is None else self.metadata_count, 4))
        for entry in self.metadata:
            out += entry.bytes()
        if not self.omit_directory:
            out += le(len(self.directory) if self.tensor_count is None else self.tensor_count, 4)
            for entry in self.directory:
                out += entry.bytes()
        out += self.header_trailer
        return bytes(out[:len(out) - self.drop_header_tail])

    def encode(self) -> bytes:
        header = self.header_bytes()
        length = len(header) if self.header_length is None else self.header_length
        preamble = bytearray(self.magic + le(self.major, 2) + le(self.minor, 2) + self.byte_order_mark + le(length, 8))
        crc_field = len(preamble)
        preamble += le(0, 4) + le(self.flags, 4)
        crc = self.header_checksum
        if crc is None:
            crc = zlib.crc32(bytes(preamble[:crc_field]) + bytes(preamble[crc_field + 4:]) + header)
        preamble[crc_field:crc_field + 4] = le(crc, 4)
        file = bytes(preamble) + header
        file += self.head_padding if self.head_padding is not None else b"\x00" * ((64 - len(file) % 64) % 64)
        return file + bytes(self.data) + self.trailer

    def index(self, key: str) -> int:
        for position, entry in enumerate(self.metadata):
            if entry.key == key.encode():
                return position
        raise KeyError(key)

    def set(self, key: str, kind: str, value: Any) -> None:
        entry = Entry(key, kind, value)
        for position, existing in enumerate(self.metadata):
            if existing.key == entry.key:
                self.metadata[position] = entry
                return
        self.metadata.append(entry)

    def remove(self, key: str) -> None:
        self.metadata = [entry for entry in self.metadata if entry.key != key.encode()]
