#!/usr/bin/env python3
"""Loads `lstmconv export --to pytorch` files into real torch modules and compares their output with the fixtures.

Run by hand (never in CI; it needs torch and safetensors), from the repository root, after `swift build`:

    /work/venv/bin/python Fixtures/fixturegen/check_export.py [--lstmconv .build/debug/lstmconv]

For every PyTorch fixture (`Fixtures/pytorch/<case>/`):
  1. `lstmconv export model.safetensors --to pytorch` with the case's module prefix and head prefix;
  2. the module the fixture generator built (class, sizes, prefix from case.json, NOT from our metadata) is
     constructed in torch and `load_state_dict(safetensors.torch.load_file(out), strict=True)` must succeed;
  3. every loaded parameter must equal the original file's tensor bit for bit (dtype included);
  4. the forward pass (as the generator ran it, see case.json `expected_from`) must reproduce expected.npy
     within the case's atol.
For every Keras fixture whose layers PyTorch can express (LSTM, GRU reset_after, tanh/sigmoid, concat, no
go_backwards, at most one linear Dense):
  1. `lstmconv export model.h5 --to pytorch --prefix rnn`;
  2. torch modules are built from the constructor arguments the file's metadata lists (`lstmconv.modules`),
     loaded strictly, and chained: each recurrent module is fed the previous one's output; the last returns
     its output (return_sequences) or h_n of its last layer (directions concatenated); the head is applied;
  3. the result must reproduce Keras' own expected.npy within the case's atol.
Exit status 0 when every check passes.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures"
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


def export(lstmconv, source, out, *args):
    command = [str(lstmconv), "export", str(source), "--to", "pytorch", "-o", str(out), *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def attach(root, prefix, module):
    """Places `module` at the dotted `prefix` inside `root` (creating empty parents)."""
    parts = prefix.split(".")
    parent = root
    for part in parts[:-1]:
        if not hasattr(parent, part):
            parent.add_module(part, nn.Module())
        parent = getattr(parent, part)
    parent.add_module(parts[-1], module)


def raw_bytes(tensor):
    return tensor.detach().contiguous().view(-1).view(torch.uint8).numpy().tobytes()


def final_state(h_n, directions):
    """h_n of the last layer, directions concatenated (forward first): [B, D*H]."""
    return torch.cat([h_n[-directions + d] for d in range(directions)], dim=-1)


def check_pytorch_case(lstmconv, folder, scratch):
    case = json.loads((folder / "case.json").read_text())
    info = case["module"]
    prefix = info["prefix"]
    head = case.get("head")
    out = scratch / f"{folder.name}.safetensors"
    args = ["--prefix", prefix] if prefix else []
    options = case.get("import_options", {})
    if options.get("module") is not None:
        args += ["--module", options["module"]]
    if head:
        args += ["--head", options["head"], "--head-prefix", head["prefix"]]
        if head["applied_to"] == "last_step":
            args.append("--last-step")
    is_cell = info["class"].endswith("Cell")
    if is_cell:
        args.append("--cell")
    export(lstmconv, folder / "model.safetensors", out, *args)

    # The module as the generator built it, from case.json.
    cls = getattr(nn, info["class"])
    if is_cell:
        rnn = cls(info["input_size"], info["hidden_size"])
    else:
        kwargs = {"proj_size": info["proj_size"]} if info["proj_size"] else {}
        rnn = cls(info["input_size"], info["hidden_size"], num_layers=info["num_layers"],
                  bidirectional=info["bidirectional"], batch_first=True, **kwargs)
    dtype = DTYPES[case["state_dict"][0]["dtype"]]
    root = nn.Module() if prefix else rnn
    if prefix:
        attach(root, prefix, rnn)
    if head:
        attach(root, head["prefix"], nn.Linear(head["in_features"], head["out_features"]))
    root.to(dtype)
    exported = load_file(str(out))
    root.load_state_dict(exported, strict=True)

    original = load_file(str(folder / "model.safetensors"))
    loaded = root.state_dict()
    assert set(loaded) == set(original), f"keys differ: {sorted(set(loaded) ^ set(original))}"
    for key, tensor in original.items():
        assert loaded[key].dtype == tensor.dtype, f"{key}: {loaded[key].dtype} vs {tensor.dtype}"
        assert raw_bytes(loaded[key]) == raw_bytes(tensor), f"{key}: bytes differ"

    # The forward pass as the generator ran it (float32 on the stored weights).
    root.float().eval()
    x = torch.from_numpy(np.load(folder / "input.npy"))
    with torch.no_grad():
        if is_cell:
            batch, steps = x.shape[0], x.shape[1]
            h = torch.zeros(batch, info["hidden_size"])
            c = torch.zeros(batch, info["hidden_size"])
            outputs = []
            for t in range(steps):
                if info["class"] == "LSTMCell":
                    h, c = rnn(x[:, t, :], (h, c))
                else:
                    h = rnn(x[:, t, :], h)
                outputs.append(h)
            y = torch.stack(outputs, dim=1)
        else:
            y, _ = rnn(x)
            if head:
                linear = root.get_submodule(head["prefix"])
                y = linear(y[:, -1, :] if head["applied_to"] == "last_step" else y)
    expected = np.load(folder / "expected.npy")
    error = float(np.max(np.abs(y.numpy() - expected)))
    atol = case["tolerance"]["atol"]
    metadata = safe_open(str(out), "pt").metadata()
    if head:  # the metadata states where the head is applied, as the generator did
        linear = next(m for m in json.loads(metadata["lstmconv.modules"]) if m["class"] == "Linear")
        wanted = "final_state" if head["applied_to"] == "last_step" else "every_step"
        assert linear["output"] == wanted, f"metadata says the head is applied to {linear['output']}, expected {wanted}"
    return error, atol, f"{len(exported)} tensors, {str(dtype).replace('torch.', '')}, " \
                        f"{', '.join(m['class'] for m in json.loads(metadata['lstmconv.modules']))}"


def keras_expressible(case):
    layers = case["expected_layers"]
    dense = [layer for layer in layers if layer["kind"] == "dense"]
    if len(dense) > 1 or any(layer["activation"] != "linear" for layer in dense):
        return False
    for index, layer in enumerate(layers):
        if layer["kind"] == "embedding" and index != 0:
            return False
        if layer["kind"] in ("lstm", "gru"):
            if layer["go_backwards"] or layer["activation"] != "tanh" or layer["recurrent_activation"] != "sigmoid":
                return False
            if layer["directions"] == 2 and layer["merge_mode"] != "concat":
                return False
            if layer["kind"] == "gru" and layer["reset"] != "after":
                return False
    return True


def check_keras_case(lstmconv, folder, scratch):
    case = json.loads((folder / "case.json").read_text())
    source = folder / case["files"]["h5"]
    out = scratch / f"{folder.name}.safetensors"
    export(lstmconv, source, out, "--prefix", "rnn")
    metadata = safe_open(str(out), "pt").metadata()
    modules = json.loads(metadata["lstmconv.modules"])
    root = nn.Module()
    built = []
    for spec in modules:
        module = getattr(nn, spec["class"])(**spec["args"]).to(DTYPES[spec["dtype"]])
        attach(root, spec["prefix"], module)
        built.append((spec, module))
    exported = load_file(str(out))
    root.load_state_dict(exported, strict=True)
    root.float().eval()

    x = torch.from_numpy(np.load(folder / case["input"]["file"]))
    with torch.no_grad():
        y = x
        for spec, module in built:
            if spec["class"] in ("LSTM", "GRU"):
                output, state = module(y)
                h_n = state[0] if spec["class"] == "LSTM" else state
                directions = 2 if spec["args"]["bidirectional"] else 1
                y = output if spec["output"] == "sequence" else final_state(h_n, directions)
            elif spec["class"] == "Linear":
                y = module(y)
            else:
                raise RuntimeError(f"unexpected module {spec['class']}")
    expected = np.load(folder / case["expected"]["file"])
    assert y.shape == expected.shape, f"{tuple(y.shape)} vs {expected.shape}"
    error = float(np.max(np.abs(y.numpy() - expected)))
    return error, case["tolerance"]["atol"], ", ".join(f"{m['prefix']}={m['class']}" for m in modules)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lstmconv", default=str(ROOT / ".build/debug/lstmconv"))
    options = parser.parse_args()
    print(f"torch {torch.__version__}, lstmconv {options.lstmconv}")
    failures = 0
    with tempfile.TemporaryDirectory() as temporary:
        scratch = pathlib.Path(temporary)
        groups = [
            ("pytorch", sorted(p.parent for p in (FIXTURES / "pytorch").glob("*/case.json")), check_pytorch_case),
            ("keras", sorted(p.parent for p in (FIXTURES / "keras").glob("*/case.json")
                             if keras_expressible(json.loads(p.read_text()))), check_keras_case),
        ]
        for name, folders, check in groups:
            print(f"\n{name}: {len(folders)} cases")
            for folder in folders:
                try:
                    error, atol, detail = check(options.lstmconv, folder, scratch)
                    passed = error <= atol
                    failures += 0 if passed else 1
                    print(f"  {'ok  ' if passed else 'FAIL'} {folder.name:28s} max abs error {error:.3e} (atol {atol:g}); {detail}")
                except Exception as error:  # report every case, then fail
                    failures += 1
                    print(f"  FAIL {folder.name:28s} {type(error).__name__}: {error}")
    print(f"\n{'all checks passed' if failures == 0 else f'{failures} failure(s)'}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
