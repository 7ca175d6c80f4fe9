#!/usr/bin/env bash
# Builds the unicode-c guardrail component.
#
#   plugins/unicode-c/build.sh [OUT.wasm]     (default: <repo>/target/lang-plugins/unicode-c.wasm)
#
# C sources -> wit-bindgen C bindings for the `guardrail` world of the
# repo's wit/railyard.wit -> clang (wasm32-wasi, wasi-libc, reactor: no
# main) -> a core module that imports only railyard:plugin/host ->
# `wasm-tools component new` (no WASI adapter needed).
#
# A no-op when OUT is newer than every input. The toolchain comes from
# scripts/toolchains/c.sh; CLANG, WIT_BINDGEN and WASM_TOOLS override the
# tools it installs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/target/lang-plugins/unicode-c.wasm}"
wit="$repo/wit/railyard.wit"
inputs=("$here/build.sh" "$wit" "$here"/src/*.c "$here"/src/*.h)

# Up to date?
if [[ -f "$out" ]]; then
    stale=0
    for f in "${inputs[@]}"; do
        [[ "$f" -nt "$out" ]] && stale=1 && break
    done
    [[ $stale == 0 ]] && exit 0
fi

# The pinned toolchain (versions: scripts/toolchains/c.sh).
tools="$repo/.toolchains/cargo/bin"
clang="${CLANG:-clang-16}"
wit_bindgen="${WIT_BINDGEN:-$tools/wit-bindgen}"
wasm_tools="${WASM_TOOLS:-$tools/wasm-tools}"
missing=()
command -v "$clang" >/dev/null || missing+=("$clang")
[[ -f /usr/include/wasm32-wasi/stdlib.h ]] || missing+=("wasi-libc")
[[ -x "$wit_bindgen" ]] || missing+=("wit-bindgen")
[[ -x "$wasm_tools" ]] || missing+=("wasm-tools")
if ((${#missing[@]})); then
    echo "unicode-c: missing ${missing[*]}; install the C toolchain with scripts/toolchains/c.sh" >&2
    exit 1
fi

out_dir="$(dirname "$out")"
work="$out_dir/unicode-c.build"
mkdir -p "$work/bindings"

if ! log="$("$wit_bindgen" c --world guardrail --out-dir "$work/bindings" "$wit" 2>&1)"; then
    echo "$log" >&2
    exit 1
fi

# -msimd128: the ASCII skip reads 16 bytes at a time (wasmtime enables SIMD).
# -mexec-model=reactor: a library, no main; `_initialize` runs constructors.
# --strip-debug: no DWARF in the component; the component-type section stays.
"$clang" --target=wasm32-wasi -std=c11 -O2 -msimd128 -mexec-model=reactor \
    -Wall -Wextra -Werror -Wno-unused-parameter \
    -I "$work/bindings" -I "$here/src" \
    "$here"/src/*.c "$work/bindings/guardrail.c" "$work/bindings/guardrail_component_type.o" \
    -Wl,--strip-debug \
    -o "$work/unicode-c.core.wasm"

"$wasm_tools" component new "$work/unicode-c.core.wasm" -o "$out.tmp"
mv "$out.tmp" "$out"
echo "built $out ($(wc -c <"$out") bytes)"
