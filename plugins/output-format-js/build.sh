#!/usr/bin/env bash
# Builds the output-format guardrail (JavaScript) into a WebAssembly
# component:
#
#   ./build.sh [OUT.wasm]     default: <repo>/target/lang-plugins/output-format-js.wasm
#
# with componentize-qjs (QuickJS), which scripts/toolchains/js.sh installs
# into <repo>/.toolchains/js; COMPONENTIZE_QJS names another binary. It
# targets the `guardrail` world of <repo>/wit/railyard.wit, uses the
# non-async runtime (--sync: the host calls plugins synchronously) and
# stubs every WASI import with a trap (--stub-wasi), so the component
# imports only railyard:plugin/host and types. Does nothing when OUT is
# newer than every source, the WIT, this script and the toolchain pin.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/target/lang-plugins/output-format-js.wasm}"
inputs=("$here/src" "$repo/wit/railyard.wit" "$here/build.sh" "$repo/scripts/toolchains/js/package-lock.json")

if [[ -f "$out" ]] && [[ -z "$(find "${inputs[@]}" -newer "$out" -print -quit)" ]]; then
    echo "output-format-js: $out is up to date"
    exit 0
fi

componentize="${COMPONENTIZE_QJS:-$repo/.toolchains/js/node_modules/.bin/componentize-qjs}"
if [[ ! -x "$componentize" ]]; then
    echo "output-format-js: componentize-qjs not found at $componentize; run scripts/toolchains/js.sh to install it" >&2
    exit 1
fi

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
"$componentize" --wit "$repo/wit/railyard.wit" --world guardrail \
    --js "$here/src/output-format.js" --sync --stub-wasi -o "$tmp" >/dev/null
mv "$tmp" "$out"
echo "output-format-js: built $out ($(wc -c <"$out") bytes)"
