#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the repository's fixtures (standard library only).

Usage: seeds.py REPO_ROOT OUT_DIR   — writes OUT_DIR/<Target>/<name> files; existing files are kept.
"""
import hashlib
import pathlib
import sys
import zipfile

root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
MAX = 1 << 20  # keep seeds under libFuzzer's -max_len


def put(target, data, origin):
    if not data or len(data) > MAX:
        return
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (hashlib.sha1(data).hexdigest()[:16] + "-" + origin.replace("/", "_")[-60:])).write_bytes(data)


def files(*patterns):
    for pattern in patterns:
        yield from sorted(root.glob(pattern))


for path in files("Fixtures/golden/*.lstmw", "Fixtures/**/*.lstmw"):
    put("FuzzBinary", path.read_bytes(), path.name)
for path in files("Fixtures/**/*.safetensors"):
    put("FuzzSafetensors", path.read_bytes(), str(path.relative_to(root)))
for path in files("Fixtures/**/*.pt", "Fixtures/**/*.pth"):
    data = path.read_bytes()
    rel = str(path.relative_to(root))
    if data[:4] == b"PK\x03\x04":
        put("FuzzTorchZip", data, rel)
        try:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.endswith("data.pkl"):
                        put("FuzzPickle", archive.read(name), rel + "-data.pkl")
        except zipfile.BadZipFile:
            pass
    else:
        put("FuzzPickle", data, rel)  # legacy streams and bare pickles
for path in files("Fixtures/**/*.npy", "Tests/Fixtures/**/*.npy"):
    put("FuzzNPY", path.read_bytes(), str(path.relative_to(root)))
for path in files("Fixtures/**/*.npz", "Tests/Fixtures/**/*.npz"):
    data = path.read_bytes()
    put("FuzzNPZ", data, str(path.relative_to(root)))
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            put("FuzzNPY", archive.read(name), str(path.relative_to(root)) + "-" + name)
for path in files("Fixtures/keras/*/model.json", "Fixtures/keras/**/*config*.json"):
    put("FuzzKerasConfig", path.read_bytes(), str(path.relative_to(root)))
for path in files("Fixtures/keras/**/*.keras"):
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" in archive.namelist():
                put("FuzzKerasConfig", archive.read("config.json"), str(path.relative_to(root)) + "-config.json")
    except zipfile.BadZipFile:
        pass
for path in files("Fixtures/hdf5/golden/*.h5", "Fixtures/hdf5/malformed/*.h5", "Fixtures/hdf5/h5py/*.h5"):
    put("FuzzHDF5", path.read_bytes(), str(path.relative_to(root)))
for path in files("Fixtures/keras/**/*.h5", "Fixtures/keras/**/*.keras"):
    put("FuzzKerasFile", path.read_bytes(), str(path.relative_to(root)))
# FuzzKerasGraph reads bytes as a graph description: a straight chain and a few shapes to start from.
put("FuzzKerasGraph", bytes([1]) + bytes([0x60, 0, 0x61, 0, 0x63, 0, 0x61, 0]) + bytes([3]), "chain-k3")
put("FuzzKerasGraph", bytes([0]) + bytes([0x60, 0, 0x62, 0, 0x23, 0, 0x61, 1]) + bytes([3]), "chain-k2-cycle")
put("FuzzKerasGraph", bytes([1]) + bytes([0x60, 0, 0x31, 0, 0x43, 0, 0x56, 0]) + bytes([2]), "shared-two-inputs")
