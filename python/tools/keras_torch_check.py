"""Keras fixtures → lstmw.to_pytorch() → real torch modules (strict load) → Keras' recorded output (≤ 1e-5).

Run by hand in the fixture generator's venv (torch is never installed in CI):

    /work/venv/bin/python python/tools/keras_torch_check.py

It writes python/tests/keras_torch_results.json, which CI checks (python/tests/test_keras_torch_results.py):
every Keras fixture is listed, every expressible one matched, every refusal is still the one to_pytorch() gives.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
import lstmw  # noqa: E402

TOLERANCE = 1e-5


def run_modules(modules, state, x):
    """Feeds `x` through the modules as spec/export.md describes their output semantics."""
    built = {}
    for module in modules:
        cls = getattr(torch.nn, module["class"])
        built[module["prefix"]] = cls(**module["args"]).to(getattr(torch, module["dtype"]))
    for prefix, module in built.items():
        if prefix:
            own = {key[len(prefix) + 1:]: value for key, value in state.items() if key.startswith(prefix + ".")}
        else:
            own = {key: value for key, value in state.items() if "." not in key}
        module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in own.items()}, strict=True)
    h = torch.from_numpy(x)
    with torch.no_grad():
        for description in modules:
            module = built[description["prefix"]]
            kind = description["class"]
            if kind == "Embedding":
                h = module(h.long())
            elif kind in ("LSTM", "GRU"):
                output, state_out = module(h.to(next(module.parameters()).dtype))
                if description["output"] == "sequence":
                    h = output
                else:
                    h_n = state_out[0] if kind == "LSTM" else state_out
                    directions = 2 if description["args"]["bidirectional"] else 1
                    h = torch.cat([h_n[-directions + d] for d in range(directions)], dim=-1)
            elif kind == "Linear":
                h = module(h)
                # A state_dict holds no activation: the export states it with the module (spec/export.md).
                activation = description.get("activation")
                if activation is not None:
                    name = activation["name"]
                    if name == "softmax":
                        h = torch.softmax(h, dim=-1)
                    elif name == "sigmoid":
                        h = torch.sigmoid(h)
                    elif name == "tanh":
                        h = torch.tanh(h)
                    elif name == "relu":
                        h = torch.relu(h)
                    elif name == "hard_sigmoid":
                        h = torch.clamp(activation["slope"] * h + activation["offset"], 0, 1)
                    else:
                        raise ValueError(f"unknown head activation {name}")
    return h.double().numpy()


def main():
    results = []
    for case in sorted((REPO / "Fixtures/keras").glob("*/ours.h5")):
        folder = case.parent
        info = json.loads((folder / "case.json").read_text())
        entry = {"case": folder.name, "ours_sha256": hashlib.sha256(case.read_bytes()).hexdigest(),
                 "torch": torch.__version__}
        ck = lstmw.load(case, verify=True)
        try:
            export = lstmw.pytorch.export(ck)
        except lstmw.LstmwError as error:
            entry.update(result="refused", code=error.code, key=error.key)
            results.append(entry)
            continue
        x = np.load(folder / info["input"]["file"])
        expected = np.load(folder / info["expected"]["file"]).astype(np.float64)
        actual = run_modules(export.modules, export.state_dict, x)
        if actual.shape != expected.shape:
            entry.update(result="shape mismatch", shape=list(actual.shape), expected_shape=list(expected.shape))
        else:
            error = float(np.max(np.abs(actual - expected)))
            entry.update(result="match" if error <= TOLERANCE else "mismatch", max_abs_error=error,
                         modules=[m["class"] for m in export.modules])
        results.append(entry)
    out = REPO / "python/tests/keras_torch_results.json"
    out.write_text(json.dumps({"tolerance": TOLERANCE, "torch": torch.__version__, "cases": results}, indent=1) + "\n")
    bad = [r for r in results if r["result"] not in ("match", "refused")]
    print(f"{len(results)} cases: {sum(r['result'] == 'match' for r in results)} match, "
          f"{sum(r['result'] == 'refused' for r in results)} refused, {len(bad)} bad")
    for r in bad:
        print(r)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
