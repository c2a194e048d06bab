"""Hostile and bad files for the PyTorch / safetensors importer (issue 6), in Fixtures/pytorch/bad/.

Run after torch_cases:  python -m fixturegen.torch_bad

The hostile pickles are assembled opcode by opcode below and written into a genuine torch zip layout with
torch's own archive writer (torch._C.PyTorchFileWriter). They are NEVER unpickled here. Their payloads are
harmless if ever executed by mistake: they only `touch /tmp/lstmconv_pwned_<name>`, so a test can also
assert that no such file appears.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from fixturegen.common import FIXTURES, fresh_dir, rng_for, uniform, write_json

BAD = FIXTURES / "pytorch" / "bad"
GOOD = FIXTURES / "pytorch" / "lstm_1layer"

entries = []


def note(name, why, **extra):
    entries.append({"file": name, "expect": why, **extra})


# ---------------------------------------------------------------------------------------------------------
# A tiny pickle assembler (protocol 2, plus STACK_GLOBAL from protocol 4)


class Pickle:
    def __init__(self, protocol=2):
        self.out = bytearray(b"\x80" + bytes([protocol]))

    def op(self, raw):
        self.out += raw
        return self

    def global_(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def inst(self, module, name):
        return self.op(b"i" + module.encode() + b"\n" + name.encode() + b"\n")

    def stack_global(self):
        return self.op(b"\x93")

    def string(self, text):
        data = text.encode()
        return self.op(b"X" + struct.pack("<I", len(data)) + data)

    def int(self, value):
        if 0 <= value < 256:
            return self.op(b"K" + bytes([value]))
        return self.op(b"J" + struct.pack("<i", value))

    def mark(self):
        return self.op(b"(")

    def tuple(self):
        return self.op(b"t")

    def tuple1(self):
        return self.op(b"\x85")

    def tuple2(self):
        return self.op(b"\x86")

    def empty_tuple(self):
        return self.op(b")")

    def empty_dict(self):
        return self.op(b"}")

    def empty_list(self):
        return self.op(b"]")

    def appends(self):
        return self.op(b"e")

    def reduce(self):
        return self.op(b"R")

    def setitem(self):
        return self.op(b"s")

    def setitems(self):
        return self.op(b"u")

    def binpersid(self):
        return self.op(b"Q")

    def false(self):
        return self.op(b"\x89")

    def stop(self):
        return bytes(self.op(b".").out)

    # Building blocks of a real state_dict pickle.
    def ordered_dict(self):
        return self.global_("collections", "OrderedDict").empty_tuple().reduce()

    def tensor(self, key, numel, shape, stride, storage="FloatStorage"):
        """torch._utils._rebuild_tensor_v2((storage pid), 0, size, stride, False, OrderedDict())."""
        self.global_("torch._utils", "_rebuild_tensor_v2").mark()
        self.mark().string("storage").global_("torch", storage).string(key).string("cpu").int(numel).tuple().binpersid()
        self.int(0)
        self.mark()
        for d in shape:
            self.int(d)
        self.tuple()
        self.mark()
        for s in stride:
            self.int(s)
        self.tuple()
        self.false()
        self.ordered_dict()
        return self.tuple().reduce()


def torch_zip(path, pickle_bytes, storages):
    """Writes a torch.save-style archive (same writer torch.save uses) with our data.pkl and raw storages."""
    writer = torch._C.PyTorchFileWriter(str(path))
    writer.write_record("data.pkl", pickle_bytes, len(pickle_bytes))
    writer.write_record(".format_version", b"1", 1)
    writer.write_record(".storage_alignment", b"64", 2)
    writer.write_record("byteorder", b"little", 6)
    for key, data in storages.items():
        writer.write_record(f"data/{key}", data, len(data))
    writer.write_end_of_file()


def legit_start(p, weights):
    """Opens an OrderedDict with one real tensor entry, so the payload sits inside a plausible state_dict."""
    p.ordered_dict().string("weight_ih_l0").tensor("0", weights.size, weights.shape, (weights.shape[1], 1))
    p.setitem()
    return p


def payload_path(name):
    return f"/tmp/lstmconv_pwned_{name}"


# ---------------------------------------------------------------------------------------------------------


def hostile_pickles(weights):
    storages = {"0": weights.astype("<f4").tobytes()}

    # os.system via GLOBAL + REDUCE, inside a state_dict.
    p = legit_start(Pickle(), weights).string("bias_ih_l0")
    p.global_("os", "system").string(f"touch {payload_path('os_system')}").tuple1().reduce().setitem()
    torch_zip(BAD / "os_system.pt", p.stop(), storages)
    note("os_system.pt", "GLOBAL os.system + REDUCE inside an OrderedDict state_dict: refused naming os.system; "
         "nothing executed", global_="os.system", payload=f"touch {payload_path('os_system')}")

    # builtins.eval
    p = legit_start(Pickle(), weights).string("bias_ih_l0")
    p.global_("builtins", "eval").string(f"__import__('os').system('touch {payload_path('eval')}')").tuple1()
    p.reduce().setitem()
    torch_zip(BAD / "builtins_eval.pt", p.stop(), storages)
    note("builtins_eval.pt", "GLOBAL builtins.eval + REDUCE: refused naming builtins.eval",
         global_="builtins.eval", payload=f"touch {payload_path('eval')}")

    # subprocess.Popen with a list argument
    p = legit_start(Pickle(), weights).string("bias_ih_l0")
    p.global_("subprocess", "Popen").empty_list().mark().string("touch").string(payload_path("popen")).appends()
    p.tuple1().reduce().setitem()
    torch_zip(BAD / "subprocess_popen.pt", p.stop(), storages)
    note("subprocess_popen.pt", "GLOBAL subprocess.Popen + REDUCE (['touch', ...],): refused naming subprocess.Popen",
         global_="subprocess.Popen", payload=f"touch {payload_path('popen')}")

    # __reduce__ trick: REDUCE of a callable obtained at load time (getattr(__import__('os'), 'system')),
    # exactly what pickle writes for an object whose __reduce__ returns such a chain.
    p = legit_start(Pickle(), weights).string("bias_ih_l0")
    p.global_("builtins", "getattr")
    p.global_("builtins", "__import__").string("os").tuple1().reduce()
    p.string("system").tuple2().reduce()
    p.string(f"touch {payload_path('reduce_trick')}").tuple1().reduce().setitem()
    torch_zip(BAD / "reduce_getattr_trick.pt", p.stop(), storages)
    note("reduce_getattr_trick.pt", "__reduce__ trick: GLOBAL builtins.getattr / builtins.__import__ and a REDUCE of "
         "the callable they return (os.system): refused at the first non-allowed GLOBAL (builtins.getattr)",
         global_="builtins.getattr", payload=f"touch {payload_path('reduce_trick')}")

    # INST opcode (calls os.system without REDUCE).
    p = legit_start(Pickle(), weights).string("bias_ih_l0")
    p.mark().string(f"touch {payload_path('inst')}").inst("os", "system").setitem()
    torch_zip(BAD / "inst_os_system.pt", p.stop(), storages)
    note("inst_os_system.pt", "INST opcode 'i' os.system (a call without GLOBAL/REDUCE): refused (unsupported opcode "
         "or non-allowed class os.system)", global_="os.system", payload=f"touch {payload_path('inst')}")

    # STACK_GLOBAL (protocol 4) builtins.exec
    p = Pickle(protocol=4)
    legit_start(p, weights).string("bias_ih_l0")
    p.string("builtins").string("exec").stack_global()
    p.string(f"import os; os.system('touch {payload_path('stack_global')}')").tuple1().reduce().setitem()
    torch_zip(BAD / "stack_global_exec.pt", p.stop(), storages)
    note("stack_global_exec.pt", "protocol-4 STACK_GLOBAL builtins.exec + REDUCE: refused naming builtins.exec",
         global_="builtins.exec", payload=f"touch {payload_path('stack_global')}")

    # An allowed-looking tensor whose storage class is not a torch storage.
    p = Pickle().ordered_dict().string("weight_ih_l0")
    p.global_("torch._utils", "_rebuild_tensor_v2").mark()
    p.mark().string("storage").global_("os", "system").string("0").string("cpu").int(weights.size).tuple().binpersid()
    p.int(0).mark().int(weights.shape[0]).int(weights.shape[1]).tuple().mark().int(weights.shape[1]).int(1).tuple()
    p.false().ordered_dict().tuple().reduce().setitem()
    torch_zip(BAD / "storage_class_os_system.pt", p.stop(), storages)
    note("storage_class_os_system.pt", "a tensor whose persistent-id storage type is GLOBAL os.system instead of a "
         "torch.*Storage class: refused naming os.system", global_="os.system")


def zip_copy(src, dst, replace=None, compress=None):
    """Rewrites a zip entry by entry (Python zipfile), optionally replacing or deflating members."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for suffix, new in replace.items():
                if info.filename.endswith(suffix):
                    data = new(data) if callable(new) else new
            method = zipfile.ZIP_DEFLATED if compress and any(info.filename.endswith(s) for s in compress) else zipfile.ZIP_STORED
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = method
            zout.writestr(zi, data)


def archive_bad(state_dict):
    good_pt = GOOD / "model.pt"
    storage_key = "data/0"

    # Zip bomb: the first storage (320 bytes needed) inflates to 64 MiB of zeros from ~64 KB.
    bomb = bytes(64 * 1024 * 1024)
    zip_copy(good_pt, BAD / "zip_bomb.pt", replace={storage_key: bomb}, compress=[storage_key])
    note("zip_bomb.pt", "torch zip whose data/0 entry is deflated: ~64 KB on disk, 64 MiB (67108864 bytes) when "
         "inflated, while the pickle needs 320 bytes: refused by a size cap / ratio check, never fully inflated",
         entry="data/0", inflated_bytes=len(bomb))

    # Declared-size lie: central directory and local header claim ~4 GiB for data/0, the entry holds 320 bytes.
    zip_copy(good_pt, BAD / "zip_declared_size_lie.pt")
    raw = bytearray((BAD / "zip_declared_size_lie.pt").read_bytes())
    name = None
    with zipfile.ZipFile(BAD / "zip_declared_size_lie.pt") as z:
        for info in z.infolist():
            if info.filename.endswith(storage_key):
                name = info.filename.encode()
    patched = 0
    for sig, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while True:
            at = raw.find(sig, start)
            if at < 0:
                break
            name_len_at = 26 if sig == b"PK\x03\x04" else 28
            name_start = at + (30 if sig == b"PK\x03\x04" else 46)
            n = struct.unpack_from("<H", raw, at + name_len_at)[0]
            if bytes(raw[name_start:name_start + n]) == name:
                struct.pack_into("<I", raw, at + size_offset, 0xFFFFFFF0)
                patched += 1
            start = at + 4
    assert patched == 2
    (BAD / "zip_declared_size_lie.pt").write_bytes(bytes(raw))
    note("zip_declared_size_lie.pt", "torch zip (stored) whose local and central headers declare an uncompressed size "
         "of 4294967280 bytes for data/0, which holds 320: refused (size mismatch / over cap), no 4 GiB allocation",
         entry="data/0")

    # Truncated zip.
    data = good_pt.read_bytes()
    (BAD / "truncated.pt").write_bytes(data[: len(data) // 2])
    note("truncated.pt", f"first {len(data) // 2} of {len(data)} bytes of pytorch/lstm_1layer/model.pt (no central "
         "directory)")

    # Storage shorter than the tensor needs (zip itself is valid, CRC matches the short data).
    zip_copy(good_pt, BAD / "short_storage.pt", replace={storage_key: lambda d: d[: len(d) // 2]})
    note("short_storage.pt", "valid zip; data/0 holds 160 bytes but the pickle's weight_ih_l0 (20×4 float32) needs "
         "320: refused naming the tensor", tensor="weight_ih_l0", entry="data/0", expected_bytes=320, found_bytes=160)

    # A missing storage record.
    with zipfile.ZipFile(good_pt) as zin, zipfile.ZipFile(BAD / "missing_storage.pt", "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith("data/3"):
                zout.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), zin.read(info.filename))
    note("missing_storage.pt", "valid zip without the data/3 record the pickle references (bias_hh_l0): refused "
         "naming the storage", entry="data/3")

    # Whole pickled module.
    rng = rng_for("bad/whole_module")
    module = nn.LSTM(4, 5, batch_first=True)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(uniform(rng, tuple(p.shape))))
    torch.save(module, BAD / "whole_module.pt")
    note("whole_module.pt", "torch.save(nn.LSTM(...)): a whole pickled module (GLOBAL torch.nn.modules.rnn.LSTM): "
         "refused with advice to save model.state_dict()", global_="torch.nn.modules.rnn.LSTM")

    # Legacy non-zip serialization of lstm_1layer's state_dict.
    torch.save(state_dict, BAD / "legacy_nonzip.pt", _use_new_zipfile_serialization=False)
    note("legacy_nonzip.pt", "legacy (PyTorch < 1.6, non-zip) torch.save of pytorch/lstm_1layer's state_dict: "
         "supported (then it must reproduce pytorch/lstm_1layer/expected.npy on its input.npy) or refused with a "
         "clear message", same_weights_as="pytorch/lstm_1layer")

    # No recurrent weights.
    rng = rng_for("bad/no_recurrent")
    head = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3))
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.from_numpy(uniform(rng, tuple(p.shape))))
    torch.save(head.state_dict(), BAD / "no_recurrent.pt")
    save_file(head.state_dict(), BAD / "no_recurrent.safetensors")
    note("no_recurrent.pt", "state_dict of Linear + LayerNorm (keys 0.weight, 0.bias, 1.weight, 1.bias): no "
         "recurrent weights; the error lists the keys found")
    note("no_recurrent.safetensors", "the same as no_recurrent.pt, as safetensors")

    # Two recurrent modules: refused without --module, listing enc and dec.
    rng = rng_for("bad/two_modules")
    two = nn.ModuleDict({"enc": nn.LSTM(4, 5, batch_first=True), "dec": nn.GRU(5, 3, batch_first=True)})
    with torch.no_grad():
        for p in two.parameters():
            p.copy_(torch.from_numpy(uniform(rng, tuple(p.shape))))
    torch.save(two.state_dict(), BAD / "two_modules.pt")
    note("two_modules.pt", "two recurrent modules (enc: LSTM, dec: GRU) and no --module: refused, listing 'enc' and "
         "'dec' (with --module enc it imports)", modules=["enc", "dec"])

    # Inconsistent shapes inside one module.
    sd = {k: v.clone() for k, v in state_dict.items()}
    sd["bias_hh_l0"] = sd["bias_hh_l0"][:15].clone()
    save_file(sd, BAD / "inconsistent_bias.safetensors")
    note("inconsistent_bias.safetensors", "nn.LSTM tensors with weight_ih_l0 (20, 4) → 4H=20 but bias_hh_l0 (15,): "
         "inconsistent, refused naming bias_hh_l0", tensor="bias_hh_l0", expected_shape=[20], found_shape=[15])


def safetensors_file(tensors, header_override=None, header_len_override=None, trailing=b"", dtype_override=None):
    """Writes safetensors by hand: tensors = [(name, array)], contiguous offsets unless overridden."""
    header, buf, offset = {}, bytearray(), 0
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        buf += data
        offset += len(data)
    if dtype_override:
        header[dtype_override[0]]["dtype"] = dtype_override[1]
    if header_override:
        header_override(header)
    text = header if isinstance(header, (bytes, str)) else json.dumps(header, separators=(",", ":"))
    raw = text.encode() if isinstance(text, str) else text
    raw += b" " * ((8 - len(raw) % 8) % 8)
    n = len(raw) if header_len_override is None else header_len_override
    return struct.pack("<Q", n) + raw + bytes(buf) + trailing


def safetensors_bad(state_dict):
    tensors = [(k, v.numpy()) for k, v in state_dict.items()]  # weight_ih (320 B), weight_hh (400), biases (80, 80)

    def write(name, data, why, **extra):
        (BAD / name).write_bytes(data)
        note(name, why, **extra)

    def overlap(h):
        h["weight_hh_l0"]["data_offsets"] = [160, 560]  # overlaps weight_ih_l0 [0, 320]
    write("st_overlapping_offsets.safetensors", safetensors_file(tensors, overlap),
          "weight_hh_l0 data_offsets [160, 560] overlap weight_ih_l0 [0, 320] (and leave a hole at the end)",
          tensor="weight_hh_l0")

    def gap(h):
        for k in ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            h[k]["data_offsets"] = [h[k]["data_offsets"][0] + 16, h[k]["data_offsets"][1] + 16]
    write("st_gap_between_tensors.safetensors", safetensors_file(tensors, gap, trailing=bytes(16)),
          "a 16-byte hole between weight_ih_l0 [0, 320] and weight_hh_l0 [336, 736]", tensor="weight_hh_l0")

    def oob(h):
        h["bias_hh_l0"]["data_offsets"] = [800, 960]
        h["bias_hh_l0"]["shape"] = [40]
    write("st_offset_out_of_bounds.safetensors", safetensors_file(tensors, oob),
          "bias_hh_l0 data_offsets [800, 960] end past the 880-byte data buffer", tensor="bias_hh_l0")

    def length(h):
        h["bias_ih_l0"]["shape"] = [21]
    write("st_length_mismatch.safetensors", safetensors_file(tensors, length),
          "bias_ih_l0 shape [21] F32 needs 84 bytes but its offsets cover 80", tensor="bias_ih_l0")

    good = safetensors_file(tensors)
    n = struct.unpack_from("<Q", good)[0]
    write("st_header_past_eof.safetensors", struct.pack("<Q", len(good) + 1000) + good[8:],
          f"header length {len(good) + 1000} runs past the end of the {len(good)}-byte file")
    write("st_header_len_huge.safetensors", struct.pack("<Q", 1 << 40) + good[8:],
          "header length 2^40 (1099511627776): above any sane cap (reference cap 100000000)")
    write("st_header_len_negative.safetensors", struct.pack("<q", -8) + good[8:],
          "header length 0xFFFFFFFFFFFFFFF8 (-8 as a signed int64)")
    write("st_unknown_dtype.safetensors", safetensors_file(tensors, dtype_override=("weight_hh_l0", "F12")),
          "weight_hh_l0 dtype 'F12' is not a safetensors dtype", tensor="weight_hh_l0", dtype="F12")
    write("st_unsupported_dtype_i32.safetensors", safetensors_file(tensors, dtype_override=("bias_ih_l0", "I32")),
          "bias_ih_l0 dtype 'I32' is a valid safetensors dtype but not a float the importer accepts (F32, F16, BF16, "
          "F64)", tensor="bias_ih_l0", dtype="I32")
    write("st_trailing_bytes.safetensors", good + b"POLYGLOT",
          "8 bytes after the last tensor's end (no trailing bytes allowed)")
    write("st_header_not_json.safetensors",
          struct.pack("<Q", 16) + b"{not json at all" + good[8 + n:],
          "header is not JSON")
    write("st_too_small.safetensors", b"\x08\x00\x00\x00", "4-byte file: shorter than the 8-byte header length")
    body = json.dumps({k: {"dtype": "F32", "shape": list(a.shape), "data_offsets": [0, 0]} for k, a in tensors[:1]},
                      separators=(",", ":"))
    dup = body[:-1] + "," + body[1:]  # the same key twice
    dup_raw = dup.encode() + b" " * ((8 - len(dup) % 8) % 8)
    w = np.ascontiguousarray(tensors[0][1], "<f4").tobytes()
    dup_header = json.loads(dup)  # (Python keeps the last)
    assert dup_header
    dup_fixed = dup_raw.replace(b'"data_offsets":[0,0]', b'"data_offsets":[0,320]')
    write("st_duplicate_key.safetensors", struct.pack("<Q", len(dup_fixed)) + dup_fixed + w,
          "the header names weight_ih_l0 twice: the format README disallows duplicate keys (the reference reader "
          "accepts it, keeping one), so refuse it", tensor="weight_ih_l0")


HOSTILE = {"os_system.pt", "builtins_eval.pt", "subprocess_popen.pt", "reduce_getattr_trick.pt", "inst_os_system.pt",
           "stack_global_exec.pt", "storage_class_os_system.pt"}


def record_reference_behaviour():
    """Adds what the reference readers say to each entry: safetensors' own Rust reader for .safetensors, and
    torch.load(weights_only=True) for .pt files whose pickle torch itself wrote. The hand-made hostile pickles
    are only disassembled with pickletools (which parses opcodes and never executes anything)."""
    import pickletools

    from safetensors import safe_open

    for e in entries:
        path = BAD / e["file"]
        if e["file"].endswith(".safetensors"):
            try:
                with safe_open(str(path), "np") as f:
                    for k in f.keys():
                        f.get_tensor(k)
                e["reference_reader"] = "safetensors 0.8.0 safe_open: accepted"
            except Exception as error:  # noqa: BLE001
                e["reference_reader"] = f"safetensors 0.8.0 safe_open: {type(error).__name__}: {error}"[:200]
        elif e["file"] in HOSTILE:
            with zipfile.ZipFile(path) as z:
                name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
                data = z.read(name)
            pickletools.dis(data, out=io.StringIO())  # well-formed: parses to STOP
            ops = list(pickletools.genops(data))
            e["pickle_opcodes"] = sorted({op.name for op, _, _ in ops})
            e["pickle_globals"] = [arg.replace(" ", ".") for op, arg, _ in ops if op.name in ("GLOBAL", "INST")]
            e["reference_reader"] = "not loaded by the generator (hostile); pickletools parses it without executing"
        elif e["file"].endswith(".pt"):
            try:
                torch.load(path, weights_only=True)
                e["reference_reader"] = f"torch {torch.__version__} torch.load(weights_only=True): accepted"
            except Exception as error:  # noqa: BLE001
                first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                e["reference_reader"] = f"torch.load(weights_only=True): {type(error).__name__}: {first}"[:200]


def main():
    fresh_dir(BAD)
    state_dict = torch.load(GOOD / "model.pt", weights_only=True)
    weights = state_dict["weight_ih_l0"].numpy()
    hostile_pickles(weights)
    archive_bad(state_dict)
    safetensors_bad(state_dict)
    record_reference_behaviour()

    lines = ["# Hostile and bad inputs for the PyTorch / safetensors importer", "",
             "Each file must be refused with a specific error naming the file (and the global, tensor or entry), "
             "exit non-zero, leave no output file, never crash and never execute anything. The hostile pickles were "
             "assembled opcode by opcode (fixturegen/torch_bad.py) inside torch's own archive layout and never "
             "unpickled; if one ever ran, it would only `touch /tmp/lstmconv_pwned_<name>`. Details in `bad.json`.",
             ""]
    for e in entries:
        lines.append(f"- `{e['file']}` — {e['expect']}")
    (BAD / "README.md").write_text("\n".join(lines) + "\n")
    write_json(BAD / "bad.json", {"framework": "pytorch", "torch_version": torch.__version__,
                                  "files": [{("global" if k == "global_" else k): v for k, v in e.items()}
                                            for e in entries]})
    print(f"  pytorch/bad: {len(entries)} files")


if __name__ == "__main__":
    main()
