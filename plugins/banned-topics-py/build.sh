#!/usr/bin/env bash
# Builds the banned-topics guardrail (app.py) into a WebAssembly component.
#
#   plugins/banned-topics-py/build.sh [OUT.wasm]
#
# OUT defaults to <repo>/target/lang-plugins/banned-topics-py.wasm. A no-op
# when OUT is newer than every input (app.py, this script, the WIT, the stub
# merger). The toolchain is componentize-py from .toolchains/python, which
# scripts/toolchains/python.sh installs; COMPONENTIZE_PY overrides its path.
#
# Two steps:
# 1. componentize-py builds the component against world `guardrail` of the
#    repo's wit/railyard.wit with --stub-wasi: every WASI import CPython
#    would make (sockets, filesystem, clocks, random, ...) becomes a
#    function that traps, so the component imports railyard:plugin/host
#    and nothing else, and loads under the host's baseline grants.
# 2. merge_wasi_stubs.py folds those ~25 one-interface stub instances into
#    one, so the component fits hosts that pool a few dozen core instances
#    per plugin (the conformance harness allows 32 at once).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/lang-plugins/banned-topics-py.wasm}
wit=$root/wit/railyard.wit
merge=$root/plugins/templates/python/common/tools/merge_wasi_stubs.py
inputs=("$here/app.py" "$here/build.sh" "$wit" "$merge")

up_to_date() {
    [ -f "$out" ] || return 1
    for f in "${inputs[@]}"; do
        [ "$f" -nt "$out" ] && return 1
    done
    return 0
}
if up_to_date; then
    echo "banned-topics-py: $out is up to date"
    exit 0
fi

componentize_py=${COMPONENTIZE_PY:-$root/.toolchains/python/bin/componentize-py}
if [ ! -x "$componentize_py" ]; then
    echo "banned-topics-py: componentize-py not found at $componentize_py; install it with scripts/toolchains/python.sh" >&2
    exit 1
fi
python=$root/.toolchains/python/bin/python
[ -x "$python" ] || python=python3

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX.tmp")
trap 'rm -f "$tmp"' EXIT

# VIRTUAL_ENV would add that venv's site-packages to what gets bundled.
env -u VIRTUAL_ENV "$componentize_py" --quiet -d "$wit" -w guardrail \
    componentize --stub-wasi -p "$here" app -o "$tmp"
"$python" "$merge" "$tmp" "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
echo "banned-topics-py: built $out ($(stat -c %s "$out") bytes)"
