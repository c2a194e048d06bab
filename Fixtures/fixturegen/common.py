"""Helpers shared by the fixture generators."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent.parent
GENERATOR = "Fixtures/generate.py"
CONVERTER = "lstmconv Fixtures/generate.py (h5py, independent of the Swift writer)"

# Issue 4 §5: fast engine ≤ 1e-5 absolute on float32 cases, reference engine ≤ 1e-6.
TOLERANCE = {"atol": 1e-5, "reference_atol": 1e-6}


def rng_for(name: str) -> np.random.Generator:
    """A generator seeded from the case name, so cases do not depend on their order."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


def uniform(rng, shape, low=-0.5, high=0.5, dtype=np.float32):
    """Random non-zero values in [low, high]: exact zeros are replaced, so every weight is set and non-zero."""
    values = rng.uniform(low, high, size=shape)
    values[np.abs(values) < 1e-3] = 0.01
    return values.astype(dtype)


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_npy(path, array):
    np.save(path, array, allow_pickle=False)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def write_json(path, data):
    Path(path).write_text(json.dumps(_jsonable(data), indent=2) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def array_info(path, array):
    return {"file": os.path.basename(path), "dtype": str(array.dtype), "shape": list(array.shape)}


def gate_matrix(recurrent_part, input_part):
    """A document gate matrix [H, R + I]: recurrent (STM) columns first, then input (E) columns."""
    return np.ascontiguousarray(np.concatenate([recurrent_part, input_part], axis=1))


def hstack_source(recurrent_source, input_source):
    return f"hstack({recurrent_source}, {input_source})"
