#!/usr/bin/env bash
# Runs every test of lstmconv (Swift Testing, including the h5py interop and CLI end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build --product lstmconv
swift test --no-parallel "$@"
scripts/docs.sh
