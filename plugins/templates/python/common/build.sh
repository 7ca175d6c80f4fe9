#!/usr/bin/env bash
# Builds {{name}}.wasm (a WebAssembly component) and its manifest {{name}}.toml.
#
#   app.py --(componentize-py --stub-wasi, world `{{kind}}` of wit/railyard.wit)--> build/raw.wasm
#          --(tools/merge_wasi_stubs.py)--> {{name}}.wasm
#
# componentize-py bundles CPython and the Python modules app.py imports,
# runs the module-level code once (a snapshot), and wraps it as a component.
# --stub-wasi turns every WASI import CPython would make (files, clocks,
# random, sockets) into a function that traps, so the component imports
# only railyard's host interface and needs no capability. The merge step
# folds those ~25 stub instances into one, so that hosts which pool a few
# dozen core instances per plugin (railyard's conformance harness allows
# 32) can instantiate it.
#
# componentize-py, first found wins: $COMPONENTIZE_PY (a path), then
# componentize-py on PATH, then ./.toolchain/bin/componentize-py; else pip
# installs the pinned version below into ./.toolchain (a venv; ~70 MB,
# once). Python 3.9 or newer (python3) is needed either way.
# A second run with nothing changed does nothing.
set -euo pipefail
cd "$(dirname "$0")"

name="{{name}}"
kind="{{kind}}"
version=$(sed -n 's/^VERSION = "\(.*\)"$/\1/p' app.py) # info() says the same
COMPONENTIZE_PY_VERSION=0.25.1

say() { echo "build.sh: $*"; }
fail() { echo "build.sh: $*" >&2; exit 1; }

# Up to date? Then there is nothing to do.
if [[ -f "$name.wasm" && -f "$name.toml" ]]; then
    stale=$(find . -maxdepth 1 \( -name '*.py' -o -name build.sh \) -newer "$name.wasm" -print -quit)
    [[ -z "$stale" ]] && stale=$(find wit tools -newer "$name.wasm" -print -quit)
    [[ -z "$stale" ]] && { say "$name.wasm is up to date"; exit 0; }
fi

command -v python3 >/dev/null || fail "python3 not found: install Python 3.9 or newer"
[[ -n "$version" ]] || fail "app.py has no line VERSION = \"...\""

# --- componentize-py --------------------------------------------------------
cpy="${COMPONENTIZE_PY:-}"
if [[ -z "$cpy" ]]; then
    if command -v componentize-py >/dev/null; then
        cpy="$(command -v componentize-py)"
    elif [[ -x .toolchain/bin/componentize-py ]]; then
        cpy=.toolchain/bin/componentize-py
    else
        say "installing componentize-py $COMPONENTIZE_PY_VERSION into ./.toolchain (pip, once)"
        python3 -m venv .toolchain ||
            fail "python3 -m venv failed: install the venv module (Debian/Ubuntu: apt-get install python3-venv), or set COMPONENTIZE_PY"
        .toolchain/bin/python -m pip install --quiet --disable-pip-version-check \
            "componentize-py==$COMPONENTIZE_PY_VERSION"
        cpy=.toolchain/bin/componentize-py
    fi
fi
found=$("$cpy" --version) || fail "$cpy does not run"
[[ "$found" == "componentize-py $COMPONENTIZE_PY_VERSION" ]] ||
    say "warning: $found, but this template was made with $COMPONENTIZE_PY_VERSION"

# --- build ------------------------------------------------------------------
mkdir -p build
# VIRTUAL_ENV would make componentize-py search that venv's packages too.
env -u VIRTUAL_ENV "$cpy" --quiet -d wit/railyard.wit -w "$kind" \
    componentize --stub-wasi -p . app -o build/raw.wasm
python3 tools/merge_wasi_stubs.py build/raw.wasm "$name.wasm" >/dev/null

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
