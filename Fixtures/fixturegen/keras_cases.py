"""Keras fixtures (issue 5), made with real Keras 3 or real tf-keras from pip.

Run as a subprocess of generate.py, once per flavour, because the two packages are best kept apart:

    python -m fixturegen.keras_cases keras3      # Keras 3 (`import keras`)
    python -m fixturegen.keras_cases tf_keras    # tf-keras 2.x (`import tf_keras`, TF_USE_LEGACY_KERAS=1)
    python -m fixturegen.keras_cases keras3 k3_lstm_no_bias …   # only the named cases (of this flavour)

The CuDNN and h5py-derived tf-keras cases are made only in a full run (no case names given).

Each case: Fixtures/keras/<flavour prefix>_<case>/ with model.h5 (model.save, legacy HDF5), model.keras
(Keras archive), input.npy, expected.npy (model.predict), ours.h5 (the same model in our HDF5 encoding, mapped
here in Python) and case.json; some cases also carry weights-only files plus model.json (model.to_json()).
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

import json  # noqa: E402
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

from fixturegen import ours_h5  # noqa: E402
from fixturegen.common import (  # noqa: E402
    CONVERTER, FIXTURES, TOLERANCE, array_info, fresh_dir, gate_matrix, hstack_source, rng_for, save_npy,
    sha256, uniform, write_json,
)

L = K.layers
KERAS_VERSION = K.__version__
PREFIX = "k3" if FLAVOUR == "keras3" else "tfk"
PACKAGE = "keras" if FLAVOUR == "keras3" else "tf_keras"
BACKEND = K.backend.backend()
# The two meanings of "hard_sigmoid": Keras ≤ 2.x and tf-keras 0.2x+0.5, Keras 3 x/6+0.5.
HARD_SIGMOID = ("hard_sigmoid", 1.0 / 6.0, 0.5) if FLAVOUR == "keras3" else ("hard_sigmoid", 0.2, 0.5)

B, T, I = 2, 6, 3


# ---------------------------------------------------------------------------------------------------------
# Case definitions. Each builder returns (model, input array); weights are set afterwards.


def seq(*layers, name=None):
    return K.Sequential(list(layers), name=name)


def float_input(rng, steps=T, features=I, batch=B):
    return uniform(rng, (batch, steps, features), -1.0, 1.0)


def case_text_embedding_lstm_softmax(rng):
    vocab = 12
    model = seq(K.Input((T,), dtype="int32"), L.Embedding(vocab, 4), L.LSTM(5), L.Dense(3, activation="softmax"))
    return model, rng.integers(0, vocab, size=(B, T)).astype(np.int32)


def case_bigru_concat_seq(rng):
    model = seq(K.Input((T, I)), L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="concat"), L.Dense(2))
    return model, float_input(rng)


def case_bigru_sum_seq(rng):
    model = seq(K.Input((T, I)), L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="sum"))
    return model, float_input(rng)


def case_bigru_mul_reset_before(rng):
    model = seq(K.Input((T, I)), L.Bidirectional(L.GRU(4, reset_after=False), merge_mode="mul"),
                L.Dense(3, activation="sigmoid"))
    return model, float_input(rng)


def case_bigru_ave_reset_before(rng):
    model = seq(K.Input((T, I)), L.Bidirectional(L.GRU(5, reset_after=False, return_sequences=True), merge_mode="ave"))
    return model, float_input(rng)


def case_bilstm_concat_last(rng):
    model = seq(K.Input((T, I)), L.Bidirectional(L.LSTM(4)), L.Dense(2, activation="tanh"))
    return model, float_input(rng)


def case_stacked_lstm_dense(rng):
    model = seq(K.Input((T, I)), L.LSTM(5, return_sequences=True), L.LSTM(4), L.Dense(2))
    return model, float_input(rng)


def case_lstm_hard_sigmoid(rng):
    model = seq(K.Input((T, I)), L.LSTM(5, recurrent_activation="hard_sigmoid", return_sequences=True))
    return model, float_input(rng)


def case_gru_hard_sigmoid(rng):
    model = seq(K.Input((T, I)), L.GRU(4, recurrent_activation="hard_sigmoid"))
    return model, float_input(rng)


def case_lstm_go_backwards_seq(rng):
    model = seq(K.Input((T, I)), L.LSTM(5, go_backwards=True, return_sequences=True))
    return model, float_input(rng)


def case_lstm_go_backwards_last(rng):
    model = seq(K.Input((T, I)), L.LSTM(5, go_backwards=True), L.Dense(2))
    return model, float_input(rng)


def case_gru_go_backwards_seq(rng):
    model = seq(K.Input((T, I)), L.GRU(4, go_backwards=True, return_sequences=True))
    return model, float_input(rng)


def case_gru_reset_before(rng):
    model = seq(K.Input((T, I)), L.GRU(5, reset_after=False, return_sequences=True))
    return model, float_input(rng)


def case_gru_reset_after_dropout(rng):
    model = seq(K.Input((T, I)), L.GRU(5, reset_after=True), L.Dropout(0.5), L.Dense(3, activation="relu"))
    return model, float_input(rng)


def case_functional_chain(rng):
    inputs = K.Input((T, I), name="events")
    x = L.LSTM(5, return_sequences=True, name="encoder")(inputs)
    x = L.Dropout(0.3, name="drop")(x)
    x = L.GRU(4, name="summary")(x)
    outputs = L.Dense(3, activation="tanh", name="head")(x)
    return K.Model(inputs, outputs, name="functional_chain"), float_input(rng)


def case_dense_activations(rng):
    model = seq(
        K.Input((T, I)), L.LSTM(5),
        L.Dense(6, activation="tanh"), L.Dense(5, activation="sigmoid"), L.Dense(4, activation="relu"),
        L.Dense(3, activation="linear"), L.Dense(2, activation="softmax"),
    )
    return model, float_input(rng)


def case_rnn_lstmcell_seq(rng):
    model = seq(K.Input((T, I)), L.RNN(L.LSTMCell(5), return_sequences=True), L.Dense(2))
    return model, float_input(rng)


def case_rnn_grucell_last(rng):
    model = seq(K.Input((T, I)), L.RNN(L.GRUCell(4)), L.Dense(3, activation="softmax"))
    return model, float_input(rng)


def case_lstm_no_bias(rng):
    model = seq(K.Input((T, I)), L.LSTM(5, use_bias=False, return_sequences=True), L.Dense(2, use_bias=False))
    return model, float_input(rng)


def case_gru_no_bias_reset_after(rng):
    model = seq(K.Input((T, I)), L.GRU(4, use_bias=False, reset_after=True),
                L.Dense(3, activation="tanh", use_bias=False))
    return model, float_input(rng)


def case_gru_no_bias_reset_before(rng):
    model = seq(K.Input((T, I)), L.GRU(4, use_bias=False, reset_after=False, return_sequences=True), L.Dense(2))
    return model, float_input(rng)


def case_dense_activation_layers(rng):
    model = seq(K.Input((T, I)), L.LSTM(5), L.Dense(6), L.Activation("tanh"), L.Dense(3), L.Activation("softmax"))
    return model, float_input(rng)


def case_bilstm_explicit_backward(rng):
    backward = L.LSTM(4, return_sequences=True, go_backwards=True, name="reverse_reader")
    model = seq(K.Input((T, I)), L.Bidirectional(L.LSTM(4, return_sequences=True), backward_layer=backward),
                L.Dense(2))
    return model, float_input(rng)


def case_bilstm_go_backwards_seq(rng):
    # tf-keras only: Keras 3 refuses a go_backwards layer without an explicit backward_layer.
    model = seq(K.Input((T, I)), L.Bidirectional(L.LSTM(4, go_backwards=True, return_sequences=True)))
    return model, float_input(rng)


def case_bilstm_go_backwards_last(rng):
    model = seq(K.Input((T, I)), L.Bidirectional(L.LSTM(4, go_backwards=True), merge_mode="sum"), L.Dense(2))
    return model, float_input(rng)


def case_bilstm_go_backwards_explicit_backward(rng):
    # The Keras 3 spelling of Bidirectional(LSTM(go_backwards=True)): the backward layer must be given.
    backward = L.LSTM(4, return_sequences=True, name="reverse_reader")
    model = seq(K.Input((T, I)),
                L.Bidirectional(L.LSTM(4, go_backwards=True, return_sequences=True), backward_layer=backward))
    return model, float_input(rng)


def case_stacked_gru_reset_before(rng):
    model = seq(K.Input((T, I)), L.GRU(5, reset_after=False, return_sequences=True),
                L.GRU(4, reset_after=False, return_sequences=True), L.GRU(3, reset_after=False))
    return model, float_input(rng)


def case_text_embedding_bilstm_softmax(rng):
    vocab = 12
    model = seq(K.Input((T,), dtype="int32"), L.Embedding(vocab, 4, mask_zero=False), L.Bidirectional(L.LSTM(4)),
                L.Dense(3, activation="softmax"))
    ids = rng.integers(0, vocab, size=(B, T)).astype(np.int32)
    ids[:, :2] = 0  # leading padding id 0: with mask_zero=False it is an ordinary token
    return model, ids


CASES = [
    # name, builder, what it covers, weights-only files too?, weight range (wider saturates hard_sigmoid)
    ("text_embedding_lstm_softmax", case_text_embedding_lstm_softmax,
     "Embedding → LSTM → Dense(softmax) text model on int32 token ids", True, 0.5),
    ("bigru_concat_seq", case_bigru_concat_seq,
     "Bidirectional GRU (reset_after=True), merge concat, return_sequences, then Dense(linear) per step", False, 0.5),
    ("bigru_sum_seq", case_bigru_sum_seq, "Bidirectional GRU (reset_after=True), merge sum, return_sequences", False, 0.5),
    ("bigru_mul_reset_before", case_bigru_mul_reset_before,
     "Bidirectional GRU (reset_after=False), merge mul, last step, Dense(sigmoid)", False, 0.5),
    ("bigru_ave_reset_before", case_bigru_ave_reset_before,
     "Bidirectional GRU (reset_after=False), merge ave, return_sequences", False, 0.5),
    ("bilstm_concat_last", case_bilstm_concat_last,
     "Bidirectional LSTM, merge concat, last step, Dense(tanh)", False, 0.5),
    ("stacked_lstm_dense", case_stacked_lstm_dense, "stacked LSTM(return_sequences) → LSTM → Dense(linear)", True, 0.5),
    ("lstm_hard_sigmoid", case_lstm_hard_sigmoid,
     "LSTM with recurrent_activation='hard_sigmoid' (this Keras generation's definition), weights in ±1.5 so the "
     "clip is reached", False, 1.5),
    ("gru_hard_sigmoid", case_gru_hard_sigmoid,
     "GRU with recurrent_activation='hard_sigmoid' (this Keras generation's definition), weights in ±1.5", False, 1.5),
    ("lstm_go_backwards_seq", case_lstm_go_backwards_seq,
     "LSTM go_backwards=True with return_sequences (outputs in reversed order, as Keras returns them)", False, 0.5),
    ("lstm_go_backwards_last", case_lstm_go_backwards_last, "LSTM go_backwards=True, last step, Dense", False, 0.5),
    ("gru_go_backwards_seq", case_gru_go_backwards_seq, "GRU go_backwards=True with return_sequences", False, 0.5),
    ("gru_reset_before", case_gru_reset_before, "GRU reset_after=False (single bias (3H,)), return_sequences", False, 0.5),
    ("gru_reset_after_dropout", case_gru_reset_after_dropout,
     "GRU reset_after=True (bias (2, 3H)) → Dropout (inference no-op) → Dense(relu)", False, 0.5),
    ("functional_chain", case_functional_chain,
     "Functional single-chain model with user layer names: LSTM → Dropout → GRU → Dense(tanh)", False, 0.5),
    ("dense_activations", case_dense_activations,
     "LSTM → Dense tanh → sigmoid → relu → linear → softmax", False, 0.5),
    ("rnn_lstmcell_seq", case_rnn_lstmcell_seq,
     "RNN(LSTMCell) wrapper with return_sequences, then Dense(linear) per step", True, 0.5),
    ("rnn_grucell_last", case_rnn_grucell_last,
     "RNN(GRUCell) wrapper (reset_after=True), last step, Dense(softmax)", False, 0.5),
    ("lstm_no_bias", case_lstm_no_bias,
     "LSTM use_bias=False (no bias dataset: zero biases) with return_sequences, then Dense use_bias=False", True, 0.5),
    ("gru_no_bias_reset_after", case_gru_no_bias_reset_after,
     "GRU use_bias=False, reset_after=True (zero double bias), last step, Dense(tanh) use_bias=False", False, 0.5),
    ("gru_no_bias_reset_before", case_gru_no_bias_reset_before,
     "GRU use_bias=False, reset_after=False (zero single bias), return_sequences, Dense(linear)", False, 0.5),
    ("dense_activation_layers", case_dense_activation_layers,
     "LSTM → Dense(linear) → Activation('tanh') → Dense(linear) → Activation('softmax') (Activation layers folded "
     "into the Dense before them)", False, 0.5),
    ("bilstm_explicit_backward", case_bilstm_explicit_backward,
     "Bidirectional LSTM with an explicit backward_layer= (go_backwards=True, its own name), return_sequences, "
     "merge concat, then Dense", False, 0.5),
    ("bilstm_go_backwards_seq", case_bilstm_go_backwards_seq,
     "Bidirectional(LSTM(go_backwards=True)), return_sequences, merge concat (forward reads reversed, backward reads "
     "in order; merged sequence in reversed time order)", False, 0.5),
    ("bilstm_go_backwards_last", case_bilstm_go_backwards_last,
     "Bidirectional(LSTM(go_backwards=True)), last step, merge sum, then Dense", False, 0.5),
    ("bilstm_go_backwards_explicit_backward", case_bilstm_go_backwards_explicit_backward,
     "Bidirectional(LSTM(go_backwards=True), backward_layer=LSTM(go_backwards=False)) (the Keras 3 spelling of a "
     "go_backwards Bidirectional), return_sequences, merge concat", False, 0.5),
    ("stacked_gru_reset_before", case_stacked_gru_reset_before,
     "three stacked GRU layers, reset_after=False (single bias), last step from the third", False, 0.5),
    ("text_embedding_bilstm_softmax", case_text_embedding_bilstm_softmax,
     "Embedding(mask_zero=False) → Bidirectional LSTM (last step, concat) → Dense(softmax) text classifier on int32 "
     "token ids with leading id-0 padding", False, 0.5),
]

# Cases that exist for one flavour only (all others are made for both).
ONLY_FLAVOUR = {
    # Keras 3 refuses Bidirectional(LSTM(go_backwards=True)) without backward_layer (both would read backwards).
    "bilstm_go_backwards_seq": "tf_keras",
    "bilstm_go_backwards_last": "tf_keras",
    "stacked_gru_reset_before": "tf_keras",
    "bilstm_go_backwards_explicit_backward": "keras3",
    "text_embedding_bilstm_softmax": "keras3",
}


# ---------------------------------------------------------------------------------------------------------
# Keras → document mapping (done here, in Python, independently of the Swift importer)


def weight_name(variable):
    return variable.path if FLAVOUR == "keras3" else variable.name


def activation_of(name):
    if name == "hard_sigmoid":
        return HARD_SIGMOID
    if name in ("sigmoid", "tanh", "relu", "linear", "softmax"):
        return (name,)
    raise ValueError(f"activation {name} not covered by the fixtures")


def cell_of(layer):
    """The object holding a recurrent layer's cell options: the layer (LSTM, GRU) or its cell (RNN(cell))."""
    return layer.cell if type(layer).__name__ == "RNN" else layer


def cell_kind(layer):
    """"LSTM" or "GRU" for LSTM / GRU layers and for RNN(LSTMCell) / RNN(GRUCell)."""
    kind = type(cell_of(layer)).__name__
    kind = {"LSTMCell": "LSTM", "GRUCell": "GRU"}.get(kind, kind)
    if kind not in ("LSTM", "GRU"):
        raise ValueError(f"recurrent class {kind} not covered by the fixtures")
    return kind


def map_recurrent_direction(layer, source_prefix):
    """Maps one Keras LSTM/GRU layer's kernels onto document tensors: (tensors, sources, bias kind, reset)."""
    cell = cell_of(layer)
    kind = cell_kind(layer)
    h = cell.units
    values = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
    names = [f"{source_prefix}/{weight_name(w)}" for w in layer.weights]
    if cell.use_bias:
        (kernel, recurrent_kernel, bias), (kname, rname, bname) = values, names
    else:
        # No bias variable at all: zeros of the shape the layer would have had (GRU: by reset_after).
        (kernel, recurrent_kernel), (kname, rname) = values, names
        shape = (2, 3 * h) if kind == "GRU" and cell.reset_after else ((4 if kind == "LSTM" else 3) * h,)
        bias, bname = np.zeros(shape, np.float32), None
    tensors, sources = {}, {}
    if kind == "LSTM":
        gates = ["i", "f", "n", "v"]  # Keras column blocks i, f, c, o
    else:
        gates = ["z", "r", "c"]  # Keras column blocks z, r, h

    def bias_source(text):
        return text if bname else "zeros (use_bias=False)"

    for k, role in enumerate(gates):
        cols = slice(k * h, (k + 1) * h)
        tensors["W_" + role] = gate_matrix(recurrent_kernel[:, cols].T, kernel[:, cols].T)
        sources["W_" + role] = hstack_source(f"{rname}[:, {k * h}:{(k + 1) * h}].T", f"{kname}[:, {k * h}:{(k + 1) * h}].T")
        if bias.ndim == 1:
            tensors["b_" + role] = np.ascontiguousarray(bias[cols])
            sources["b_" + role] = bias_source(f"{bname}[{k * h}:{(k + 1) * h}]")
        else:  # GRU reset_after=True: (2, 3H) = [input bias; recurrent bias]
            tensors["b_" + role] = np.ascontiguousarray(bias[0, cols])
            sources["b_" + role] = bias_source(f"{bname}[0, {k * h}:{(k + 1) * h}]")
            tensors["bh_" + role] = np.ascontiguousarray(bias[1, cols])
            sources["bh_" + role] = bias_source(f"{bname}[1, {k * h}:{(k + 1) * h}]")
    bias_kind = "double" if bias.ndim == 2 else "single"
    reset = None
    if kind == "GRU":
        reset = "after" if cell.reset_after else "before"
    return tensors, sources, bias_kind, reset


def recurrent_common(layer):
    """Sequence options from the layer (RNN or LSTM/GRU), activations from the cell options."""
    cfg = layer.get_config()
    cell_cfg = cell_of(layer).get_config()
    for key in ("stateful", "unroll", "return_state"):
        if cfg.get(key):
            raise ValueError(f"{key} not covered")
    return {
        "return_sequences": cfg["return_sequences"],
        "go_backwards": cfg["go_backwards"],
        "activation": activation_of(cell_cfg["activation"]),
        "recurrent_activation": activation_of(cell_cfg["recurrent_activation"]),
    }


def to_document(model, features):
    """Builds the document model (numpy_reference/ours_h5 layer dicts) from a Keras model. Returns (model, layouts).

    `features` is the input's feature count (None for token-id input)."""
    layers, layouts = [], []
    previous = features
    for layer in model.layers:
        kind = type(layer).__name__
        prefix = f"model_weights/{layer.name}"
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind == "Activation":
            # A stand-alone activation right after a linear Dense is that Dense's activation.
            activation = activation_of(layer.get_config()["activation"])
            if activation == ("linear",):
                continue
            if not layers or layers[-1]["kind"] != "dense" or layers[-1]["activation"] != ("linear",):
                raise ValueError("Activation layer not after a linear Dense is not covered")
            layers[-1]["activation"] = activation
            continue
        if kind == "Embedding":
            if layer.get_config().get("mask_zero"):
                raise ValueError("mask_zero=True not covered")
            (table,) = layer.get_weights()
            doc = ours_h5.embedding_layer(np.asarray(table, np.float32),
                                          sources={"W_e": f"{prefix}/{weight_name(layer.weights[0])}"})
            layouts.append("keras.embedding")
        elif kind == "Dense":
            values = [np.asarray(w, np.float32) for w in layer.get_weights()]
            names = [f"{prefix}/{weight_name(w)}" for w in layer.weights]
            kernel = values[0]
            bias = values[1] if layer.use_bias else None
            sources = {"W_d": f"{names[0]}.T"}
            if bias is not None:
                sources["b_d"] = names[1]
            doc = ours_h5.dense_layer(np.ascontiguousarray(kernel.T), bias,
                                      activation=activation_of(layer.get_config()["activation"]), sources=sources)
            layouts.append("keras.dense.kernel_in_x_units")
        elif kind in ("LSTM", "GRU", "RNN", "Bidirectional"):
            if kind == "Bidirectional":
                parts = [layer.forward_layer, layer.backward_layer]
                merge_mode = layer.merge_mode
                options = recurrent_common(layer.forward_layer)
                # Keras runs the backward layer with the opposite go_backwards. The forward layer's flag is the
                # whole layer's: with go_backwards=True the input is reversed first and the merged outputs stay in
                # that reversed order (spec/engine.md §5; numpy_reference.recurrent_forward).
                if recurrent_common(layer.backward_layer)["go_backwards"] == options["go_backwards"]:
                    raise ValueError("Bidirectional with the same go_backwards on both layers")
                if type(parts[0]).__name__ != type(parts[1]).__name__ or cell_kind(parts[0]) != cell_kind(parts[1]):
                    raise ValueError("Bidirectional with two different recurrent classes not covered")
            else:
                parts, merge_mode = [layer], None
                options = recurrent_common(layer)
            mapped = [map_recurrent_direction(part, prefix) for part in parts]
            cell = cell_kind(parts[0])
            units = cell_of(parts[0]).units
            input_size = previous
            tensors = [m[0] for m in mapped]
            sources = [m[1] for m in mapped]
            if cell == "LSTM":
                doc = ours_h5.lstm_layer(input_size, units, tensors, sources=sources, merge_mode=merge_mode,
                                         bias="single", **options)
                layouts.append("keras.lstm.kernel_in_x_4h.ifco.single_bias")
            else:
                doc = ours_h5.gru_layer(input_size, units, tensors, sources=sources, merge_mode=merge_mode,
                                        bias=mapped[0][2], reset=mapped[0][3], **options)
                layouts.append("keras.gru.kernel_in_x_3h.zrh." + ("reset_after.bias_2x3h" if mapped[0][3] == "after"
                                                                   else "reset_before.bias_3h"))
        else:
            raise ValueError(f"layer class {kind} not covered by the fixtures")
        if doc["kind"] in ("lstm", "gru") and input_size is None:
            raise ValueError("recurrent layer without a known input size")
        layers.append(doc)
        previous = ours_h5.output_size(doc)
    return {"layers": layers}, layouts


# ---------------------------------------------------------------------------------------------------------


def make_case(name, builder, covers, weights_only, scale):
    case = f"{PREFIX}_{name}"
    rng = rng_for(case)
    K.backend.clear_session()
    K.utils.set_random_seed(1234)
    model, x = builder(rng)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            values = [uniform(rng, np.shape(w), -scale, scale) for w in weights]
            if type(layer).__name__ == "Dense" and layer.get_config()["activation"] == "relu":
                values[1] = uniform(rng, np.shape(weights[1]), 0.05, 0.5)  # positive bias: keep the ReLU alive
            layer.set_weights(values)
    expected = np.asarray(model.predict(x, verbose=0), dtype=np.float32)

    folder = fresh_dir(FIXTURES / "keras" / case)
    files = {}
    model.save(folder / "model.h5")
    files["h5"] = "model.h5"
    model.save(folder / "model.keras")
    files["keras"] = "model.keras"
    if weights_only:
        if FLAVOUR == "keras3":
            model.save_weights(folder / "model.weights.h5")
            files["weights_h5"] = "model.weights.h5"
        else:
            model.save_weights(str(folder / "weights.h5"))  # legacy tf-keras layout: attributes at the root
            files["weights_h5"] = "weights.h5"
        (folder / "model.json").write_text(json.dumps(json.loads(model.to_json()), indent=2) + "\n")
        files["config_json"] = "model.json"
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)

    doc, layouts = to_document(model, x.shape[2] if x.ndim == 3 else None)
    provenance = {
        "source_framework": "keras",
        "source_framework_version": KERAS_VERSION,
        "source_layout": "+".join(dict.fromkeys(layouts)),
        "source_sha256": sha256(folder / "model.h5"),
        "converter": CONVERTER,
    }
    about = (f"Fixture {case}: {covers}. Source model.h5 written by {PACKAGE} {KERAS_VERSION} "
             f"(backend {BACKEND}, TensorFlow {tf.__version__}); tensors mapped to document names by "
             f"Fixtures/fixturegen/keras_cases.py.")
    ours_h5.write_model(folder / "ours.h5", doc, provenance, about)
    files["ours"] = "ours.h5"

    write_json(folder / "case.json", {
        "case": case,
        "framework": "keras",
        "framework_package": PACKAGE,
        "framework_version": KERAS_VERSION,
        "keras_generation": 3 if FLAVOUR == "keras3" else 2,
        "backend": BACKEND,
        "tensorflow_version": tf.__version__,
        "covers": covers,
        "model_class": type(model).__name__,
        "files": files,
        "input": array_info("input.npy", x),
        "expected": array_info("expected.npy", expected),
        "output_shape": list(expected.shape),
        "expected_from": "model.predict(input) in " + PACKAGE,
        "hard_sigmoid": {"slope": HARD_SIGMOID[1], "offset": HARD_SIGMOID[2]},
        "weights": f"every weight and bias set explicitly to uniform(-{scale}, {scale}) (non-zero), seed from the case name",
        "tolerance": TOLERANCE,
        "expected_layers": ours_h5.summary(doc),
        "keras_layers": [{"name": l.name, "class": type(l).__name__} for l in model.layers],
        "source_layout": provenance["source_layout"],
    })
    print(f"  keras/{case}: output {list(expected.shape)}")
    return case


# ---------------------------------------------------------------------------------------------------------
# tf-keras only: CuDNNLSTM / CuDNNGRU files (Keras 2 layout trap, weight-layouts.md §2.4)


def map_cudnn_direction(layer, source_prefix):
    """CuDNN layers store raw cuDNN blocks: input block k is reinterpreted (C-order reshape, no transpose) as
    [H, I]; recurrent block k is already [H_out, H_in]; biases are [input gates ; recurrent gates]."""
    kernel, recurrent_kernel, bias = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
    kname, rname, bname = [f"{source_prefix}/{weight_name(w)}" for w in layer.weights]
    h = layer.units
    n_in = kernel.shape[0]
    lstm = type(layer).__name__ == "CuDNNLSTM"
    gates = ["i", "f", "n", "v"] if lstm else ["z", "r", "c"]
    n = len(gates)
    tensors, sources = {}, {}
    for k, role in enumerate(gates):
        a, b = k * h, (k + 1) * h
        tensors["W_" + role] = gate_matrix(recurrent_kernel[:, a:b], kernel[:, a:b].reshape(h, n_in))
        sources["W_" + role] = hstack_source(f"{rname}[:, {a}:{b}]", f"{kname}[:, {a}:{b}].reshape({h}, {n_in})")
        tensors["b_" + role] = np.ascontiguousarray(bias[a:b])
        sources["b_" + role] = f"{bname}[{a}:{b}]"
        tensors["bh_" + role] = np.ascontiguousarray(bias[n * h + a:n * h + b])
        sources["bh_" + role] = f"{bname}[{n * h + a}:{n * h + b}]"
    return tensors, sources


def make_cudnn_case(name, cudnn_class, plain_layer, covers):
    """Builds a CuDNN model (it builds and saves on CPU but cannot run there), saves it, then lets tf-keras's own
    legacy-HDF5 loader convert the weights into the equivalent plain layer (`_convert_rnn_weights`) and runs that."""
    case = f"{PREFIX}_{name}"
    rng = rng_for(case)
    K.backend.clear_session()
    cudnn = getattr(tf.compat.v1.keras.layers, cudnn_class)(4, return_sequences=True)
    model = seq(K.Input((T, I)), cudnn, L.Dense(2))
    for layer in model.layers:
        weights = layer.get_weights()
        layer.set_weights([uniform(rng, np.shape(w)) for w in weights])
    folder = fresh_dir(FIXTURES / "keras" / case)
    model.save(folder / "model.h5")
    x = float_input(rng)
    plain = seq(K.Input((T, I)), plain_layer, L.Dense(2))
    plain.load_weights(str(folder / "model.h5"))  # tf-keras converts CuDNN → plain weights while loading
    expected = np.asarray(plain.predict(x, verbose=0), dtype=np.float32)
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)

    tensors, sources = map_cudnn_direction(cudnn, f"model_weights/{cudnn.name}")
    dense = model.layers[-1]
    kernel, bias = [np.asarray(w, np.float32) for w in dense.get_weights()]
    dk, db = [f"model_weights/{dense.name}/{weight_name(w)}" for w in dense.weights]
    if cudnn_class == "CuDNNLSTM":
        rec = ours_h5.lstm_layer(I, 4, [tensors], sources=[sources], return_sequences=True, bias="double")
        layout = "keras.cudnnlstm.raw_cudnn_blocks.ifco.bias_8h"
    else:
        rec = ours_h5.gru_layer(I, 4, [tensors], sources=[sources], return_sequences=True, bias="double",
                                reset="after")
        layout = "keras.cudnngru.raw_cudnn_blocks.zrh.bias_6h"
    doc = {"layers": [rec, ours_h5.dense_layer(np.ascontiguousarray(kernel.T), bias,
                                                sources={"W_d": f"{dk}.T", "b_d": db})]}
    provenance = {"source_framework": "keras", "source_framework_version": KERAS_VERSION,
                  "source_layout": layout + "+keras.dense.kernel_in_x_units",
                  "source_sha256": sha256(folder / "model.h5"), "converter": CONVERTER}
    ours_h5.write_model(folder / "ours.h5", doc, provenance,
                        f"Fixture {case}: {covers}. Source model.h5 written by {PACKAGE} {KERAS_VERSION}.")
    write_json(folder / "case.json", {
        "case": case, "framework": "keras", "framework_package": PACKAGE, "framework_version": KERAS_VERSION,
        "keras_generation": 2, "backend": BACKEND, "tensorflow_version": tf.__version__, "covers": covers,
        "model_class": "Sequential",
        "files": {"h5": "model.h5", "ours": "ours.h5"},
        "input": array_info("input.npy", x), "expected": array_info("expected.npy", expected),
        "output_shape": list(expected.shape),
        "expected_from": (f"the CuDNN layer cannot run on CPU: expected = {type(plain_layer).__name__} "
                          "(sigmoid/tanh) with the weights tf-keras's own legacy HDF5 loader converted from model.h5 "
                          "(hdf5_format._convert_rnn_weights), then model.predict"),
        "weights": "every weight and bias set explicitly to uniform(-0.5, 0.5) (non-zero), seed from the case name",
        "tolerance": TOLERANCE,
        "expected_layers": ours_h5.summary(doc),
        "keras_layers": [{"name": l.name, "class": type(l).__name__} for l in model.layers],
        "source_layout": provenance["source_layout"],
    })
    print(f"  keras/{case}: output {list(expected.shape)}")


# ---------------------------------------------------------------------------------------------------------
# tf-keras only: valid files edited with h5py into layouts Keras writes in other situations, each re-loaded by
# tf-keras itself (load_model + predict must reproduce expected.npy).


def derive_case(source_case, name, covers, edit, rewrite_source=None):
    import h5py
    import shutil

    src = FIXTURES / "keras" / source_case
    case = f"{PREFIX}_{name}"
    folder = fresh_dir(FIXTURES / "keras" / case)
    for file in ("model.h5", "input.npy", "expected.npy"):
        shutil.copy(src / file, folder / file)
    with h5py.File(folder / "model.h5", "r+") as f:
        edit(f)
    x = np.load(folder / "input.npy")
    expected = np.load(folder / "expected.npy")
    reloaded = K.models.load_model(folder / "model.h5", compile=False)
    err = float(np.max(np.abs(reloaded.predict(x, verbose=0) - expected)))
    if err > 1e-6:
        raise AssertionError(f"{case}: tf-keras reloads the edited file with error {err}")
    source = json.loads((src / "case.json").read_text())
    model_doc, provenance = ours_h5.read_model(src / "ours.h5")
    provenance["source_sha256"] = sha256(folder / "model.h5")
    if rewrite_source:
        for layer in model_doc["layers"]:
            sets = layer["sources"] if isinstance(layer["sources"], list) else [layer["sources"]]
            for sources in sets:
                for role in sources:
                    sources[role] = rewrite_source(sources[role])
    ours_h5.write_model(folder / "ours.h5", model_doc, provenance,
                        f"Fixture {case}: {covers}. Derived from {source_case} by an h5py edit of model.h5.")
    source.update({
        "case": case, "covers": covers, "files": {"h5": "model.h5", "ours": "ours.h5"},
        "derived_from": source_case,
        "expected_from": f"expected.npy of {source_case}; tf-keras {KERAS_VERSION} load_model(model.h5) of the edited "
                         f"file reproduces it (max |Δ| {err:.1e})",
    })
    source.pop("numpy_reference_check", None)
    write_json(folder / "case.json", source)
    print(f"  keras/{case}: derived from {source_case}")


def split_attribute(obj, name):
    """Stores a string-list attribute as name0, name1 (what Keras does above 64 KB; here forced)."""
    values = list(obj.attrs[name])
    del obj.attrs[name]
    half = max(1, len(values) // 2)
    chunks = [values[:half], values[half:]] if len(values) > 1 else [values]
    for index, chunk in enumerate(chunks):
        obj.attrs.create(f"{name}{index}", np.array(chunk, dtype="S"))


def edit_split_attributes(f):
    group = f["model_weights"]
    split_attribute(group, "layer_names")
    for layer in list(group.attrs.get("layer_names0", [])) + list(group.attrs.get("layer_names1", [])):
        layer = layer.decode() if isinstance(layer, bytes) else layer
        if len(group[layer].attrs["weight_names"]) > 1:
            split_attribute(group[layer], "weight_names")


def edit_no_cell_level(f):
    """Moves <layer>/<layer>/lstm_cell/<w> to <layer>/<layer>/<w> (multi-backend Keras 2 naming, no cell scope)."""
    group = f["model_weights"]
    for layer in group.attrs["layer_names"]:
        layer = layer.decode() if isinstance(layer, bytes) else layer
        names = [n.decode() if isinstance(n, bytes) else n for n in group[layer].attrs["weight_names"]]
        new_names = []
        for n in names:
            parts = n.split("/")
            if len(parts) == 3 and parts[1].endswith("_cell"):
                new = f"{parts[0]}/{parts[2]}"
                group[layer].move(n, new)
                new_names.append(new)
            else:
                new_names.append(n)
        for n in names:
            parts = n.split("/")
            if len(parts) == 3 and parts[1].endswith("_cell") and parts[0] + "/" + parts[1] in group[layer]:
                del group[layer][parts[0] + "/" + parts[1]]
        group[layer].attrs["weight_names"] = np.array(new_names, dtype="S")


def main():
    # Optional case names after the flavour (`k3_lstm_no_bias`, `tfk_cudnn_gru`, …): make only those, leaving
    # every other case folder untouched.
    only = set(sys.argv[2:])
    known = {f"{PREFIX}_{entry[0]}" for entry in CASES if ONLY_FLAVOUR.get(entry[0], FLAVOUR) == FLAVOUR}
    wanted = only & known

    def selected(name):
        return not only or f"{PREFIX}_{name}" in wanted

    print(f"Keras fixtures with {PACKAGE} {KERAS_VERSION} (backend {BACKEND}, TensorFlow {tf.__version__})"
          + (f"; only {', '.join(sorted(wanted)) or 'none of this flavour'}" if only else ""))
    for entry in CASES:
        if ONLY_FLAVOUR.get(entry[0], FLAVOUR) == FLAVOUR and selected(entry[0]):
            make_case(*entry)
    if FLAVOUR == "tf_keras" and not only:
        make_cudnn_case("cudnn_lstm", "CuDNNLSTM", L.LSTM(4, return_sequences=True),
                        "CuDNNLSTM (bias 8H, raw cuDNN kernel blocks) return_sequences → Dense")
        make_cudnn_case("cudnn_gru", "CuDNNGRU", L.GRU(4, return_sequences=True, reset_after=True),
                        "CuDNNGRU (bias 6H, raw cuDNN kernel blocks) return_sequences → Dense")
        derive_case("tfk_stacked_lstm_dense", "split_attributes",
                    "layer_names and weight_names stored as split attributes name0, name1 (HDF5 header-limit form)",
                    edit_split_attributes)
        derive_case("tfk_stacked_lstm_dense", "no_cell_level",
                    "weights stored without the lstm_cell scope (<layer>/<layer>/kernel:0, as multi-backend Keras 2 "
                    "and CuDNN layers name them)", edit_no_cell_level,
                    rewrite_source=lambda text: text.replace("/lstm_cell/", "/"))


if __name__ == "__main__":
    main()
