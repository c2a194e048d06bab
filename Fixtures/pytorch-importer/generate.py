"""Extra PyTorch inputs for the importer's own tests (beyond Fixtures/pytorch, which fixturegen writes).

Run with the frameworks venv:  /work/venv/bin/python Fixtures/pytorch-importer/generate.py
Writes next to this script. Everything is produced by real torch / safetensors calls or by byte-level edits of
their output that are described below; nothing here is ever unpickled by the tests' Python side.

- checkpoint.pt             torch.save({"epoch": 3, "model": lstm.state_dict(), "optimizer": adam.state_dict()})
                            after one optimizer step: nested dicts, int/float/list leaves, optimizer tensors.
- big_endian.pt             lstm_nobias/model.pt rewritten with byteorder "big" and every float32 storage
                            byte-swapped (what torch.save writes on a big-endian machine).
- lying_bomb.pt             lstm_nobias/model.pt with data/0 replaced by 64 MiB of zeros, deflated, while the local
                            and central headers still declare the original (small) size: extraction must stop at
                            the declared size.
- protocol4.pt             lstm_nobias's state_dict saved with pickle_protocol=4 (FRAME, SHORT_BINUNICODE,
                            STACK_GLOBAL, MEMOIZE).
- torchscript.pt           torch.jit.save(torch.jit.script(nn.LSTM(3, 4))): a TorchScript archive, refused with advice.
- lstm_nobias/, gru_float64/  model.pt, model.safetensors, input.npy, expected.npy (PyTorch's forward output,
                            batch_first, zero initial states) for nn.LSTM(bias=False) and a float64 nn.GRU.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent


def seeded(name: str) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little") % (2**31))
    return generator


def randomize(module: torch.nn.Module, name: str) -> None:
    generator = seeded(name)
    with torch.no_grad():
        for parameter in module.parameters():
            values = torch.rand(parameter.shape, generator=generator, dtype=torch.float64) - 0.5
            parameter.copy_(values.to(parameter.dtype))


def forward_case(name: str, module: torch.nn.Module, input_size: int, dtype=torch.float32) -> None:
    folder = HERE / name
    folder.mkdir(parents=True, exist_ok=True)
    randomize(module, name)
    module = module.to(dtype)
    x = (torch.rand((3, 5, input_size), generator=seeded(name + "x"), dtype=torch.float64) * 2 - 1).to(dtype)
    with torch.no_grad():
        output, _ = module(x)
    state = {key: value.detach().contiguous() for key, value in module.state_dict().items()}
    torch.save(module.state_dict(), folder / "model.pt")
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt", "torch_version": torch.__version__})
    np.save(folder / "input.npy", x.numpy(), allow_pickle=False)
    np.save(folder / "expected.npy", output.numpy(), allow_pickle=False)
    (folder / "case.json").write_text(json.dumps({
        "case": name, "framework_version": torch.__version__, "module": repr(module),
        "expected_from": "module(x)[0], batch_first, zero initial states",
        "dtype": str(dtype), "keys": list(state),
    }, indent=2) + "\n")


def rewrite(source: Path, target: Path, transform) -> None:
    """Copies a torch zip entry by entry (stored, as torch writes it), letting `transform` edit entries."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as out:
        for info in archive.infolist():
            data = transform(info.filename, archive.read(info.filename))
            out.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data)


def big_endian() -> None:
    def swap(name: str, data: bytes) -> bytes:
        if name.endswith("/byteorder"):
            return b"big"
        if "/data/" in name:
            return np.frombuffer(data, dtype="<f4").astype(">f4").tobytes()
        return data

    rewrite(HERE / "lstm_nobias" / "model.pt", HERE / "big_endian.pt", swap)


def lying_bomb() -> None:
    source = HERE / "lstm_nobias" / "model.pt"
    with zipfile.ZipFile(source) as archive:
        entries = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    target = HERE / "lying_bomb.pt"
    bomb_name = next(name for name, _ in entries if name.endswith("/data/0"))
    declared = len(dict(entries)[bomb_name])
    with zipfile.ZipFile(target, "w") as out:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            if name == bomb_name:
                out.writestr(info, bytes(64 << 20), compress_type=zipfile.ZIP_DEFLATED)
            else:
                out.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    # Patch the declared uncompressed size of the bomb entry (local header +22, central header +24).
    raw = bytearray(target.read_bytes())
    encoded = bomb_name.encode()
    position = 0
    while True:
        local = raw.find(b"PK\x03\x04", position)
        name_length = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30: local + 30 + name_length] == encoded:
            struct.pack_into("<I", raw, local + 22, declared)
            break
        position = local + 4
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46: central + 46 + name_length] == encoded:
            struct.pack_into("<I", raw, central + 24, declared)
        central = raw.find(b"PK\x01\x02", central + 4)
    target.write_bytes(bytes(raw))


def checkpoint() -> None:
    model = torch.nn.LSTM(3, 4, batch_first=True)
    randomize(model, "checkpoint")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss = model(torch.ones(2, 3, 3))[0].sum()
    loss.backward()
    optimizer.step()
    torch.save({"epoch": 3, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, HERE / "checkpoint.pt")


def torchscript() -> None:
    model = torch.nn.LSTM(3, 4)
    randomize(model, "torchscript")
    torch.jit.save(torch.jit.script(model), str(HERE / "torchscript.pt"))


def protocol4() -> None:
    state = torch.load(HERE / "lstm_nobias" / "model.pt", weights_only=True)
    torch.save(state, HERE / "protocol4.pt", pickle_protocol=4)


def main() -> None:
    forward_case("lstm_nobias", torch.nn.LSTM(4, 5, num_layers=2, bias=False, batch_first=True), 4)
    forward_case("gru_float64", torch.nn.GRU(3, 4, bidirectional=True, batch_first=True), 3, dtype=torch.float64)
    big_endian()
    lying_bomb()
    checkpoint()
    torchscript()
    protocol4()


if __name__ == "__main__":
    main()
