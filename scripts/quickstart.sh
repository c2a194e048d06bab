#!/usr/bin/env bash
# Quick start: install what is missing, build lstmconv, import a bundled real Keras model and prove the
# conversion by a forward pass against the output Keras itself recorded (model.predict).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --product lstmconv
lstmconv=.build/debug/lstmconv
case=Fixtures/keras/k3_text_embedding_lstm_softmax   # Embedding → LSTM → Dense(softmax), saved by Keras 3.15.1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== lstmconv import $case/model.h5"
"$lstmconv" import "$case/model.h5" -o "$out/model.lstmw"
echo
echo "== lstmconv inspect (first lines)"
"$lstmconv" inspect "$out/model.lstmw" | head -n 8
echo
for engine in fast reference; do
    echo "== lstmconv validate --engine $engine (expected output recorded by Keras)"
    "$lstmconv" validate "$out/model.lstmw" --input "$case/input.npy" --expected "$case/expected.npy" --engine "$engine"
    echo
done
echo "quick start OK"
