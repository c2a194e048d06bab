#!/usr/bin/env python3
"""Framework side of the benchmark (issue 4 §6): one-layer LSTM forward in PyTorch and onnxruntime.

Grid: hidden H ∈ {64, 256, 1024} × batch B ∈ {1, 32}, T = 100 steps, input size I = H, float32, the same thread
count on both sides. Prints the median seconds per forward (and GFLOP/s) as JSON (default) or CSV.

    /work/venv/bin/python Fixtures/bench_frameworks.py --threads 2
    /work/venv/bin/python Fixtures/bench_frameworks.py --threads 1 --format csv --hidden 64 256 --batch 1
    /work/venv/bin/python Fixtures/bench_frameworks.py --threads 2 --save-dir /tmp/lstm-bench   # exact workload

Workload. Weights are uniform(-0.1, 0.1) from a fixed seed, input uniform(-1, 1), zero initial states; the
timing does not depend on the values, so the Swift benchmark may simply draw random weights of the same sizes.
With --save-dir the script also writes, per grid cell, the very weights it timed in our HDF5 encoding
(`lstm_H<h>.h5`, document tensor names, two biases, written by Fixtures/fixturegen/ours_h5.py), the input
(`input_H<h>_B<b>.npy`) and PyTorch's output (`expected_H<h>_B<b>.npy`) so that both sides can run, and
check, the same workload. These files are large (H=1024 is 32 MiB of weights): never commit them.

The ONNX model is built with onnx.helper from the PyTorch weights (gate blocks reordered i,f,g,o → i,o,f,c,
B = [bias_ih, bias_hh]); each cell first checks that onnxruntime and PyTorch agree (max |Δ| is reported).
The timed call is the whole forward over T steps (PyTorch: nn.LSTM under inference_mode; onnxruntime:
InferenceSession.run with intra_op_num_threads = --threads, inter_op_num_threads = 1, sequential execution).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def build_onnx(lstm, batch, steps, inputs):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h = lstm.hidden_size
    sd = {k: v.detach().numpy() for k, v in lstm.state_dict().items()}

    def reorder(m):  # PyTorch i, f, g, o → ONNX i, o, f, c
        i, f, g, o = np.split(m, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    W = reorder(sd["weight_ih_l0"])[None]
    R = reorder(sd["weight_hh_l0"])[None]
    B = np.concatenate([reorder(sd["bias_ih_l0"]), reorder(sd["bias_hh_l0"])])[None]
    init = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (("W", W), ("R", R), ("B", B))]
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y"], hidden_size=h)  # layout 0: X [T, B, I]
    graph = helper.make_graph(
        [node], "lstm", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [steps, batch, inputs])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [steps, 1, batch, h])], initializer=init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def median_time(fn, warmup, repeats, min_seconds, cpu=None):
    """Median wall seconds per call; with a list `cpu`, also appends the median process CPU seconds per call."""
    for _ in range(warmup):
        fn()
    times, cpu_times = [], []
    started = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - started < min_seconds and len(times) < 100 * repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    if cpu is not None:
        cpu.append(statistics.median(cpu_times))
    return statistics.median(times), len(times)


def save_workload(save_dir, lstm, h, b, x, expected):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fixturegen import ours_h5
    from fixturegen.common import CONVERTER
    from fixturegen.torch_cases import map_rnn

    save_dir.mkdir(parents=True, exist_ok=True)
    weights = save_dir / f"lstm_H{h}.h5"
    if not weights.exists():
        import torch

        layers = map_rnn(lstm.state_dict(), "", "lstm", 1, False, h, h)
        ours_h5.write_model(weights, {"layers": layers}, {
            "source_framework": "pytorch", "source_framework_version": torch.__version__,
            "source_layout": "pytorch.lstm.ifgo.two_bias", "source_sha256": "", "converter": CONVERTER,
        }, f"Benchmark workload: one-layer LSTM, I = H = {h}, written by Fixtures/bench_frameworks.py")
    np.save(save_dir / f"input_H{h}_B{b}.npy", x)
    np.save(save_dir / f"expected_H{h}_B{b}.npy", expected)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="threads for PyTorch and onnxruntime (default 1)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20, help="timed forwards per cell (minimum)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=1.0, help="keep timing a cell at least this long")
    parser.add_argument("--format", choices=["json", "csv"], default="json")
    parser.add_argument("--save-dir", type=Path, help="also write the exact weights, inputs and PyTorch outputs")
    parser.add_argument("--sgemm", action="store_true",
                        help="also time torch.mm on the recurrent-step shape [B, H] x [H, 4H] (sgemm reference)")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import onnxruntime as ort
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    rows = []
    for h in args.hidden:
        torch.manual_seed(h)
        lstm = torch.nn.LSTM(h, h, batch_first=True)
        rng = np.random.default_rng(h)
        with torch.no_grad():
            for p in lstm.parameters():
                p.copy_(torch.from_numpy(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32)))
        lstm.eval()
        for b in args.batch:
            x = rng.uniform(-1.0, 1.0, (b, args.steps, h)).astype(np.float32)
            xt = torch.from_numpy(x)
            x_time_major = np.ascontiguousarray(x.transpose(1, 0, 2))

            options = ort.SessionOptions()
            options.intra_op_num_threads = args.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(build_onnx(lstm, b, args.steps, h), options,
                                           providers=["CPUExecutionProvider"])

            with torch.inference_mode():
                y_torch = lstm(xt)[0].numpy()
            y_ort = session.run(["Y"], {"X": x_time_major})[0][:, 0].transpose(1, 0, 2)
            agreement = float(np.max(np.abs(y_torch - y_ort)))
            if args.save_dir:
                save_workload(args.save_dir, lstm, h, b, x, y_torch)

            def torch_forward():
                with torch.inference_mode():
                    lstm(xt)

            def ort_forward():
                session.run(["Y"], {"X": x_time_major})

            flops = 2.0 * b * args.steps * 4 * h * (h + h)  # both GEMMs per step, all gates
            for name, fn in (("pytorch", torch_forward), ("onnxruntime", ort_forward)):
                cpu = []
                seconds, n = median_time(fn, args.warmup, args.repeats, args.min_seconds, cpu)
                rows.append({"framework": name, "hidden": h, "batch": b, "steps": args.steps, "input": h,
                             "threads": args.threads, "median_seconds": seconds, "runs": n,
                             "median_cpu_seconds": cpu[0],
                             "gflops": flops / seconds / 1e9, "max_abs_diff_torch_vs_ort": agreement})
            print(f"H={h:5d} B={b:3d}: pytorch {rows[-2]['median_seconds'] * 1e3:9.3f} ms, "
                  f"onnxruntime {rows[-1]['median_seconds'] * 1e3:9.3f} ms (agree {agreement:.1e})", file=sys.stderr)

    sgemm = []
    if args.sgemm:
        for h in args.hidden:
            for b in args.batch:
                a = torch.randn(b, h)
                w = torch.randn(h, 4 * h)
                seconds, n = median_time(lambda: torch.mm(a, w), 5, 200, 0.5)
                sgemm.append({"m": b, "k": h, "n": 4 * h, "median_seconds": seconds,
                              "gflops": 2.0 * b * h * 4 * h / seconds / 1e9})

    meta = {"torch": torch.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "threads": args.threads, "dtype": "float32", "workload": "one-layer LSTM, I = H, zero initial states",
            "timed": "median seconds per full forward over T steps"}
    if args.format == "json":
        print(json.dumps({"meta": meta, "results": rows, "sgemm_torch_mm": sgemm}, indent=2))
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
        for s in sgemm:
            print(f"# sgemm torch.mm m={s['m']} k={s['k']} n={s['n']}: {s['median_seconds']:.3e} s, {s['gflops']:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
