"""Schema 2 (issue 13): what `lstmconv import` writes for the models of Fixtures/models/ — plain RNN layers, masks,
final_output, time_major, stateful, source_compute_dtype — is read by this reader as `lstmconv inspect` reads it."""

from __future__ import annotations

import pytest

import lstmw
from conftest import FIXTURES, inspect_json, run_cli

CASES = [
    ("torch_rnn_tanh_2layer_bidirectional/model.pt", ["--module", "rnn"], "rnn"),
    ("torch_bilstm_head_last_step/model.pt", ["--module", "rnn", "--head", "head", "--last-step"], "final_output"),
    ("k3_masking_lstm_bigru/model.keras", [], "masked_output"),
    ("tfk_embedding_mask_zero/model.h5", [], "mask_zero"),
    ("tfk_time_major_lstm/model.h5", [], "time_major"),
    ("k3_stateful_lstm/model.keras", [], "stateful"),
    ("k3_mixed_float16_lstm/model.keras", [], "provenance.source_compute_dtype"),
]


@pytest.mark.parametrize("source, flags, key", CASES, ids=[case[0].split("/")[0] for case in CASES])
@pytest.mark.parametrize("suffix", [".lstmw", ".h5"])
def test_schema_2_files_read_like_inspect(source, flags, key, suffix, tmp_path):
    out = tmp_path / ("model" + suffix)
    result = run_cli("import", str(FIXTURES / "models" / source), "-o", str(out), *flags)
    assert result.returncode == 0, result.stderr
    ck = lstmw.load(out, verify=True)
    report = inspect_json(out)
    # source_compute_dtype is informational (the weights compute the same): it alone keeps schema 1.
    assert ck.schema_version == (1 if key == "provenance.source_compute_dtype" else 2)
    assert report["attributes"] == dict(ck.metadata)
    assert [layer.attributes for layer in ck.layers] == report["layers"]
    if key == "rnn":
        assert [layer.kind for layer in ck.layers] == ["rnn", "rnn"]
        assert "layer_0/forward/W_s" in ck.tensors and "layer_1/backward/bh_s" in ck.tensors
    else:
        assert key in ck.metadata or any(key in layer.attributes for layer in ck.layers)
    assert [t["path"] for t in report["tensors"]] == list(ck.tensors)
