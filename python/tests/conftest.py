"""Shared helpers: the repository, the `lstmconv` binary, the fixture files."""

from __future__ import annotations

import glob
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def lstmconv_binary() -> str:
    """`$LSTMCONV`, else the debug build; CI builds it before the Python tests run (a missing binary fails in CI)."""
    candidate = os.environ.get("LSTMCONV") or str(REPO / ".build" / "debug" / "lstmconv")
    if not os.access(candidate, os.X_OK):
        if os.environ.get("CI"):
            raise RuntimeError(f"lstmconv binary not found at {candidate}")
        pytest.skip(f"lstmconv binary not built ({candidate})")
    return candidate


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([lstmconv_binary(), *arguments], capture_output=True, text=True)


def inspect_json(path: Path) -> Dict[str, Any]:
    result = run_cli("inspect", "--json", str(path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def our_files() -> List[Path]:
    """Every committed file in our format: golden `.lstmw`, golden / h5py HDF5, every fixture's `ours.h5`."""
    patterns = ["golden/*.lstmw", "hdf5/golden/*.h5", "hdf5/h5py/*.h5", "*/*/ours.h5", "numpy/*/model.h5"]
    files: List[Path] = []
    for pattern in patterns:
        files += sorted(Path(p) for p in glob.glob(str(FIXTURES / pattern)))
    return files


def fixture_id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


def read_safetensors(path: Path) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """A small independent safetensors reader (no torch, no safetensors package): raw little-endian arrays."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "F64": "<f8", "I64": "<i8"}
    base = 8 + length
    tensors = {}
    for key, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[key] = np.frombuffer(data[base + begin:base + end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors, metadata


def raw_bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).view(np.uint8).tobytes()
