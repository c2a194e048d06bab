"""Builds the conversion benchmark model with the real frameworks (run in /work/venv, never in CI).

A 4-layer LSTM(2048) over 2048 input features, float32: 4 × (2 × 2048 × 8192 + bias) ≈ 537 MB of weights.
Writes, into OUT (default /tmp/lstmconv-conv-bench):
  model.h5           Keras 3 legacy HDF5 (`model.save("model.h5")`)
  model.keras        Keras 3 archive
  model.pt           torch.save(nn.LSTM(...).state_dict())
  model.safetensors  safetensors.torch.save_file of the same state_dict
Pinned: keras 3.15.1, torch 2.15, safetensors, h5py, numpy 2.4.6 (see Fixtures/fixture-frameworks.txt).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LAYERS, HIDDEN, FEATURES = 4, 2048, 2048


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/lstmconv-conv-bench"
    os.makedirs(out, exist_ok=True)
    import numpy as np

    rng = np.random.default_rng(7)

    import torch
    from safetensors.torch import save_file

    torch.manual_seed(7)
    lstm = torch.nn.LSTM(FEATURES, HIDDEN, num_layers=LAYERS, batch_first=True)
    state = {k: v.contiguous() for k, v in lstm.state_dict().items()}
    torch.save(state, os.path.join(out, "model.pt"))
    save_file(state, os.path.join(out, "model.safetensors"))
    del lstm, state

    import keras

    model = keras.Sequential([keras.Input((None, FEATURES))]
                             + [keras.layers.LSTM(HIDDEN, return_sequences=i < LAYERS - 1) for i in range(LAYERS)])
    model.set_weights([rng.uniform(-0.05, 0.05, w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(os.path.join(out, "model.h5"))
    model.save(os.path.join(out, "model.keras"))
    for name in sorted(os.listdir(out)):
        print(name, os.path.getsize(os.path.join(out, name)))


if __name__ == "__main__":
    main()
