"""Issue 13 Keras fixtures ("models as people build them"), made with real Keras 3 or tf-keras:

    python -m fixturegen.models_keras keras3
    python -m fixturegen.models_keras tf_keras

Each case: Fixtures/models/<k3|tfk>_<case>/ with model.h5 and model.keras (model.save), input.npy,
expected.npy (model.predict / the model called on the input) and case.json (the import and run options the Swift
tests pass). Some cases also hold expected_states.npz (the layers' own final states). Nothing comes from lstmconv.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
FLAVOUR = sys.argv[1] if len(sys.argv) > 1 else "keras3"
if FLAVOUR == "tf_keras":
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
else:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import logging  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

warnings.filterwarnings("ignore")
logging.getLogger("absl").setLevel(logging.ERROR)

if FLAVOUR == "tf_keras":
    import tf_keras as K  # noqa: E402
else:
    import keras as K  # noqa: E402

import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")

from fixturegen.common import FIXTURES, TOLERANCE, array_info, fresh_dir, rng_for, save_npy, uniform, write_json  # noqa: E402

L = K.layers
KERAS_VERSION = K.__version__
PREFIX = "k3" if FLAVOUR == "keras3" else "tfk"
B, T, I = 3, 5, 3


def randomize(model, rng):
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([uniform(rng, w.shape) for w in weights])


def save(name, covers, model, x, expected, import_options=None, run_options=None, extra=None, files=("h5", "keras")):
    case = f"{PREFIX}_{name}"
    folder = fresh_dir(FIXTURES / "models" / case)
    sources = []
    if "h5" in files:
        model.save(folder / "model.h5")
        sources.append("model.h5")
    if "keras" in files:
        model.save(folder / "model.keras")
        sources.append("model.keras")
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", np.asarray(expected, dtype=np.float32))
    info = {
        "case": case, "framework": "keras" if FLAVOUR == "keras3" else "tf-keras", "framework_version": KERAS_VERSION,
        "framework_package": "keras" if FLAVOUR == "keras3" else "tf_keras", "backend": K.backend.backend(),
        "covers": covers, "sources": sources, "import": import_options or {}, "run": run_options or {},
        "input": array_info("input.npy", x), "expected": array_info("expected.npy", np.asarray(expected, np.float32)),
        "tolerance": TOLERANCE,
        "weights": "every weight set explicitly to uniform(-0.5, 0.5) (non-zero), seed from the case name",
    }
    info.update(extra or {})
    write_json(folder / "case.json", info)
    print(f"  models/{case}: output {list(np.shape(expected))}")
    return folder


def predict(model, x):
    return np.asarray(model(x, training=False))


def simple_rnn_case():
    name = "simple_rnn"
    rng = rng_for(PREFIX + name)
    model = K.Sequential([
        K.Input((T, I)),
        L.SimpleRNN(4, return_sequences=True),
        L.Bidirectional(L.SimpleRNN(3, activation="relu")),
        L.Dense(2),
    ])
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    save(name, "SimpleRNN (tanh, return_sequences) → Bidirectional(SimpleRNN relu) → Dense", model, x, predict(model, x))


def masked_input(rng):
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    x[1, 3:] = 0.0       # trailing padding
    x[2, 1] = 0.0        # a masked step in the middle
    x[2, 4] = 0.0
    x[0, 2, 0] = 0.0     # one zero feature: not masked (Masking needs every feature equal to mask_value)
    return x


def masking_case():
    name = "masking_lstm_bigru"
    rng = rng_for(PREFIX + name)
    model = K.Sequential([
        K.Input((T, I)),
        L.Masking(0.0),
        L.LSTM(4, return_sequences=True),
        L.Bidirectional(L.GRU(3, return_sequences=True)),
    ])
    randomize(model, rng)
    x = masked_input(rng)
    save(name, "Masking(0.0) → LSTM(return_sequences) → Bidirectional(GRU, return_sequences): masked steps anywhere",
         model, x, predict(model, x))


def masking_final_case():
    name = "masking_bilstm_final"
    rng = rng_for(PREFIX + name)
    model = K.Sequential([
        K.Input((T, I)),
        L.Masking(0.0),
        L.GRU(4, return_sequences=True),
        L.Bidirectional(L.LSTM(3)),
        L.Dense(2),
    ])
    randomize(model, rng)
    x = masked_input(rng)
    save(name, "Masking(0.0) → GRU(return_sequences) → Bidirectional(LSTM) (final states) → Dense", model, x,
         predict(model, x))


def mask_zero_case():
    name = "embedding_mask_zero"
    rng = rng_for(PREFIX + name)
    V = 7
    model = K.Sequential([
        K.Input((T,), dtype="int32"),
        L.Embedding(V, 3, mask_zero=True),
        L.LSTM(4, return_sequences=True),
        L.SimpleRNN(3),
        L.Dense(2),
    ])
    randomize(model, rng)
    ids = rng.integers(1, V, size=(B, T)).astype(np.int32)
    ids[1, 3:] = 0
    ids[2, 0] = 0
    save(name, "Embedding(mask_zero=True) → LSTM(return_sequences) → SimpleRNN → Dense, padding id 0", model, ids,
         predict(model, ids))


def time_distributed_case():
    name = "time_distributed_dense"
    rng = rng_for(PREFIX + name)
    model = K.Sequential([
        K.Input((T, I)),
        L.LSTM(4, return_sequences=True),
        L.TimeDistributed(L.Dense(2, activation="tanh")),
    ])
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    save(name, "LSTM(return_sequences) → TimeDistributed(Dense(tanh))", model, x, predict(model, x))


def return_state_case():
    name = "return_state_head"
    rng = rng_for(PREFIX + name)
    inputs = K.Input((T, I))
    _, h, _ = L.LSTM(4, return_state=True)(inputs)
    outputs = L.Dense(2)(h)
    model = K.Model(inputs, outputs)
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    save(name, "o, h, c = LSTM(return_state=True)(x); Dense(h): a chain in disguise", model, x, predict(model, x))


def time_major_case():
    name = "time_major_lstm"
    rng = rng_for(PREFIX + name)
    inputs = K.Input((B, I), batch_size=T)  # axis 0 is time for a time_major layer
    outputs = L.LSTM(4, time_major=True, return_sequences=True)(inputs)
    model = K.Model(inputs, outputs)
    randomize(model, rng)
    x = uniform(rng, (T, B, I), -1.0, 1.0)
    save(name, "tf-keras LSTM(time_major=True): input and output [T, B, ·]", model, x, predict(model, x))


def stateful_case():
    name = "stateful_lstm"
    rng = rng_for(PREFIX + name)
    if FLAVOUR == "keras3":
        model = K.Sequential([K.Input(batch_shape=(B, T, I)), L.LSTM(4, stateful=True, return_sequences=True)])
    else:
        model = K.Sequential([L.LSTM(4, stateful=True, return_sequences=True, batch_input_shape=(B, T, I))])
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    expected = predict(model, x)
    layer = model.layers[-1]
    h, c = [np.asarray(s) for s in layer.states]
    x2 = uniform(rng, (B, T, I), -1.0, 1.0)
    expected2 = predict(model, x2)  # continues from the carried states
    folder = save(name, "LSTM(stateful=True): first batch from zero states; final states; second batch continues", model,
                  x, expected, extra={"states_after_first_batch": "expected_states.npz (layer_0/forward/STM = h, LTM = c)",
                                      "second_batch": "input2.npy → expected2.npy, starting from those states"})
    np.savez(folder / "expected_states.npz", **{"layer_0/forward/STM": h.astype(np.float32),
                                               "layer_0/forward/LTM": c.astype(np.float32)})
    save_npy(folder / "input2.npy", x2)
    save_npy(folder / "expected2.npy", expected2.astype(np.float32))


def float16_case(policy):
    name = f"{policy}_lstm"
    rng = rng_for(PREFIX + name)
    model = K.Sequential([K.Input((T, I)), L.LSTM(4, return_sequences=True, dtype=policy), L.Dense(2, dtype=policy)])
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    expected = predict(model, x).astype(np.float32)
    save(name, f"LSTM and Dense with dtype policy {policy}: Keras computes in float16", model, x, expected,
         extra={"tolerance": {"atol": 1e-2, "reference_atol": 1e-2,
                              "why": "Keras computes in float16; lstmconv runs float32: the difference is float16 rounding"},
                "float16": True})


def refused_cases():
    """Models that stay refused (issue 13): one `.h5` per case in Fixtures/models/refused/, listed in
    refused_<flavour>.json with the layer the one-line error must name."""
    folder = FIXTURES / "models" / "refused"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    rng = rng_for(PREFIX + "refused")

    def keep(name, model, layer, why):
        randomize(model, rng)
        model.save(folder / f"{PREFIX}_{name}.h5")
        entries.append({"file": f"{PREFIX}_{name}.h5", "layer": layer, "why": why})

    keep("conv1d", K.Sequential([K.Input((T, I)), L.Conv1D(2, 2, name="conv"), L.LSTM(3, name="lstm")]), "conv",
         "Conv1D before the LSTM")
    inputs = K.Input((T, I))
    seq = L.LSTM(3, return_sequences=True, name="lstm")(inputs)
    attended = L.Attention(name="attention")([seq, seq])
    keep("attention", K.Model(inputs, L.Dense(2, name="head")(attended)), "attention", "Attention over the LSTM output")
    enc_in = K.Input((T, I))
    dec_in = K.Input((T, I))
    _, h, c = L.LSTM(3, return_state=True, name="encoder")(enc_in)
    dec = L.LSTM(3, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    keep("encoder_decoder", K.Model([enc_in, dec_in], L.Dense(2, name="head")(dec)), "decoder",
         "encoder–decoder: the decoder LSTM starts from the encoder's states (initial_state)")
    inputs = K.Input((T, I))
    _, h_forward, _, _, _ = L.Bidirectional(L.LSTM(3, return_state=True), name="bi")(inputs)
    keep("bidirectional_return_state", K.Model(inputs, L.Dense(2, name="head")(h_forward)), "bi",
         "Dense on the forward h of Bidirectional(LSTM(return_state=True)): one direction's state")
    write_json(folder / f"refused_{FLAVOUR}.json", {"files": entries})
    print(f"  models/refused: {len(entries)} {FLAVOUR} models")


def main():
    print(f"Issue 13 {FLAVOUR} fixtures with Keras {KERAS_VERSION}")
    K.utils.set_random_seed(0)
    simple_rnn_case()
    masking_case()
    masking_final_case()
    mask_zero_case()
    time_distributed_case()
    return_state_case()
    stateful_case()
    if FLAVOUR == "tf_keras":
        time_major_case()
    float16_case("mixed_float16")
    float16_case("float16")
    refused_cases()


if __name__ == "__main__":
    main()
