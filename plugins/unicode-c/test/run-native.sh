#!/usr/bin/env bash
# Compiles the plugin's C code for this machine, with AddressSanitizer and
# UBSan, and runs test/native.c: scanner cases and every allocation failure
# in check(). Needs a native C compiler (CC, default cc) and wit-bindgen
# (WIT_BINDGEN, default the one scripts/toolchains/c.sh installs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
wit_bindgen="${WIT_BINDGEN:-$repo/.toolchains/cargo/bin/wit-bindgen}"
cc="${CC:-cc}"
if [[ ! -x "$wit_bindgen" ]] || ! command -v "$cc" >/dev/null; then
    echo "unicode-c native tests: need $cc and wit-bindgen; install the C toolchain with scripts/toolchains/c.sh" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$wit_bindgen" c --world guardrail --no-object-file --out-dir "$work" "$repo/wit/railyard.wit" >/dev/null 2>&1

# The bindings' wasm import/export attributes mean nothing natively.
"$cc" -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -Werror -Wno-attributes -Wno-unknown-attributes -Wno-unused-parameter \
    -I "$work" -I "$here/src" \
    "$here/test/native.c" "$here/src/unicode_scan.c" "$work/guardrail.c" \
    -Wl,--wrap=malloc,--wrap=realloc,--wrap=free \
    -o "$work/native"
"$work/native"
