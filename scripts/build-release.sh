#!/usr/bin/env bash
# Builds the release `lstmconv` as it is shipped and benchmarked, and prints the binary's path on stdout.
#   scripts/build-release.sh [extra swift build arguments…]
# On Linux the Swift runtime and Foundation are linked statically (`--static-swift-stdlib`, linked by the
# toolchain's lld): the dynamic loader then resolves ~40 shared objects instead of ~55 at every start, which
# takes ≈ 5 ms off each `lstmconv` process (Benchmarks/RESULTS.md, "Start-up"). Swift Package consumers of the
# LSTMConv library are not affected: this is a build of the command only.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --product lstmconv)
if [[ "$(uname -s)" == Linux ]]; then
    flags+=(--static-swift-stdlib -Xswiftc -use-ld=lld)
fi
swift build "${flags[@]}" "$@" >&2
echo "$(swift build "${flags[@]}" "$@" --show-bin-path)/lstmconv"
