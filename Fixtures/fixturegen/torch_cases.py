"""PyTorch fixtures (issue 6), made with real PyTorch from pip:  python -m fixturegen.torch_cases

Each case: Fixtures/pytorch/<case>/ with model.pt (torch.save(state_dict)), model.safetensors
(safetensors.torch.save_file), input.npy (float32 [B, T, I], batch_first), expected.npy (PyTorch's output,
float32), ours.h5 (the same model in our HDF5 encoding, mapped here in Python) and case.json.
"""

from __future__ import annotations

import collections

import ml_dtypes
import numpy as np
import safetensors
import torch
from safetensors.torch import save_file
from torch import nn

from fixturegen import ours_h5
from fixturegen.common import (
    CONVERTER, FIXTURES, TOLERANCE, array_info, fresh_dir, gate_matrix, hstack_source, rng_for, save_npy, sha256,
    uniform, write_json,
)

B, T = 3, 5
TORCH_VERSION = torch.__version__


def randomize(module, rng):
    """Sets every parameter explicitly to uniform(-0.5, 0.5) (non-zero)."""
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(torch.from_numpy(uniform(rng, tuple(p.shape))))


def to_numpy(t):
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        return t.contiguous().view(torch.int16).numpy().view(np.uint16).view(ml_dtypes.bfloat16).copy()
    return t.contiguous().numpy().copy()


# ---------------------------------------------------------------------------------------------------------
# PyTorch → document mapping


def map_rnn(sd, prefix, kind, num_layers, bidirectional, input_size, hidden_size, proj_size=0, cell=False):
    """Maps nn.LSTM / nn.GRU (or a cell) state_dict entries onto document layers.

    LSTM rows i, f, g, o → W_i, W_f, W_n, W_v; GRU rows r, z, n → W_r, W_z, W_c. Each gate matrix is
    hstack(weight_hh rows, weight_ih rows); b_* = bias_ih rows, bh_* = bias_hh rows ("double" bias)."""
    key = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    h = hidden_size
    gates = ["i", "f", "n", "v"] if kind == "lstm" else ["r", "z", "c"]
    layers = []
    layer_input = input_size
    for layer in range(num_layers):
        directions, sources = [], []
        for d in range(2 if bidirectional else 1):
            suffix = "" if cell else f"_l{layer}" + ("_reverse" if d == 1 else "")
            names = {w: key(w + suffix) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")}
            w_ih, w_hh = to_numpy(sd[names["weight_ih"]]), to_numpy(sd[names["weight_hh"]])
            b_ih, b_hh = to_numpy(sd[names["bias_ih"]]), to_numpy(sd[names["bias_hh"]])
            tensors, src = {}, {}
            for k, role in enumerate(gates):
                a, b = k * h, (k + 1) * h
                tensors["W_" + role] = gate_matrix(w_hh[a:b, :], w_ih[a:b, :])
                src["W_" + role] = hstack_source(f"{names['weight_hh']}[{a}:{b}, :]", f"{names['weight_ih']}[{a}:{b}, :]")
                tensors["b_" + role] = np.ascontiguousarray(b_ih[a:b])
                src["b_" + role] = f"{names['bias_ih']}[{a}:{b}]"
                tensors["bh_" + role] = np.ascontiguousarray(b_hh[a:b])
                src["bh_" + role] = f"{names['bias_hh']}[{a}:{b}]"
            if proj_size:
                tensors["W_p"] = to_numpy(sd[names["weight_hr"]])
                src["W_p"] = names["weight_hr"]
            directions.append(tensors)
            sources.append(src)
        merge = "concat" if bidirectional else None
        if kind == "lstm":
            doc = ours_h5.lstm_layer(layer_input, h, directions, sources=sources, projection_size=proj_size or None,
                                     merge_mode=merge, return_sequences=True, bias="double")
        else:
            doc = ours_h5.gru_layer(layer_input, h, directions, sources=sources, merge_mode=merge,
                                    return_sequences=True, bias="double", reset="after")
        layers.append(doc)
        layer_input = ours_h5.output_size(doc)
    return layers


def map_linear(sd, prefix):
    return ours_h5.dense_layer(to_numpy(sd[f"{prefix}.weight"]), to_numpy(sd[f"{prefix}.bias"]),
                               sources={"W_d": f"{prefix}.weight", "b_d": f"{prefix}.bias"})


def layout_name(kind, proj_size=0, cell=False):
    if kind == "lstm":
        name = "pytorch.lstmcell.ifgo.two_bias" if cell else "pytorch.lstm.ifgo.two_bias"
        return name + (".weight_hr" if proj_size else "")
    return ("pytorch.grucell" if cell else "pytorch.gru") + ".rzn.two_bias.reset_after"


def state_dict_table(sd):
    rows = []
    for name, t in sd.items():
        rows.append({"key": name, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                     "stride": list(t.stride()), "storage_offset": int(t.storage_offset()),
                     "contiguous": bool(t.is_contiguous())})
    return rows


# ---------------------------------------------------------------------------------------------------------
# Case plumbing


def save_case(case, covers, module_info, sd_pt, sd_st, x, expected, doc, layouts, extra=None):
    folder = fresh_dir(FIXTURES / "pytorch" / case)
    torch.save(sd_pt, folder / "model.pt")
    save_file(collections.OrderedDict((k, v.contiguous().clone()) for k, v in sd_st.items()), folder / "model.safetensors")
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)
    provenance = {
        "source_framework": "pytorch", "source_framework_version": TORCH_VERSION,
        "source_layout": "+".join(dict.fromkeys(layouts)), "source_sha256": sha256(folder / "model.pt"),
        "converter": CONVERTER,
    }
    ours_h5.write_model(folder / "ours.h5", doc, provenance,
                        f"Fixture {case}: {covers}. Source model.pt written by torch.save in PyTorch {TORCH_VERSION}; "
                        f"tensors mapped to document names by Fixtures/fixturegen/torch_cases.py.")
    # Read back what torch.load sees (strides and storage offsets survive torch.save).
    loaded = torch.load(folder / "model.pt", weights_only=True)
    info = {
        "case": case, "framework": "pytorch", "framework_version": TORCH_VERSION,
        "safetensors_version": safetensors.__version__, "covers": covers,
        "files": {"pt": "model.pt", "safetensors": "model.safetensors", "ours": "ours.h5"},
        "module": module_info,
        "state_dict": state_dict_table(loaded),
        "input": array_info("input.npy", x), "expected": array_info("expected.npy", expected),
        "output_shape": list(expected.shape),
        "weights": "every parameter set explicitly to uniform(-0.5, 0.5) (non-zero), seed from the case name",
        "tolerance": TOLERANCE,
        "expected_layers": ours_h5.summary(doc),
        "source_layout": provenance["source_layout"],
    }
    info.update(extra or {})
    write_json(folder / "case.json", info)
    print(f"  pytorch/{case}: output {list(expected.shape)}")


def rnn_case(case, covers, kind, input_size, hidden_size, num_layers=1, bidirectional=False, proj_size=0):
    rng = rng_for(case)
    cls = nn.LSTM if kind == "lstm" else nn.GRU
    kwargs = {"proj_size": proj_size} if proj_size else {}
    module = cls(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, batch_first=True, **kwargs)
    randomize(module, rng)
    module.eval()
    x = uniform(rng, (B, T, input_size), -1.0, 1.0)
    with torch.no_grad():
        y, _ = module(torch.from_numpy(x))
    sd = module.state_dict()
    doc = {"layers": map_rnn(sd, "", kind, num_layers, bidirectional, input_size, hidden_size, proj_size)}
    info = {"class": cls.__name__, "prefix": "", "input_size": input_size, "hidden_size": hidden_size,
            "num_layers": num_layers, "bidirectional": bidirectional, "proj_size": proj_size, "batch_first": True}
    save_case(case, covers, info, sd, sd, x, y.numpy().astype(np.float32), doc, [layout_name(kind, proj_size)],
              {"expected_from": f"output sequence of {cls.__name__}.forward (batch_first, [B, T, D*H_out]), zero "
                                "initial states"})


def cell_case(case, covers, kind, input_size, hidden_size):
    rng = rng_for(case)
    cls = nn.LSTMCell if kind == "lstm" else nn.GRUCell
    module = cls(input_size, hidden_size)
    randomize(module, rng)
    x = uniform(rng, (B, T, input_size), -1.0, 1.0)
    xs = torch.from_numpy(x)
    outputs = []
    with torch.no_grad():
        h = torch.zeros(B, hidden_size)
        c = torch.zeros(B, hidden_size)
        for t in range(T):
            if kind == "lstm":
                h, c = module(xs[:, t, :], (h, c))
            else:
                h = module(xs[:, t, :], h)
            outputs.append(h)
    y = torch.stack(outputs, dim=1).numpy().astype(np.float32)
    sd = module.state_dict()
    doc = {"layers": map_rnn(sd, "", kind, 1, False, input_size, hidden_size, cell=True)}
    info = {"class": cls.__name__, "prefix": "", "input_size": input_size, "hidden_size": hidden_size,
            "num_layers": 1, "bidirectional": False, "proj_size": 0, "batch_first": True}
    save_case(case, covers, info, sd, sd, x, y, doc, [layout_name(kind, cell=True)],
              {"expected_from": f"{cls.__name__} applied step by step in a Python loop from zero states; expected = "
                                "the hidden states stacked over time, [B, T, H]"})


class Encoder(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn


class Tagger(nn.Module):
    def __init__(self, rnn, head):
        super().__init__()
        self.encoder = Encoder(rnn)
        self.head = head


def prefixed_case(case, covers, kind, input_size, hidden_size, num_layers, out, applied_to):
    rng = rng_for(case)
    cls = nn.LSTM if kind == "lstm" else nn.GRU
    model = Tagger(cls(input_size, hidden_size, num_layers=num_layers, batch_first=True), nn.Linear(hidden_size, out))
    randomize(model, rng)
    x = uniform(rng, (B, T, input_size), -1.0, 1.0)
    with torch.no_grad():
        seq, _ = model.encoder.rnn(torch.from_numpy(x))
        y = model.head(seq[:, -1, :] if applied_to == "last_step" else seq)
    sd = model.state_dict()
    layers = map_rnn(sd, "encoder.rnn", kind, num_layers, False, input_size, hidden_size)
    if applied_to == "last_step":
        layers[-1]["return_sequences"] = False  # one direction: the last output is the final STM
    layers.append(map_linear(sd, "head"))
    info = {"class": cls.__name__, "prefix": "encoder.rnn", "input_size": input_size, "hidden_size": hidden_size,
            "num_layers": num_layers, "bidirectional": False, "proj_size": 0, "batch_first": True}
    save_case(case, covers, info, sd, sd, x, y.numpy().astype(np.float32), {"layers": layers},
              [layout_name(kind), "pytorch.linear"],
              {"head": {"prefix": "head", "class": "Linear", "in_features": hidden_size, "out_features": out,
                        "applied_to": applied_to},
               "import_options": {"module": "encoder.rnn", "head": "head"},
               "expected_from": ("head(rnn(x)[0][:, -1, :]): the Linear head applied to the last time step"
                                 if applied_to == "last_step" else
                                 "head(rnn(x)[0]): the Linear head applied to every time step, [B, T, out]")})


def strided_case(case, covers):
    """nn.LSTM whose saved state_dict holds a non-contiguous (transposed-storage) tensor and two views into one
    shared storage with a non-zero storage offset."""
    rng = rng_for(case)
    module = nn.LSTM(4, 5, batch_first=True)
    randomize(module, rng)
    x = uniform(rng, (B, T, 4), -1.0, 1.0)
    with torch.no_grad():
        y, _ = module(torch.from_numpy(x))
    sd = module.state_dict()
    strided = collections.OrderedDict(sd)
    strided._metadata = sd._metadata
    strided["weight_ih_l0"] = sd["weight_ih_l0"].t().contiguous().t()  # same values, column-major storage
    shared = torch.cat([sd["bias_ih_l0"], sd["bias_hh_l0"]])
    strided["bias_ih_l0"] = shared[:20]
    strided["bias_hh_l0"] = shared[20:]  # storage_offset 20 into the same storage
    assert not strided["weight_ih_l0"].is_contiguous() and strided["bias_hh_l0"].storage_offset() == 20
    assert all(torch.equal(strided[k], sd[k]) for k in sd)
    doc = {"layers": map_rnn(sd, "", "lstm", 1, False, 4, 5)}
    info = {"class": "LSTM", "prefix": "", "input_size": 4, "hidden_size": 5, "num_layers": 1,
            "bidirectional": False, "proj_size": 0, "batch_first": True}
    save_case(case, covers, info, strided, sd, x, y.numpy().astype(np.float32), doc, [layout_name("lstm")],
              {"expected_from": "output sequence of LSTM.forward (batch_first)",
               "strided_tensors": {
                   "weight_ih_l0": "stride (1, 20): a transposed view of column-major storage (.t().contiguous().t())",
                   "bias_ih_l0": "view at storage_offset 0 of a 40-element storage shared with bias_hh_l0",
                   "bias_hh_l0": "view at storage_offset 20 of the same storage",
                   "note": "model.pt keeps the strides and the shared storage; model.safetensors is contiguous "
                           "(the format has no strides)"}})


def parameters_dict_case(case, covers):
    """torch.save of a plain dict of nn.Parameter objects (pickle uses torch._utils._rebuild_parameter)."""
    rng = rng_for(case)
    module = nn.GRU(4, 5, batch_first=True)
    randomize(module, rng)
    x = uniform(rng, (B, T, 4), -1.0, 1.0)
    with torch.no_grad():
        y, _ = module(torch.from_numpy(x))
    params = dict(module.named_parameters())
    assert all(isinstance(v, nn.Parameter) for v in params.values())
    sd = module.state_dict()
    doc = {"layers": map_rnn(sd, "", "gru", 1, False, 4, 5)}
    info = {"class": "GRU", "prefix": "", "input_size": 4, "hidden_size": 5, "num_layers": 1,
            "bidirectional": False, "proj_size": 0, "batch_first": True}
    save_case(case, covers, info, params, sd, x, y.numpy().astype(np.float32), doc, [layout_name("gru")],
              {"expected_from": "output sequence of GRU.forward (batch_first)",
               "pickle_note": "model.pt holds dict(module.named_parameters()): a plain dict (not OrderedDict) of "
                              "nn.Parameter, rebuilt through torch._utils._rebuild_parameter"})


def low_precision_case(case, covers, kind, dtype):
    """The state_dict is saved in float16/bfloat16; expected is computed in float32 from the rounded weights."""
    rng = rng_for(case)
    cls = nn.LSTM if kind == "lstm" else nn.GRU
    module = cls(4, 5, num_layers=1, batch_first=True)
    randomize(module, rng)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(dtype).to(torch.float32))  # round to the storage dtype
    x = uniform(rng, (B, T, 4), -1.0, 1.0)
    with torch.no_grad():
        y, _ = module(torch.from_numpy(x))
    sd_low = collections.OrderedDict((k, v.to(dtype)) for k, v in module.state_dict().items())
    sd_low._metadata = module.state_dict()._metadata
    doc = {"layers": map_rnn(sd_low, "", kind, 1, False, 4, 5)}
    info = {"class": cls.__name__, "prefix": "", "input_size": 4, "hidden_size": 5, "num_layers": 1,
            "bidirectional": False, "proj_size": 0, "batch_first": True}
    name = str(dtype).replace("torch.", "")
    save_case(case, covers, info, sd_low, sd_low, x, y.numpy().astype(np.float32), doc, [layout_name(kind)],
              {"storage_dtype": name,
               "expected_from": f"weights rounded to {name} (as stored in model.pt / model.safetensors / ours.h5), "
                                f"then {cls.__name__}.forward in float32 on the rounded weights"})


def main():
    print(f"PyTorch fixtures with torch {TORCH_VERSION}, safetensors {safetensors.__version__}")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rnn_case("lstm_1layer", "nn.LSTM, 1 layer", "lstm", 4, 5)
    rnn_case("lstm_2layer", "nn.LSTM, 2 layers (layer 1 input = H)", "lstm", 4, 5, num_layers=2)
    rnn_case("lstm_3layer", "nn.LSTM, 3 layers", "lstm", 3, 4, num_layers=3)
    rnn_case("lstm_bidirectional", "nn.LSTM, bidirectional (merge concat, backward aligned to input time)",
             "lstm", 4, 5, bidirectional=True)
    rnn_case("lstm_bidirectional_2layer", "nn.LSTM, 2 layers, bidirectional (layer 1 input = 2H, _reverse keys)",
             "lstm", 3, 4, num_layers=2, bidirectional=True)
    rnn_case("lstm_proj", "nn.LSTM with proj_size=3 (weight_hr_l{k}, weight_hh [4H, P]), 2 layers", "lstm", 4, 6,
             num_layers=2, proj_size=3)
    rnn_case("lstm_proj_bidirectional", "nn.LSTM with proj_size=2, bidirectional", "lstm", 3, 5, bidirectional=True,
             proj_size=2)
    rnn_case("gru_1layer", "nn.GRU, 1 layer (r, z, n; reset after; two biases)", "gru", 4, 5)
    rnn_case("gru_2layer_bidirectional", "nn.GRU, 2 layers, bidirectional", "gru", 3, 4, num_layers=2,
             bidirectional=True)
    cell_case("lstmcell", "nn.LSTMCell run over the sequence in a loop", "lstm", 4, 5)
    cell_case("grucell", "nn.GRUCell run over the sequence in a loop", "gru", 4, 5)
    prefixed_case("prefixed_head_last", "state_dict with module prefix encoder.rnn.* (nn.LSTM) and a Linear head "
                  "head.* applied to the last step", "lstm", 4, 5, 1, 3, "last_step")
    prefixed_case("prefixed_head_every_step", "state_dict with module prefix encoder.rnn.* (nn.GRU, 2 layers) and a "
                  "Linear head head.* applied to every step", "gru", 4, 5, 2, 2, "every_step")
    strided_case("lstm_strided", "non-contiguous saved tensor (transposed storage) and views with a storage offset "
                 "into a shared storage")
    parameters_dict_case("gru_parameters_dict", "plain dict of nn.Parameter (torch._utils._rebuild_parameter in "
                         "the pickle) instead of a state_dict")
    low_precision_case("lstm_float16", "nn.LSTM state_dict stored as float16", "lstm", torch.float16)
    low_precision_case("gru_bfloat16", "nn.GRU state_dict stored as bfloat16", "gru", torch.bfloat16)


if __name__ == "__main__":
    main()
