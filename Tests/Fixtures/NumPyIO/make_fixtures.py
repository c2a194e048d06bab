#!/usr/bin/env python3
"""Writes the NumPyIO test files with real numpy. Run by hand (it writes beside itself); the outputs are committed.

    python3 make_fixtures.py      # numpy 2.4.6 wrote the committed files

Every array's values follow values(n) = (arange(n) * 0.75 - 2.5), cast to the dtype, so the Swift tests can
rebuild them without reading anything numpy computed.
"""
import io
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def values(shape, dtype):
    n = int(np.prod(shape)) if len(shape) else 1
    data = np.arange(n, dtype=np.float64) * 0.75 - 2.5
    if np.dtype(dtype).kind == "i":
        data = np.arange(n, dtype=np.int64) * 7 - 11
    return data.astype(dtype).reshape(shape)


def save(name, array, version=None, allow_pickle=False):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, array, allow_pickle=allow_pickle)
        else:
            np.lib.format.write_array(f, array, version=version, allow_pickle=allow_pickle)


# Supported dtypes, both byte orders, several ranks.
for code in ["f4", "f8", "i4", "i8"]:
    for order, tag in [("<", "le"), (">", "be")]:
        save(f"{code}_{tag}.npy", values((2, 3), order + code))
save("f4_scalar.npy", values((), "<f4"))
save("f8_vector.npy", values((5,), "<f8"))
save("f4_rank3.npy", values((2, 3, 4), "<f4"))
save("f4_empty.npy", values((0, 3), "<f4"))
save("f8_v2.npy", values((2, 3), "<f8"), version=(2, 0))
save("f8_v3.npy", values((2, 3), "<f8"), version=(3, 0))
# A 1-D array is C-contiguous too; numpy writes fortran_order False for it. A 2-D Fortran array is refused.
save("f4_fortran.npy", np.asfortranarray(values((2, 3), "<f4")))
# Unsupported dtypes.
save("f2.npy", values((2, 3), "<f2"))
save("bool.npy", np.array([True, False]))
save("complex.npy", np.array([1 + 2j], dtype="<c8"))
save("unicode.npy", np.array(["ab", "c"]))
save("structured.npy", np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]))
save("object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
# Data shorter than the shape: a valid file with its last 5 bytes cut.
buffer = io.BytesIO()
np.save(buffer, values((2, 3), "<f4"))
with open(os.path.join(HERE, "f4_truncated.npy"), "wb") as f:
    f.write(buffer.getvalue()[:-5])
# Archives, stored and deflated.
np.savez(os.path.join(HERE, "arrays.npz"), first=values((2, 3), "<f4"), second=values((4,), "<i8"))
np.savez_compressed(os.path.join(HERE, "arrays_compressed.npz"), first=values((2, 3), "<f4"), second=values((4,), "<i8"))
