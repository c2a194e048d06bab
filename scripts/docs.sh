#!/usr/bin/env bash
# Builds the DocC documentation of every library module and fails on any documentation warning
# (broken symbol links, undocumented or misnamed parameters). Output: .build/plugins/Swift-DocC/outputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(LSTMConv LSTMErrors FileSignatures LSTMModel LSTMBinary LSTMHDF5 LSTMCheckpoint LSTMLayouts
         LSTMImportKeras LSTMImportPyTorch LSTMImportONNX LSTMImport LSTMExport LSTMEngine NumPyIO LSTMExplain)
args=()
for target in "${targets[@]}"; do args+=(--target "$target"); done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift package generate-documentation "${args[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }
# SwiftPM's own note about a file inside the ZIPFoundation dependency is not a documentation warning.
if grep "warning:" "$log" | grep -v "'zipfoundation': found 1 file(s) which are unhandled" | grep -q .; then
    grep -A4 "warning:" "$log" | grep -v zipfoundation >&2
    echo "docs: documentation warnings (above)" >&2
    exit 1
fi
echo "docs: ${#targets[@]} modules documented, no warnings"
