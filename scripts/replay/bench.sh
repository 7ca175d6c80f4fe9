#!/usr/bin/env bash
# Replay throughput: records N calls (default 3000) into a fresh audit
# table through `railyard check --jsonl` under a policy that flags PII
# (so every call keeps its text and can be replayed), then replays them
# through a candidate that blocks PII, on 1 thread and on every core.
#
#   scripts/replay/bench.sh [N] [path/to/railyard]
#
# Uses the dev-profile binary by default (target/debug/railyard), as the
# tests do; BENCHMARKS.md says which one its figures came from.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-3000}
bin=${2:-target/debug/railyard}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/live.toml" <<'TOML'
name = "live"
[defaults]
timeout-ms = 20000
[plugins.pii]
builtin = "pii"
action = "flag"
[plugins.secrets]
builtin = "secrets"
action = "flag"
[plugins.prompt-injection]
builtin = "prompt-injection"
[stages]
request = ["pii", "secrets", "prompt-injection"]
TOML
sed -e 's/name = "live"/name = "candidate"/' -e '0,/action = "flag"/s//action = "block"/' \
    "$work/live.toml" >"$work/candidate.toml"

# A mix of calls: one in four carries an e-mail address, one in eight a
# phone number; the rest are plain questions of a few sentences.
python3 - "$n" >"$work/calls.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
for i in range(n):
    text = f"Question {i}: how do I rotate the logs of service {i % 17} without losing lines? " \
           "We run it on three hosts behind a load balancer and keep a week of history."
    if i % 4 == 0:
        text += f" Send the answer to ops{i}@example.com please."
    elif i % 8 == 1:
        text += f" Or call me on +1 415 555 {1000 + i % 9000:04d}."
    print(json.dumps({"text": text}))
PY

export RAILYARD_AUDIT_URL="$work/audit" RAILYARD_STATE_DIR="$work/state"
start=$(date +%s.%N)
"$bin" check --jsonl --policy "$work/live.toml" "$work/calls.jsonl" >/dev/null || true
echo "recorded $n calls in $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"

for threads in 1 $(nproc); do
    echo "== replay, --threads $threads"
    "$bin" replay --policy "$work/candidate.toml" --threads "$threads" --json \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); r["per"]=r["calls_per_second"]/r["threads"]; print("calls {calls}, replayed {replayed}, changed calls {changed_calls}, {elapsed_ms} ms, {calls_per_second:.0f} calls/s on {threads} thread(s), {per:.0f} per thread".format(**r))'
done
/usr/bin/time -f "whole run (read the table + load plugins + replay on every core): %e s, max RSS %M KiB" \
    "$bin" replay --policy "$work/candidate.toml" >/dev/null
