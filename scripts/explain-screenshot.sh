#!/usr/bin/env bash
# Regenerates the README's picture of a real report: `lstmconv explain` on the committed PyTorch fixture
# pytorch/lstm_2layer (its own model.pt, imported in memory), rendered and captured by headless Chromium.
# Output: Fixtures/explain/pytorch_lstm_2layer.png (and the report next to it, for opening in a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "explain-screenshot: chromium is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
swift build --product lstmconv
fixture=Fixtures/pytorch/lstm_2layer
out=Fixtures/explain
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
.build/debug/lstmconv explain "$fixture/model.pt" --input "$fixture/input.npy" --engine reference \
    -o "$out/pytorch_lstm_2layer.html" --force
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$profile" \
    --window-size=1280,1900 --screenshot="$PWD/$out/pytorch_lstm_2layer.png" "file://$PWD/$out/pytorch_lstm_2layer.html" 2>/dev/null
echo "wrote $out/pytorch_lstm_2layer.png and $out/pytorch_lstm_2layer.html"
