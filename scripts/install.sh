#!/usr/bin/env bash
# Installs lstmconv: a release build, the binary, shell completions and a man page.
#   scripts/install.sh [PREFIX]        (default /usr/local)
# Writes PREFIX/bin/lstmconv, PREFIX/share/man/man1/lstmconv.1, and completions for bash, zsh and fish under
# PREFIX/share. `lstmconv --version` names the version (VERSION) and the git commit built.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-/usr/local}"

scripts/bootstrap.sh
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then commit="$commit-dirty"; fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

# Man page: swift-argument-parser's generate-manual plugin (offline; it builds the package — debug, the cheaper
# build, whose command tree is the same — and reads the tool's --experimental-dump-help).
swift package generate-manual --configuration debug >"$staging/plugin.log" 2>&1 || {
    cat "$staging/plugin.log" >&2
    echo "install: generate-manual failed" >&2
    exit 1
}
manual="$(find .build/plugins/GenerateManual/outputs -name lstmconv.1 | head -n 1)"
[[ -s "$manual" ]] || { echo "install: no man page was generated" >&2; exit 1; }
cp "$manual" "$staging/lstmconv.1"

# The release binary, with the commit compiled into the C target CLSTMBuildInfo (see BuildInfo.swift).
# scripts/build-release.sh links the Swift runtime statically on Linux (faster start-up).
binary="$(scripts/build-release.sh -Xcc "-DLSTMCONV_GIT_COMMIT=\"$commit\"")"

# Completions: swift-argument-parser generates them from the command tree.
"$binary" --generate-completion-script bash >"$staging/lstmconv.bash"
"$binary" --generate-completion-script zsh >"$staging/_lstmconv"
"$binary" --generate-completion-script fish >"$staging/lstmconv.fish"

install -d "$prefix/bin" "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" \
    "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
install -m 0755 "$binary" "$prefix/bin/lstmconv"
install -m 0644 "$staging/lstmconv.1" "$prefix/share/man/man1/lstmconv.1"
install -m 0644 "$staging/lstmconv.bash" "$prefix/share/bash-completion/completions/lstmconv"
install -m 0644 "$staging/_lstmconv" "$prefix/share/zsh/site-functions/_lstmconv"
install -m 0644 "$staging/lstmconv.fish" "$prefix/share/fish/vendor_completions.d/lstmconv.fish"
echo "installed $("$prefix/bin/lstmconv" --version) into $prefix"
