"""Every golden file and committed fixture: lstmw agrees with the independent golden decoder, with
`lstmconv inspect --json`, and with the values the Swift reader reads (via `lstmconv convert`)."""

from __future__ import annotations

import json
import mmap
import zlib

import numpy as np
import pytest

import lstmw
from conftest import FIXTURES, fixture_id, inspect_json, our_files, raw_bytes, run_cli

GOLDEN = sorted((FIXTURES / "golden").glob("*.lstmw"))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_matches_expected_json(path):
    expected = json.loads(path.with_suffix("").with_suffix(".expected.json").read_text())
    ck = lstmw.load(path, verify=True)
    assert ck.format_version == (expected["preamble"]["major"], expected["preamble"]["minor"])
    metadata = {entry["key"]: entry["value"] for entry in expected["metadata"]}
    flat = dict(ck.metadata)
    for layer in ck.layers:
        flat.update({f"layer.{layer.index}.{k}": v for k, v in ck.layer_metadata[layer.index].items()})
    assert flat == metadata
    assert list(ck.tensors) == [t["path"] for t in expected["tensors"]]
    for entry in expected["tensors"]:
        array = ck.tensors[entry["path"]]
        assert ck.dtypes[entry["path"]] == entry["dtype"]
        assert list(array.shape) == entry["shape"]
        assert ck.checksums[entry["path"]] == entry["crc32"]
        assert (ck.sources[entry["path"]] or "") == entry["source"]
        widened = lstmw.widen(array, entry["dtype"]).astype(np.float64)
        np.testing.assert_array_equal(widened.ravel(), np.array(entry["values"], dtype=np.float64))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_binary_tensors_are_zero_copy_views_of_the_memory_map(path):
    ck = lstmw.load(path)
    size = path.stat().st_size
    for name, array in ck.tensors.items():
        assert not array.flags.writeable and not array.flags.owndata
        base = array
        while isinstance(base, np.ndarray) and base.base is not None:
            base = base.base
        mapped = base.obj if isinstance(base, memoryview) else base
        assert isinstance(mapped, mmap.mmap), name
        start = array.__array_interface__["data"][0]
        whole = np.frombuffer(mapped, dtype=np.uint8)
        offset = start - whole.__array_interface__["data"][0]
        assert 0 <= offset < size and offset % 64 == 0


@pytest.mark.parametrize("path", our_files(), ids=fixture_id)
def test_agrees_with_lstmconv_inspect(path):
    ck = lstmw.load(path, verify=True)
    report = inspect_json(path)
    assert report["encoding"] == ck.encoding
    assert report["attributes"] == {k: v for k, v in ck.metadata.items()}
    assert len(report["layers"]) == len(ck.layers)
    for described, layer in zip(report["layers"], ck.layers):
        assert described == layer.attributes, f"layer {layer.index}"
    assert [t["path"] for t in report["tensors"]] == list(ck.tensors)
    for described in report["tensors"]:
        name = described["path"]
        assert described["dtype"] == ck.dtypes[name]
        assert described["shape"] == list(ck.tensors[name].shape)
        assert int(described["crc32"], 16) == ck.checksums[name]
        assert described.get("source") == ck.sources[name]
    assert ck.verify().ok


@pytest.mark.parametrize("path", our_files(), ids=fixture_id)
def test_same_values_as_the_swift_reader(path, tmp_path):
    """The Swift reader reads the file and its writer re-encodes it as `.lstmw`: every tensor keeps its bytes."""
    out = tmp_path / "swift.lstmw"
    result = run_cli("convert", str(path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    ours, swift = lstmw.load(path, verify=True), lstmw.load(out, verify=True)
    assert list(ours.tensors) == list(swift.tensors)
    for name in ours.tensors:
        assert ours.dtypes[name] == swift.dtypes[name]
        assert raw_bytes(ours.tensors[name]) == raw_bytes(swift.tensors[name]), name
        assert zlib.crc32(raw_bytes(ours.tensors[name])) == swift.checksums[name]
    assert [layer.attributes for layer in ours.layers] == [layer.attributes for layer in swift.layers]


def test_widening_is_exact_and_on_request_only():
    ck = lstmw.load(FIXTURES / "golden/projected_peephole_lstm.lstmw")
    array = ck.tensors["layer_0/forward/W_n"]
    assert array.dtype == np.float16
    widened = lstmw.load(FIXTURES / "golden/projected_peephole_lstm.lstmw", widen_to_float32=True)
    assert widened.tensors["layer_0/forward/W_n"].dtype == np.float32
    np.testing.assert_array_equal(widened.tensors["layer_0/forward/W_n"], array.astype(np.float32))
    bf16 = lstmw.load(FIXTURES / "golden/document_lstm.lstmw")
    bits = bf16.tensors["layer_0/W_e"].view(np.uint16)
    np.testing.assert_array_equal(bf16.array("layer_0/W_e", widen_to_float32=True).view(np.uint32),
                                  bits.astype(np.uint32) << 16)


def test_layers_and_provenance_name_what_the_spec_names():
    ck = lstmw.load(FIXTURES / "golden/bidirectional_gru.lstmw")
    gru, dense = ck.layers
    assert (gru.kind, gru["reset"], gru["merge_mode"], gru.directions) == ("gru", "after", "concat", 2)
    assert (dense.kind, dense["activation"], dense["units"]) == ("dense", "softmax", 2)
    assert ck.provenance["converter"] == ck.metadata["provenance.converter"]
    assert ck.schema_version == 1 and ck.format_version == (1, 0)
