"""`lstmconv <command> --json` against the published JSON Schemas (spec/schemas/), on fixtures of every source kind:
one document on stdout, valid against the command's schema (or error.schema.json on failure), and consistent with
what the command did."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from conftest import FIXTURES, REPO, run_cli

SCHEMAS = REPO / "spec" / "schemas"
COMMANDS = ["import", "inspect", "verify", "convert", "run", "validate", "export", "explain"]


def schema(name: str) -> dict:
    document = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return document


def document(result, name: str) -> dict:
    """The one JSON document on stdout, validated against `name`'s schema."""
    parsed = json.loads(result.stdout)  # one document: json.loads refuses trailing data
    jsonschema.validate(parsed, schema(name), cls=jsonschema.Draft202012Validator)
    return parsed


# One model of each source kind: path, import options, input, expected.
SOURCES = [
    ("golden/small_lstm.lstmw", [], None, None),
    ("keras/k3_text_embedding_lstm_softmax/model.h5", [], "input.npy", "expected.npy"),
    ("keras/k3_bigru_concat_seq/model.keras", [], "input.npy", "expected.npy"),
    ("keras/k3_stacked_lstm_dense/ours.h5", [], "input.npy", "expected.npy"),
    ("pytorch/lstm_2layer/model.pt", [], "input.npy", "expected.npy"),
    ("pytorch/lstm_bidirectional/model.safetensors", [], "input.npy", "expected.npy"),
    ("pytorch/prefixed_head_last/model.pt", ["--module", "encoder.rnn", "--head", "head", "--last-step"], "input.npy", "expected.npy"),
    ("onnx/torch_embedding_lstm_linear_softmax/model.onnx", [], "input.npy", "expected.npy"),
]
IDS = [path for path, *_ in SOURCES]
FRAMEWORK_FILES = [s for s in SOURCES if not s[0].endswith((".lstmw", "ours.h5"))]
WITH_DATA = [s for s in SOURCES if s[2]]


def test_every_command_has_a_schema():
    for name in COMMANDS + ["error"]:
        document = schema(name)
        assert document["properties"]["schema_version"] == {"const": 1}, name


@pytest.mark.parametrize("path,options,_input,_expected", SOURCES, ids=IDS)
def test_inspect(path, options, _input, _expected):
    result = run_cli("inspect", "--json", str(FIXTURES / path), *options)
    assert result.returncode == 0, result.stderr
    report = document(result, "inspect")
    summary = report["summary"]
    assert len(summary["layers"]) == len(report["layers"]) == report["attributes"]["layer_count"]
    assert summary["total_parameters"] == sum(int(np.prod(t["shape"])) for t in report["tensors"])
    assert sum(layer["parameters"] for layer in summary["layers"]) == summary["total_parameters"]
    is_checkpoint = path.endswith(".lstmw") or path.endswith("ours.h5")
    assert (report["source_format"] == "lstmconv") == is_checkpoint
    assert (report["imported"] is None) == is_checkpoint


@pytest.mark.parametrize("path,options,_input,_expected", FRAMEWORK_FILES, ids=[s[0] for s in FRAMEWORK_FILES])
def test_import_verify_convert(path, options, _input, _expected, tmp_path):
    out = tmp_path / "model.lstmw"
    result = run_cli("import", str(FIXTURES / path), "-o", str(out), "--json", *options)
    assert result.returncode == 0, result.stderr
    imported = document(result, "import")
    assert imported["output"] == str(out) and out.exists()
    documents = {entry["document"] for entry in imported["tensor_map"]}
    verify = run_cli("verify", "--json", str(out))
    assert verify.returncode == 0, verify.stderr
    report = document(verify, "verify")
    assert report["ok"] and report["mismatches"] == 0
    assert {t["path"] for t in report["tensors"]} == documents
    converted = tmp_path / "model.h5"
    result = run_cli("convert", str(out), "-o", str(converted), "--json", "--dtype", "f16")
    assert result.returncode == 0, result.stderr
    convert = document(result, "convert")
    assert convert["encoding"] == "hdf5" and convert["dtype"] == "f16" and convert["tensors"] == len(documents)


@pytest.mark.parametrize("path,options,input_name,expected_name", WITH_DATA, ids=[s[0] for s in WITH_DATA])
def test_run_validate_explain(path, options, input_name, expected_name, tmp_path):
    folder = (FIXTURES / path).parent
    x, want = folder / input_name, folder / expected_name
    model = [str(FIXTURES / path), *options]
    result = run_cli("run", *model, "--input", str(x), "--output", str(tmp_path / "y.npy"), "--states", str(tmp_path / "s.npz"), "--json")
    assert result.returncode == 0, result.stderr
    run = document(result, "run")
    assert tuple(run["output_shape"]) == np.load(tmp_path / "y.npy").shape
    assert sorted(run["state_names"]) == sorted(np.load(tmp_path / "s.npz").files)
    result = run_cli("validate", *model, "--input", str(x), "--expected", str(want), "--json", "--engine", "reference")
    assert result.returncode == 0, result.stdout + result.stderr
    validate = document(result, "validate")
    assert validate["passed"] and validate["mismatches"] == 0 and validate["elements"] == np.load(want).size
    assert validate["max_abs_error"] <= validate["atol"] + validate["rtol"] * np.abs(np.load(want)).max()
    result = run_cli("explain", *model, "--input", str(x), "--json", "--gates", str(tmp_path / "g.npz"))
    assert result.returncode == 0, result.stderr
    explain = document(result, "explain")
    assert explain["directions"], explain
    names = np.load(tmp_path / "g.npz").files
    for direction in explain["directions"]:
        for mean in direction["means"]:
            assert f"layer_{direction['layer']}/{direction['direction']}/{mean['gate']}" in names


@pytest.mark.parametrize("target,suffix", [("pytorch", "safetensors"), ("onnx", "onnx"), ("keras", "keras")])
def test_export(target, suffix, tmp_path):
    out = tmp_path / f"model.{suffix}"
    source = FIXTURES / "keras/k3_stacked_lstm_dense/model.h5"
    result = run_cli("export", str(source), "--to", target, "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    export = document(result, "export")
    assert export["to"] == target and out.exists() and export["tensors"]
    if target == "pytorch":
        assert export["modules"]


def test_a_failed_validate_is_a_document_with_exit_2(tmp_path):
    folder = FIXTURES / "pytorch/prefixed_head_last"
    model = [str(folder / "model.pt"), "--module", "encoder.rnn", "--head", "head"]
    # Without --last-step the model returns every step: a shape mismatch with a hint, exit 2.
    result = run_cli("validate", *model, "--input", str(folder / "input.npy"), "--expected", str(folder / "expected.npy"), "--json")
    assert result.returncode == 2
    validate = document(result, "validate")
    assert not validate["passed"] and validate["shape_mismatch"]["expected"] == list(np.load(folder / "expected.npy").shape)
    assert any("--last-step" in hint for hint in validate["hints"])
    # A wrong expected array of the right shape: errors beyond tolerance, exit 2.
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.load(folder / "expected.npy") + 1)
    result = run_cli("validate", *model, "--last-step", "--input", str(folder / "input.npy"), "--expected", str(wrong), "--json")
    assert result.returncode == 2
    validate = document(result, "validate")
    assert not validate["passed"] and validate["mismatches"] == validate["elements"] > 0


@pytest.mark.parametrize("arguments,exit_code,code", [
    (["inspect", "nope.lstmw"], 66, "no such file"),
    (["verify", "Fixtures/pytorch/lstm_1layer/model.pt"], 65, None),
    (["import", "Fixtures/pytorch/lstm_1layer/model.pt", "--from", "safetensors", "-o", "{tmp}/x.lstmw"], 65, "source format mismatch"),
    (["import", "Fixtures/pytorch/prefixed_head_last/model.pt", "--module", "rnn", "-o", "{tmp}/x.lstmw"], 65, "no recurrent weights"),
    (["convert", "Fixtures/golden/small_lstm.lstmw", "-o", "Fixtures/golden/small_lstm.lstmw"], 73, "output exists"),
    (["run", "Fixtures/golden/small_lstm.lstmw", "--input", "Fixtures/keras/k3_text_embedding_lstm_softmax/input.npy", "--output", "{tmp}/y.npy"], 65, None),
    (["validate", "Fixtures/golden/small_lstm.lstmw", "--input", "nope.npy", "--expected", "nope.npy"], 66, "no such file"),
    (["export", "Fixtures/golden/small_lstm.lstmw", "--to", "pytorch", "-o", "{tmp}/x.onnx"], 64, "usage"),
    (["explain", "Fixtures/golden/small_lstm.lstmw", "--input", "nope.npy"], 66, "no such file"),
    (["inspect", "--bogus"], 64, "usage"),
])
def test_errors_are_documents(arguments, exit_code, code, tmp_path):
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    result = subprocess_in_repo(arguments + ["--json"])
    assert result.returncode == exit_code, result.stdout + result.stderr
    error = document(result, "error")
    assert error["command"] == arguments[0]
    assert error["error"]["exit_code"] == exit_code
    if code:
        assert error["error"]["code"] == code
    assert error["error"]["message"]


def subprocess_in_repo(arguments):
    import os
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return run_cli(*arguments)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("path,options,_input,_expected", SOURCES, ids=IDS)
def test_same_input_same_bytes(path, options, _input, _expected):
    first = run_cli("inspect", "--json", str(FIXTURES / path), *options)
    second = run_cli("inspect", "--json", str(FIXTURES / path), *options)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    # Keys are sorted at every level, as the spec says.
    def sorted_everywhere(value):
        if isinstance(value, dict):
            return list(value) == sorted(value) and all(sorted_everywhere(v) for v in value.values())
        if isinstance(value, list):
            return all(sorted_everywhere(v) for v in value)
        return True
    assert sorted_everywhere(json.loads(first.stdout, object_pairs_hook=dict))
