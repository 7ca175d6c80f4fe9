#!/usr/bin/env bash
# Runs test_app.py: app.py's matching and config logic on the machine's
# CPython, against componentize-py's generated bindings (the `wit_world`
# package, written to a temp dir). Fast (a few seconds), and it can compare
# thousands of payloads with a slow reference, which a test through the
# host could not afford. tests/plugin_python.rs runs it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
componentize_py=${COMPONENTIZE_PY:-$root/.toolchains/python/bin/componentize-py}
if [ ! -x "$componentize_py" ]; then
    echo "banned-topics-py tests: componentize-py not found at $componentize_py; install it with scripts/toolchains/python.sh" >&2
    exit 1
fi
python=$root/.toolchains/python/bin/python
[ -x "$python" ] || python=python3

bindings=$(mktemp -d)
trap 'rm -rf "$bindings"' EXIT
"$componentize_py" --quiet -d "$root/wit/railyard.wit" -w guardrail bindings "$bindings"
PYTHONPATH="$bindings:$here/.." "$python" -B "$here/test_app.py"
