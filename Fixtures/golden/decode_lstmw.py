#!/usr/bin/env python3
"""Independent decoder of the .lstmw container, written from spec/binary.md (not from the Swift code).

For every golden file it checks the container rules of spec/binary.md §7 (signature, byte order, version,
flags, header length and CRC-32, metadata TLV, tensor directory, 64-byte alignment, zero padding, no gaps,
overlaps or trailing bytes, per-tensor CRC-32) and writes `<name>.expected.json` with the decoded preamble,
metadata and every tensor's dtype, shape, offsets, CRC-32, source name and values. The Swift golden test
asserts its reader decodes exactly these values.

Usage (needs only numpy):
    python3 Fixtures/golden/decode_lstmw.py            # regenerate every *.expected.json next to the .lstmw files
    python3 Fixtures/golden/decode_lstmw.py --check    # decode and compare with the committed JSON, write nothing
"""

import json
import pathlib
import struct
import sys
import zlib

import numpy as np

MAGIC = bytes([0x89, 0x4C, 0x53, 0x54, 0x0D, 0x0A, 0x1A, 0x0A])
BOM_LE = bytes([0x04, 0x03, 0x02, 0x01])
MAX_HEADER = 16 << 20
ALIGN = 64
DTYPES = {1: ("f32", 4), 2: ("f16", 2), 3: ("bf16", 2), 4: ("f64", 8)}
VALUE_TYPES = {1: "int", 2: "double", 3: "string", 4: "bool"}


class FormatError(Exception):
    pass


def align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


class Cursor:
    def __init__(self, buf, start, end):
        self.buf, self.pos, self.end = buf, start, end

    def take(self, n):
        if n > self.end - self.pos:
            raise FormatError(f"truncated header at {self.pos}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def u(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack("<" + fmt, self.take(size))[0]


def decode_values(raw, dtype):
    if dtype == "f32":
        return [float(x) for x in np.frombuffer(raw, dtype="<f4")]
    if dtype == "f64":
        return [float(x) for x in np.frombuffer(raw, dtype="<f8")]
    if dtype == "f16":
        return [float(x) for x in np.frombuffer(raw, dtype="<f2")]
    if dtype == "bf16":
        words = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return [float(x) for x in words.view(np.float32)]
    raise FormatError(dtype)


def decode(buf):
    if len(buf) < 32 or buf[:8] != MAGIC:
        raise FormatError("bad magic or short file")
    major, minor = struct.unpack_from("<HH", buf, 8)
    if buf[12:16] != BOM_LE:
        raise FormatError("byte-order mark")
    if major != 1:
        raise FormatError(f"unsupported major {major}")
    header_length, header_crc, flags = struct.unpack_from("<QII", buf, 16)
    if flags != 0:
        raise FormatError("unknown required flags")
    if not 1 <= header_length <= MAX_HEADER or 32 + header_length > len(buf):
        raise FormatError("header length")
    header_end = 32 + header_length
    if zlib.crc32(buf[0:24] + buf[28:header_end]) != header_crc:
        raise FormatError("header CRC")

    cur = Cursor(buf, 32, header_end)
    metadata, keys = [], set()
    for _ in range(cur.u("I")):
        key_bytes = cur.take(cur.u("H"))
        key = key_bytes.decode("ascii")
        if not key or len(key) > 255 or any(not (c.isascii() and (c.isalnum() or c in "._-")) for c in key):
            raise FormatError(f"bad key {key!r}")
        if key in keys:
            raise FormatError(f"duplicate key {key}")
        keys.add(key)
        kind = VALUE_TYPES[cur.u("B")]
        if kind == "int":
            value = cur.u("q")
        elif kind == "double":
            value = cur.u("d")
        elif kind == "string":
            value = cur.take(cur.u("I")).decode("utf-8")
        else:
            byte = cur.u("B")
            if byte > 1:
                raise FormatError("bool")
            value = bool(byte)
        metadata.append({"key": key, "type": kind, "value": value})

    count = cur.u("I")
    if not 1 <= count <= 4096:
        raise FormatError("tensor count")
    entries, expected_offset = [], 0
    for _ in range(count):
        path = cur.take(cur.u("H")).decode("ascii")
        dtype, width = DTYPES[cur.u("B")]
        rank = cur.u("B")
        if not 1 <= rank <= 4:
            raise FormatError("rank")
        shape = [cur.u("Q") for _ in range(rank)]
        offset, nbytes, crc = cur.u("Q"), cur.u("Q"), cur.u("I")
        source = cur.take(cur.u("H")).decode("utf-8")
        if offset != expected_offset or nbytes != int(np.prod(shape)) * width or 0 in shape:
            raise FormatError(f"layout of {path}")
        entries.append((path, dtype, shape, offset, nbytes, crc, source))
        expected_offset = align(offset + nbytes)
    if cur.pos != header_end:
        raise FormatError("bytes after the directory")

    data_offset = align(header_end)
    if any(buf[header_end:data_offset]):
        raise FormatError("non-zero padding after the header")
    tensors, previous_end = [], 0
    for path, dtype, shape, offset, nbytes, crc, source in entries:
        if any(buf[data_offset + previous_end:data_offset + offset]):
            raise FormatError(f"non-zero padding before {path}")
        raw = buf[data_offset + offset:data_offset + offset + nbytes]
        if len(raw) != nbytes or zlib.crc32(raw) != crc:
            raise FormatError(f"data of {path}")
        previous_end = offset + nbytes
        tensors.append({
            "path": path, "dtype": dtype, "shape": shape, "offset": offset, "nbytes": nbytes, "crc32": crc,
            "source": source, "values": decode_values(raw, dtype),
        })
    if data_offset + previous_end != len(buf):
        raise FormatError("trailing bytes")

    return {
        "preamble": {
            "major": major, "minor": minor, "flags": flags, "header_length": header_length,
            "header_crc32": header_crc, "data_offset": data_offset, "file_size": len(buf),
        },
        "metadata": metadata,
        "tensors": tensors,
    }


def main():
    check = "--check" in sys.argv[1:]
    folder = pathlib.Path(__file__).resolve().parent
    files = sorted(folder.glob("*.lstmw"))
    if not files:
        sys.exit("no .lstmw files; record them first with RECORD_GOLDEN=1 swift test --filter GoldenFileTests")
    failed = False
    for path in files:
        decoded = decode(path.read_bytes())
        text = json.dumps(decoded, indent=1) + "\n"
        target = path.with_suffix(".expected.json")
        if check:
            if not target.exists() or target.read_text() != text:
                print(f"{target.name}: differs from the decoded file")
                failed = True
        else:
            target.write_text(text)
            print(f"wrote {target.name}: {len(decoded['tensors'])} tensors, {len(decoded['metadata'])} metadata entries")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
