#!/usr/bin/env python3
"""Regenerates every committed fixture with the real frameworks. Run by hand, never in CI:

    /work/venv/bin/python Fixtures/generate.py            # everything
    /work/venv/bin/python Fixtures/generate.py --only pytorch numpy

Needs the versions pinned in Fixtures/requirements.txt (checked at start; --allow-other-versions to proceed
anyway). Each framework runs in its own subprocess (Keras 3 and tf-keras are kept apart). At the end every
case's ours.h5 / model.h5 is read back by a strict reader and run through the independent NumPy reference
(Fixtures/numpy_reference.py); the agreement with the framework output is printed and stored in case.json.
Fixtures/index.json lists every case for the Swift tests.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

STEPS = {
    "keras": [["fixturegen.keras_cases", "keras3"], ["fixturegen.keras_cases", "tf_keras"], ["fixturegen.keras_bad"]],
    "pytorch": [["fixturegen.torch_cases"], ["fixturegen.torch_bad"]],
    "numpy": [["fixturegen.numpy_cases"]],
}


def pinned_versions():
    pins = {}
    for line in (HERE / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def check_versions(allow_other):
    problems = []
    for name, want in pinned_versions().items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = None
        if have is None or have.split("+")[0] != want:
            problems.append(f"{name}: pinned {want}, installed {have}")
    if problems:
        print("Version check:\n  " + "\n  ".join(problems))
        if not allow_other:
            sys.exit("Install Fixtures/requirements.txt (or pass --allow-other-versions).")
    else:
        print("Version check: every pinned package matches.")


def run(module_args):
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    started = time.time()
    result = subprocess.run([sys.executable, "-m", *module_args], cwd=HERE, env=env, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        print(line)
    if result.returncode != 0:
        print(result.stderr[-4000:])
        sys.exit(f"step {' '.join(module_args)} failed")
    print(f"    ({' '.join(module_args)}: {time.time() - started:.1f} s)")


def folder_size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_index():
    cases, bad = [], {}
    for framework in ("keras", "pytorch", "numpy"):
        root = HERE / framework
        if not root.exists():
            continue
        for folder in sorted(p for p in root.iterdir() if (p / "case.json").exists()):
            info = json.loads((folder / "case.json").read_text())
            check = info.get("numpy_reference_check", {})
            cases.append({
                "path": f"{framework}/{folder.name}",
                "framework": info["framework"],
                "framework_version": info["framework_version"],
                "files": info["files"],
                "input": info["input"],
                "expected": info["expected"],
                "tolerance": info["tolerance"],
                "numpy_reference_max_abs_error": check.get("max_abs_error"),
            })
        if (root / "bad" / "bad.json").exists():
            bad[framework] = [f"{framework}/bad/{e['file']}" for e in json.loads((root / "bad" / "bad.json").read_text())["files"]]
    index = {"generator": "Fixtures/generate.py", "pinned": pinned_versions(), "cases": cases, "bad": bad}
    (HERE / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return cases, bad


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(STEPS), help="regenerate only these frameworks")
    parser.add_argument("--allow-other-versions", action="store_true")
    parser.add_argument("--skip-verify", action="store_true", help="do not run the NumPy cross-check")
    args = parser.parse_args()

    check_versions(args.allow_other_versions)
    for framework in args.only or list(STEPS):
        print(f"== {framework}")
        if (HERE / framework).exists():
            shutil.rmtree(HERE / framework)  # no stale cases
        for step in STEPS[framework]:
            run(step)
    if not args.skip_verify:
        print("== cross-check")
        run(["fixturegen.verify"])
    cases, bad = write_index()
    sizes = {f: folder_size(HERE / f) for f in STEPS if (HERE / f).exists()}
    print(f"== {len(cases)} cases, {sum(len(v) for v in bad.values())} bad-input files; sizes: "
          + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()) + f"; total {sum(sizes.values()) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
