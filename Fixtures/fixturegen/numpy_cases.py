"""Document-variant and schema-feature cases computed by the independent NumPy reference (issue 4 §5).

    python -m fixturegen.numpy_cases

Each case: Fixtures/numpy/<case>/ with model.h5 (our HDF5 encoding, written by fixturegen/ours_h5.py),
input.npy, expected.npy (numpy_reference.forward in float64, stored as float32) and case.json.

Where a real framework implements the same semantics, the case is also run there and the agreement is
recorded: TF1 tf.compat.v1.nn.rnn_cell.LSTMCell (peepholes, projection, cell_clip, proj_clip, forget_bias) and
onnxruntime's LSTM (diagonal peepholes, two biases) and GRU (linear_before_reset 0 and 1, HardSigmoid).
The document variant (W_u, b_u on LTM_{t-1}·f_t) exists in no framework; those cases rest on the NumPy
reference alone, plus `feature_contrast`: how much the output moves when a feature is switched off, so that a
case cannot pass with the feature ignored.
"""

from __future__ import annotations

import copy
import os
import sys

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

import numpy_reference  # noqa: E402
from fixturegen import ours_h5  # noqa: E402
from fixturegen.common import (  # noqa: E402
    CONVERTER, FIXTURES, TOLERANCE, array_info, fresh_dir, rng_for, save_npy, uniform, write_json,
)

CROSS_ATOL = 1e-5


def fill_recurrent(layer, rng, dtype=np.float32, scale=0.5):
    layer["directions"] = [
        {role: uniform(rng, shape, -scale, scale, np.float32).astype(dtype) for role, shape in ours_h5.expected_tensors(layer)}
        for _ in layer["directions"]
    ]
    layer["sources"] = [{} for _ in layer["directions"]]
    return layer


def blank(n):
    return [{} for _ in range(n)]


def contrast(model, x, expected, label, mutate):
    """Max |Δ| of the output when `mutate` switches a feature off (on a deep copy of the model)."""
    other = copy.deepcopy(model)
    mutate(other)
    y = numpy_reference.forward(other, x)
    return label, float(np.max(np.abs(y - expected)))


def feature_contrasts(model, x, expected):
    out = []
    for index, layer in enumerate(model["layers"]):
        if layer["kind"] != "lstm":
            continue

        def on(fn, i=index):
            return lambda m: fn(m["layers"][i])

        if layer["use_gate"] == "document":
            def to_standard(l):
                l["use_gate"] = "standard"
                for d in l["directions"]:
                    d.pop("W_u"), d.pop("b_u")
            out.append(contrast(model, x, expected, f"layer_{index}: standard use gate instead of document", on(to_standard)))
        if layer["peepholes"] != "none":
            out.append(contrast(model, x, expected, f"layer_{index}: peepholes removed",
                                on(lambda l: l.update(peepholes="none"))))
            out.append(contrast(model, x, expected, f"layer_{index}: P_v reading LTM_(t-1) instead of LTM_t",
                                on(lambda l: l.update(_peephole_v_reads="previous"))))
        if layer.get("cell_clip") is not None:
            out.append(contrast(model, x, expected, f"layer_{index}: cell_clip removed", on(lambda l: l.update(cell_clip=None))))
        if layer.get("projection_clip") is not None:
            out.append(contrast(model, x, expected, f"layer_{index}: projection_clip removed",
                                on(lambda l: l.update(projection_clip=None))))
        if layer.get("forget_bias"):
            out.append(contrast(model, x, expected, f"layer_{index}: forget_bias 0", on(lambda l: l.update(forget_bias=0.0))))
        if layer["bias"] == "double":
            def drop_bh(l):
                for d in l["directions"]:
                    for k in [k for k in d if k.startswith("bh_")]:
                        d[k] = np.zeros_like(d[k])
            out.append(contrast(model, x, expected, f"layer_{index}: second biases bh_* zeroed", on(drop_bh)))
    return [{"change": label, "max_abs_change": float(f"{value:.3e}")} for label, value in out]


# ---------------------------------------------------------------------------------------------------------
# Real-framework cross-checks


def _split_gate(w, r):
    """Document gate matrix [H, R+I] → (input part [H, I], recurrent part [H, R])."""
    return w[:, r:], w[:, :r]


def tf1_lstm(layer, x):
    """TF1 LSTMCell (use_peepholes, cell_clip, num_proj, proj_clip, forget_bias) through dynamic_rnn."""
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    p = {k: np.asarray(v, np.float32) for k, v in layer["directions"][0].items()}
    h = layer["hidden_size"]
    r = layer["projection_size"] or h
    kernel_blocks, bias_blocks = [], []
    for role in ("i", "n", "f", "v"):  # TF1 column blocks i, j (= new input), f, o
        wx, wh = _split_gate(p["W_" + role], r)
        kernel_blocks.append(np.concatenate([wx.T, wh.T], axis=0))  # rows: input first, then recurrent
        bias_blocks.append(p["b_" + role])
    graph = tf.Graph()
    with graph.as_default():
        cell = tf.compat.v1.nn.rnn_cell.LSTMCell(
            h, use_peepholes=True, cell_clip=layer["cell_clip"], num_proj=layer["projection_size"] or None,
            proj_clip=layer["projection_clip"], forget_bias=layer["forget_bias"])
        inputs = tf.compat.v1.placeholder(tf.float32, x.shape)
        outputs, _ = tf.compat.v1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
        values = {
            "kernel": np.concatenate(kernel_blocks, axis=1), "bias": np.concatenate(bias_blocks),
            "w_i_diag": p["P_i"], "w_f_diag": p["P_f"], "w_o_diag": p["P_v"],
            "projection/kernel": p["W_p"].T,
        }
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            for variable in tf.compat.v1.global_variables():
                name = variable.name.split("lstm_cell/")[1].split(":")[0]
                variable.load(values[name], session)
            y = session.run(outputs, {inputs: x})
    return y, tf.__version__


def ort_run(node, inputs, x, out_shape_fn, y_shape):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    initializers = [numpy_helper.from_array(v.astype(np.float32), name) for name, v in inputs.items()]
    graph = helper.make_graph(
        [node], "cell", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, list(y_shape))], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = session.run(["Y"], {"X": x})
    return out_shape_fn(y), ort.__version__


def time_major(x):
    return np.ascontiguousarray(np.transpose(x, (1, 0, 2)))


def from_onnx_y(y):
    """ONNX layout 0: Y [T, D, B, H] → [B, T, D*H] (directions concatenated per step)."""
    t, d, b, h = y.shape
    return np.transpose(y, (2, 0, 1, 3)).reshape(b, t, d * h)


def ort_lstm(layer, x):
    """onnxruntime LSTM (layout 0, time-major) with peepholes P[iof] and B = [Wb, Rb] in i, o, f, c order."""
    from onnx import helper

    h = layer["hidden_size"]
    assert len(layer["directions"]) == 1 and not layer["projection_size"]
    p = {k: np.asarray(v, np.float64) for k, v in layer["directions"][0].items()}
    order = ["i", "v", "f", "n"]  # ONNX i, o, f, c
    W = np.concatenate([_split_gate(p["W_" + g], h)[0] for g in order])[None]
    R = np.concatenate([_split_gate(p["W_" + g], h)[1] for g in order])[None]
    B = np.concatenate([p["b_" + g] for g in order] + [p["bh_" + g] for g in order])[None]
    P = np.concatenate([p["P_i"], p["P_v"], p["P_f"]])[None]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "", "", "P"], ["Y"], hidden_size=h)  # layout 0
    return ort_run(node, {"W": W, "R": R, "B": B, "P": P}, time_major(x), from_onnx_y, (x.shape[1], 1, x.shape[0], h))


def ort_gru(layer, x):
    """onnxruntime GRU, z, r, h order, B = [Wb, Rb]; linear_before_reset from the reset mode; optional
    bidirectional (concat) and HardSigmoid gate activation with explicit alpha/beta."""
    from onnx import helper

    h = layer["hidden_size"]
    dirs = layer["directions"]
    Ws, Rs, Bs = [], [], []
    for d in dirs:
        p = {k: np.asarray(v, np.float64) for k, v in d.items()}
        order = ["z", "r", "c"]
        Ws.append(np.concatenate([_split_gate(p["W_" + g], h)[0] for g in order]))
        Rs.append(np.concatenate([_split_gate(p["W_" + g], h)[1] for g in order]))
        Bs.append(np.concatenate([p["b_" + g] for g in order] + [p["bh_" + g] for g in order]))
    gate = layer["recurrent_activation"]
    attrs = {"hidden_size": h, "linear_before_reset": 1 if layer["reset"] == "after" else 0}
    if len(dirs) == 2:
        attrs["direction"] = "bidirectional"
    if gate[0] == "hard_sigmoid":
        attrs["activations"] = ["HardSigmoid", "Tanh"] * len(dirs)
        # onnxruntime consumes activation_alpha/beta only for activations that take them (not Tanh), in order.
        attrs["activation_alpha"] = [gate[1]] * len(dirs)
        attrs["activation_beta"] = [gate[2]] * len(dirs)
    node = helper.make_node("GRU", ["X", "W", "R", "B"], ["Y"], **attrs)

    return ort_run(node, {"W": np.stack(Ws), "R": np.stack(Rs), "B": np.stack(Bs)}, time_major(x), from_onnx_y,
                   (x.shape[1], len(dirs), x.shape[0], h))


# ---------------------------------------------------------------------------------------------------------


def save(case, covers, model, x, cross=None, notes=None):
    folder = fresh_dir(FIXTURES / "numpy" / case)
    y = numpy_reference.forward(model, x)
    expected = y.astype(np.float32)
    ours_h5.write_model(folder / "model.h5", model, {
        "source_framework": "numpy", "source_framework_version": np.__version__,
        "source_layout": "document", "source_sha256": "", "converter": CONVERTER,
    }, f"Fixture {case}: {covers}. Tensors drawn at random by Fixtures/fixturegen/numpy_cases.py; expected output "
       f"from Fixtures/numpy_reference.py.")
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)
    info = {
        "case": case, "framework": "numpy-reference", "framework_version": np.__version__, "covers": covers,
        "files": {"ours": "model.h5"},
        "input": array_info("input.npy", x), "expected": array_info("expected.npy", expected),
        "output_shape": list(expected.shape),
        "expected_from": "Fixtures/numpy_reference.py forward (float64, stored as float32) on the tensors in model.h5",
        "tensor_dtypes": sorted({ours_h5.dtype_name(a) for l in model["layers"]
                                 for s in (l["directions"] if "directions" in l else [l["tensors"]]) for a in s.values()}),
        "tolerance": TOLERANCE,
        "expected_layers": ours_h5.summary(model),
        "semantics": {
            "peepholes": "P_i and P_f read LTM_(t-1); P_v reads LTM_t (after the remember gate and cell_clip); "
                         "diagonal = element-wise, full = matrix product P·LTM",
            "document_use_gate": "U_t = activation(W_u (LTM_(t-1) · f_t) + b_u), STM_t = U_t · V_t",
            "cell_clip": "LTM_t clipped to ±cell_clip after the remember gate",
            "projection": "STM_t ← W_p STM_t, then clipped to ±projection_clip",
            "forget_bias": "added to the forget gate pre-activation at run time",
            "double_bias": "b_* + bh_* added to every gate pre-activation (GRU reset-after: bh_c inside r·(…))",
        },
        "feature_contrast": feature_contrasts(model, x, y),
    }
    if cross:
        name, version, got = cross
        err = float(np.max(np.abs(got.astype(np.float64) - y)))
        if err > CROSS_ATOL:
            raise AssertionError(f"{case}: {name} disagrees with the numpy reference by {err}")
        info["framework_cross_check"] = {"framework": name, "version": version, "max_abs_error": float(f"{err:.3e}"),
                                         "atol": CROSS_ATOL}
    for item in info["feature_contrast"]:
        if item["max_abs_change"] < 1e-4:
            raise AssertionError(f"{case}: feature does not change the output: {item}")
    if notes:
        info["notes"] = notes
    write_json(folder / "case.json", info)
    extra = f", {cross[0]} agrees to {info['framework_cross_check']['max_abs_error']:.1e}" if cross else ""
    print(f"  numpy/{case}: output {list(expected.shape)}{extra}")


def lstm(i, h, **kw):
    directions = kw.pop("directions", 1)
    return ours_h5.lstm_layer(i, h, blank(directions), **kw)


def gru(i, h, **kw):
    directions = kw.pop("directions", 1)
    return ours_h5.gru_layer(i, h, blank(directions), **kw)


def main():
    print(f"NumPy-reference fixtures (numpy {np.__version__})")
    B, T = 2, 6

    def xin(rng, features, batch=B, steps=T):
        return uniform(rng, (batch, steps, features), -1.0, 1.0)

    case = "doc_lstm_basic"
    rng = rng_for(case)
    model = {"layers": [fill_recurrent(lstm(3, 4, use_gate="document", return_sequences=True), rng)]}
    save(case, "document-variant LSTM, single bias, no peepholes, return_sequences", model, xin(rng, 3))

    case = "doc_lstm_diagonal_peepholes"
    rng = rng_for(case)
    model = {"layers": [fill_recurrent(lstm(3, 5, use_gate="document", peepholes="diagonal", bias="double"), rng,
                                       scale=0.8)]}
    save(case, "document-variant LSTM with diagonal peepholes and two biases, last step", model, xin(rng, 3))

    case = "doc_lstm_full_peepholes_go_backwards"
    rng = rng_for(case)
    model = {"layers": [fill_recurrent(lstm(4, 4, use_gate="document", peepholes="full", return_sequences=True,
                                            go_backwards=True), rng, dtype=np.float64, scale=0.8)]}
    save(case, "document-variant LSTM with full [H, H] peepholes, go_backwards, return_sequences, f64 tensors",
         model, xin(rng, 4))

    case = "doc_lstm_bidirectional_projection_clip"
    rng = rng_for(case)
    model = {"layers": [fill_recurrent(lstm(3, 5, use_gate="document", projection_size=2, directions=2,
                                            merge_mode="ave", return_sequences=True, cell_clip=0.3,
                                            projection_clip=0.15), rng, scale=0.9)]}
    save(case, "document-variant bidirectional LSTM (merge ave) with projection P=2, cell_clip and projection_clip",
         model, xin(rng, 3))

    case = "doc_embedding_stack_dense"
    rng = rng_for(case)
    table = uniform(rng, (9, 3))
    l1 = fill_recurrent(lstm(3, 4, use_gate="document", bias="double", return_sequences=True), rng)
    l2 = fill_recurrent(lstm(4, 3, use_gate="document", recurrent_activation=("hard_sigmoid", 0.2, 0.5)), rng,
                        scale=1.5)
    dense = ours_h5.dense_layer(uniform(rng, (2, 3)), uniform(rng, (2,)), activation=("softmax",))
    model = {"layers": [ours_h5.embedding_layer(table), l1, l2, dense]}
    ids = rng.integers(0, 9, size=(3, T)).astype(np.int64)
    save(case, "Embedding → document LSTM (two biases) → document LSTM (hard_sigmoid 0.2x+0.5) → Dense(softmax), "
         "int64 token ids", model, ids)

    case = "doc_lstm_float16_forget_bias"
    rng = rng_for(case)
    model = {"layers": [fill_recurrent(lstm(3, 4, use_gate="document", peepholes="diagonal", forget_bias=1.0,
                                            return_sequences=True), rng, dtype=np.float16, scale=0.8)]}
    save(case, "document-variant LSTM, f16 tensors, diagonal peepholes, forget_bias 1.0", model, xin(rng, 3))

    case = "std_lstm_peephole_projection_clip"
    rng = rng_for(case)
    layer = fill_recurrent(lstm(3, 5, projection_size=3, peepholes="diagonal", cell_clip=0.5, projection_clip=0.1,
                                forget_bias=1.0, return_sequences=True), rng, scale=0.9)
    model = {"layers": [layer]}
    x = xin(rng, 3)
    y_tf, tf_version = tf1_lstm(layer, x)
    save(case, "standard LSTM with TF1 semantics: diagonal peepholes, projection P=3, cell_clip 0.5, proj_clip 0.1, "
         "forget_bias 1.0", model, x, cross=("TF1 tf.compat.v1.nn.rnn_cell.LSTMCell + dynamic_rnn", tf_version, y_tf))

    case = "std_lstm_full_peepholes_bidirectional"
    rng = rng_for(case)
    model = {"layers": [fill_recurrent(lstm(3, 4, peepholes="full", bias="double", directions=2, merge_mode="concat",
                                            return_sequences=True), rng, scale=0.8)]}
    save(case, "standard LSTM with full [H, H] peepholes, two biases, bidirectional concat", model, xin(rng, 3))

    case = "std_lstm_onnx_peepholes"
    rng = rng_for(case)
    layer = fill_recurrent(lstm(3, 4, peepholes="diagonal", bias="double", return_sequences=True), rng, scale=0.9)
    x = xin(rng, 3)
    y_ort, ort_version = ort_lstm(layer, x)
    save(case, "standard LSTM, diagonal peepholes, two biases (ONNX semantics)", {"layers": [layer]}, x,
         cross=("onnxruntime LSTM (P in i, o, f order)", ort_version, y_ort))

    case = "gru_reset_before_two_biases"
    rng = rng_for(case)
    layer = fill_recurrent(gru(3, 4, bias="double", reset="before", return_sequences=True), rng, scale=0.8)
    x = xin(rng, 3)
    y_ort, ort_version = ort_gru(layer, x)
    save(case, "GRU reset-before with two biases (ONNX linear_before_reset=0)", {"layers": [layer]}, x,
         cross=("onnxruntime GRU linear_before_reset=0", ort_version, y_ort))

    case = "gru_reset_after_bidirectional_hard_sigmoid"
    rng = rng_for(case)
    layer = fill_recurrent(gru(3, 4, bias="double", reset="after", directions=2, merge_mode="concat",
                               return_sequences=True, recurrent_activation=("hard_sigmoid", 1.0 / 6.0, 0.5)), rng,
                           scale=1.5)
    x = xin(rng, 3)
    y_ort, ort_version = ort_gru(layer, x)
    save(case, "bidirectional GRU reset-after, hard_sigmoid x/6+0.5 gates", {"layers": [layer]}, x,
         cross=("onnxruntime GRU linear_before_reset=1, HardSigmoid(alpha=1/6, beta=0.5)", ort_version, y_ort))


if __name__ == "__main__":
    main()
