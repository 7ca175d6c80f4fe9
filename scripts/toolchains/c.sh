#!/usr/bin/env bash
# Installs the toolchain for C plugins (plugins/unicode-c and the C
# templates of `railyard plugin new`), pinned:
#
#   Debian bookworm (apt):  clang-16, lld-16 (wasm-ld), wasi-libc,
#                           libclang-rt-16-dev-wasm32 (compiler-rt builtins)
#   crates.io (cargo install, into <repo>/.toolchains/cargo/bin):
#     wit-bindgen-cli  (feature `c` only: the C bindings generator)
#     wasm-tools       (feature `component` only: `component new`, `wit`)
#
# No WASI adapter is needed: the plugins are built as reactors that import
# nothing from WASI, so `wasm-tools component new` wraps them as they are.
#
# Idempotent and fast when everything is there. The cargo builds are the
# slow part on a fresh machine, so:
# - they are debug builds (`cargo install --debug`): 430 s of CPU for both
#   instead of 1,100 s in release on a 2-core machine, and the tools still
#   take ~30 ms on a plugin, with byte-identical output;
# - the two binaries are also kept in a cache outside the clone
#   (RAILYARD_TOOLCHAIN_CACHE, default ~/.cache/railyard-toolchains), keyed
#   by crate, version, features and profile: a fresh clone on the same
#   machine copies them instead of compiling again.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

LLVM_MAJOR=16
WIT_BINDGEN_VERSION=0.63.0
WASM_TOOLS_VERSION=1.263.0

say() { echo "c toolchain: $*"; }

# --- Debian packages --------------------------------------------------------
packages=("clang-$LLVM_MAJOR" "lld-$LLVM_MAJOR" wasi-libc "libclang-rt-$LLVM_MAJOR-dev-wasm32")
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]]; then
        echo "c toolchain: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]}) and run this again" >&2
        exit 1
    fi
    say "installing ${missing[*]} (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    say "clang-$LLVM_MAJOR, lld-$LLVM_MAJOR, wasi-libc, compiler-rt wasm32: installed"
fi

# --- crates.io tools --------------------------------------------------------
root="$repo/.toolchains/cargo"
cache="${RAILYARD_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/railyard-toolchains}"

# keep BINARY CACHED: copies a built binary into the cache.
keep() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
}

# cargo_tool BINARY CRATE VERSION FEATURES
cargo_tool() {
    local bin=$1 crate=$2 version=$3 features=$4
    local dest="$root/bin/$bin" cached="$cache/$crate-$version-$features-debug/$bin"
    if [[ -x "$dest" ]] && [[ "$("$dest" --version 2>/dev/null)" == *" $version"* ]]; then
        say "$bin $version: installed"
        [[ -x "$cached" ]] || keep "$dest" "$cached"
        return
    fi
    mkdir -p "$root/bin"
    if [[ -x "$cached" ]]; then
        cp "$cached" "$dest"
        say "$bin $version: copied from $cache"
        return
    fi
    if ! command -v cargo >/dev/null; then
        echo "c toolchain: cargo is needed to build $crate $version from crates.io" >&2
        exit 1
    fi
    say "building $crate $version (features: $features, debug) from crates.io into .toolchains/cargo"
    local started=$SECONDS
    cargo install --debug --locked --quiet --force --version "$version" \
        --no-default-features --features "$features" --root "$root" "$crate"
    say "$crate $version built in $((SECONDS - started)) s"
    keep "$dest" "$cached"
}

cargo_tool wit-bindgen wit-bindgen-cli "$WIT_BINDGEN_VERSION" c
cargo_tool wasm-tools wasm-tools "$WASM_TOOLS_VERSION" component
