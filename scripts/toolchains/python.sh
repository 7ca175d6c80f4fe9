#!/usr/bin/env bash
# Installs the Python plugin toolchain into .toolchains/python (a venv):
# componentize-py, which turns a Python module plus the railyard WIT into a
# WebAssembly component (CPython 3.14 compiled to WASI 0.2, pre-initialised
# with the app's imports).
#
# Pinned: 0.25.1 produces components wasmtime 48 runs. The templates'
# build.sh (plugins/templates/python/common/build.sh) pins the same version;
# change both together.
#
# Idempotent: a no-op when the pinned version is already there. Uses the
# machine's python3 (3.9 or newer: the wheel is abi3); installs python3-venv
# from apt only when `python3 -m venv` fails.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.toolchains/python"
tool="$venv/bin/componentize-py"

if [ -x "$tool" ] && [ "$("$tool" --version 2>/dev/null)" = "componentize-py $COMPONENTIZE_PY_VERSION" ]; then
    echo "python toolchain: componentize-py $COMPONENTIZE_PY_VERSION already in $venv"
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "python toolchain: installing python3 (apt)"
    apt-get update -qq
    apt-get install -y -qq python3 python3-venv
fi

echo "python toolchain: creating $venv with $(python3 --version)"
rm -rf "$venv"
mkdir -p "$root/.toolchains"
if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    echo "python toolchain: python3 -m venv failed; installing python3-venv (apt)"
    if ! apt-get install -y -qq python3-venv; then
        apt-get update -qq
        apt-get install -y -qq python3-venv
    fi
    python3 -m venv "$venv"
fi

echo "python toolchain: installing componentize-py==$COMPONENTIZE_PY_VERSION (PyPI)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "componentize-py==$COMPONENTIZE_PY_VERSION"
echo "python toolchain: $("$tool" --version) in $venv"
