#!/usr/bin/env bash
# Builds {{name}}.wasm (a WebAssembly component) and its manifest {{name}}.toml.
#
#   src/plugin.js --(componentize-qjs: the QuickJS engine and this module,
#                    snapshotted)--> {{name}}.wasm
#
# for the `{{kind}}` world of wit/railyard.wit. componentize-qjs, first
# found wins: $COMPONENTIZE_QJS, componentize-qjs on PATH,
# ./.toolchain/node_modules/.bin/componentize-qjs; else npm installs the
# pinned version below into ./.toolchain (needs Node.js 18+ and npm; a few
# seconds, once). A second run with nothing changed does nothing.
set -euo pipefail
cd "$(dirname "$0")"

name="{{name}}"
kind="{{kind}}"
COMPONENTIZE_QJS_VERSION=0.4.5

say() { echo "build.sh: $*"; }
fail() { echo "build.sh: $*" >&2; exit 1; }

# info() and the manifest share one version: the VERSION in src/plugin.js.
version=$(sed -n "s/^const VERSION = '\(.*\)';.*$/\1/p" src/plugin.js)
[[ -n "$version" ]] || fail "src/plugin.js has no line const VERSION = '...';"

# Up to date? Then there is nothing to do.
if [[ -f "$name.wasm" && -f "$name.toml" ]]; then
    stale=$(find src wit build.sh -newer "$name.wasm" -print -quit)
    [[ -z "$stale" ]] && { say "$name.wasm is up to date"; exit 0; }
fi

# --- componentize-qjs ---------------------------------------------------------
componentize="${COMPONENTIZE_QJS:-}"
if [[ -z "$componentize" ]]; then
    if command -v componentize-qjs >/dev/null; then
        componentize="$(command -v componentize-qjs)"
    else
        componentize=".toolchain/node_modules/.bin/componentize-qjs"
        if [[ ! -x "$componentize" ]]; then
            command -v npm >/dev/null ||
                fail "componentize-qjs not found: set COMPONENTIZE_QJS, put componentize-qjs on PATH, or install Node.js 18+ with npm so build.sh can install componentize-qjs $COMPONENTIZE_QJS_VERSION"
            say "installing componentize-qjs $COMPONENTIZE_QJS_VERSION into ./.toolchain (npm, once)"
            npm install --prefix .toolchain --no-save --no-audit --no-fund --loglevel=error \
                "componentize-qjs@$COMPONENTIZE_QJS_VERSION"
        fi
    fi
fi

# --- build --------------------------------------------------------------------
# --sync: the host calls plugins synchronously (no component-model async).
# --stub-wasi: WASI imports become traps inside the component, so it
# imports only railyard:plugin/host (nothing to grant).
"$componentize" --wit wit/railyard.wit --world "$kind" --js src/plugin.js \
    --sync --stub-wasi -o "$name.wasm.tmp" >/dev/null
mv "$name.wasm.tmp" "$name.wasm"

# The manifest a railyard plugins folder needs beside the component.
if command -v sha256sum >/dev/null; then
    digest=$(sha256sum "$name.wasm" | cut -d' ' -f1)
else
    digest=$(shasum -a 256 "$name.wasm" | cut -d' ' -f1)
fi
cat >"$name.toml" <<MANIFEST
name = "$name"
version = "$version"
kind = "$kind"
stages = ["request", "response"]
digest = "sha256:$digest"
MANIFEST
say "built $name.wasm ($(wc -c <"$name.wasm") bytes) and $name.toml"
