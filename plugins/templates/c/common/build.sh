#!/usr/bin/env bash
# Builds {{name}}.wasm (a WebAssembly component) and its manifest {{name}}.toml.
#
#   src/*.c --(clang, wasm32-wasi, wasi-libc)--> build/core.wasm
#          --(wasm-tools component new)--> {{name}}.wasm
#
# with C bindings for the `{{kind}}` world generated from wit/railyard.wit by
# `wit-bindgen c` into build/bindings/.
#
# Tools, first found wins:
#   clang:        $CLANG, clang-16 on PATH; else, as root on Debian/Ubuntu,
#                 apt-get installs clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32.
#                 $WASI_SYSROOT points clang at another wasi-libc (e.g. wasi-sdk's).
#   wit-bindgen:  $WIT_BINDGEN, wit-bindgen on PATH, ./.toolchain/bin/wit-bindgen;
#   wasm-tools:   $WASM_TOOLS, wasm-tools on PATH, ./.toolchain/bin/wasm-tools;
#                 else cargo installs the pinned versions below into ./.toolchain
#                 (a few minutes, once).
# A second run with nothing changed does nothing.
set -euo pipefail
cd "$(dirname "$0")"

name="{{name}}"
kind="{{kind}}"
version="0.1.0" # info() and the manifest both take it from here
world_c="${kind//-/_}"  # wit-bindgen names its files after the world
WIT_BINDGEN_VERSION=0.63.0
WASM_TOOLS_VERSION=1.263.0
LLVM_MAJOR=16

say() { echo "build.sh: $*"; }
fail() { echo "build.sh: $*" >&2; exit 1; }

# Up to date? Then there is nothing to do.
if [[ -f "$name.wasm" && -f "$name.toml" ]]; then
    stale=$(find src wit build.sh -newer "$name.wasm" -print -quit)
    [[ -z "$stale" ]] && { say "$name.wasm is up to date"; exit 0; }
fi

# --- clang with wasi-libc ---------------------------------------------------
clang="${CLANG:-}"
if [[ -z "$clang" ]]; then
    if command -v "clang-$LLVM_MAJOR" >/dev/null; then
        clang="clang-$LLVM_MAJOR"
    elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        say "installing clang-$LLVM_MAJOR, lld-$LLVM_MAJOR, wasi-libc (apt)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "clang-$LLVM_MAJOR" "lld-$LLVM_MAJOR" \
            wasi-libc "libclang-rt-$LLVM_MAJOR-dev-wasm32" >/dev/null
        clang="clang-$LLVM_MAJOR"
    else
        fail "clang-$LLVM_MAJOR not found: apt-get install clang-$LLVM_MAJOR lld-$LLVM_MAJOR wasi-libc libclang-rt-$LLVM_MAJOR-dev-wasm32 (as root), or set CLANG (and WASI_SYSROOT) to a clang that targets wasm32-wasi"
    fi
fi
sysroot=()
[[ -n "${WASI_SYSROOT:-}" ]] && sysroot=(--sysroot "$WASI_SYSROOT")

# --- wit-bindgen and wasm-tools ---------------------------------------------
# find_tool VAR BINARY CRATE VERSION FEATURES: sets VAR to the tool's path.
find_tool() {
    local var=$1 bin=$2 crate=$3 version=$4 features=$5
    local path="${!var:-}"
    if [[ -z "$path" ]]; then
        if command -v "$bin" >/dev/null; then
            path="$(command -v "$bin")"
        elif [[ -x ".toolchain/bin/$bin" ]]; then
            path=".toolchain/bin/$bin"
        else
            command -v cargo >/dev/null ||
                fail "$bin not found: set $var, put $bin on PATH, or install Rust (cargo) so build.sh can build $crate $version"
            # A debug build: it compiles in less than half the time of a
            # release build and is still fast enough for a plugin.
            say "installing $crate $version into ./.toolchain (cargo install, once)"
            cargo install --debug --locked --quiet --version "$version" --no-default-features \
                --features "$features" --root .toolchain "$crate"
            path=".toolchain/bin/$bin"
        fi
    fi
    printf -v "$var" '%s' "$path"
}
find_tool WIT_BINDGEN wit-bindgen wit-bindgen-cli "$WIT_BINDGEN_VERSION" c
find_tool WASM_TOOLS wasm-tools wasm-tools "$WASM_TOOLS_VERSION" component

# --- build ------------------------------------------------------------------
mkdir -p build/bindings
"$WIT_BINDGEN" c --world "$kind" --out-dir build/bindings wit/railyard.wit >/dev/null 2>build/wit-bindgen.log ||
    fail "wit-bindgen failed: $(cat build/wit-bindgen.log)"

# A reactor (a library: no main) that imports nothing from WASI, so no
# WASI adapter is needed to make it a component.
"$clang" --target=wasm32-wasi "${sysroot[@]}" -std=c11 -O2 -mexec-model=reactor \
    -Wall -Wextra -I build/bindings \
    -DPLUGIN_NAME="\"$name\"" -DPLUGIN_VERSION="\"$version\"" \
    src/*.c "build/bindings/$world_c.c" "build/bindings/${world_c}_component_type.o" \
    -Wl,--strip-debug -o build/core.wasm

"$WASM_TOOLS" component new build/core.wasm -o "$name.wasm"

# The manifest a railyard plugins folder needs beside the component.
if command -v sha256sum >/dev/null; then
    digest=$(sha256sum "$name.wasm" | cut -d' ' -f1)
else
    digest=$(shasum -a 256 "$name.wasm" | cut -d' ' -f1)
fi
cat >"$name.toml" <<EOF
name = "$name"
version = "$version"
kind = "$kind"
stages = ["request", "response"]
digest = "sha256:$digest"
EOF
say "built $name.wasm ($(wc -c <"$name.wasm") bytes) and $name.toml"
