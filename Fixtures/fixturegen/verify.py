"""Cross-check: read every case's ours.h5 back with the strict reader, run the independent NumPy reference on
input.npy and compare with expected.npy (the framework's own output). Needs only numpy + h5py.

    python -m fixturegen.verify            # all cases; records the result in each case.json
"""

from __future__ import annotations

import sys

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

import numpy_reference  # noqa: E402
from fixturegen import ours_h5  # noqa: E402
from fixturegen.common import FIXTURES, read_json, write_json  # noqa: E402

CHECK_ATOL = 1e-5


def case_folders():
    for framework in ("keras", "pytorch", "numpy"):
        root = FIXTURES / framework
        if not root.exists():
            continue
        for folder in sorted(p for p in root.iterdir() if (p / "case.json").exists()):
            yield framework, folder


def check(folder):
    case = read_json(folder / "case.json")
    ours = case["files"].get("ours")
    if not ours:
        return None
    model, _ = ours_h5.read_model(folder / ours)
    x = np.load(folder / "input.npy")
    expected = np.load(folder / "expected.npy")
    got = numpy_reference.forward(model, x)
    if got.shape != expected.shape:
        raise AssertionError(f"{folder.name}: shape {got.shape} != expected {expected.shape}")
    err = float(np.max(np.abs(got - expected.astype(np.float64))))
    return err, hard_sigmoid_contrast(model, x, expected)


def hard_sigmoid_contrast(model, x, expected):
    """For hard_sigmoid models: the error if the other Keras generation's slope were used (must be large)."""
    swapped, found = [], False
    for layer in model["layers"]:
        layer = dict(layer)
        for key in ("activation", "recurrent_activation"):
            act = layer.get(key)
            if act and act[0] == "hard_sigmoid":
                found = True
                other = 0.2 if abs(act[1] - 1.0 / 6.0) < 1e-12 else 1.0 / 6.0
                layer[key] = ("hard_sigmoid", other, act[2])
        swapped.append(layer)
    if not found:
        return None
    got = numpy_reference.forward({"layers": swapped}, x)
    return float(np.max(np.abs(got - expected.astype(np.float64))))


def main():
    failures, rows = [], []
    for framework, folder in case_folders():
        result = check(folder)
        if result is None:
            continue
        err, contrast = result
        case = read_json(folder / "case.json")
        passed = err <= CHECK_ATOL
        case["numpy_reference_check"] = {
            "what": "ours.h5 read back by fixturegen/ours_h5.read_model, run by Fixtures/numpy_reference.py "
                    "(float64), compared with expected.npy",
            "max_abs_error": float(f"{err:.3e}"),
            "atol": CHECK_ATOL,
            "passed": passed,
        }
        if contrast is not None:
            case["numpy_reference_check"]["error_with_other_hard_sigmoid_slope"] = float(f"{contrast:.3e}")
            if contrast < 1e-3:
                passed = False
                print(f"  {folder.name}: the other hard_sigmoid slope also fits ({contrast:.1e}); case does not discriminate")
            case["numpy_reference_check"]["passed"] = passed
        write_json(folder / "case.json", case)
        rows.append((f"{framework}/{folder.name}", err, passed))
        if not passed:
            failures.append(folder.name)
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"numpy reference on ours.h5 vs framework output (atol {CHECK_ATOL}):")
    for name, err, passed in rows:
        print(f"  {name:<{width}}  max|Δ| = {err:.2e}  {'ok' if passed else 'FAIL'}")
    print(f"  {len(rows) - len(failures)}/{len(rows)} cases agree")
    if failures:
        print("FAILED:", ", ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
