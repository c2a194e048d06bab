"""Issue 13 PyTorch fixtures ("models as people build them"), made with real PyTorch:  python -m fixturegen.models_torch

Each case: Fixtures/models/<case>/ with model.pt (torch.save(state_dict)) and model.safetensors, input.npy,
expected.npy (PyTorch's own output), optional lengths.npy, and case.json stating the import and run options the
Swift tests pass (`import`: module, head, last_step, final_states, nonlinearity, embedding; `run`: lengths,
time_major). No expected value comes from lstmconv.
"""

from __future__ import annotations

import collections

import numpy as np
import safetensors
import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from fixturegen.common import FIXTURES, TOLERANCE, array_info, fresh_dir, rng_for, save_npy, uniform, write_json

B, T = 3, 5
TORCH_VERSION = torch.__version__


def randomize(module, rng):
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(torch.from_numpy(uniform(rng, tuple(p.shape))))


def save(case, covers, module, x, expected, import_options=None, run_options=None, lengths=None, extra=None,
         pickle_protocols=()):
    folder = fresh_dir(FIXTURES / "models" / case)
    sd = module.state_dict()
    torch.save(sd, folder / "model.pt")
    save_file(collections.OrderedDict((k, v.contiguous().clone()) for k, v in sd.items()), folder / "model.safetensors")
    sources = ["model.pt", "model.safetensors"]
    for protocol in pickle_protocols:
        name = f"model_legacy_p{protocol}.pt"
        torch.save(sd, folder / name, _use_new_zipfile_serialization=False, pickle_protocol=protocol)
        sources.append(name)
        name = f"model_zip_p{protocol}.pt"
        torch.save(sd, folder / name, pickle_protocol=protocol)
        sources.append(name)
    save_npy(folder / "input.npy", x)
    save_npy(folder / "expected.npy", expected)
    run = dict(run_options or {})
    if lengths is not None:
        save_npy(folder / "lengths.npy", lengths)
        run["lengths"] = "lengths.npy"
    info = {
        "case": case, "framework": "pytorch", "framework_version": TORCH_VERSION,
        "safetensors_version": safetensors.__version__, "covers": covers, "sources": sources,
        "import": import_options or {}, "run": run,
        "input": array_info("input.npy", x), "expected": array_info("expected.npy", expected),
        "tolerance": TOLERANCE,
        "weights": "every parameter set explicitly to uniform(-0.5, 0.5) (non-zero), seed from the case name",
    }
    info.update(extra or {})
    write_json(folder / "case.json", info)
    print(f"  models/{case}: output {list(expected.shape)}")


class Tagger(nn.Module):
    def __init__(self, rnn, head):
        super().__init__()
        self.rnn = rnn
        self.head = head


def bidirectional_head_case(case, kind, choice, num_layers=1, head=True):
    """A bidirectional module whose head reads output[:, -1] (choice last_step) or cat(h_n[-2], h_n[-1])
    (choice final_states). The two differ: the backward direction's final state is its output at t = 0."""
    rng = rng_for(case)
    cls = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
    I, H, out = 3, 4, 2
    rnn = cls(I, H, num_layers=num_layers, bidirectional=True, batch_first=True)
    model = Tagger(rnn, nn.Linear(2 * H, out)) if head else Tagger(rnn, nn.Identity())
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    with torch.no_grad():
        output, state = model.rnn(torch.from_numpy(x))
        h_n = state[0] if kind == "lstm" else state
        feature = output[:, -1] if choice == "last_step" else torch.cat((h_n[-2], h_n[-1]), dim=1)
        y = model.head(feature)
        other = output[:, -1] if choice != "last_step" else torch.cat((h_n[-2], h_n[-1]), dim=1)
        gap = float((model.head(other) - y).abs().max())
    options = {"module": "rnn", choice: True}
    if head:
        options["head"] = "head"
    what = "output[:, -1]" if choice == "last_step" else "torch.cat((h_n[-2], h_n[-1]), 1)"
    save(case, f"bidirectional nn.{cls.__name__} ({num_layers} layer(s)), head reads {what}", model, x,
         y.numpy().astype(np.float32), options,
         extra={"expected_from": f"{'head(' if head else ''}{what}{')' if head else ''}",
                "difference_to_other_choice": gap})


def rnn_case(case, nonlinearity, num_layers, bidirectional):
    rng = rng_for(case)
    I, H = 3, 4
    rnn = nn.RNN(I, H, num_layers=num_layers, nonlinearity=nonlinearity, bidirectional=bidirectional, batch_first=True)
    model = Tagger(rnn, nn.Identity())
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    with torch.no_grad():
        y, _ = rnn(torch.from_numpy(x))
    options = {"module": "rnn"}
    if nonlinearity != "tanh":
        options["nonlinearity"] = nonlinearity
    save(case, f"nn.RNN nonlinearity={nonlinearity}, {num_layers} layer(s), bidirectional={bidirectional}", model, x,
         y.numpy().astype(np.float32), options, extra={"expected_from": "output sequence of nn.RNN (batch_first)"})


class EmbedTagger(nn.Module):
    def __init__(self, vocab, dim, rnn, head):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.rnn = rnn
        self.head = head


def embedding_case(case, kind):
    rng = rng_for(case)
    V, E, H, out = 7, 3, 4, 2
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
    model = EmbedTagger(V, E, cls(E, H, batch_first=True), nn.Linear(H, out))
    randomize(model, rng)
    ids = rng.integers(0, V, size=(B, T)).astype(np.int64)
    with torch.no_grad():
        seq, _ = model.rnn(model.embedding(torch.from_numpy(ids)))
        y = model.head(seq[:, -1])
    save(case, f"nn.Embedding → nn.{cls.__name__} → nn.Linear on output[:, -1], token ids in", model, ids,
         y.numpy().astype(np.float32), {"module": "rnn", "head": "head", "embedding": "embedding", "last_step": True},
         extra={"expected_from": "head(rnn(embedding(ids))[0][:, -1])"})


def packed_case(case, kind, bidirectional, choice):
    """pack_padded_sequence with lengths; expected is pad_packed_sequence(total_length=T) (choice sequence) or
    cat of the last layer's h_n (choice final_states)."""
    rng = rng_for(case)
    I, H = 3, 4
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
    rnn = cls(I, H, num_layers=2, bidirectional=bidirectional, batch_first=True)
    model = Tagger(rnn, nn.Identity())
    randomize(model, rng)
    x = uniform(rng, (B, T, I), -1.0, 1.0)
    lengths = np.array([T, 2, 4], dtype=np.int64)[:B]
    x[1, 2:] = 0.0  # padding values do not matter to PyTorch; zeros as a data loader would write
    x[2, 4:] = 0.0
    with torch.no_grad():
        packed = pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True,
                                      enforce_sorted=False)
        out, state = rnn(packed)
        h_n = state[0] if kind == "lstm" else state
        if choice == "sequence":
            y, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        else:
            y = torch.cat((h_n[-2], h_n[-1]), dim=1) if bidirectional else h_n[-1]
    options = {"module": "rnn"}
    if choice == "final_states":
        options["final_states"] = True
    save(case, f"pack_padded_sequence, nn.{cls.__name__} 2 layers, bidirectional={bidirectional}, "
               f"{'pad_packed_sequence output' if choice == 'sequence' else 'h_n of the last layer'}",
         model, x, y.numpy().astype(np.float32), options, lengths=lengths,
         extra={"expected_from": "pad_packed_sequence(rnn(pack_padded_sequence(x, lengths)), total_length=T)"
                if choice == "sequence" else "h_n of the last layer (directions concatenated) after the packed run"})


def time_major_case(case, kind):
    rng = rng_for(case)
    I, H = 3, 4
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
    rnn = cls(I, H, bidirectional=True)  # batch_first=False: PyTorch's default, [T, B, F]
    model = Tagger(rnn, nn.Identity())
    randomize(model, rng)
    x = uniform(rng, (T, B, I), -1.0, 1.0)
    with torch.no_grad():
        y, _ = rnn(torch.from_numpy(x))
    save(case, f"nn.{cls.__name__} batch_first=False (time-major [T, B, F] in and out), bidirectional", model, x,
         y.numpy().astype(np.float32), {"module": "rnn"}, {"time_major": True},
         extra={"expected_from": "output of the module called on [T, B, I], shape [T, B, 2H]"})


def pickle_protocol_case(case):
    rng = rng_for(case)
    rnn = nn.LSTM(3, 4, batch_first=True)
    model = Tagger(rnn, nn.Identity())
    randomize(model, rng)
    x = uniform(rng, (B, T, 3), -1.0, 1.0)
    with torch.no_grad():
        y, _ = rnn(torch.from_numpy(x))
    save(case, "torch.save with pickle_protocol 1, 2, 4 and 5, legacy (non-zip) and zip", model, x,
         y.numpy().astype(np.float32), {"module": "rnn"}, pickle_protocols=(1, 2, 4, 5),
         extra={"expected_from": "output sequence of nn.LSTM (batch_first)"})


def rnn_cell_case(case, nonlinearity):
    """nn.RNNCell run over the sequence in a Python loop from zeros; expected = the hidden states stacked."""
    rng = rng_for(case)
    cell = nn.RNNCell(3, 4, nonlinearity=nonlinearity)
    model = Tagger(cell, nn.Identity())
    randomize(model, rng)
    x = uniform(rng, (B, T, 3), -1.0, 1.0)
    xs = torch.from_numpy(x)
    h = torch.zeros(B, 4)
    outputs = []
    with torch.no_grad():
        for t in range(T):
            h = cell(xs[:, t], h)
            outputs.append(h)
    y = torch.stack(outputs, dim=1).numpy().astype(np.float32)
    save(case, f"nn.RNNCell nonlinearity={nonlinearity} run over the sequence in a loop", model, x, y,
         {"module": "rnn", "nonlinearity": nonlinearity}, extra={"expected_from": "RNNCell stepped in Python, [B, T, H]"})


def packed_last_step_case(case):
    """pack_padded_sequence → bidirectional GRU → pad_packed_sequence → output[:, -1] → Linear."""
    rng = rng_for(case)
    rnn = nn.GRU(3, 4, bidirectional=True, batch_first=True)
    model = Tagger(rnn, nn.Linear(8, 2))
    randomize(model, rng)
    x = uniform(rng, (B, T, 3), -1.0, 1.0)
    lengths = np.array([2, T, 3], dtype=np.int64)
    with torch.no_grad():
        packed = pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True,
                                      enforce_sorted=False)
        out, _ = rnn(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        y = model.head(padded[:, -1])
    save(case, "packed bidirectional GRU, head on pad_packed_sequence(...)[:, -1] (zeros for shorter sequences)",
         model, x, y.numpy().astype(np.float32), {"module": "rnn", "head": "head", "last_step": True}, lengths=lengths,
         extra={"expected_from": "head(pad_packed_sequence(gru(pack_padded_sequence(x, lengths)), total_length=T)[0][:, -1])"})


def main():
    print(f"Issue 13 PyTorch fixtures with torch {TORCH_VERSION}")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    bidirectional_head_case("torch_bilstm_head_last_step", "lstm", "last_step")
    bidirectional_head_case("torch_bilstm_head_final_states", "lstm", "final_states")
    bidirectional_head_case("torch_bigru_2layer_last_step", "gru", "last_step", num_layers=2, head=False)
    bidirectional_head_case("torch_bigru_2layer_final_states", "gru", "final_states", num_layers=2, head=False)
    rnn_case("torch_rnn_tanh_2layer_bidirectional", "tanh", 2, True)
    rnn_case("torch_rnn_relu", "relu", 1, False)
    embedding_case("torch_embedding_lstm_linear", "lstm")
    embedding_case("torch_embedding_gru_linear", "gru")
    packed_case("torch_packed_bilstm_sequence", "lstm", True, "sequence")
    packed_case("torch_packed_bigru_final_states", "gru", True, "final_states")
    packed_case("torch_packed_lstm_final_states", "lstm", False, "final_states")
    time_major_case("torch_time_major_bilstm", "lstm")
    pickle_protocol_case("torch_pickle_protocols")
    rnn_cell_case("torch_rnncell_relu", "relu")
    packed_last_step_case("torch_packed_bigru_head_last_step")


if __name__ == "__main__":
    main()
