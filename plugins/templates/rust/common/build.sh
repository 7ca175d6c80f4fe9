#!/usr/bin/env bash
# Builds {{name}}.wasm (a WebAssembly component) and its manifest {{name}}.toml.
#
# Needs a Rust toolchain (cargo) on PATH; `CARGO` and `RUSTC` name other
# binaries if set. The wasm32-wasip2 target is added with rustup when it is
# missing. `CARGO_TARGET_DIR`, if set, is where cargo builds (share one
# across plugin projects and wit-bindgen compiles once).
set -euo pipefail
cd "$(dirname "$0")"

name="{{name}}"
kind="{{kind}}"
# One version for info() (CARGO_PKG_VERSION) and the manifest: Cargo.toml's.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
target=wasm32-wasip2
cargo=${CARGO:-cargo}
rustc=${RUSTC:-rustc}

if ! command -v "$cargo" >/dev/null 2>&1; then
    echo "build.sh: cargo not found: install Rust with rustup (https://rustup.rs), or set CARGO" >&2
    exit 1
fi

# The target's standard library is a separate rustup download.
sysroot=$("$rustc" --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/$target" ]; then
    if ! command -v rustup >/dev/null 2>&1; then
        echo "build.sh: the $target Rust target is missing and rustup is not on PATH to add it" >&2
        exit 1
    fi
    echo "build.sh: adding the $target Rust target (rustup target add $target)"
    rustup target add "$target"
fi

"$cargo" build --release --target "$target"

built="${CARGO_TARGET_DIR:-target}/$target/release/${name//-/_}.wasm"
cmp -s "$built" "$name.wasm" || cp "$built" "$name.wasm"

# The manifest a railyard plugins folder needs beside the component.
if command -v sha256sum >/dev/null 2>&1; then
    digest=$(sha256sum "$name.wasm" | cut -d' ' -f1)
else
    digest=$(shasum -a 256 "$name.wasm" | cut -d' ' -f1)
fi
manifest="name = \"$name\"
version = \"$version\"
kind = \"$kind\"
stages = [\"request\", \"response\"]
digest = \"sha256:$digest\""
if [ "$(cat "$name.toml" 2>/dev/null)" != "$manifest" ]; then
    printf '%s\n' "$manifest" >"$name.toml"
fi
echo "built $name.wasm ($(wc -c <"$name.wasm") bytes) and $name.toml"
