#!/usr/bin/env bash
# Builds the libFuzzer targets and fuzzes each for N seconds (not part of CI).
#   scripts/fuzz/run.sh [SECONDS] [TARGET...]      default: 60 seconds, every target
# Corpora live in scripts/fuzz/.corpus/<Target> (seeded from Fixtures/, kept between runs, not in git); crashes,
# timeouts and OOMs are written to scripts/fuzz/.artifacts/<Target>/ (fork mode: a campaign goes on after a finding).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
all=(FuzzBinary FuzzSafetensors FuzzPickle FuzzTorchZip FuzzNPY FuzzNPZ FuzzKerasConfig FuzzKerasGraph FuzzKerasFile FuzzHDF5)
[ "$#" -gt 0 ] && targets=("$@") || targets=("${all[@]}")

flags=(-c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing)
python3 seeds.py ../.. .corpus
status=0
for target in "${targets[@]}"; do
    # One product at a time: building everything would also link the parent's tools with the fuzzer runtime.
    swift build "${flags[@]}" --product "$target" 2>&1 | grep -v 'warning' | grep -E 'error|Compiling|complete' | tail -3
    bin="$(swift build "${flags[@]}" --show-bin-path)/$target"
    mkdir -p ".corpus/$target" ".artifacts/$target"
    echo "== $target: ${seconds}s"
    if ! ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" "$bin" ".corpus/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -detect_leaks=0 -max_len=1048576 -len_control=100 -timeout=10 -print_final_stats=1 \
        -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -artifact_prefix=".artifacts/$target/" 2> ".artifacts/$target/log.txt"; then
        echo "!! $target failed; see scripts/fuzz/.artifacts/$target/log.txt"
        status=1
    fi
    grep -E 'cov: ' ".artifacts/$target/log.txt" | tail -1
    ls ".artifacts/$target" | grep -E '^(crash|timeout|oom)-' | sed 's/-.*//' | sort | uniq -c
    if ls ".artifacts/$target" | grep -qE '^(crash|timeout|oom)-'; then status=1; fi
done
exit "$status"
