"""An independent NumPy implementation of the notes' recurrent cells, used to make and check fixtures.

Written from the notes' equations (and, for the `standard` variant, the TF1 / Gers peephole LSTM), not from
any lstmconv Swift code. All arithmetic is float64; tensors stored as f16/bf16/f32 are widened exactly.

The notes' LSTM (STM = short-term memory = h, LTM = long-term memory = c, E = input event x):

    learn:    N_t = tanh(W_n [STM_{t-1}, E_t] + b_n)          i_t = σ(W_i [STM_{t-1}, E_t] + b_i)
    forget:   f_t = σ(W_f [STM_{t-1}, E_t] + b_f)
    remember: LTM_t = LTM_{t-1} · f_t + N_t · i_t
    use:      U_t = tanh(W_u (LTM_{t-1} · f_t) + b_u)          V_t = σ(W_v [STM_{t-1}, E_t] + b_v)
              STM_t = U_t · V_t

`use_gate = "standard"` replaces the use gate's U_t by tanh(LTM_t) (every framework's LSTM).

Options, as the schema names them (layer attributes of our HDF5 encoding):

* `bias = "double"`: every gate has a second, recurrent-side bias `bh_*`, added to `b_*`.
* `peepholes`: `"diagonal"` (P_* of shape [H], element-wise) or `"full"` (P_* of shape [H, H], matrix product).
  P_i and P_f read LTM_{t-1}; P_v reads LTM_t, the new long-term memory (TF1 LSTMCell / ONNX / Gers).
  This fixture generator applies the same rule in the document variant (P_v reads LTM_t).
* `forget_bias` (TF1): a constant added to the forget gate's pre-activation at run time.
* `cell_clip` (TF1): LTM_t is clipped to ±cell_clip right after the remember gate, before the use gate.
* `projection_size` P: STM_t ← W_p STM_t ([P, H]); then `projection_clip` clips it to ±projection_clip.
  The gates then act on [STM_{t-1} (P values), E_t].
* `activation` squashes N_t and U_t (the GRU candidate); `recurrent_activation` is σ of the gates i, f, V
  (GRU z, r). `hard_sigmoid` carries an explicit slope and offset: clip(slope · x + offset, 0, 1).

GRU (tensors W_z, W_r, W_c on [STM_{t-1}, E_t]; R = H columns for STM, then I for E):

    z_t = σ(W_z [STM_{t-1}, E_t] + b_z (+ bh_z))          update gate
    r_t = σ(W_r [STM_{t-1}, E_t] + b_r (+ bh_r))          reset gate
    reset "after":  C_t = tanh(W_c^E E_t + b_c + r_t · (W_c^S STM_{t-1} + bh_c))
    reset "before": C_t = tanh(W_c^S (r_t · STM_{t-1}) + W_c^E E_t + b_c (+ bh_c))
    STM_t = z_t · STM_{t-1} + (1 − z_t) · C_t

where W_c^S = W_c[:, :H] and W_c^E = W_c[:, H:].

Directions (Keras and PyTorch agree): a `backward` direction reads the sequence reversed and its outputs are
re-reversed so that output t belongs to input step t; its final state is the one after reading E_0.
`go_backwards` (Keras) reverses the layer's input first and returns the outputs in that reversed (processing)
order; on a two-direction layer the forward direction then reads the reversed input and the backward direction
the original order, as Keras' Bidirectional(LSTM(go_backwards=True)) does. Merge modes: concat [fwd, bwd], sum,
mul, ave.

A model is a dict {"layers": [layer, ...]}; each layer is a dict with "kind" and the attribute names of the
schema; recurrent layers carry "directions": [ {role: array}, ... ] (forward first), embedding and dense
layers carry "tensors": {role: array}. Activations are tuples: ("tanh",), ("hard_sigmoid", slope, offset).
"""

from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------------------------------------------------
# Activations


def activate(activation, x):
    """Applies an activation tuple such as ("sigmoid",) or ("hard_sigmoid", 0.2, 0.5)."""
    name = activation[0]
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "hard_sigmoid":
        slope, offset = activation[1], activation[2]
        return np.clip(slope * x + offset, 0.0, 1.0)
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "linear":
        return x
    if name == "softmax":
        shifted = x - np.max(x, axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {activation!r}")


def _f64(array):
    return np.asarray(array).astype(np.float64)


# ---------------------------------------------------------------------------------------------------------
# One LSTM step, gate by gate as the notes name them


class LSTMCell:
    """One direction of an LSTM layer. `p` maps document tensor names to arrays."""

    def __init__(self, layer, p):
        self.p = {name: _f64(value) for name, value in p.items()}
        self.layer = layer
        self.hidden = layer["hidden_size"]
        self.recurrent = layer.get("projection_size") or layer["hidden_size"]
        if layer.get("gate_clip") is not None:
            raise NotImplementedError("gate_clip is not modelled by this reference")

    def _gate_input(self, name, stm_prev, event):
        """W_x [STM_{t-1}, E_t] + b_x (+ bh_x): the first R columns of W_x act on STM, the rest on E."""
        p = self.p
        weights = p["W_" + name]
        z = weights[:, : self.recurrent] @ stm_prev.T + weights[:, self.recurrent :] @ event.T
        z = z.T + p["b_" + name]
        if self.layer["bias"] == "double":
            z = z + p["bh_" + name]
        return z

    def _peephole(self, name, ltm):
        form = self.layer["peepholes"]
        if form == "none":
            return 0.0
        if form == "diagonal":
            return ltm * self.p[name]
        if form == "full":
            return ltm @ self.p[name].T
        raise ValueError(form)

    def step(self, stm_prev, ltm_prev, event):
        layer = self.layer
        squash = layer["activation"]
        gate = layer["recurrent_activation"]

        # Learn gate: N_t and i_t.
        learn_n = activate(squash, self._gate_input("n", stm_prev, event))
        learn_i = activate(gate, self._gate_input("i", stm_prev, event) + self._peephole("P_i", ltm_prev))

        # Forget gate: f_t and its output LTM_{t-1} · f_t.
        forget_f = activate(
            gate,
            self._gate_input("f", stm_prev, event) + layer.get("forget_bias", 0.0) + self._peephole("P_f", ltm_prev),
        )
        forget_output = ltm_prev * forget_f

        # Remember gate: LTM_t.
        ltm = forget_output + learn_n * learn_i
        if layer.get("cell_clip") is not None:
            ltm = np.clip(ltm, -layer["cell_clip"], layer["cell_clip"])

        # Use gate: V_t, U_t, STM_t.
        # P_v reads the new LTM_t. ("_peephole_v_reads": "previous" exists only so the fixture generator can
        # measure how much that choice matters; no stored file uses it.)
        ltm_for_v = ltm_prev if layer.get("_peephole_v_reads") == "previous" else ltm
        use_v = activate(gate, self._gate_input("v", stm_prev, event) + self._peephole("P_v", ltm_for_v))
        if layer["use_gate"] == "document":
            use_u = activate(squash, forget_output @ self.p["W_u"].T + self.p["b_u"])
        else:
            use_u = activate(squash, ltm)
        stm = use_u * use_v

        # Projection of STM.
        if layer.get("projection_size"):
            stm = stm @ self.p["W_p"].T
            if layer.get("projection_clip") is not None:
                stm = np.clip(stm, -layer["projection_clip"], layer["projection_clip"])
        return stm, ltm

    def initial_state(self, batch):
        return np.zeros((batch, self.recurrent)), np.zeros((batch, self.hidden))


class GRUCell:
    """One direction of a GRU layer."""

    def __init__(self, layer, p):
        self.p = {name: _f64(value) for name, value in p.items()}
        self.layer = layer
        self.hidden = layer["hidden_size"]
        if layer.get("gate_clip") is not None:
            raise NotImplementedError("gate_clip is not modelled by this reference")

    def step(self, stm_prev, _ltm, event):
        p, layer, h = self.p, self.layer, self.hidden
        double = layer["bias"] == "double"
        squash = layer["activation"]
        gate = layer["recurrent_activation"]

        def gate_input(name):
            w = p["W_" + name]
            z = stm_prev @ w[:, :h].T + event @ w[:, h:].T + p["b_" + name]
            return z + p["bh_" + name] if double else z

        update_z = activate(gate, gate_input("z"))
        reset_r = activate(gate, gate_input("r"))
        w_c = p["W_c"]
        if layer["reset"] == "after":
            recurrent_part = stm_prev @ w_c[:, :h].T + (p["bh_c"] if double else 0.0)
            candidate = activate(squash, event @ w_c[:, h:].T + p["b_c"] + reset_r * recurrent_part)
        else:
            candidate = activate(
                squash,
                (reset_r * stm_prev) @ w_c[:, :h].T + event @ w_c[:, h:].T + p["b_c"] + (p["bh_c"] if double else 0.0),
            )
        stm = update_z * stm_prev + (1.0 - update_z) * candidate
        return stm, None

    def initial_state(self, batch):
        return np.zeros((batch, self.hidden)), None


# ---------------------------------------------------------------------------------------------------------
# Layers


def run_direction(cell, sequence):
    """Runs a cell over `sequence` [B, T, I] in the given order; returns outputs [B, T, R] in that order."""
    batch, steps = sequence.shape[0], sequence.shape[1]
    stm, ltm = cell.initial_state(batch)
    outputs = []
    for t in range(steps):
        stm, ltm = cell.step(stm, ltm, sequence[:, t, :])
        outputs.append(stm)
    return np.stack(outputs, axis=1)


def merge(mode, forward, backward):
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2.0
    raise ValueError(mode)


def recurrent_forward(layer, x):
    cell_type = LSTMCell if layer["kind"] == "lstm" else GRUCell
    cells = [cell_type(layer, p) for p in layer["directions"]]
    if len(cells) == 1:
        sequence = x[:, ::-1, :] if layer["go_backwards"] else x
        outputs = run_direction(cells[0], sequence)  # processing order, as Keras returns go_backwards outputs
        return outputs if layer["return_sequences"] else outputs[:, -1, :]
    if layer["go_backwards"]:
        # Keras' Bidirectional(LSTM(go_backwards=True)): the input is reversed before anything else and the merged
        # outputs stay in that reversed order (spec/engine.md §5).
        x = x[:, ::-1, :]
    forward = run_direction(cells[0], x)
    backward = run_direction(cells[1], x[:, ::-1, :])  # reads E_{T-1} … E_0
    if layer["return_sequences"]:
        return merge(layer["merge_mode"], forward, backward[:, ::-1, :])  # re-aligned to input time
    return merge(layer["merge_mode"], forward[:, -1, :], backward[:, -1, :])


def layer_forward(layer, x):
    kind = layer["kind"]
    if kind == "embedding":
        table = _f64(layer["tensors"]["W_e"])
        return table[np.asarray(x, dtype=np.int64)]
    if kind == "dense":
        t = layer["tensors"]
        y = np.asarray(x, dtype=np.float64) @ _f64(t["W_d"]).T
        if layer["use_bias"]:
            y = y + _f64(t["b_d"])
        return activate(layer["activation"], y)
    if kind in ("lstm", "gru"):
        return recurrent_forward(layer, np.asarray(x, dtype=np.float64))
    raise ValueError(kind)


def forward(model, x):
    """Runs every layer of `model` on `x` ([B, T, F] floats, or [B, T] token ids); returns float64."""
    y = x
    for layer in model["layers"]:
        y = layer_forward(layer, y)
    return np.asarray(y, dtype=np.float64)
