"""ONNX fixtures (issue 14), made with real torch.onnx.export, onnx.helper and onnxruntime:

    python -m fixturegen.onnx_cases            (or: Fixtures/generate.py --only onnx --skip-verify)

Each case: Fixtures/onnx/<case>/ with model.onnx (plus model.data for external-data cases), input.npy
(float32 [B, T, F] batch-first, or int64 token ids [B, T]), expected.npy (onnxruntime's output, float32) and
case.json. Cases exported by torch.onnx.export (TorchScript exporter, dynamo=False, opset 17) also record
PyTorch's own output difference; hand-built onnx.helper graphs cover what exporters rarely emit and are
checked against an independent NumPy implementation of the ONNX operator definitions written here.
Fixtures/onnx/bad/ holds graphs the importer must refuse, listed in bad/bad.json with the reason.
Fixtures/onnx/cases.json lists every case; fixturegen.onnx_tf2onnx_cases (run next by generate.py) appends the
tf2onnx cases.
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from fixturegen.common import FIXTURES, fresh_dir, rng_for, save_npy, uniform, write_json

warnings.filterwarnings("ignore")
ROOT = FIXTURES / "onnx"
B, T, F, H = 2, 5, 3, 4
OPSET = 17
ATOL = {"atol": 1e-5, "reference_atol": 1e-5}


def run_ort(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: x})[0]


def finish(name, folder, model_path, x, covers, source, extra=None):
    expected = run_ort(model_path, x).astype(np.float32)
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)
    info = {
        "case": name, "framework": "onnx", "source": source, "covers": covers,
        "onnx_version": onnx.__version__, "onnxruntime_version": ort.__version__, "torch_version": torch.__version__,
        "files": {"onnx": model_path.name},
        "input": {"file": "input.npy", "dtype": str(x.dtype), "shape": list(x.shape)},
        "expected": {"file": "expected.npy", "dtype": "float32", "shape": list(expected.shape), "from": "onnxruntime"},
        "tolerance": ATOL,
    }
    info.update(extra or {})
    write_json(folder / "case.json", info)
    print(f"  {name}: {covers}; output {list(expected.shape)}")
    return info, expected


# ---------------------------------------------------------------------------------------------------------
# torch.onnx.export


class Wrap(nn.Module):
    def __init__(self, rnn, pick, head=None, embedding=None, softmax=False):
        super().__init__()
        self.embedding, self.rnn, self.head, self.pick, self.softmax = embedding, rnn, head, pick, softmax

    def forward(self, x):
        if self.embedding is not None:
            x = self.embedding(x)
        y, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state
        out = {"seq": lambda: y, "last": lambda: y[:, -1], "h_n": lambda: h[-1]}[self.pick]()
        if self.head is not None:
            out = self.head(out)
        if self.softmax:
            out = torch.softmax(out, dim=-1)
        return out


def torch_case(name, module, covers, tokens=False, vocab=7):
    rng = rng_for("onnx/" + name)
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(torch.from_numpy(uniform(rng, tuple(p.shape))))
    module.eval()
    x = rng.integers(0, vocab, size=(B, T)).astype(np.int64) if tokens else uniform(rng, (B, T, F), -1, 1)
    folder = fresh_dir(ROOT / name)
    path = folder / "model.onnx"
    torch.onnx.export(module, (torch.from_numpy(x),), str(path), dynamo=False, opset_version=OPSET,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch", 1: "time"}})
    with torch.no_grad():
        reference = module(torch.from_numpy(x)).numpy()
    info, expected = finish(name, folder, path, x, covers, "torch.onnx.export (dynamo=False, opset 17)")
    diff = float(np.max(np.abs(expected - reference)))
    assert diff < 1e-5, f"{name}: onnxruntime and torch differ by {diff}"
    info["torch_vs_onnxruntime_max_abs_diff"] = diff
    write_json(folder / "case.json", info)
    return info


def torch_cases():
    cases = []
    cases.append(torch_case("torch_lstm_seq", Wrap(nn.LSTM(F, H, batch_first=True), "seq"), "nn.LSTM, full sequence"))
    cases.append(torch_case("torch_gru_seq", Wrap(nn.GRU(F, H, batch_first=True), "seq"), "nn.GRU, full sequence"))
    cases.append(torch_case("torch_lstm_h_n", Wrap(nn.LSTM(F, H, batch_first=True), "h_n"), "nn.LSTM, h_n[-1] (Y_h)"))
    cases.append(torch_case("torch_bilstm_seq", Wrap(nn.LSTM(F, H, batch_first=True, bidirectional=True), "seq"),
                            "bidirectional nn.LSTM, full sequence (directions concatenated)"))
    cases.append(torch_case("torch_lstm_2layer_last", Wrap(nn.LSTM(F, H, num_layers=2, batch_first=True), "last"),
                            "2-layer nn.LSTM, output[:, -1] (Gather of the last step)"))
    cases.append(torch_case("torch_bigru_2layer_linear_seq",
                            Wrap(nn.GRU(F, H, num_layers=2, batch_first=True, bidirectional=True), "seq", head=nn.Linear(2 * H, 3)),
                            "2-layer bidirectional nn.GRU + nn.Linear on every step (MatMul + Add)"))
    cases.append(torch_case("torch_bilstm_last", Wrap(nn.LSTM(F, H, batch_first=True, bidirectional=True), "last"),
                            "bidirectional nn.LSTM, output[:, -1] (the last step, not the final states)"))
    cases.append(torch_case("torch_rnn_relu_seq", Wrap(nn.RNN(F, H, batch_first=True, nonlinearity="relu"), "seq"),
                            "nn.RNN nonlinearity relu (RNN operator), full sequence"))
    cases.append(torch_case("torch_embedding_lstm_linear_softmax",
                            Wrap(nn.LSTM(5, H, batch_first=True), "last", head=nn.Linear(H, 3), embedding=nn.Embedding(7, 5),
                                 softmax=True),
                            "nn.Embedding (Gather) + nn.LSTM + nn.Linear (Gemm) on the last step + softmax", tokens=True))
    return cases


# ---------------------------------------------------------------------------------------------------------
# onnx.helper graphs and an independent NumPy implementation of the ONNX operator definitions


def act(name, alpha=None, beta=None):
    if name == "Sigmoid":
        return lambda z: 1 / (1 + np.exp(-z))
    if name == "Tanh":
        return np.tanh
    if name == "Relu":
        return lambda z: np.maximum(z, 0)
    if name == "HardSigmoid":
        a, b = (0.2 if alpha is None else alpha), (0.5 if beta is None else beta)
        return lambda z: np.clip(a * z + b, 0, 1)
    raise ValueError(name)


def np_lstm(x_tbf, W, R, Bias, P, clip, input_forget, acts, direction):
    """ONNX LSTM (layout 0) in float64 per the operator definition; returns Y [T, D, B, H], Y_h [D, B, H]."""
    D, H4, _ = W.shape
    Hh = H4 // 4
    steps, batch = x_tbf.shape[0], x_tbf.shape[1]
    Y = np.zeros((steps, D, batch, Hh))
    Yh = np.zeros((D, batch, Hh))
    for d in range(D):
        f, g, h = acts[3 * d: 3 * d + 3]
        reverse = direction == "reverse" or d == 1
        Wi, Wo, Wf, Wc = np.split(W[d].astype(np.float64), 4)
        Ri, Ro, Rf, Rc = np.split(R[d].astype(np.float64), 4)
        b = Bias[d].astype(np.float64)
        bi, bo, bf, bc = [b[k * Hh:(k + 1) * Hh] + b[(4 + k) * Hh:(5 + k) * Hh] for k in range(4)]
        pi, po, pf = np.split(P[d].astype(np.float64), 3) if P is not None else (0, 0, 0)
        cl = (lambda z: np.clip(z, -clip, clip)) if clip else (lambda z: z)
        ht, ct = np.zeros((batch, Hh)), np.zeros((batch, Hh))
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            xt = x_tbf[t].astype(np.float64)
            i = f(cl(xt @ Wi.T + ht @ Ri.T + bi + pi * ct))
            ff = 1 - i if input_forget else f(cl(xt @ Wf.T + ht @ Rf.T + bf + pf * ct))
            c = g(cl(xt @ Wc.T + ht @ Rc.T + bc))
            ct = ff * ct + i * c
            o = f(cl(xt @ Wo.T + ht @ Ro.T + bo + po * ct))
            ht = o * h(ct)
            Y[t, d] = ht
        Yh[d] = ht
    return Y, Yh


def np_gru(x_tbf, W, R, Bias, linear_before_reset, acts, direction):
    D, H3, _ = W.shape
    Hh = H3 // 3
    steps, batch = x_tbf.shape[0], x_tbf.shape[1]
    Y = np.zeros((steps, D, batch, Hh))
    for d in range(D):
        f, g = acts[2 * d: 2 * d + 2]
        reverse = direction == "reverse" or d == 1
        Wz, Wr, Wh = np.split(W[d].astype(np.float64), 3)
        Rz, Rr, Rh = np.split(R[d].astype(np.float64), 3)
        b = Bias[d].astype(np.float64)
        Wbz, Wbr, Wbh, Rbz, Rbr, Rbh = [b[k * Hh:(k + 1) * Hh] for k in range(6)]
        ht = np.zeros((batch, Hh))
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            xt = x_tbf[t].astype(np.float64)
            z = f(xt @ Wz.T + ht @ Rz.T + Wbz + Rbz)
            r = f(xt @ Wr.T + ht @ Rr.T + Wbr + Rbr)
            if linear_before_reset:
                hh = g(xt @ Wh.T + r * (ht @ Rh.T + Rbh) + Wbh)
            else:
                hh = g(xt @ Wh.T + (r * ht) @ Rh.T + Rbh + Wbh)
            ht = (1 - z) * hh + z * ht
            Y[t, d] = ht
    return Y


def np_rnn(x_tbf, W, R, Bias, acts, direction, clip=None):
    D, Hh, _ = W.shape
    steps, batch = x_tbf.shape[0], x_tbf.shape[1]
    Y = np.zeros((steps, D, batch, Hh))
    cl = (lambda z: np.clip(z, -clip, clip)) if clip else (lambda z: z)
    for d in range(D):
        f = acts[d]
        reverse = direction == "reverse" or d == 1
        b = Bias[d].astype(np.float64)
        ht = np.zeros((batch, Hh))
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            ht = f(cl(x_tbf[t].astype(np.float64) @ W[d].T.astype(np.float64) + ht @ R[d].T.astype(np.float64) + b[:Hh] + b[Hh:]))
            Y[t, d] = ht
    return Y


def helper_rnn(name, covers):
    """Bidirectional RNN, activations Sigmoid (both directions), clip 0.8, full sequence."""
    rng = rng_for("onnx/" + name)
    D = 2
    W, R, Bias = uniform(rng, (D, H, F)), uniform(rng, (D, H, H)), uniform(rng, (D, 2 * H))
    node = helper.make_node("RNN", ["x_tbf", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H, direction="bidirectional",
                            activations=["Sigmoid", "Sigmoid"], clip=0.8)
    x = uniform(rng, (B, T, F), -1, 1)
    folder = fresh_dir(ROOT / name)
    model = build(name, [node], {"W": W, "R": R, "B": Bias}, ["batch", "time", D * H], seq_tail(D), "y")
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    Y = np_rnn(x.transpose(1, 0, 2), W, R, Bias, [act("Sigmoid")] * D, "bidirectional", clip=0.8)
    reference = Y.transpose(2, 0, 1, 3).reshape(B, T, D * H)
    info, expected = finish(name, folder, path, x, covers, "onnx.helper")
    diff = float(np.max(np.abs(expected - reference)))
    assert diff < 1e-5, f"{name}: onnxruntime and the NumPy ONNX reference differ by {diff}"
    info["numpy_vs_onnxruntime_max_abs_diff"] = diff
    write_json(folder / "case.json", info)
    return info


def helper_sequence_lens(name, covers):
    """Bidirectional LSTM with sequence_lens as a second graph input `lens` (int32 [batch])."""
    rng = rng_for("onnx/" + name)
    D = 2
    W, R, Bias = uniform(rng, (D, 4 * H, F)), uniform(rng, (D, 4 * H, H)), uniform(rng, (D, 8 * H))
    node = helper.make_node("LSTM", ["x_tbf", "W", "R", "B", "lens"], ["Y", "Y_h"], hidden_size=H, direction="bidirectional")
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["x"], ["x_tbf"], perm=[1, 0, 2]), node] + seq_tail(D), name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "time", F]),
         helper.make_tensor_value_info("lens", TensorProto.INT32, ["batch"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "time", D * H])],
        initializer=[numpy_helper.from_array(v, k) for k, v in {"W": W, "R": R, "B": Bias}.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onnx.helper")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    x = uniform(rng, (B, T, F), -1, 1)
    lengths = np.array([T, T - 2], np.int32)
    folder = fresh_dir(ROOT / name)
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x, "lens": lengths})[0].astype(np.float32)
    # Independent reference: each sequence cut to its length, run alone, padded with zeros.
    reference = np.zeros((B, T, D * H))
    for b in range(B):
        n = int(lengths[b])
        Y, _ = np_lstm(x[b:b + 1, :n].transpose(1, 0, 2), W, R, Bias, None, None, 0,
                       [act("Sigmoid"), act("Tanh"), act("Tanh")] * D, "bidirectional")
        reference[b, :n] = Y.transpose(2, 0, 1, 3).reshape(1, n, D * H)[0]
    diff = float(np.max(np.abs(expected - reference)))
    assert diff < 1e-5, f"{name}: onnxruntime and the NumPy reference differ by {diff}"
    save_npy(folder / "input.npy", x)
    save_npy(folder / "lengths.npy", lengths)
    save_npy(folder / "expected.npy", expected)
    info = {
        "case": name, "framework": "onnx", "source": "onnx.helper", "covers": covers,
        "onnx_version": onnx.__version__, "onnxruntime_version": ort.__version__, "torch_version": torch.__version__,
        "files": {"onnx": "model.onnx"}, "lengths": {"file": "lengths.npy", "values": lengths.tolist()},
        "input": {"file": "input.npy", "dtype": "float32", "shape": [B, T, F]},
        "expected": {"file": "expected.npy", "dtype": "float32", "shape": list(expected.shape), "from": "onnxruntime"},
        "tolerance": ATOL, "numpy_vs_onnxruntime_max_abs_diff": diff,
    }
    write_json(folder / "case.json", info)
    print(f"  {name}: {covers}; output {list(expected.shape)}")
    return info


def const(name, array):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(array), name))


def build(name, op_nodes, inits, output_shape, extra_nodes_after, output_name, x_dtype=TensorProto.FLOAT, x_shape=None):
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["x"], ["x_tbf"], perm=[1, 0, 2])] + op_nodes + extra_nodes_after,
        name, [helper.make_tensor_value_info("x", x_dtype, x_shape or ["batch", "time", F])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, output_shape)],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onnx.helper (Fixtures/fixturegen/onnx_cases.py)")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def seq_tail(D):
    """Y [T, D, B, H] → [B, T, D·H]: Transpose(2, 0, 1, 3) then Reshape [0, 0, -1]."""
    return [helper.make_node("Transpose", ["Y"], ["Y_btdh"], perm=[2, 0, 1, 3]), const("shape", np.array([0, 0, -1], np.int64)),
            helper.make_node("Reshape", ["Y_btdh", "shape"], ["y"])]


def last_tail():
    """Y_h [1, B, H] → [B, H]: Squeeze(axes [0])."""
    return [const("axes0", np.array([0], np.int64)), helper.make_node("Squeeze", ["Y_h", "axes0"], ["y"])]


def helper_lstm(name, covers, D=1, direction="forward", P=False, clip=None, input_forget=0, acts=None, alphas=None,
                betas=None, tail="seq", layout=0, head=None):
    rng = rng_for("onnx/" + name)
    W, R = uniform(rng, (D, 4 * H, F)), uniform(rng, (D, 4 * H, H))
    Bias = uniform(rng, (D, 8 * H))
    Pv = uniform(rng, (D, 3 * H)) if P else None
    inits = {"W": W, "R": R, "B": Bias}
    if P:
        inits["P"] = Pv
    attrs = {"hidden_size": H, "direction": direction}
    if clip:
        attrs["clip"] = clip
    if input_forget:
        attrs["input_forget"] = 1
    if acts:
        attrs["activations"] = acts
    if alphas:
        attrs["activation_alpha"] = alphas
    if betas:
        attrs["activation_beta"] = betas
    inputs = ["x_tbf", "W", "R", "B", "", "", "", "P" if P else ""]
    while inputs[-1] == "":
        inputs.pop()
    node = helper.make_node("LSTM", inputs, ["Y", "Y_h"], **attrs)
    tail_nodes = seq_tail(D) if tail == "seq" else last_tail()
    out_shape = ["batch", "time", D * H] if tail == "seq" else ["batch", H]
    x = uniform(rng, (B, T, F), -1, 1)
    folder = fresh_dir(ROOT / name)
    model = build(name, [node], inits, out_shape, tail_nodes, "y")
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    full_acts = acts or ["Sigmoid", "Tanh", "Tanh"] * D
    fns, ai, bi = [], 0, 0
    for a in full_acts:
        if a == "HardSigmoid":
            fns.append(act(a, alphas[ai] if alphas and ai < len(alphas) else None, betas[bi] if betas and bi < len(betas) else None))
            ai, bi = ai + 1, bi + 1
        else:
            fns.append(act(a))
    Y, Yh = np_lstm(x.transpose(1, 0, 2), W, R, Bias, Pv, clip, input_forget, fns, direction)
    reference = Y.transpose(2, 0, 1, 3).reshape(B, T, D * H) if tail == "seq" else Yh[0]
    extra = {}
    if layout == 1:
        # The same operator with layout=1 (batch-first X and Y). onnxruntime refuses layout=1 on CPU, so the
        # expected output comes from the layout-0 graph above, which computes the same function.
        batch_node = helper.make_node("LSTM", ["x"] + inputs[1:], ["Y", "Y_h"], layout=1, **attrs)
        graph = helper.make_graph(
            [batch_node, const("shape", np.array([0, 0, -1], np.int64)), helper.make_node("Reshape", ["Y", "shape"], ["y"])],
            name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "time", F])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "time", D * H])],
            initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
        layout1 = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onnx.helper")
        layout1.ir_version = 8
        onnx.checker.check_model(layout1, full_check=True)
        onnx.save(model, str(folder / "layout0.onnx"))
        onnx.save(layout1, str(path))
        extra = {"expected_from_graph": "layout0.onnx (onnxruntime refuses layout=1 on CPU)"}
        info, expected = finish(name, folder, folder / "layout0.onnx", x, covers, "onnx.helper", extra)
        info["files"] = {"onnx": "model.onnx", "layout0": "layout0.onnx"}
    else:
        info, expected = finish(name, folder, path, x, covers, "onnx.helper", extra)
    diff = float(np.max(np.abs(expected - reference)))
    assert diff < 1e-5, f"{name}: onnxruntime and the NumPy ONNX reference differ by {diff}"
    info["numpy_vs_onnxruntime_max_abs_diff"] = diff
    write_json(folder / "case.json", info)
    return info


def helper_gru(name, covers, D=1, direction="forward", lbr=0, tail="seq", head=False, clip=None):
    rng = rng_for("onnx/" + name)
    W, R, Bias = uniform(rng, (D, 3 * H, F)), uniform(rng, (D, 3 * H, H)), uniform(rng, (D, 6 * H))
    inits = {"W": W, "R": R, "B": Bias}
    attrs = {"hidden_size": H, "direction": direction, "linear_before_reset": lbr}
    node = helper.make_node("GRU", ["x_tbf", "W", "R", "B"], ["Y", "Y_h"], **attrs)
    if tail == "seq":
        tail_nodes, out_shape = seq_tail(D), ["batch", "time", D * H]
    else:
        tail_nodes, out_shape = last_tail(), ["batch", H]
    head_W = head_b = None
    if head:
        head_W, head_b = uniform(rng, (3, H)), uniform(rng, (3,))
        inits.update({"head.weight": head_W, "head.bias": head_b})
        tail_nodes = [n for n in tail_nodes]
        tail_nodes[-1] = helper.make_node("Squeeze", ["Y_h", "axes0"], ["last"])
        tail_nodes += [helper.make_node("Gemm", ["last", "head.weight", "head.bias"], ["logits"], transB=1),
                       helper.make_node("Softmax", ["logits"], ["y"], axis=-1)]
        out_shape = ["batch", 3]
    x = uniform(rng, (B, T, F), -1, 1)
    folder = fresh_dir(ROOT / name)
    model = build(name, [node], inits, out_shape, tail_nodes, "y")
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    Y = np_gru(x.transpose(1, 0, 2), W, R, Bias, lbr, [act("Sigmoid"), act("Tanh")] * D, direction)
    if tail == "seq":
        reference = Y.transpose(2, 0, 1, 3).reshape(B, T, D * H)
    else:
        reference = Y[-1, 0] if direction == "forward" else Y[0, 0]
    if head:
        logits = reference @ head_W.T.astype(np.float64) + head_b
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        reference = e / e.sum(axis=-1, keepdims=True)
    info, expected = finish(name, folder, path, x, covers, "onnx.helper")
    diff = float(np.max(np.abs(expected - reference)))
    assert diff < 1e-5, f"{name}: onnxruntime and the NumPy ONNX reference differ by {diff}"
    info["numpy_vs_onnxruntime_max_abs_diff"] = diff
    write_json(folder / "case.json", info)
    return info


def helper_cases():
    return [
        helper_lstm("helper_lstm_peepholes_clip", "LSTM with peepholes P (i, o, f order) and clip 0.6, full sequence",
                    P=True, clip=0.6),
        helper_lstm("helper_lstm_input_forget", "LSTM input_forget=1 with peepholes, full sequence", P=True, input_forget=1),
        helper_lstm("helper_lstm_hard_sigmoid", "LSTM activations HardSigmoid(alpha 0.3, beta 0.45), Tanh, Tanh",
                    acts=["HardSigmoid", "Tanh", "Tanh"], alphas=[0.3], betas=[0.45]),
        helper_lstm("helper_lstm_reverse_last", "LSTM direction=reverse, Y_h (final state)", direction="reverse", tail="last"),
        helper_lstm("helper_bilstm_relu_seq", "bidirectional LSTM, activations Sigmoid, Relu, Relu both directions",
                    D=2, direction="bidirectional", acts=["Sigmoid", "Relu", "Relu"] * 2),
        helper_lstm("helper_lstm_layout1", "LSTM layout=1 (batch-first X and Y), full sequence", layout=1),
        helper_gru("helper_gru_lbr0_bidirectional", "bidirectional GRU linear_before_reset=0, full sequence",
                   D=2, direction="bidirectional", lbr=0),
        helper_gru("helper_gru_lbr1_gemm_softmax", "GRU linear_before_reset=1, Y_h, Gemm head + Softmax",
                   lbr=1, tail="last", head=True),
        helper_rnn("helper_birnn_sigmoid_clip", "bidirectional RNN, activation Sigmoid, clip 0.8, full sequence"),
        helper_sequence_lens("helper_bilstm_sequence_lens", "bidirectional LSTM with sequence_lens as a graph input (lengths [5, 3])"),
    ]


def external_data_case():
    """torch_lstm_seq with its initializers moved into model.data (onnx.save, all tensors external)."""
    name = "external_data_lstm"
    source = onnx.load(str(ROOT / "torch_lstm_seq" / "model.onnx"))
    folder = fresh_dir(ROOT / name)
    onnx.save_model(source, str(folder / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.data", size_threshold=0)
    x = np.load(ROOT / "torch_lstm_seq" / "input.npy")
    info, _ = finish(name, folder, folder / "model.onnx", x, "torch_lstm_seq with every initializer in external data model.data",
                     "onnx.save_model(save_as_external_data=True)")
    info["files"] = {"onnx": "model.onnx", "external": "model.data"}
    write_json(folder / "case.json", info)
    return info


# ---------------------------------------------------------------------------------------------------------
# Graphs the importer must refuse


def bad_cases():
    folder = fresh_dir(ROOT / "bad")
    entries = []
    rng = rng_for("onnx/bad")
    W, R, Bias = uniform(rng, (1, 4 * H, F)), uniform(rng, (1, 4 * H, H)), uniform(rng, (1, 8 * H))
    inits = {"W": W, "R": R, "B": Bias}

    def save(file, model, reason, code, check=False):
        if check:
            onnx.checker.check_model(model, full_check=True)
        onnx.save(model, str(folder / file))
        entries.append({"file": file, "code": code, "reason": reason})

    def lstm_graph(nodes, extra_inits=None, outputs=None):
        all_inits = dict(inits, **(extra_inits or {}))
        graph = helper.make_graph(
            [helper.make_node("Transpose", ["x"], ["x_tbf"], perm=[1, 0, 2])] + nodes, "bad",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "time", F])],
            outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", H])],
            initializer=[numpy_helper.from_array(v, k) for k, v in all_inits.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        return model

    lstm = helper.make_node("LSTM", ["x_tbf", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H)
    squeeze = [const("axes0", np.array([0], np.int64)), helper.make_node("Squeeze", ["Y_h", "axes0"], ["y"])]
    # The last step of a reverse layer's Y: that direction has read one step only.
    reverse = helper.make_node("LSTM", ["x_tbf", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H, direction="reverse")
    save("reverse_last_step.onnx", lstm_graph([reverse, const("last", np.array(-1, np.int64)),
                                               helper.make_node("Gather", ["Y", "last"], ["Y_last"], axis=0),
                                               const("axes0", np.array([0], np.int64)), helper.make_node("Squeeze", ["Y_last", "axes0"], ["y"])]),
         "Gather of the last step of a reverse layer", "unsupported topology")
    # The data path branches: Y feeds two nodes.
    save("branch.onnx", lstm_graph([lstm, helper.make_node("Identity", ["Y_h"], ["a"]), helper.make_node("Identity", ["Y_h"], ["b"]),
                                    const("axes0", np.array([0], np.int64)), helper.make_node("Squeeze", ["b", "axes0"], ["y"])]),
         "Y used twice (branch)", "unsupported topology")
    # sequence_lens fixed in the graph (an initializer), not a run-time input.
    seq_graph = lstm_graph([helper.make_node("LSTM", ["x_tbf", "W", "R", "B", "lens"], ["Y", "Y_h"], hidden_size=H)] + squeeze,
                           {"lens": np.array([T, T - 2], np.int32)})
    save("sequence_lens.onnx", seq_graph, "sequence_lens [5, 3] as an initializer", "unsupported topology")
    # A non-zero initial state from an initializer.
    init_graph = lstm_graph([helper.make_node("LSTM", ["x_tbf", "W", "R", "B", "", "h0"], ["Y", "Y_h"], hidden_size=H)] + squeeze,
                            {"h0": np.full((1, 1, H), 0.5, np.float32)})
    save("initial_h.onnx", init_graph, "non-zero initial_h", "unsupported layer")
    # An operator on the data path that no exporter puts there.
    save("mul_on_path.onnx", lstm_graph([lstm, helper.make_node("Mul", ["Y_h", "Y_h"], ["sq"])] + [
        const("axes0", np.array([0], np.int64)), helper.make_node("Squeeze", ["sq", "axes0"], ["y"])]),
        "Mul of the data path", "unsupported topology")
    # g ≠ h activations.
    save("activation_g_h.onnx", lstm_graph([helper.make_node("LSTM", ["x_tbf", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H,
                                                             activations=["Sigmoid", "Tanh", "Relu"])] + squeeze),
         "activations g Tanh ≠ h Relu", "unsupported layer")
    # External data whose location leaves the model's folder.
    escape = lstm_graph([lstm] + squeeze)
    for tensor in escape.graph.initializer:
        if tensor.name == "W":
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            tensor.external_data.add(key="location", value="../outside.data")
    save("external_escape.onnx", escape, "external data location ../outside.data", "malformed source", check=False)
    # External data shorter than the tensor.
    (folder / "short.data").write_bytes(b"\0" * 16)
    short = lstm_graph([lstm] + squeeze)
    for tensor in short.graph.initializer:
        if tensor.name == "W":
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            tensor.external_data.add(key="location", value="short.data")
    save("external_short.onnx", short, "external data file holds 16 of 192 bytes", "malformed source", check=False)
    # A truncated file.
    good = lstm_graph([lstm] + squeeze).SerializeToString()
    (folder / "truncated.onnx").write_bytes(good[: len(good) // 2])
    entries.append({"file": "truncated.onnx", "code": "malformed source", "reason": "truncated protobuf"})
    # W's dims disagree with hidden_size.
    wrong = lstm_graph([helper.make_node("LSTM", ["x_tbf", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H + 1)] + squeeze)
    save("hidden_size_mismatch.onnx", wrong, "W [1, 16, 3] with hidden_size 5", "shape mismatch", check=False)
    write_json(folder / "bad.json", {"files": entries})
    print(f"  bad: {len(entries)} files")


def main():
    import sys
    if sys.argv[1:] == ["--bad-only"]:
        bad_cases()
        return
    fresh_dir(ROOT)
    cases = torch_cases() + helper_cases() + [external_data_case()]
    bad_cases()
    write_json(ROOT / "cases.json", {"generator": "Fixtures/fixturegen/onnx_cases.py", "cases": [c["case"] for c in cases]})
    print(f"  {len(cases)} cases")


if __name__ == "__main__":
    main()
