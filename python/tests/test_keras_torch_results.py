"""The committed results of python/tools/keras_torch_check.py (run with torch in the fixture generator's venv):
every Keras fixture that to_pytorch() accepts loaded strictly into real torch modules and reproduced Keras' own
output within the tolerance; every other one is refused, and still refused the same way today."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import lstmw
from conftest import FIXTURES

RESULTS = json.loads((Path(__file__).parent / "keras_torch_results.json").read_text())
CASES = {entry["case"]: entry for entry in RESULTS["cases"]}


def test_every_keras_fixture_is_covered():
    assert sorted(CASES) == sorted(p.parent.name for p in (FIXTURES / "keras").glob("*/ours.h5"))
    assert RESULTS["tolerance"] <= 1e-5
    assert sum(entry["result"] == "match" for entry in CASES.values()) >= 10


@pytest.mark.parametrize("name", sorted(CASES))
def test_result_is_current(name):
    entry = CASES[name]
    path = FIXTURES / "keras" / name / "ours.h5"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["ours_sha256"], "rerun keras_torch_check.py"
    ck = lstmw.load(path, verify=True)
    if entry["result"] == "refused":
        with pytest.raises(lstmw.LstmwError) as caught:
            ck.to_pytorch()
        assert (caught.value.code, caught.value.key) == (entry["code"], entry["key"])
    else:
        assert entry["result"] == "match", entry
        assert entry["max_abs_error"] <= RESULTS["tolerance"]
        assert [m["class"] for m in ck.pytorch_modules()] == entry["modules"]
