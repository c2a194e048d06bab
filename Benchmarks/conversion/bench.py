"""Conversion benchmark (issue 10): lstmconv import/convert/export/inspect/verify against `cp` and a Python path.

Run outside CI, after `swift build -c release --product lstmconv` and
`/work/venv/bin/python Benchmarks/conversion/make_models.py /tmp/lstmconv-conv-bench`:

    /work/venv/bin/python Benchmarks/conversion/bench.py --models /tmp/lstmconv-conv-bench --rounds 3 --write

Every step runs as its own process under `/usr/bin/time -v` (wall time, peak RSS); the steps of one round run back
to back (interleaved: cp, Python, every lstmconv step), rounds repeat, medians are reported with ratios taken
within each round. The page cache is warm (each source is read once before the first round).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def timed(command, cwd):
    """(wall seconds, peak RSS bytes) of one process run under /usr/bin/time -v."""
    result = subprocess.run(["/usr/bin/time", "-v"] + command, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    seconds = (int(wall.group(1) or 0) * 3600) + int(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, int(rss.group(1)) * 1024


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="/tmp/lstmconv-conv-bench")
    parser.add_argument("--lstmconv", default=os.path.join(ROOT, ".build/release/lstmconv"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the Conversion section of Benchmarks/RESULTS.md")
    args = parser.parse_args()
    models = os.path.abspath(args.models)
    lstmconv = os.path.abspath(args.lstmconv)
    python = sys.executable
    sources = {kind: os.path.join(models, f"model.{kind}") for kind in ["h5", "keras", "pt", "safetensors"]}
    model_size = os.path.getsize(sources["h5"])
    work = tempfile.mkdtemp(prefix="lstmconv-conv-")
    for path in sources.values():  # warm the page cache
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    # Inputs of convert/export/inspect/verify, written once.
    subprocess.run([lstmconv, "import", sources["h5"], "-o", "m.lstmw", "--force", "--quiet"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([lstmconv, "convert", "m.lstmw", "-o", "m.h5", "--force", "--quiet"], cwd=work, check=True, stdout=subprocess.DEVNULL)

    steps = [("cp model.h5", ["cp", sources["h5"], "cp.h5"], "h5"),
             ("Python h5py → numpy → safetensors", [python, os.path.join(HERE, "python_path.py"), sources["h5"], "py.safetensors"], "h5")]
    for kind in ["h5", "keras", "pt", "safetensors"]:
        steps.append((f"import .{kind} → .lstmw", [lstmconv, "import", sources[kind], "-o", "out.lstmw", "--force", "--quiet"], kind))
        steps.append((f"import .{kind} → .h5", [lstmconv, "import", sources[kind], "-o", "out.h5", "--force", "--quiet"], kind))
    steps += [
        ("convert .lstmw → .h5", [lstmconv, "convert", "m.lstmw", "-o", "c.h5", "--force", "--quiet"], "lstmw"),
        ("convert .h5 → .lstmw", [lstmconv, "convert", "m.h5", "-o", "c.lstmw", "--force", "--quiet"], "lstmw"),
        ("export .lstmw → PyTorch safetensors", [lstmconv, "export", "m.lstmw", "--to", "pytorch", "-o", "e.safetensors", "--force", "--quiet"], "lstmw"),
        ("export .lstmw → Keras .h5", [lstmconv, "export", "m.lstmw", "--to", "keras", "-o", "e.h5", "--force", "--quiet"], "lstmw"),
        ("export .lstmw → ONNX", [lstmconv, "export", "m.lstmw", "--to", "onnx", "-o", "e.onnx", "--force", "--quiet"], "lstmw"),
        ("inspect .lstmw", [lstmconv, "inspect", "m.lstmw"], None),
        ("verify .lstmw", [lstmconv, "verify", "m.lstmw", "--quiet"], None),
    ]
    cp_for = {"h5": ["cp", sources["h5"], "cp.x"], "keras": ["cp", sources["keras"], "cp.x"], "pt": ["cp", sources["pt"], "cp.x"],
              "safetensors": ["cp", sources["safetensors"], "cp.x"], "lstmw": ["cp", "m.lstmw", "cp.x"]}
    load_before = os.getloadavg()
    rounds = []
    for round_index in range(args.rounds):
        measured = {}
        cps = {}
        for name, command, kind in steps:
            if kind is not None and kind not in cps:
                cps[kind] = timed(cp_for[kind], work)[0]
                os.remove(os.path.join(work, "cp.x"))
            measured[name] = timed(command, work)
        rounds.append((measured, cps))
        print(f"round {round_index + 1}: " + ", ".join(f"{n.split(' ')[0]} {m[0]:.2f}s" for n, m in measured.items()), file=sys.stderr)
    load_after = os.getloadavg()
    shutil.rmtree(work)

    python_name = steps[1][0]
    lines = ["| step | wall s (median) | peak RSS MB | × cp of its source (per round) | Python path ÷ this | RSS ÷ model |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, _, kind in steps:
        walls = [r[0][name][0] for r in rounds]
        rss = max(r[0][name][1] for r in rounds)
        cp_ratio = "—"
        if kind is not None and not name.startswith("cp"):
            ratios = [r[0][name][0] / r[1][kind] for r in rounds]
            cp_ratio = f"{statistics.median(ratios):.1f}× ({', '.join(f'{x:.1f}' for x in ratios)})"
        vs_python = "—"
        if name.startswith("import .h5") or name.startswith("import"):
            vs_python = f"{statistics.median([r[0][python_name][0] / r[0][name][0] for r in rounds]):.2f}×"
        lines.append(f"| {name} | {statistics.median(walls):.3f} | {rss / 1e6:.0f} | {cp_ratio} | {vs_python} | {rss / model_size:.2f} |")
    verify_walls = [r[0]["verify .lstmw"][0] for r in rounds]
    lstmw_size = os.path.getsize(sources["h5"])
    text = "\n".join(lines)
    info = (f"CPU: {cpu_model()}, {os.cpu_count()} cores; model: 4-layer LSTM(2048), I = 2048, float32, "
            f"{model_size / 1e6:.0f} MB (.h5); {args.rounds} interleaved rounds; load average before {load_before[0]:.2f}, "
            f"after {load_after[0]:.2f}; verify throughput (whole process) {statistics.median([ (model_size) / w for w in verify_walls]) / 1e9:.2f} GB/s.")
    print(info)
    print(text)
    if args.write:
        write_results(info, text)


def write_results(info, table):
    path = os.path.join(ROOT, "Benchmarks/RESULTS.md")
    with open(path) as f:
        content = f.read()
    section = ("## Conversion (issue 10)\n\n"
               "Whole `lstmconv` processes against `cp` of the same source and the Python path "
               "(`Benchmarks/conversion/python_path.py`: h5py → per-gate NumPy → safetensors), page cache warm, "
               "wall time and peak RSS from `/usr/bin/time -v`. Reproduce:\n\n"
               "```sh\nswift build -c release --product lstmconv\n"
               "/work/venv/bin/python Benchmarks/conversion/make_models.py /tmp/lstmconv-conv-bench\n"
               "/work/venv/bin/python Benchmarks/conversion/bench.py --models /tmp/lstmconv-conv-bench --rounds 3 --write\n```\n\n"
               f"{info}\n\n{table}\n")
    marker = "## Conversion (issue 10)"
    analysis = "<!-- conversion analysis: kept when the table is rewritten -->"
    if marker in content:
        start = content.index(marker)
        rest = content[start + len(marker):]
        end = rest.find("\n## ")
        old = rest if end < 0 else rest[:end + 1]
        if analysis in old:  # the hand-written analysis under the table survives a rerun
            section += "\n" + old[old.index(analysis):].rstrip() + "\n"
        content = content[:start] + section + ("" if end < 0 else rest[end + 1:])
    else:
        content = content.rstrip() + "\n\n" + section
    with open(path, "w") as f:
        f.write(content)


if __name__ == "__main__":
    main()
