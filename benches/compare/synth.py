#!/usr/bin/env python3
"""Deterministic synthetic corpus for the comparison: longer texts.

The shared PII set is one sentence per line (~60 bytes), where a call's
fixed cost dominates. Chat traffic also carries pasted documents, so this
builds ~2 KiB texts: prose (the filler below, written for this file) with
2-4 lines of pii-dev.jsonl spliced in whole, keeping each entity's own
sentence as context (and the look-alike lines, which must stay unreported).
Gold spans are the source spans shifted to their new byte offsets.

    python3 synth.py PII_DEV_JSONL OUT_JSONL [--texts N] [--seed S]
"""
import argparse
import json
import random

FILLER = [
    "Can you summarise the quarterly report for the leadership meeting on Thursday?",
    "The customer says the invoice total does not match the purchase order.",
    "Please draft a polite reply explaining that the refund takes five to seven business days.",
    "Our deployment pipeline failed at the integration step after the dependency upgrade.",
    "What are the trade-offs between a write-ahead log and a copy-on-write tree?",
    "The shipment left the warehouse yesterday and should arrive early next week.",
    "Rewrite this paragraph so that it reads well for a general audience.",
    "List three risks of migrating the billing service before the holiday freeze.",
    "The meeting notes mention a new retry policy for the client library.",
    "Translate the following product description into French and German.",
    "Room 4 on the second floor is booked from nine until half past ten.",
    "The draft contract renews every twelve months unless either side objects in writing.",
    "Compare the two vendors on price, support hours and data residency.",
    "Our team reviewed 14 incidents last quarter, most of them minor.",
    "Explain the difference between recall and precision to a new analyst.",
    "The café on the corner serves crème brûlée and a very good espresso.",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--texts", type=int, default=300)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--bytes", type=int, default=2048)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    with open(args.source, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]

    with open(args.out, "w", encoding="utf-8") as out:
        for n in range(args.texts):
            pieces = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
            spliced = rng.sample(rows, rng.randint(2, 4))
            for row in spliced:
                pieces.insert(rng.randint(0, len(pieces)), row)
            while sum(len(p.encode()) + 1 if isinstance(p, str) else len(p["text"].encode()) + 1 for p in pieces) < args.bytes:
                pieces.insert(rng.randint(0, len(pieces)), rng.choice(FILLER))
            text = ""
            entities = []
            for p in pieces:
                sep = "\n\n" if rng.random() < 0.2 else " "
                if text:
                    text += sep
                offset = len(text.encode("utf-8"))
                if isinstance(p, str):
                    text += p
                else:
                    text += p["text"]
                    for e in p["entities"]:
                        entities.append(
                            {"type": e["type"], "start": e["start"] + offset, "end": e["end"] + offset, "value": e["value"]}
                        )
            for e in entities:
                assert text.encode("utf-8")[e["start"] : e["end"]].decode("utf-8") == e["value"]
            out.write(json.dumps({"id": f"synth-{n:04d}", "text": text, "entities": entities}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
