#!/usr/bin/env bash
# Installs the toolchain for JavaScript plugins (plugins/output-format-js
# and the JavaScript templates of `railyard plugin new`), pinned:
#
#   npm:  componentize-qjs 0.4.5 and its prebuilt native binding
#         (@andreiltd/componentize-qjs-binding-<platform>), exactly as
#         scripts/toolchains/js/package-lock.json records them
#   into: <repo>/.toolchains/js/node_modules (git-ignored);
#         the command is .toolchains/js/node_modules/.bin/componentize-qjs
#
# componentize-qjs embeds the QuickJS-ng engine and the plugin's module in
# one component (snapshotted with Wizer at build time). It is the QuickJS
# back end that jco's `componentize --engine quickjs` uses; the SpiderMonkey
# back end (@bytecodealliance/componentize-js) does not fit the host's fuel
# budget (docs/plugins/js.md says why).
#
# Needs Node.js >= 18 and npm: when either is missing and we are root on
# Debian, apt-get installs `nodejs` and `npm`. Idempotent: when what is
# installed came from the pinned lock file, it checks and does nothing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pinned="$repo/scripts/toolchains/js"
dest="$repo/.toolchains/js"
bin="$dest/node_modules/.bin/componentize-qjs"

say() { echo "js toolchain: $*"; }

# --- Node.js and npm ----------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        echo "js toolchain: node and npm are needed (Node.js 18 or newer); install them and run this again" >&2
        exit 1
    fi
    say "installing nodejs and npm (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 18)); then
    echo "js toolchain: Node.js $(node --version) is too old; componentize-qjs needs 18 or newer" >&2
    exit 1
fi

# --- componentize-qjs -------------------------------------------------------
# npm installs what the lock file records (versions and integrity hashes)
# in a copy of the pinned package.json and lock file. Not `npm ci`: it
# refuses this lock because three of the platform bindings that
# componentize-qjs lists as optional were never published for 0.4.5.
# `.pinned-lock` records which lock the installed tree came from.
version=$(node -p "require('$pinned/package.json').dependencies['componentize-qjs']")
if [[ -x "$bin" ]] && cmp -s "$pinned/package-lock.json" "$dest/.pinned-lock"; then
    say "componentize-qjs $version: installed (node $(node --version))"
    exit 0
fi
say "installing componentize-qjs $version (npm install from the lock file) into .toolchains/js"
started=$SECONDS
rm -rf "$dest"
mkdir -p "$dest"
cp "$pinned/package.json" "$pinned/package-lock.json" "$dest/"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error
"$bin" --help >/dev/null  # the native binding loads
cp "$pinned/package-lock.json" "$dest/.pinned-lock"
say "componentize-qjs $version installed in $((SECONDS - started)) s"
