"""The `.lstmw` container (spec/binary.md): a bounds-checked parser over a read-only memory map."""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .errors import LstmwError

MAGIC = b"\x89LST\r\n\x1a\n"
PREAMBLE = 32
MAX_HEADER = 16 * 1024 * 1024
MAX_ENTRIES = 65_536
MAX_KEY = 255
MAX_STRING = 65_535
MAX_TENSORS = 4_096
MAX_PATH = 255
MAX_RANK = 4
MAX_SOURCE = 4_096
INT64_MAX = (1 << 63) - 1

DTYPE_CODES = {1: "f32", 2: "f16", 3: "bf16", 4: "f64"}
WIDTHS = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8}
VALUE_TYPES = {1: "int", 2: "double", 3: "string", 4: "bool"}

_KEY_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_PATH_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/")


def align64(value: int) -> int:
    return (value + 63) // 64 * 64


@dataclass
class Entry:
    """One directory entry (spec/binary.md §4)."""

    path: str
    dtype: str
    shape: Tuple[int, ...]
    offset: int
    nbytes: int
    crc32: int
    source: Optional[str]
    entry_offset: int  # absolute offset of the entry in the file


@dataclass
class Container:
    """Steps 1–5 of spec/binary.md §7: preamble, metadata (in file order) and directory."""

    major: int
    minor: int
    flags: int
    header_length: int
    header_crc32: int
    data_offset: int
    size: int
    metadata: List[Tuple[str, str, Any]]  # (key, type name, value)
    entries: List[Entry]
    buffer: Any  # the mapped bytes (mmap or bytes)

    def tensor_bytes(self, entry: Entry) -> memoryview:
        start = self.data_offset + entry.offset
        return memoryview(self.buffer)[start:start + entry.nbytes]


def _fail(code: str, message: str, offset: Optional[int] = None, **context: Any) -> LstmwError:
    return LstmwError(code, message, offset=offset, **context)


def _describe_magic(head: bytes) -> str:
    if head[:4] == b"\x89HDF":
        return "not a .lstmw file: this is an HDF5 file (read it as the HDF5 encoding)"
    if len(head) >= 1 and head[0] == 0x09 and head[1:8] == MAGIC[1:len(head)]:
        return "damaged signature: bit 7 of the first byte was cleared (a 7-bit channel)"
    if head[1:4] == b"LST":
        rest = head[4:]
        if rest.startswith(b"\n\x1a\n"):
            return "damaged signature: CR LF became LF (text-mode transfer)"
        if rest.startswith(b"\r\r\n\x1a\r\n") or rest.startswith(b"\r\n\x1a\r\n"):
            return "damaged signature: LF became CR LF (text-mode transfer)"
    return "not a .lstmw file: the signature differs"


class _Cursor:
    """Reads fields of the header, every read bounds-checked against `end`."""

    def __init__(self, buffer: Any, position: int, end: int) -> None:
        self.buffer = buffer
        self.position = position
        self.end = end

    def take(self, count: int, what: str) -> bytes:
        if count > self.end - self.position:
            raise _fail("truncatedHeader", f"{what} runs past the end of the header", self.position,
                        expected=f"{count} bytes", found=f"{self.end - self.position} bytes")
        start = self.position
        self.position += count
        return bytes(self.buffer[start:start + count])

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        return struct.unpack("<H", self.take(2, what))[0]

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack("<Q", self.take(8, what))[0]


def open_buffer(path: str) -> Tuple[Any, int]:
    """Maps the file read-only; every size check uses the mapping's length."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return b"", 0
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as error:
        raise LstmwError("cannotRead", f"cannot open or map the file: {error}", file=path) from None
    return mapped, len(mapped)


def parse(buffer: Any) -> Container:
    """Runs steps 1–5 of spec/binary.md §7 over `buffer` (bytes or a read-only mmap)."""
    size = len(buffer)

    # Step 1: signature and size.
    head = bytes(buffer[:8])
    if head != MAGIC[:len(head)]:
        raise _fail("badMagic", _describe_magic(bytes(buffer[:12])), 0, expected=MAGIC.hex(" "), found=head.hex(" "))
    if size < PREAMBLE:
        raise _fail("truncated", "the file is shorter than the 32-byte preamble", size,
                    expected="at least 32 bytes", found=f"{size} bytes")

    # Step 2: byte order, version, flags.
    major, minor = struct.unpack_from("<HH", buffer, 8)
    mark = bytes(buffer[12:16])
    if mark == b"\x01\x02\x03\x04":
        raise _fail("bigEndian", "the byte-order mark is big-endian; format 1 files are little-endian", 12,
                    expected="04 03 02 01", found="01 02 03 04")
    if mark != b"\x04\x03\x02\x01":
        raise _fail("badByteOrderMark", "the byte-order mark is damaged", 12, expected="04 03 02 01",
                    found=mark.hex(" "))
    if major == 0 or major > 1:
        raise _fail("unsupportedVersion", f"the file is format {major}.{minor}; this reader supports 1.x (up to 1.0)",
                    8, expected="1.x", found=f"{major}.{minor}")
    header_length, header_crc, flags = struct.unpack_from("<QII", buffer, 16)
    if flags != 0:
        raise _fail("unknownRequiredFeature", "the file requires features this reader does not know", 28,
                    expected="0x00000000", found=f"0x{flags:08x}")

    # Step 3: header length and checksum.
    if header_length == 0 or header_length > MAX_HEADER:
        raise _fail("invalidHeaderLength", "header_length must be 1…16 MiB", 16, expected="1…16777216",
                    found=str(header_length))
    header_end = PREAMBLE + header_length
    if header_end > size:
        raise _fail("truncated", "the header runs past the end of the file", size,
                    expected=f"at least {header_end} bytes", found=f"{size} bytes")
    crc = zlib.crc32(memoryview(buffer)[0:24])
    crc = zlib.crc32(memoryview(buffer)[28:header_end], crc)
    if crc != header_crc:
        raise _fail("headerChecksumMismatch", "the header checksum does not match", 24,
                    expected=f"0x{header_crc:08x}", found=f"0x{crc:08x}")

    # Step 4: metadata and directory.
    cursor = _Cursor(buffer, PREAMBLE, header_end)
    metadata = _parse_metadata(cursor)
    entries = _parse_directory(cursor)
    if cursor.position != header_end:
        raise _fail("headerTrailingBytes", "bytes are left between the directory and the end of the header",
                    cursor.position, expected=str(header_end), found=str(cursor.position))

    # Step 5: data section framing.
    data_offset = align64(header_end)
    if data_offset > size:
        raise _fail("truncated", "the data section starts past the end of the file", size,
                    expected=f"at least {data_offset} bytes", found=f"{size} bytes")
    _check_zero(buffer, header_end, data_offset)
    previous_end = 0
    for entry in entries:
        end = data_offset + entry.offset + entry.nbytes
        if end > size:
            raise _fail("truncated", f"tensor {entry.path} runs past the end of the file", size,
                        tensor=entry.path, expected=f"at least {end} bytes", found=f"{size} bytes")
        _check_zero(buffer, data_offset + previous_end, data_offset + entry.offset)
        previous_end = entry.offset + entry.nbytes
    if data_offset + previous_end < size:
        raise _fail("trailingBytes", "bytes follow the last tensor", data_offset + previous_end,
                    expected=f"{data_offset + previous_end} bytes", found=f"{size} bytes")
    return Container(major, minor, flags, header_length, header_crc, data_offset, size, metadata, entries, buffer)


def _check_zero(buffer: Any, start: int, end: int) -> None:
    if end <= start:
        return
    region = np.frombuffer(buffer, dtype=np.uint8, count=end - start, offset=start)
    nonzero = np.flatnonzero(region)
    if nonzero.size:
        raise _fail("nonZeroPadding", "padding bytes must be zero", start + int(nonzero[0]), expected="00",
                    found=f"{int(region[nonzero[0]]):02x}")


def _parse_metadata(cursor: _Cursor) -> List[Tuple[str, str, Any]]:
    count_at = cursor.position
    count = cursor.u32("entry_count")
    if count > MAX_ENTRIES:
        raise _fail("invalidEntryCount", "too many metadata entries", count_at, expected=f"≤ {MAX_ENTRIES}",
                    found=str(count))
    entries: List[Tuple[str, str, Any]] = []
    seen = set()
    for _ in range(count):
        start = cursor.position
        length = cursor.u16("key_length")
        if length == 0 or length > MAX_KEY:
            raise _fail("invalidKey", "a key must be 1…255 bytes", start, expected="1…255", found=str(length))
        raw = cursor.take(length, "key")
        if not all(byte in _KEY_BYTES for byte in raw):
            raise _fail("invalidKey", "a key may only hold [A-Za-z0-9._-]", start, key=raw.decode("latin-1"),
                        expected="[A-Za-z0-9._-]", found=repr(raw))
        key = raw.decode("ascii")
        if key in seen:
            raise _fail("duplicateKey", f"the key {key} appears twice", start, key=key)
        seen.add(key)
        type_at = cursor.position
        code = cursor.u8("value_type")
        if code not in VALUE_TYPES:
            raise _fail("unknownValueType", f"value type {code} is not 1…4", type_at, key=key, expected="1…4",
                        found=str(code))
        kind = VALUE_TYPES[code]
        value: Any
        if kind == "int":
            value = struct.unpack("<q", cursor.take(8, f"value of {key}"))[0]
        elif kind == "double":
            value = struct.unpack("<d", cursor.take(8, f"value of {key}"))[0]
        elif kind == "bool":
            byte = cursor.u8(f"value of {key}")
            if byte > 1:
                raise _fail("invalidValue", "a bool is 0 or 1", type_at + 1, key=key, expected="0 or 1",
                            found=str(byte))
            value = byte == 1
        else:
            length_at = cursor.position
            length = cursor.u32(f"string length of {key}")
            if length > MAX_STRING:
                raise _fail("invalidValue", "a string value is at most 65 535 bytes", length_at, key=key,
                            expected=f"≤ {MAX_STRING}", found=str(length))
            raw = cursor.take(length, f"value of {key}")
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _fail("invalidValue", "a string value is not UTF-8", length_at + 4, key=key,
                            expected="UTF-8", found=raw[:16].hex(" ")) from None
        entries.append((key, kind, value))
    return entries


def _parse_directory(cursor: _Cursor) -> List[Entry]:
    count_at = cursor.position
    count = cursor.u32("tensor_count")
    if count == 0 or count > MAX_TENSORS:
        raise _fail("invalidTensorCount", "tensor_count must be 1…4 096", count_at, expected="1…4096",
                    found=str(count))
    entries: List[Entry] = []
    seen = set()
    expected_offset = 0
    for _ in range(count):
        start = cursor.position
        length = cursor.u16("path_length")
        if length == 0 or length > MAX_PATH:
            raise _fail("invalidTensorName", "a tensor path must be 1…255 bytes", start, expected="1…255",
                        found=str(length))
        raw = cursor.take(length, "tensor path")
        if not all(byte in _PATH_BYTES for byte in raw):
            raise _fail("invalidTensorName", "a tensor path may only hold [A-Za-z0-9_/]", start,
                        tensor=raw.decode("latin-1"), expected="[A-Za-z0-9_/]", found=repr(raw))
        path = raw.decode("ascii")
        if path in seen:
            raise _fail("duplicateTensor", f"the tensor {path} appears twice", start, tensor=path)
        seen.add(path)
        at = cursor.position
        code = cursor.u8("dtype")
        if code not in DTYPE_CODES:
            raise _fail("unknownDType", f"dtype {code} is not 1…4", at, tensor=path, expected="1…4", found=str(code))
        dtype = DTYPE_CODES[code]
        at = cursor.position
        rank = cursor.u8("rank")
        if rank == 0 or rank > MAX_RANK:
            raise _fail("invalidRank", "rank must be 1…4", at, tensor=path, expected="1…4", found=str(rank))
        dims_at = cursor.position
        dims = [cursor.u64("dimension") for _ in range(rank)]
        for dim in dims:
            if dim == 0:
                raise _fail("invalidShape", "a dimension is 0", dims_at, tensor=path, expected="≥ 1",
                            found=str(dims))
        elements = 1
        for dim in dims:
            if dim > INT64_MAX:
                raise _fail("shapeOverflow", "a dimension does not fit a signed 64-bit integer", dims_at,
                            tensor=path, found=str(dims))
            elements *= dim
            if elements > INT64_MAX:
                raise _fail("shapeOverflow", "the element count overflows", dims_at, tensor=path, found=str(dims))
        byte_size = elements * WIDTHS[dtype]
        if byte_size > INT64_MAX:
            raise _fail("shapeOverflow", "the byte size overflows", dims_at, tensor=path, found=str(dims))
        at = cursor.position
        offset = cursor.u64("offset")
        if offset % 64:
            raise _fail("misalignedOffset", "a tensor offset must be a multiple of 64", at, tensor=path,
                        expected="a multiple of 64", found=str(offset))
        if offset < expected_offset:
            raise _fail("tensorOverlap", f"tensor {path} overlaps the previous tensor", at, tensor=path,
                        expected=str(expected_offset), found=str(offset))
        if offset > expected_offset:
            raise _fail("tensorGap", f"tensor {path} leaves a gap after the previous tensor", at, tensor=path,
                        expected=str(expected_offset), found=str(offset))
        at = cursor.position
        nbytes = cursor.u64("nbytes")
        if nbytes != byte_size:
            raise _fail("byteCountMismatch", f"nbytes of {path} disagrees with its shape and dtype", at,
                        tensor=path, expected=str(byte_size), found=str(nbytes))
        if offset + nbytes > INT64_MAX:
            raise _fail("shapeOverflow", "the end offset overflows", at, tensor=path, found=str(offset + nbytes))
        crc = cursor.u32("crc32")
        at = cursor.position
        source_length = cursor.u16("source_length")
        if source_length > MAX_SOURCE:
            raise _fail("invalidSourceName", "a source name is at most 4 096 bytes", at, tensor=path,
                        expected=f"≤ {MAX_SOURCE}", found=str(source_length))
        raw_source = cursor.take(source_length, "source")
        try:
            source = raw_source.decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("invalidSourceName", "a source name is not UTF-8", at + 2, tensor=path,
                        expected="UTF-8", found=raw_source[:16].hex(" ")) from None
        entries.append(Entry(path, dtype, tuple(dims), offset, nbytes, crc, source or None, start))
        expected_offset = align64(offset + nbytes)
    return entries
