"""Hostile and damaged files: the same error codes as the Swift reader, never a crash.

`CORRUPTIONS` ports every case of Tests/LSTMBinaryTests/CorruptionTests.swift (same names, same codes, built the
same way with the header CRC recomputed); the HDF5 cases are the committed Fixtures/hdf5/malformed files with the
codes of Tests/LSTMHDF5Tests/MalformedTests.swift; attribute mutations are checked against the `lstmconv` CLI.
"""

from __future__ import annotations

import math
import struct
from typing import Callable, List, NamedTuple, Optional

import numpy as np
import pytest

import lstmw
from conftest import FIXTURES, run_cli
from lstmw_writer import Entry, Item, RawFile, from_checkpoint, encode

SMALL = lstmw.load(FIXTURES / "golden/small_lstm.lstmw")
GRU = lstmw.load(FIXTURES / "golden/bidirectional_gru.lstmw")
SMALL_BYTES = (FIXTURES / "golden/small_lstm.lstmw").read_bytes()


class Corruption(NamedTuple):
    name: str
    code: str
    make: Callable[[], bytes]
    mentions: List[str] = []
    underlying: Optional[str] = None


def raw(edit, ck=SMALL):
    def make():
        file = RawFile.of(ck)
        edit(file)
        return file.encode()
    return make


def byte_edit(edit):
    def make():
        data = bytearray(SMALL_BYTES)
        result = edit(data)
        return bytes(data if result is None else result)
    return make


def items(edit, ck=SMALL):
    def make():
        listed = RawFile.items_of(ck)
        edit(listed)
        return RawFile(RawFile.of(ck).metadata, listed).encode()
    return make


def floats(count):
    return np.linspace(-0.5, 0.5, count, dtype="<f4").tobytes()


def assign(obj, **values):
    for key, value in values.items():
        setattr(obj, key, value)


def _dir(file, index, **values):
    assign(file.directory[index], **values)


def _payload(file, key, payload):
    file.metadata[file.index(key)].payload = payload


def _first_not_at_zero(file):
    for entry in file.directory:
        entry.offset += 64
    file.data[0:0] = b"\x00" * 64


def _gap(file):
    last = file.directory[-1]
    start = last.offset
    last.offset += 64
    file.data[start:start] = b"\x00" * 64


def _head_padding(file):
    padding = (64 - (32 + len(file.header_bytes())) % 64) % 64
    assert padding > 0
    file.head_padding = b"\x00" * (padding - 1) + b"\x01"


def _padding_between(file):
    end = file.directory[0].offset + file.directory[0].nbytes
    assert end < file.directory[1].offset
    file.data[end] = 0x80


def _flip(file, index, mask):
    file.data[index] ^= mask


def _int_cut(file):
    file.omit_directory = True
    file.metadata.append(Entry("cut", "int", 7))
    file.drop_header_tail = 3


U = struct.pack
CORRUPTIONS = [
    # Preamble and framing (§7 steps 1–3)
    Corruption("empty file", "truncated", lambda: b""),
    Corruption("magic prefix only", "truncated", byte_edit(lambda d: d[:5])),
    Corruption("shorter than the preamble", "truncated", byte_edit(lambda d: d[:31])),
    Corruption("text file", "badMagic", lambda: b"hello, world\n", ["not a .lstmw file"]),
    Corruption("HDF5 file", "badMagic", lambda: bytes([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) + b"\x00" * 100,
               ["HDF5"]),
    Corruption("bit 7 cleared (7-bit channel)", "badMagic", byte_edit(lambda d: bytes(b & 0x7F for b in d)), ["7-bit"]),
    Corruption("CR LF converted to LF", "badMagic", byte_edit(lambda d: bytes(d).replace(b"\r\n", b"\n")),
               ["CR LF became LF"]),
    Corruption("LF converted to CR LF", "badMagic", byte_edit(lambda d: bytes(d).replace(b"\n", b"\r\n")),
               ["LF became CR LF"]),
    Corruption("lone LF converted to CR LF", "badMagic", byte_edit(lambda d: bytes(d[:7]) + b"\r\n" + bytes(d[8:])),
               ["LF became CR LF"]),
    Corruption("byte-swapped byte-order mark", "bigEndian", raw(lambda f: assign(f, byte_order_mark=b"\x01\x02\x03\x04"))),
    Corruption("garbage byte-order mark", "badByteOrderMark", raw(lambda f: assign(f, byte_order_mark=b"\x04\x03\x02\x00"))),
    Corruption("major version 0", "unsupportedVersion", raw(lambda f: assign(f, major=0))),
    Corruption("newer major version", "unsupportedVersion",
               raw(lambda f: (assign(f, major=2), f.set("format_major", "int", 2))), ["2.0", "1.0"]),
    Corruption("unknown required flag (bit 0)", "unknownRequiredFeature", raw(lambda f: assign(f, flags=1))),
    Corruption("unknown required flag (bit 31)", "unknownRequiredFeature", raw(lambda f: assign(f, flags=1 << 31))),
    Corruption("header length 0", "invalidHeaderLength", raw(lambda f: assign(f, header_length=0))),
    Corruption("header length above the 16 MiB cap", "invalidHeaderLength",
               raw(lambda f: assign(f, header_length=16 * 1024 * 1024 + 1))),
    Corruption("header length 2^64-1", "invalidHeaderLength", raw(lambda f: assign(f, header_length=(1 << 64) - 1))),
    Corruption("header length past end of file", "truncated",
               raw(lambda f: assign(f, header_length=len(f.header_bytes()) + 4096))),
    Corruption("header checksum field damaged", "headerChecksumMismatch", byte_edit(lambda d: d.__setitem__(24, d[24] ^ 1))),
    Corruption("header byte damaged", "headerChecksumMismatch", byte_edit(lambda d: d.__setitem__(40, d[40] ^ 0x10))),
    Corruption("minor version damaged", "headerChecksumMismatch", byte_edit(lambda d: d.__setitem__(10, d[10] ^ 4))),
    Corruption("header length shortened", "headerChecksumMismatch", byte_edit(lambda d: d.__setitem__(16, (d[16] - 1) % 256))),
    # Metadata TLV (§7 step 4)
    Corruption("metadata count exceeds entries", "truncatedHeader",
               raw(lambda f: assign(f, omit_directory=True, metadata_count=len(f.metadata) + 1))),
    Corruption("int value cut by header end", "truncatedHeader", raw(_int_cut)),
    Corruption("string length past header end", "truncatedHeader",
               raw(lambda f: _payload(f, "provenance.converter",
                                      U("<I", 60_000) + f.metadata[f.index("provenance.converter")].payload[4:]))),
    Corruption("metadata count above the cap", "invalidEntryCount", raw(lambda f: assign(f, metadata_count=65_537))),
    Corruption("empty key", "invalidKey", raw(lambda f: assign(f.metadata[0], key=b""))),
    Corruption("key with a space", "invalidKey", raw(lambda f: f.metadata.append(Entry("bad key", "int", 1)))),
    Corruption("non-ASCII key", "invalidKey", raw(lambda f: f.metadata.append(Entry("größe", "int", 1)))),
    Corruption("key longer than 255 bytes", "invalidKey", raw(lambda f: f.metadata.append(Entry("k" * 256, "int", 1)))),
    Corruption("duplicate key", "duplicateKey",
               raw(lambda f: f.metadata.append(f.metadata[f.index("layer.0.hidden_size")]))),
    Corruption("value type code 7", "unknownValueType", raw(lambda f: assign(f.metadata[0], type=7))),
    Corruption("value type code 0", "unknownValueType", raw(lambda f: assign(f.metadata[0], type=0))),
    Corruption("bool byte 2", "invalidValue", raw(lambda f: _payload(f, "layer.0.return_sequences", b"\x02"))),
    Corruption("string not UTF-8", "invalidValue", raw(lambda f: _payload(f, "provenance.converter", U("<I", 2) + b"\xc3\x28"))),
    Corruption("string longer than the cap", "invalidValue",
               raw(lambda f: _payload(f, "provenance.converter", U("<I", 65_536) + b"a" * 65_536))),
    # Tensor directory (§7 step 4)
    Corruption("no tensors", "invalidTensorCount", raw(lambda f: assign(f, directory=[], data=bytearray()))),
    Corruption("tensor count above the cap", "invalidTensorCount", raw(lambda f: assign(f, tensor_count=4097))),
    Corruption("tensor count exceeds entries", "truncatedHeader",
               raw(lambda f: assign(f, tensor_count=len(f.directory) + 1))),
    Corruption("directory entry cut", "truncatedHeader", raw(lambda f: assign(f, drop_header_tail=5))),
    Corruption("empty tensor path", "invalidTensorName", raw(lambda f: _dir(f, 0, path=b""))),
    Corruption("tensor path with a space", "invalidTensorName", raw(lambda f: _dir(f, 0, path=b"layer_0/forward/W n"))),
    Corruption("tensor path longer than 255 bytes", "invalidTensorName", raw(lambda f: _dir(f, 0, path=b"a" * 256))),
    Corruption("duplicate tensor path", "duplicateTensor", raw(lambda f: _dir(f, 1, path=f.directory[0].path))),
    Corruption("dtype code 9", "unknownDType", raw(lambda f: _dir(f, 0, dtype=9))),
    Corruption("dtype code 0", "unknownDType", raw(lambda f: _dir(f, 0, dtype=0))),
    Corruption("rank 0", "invalidRank", raw(lambda f: _dir(f, 0, dims=[]))),
    Corruption("rank 5", "invalidRank", raw(lambda f: _dir(f, 0, dims=[1, 1, 1, 4, 7]))),
    Corruption("rank byte 255", "invalidRank", raw(lambda f: _dir(f, 0, rank=255))),
    Corruption("zero dimension", "invalidShape", raw(lambda f: _dir(f, 0, dims=[4, 0]))),
    Corruption("dimension above Int64.max", "shapeOverflow", raw(lambda f: _dir(f, 0, dims=[1 << 63, 1]))),
    Corruption("element count overflows", "shapeOverflow", raw(lambda f: _dir(f, 0, dims=[1 << 40, 1 << 40]))),
    Corruption("byte size overflows", "shapeOverflow", raw(lambda f: _dir(f, 0, dims=[1 << 62, 1]))),
    Corruption("nbytes disagrees with the shape", "byteCountMismatch",
               raw(lambda f: _dir(f, 0, nbytes=f.directory[0].nbytes + 4))),
    Corruption("misaligned offset", "misalignedOffset", raw(lambda f: _dir(f, 1, offset=f.directory[1].offset + 8))),
    Corruption("first tensor not at 0", "tensorGap", raw(_first_not_at_zero)),
    Corruption("overlapping tensors", "tensorOverlap", raw(lambda f: _dir(f, 1, offset=f.directory[0].offset))),
    Corruption("every tensor aliasing one range", "tensorOverlap",
               raw(lambda f: [assign(entry, offset=0) for entry in f.directory])),
    Corruption("gap between tensors", "tensorGap", raw(_gap)),
    Corruption("source name longer than the cap", "invalidSourceName", raw(lambda f: _dir(f, 0, source=b"s" * 4097))),
    Corruption("source name not UTF-8", "invalidSourceName", raw(lambda f: _dir(f, 0, source=b"\xff"))),
    Corruption("bytes after the directory inside the header", "headerTrailingBytes",
               raw(lambda f: assign(f, header_trailer=b"\x00" * 4))),
    # Data section (§7 steps 5–6)
    Corruption("non-zero padding after the header", "nonZeroPadding", raw(_head_padding)),
    Corruption("non-zero padding between tensors", "nonZeroPadding", raw(_padding_between)),
    Corruption("tensor bytes damaged", "tensorChecksumMismatch", raw(lambda f: _flip(f, 3, 1)), ["layer_0/forward/W_n"]),
    Corruption("tensor checksum field damaged", "tensorChecksumMismatch",
               raw(lambda f: _dir(f, 2, crc=f.directory[2].crc ^ 0x8000))),
    Corruption("trailing byte", "trailingBytes", raw(lambda f: assign(f, trailer=b"\x00"))),
    Corruption("appended polyglot payload", "trailingBytes",
               raw(lambda f: assign(f, trailer=b"PK\x05\x06" + b"\x00" * 18))),
    Corruption("last byte missing", "truncated", byte_edit(lambda d: d[:-1])),
    Corruption("data section missing", "truncated", raw(lambda f: assign(f, data=bytearray()))),
    Corruption("cut inside the header", "truncated", byte_edit(lambda d: d[:200])),
    # Format keys and semantics (§7 steps 7–9)
    Corruption("format name", "formatMismatch", raw(lambda f: f.set("format", "string", "safetensors"))),
    Corruption("format key missing", "formatMismatch", raw(lambda f: f.remove("format"))),
    Corruption("format_major disagrees with the preamble", "formatMismatch", raw(lambda f: f.set("format_major", "int", 2))),
    Corruption("format_minor disagrees with the preamble", "formatMismatch", raw(lambda f: f.set("format_minor", "int", 3))),
    Corruption("format_major stored as a string", "formatMismatch", raw(lambda f: f.set("format_major", "string", "1"))),
    Corruption("newer schema version", "unsupportedSchemaVersion", raw(lambda f: f.set("schema_version", "int", 3))),
    Corruption("schema version missing", "unsupportedSchemaVersion", raw(lambda f: f.remove("schema_version"))),
    Corruption("missing tensor", "missingTensor",
               items(lambda l: l.__setitem__(slice(None), [i for i in l if i.path != "layer_0/forward/b_v"])),
               ["layer_0/forward/b_v"]),
    Corruption("extra tensor", "unexpectedTensor",
               items(lambda l: l.append(Item("layer_0/forward/P_i", "f32", [4], floats(4))))),
    Corruption("tensor of a layer that does not exist", "unexpectedTensor",
               items(lambda l: l.append(Item("layer_1/W_d", "f32", [2, 4], floats(8))))),
    Corruption("tensor shape vs hyperparameters", "shapeMismatch",
               items(lambda l: assign(l[0], shape=[4, 6], payload=floats(24))), ["layer_0/forward/W_n"]),
    Corruption("hidden size vs tensor shapes", "shapeMismatch", raw(lambda f: f.set("layer.0.hidden_size", "int", 5))),
    Corruption("input size vs tensor shapes", "shapeMismatch", raw(lambda f: f.set("layer.0.input_size", "int", 2))),
    Corruption("bidirectional GRU without backward tensors", "missingTensor",
               items(lambda l: l.__setitem__(slice(None), [i for i in l if not i.path.startswith("layer_0/backward/")]),
                     GRU)),
    Corruption("GRU with a peephole", "unexpectedTensor",
               items(lambda l: l.insert(3, Item("layer_0/forward/P_i", "f32", [3], floats(3))), GRU)),
    Corruption("dense input vs previous layer", "invalidModel",
               raw(lambda f: f.set("layer.0.merge_mode", "string", "sum"), GRU), underlying="invalidHyperparameter"),
    Corruption("required attribute missing", "invalidModel", raw(lambda f: f.remove("layer.0.hidden_size")),
               underlying="missingAttribute"),
    Corruption("attribute of the wrong type", "invalidModel", raw(lambda f: f.set("layer.0.hidden_size", "double", 4.0)),
               underlying="wrongAttributeType"),
    Corruption("enum value outside the known set", "invalidModel",
               raw(lambda f: f.set("layer.0.use_gate", "string", "sideways")), underlying="invalidAttributeValue"),
    Corruption("unknown layer kind", "invalidModel", raw(lambda f: f.set("layer.0.kind", "string", "transformer")),
               underlying="invalidAttributeValue"),
    Corruption("layer_count 0", "invalidModel", raw(lambda f: f.set("layer_count", "int", 0)),
               underlying="invalidAttributeValue"),
    Corruption("layer_count larger than the layers", "invalidModel", raw(lambda f: f.set("layer_count", "int", 2)),
               underlying="missingAttribute"),
    Corruption("infinite forget bias", "invalidModel", raw(lambda f: f.set("layer.0.forget_bias", "double", math.inf)),
               underlying="invalidHyperparameter"),
    Corruption("tensors out of canonical order", "nonCanonicalOrder", items(lambda l: l.__setitem__(slice(0, 2), [l[1], l[0]]))),
]


def test_the_port_has_every_swift_case():
    swift = (FIXTURES.parent / "Tests/LSTMBinaryTests/CorruptionTests.swift").read_text()
    import re

    names = re.findall(r'Corruption\(name: "([^"]+)"', swift)
    assert sorted(names) == sorted(c.name for c in CORRUPTIONS)


@pytest.mark.parametrize("case", CORRUPTIONS, ids=lambda c: c.name)
def test_rejected_with_the_swift_code(case, tmp_path):
    path = tmp_path / "bad.lstmw"
    path.write_bytes(case.make())
    with pytest.raises(lstmw.LstmwError) as caught:
        lstmw.load(path, verify=True)
    error = caught.value
    assert error.code == case.code, str(error)
    assert error.file == str(path)
    for text in case.mentions:
        assert text in str(error)
    if case.underlying:
        assert error.underlying == case.underlying, str(error)


def test_every_bit_flip_and_truncation_of_small_lstm_is_rejected(tmp_path):
    """spec/binary.md §7 'What the checks guarantee', as MutationTests.swift checks it: exhaustively."""
    from lstmw import binary

    data = bytearray(SMALL_BYTES)
    for index in range(len(data)):
        for bit in range(8):
            data[index] ^= 1 << bit
            with pytest.raises(lstmw.LstmwError):
                _load_bytes(bytes(data))
            data[index] ^= 1 << bit
    for length in range(len(data)):
        with pytest.raises(lstmw.LstmwError):
            binary.parse(bytes(data[:length]))


def _load_bytes(data: bytes) -> None:
    """parse + checksums + semantics, from memory (the same steps `load(verify=True)` runs)."""
    import zlib

    from lstmw import binary
    from lstmw.checkpoint import _load_binary  # noqa: F401 (the file path variant is tested above)

    container = binary.parse(data)
    for entry in container.entries:
        if zlib.crc32(container.tensor_bytes(entry)) != entry.crc32:
            raise lstmw.LstmwError("tensorChecksumMismatch", entry.path)


HDF5_MALFORMED = {
    "wrong_datatype_int.h5": "wrongDatatype", "wrong_datatype_size.h5": "wrongDatatype",
    "wrong_datatype_layout.h5": "wrongDatatype", "wrong_datatype_compound.h5": "wrongDatatype",
    "wrong_datatype_vlen.h5": "wrongDatatype", "missing_attribute.h5": "missingAttribute",
    "missing_dataset_attribute.h5": "missingAttribute", "missing_format.h5": "missingFormat",
    "wrong_format.h5": "wrongFormat", "newer_major.h5": "unsupportedVersion", "newer_schema.h5": "unsupportedVersion",
    "wrong_attribute_type_string.h5": "wrongAttributeType", "wrong_attribute_type_int32.h5": "wrongAttributeType",
    "wrong_attribute_type_array.h5": "wrongAttributeType", "wrong_attribute_type_crc.h5": "wrongAttributeType",
    "invalid_bool.h5": "invalidAttributeValue", "invalid_dtype_name.h5": "invalidAttributeValue",
    "invalid_utf8.h5": "invalidAttributeValue", "checksum_mismatch.h5": "checksumMismatch",
    "soft_link.h5": "softLink", "external_link.h5": "externalLink", "external_storage.h5": "externalStorage",
    "shape_mismatch.h5": "shapeMismatch", "rank_mismatch.h5": "shapeMismatch", "missing_tensor.h5": "missingTensor",
    "unexpected_tensor.h5": "unexpectedTensor", "missing_layer_group.h5": "missingGroup",
    "truncated.h5": "truncated", "not_hdf5.h5": "notHDF5",
}


def test_hdf5_table_matches_the_swift_suite():
    swift = (FIXTURES.parent / "Tests/LSTMHDF5Tests/MalformedTests.swift").read_text()
    import re

    pairs = dict(re.findall(r'\.init\(file: "([^"]+)", code: \.(\w+)\)', swift))
    assert pairs == HDF5_MALFORMED


@pytest.mark.parametrize("name", sorted(HDF5_MALFORMED))
def test_hdf5_malformed_rejected_with_the_swift_code(name):
    pytest.importorskip("h5py")
    path = FIXTURES / "hdf5/malformed" / name
    with pytest.raises(lstmw.LstmwError) as caught:
        lstmw.load(path, verify=True, encoding=None if name == "not_hdf5.h5" else "hdf5")
    assert caught.value.code == HDF5_MALFORMED[name], str(caught.value)


@pytest.mark.parametrize("step", range(0, 49))
def test_hdf5_golden_cut_anywhere_is_an_error(step, tmp_path):
    pytest.importorskip("h5py")
    golden = (FIXTURES / "hdf5/golden/small_lstm.h5").read_bytes()
    length = step * max(1, len(golden) // 48)
    if length >= len(golden):
        pytest.skip("past the end")
    path = tmp_path / "cut.h5"
    path.write_bytes(golden[:length])
    with pytest.raises(lstmw.LstmwError):
        lstmw.load(path, verify=True, encoding="hdf5")


# ---------------------------------------------------------------------------------------------------------------
# Differential: attribute mutations of the golden files, judged by lstmw and by the Swift reader (`lstmconv verify`).

SWIFT_CODES = {"invalid model": "invalidModel", "shape mismatch": "shapeMismatch", "missing tensor": "missingTensor",
               "unexpected tensor": "unexpectedTensor", "format metadata mismatch": "formatMismatch",
               "unsupported schema version": "unsupportedSchemaVersion"}


def _mutations(name):
    ck = lstmw.load(FIXTURES / f"golden/{name}.lstmw")
    metadata, tensors = from_checkpoint(ck)
    values = {"int": [0, -1, 3, (1 << 20) + 1], "double": [math.inf, -1.0, 0.0, math.nan],
              "string": ["bogus", "softmax", "hard_sigmoid", "concat", "none", "after", "before", "document", "full",
                         "double", "single"], "bool": []}
    other = {"int": ("double", 1.0), "double": ("int", 1), "string": ("int", 1), "bool": ("int", 1)}
    for position, (key, kind, value) in enumerate(metadata):
        yield f"drop {key}", metadata[:position] + metadata[position + 1:], tensors
        yield f"type {key}", metadata[:position] + [(key, *other[kind])] + metadata[position + 1:], tensors
        for candidate in values[kind]:
            if candidate != value:
                yield f"{key}={candidate}", metadata[:position] + [(key, kind, candidate)] + metadata[position + 1:], tensors


ADDITIONS = [("use_gate", "string", "standard"), ("use_gate", "string", "document"), ("peepholes", "string", "none"),
             ("peepholes", "string", "diagonal"), ("forget_bias", "double", 0.0), ("forget_bias", "double", 1.0),
             ("cell_clip", "double", 1.0), ("projection_clip", "double", 1.0), ("gate_clip", "double", 1.0),
             ("gate_clip", "double", -1.0), ("future_option", "int", 3), ("reset", "string", "after")]


def _additions(name):
    """Keys a layer does not carry, added: LSTM-only keys on a GRU, clips, unknown keys."""
    ck = lstmw.load(FIXTURES / f"golden/{name}.lstmw")
    metadata, tensors = from_checkpoint(ck)
    present = {key for key, _, _ in metadata}
    for layer in ck.layers:
        for key, kind, value in ADDITIONS:
            full = f"layer.{layer.index}.{key}"
            if full not in present:
                yield f"add {full}={value}", metadata + [(full, kind, value)], tensors


MUTATIONS = [(name, *m) for name in ("small_lstm", "bidirectional_gru", "projected_peephole_lstm", "document_lstm")
             for m in _additions(name)] + [(name, *m) for name in ("small_lstm", "bidirectional_gru", "projected_peephole_lstm", "document_lstm")
             for m in _mutations(name)]


@pytest.mark.parametrize("golden,label,metadata,tensors", MUTATIONS, ids=[f"{m[0]}:{m[1]}" for m in MUTATIONS])
def test_attribute_mutations_agree_with_the_swift_reader(golden, label, metadata, tensors, tmp_path):
    path = tmp_path / "m.lstmw"
    path.write_bytes(encode(metadata, tensors))
    result = run_cli("verify", str(path))
    if result.returncode == 0:
        swift = "OK"
    else:
        message = result.stderr.strip().split(f"{path}: ")[-1]
        message = message.removeprefix("the checksums match but the model does not validate: ")
        swift = next((code for text, code in SWIFT_CODES.items() if message.startswith(text)), message)
    try:
        lstmw.load(path, verify=True)
        ours = "OK"
    except lstmw.LstmwError as error:
        ours = error.code
    assert ours == swift, label
