#!/usr/bin/env python3
"""Print BENCHMARKS.md tables from criterion's saved estimates.

Usage: python3 benches/report.py [TARGET_DIR]

Reads <target>/criterion/<group>/<function>/<input>/new/estimates.json
(written by `cargo bench`) and prints medians, with WASM/native ratios for
benchmark pairs measured side by side in the same run.
"""
import json
import os
import sys

target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
root = os.path.join(target, "criterion")


def median_ns(*parts):
    path = os.path.join(root, *parts, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def hot_path():
    print("| payload | WASM chain (3 plugins, fresh instances) | WASM chain, `reuse = true` | native cores | WASM / native | reuse / native | WASM throughput |")
    print("|---|---|---|---|---|---|---|")
    for label, size in [("256B", 256), ("2KiB", 2048), ("64KiB", 65536)]:
        try:
            w = median_ns("default-chain", "wasm", label)
            n = median_ns("default-chain", "native", label)
        except FileNotFoundError:
            continue
        try:
            r = median_ns("default-chain", "wasm-reuse", label)
        except FileNotFoundError:
            r = None
        mbps = size / (w / 1e9) / 1e6
        rs = (fmt(r), f"{r / n:.2f}x") if r else ("—", "—")
        print(f"| {label} | {fmt(w)} | {rs[0]} | {fmt(n)} | {w / n:.2f}x | {rs[1]} | {mbps:.0f} MB/s |")
    print()
    print("| one plugin, 256 B payload | instantiate + call |")
    print("|---|---|")
    for name in ["empty-guardrail", "pii", "secrets", "prompt-injection"]:
        try:
            print(f"| {name} | {fmt(median_ns('one-plugin', 'instantiate+call', name))} |")
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    if not os.path.isdir(root):
        sys.exit(f"no criterion results under {root}: run `cargo bench -p railyard --bench hot_path` first")
    hot_path()
