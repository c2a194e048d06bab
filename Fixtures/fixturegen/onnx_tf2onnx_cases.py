"""ONNX fixtures converted by tf2onnx from tf-keras models (issue 14):  python -m fixturegen.onnx_tf2onnx_cases

Runs after fixturegen.onnx_cases (which rewrites Fixtures/onnx/ and cases.json) and appends its cases to
Fixtures/onnx/cases.json. Each case: Fixtures/onnx/<case>/ with model.onnx (tf2onnx.convert.from_keras, opset 17),
input.npy, expected.npy (onnxruntime) and case.json (with tf-keras' own output difference, <= 1e-5).
"""

from __future__ import annotations

import json
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
import tf_keras as keras  # noqa: E402

from fixturegen.common import FIXTURES, fresh_dir, rng_for, save_npy, uniform, write_json  # noqa: E402

ROOT = FIXTURES / "onnx"
B, T, F = 2, 5, 3


def case(name, layers, covers):
    rng = rng_for("onnx/" + name)
    model = keras.Sequential([keras.Input((None, F))] + layers)
    model.set_weights([uniform(rng, w.shape) for w in model.get_weights()])
    x = uniform(rng, (B, T, F), -1, 1)
    folder = fresh_dir(ROOT / name)
    path = folder / "model.onnx"
    tf2onnx.convert.from_keras(model, input_signature=(tf.TensorSpec((None, None, F), tf.float32, name="x"),), opset=17,
                               output_path=str(path))
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0].astype(np.float32)
    diff = float(np.max(np.abs(expected - model.predict(x, verbose=0))))
    assert diff < 1e-5, f"{name}: onnxruntime and tf-keras differ by {diff}"
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)
    write_json(folder / "case.json", {
        "case": name, "framework": "onnx", "source": f"tf2onnx {tf2onnx.__version__} from tf-keras {keras.__version__} (opset 17)",
        "covers": covers, "onnx_version": onnx.__version__, "onnxruntime_version": ort.__version__,
        "files": {"onnx": "model.onnx"},
        "input": {"file": "input.npy", "dtype": "float32", "shape": [B, T, F]},
        "expected": {"file": "expected.npy", "dtype": "float32", "shape": list(expected.shape), "from": "onnxruntime"},
        "tolerance": {"atol": 1e-5, "reference_atol": 1e-5}, "keras_vs_onnxruntime_max_abs_diff": diff,
    })
    print(f"  {name}: {covers}; output {list(expected.shape)}")
    return name


def main():
    names = [
        case("tf2onnx_lstm_dense", [keras.layers.LSTM(4), keras.layers.Dense(2)], "tf-keras LSTM → Dense (last state), tf2onnx"),
        case("tf2onnx_gru_seq_dense", [keras.layers.GRU(4, return_sequences=True), keras.layers.Dense(3)],
             "tf-keras GRU (sequence) → Dense on every step (Tensordot: Reshape, MatMul, Reshape back), tf2onnx"),
        case("tf2onnx_stacked_lstm", [keras.layers.LSTM(4, return_sequences=True), keras.layers.LSTM(3)],
             "tf-keras LSTM (sequence) → LSTM, tf2onnx"),
    ]
    # Not recognised (yet): tf2onnx splits a bidirectional layer's Y with two Slices and concatenates the halves,
    # a branch of the data path; kept as a bad file so the refusal stays named and tested.
    bad = case("tf2onnx_bigru_seq_dense", [keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)), keras.layers.Dense(3)],
               "tf-keras Bidirectional GRU, tf2onnx")
    (ROOT / "bad" / "tf2onnx_bidirectional.onnx").write_bytes((ROOT / bad / "model.onnx").read_bytes())
    import shutil
    shutil.rmtree(ROOT / bad)
    bad_index = json.loads((ROOT / "bad" / "bad.json").read_text())
    bad_index["files"] = [e for e in bad_index["files"] if e["file"] != "tf2onnx_bidirectional.onnx"] + [{
        "file": "tf2onnx_bidirectional.onnx", "code": "unsupported topology",
        "reason": "tf2onnx's bidirectional pattern (Y sliced per direction, halves concatenated) branches the data path"}]
    (ROOT / "bad" / "bad.json").write_text(json.dumps(bad_index, indent=2) + "\n")
    index = json.loads((ROOT / "cases.json").read_text())
    index["cases"] = [c for c in index["cases"] if c not in names] + names
    (ROOT / "cases.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
