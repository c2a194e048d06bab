#!/usr/bin/env python3
"""Checks `lstmconv export --to onnx` and `--to keras` on every fixture with the real onnx checker, onnxruntime,
Keras 3 and tf-keras.

Run by hand when fixtures are generated (never in CI; it needs onnx and onnxruntime), from the repository root,
after `swift build --product lstmconv`:

    /work/venv/bin/python Fixtures/export_check/check.py [--lstmconv .build/debug/lstmconv]

For every case of Fixtures/index.json (Keras, PyTorch, NumPy-reference cases) and of Fixtures/onnx/cases.json:
  1. `lstmconv export SOURCE --to onnx -o OUT.onnx` with the case's import flags (PyTorch --module/--head/
     --last-step); a refusal is recorded with its message (document use gate, projection, ... are not expressible);
  2. `onnx.checker.check_model(OUT, full_check=True)` must pass and the opset must be >= 14;
  3. onnxruntime runs OUT on the case's input.npy (token ids as int64); its output is compared with
     - the original framework's output expected.npy (Keras, PyTorch, onnxruntime for ONNX sources; the NumPy
       reference for numpy/ cases), and
     - `lstmconv run SOURCE` (fast engine) on the same input;
     both must be <= 1e-5 (max abs).
Results go to Fixtures/export_check/onnx_results.json: per case the exported file's sha256 (the Swift tests
re-export every case and require the same bytes, so the file checked here is the file the code writes), the two
differences, or the refusal.

Then the same cases go through `lstmconv export --to keras` twice: `-o OUT.keras` (Keras 3 archive) and `-o OUT.h5`
(legacy HDF5 model). `keras.saving.load_model` (Keras 3.15.1) loads both and `tf_keras.models.load_model` (2.21)
loads the .h5, each in its own subprocess; `predict(input)` must reproduce expected.npy and `lstmconv run` within
1e-5. Results (sha256 of both files, the differences, or the refusal) go to Fixtures/export_check/keras_results.json.
Exit status 0 when every exported file passes.
"""

import argparse
import hashlib
from importlib.metadata import version as importlib_version
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures"
ATOL = 1e-5


def cases():
    index = json.loads((FIXTURES / "index.json").read_text())
    for case in index["cases"]:
        folder = FIXTURES / case["path"]
        details = json.loads((folder / "case.json").read_text())
        files = case["files"]
        flags = []
        if case["path"].startswith("pytorch/"):
            source = files["safetensors"]
            for key, value in sorted((details.get("import_options") or {}).items()):
                flags += [f"--{key}", value]
            if (details.get("head") or {}).get("applied_to") == "last_step":
                flags.append("--last-step")
        elif case["path"].startswith("keras/"):
            source = files.get("keras") or files.get("h5")
            if source is None:
                continue
        else:
            source = files.get("ours") or files.get("h5")
        yield case["path"], folder / source, folder / case["input"]["file"], folder / case["expected"]["file"], flags
    onnx_root = FIXTURES / "onnx"
    for name in json.loads((onnx_root / "cases.json").read_text())["cases"]:
        folder = onnx_root / name
        if "lengths" in json.loads((folder / "case.json").read_text()):
            continue  # needs run-time lengths, which the exported graphs do not take (spec/export.md)
        yield f"onnx/{name}", folder / "model.onnx", folder / "input.npy", folder / "expected.npy", []


def predict_all(flavour, jobs_file):
    """Subprocess body: load each model with one Keras flavour and save its prediction."""
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if flavour == "keras3":
        import keras
        load = keras.saving.load_model
    else:
        import tf_keras
        load = tf_keras.models.load_model
    for job in json.loads(pathlib.Path(jobs_file).read_text()):
        try:
            model = load(job["model"], compile=False)
            np.save(job["out"], model.predict(np.load(job["input"]), verbose=0))
        except Exception as error:  # recorded, then reported as a failure by the parent
            pathlib.Path(job["out"] + ".error").write_text(repr(error)[:2000])


def keras_checks(lstmconv, tmp):
    results, failures, jobs = {}, [], {"keras3": [], "tf_keras": []}
    for path, source, input_file, expected_file, flags in cases():
        folder = tmp / path.replace("/", "__")
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"source": str(source.relative_to(FIXTURES)), "flags": flags}
        for suffix in ("keras", "h5"):
            out = folder / f"model.{suffix}"
            done = subprocess.run([lstmconv, "export", str(source), "--to", "keras", "-o", str(out), "--force", *flags],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                message = done.stderr.strip().removeprefix("lstmconv: error: ").replace(str(source) + ": ", "")
                entry[suffix] = {"status": "refused", "exit": done.returncode, "message": message}
                continue
            entry[suffix] = {"sha256": hashlib.sha256(out.read_bytes()).hexdigest()}
            flavours = ["keras3"] if suffix == "keras" else ["keras3", "tf_keras"]
            for flavour in flavours:
                jobs[flavour].append({"case": path, "suffix": suffix, "model": str(out), "input": str(input_file),
                                      "out": str(folder / f"{suffix}.{flavour}.npy")})
        ran = folder / "run.npy"
        subprocess.run([lstmconv, "run", str(source), "--input", str(input_file), "--output", str(ran), "--force", *flags],
                       capture_output=True)
        entry["expected"], entry["run"] = str(expected_file), str(ran)
        results[path] = entry
    for flavour, flavour_jobs in jobs.items():
        jobs_file = tmp / f"{flavour}.json"
        jobs_file.write_text(json.dumps(flavour_jobs))
        subprocess.run([sys.executable, __file__, "--predict", flavour, str(jobs_file)], check=True)
        for job in flavour_jobs:
            entry = results[job["case"]]
            record = entry[job["suffix"]]
            error = pathlib.Path(job["out"] + ".error")
            if error.exists():
                record[flavour] = {"status": "FAILED", "error": error.read_text()}
                failures.append(f"{job['case']} .{job['suffix']} {flavour}")
                continue
            y = np.load(job["out"]).astype(np.float64)
            expected, ours = np.load(entry["expected"]), np.load(entry["run"])
            vs_expected = float(np.max(np.abs(y - expected))) if y.shape == expected.shape else float("inf")
            vs_run = float(np.max(np.abs(y - ours))) if y.shape == ours.shape else float("inf")
            ok = vs_expected <= ATOL and vs_run <= ATOL
            record[flavour] = {"status": "ok" if ok else "FAILED", "vs_expected": vs_expected, "vs_lstmconv_run": vs_run}
            if not ok:
                failures.append(f"{job['case']} .{job['suffix']} {flavour}")
    for path, entry in results.items():
        entry.pop("expected")
        entry.pop("run")
        states = [entry[s].get("status", "ok") for s in ("keras", "h5")]
        print(f"{path}: .keras {entry['keras'].get('keras3', entry['keras']).get('status')}, "
              f".h5 {entry['h5'].get('keras3', entry['h5']).get('status')}/{entry['h5'].get('tf_keras', {}).get('status', '-')}")
    return results, failures


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--predict":
        predict_all(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--lstmconv", default=str(ROOT / ".build/debug/lstmconv"))
    parser.add_argument("--only", choices=["onnx", "keras"], help="run one of the two checks")
    args = parser.parse_args()
    results, failures = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        if args.only != "onnx":
            keras_results, keras_failures = keras_checks(args.lstmconv, tmp)
            import keras as _k  # noqa: F401  (version only)
            summary = {
                "generated_by": "Fixtures/export_check/check.py", "keras": _k.__version__, "tf_keras": importlib_version("tf_keras"),
                "atol": ATOL, "failed": keras_failures, "cases": keras_results,
            }
            (FIXTURES / "export_check" / "keras_results.json").write_text(json.dumps(summary, indent=1) + "\n")
            print(f"keras: {len(keras_failures)} failed")
            failures += keras_failures
            if args.only == "keras":
                sys.exit(1 if failures else 0)
        for path, source, input_file, expected_file, flags in cases():
            out = tmp / "out.onnx"
            out.unlink(missing_ok=True)
            done = subprocess.run([args.lstmconv, "export", str(source), "--to", "onnx", "-o", str(out), *flags],
                                  capture_output=True, text=True)
            entry = {"source": str(source.relative_to(FIXTURES)), "flags": flags}
            if done.returncode != 0:
                message = done.stderr.strip().removeprefix("lstmconv: error: ").replace(str(source) + ": ", "")
                entry.update(status="refused", exit=done.returncode, message=message)
                results[path] = entry
                print(f"{path}: refused ({entry['message'][:110]})")
                continue
            model = onnx.load(str(out))
            onnx.checker.check_model(model, full_check=True)
            opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
            x = np.load(input_file)
            feed = x.astype(np.int64) if x.dtype.kind in "iu" else x.astype(np.float32 if model.graph.input[0].type.tensor_type.elem_type == 1 else np.float64)
            session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
            y = session.run(None, {session.get_inputs()[0].name: feed})[0]
            expected = np.load(expected_file)
            ran = tmp / "run.npy"
            subprocess.run([args.lstmconv, "run", str(source), "--input", str(input_file), "--output", str(ran), "--force", *flags],
                           check=True, capture_output=True)
            ours = np.load(ran)
            vs_expected = float(np.max(np.abs(y.astype(np.float64) - expected))) if y.shape == expected.shape else float("inf")
            vs_run = float(np.max(np.abs(y.astype(np.float64) - ours))) if y.shape == ours.shape else float("inf")
            ok = opset >= 14 and vs_expected <= ATOL and vs_run <= ATOL
            entry.update(status="ok" if ok else "FAILED", sha256=hashlib.sha256(out.read_bytes()).hexdigest(), opset=opset,
                         checker="passed", onnxruntime_vs_expected=vs_expected, onnxruntime_vs_lstmconv_run=vs_run,
                         output_shape=list(y.shape))
            results[path] = entry
            print(f"{path}: {entry['status']} (vs framework {vs_expected:.1e}, vs lstmconv run {vs_run:.1e})")
            if not ok:
                failures.append(path)
    summary = {
        "generated_by": "Fixtures/export_check/check.py",
        "onnx": onnx.__version__, "onnxruntime": ort.__version__, "atol": ATOL,
        "exported": sum(1 for r in results.values() if r["status"] == "ok"),
        "refused": sum(1 for r in results.values() if r["status"] == "refused"),
        "failed": failures,
        "cases": results,
    }
    (FIXTURES / "export_check" / "onnx_results.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"{summary['exported']} exported and checked, {summary['refused']} refused, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
