#!/usr/bin/env bash
# Installs what lstmconv needs on Debian/Ubuntu when it is missing: libhdf5, zlib, pkg-config and
# Chromium (apt; the explain report is rendered in headless Chromium by the tests) and h5py + numpy for the
# interop tests (pip). Safe to run repeatedly.
set -euo pipefail

packages=(libhdf5-dev zlib1g-dev pkg-config chromium)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    echo "bootstrap: installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

if ! python3 -c "import h5py, numpy" >/dev/null 2>&1; then
    echo "bootstrap: installing h5py and numpy with pip" >&2
    python3 -m pip install --quiet "h5py==3.14.0" "numpy==2.4.6" ||
        python3 -m pip install --quiet --break-system-packages "h5py==3.14.0" "numpy==2.4.6"
fi
