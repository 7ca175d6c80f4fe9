"""Tokens and features of the name tagger, exactly as `names/tagger.rs`
computes them (a test in tagger.rs checks the Rust side on fixed
sentences; `train.py --check` prints the same for comparison)."""
import re

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
BITS = 16
JOIN = set(".'’-&")


def tokens(text):
    """Runs of letters and digits (with . ' ’ - & inside, between two
    letters or digits, but not the possessive 's), every other non-space
    character alone. Returns
    (start, end) character offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isalnum():
            j = i + 1
            while j < n:
                if text[j].isalnum():
                    j += 1
                elif text[j] in JOIN and j + 1 < n and text[j + 1].isalnum() and not (
                    text[j] in "'’" and text[j + 1] in "sS" and (j + 2 == n or not text[j + 2].isalnum())
                ):
                    j += 2
                else:
                    break
            out.append((i, j))
            i = j
        elif c.isspace():
            i += 1
        else:
            out.append((i, i + 1))
            i += 1
    return out


def shape(w):
    out = []
    for c in w:
        if c.isupper():
            k = "X"
        elif c.isalpha():
            k = "x"
        elif "0" <= c <= "9":
            k = "d"
        else:
            k = c
        if len(out) >= 2 and out[-1] == k and out[-2] == k:
            continue
        out.append(k)
    return "".join(out[:6])


def fnv(s):
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def lower(w):
    return w.lower()


def rust_read_list(src, name):
    m = re.search(name + r": &\[&str\] = &\[(.*?)\];", src, re.S)
    return re.findall(r'"([^"]*)"', m.group(1))


class Gaz:
    def __init__(self, gazetteer_rs, mod_rs):
        g = open(gazetteer_rs, encoding="utf-8").read()
        m = open(mod_rs, encoding="utf-8").read()
        self.first = set(rust_read_list(g, "FIRST_NAMES"))
        self.places = set(rust_read_list(g, "PLACES"))
        self.orgs = set(rust_read_list(g, "ORGS"))
        self.org_suffix = set(rust_read_list(m, "ORG_SUFFIX"))
        self.street = set(rust_read_list(m, "STREET"))
        self.title = set(rust_read_list(m, "TITLE"))

    def tags(self, words, i):
        """Gazetteer marks of token i (a word and a two-word entry)."""
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        prv = words[i - 1] if i > 0 else ""
        out = []
        if w in self.first:
            out.append("F")
        if w in self.places or (nxt and f"{w} {nxt}" in self.places) or (prv and f"{prv} {w}" in self.places):
            out.append("P")
        if w in self.orgs or (nxt and f"{w} {nxt}" in self.orgs) or (prv and f"{prv} {w}" in self.orgs):
            out.append("O")
        if w in self.org_suffix:
            out.append("S")
        if w in self.street:
            out.append("R")
        if w in self.title:
            out.append("T")
        return "".join(out)


def newlines(text, toks):
    """Whether a line break comes before each token."""
    out, prev = [], 0
    for a, b in toks:
        out.append("\n" in text[prev:a])
        prev = b
    return out


def runs(words):
    """Position and length of each token's run of capitalised words, as
    "pos/len" (both capped at 4), "-" outside runs."""
    n = len(words)
    cap = [w[0].isupper() for w in words]
    out = ["-"] * n
    i = 0
    while i < n:
        if not cap[i]:
            i += 1
            continue
        j = i
        while j < n and cap[j]:
            j += 1
        for k in range(i, j):
            out[k] = f"{min(k - i, 3)}/{min(j - i, 4)}"
        i = j
    return out


def static_features(words, gaz, nl):
    """Per token, the features that do not depend on earlier tags."""
    n = len(words)
    rn = runs(words)
    low = [lower(w) for w in words]
    shp = [shape(w) for w in words]
    gz = [gaz.tags(words, i) for i in range(n)]

    def at(seq, k, pad):
        return seq[k] if 0 <= k < n else pad

    feats = []
    for i in range(n):
        w, lw = words[i], low[i]
        f = ["b", "w=" + lw, "s=" + shp[i], "p3=" + lw[:3], "x3=" + lw[-3:], "x2=" + lw[-2:]]
        f.append("w-1=" + at(low, i - 1, "<s>"))
        f.append("w+1=" + at(low, i + 1, "</s>"))
        f.append("w-2=" + at(low, i - 2, "<s>"))
        f.append("w+2=" + at(low, i + 2, "</s>"))
        f.append("s-1=" + at(shp, i - 1, "<s>"))
        f.append("s+1=" + at(shp, i + 1, "</s>"))
        f.append("s-1s=" + at(shp, i - 1, "<s>") + "|" + shp[i])
        f.append("ss+1=" + shp[i] + "|" + at(shp, i + 1, "</s>"))
        f.append("w-1s=" + at(low, i - 1, "<s>") + "|" + shp[i])
        f.append("g=" + gz[i])
        f.append("g-1=" + at(gz, i - 1, "<s>"))
        f.append("g+1=" + at(gz, i + 1, "</s>"))
        f.append("gw=" + gz[i] + "|" + shp[i])
        f.append("r=" + rn[i])
        f.append("rw-1=" + rn[i] + "|" + at(low, i - 1, "<s>"))
        f.append("nl=" + ("1" if nl[i] else "0") + "|" + shp[i])
        feats.append(f)
    return feats


def dynamic_features(t1, t2, shp):
    return ["t-1=" + t1, "t-2=" + t2 + "|" + t1, "t-1s=" + t1 + "|" + shp]


def allowed(prev, label):
    if label.startswith("I-"):
        return prev[2:] == label[2:] and prev != "O"
    return True
