#!/usr/bin/env python3
"""Runs the issue-4 benchmark grid on both sides in one run and prints the ratio table (markdown).

    nice -n -19 /work/venv/bin/python Benchmarks/compare.py --threads 1 [--runs 3] [--json out.json]

Side 1: Fixtures/bench_frameworks.py (PyTorch nn.LSTM and onnxruntime LSTM; median wall seconds per forward).
Side 2: Benchmarks' `lstm-bench` (lstmconv's fast engine on a prepared model; median wall seconds per forward),
built here with `swift build -c release`. Same grid (H in {64, 256, 1024} x B in {1, 32}, T = 100, I = H, float32),
same thread count (torch.set_num_threads / intra_op_num_threads / FastEngine(threads:)). In-process only; the
whole-process rows of issue 11 (`lstmconv run` as users run it) are Benchmarks/engine_compare.py.

Every cell runs on both sides back to back (frameworks, then lstmconv), cell after cell; with --runs N the whole
grid repeats N times and every cell reports the median of the N medians. That keeps a burst of load on this
shared machine from landing on one side only.

Times are medians of the per-run medians. ratio = median over runs of (faster of PyTorch and onnxruntime in that
run) / (lstmconv in that run, measured right after): above 1 means lstmconv is faster. Pairing within a run
cancels slow load drifts that the medians alone would not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_frameworks(python: str, threads: int, hidden, batch, min_seconds: float) -> dict:
    command = [python, str(ROOT / "Fixtures" / "bench_frameworks.py"), "--threads", str(threads),
               "--min-seconds", str(min_seconds), "--hidden", *map(str, hidden), "--batch", *map(str, batch)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def run_lstmconv(binary: Path, threads: int, hidden, batch, min_seconds: float, extra=()) -> dict:
    command = [str(binary), "--threads", str(threads), "--min-seconds", str(min_seconds), *extra]
    if hidden:
        command += ["--hidden", *map(str, hidden), "--batch", *map(str, batch)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="alternate the two sides this many times")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--python", default=os.environ.get("BENCH_PYTHON", "/work/venv/bin/python"),
                        help="a Python with torch and onnxruntime (default /work/venv/bin/python)")
    parser.add_argument("--json", type=Path, help="also write every raw measurement here")
    parser.add_argument("--from-json", type=Path, help="print the tables from a saved --json file without running")
    args = parser.parse_args()

    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        report(args, saved["frameworks"], saved["lstmconv"], saved["sgemm_gflops"])
        return

    subprocess.run(["swift", "build", "-c", "release", "--product", "lstm-bench"], cwd=HERE, check=True,
                   stdout=subprocess.DEVNULL)
    binary = Path(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=HERE, check=True,
                                 capture_output=True, text=True).stdout.strip()) / "lstm-bench"

    frameworks, ours, sgemm_runs = [], [], []
    for run in range(args.runs):
        # The sgemm probe, then every cell on both sides back to back, so that load changes hit both alike.
        probe = run_lstmconv(binary, args.threads, [], [], args.min_seconds, ["--sgemm-only", "--sgemm-size", "2048"])
        sgemm_runs.append(probe["sgemm"]["gflops"])
        for h in args.hidden:
            for b in args.batch:
                print(f"run {run + 1}/{args.runs}: H={h} B={b}", file=sys.stderr)
                frameworks.append(run_frameworks(args.python, args.threads, [h], [b], args.min_seconds))
                ours.append(run_lstmconv(binary, args.threads, [h], [b], args.min_seconds, ["--sgemm-size", "0"]))

    rows = report(args, frameworks, ours, sgemm_runs)
    if args.json:
        args.json.write_text(json.dumps({"frameworks": frameworks, "lstmconv": ours, "sgemm_gflops": sgemm_runs,
                                         "table": rows}, indent=2))


def report(args, frameworks, ours, sgemm_runs) -> list:
    def median_of(results, framework, h, b, key="median_seconds"):
        values = [r[key] for report in results for r in report["results"]
                  if r["framework"] == framework and r["hidden"] == h and r["batch"] == b and key in r]
        return statistics.median(values) if values else None

    sgemm = statistics.median(sgemm_runs)
    meta = frameworks[0]["meta"]
    print(f"Threads: {meta['threads']} on every side; torch {meta['torch']}, onnxruntime {meta['onnxruntime']}; "
          f"{len(sgemm_runs)} run(s) of the whole grid, cells interleaved; T = 100, I = H, float32.\n")
    def paired_ratios(h, b):
        # Each lstmconv measurement with the framework measurement taken just before it (same run, same cell).
        pairs = [(f, o) for f, o in zip(frameworks, ours)
                 if any(r["hidden"] == h and r["batch"] == b for r in o["results"])]
        ratios = []
        for f, o in pairs:
            faster = min(r["median_seconds"] for r in f["results"] if r["hidden"] == h and r["batch"] == b)
            mine = next(r["median_seconds"] for r in o["results"] if r["hidden"] == h and r["batch"] == b)
            ratios.append(faster / mine)
        return ratios

    print("| H | B | PyTorch ms | onnxruntime ms | lstmconv fast ms | ratio (faster / lstmconv) | paired ratios per run | target | met |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    rows = []
    for h in args.hidden:
        for b in args.batch:
            torch_s = median_of(frameworks, "pytorch", h, b)
            ort_s = median_of(frameworks, "onnxruntime", h, b)
            ours_s = median_of(ours, "lstmconv-fast", h, b)
            paired = paired_ratios(h, b)
            ratio = statistics.median(paired)
            target = 3.0 if (h, b) == (64, 1) else 1.2
            rows.append({"hidden": h, "batch": b, "pytorch": torch_s, "onnxruntime": ort_s, "lstmconv": ours_s,
                         "ratio": ratio, "paired_ratios": paired, "target": target})
            print(f"| {h} | {b} | {torch_s * 1e3:.3f} | {ort_s * 1e3:.3f} | {ours_s * 1e3:.3f} | {ratio:.2f}x | "
                  f"{', '.join(f'{r:.2f}' for r in paired)} | >= {target:g}x | {'yes' if ratio >= target else 'no'} |")
    print()
    print(f"sgemm throughput of this machine (lstmconv's packed GEMM, 2048^3, {meta['threads']} thread(s)): {sgemm:.1f} GFLOP/s "
          f"(median of {len(sgemm_runs)} probes: {', '.join(f'{g:.1f}' for g in sgemm_runs)})\n")
    print("Recurrent step against a 2048^3 sgemm measured right after it in the same process (paired):\n")
    print("| H | B | recurrent-step GEMM alone | whole recurrent step (GEMM + fused gates) | input projection ms | time loop ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for h in args.hidden:
        for b in args.batch:
            gemm = median_of(ours, "lstmconv-fast", h, b, "step_gemm_efficiency")
            step = median_of(ours, "lstmconv-fast", h, b, "step_efficiency")
            projection = median_of(ours, "lstmconv-fast", h, b, "input_projection_seconds")
            loop = median_of(ours, "lstmconv-fast", h, b, "recurrence_seconds")
            print(f"| {h} | {b} | {gemm * 100:.0f}% of sgemm | {step * 100:.0f}% of sgemm | {projection * 1e3:.3f} | {loop * 1e3:.3f} |")
    return rows


if __name__ == "__main__":
    main()
