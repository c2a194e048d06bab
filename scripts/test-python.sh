#!/usr/bin/env bash
# Installs the Python reader (python/, package `lstmw`) with pip and runs its pytest suite against the fixtures and
# the lstmconv binary built by scripts/test.sh (`$LSTMCONV`, default .build/debug/lstmconv).
set -euo pipefail
cd "$(dirname "$0")/.."
pip_install() {
    python3 -m pip install --quiet "$@" || python3 -m pip install --quiet --break-system-packages "$@"
}
pip_install pytest "jsonschema==4.26.0"
pip_install --force-reinstall --no-deps ./python
rm -rf python/build python/*.egg-info
export LSTMCONV="${LSTMCONV:-$PWD/.build/debug/lstmconv}"
cd python
exec python3 -m pytest -q -p no:cacheprovider tests "$@"
