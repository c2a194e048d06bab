"""The reference Python path of the conversion benchmark: h5py → per-gate NumPy arrays → safetensors.

Reads a Keras 3 legacy `.h5` (model_weights/<layer>/<layer>/lstm_cell/{kernel,recurrent_kernel,bias}), cuts every
LSTM layer's fused i,f,c,o weights into per-gate document tensors ([H, H + I], recurrent columns first, like
lstmconv's W_n, W_i, W_f, W_v) and biases, and writes them with safetensors.numpy.save_file.
Usage: python_path.py model.h5 out.safetensors
"""
import sys

import h5py
import numpy as np
from safetensors.numpy import save_file


def main(source, target):
    tensors = {}
    with h5py.File(source, "r") as f:
        weights = f["model_weights"]
        layers = [name for name in weights.attrs["layer_names"]]
        index = 0
        for name in layers:
            name = name.decode() if isinstance(name, bytes) else name
            group = weights[name]
            found = {}
            group.visititems(lambda path, item: found.__setitem__(path.split("/")[-1].split(":")[0], item)
                             if isinstance(item, h5py.Dataset) else None)
            if "recurrent_kernel" not in found:
                continue
            kernel = found["kernel"][()]
            recurrent = found["recurrent_kernel"][()]
            bias = found["bias"][()]
            h = recurrent.shape[0]
            for gate, doc in enumerate(["W_i", "W_f", "W_n", "W_v"]):
                cols = slice(gate * h, (gate + 1) * h)
                tensors[f"layer_{index}/forward/{doc}"] = np.ascontiguousarray(
                    np.concatenate([recurrent[:, cols].T, kernel[:, cols].T], axis=1))
                tensors[f"layer_{index}/forward/b_{doc[2:]}"] = np.ascontiguousarray(bias[cols])
            index += 1
    save_file(tensors, target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
