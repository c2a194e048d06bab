"""Bad-input files for the Keras importer (issue 5), in Fixtures/keras/bad/ with a README line each.

Run after keras_cases (it edits copies of valid fixtures):  python -m fixturegen.keras_bad
Unsupported-layer models are built with real Keras 3.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import logging  # noqa: E402
import shutil  # noqa: E402
import warnings  # noqa: E402
import zipfile  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

warnings.filterwarnings("ignore")
logging.getLogger("absl").setLevel(logging.ERROR)

import keras as K  # noqa: E402

from fixturegen.common import FIXTURES, fresh_dir, rng_for, uniform, write_json  # noqa: E402

L = K.layers
BAD = FIXTURES / "keras" / "bad"
T, I = 6, 3

entries = []  # (file, expected refusal)


def note(name, why, **extra):
    entries.append({"file": name, "expect": why, **extra})


def source(case, file="model.h5"):
    return FIXTURES / "keras" / case / file


def copy_and_edit(case, name, edit):
    shutil.copy(source(case), BAD / name)
    with h5py.File(BAD / name, "r+") as f:
        edit(f)


def set_random_weights(model, name):
    rng = rng_for("bad/" + name)
    for layer in model.layers:
        w = layer.get_weights()
        if w:
            layer.set_weights([uniform(rng, np.shape(v)) for v in w])


def main():
    fresh_dir(BAD)

    # 1. An HDF5 file that is not a Keras model.
    with h5py.File(BAD / "not_keras.h5", "w") as f:
        f.create_dataset("data", data=np.arange(12, dtype=np.float32).reshape(3, 4))
        f.attrs["creator"] = "h5py (not Keras)"
    note("not_keras.h5", "valid HDF5 without model_config / model_weights / layers: not a Keras file")

    # 2. A model.save() file whose root model_config attribute was deleted.
    copy_and_edit("k3_stacked_lstm_dense", "no_model_config.h5", lambda f: f.attrs.__delitem__("model_config"))
    note("no_model_config.h5", "Keras 3 legacy .h5 (copy of k3_stacked_lstm_dense) without the root model_config "
         "attribute: the architecture is missing (suggest --config)")

    # 3. A kernel whose width is not 4H (LSTM) / 3H (GRU).
    def narrow(path):
        def edit(f):
            data = f[path][()]
            attrs = dict(f[path].attrs)
            del f[path]
            f.create_dataset(path, data=data[:, :-1])
            for k, v in attrs.items():
                f[path].attrs[k] = v
        return edit

    copy_and_edit("tfk_stacked_lstm_dense", "lstm_kernel_width_not_4h.h5",
                  narrow("model_weights/lstm/lstm/lstm_cell/kernel:0"))
    note("lstm_kernel_width_not_4h.h5", "tf-keras .h5 (copy of tfk_stacked_lstm_dense): layer 'lstm' kernel:0 is "
         "(3, 19), expected (3, 20) = (input, 4H) with H=5", layer="lstm",
         dataset="model_weights/lstm/lstm/lstm_cell/kernel:0", expected_shape=[3, 20], found_shape=[3, 19])
    copy_and_edit("k3_gru_reset_before", "gru_kernel_width_not_3h.h5",
                  narrow("model_weights/gru/sequential/gru/gru_cell/kernel"))
    note("gru_kernel_width_not_3h.h5", "Keras 3 .h5 (copy of k3_gru_reset_before): layer 'gru' kernel is (3, 14), "
         "expected (3, 15) = (input, 3H) with H=5", layer="gru",
         dataset="model_weights/gru/sequential/gru/gru_cell/kernel", expected_shape=[3, 15], found_shape=[3, 14])

    # 4. A missing dataset.
    copy_and_edit("k3_stacked_lstm_dense", "missing_dataset.h5",
                  lambda f: f.__delitem__("model_weights/lstm_1/sequential/lstm_1/lstm_cell/recurrent_kernel"))
    note("missing_dataset.h5", "Keras 3 .h5 (copy of k3_stacked_lstm_dense): weight_names of layer 'lstm_1' lists "
         "sequential/lstm_1/lstm_cell/recurrent_kernel but the dataset was deleted", layer="lstm_1",
         dataset="model_weights/lstm_1/sequential/lstm_1/lstm_cell/recurrent_kernel")

    # 5. Unsupported layers / topologies, built with real Keras 3.
    K.backend.clear_session()
    model = K.Sequential([K.Input((T, I)), L.Conv1D(4, 2, name="conv"), L.LSTM(5, name="lstm"), L.Dense(2)])
    set_random_weights(model, "conv1d")
    model.save(BAD / "unsupported_conv1d.h5")
    note("unsupported_conv1d.h5", "Sequential chain with a Conv1D layer (name 'conv', class Conv1D) before the LSTM: "
         "unsupported layer, refused naming layer and class", layer="conv", layer_class="Conv1D")

    K.backend.clear_session()
    inputs = K.Input((T, I))
    seq = L.LSTM(4, return_sequences=True, name="encoder")(inputs)
    attended = L.Attention(name="attention")([seq, seq])
    pooled = L.GlobalAveragePooling1D(name="pool")(attended)
    outputs = L.Dense(2, name="head")(pooled)
    model = K.Model(inputs, outputs)
    set_random_weights(model, "attention")
    model.save(BAD / "unsupported_attention.h5")
    note("unsupported_attention.h5", "Functional LSTM → Attention([seq, seq]) → GlobalAveragePooling1D → Dense: "
         "Attention is unsupported (layer 'attention', class Attention)", layer="attention", layer_class="Attention")

    K.backend.clear_session()
    inputs = K.Input((T, I))
    a = L.LSTM(3, name="left")(inputs)
    b = L.GRU(3, name="right")(inputs)
    merged = L.Concatenate(name="join")([a, b])
    model = K.Model(inputs, L.Dense(2, name="head")(merged))
    set_random_weights(model, "branching")
    model.save(BAD / "branching_functional.h5")
    note("branching_functional.h5", "Functional model with two parallel branches (LSTM 'left', GRU 'right') joined by "
         "Concatenate: not a single chain", layer="join", layer_class="Concatenate")

    # Embedding(mask_zero=True) and LSTM(stateful=True) were refused here until issue 13; they are supported now
    # and checked against Keras in Fixtures/models/ (fixturegen/models_keras.py).

    # 6. Truncated and empty files.
    data = source("k3_stacked_lstm_dense").read_bytes()
    (BAD / "truncated.h5").write_bytes(data[: len(data) // 2])
    note("truncated.h5", f"first {len(data) // 2} of {len(data)} bytes of k3_stacked_lstm_dense/model.h5")
    (BAD / "empty.h5").write_bytes(b"")
    note("empty.h5", "zero-byte file")

    # 7. A .keras zip without config.json, and one whose weights file is missing.
    with zipfile.ZipFile(source("k3_stacked_lstm_dense", "model.keras")) as src:
        members = {n: src.read(n) for n in src.namelist()}
    with zipfile.ZipFile(BAD / "no_config.keras", "w", zipfile.ZIP_DEFLATED) as dst:
        for n, content in members.items():
            if n != "config.json":
                dst.writestr(n, content)
    note("no_config.keras", "Keras 3 archive (k3_stacked_lstm_dense) with metadata.json and model.weights.h5 but no "
         "config.json")
    with zipfile.ZipFile(BAD / "no_weights.keras", "w", zipfile.ZIP_DEFLATED) as dst:
        for n, content in members.items():
            if n != "model.weights.h5":
                dst.writestr(n, content)
    note("no_weights.keras", "Keras 3 archive (k3_stacked_lstm_dense) with config.json but no model.weights.h5")

    # 8. Weights-only file without its config.
    shutil.copy(source("k3_text_embedding_lstm_softmax", "model.weights.h5"), BAD / "weights_only_without_config.weights.h5")
    note("weights_only_without_config.weights.h5", "Keras 3 save_weights file (k3_text_embedding_lstm_softmax) given "
         "without --config: must say the architecture is needed (--config model.json)")

    lines = ["# Bad inputs for the Keras importer", "",
             "Each file must be refused with one clear line naming the file (and the layer or dataset), exit "
             "non-zero, leave no output file and never crash. Generated by `Fixtures/generate.py` "
             "(fixturegen/keras_bad.py); details in `bad.json`.", ""]
    for e in entries:
        lines.append(f"- `{e['file']}` — {e['expect']}")
    (BAD / "README.md").write_text("\n".join(lines) + "\n")
    write_json(BAD / "bad.json", {"framework": "keras", "keras_version": K.__version__, "files": entries})
    print(f"  keras/bad: {len(entries)} files")


if __name__ == "__main__":
    main()
