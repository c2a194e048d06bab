"""`to_pytorch()`: bit-identical to the original PyTorch state dicts, and to `lstmconv export --to pytorch`."""

from __future__ import annotations

import json

import pytest

import lstmw
from conftest import FIXTURES, fixture_id, our_files, raw_bytes, read_safetensors, run_cli

PYTORCH_CASES = sorted(p.parent for p in (FIXTURES / "pytorch").glob("*/case.json"))


@pytest.mark.parametrize("case", PYTORCH_CASES, ids=lambda p: p.name)
def test_to_pytorch_is_bit_identical_to_the_original_state_dict(case, tmp_path):
    """ours.h5 (written by an independent writer from the torch state dict) and the CLI's import of the original
    `model.safetensors` as `.lstmw` both give back the original tensors, key for key, byte for byte."""
    info = json.loads((case / "case.json").read_text())
    original, _ = read_safetensors(case / "model.safetensors")
    options = {"prefix": info["module"]["prefix"], "cell": info["module"]["class"].endswith("Cell")}
    if info.get("head"):
        options["head_prefix"] = info["head"]["prefix"]
    imported = tmp_path / "model.lstmw"
    arguments = ["import", str(case / "model.safetensors"), "-o", str(imported)]
    if info.get("head"):
        arguments += ["--head", info["head"]["prefix"]]
    if info.get("import_options", {}).get("last_step"):
        arguments += ["--last-step"]
    result = run_cli(*arguments)
    assert result.returncode == 0, result.stderr
    for source in (case / "ours.h5", imported):
        state = lstmw.load(source, verify=True).to_pytorch(**options)
        assert sorted(state) == sorted(original), source
        for key, array in state.items():
            assert array.shape == original[key].shape, key
            assert raw_bytes(array) == raw_bytes(original[key]), f"{source.name}: {key}"


@pytest.mark.parametrize("path", our_files(), ids=fixture_id)
def test_to_pytorch_agrees_with_lstmconv_export(path, tmp_path):
    out = tmp_path / "export.safetensors"
    result = run_cli("export", str(path), "--to", "pytorch", "-o", str(out))
    ck = lstmw.load(path)
    if result.returncode != 0:
        assert result.returncode == 65, result.stderr
        with pytest.raises(lstmw.LstmwError) as caught:
            ck.to_pytorch()
        assert caught.value.code == "notExpressible"
        assert f"not expressible at {caught.value.key}:" in result.stderr
        return
    exported, metadata = read_safetensors(out)
    result = lstmw.pytorch.export(ck)
    assert sorted(result.state_dict) == sorted(exported)
    for key, array in result.state_dict.items():
        assert array.shape == exported[key].shape and raw_bytes(array) == raw_bytes(exported[key]), key
    assert result.modules == json.loads(metadata["lstmconv.modules"])
    assert ",".join(result.zero_bias_hh) == metadata.get("lstmconv.zero_bias_hh", "")


def test_document_variant_is_refused_with_the_reason():
    ck = lstmw.load(FIXTURES / "golden/document_lstm.lstmw")
    with pytest.raises(lstmw.LstmwError) as caught:
        ck.to_pytorch()
    assert caught.value.code == "notExpressible"
    assert caught.value.key == "layer_1/use_gate"
    assert "W_u" in str(caught.value)


def _hand_made_refusals():
    import numpy as np

    from lstmw_writer import from_checkpoint

    small = lstmw.load(FIXTURES / "golden/small_lstm.lstmw")
    metadata, tensors = from_checkpoint(small)
    mixed = [t if t[0] != "layer_0/forward/W_n" else
             (t[0], "f64", t[2], np.frombuffer(t[3], "<f4").astype("<f8").tobytes(), t[4]) for t in tensors]
    yield "mixed dtypes", metadata, mixed
    root = [m for m in metadata if not m[0].startswith("layer.")]
    root = [m if m[0] != "layer_count" else (m[0], m[1], 2) for m in root]
    layers = [("layer.0.kind", "string", "embedding"), ("layer.0.vocabulary_size", "int", 3),
              ("layer.0.embedding_size", "int", 2), ("layer.1.kind", "string", "dense"), ("layer.1.input_size", "int", 2),
              ("layer.1.units", "int", 2), ("layer.1.activation", "string", "linear"), ("layer.1.use_bias", "bool", False)]
    ones = lambda n: np.ones(n, "<f4").tobytes()  # noqa: E731
    yield "no recurrent layer", root + layers, [("layer_0/W_e", "f32", (3, 2), ones(6), None),
                                                 ("layer_1/W_d", "f32", (2, 2), ones(4), None)]
    gru = lstmw.load(FIXTURES / "golden/bidirectional_gru.lstmw")
    metadata, tensors = from_checkpoint(gru)
    metadata = [m if m[0] != "layer.1.activation" else (m[0], m[1], "linear") for m in metadata]
    metadata = [m if m[0] != "layer_count" else (m[0], m[1], 3) for m in metadata]
    metadata += [("layer.2.kind", "string", "dense"), ("layer.2.input_size", "int", 2), ("layer.2.units", "int", 2),
                 ("layer.2.activation", "string", "linear"), ("layer.2.use_bias", "bool", False)]
    yield "second dense layer", metadata, tensors + [("layer_2/W_d", "f32", (2, 2), ones(4), None)]


@pytest.mark.parametrize("label,metadata,tensors", list(_hand_made_refusals()), ids=lambda v: v if isinstance(v, str) else "")
def test_refusals_name_what_lstmconv_export_names(label, metadata, tensors, tmp_path):
    from lstmw_writer import encode

    path = tmp_path / "model.lstmw"
    path.write_bytes(encode(metadata, tensors))
    result = run_cli("export", str(path), "--to", "pytorch", "-o", str(tmp_path / "out.safetensors"))
    assert result.returncode == 65
    with pytest.raises(lstmw.LstmwError) as caught:
        lstmw.load(path, verify=True).to_pytorch()
    where = f" at {caught.value.key}:" if caught.value.key else ": "
    assert f"{path}: not expressible{where}" in result.stderr, (label, str(caught.value), result.stderr)


def test_the_packaged_mapping_tables_are_the_specs():
    """python/lstmw/mappings.json is spec/mappings.json (rendered from the Swift FusedLayout tables by MappingJSONTests)."""
    from conftest import REPO

    packaged = (REPO / "python/lstmw/mappings.json").read_bytes()
    assert packaged == (REPO / "spec/mappings.json").read_bytes()
    tables = lstmw.pytorch.layouts()
    assert [g["gate"] for g in tables["pytorch.lstm"]["gates"]] == ["i", "f", "n", "v"]
    assert [g["gate"] for g in tables["pytorch.gru"]["gates"]] == ["r", "z", "c"]
