#!/usr/bin/env python3
"""Writes tests/data/heldout-recognizers.jsonl: the evaluation corpus for
the recognizer set of issue 21 (Presidio's predefined pattern types).

Written before the recognizers, apart from them: its own templates,
languages and formats, and its own checksum code (below, from the public
specifications), so a shared mistake would have to be made twice. Values
are random and synthetic (seeded, so the file is reproducible); about a
third of the lines are look-alikes that must not be reported: numbers that
fail their checksum next to the right context words, dates that look like
ids and ids that look like dates, order and invoice numbers, versions,
phone numbers, hashes.

    python3 tests/data/make_recognizers_eval.py > tests/data/heldout-recognizers.jsonl
"""
import hashlib
import json
import random
import string

R = random.Random(20261204)
DIG = string.digits
UP = string.ascii_uppercase


def digits(n, first=DIG):
    return R.choice(first) + "".join(R.choice(DIG) for _ in range(n - 1))


# ---- checksums, from the specifications -------------------------------------

def nhs():
    while True:
        d = [R.randrange(10) for _ in range(9)]
        r = 11 - sum(x * w for x, w in zip(d, range(10, 1, -1))) % 11
        if r == 11:
            r = 0
        if r != 10:
            return "".join(map(str, d + [r]))


def nif_letter(n):
    return "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]


def nif():
    n = digits(8)
    return n + nif_letter(int(n))


def nie():
    p = R.choice("XYZ")
    n = digits(7)
    return p + n + nif_letter(int(str("XYZ".index(p)) + n))


ODD = dict(zip(DIG + UP, [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20,
                          11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))


def cf_check(s15):
    t = 0
    for i, c in enumerate(s15):
        t += ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
    return chr(65 + t % 26)


def fiscal_code():
    cons = "BCDFGHJKLMNPQRSTVWXZ"
    s = "".join(R.choice(cons) for _ in range(3)) + "".join(R.choice(cons) for _ in range(2)) + R.choice("AEIOU")
    s += f"{R.randrange(40, 99):02d}" + R.choice("ABCDEHLMPRST") + f"{R.choice([R.randrange(1, 29), R.randrange(41, 69)]):02d}"
    s += R.choice("ABCDEFGHILMZ") + f"{R.randrange(1, 999):03d}"
    return s + cf_check(s)


def pan():
    return "".join(R.choice(UP) for _ in range(3)) + R.choice("ABCFGHJLPT") + R.choice(UP) + digits(4) + R.choice(UP)


VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def aadhaar():
    n = digits(11, "23456789")
    c = 0
    for i, x in enumerate(reversed(n)):
        c = VD[c][VP[(i + 1) % 8][int(x)]]
    return n + str(VINV[c])


def nric():
    p = R.choice("STFG")
    d = [R.randrange(10) for _ in range(7)]
    t = sum(x * w for x, w in zip(d, [2, 7, 6, 5, 4, 3, 2])) + (4 if p in "TG" else 0)
    letters = "JZIHGFEDCBA" if p in "ST" else "XWUTRQPNMLK"
    return p + "".join(map(str, d)) + letters[t % 11]


def abn():
    while True:
        d = [R.randrange(1, 10)] + [R.randrange(10) for _ in range(10)]
        w = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
        d2 = [d[0] - 1] + d[1:]
        # adjust digits 2-3 until the weighted sum is 0 mod 89
        for a in range(100):
            d2[1], d2[2] = a // 10, a % 10
            if sum(x * y for x, y in zip(d2, w)) % 89 == 0:
                return "".join(map(str, [d2[0] + 1] + d2[1:]))


def acn():
    d = [R.randrange(10) for _ in range(8)]
    return "".join(map(str, d)) + str((10 - sum(x * w for x, w in zip(d, range(8, 0, -1))) % 10) % 10)


def tfn():
    while True:
        d = [R.randrange(10) for _ in range(9)]
        if sum(x * w for x, w in zip(d, [1, 4, 3, 7, 5, 8, 6, 9, 10])) % 11 == 0:
            return "".join(map(str, d))


def medicare():
    d = [R.randrange(2, 7)] + [R.randrange(10) for _ in range(7)]
    c = sum(x * w for x, w in zip(d, [1, 3, 7, 9, 1, 3, 7, 9])) % 10
    return "".join(map(str, d)) + str(c) + str(R.randrange(1, 10))


def pesel():
    y = R.randrange(1940, 2012)
    m = R.randrange(1, 13) + (20 if y >= 2000 else 0)
    s = f"{y % 100:02d}{m:02d}{R.randrange(1, 29):02d}" + digits(4)
    c = (10 - sum(int(x) * w for x, w in zip(s, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3])) % 10) % 10
    return s + str(c)


def hetu():
    y = R.randrange(1930, 2020)
    sep = "-" if y < 2000 else R.choice("AB")
    d = f"{R.randrange(1, 29):02d}{R.randrange(1, 13):02d}{y % 100:02d}"
    z = f"{R.randrange(2, 900):03d}"
    return d + sep + z + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(d + z) % 31]


def rrn(dash=True):
    y = R.randrange(1950, 2015)
    s = f"{y % 100:02d}{R.randrange(1, 13):02d}{R.randrange(1, 29):02d}"
    g = str(R.choice([1, 2]) if y < 2000 else R.choice([3, 4]))
    rest = g + f"{R.randrange(0, 96):02d}" + digits(3)
    n = s + rest
    c = (11 - sum(int(x) * w for x, w in zip(n, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])) % 11) % 10
    return s + ("-" if dash else "") + rest + str(c)


def dea():
    first = R.choice("ABFGMPRX")
    d = [R.randrange(10) for _ in range(6)]
    c = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return first + R.choice(UP) + "".join(map(str, d)) + str(c)


def itin():
    mid = R.choice(list(range(50, 66)) + list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
    return f"9{R.randrange(0, 100):02d}-{mid:02d}-{R.randrange(1, 10000):04d}"


def nino():
    first = R.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = R.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in ("BG", "GB", "NK", "KN", "NT", "TN", "ZZ"):
        return nino()
    return first + second + digits(6) + R.choice("ABCD")


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check(version):
    payload = bytes([version]) + bytes(R.randrange(256) for _ in range(20))
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + s


CH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def polymod(values):
    g = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= g[i] if (top >> i) & 1 else 0
    return chk


def bech32():
    hrp = "bc"
    data = [0] + [R.randrange(32) for _ in range(32)]
    values = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp] + data
    pm = polymod(values + [0] * 6) ^ 1
    return hrp + "1" + "".join(CH[d] for d in data + [(pm >> 5 * (5 - i)) & 31 for i in range(6)])


def corrupt_digit(s, pos=-1):
    """Changes one digit (the check digit by default) so the checksum fails."""
    chars = list(s)
    idx = [i for i, c in enumerate(chars) if c.isdigit()]
    i = idx[pos]
    chars[i] = str((int(chars[i]) + R.randrange(1, 10)) % 10)
    return "".join(chars)


def corrupt_letter(s):
    chars = list(s)
    chars[-1] = R.choice([c for c in UP if c != chars[-1]])
    return "".join(chars)


def group(s, sizes, sep=" "):
    out, i = [], 0
    for n in sizes:
        out.append(s[i:i + n])
        i += n
    return sep.join(out)


# ---- lines --------------------------------------------------------------------

ROWS = []


def add(template, *values):
    """`template` has {} per value; values are (type or None, text)."""
    text = ""
    ents = []
    parts = template.split("{}")
    assert len(parts) == len(values) + 1, template
    for part, (ty, v) in zip(parts, values):
        text += part
        if ty:
            b = len(text.encode())
            ents.append({"type": ty, "start": b, "end": b + len(v.encode()), "start_char": len(text),
                         "end_char": len(text) + len(v), "value": v})
        text += v
    text += parts[-1]
    ROWS.append({"id": f"rec-{len(ROWS):04d}", "text": text, "entities": ents})


def many(n, templates, gen, ty):
    for i in range(n):
        add(templates[i % len(templates)], (ty, gen()))


many(12, ["Patient NHS number: {}, seen 3 March.", "NHS no {} (Leeds)", "Ihr NHS-Nummer lautet {}.",
          "Please quote your NHS number {} when you call the surgery."],
     lambda: R.choice([lambda s: group(s, [3, 3, 4]), lambda s: s, lambda s: group(s, [3, 3, 4], "-")])(nhs()), "UK_NHS")
many(10, ["National Insurance number {} on the P60.", "NI no. {}", "his NINO is {} according to HMRC"],
     lambda: R.choice([lambda s: s, lambda s: group(s, [2, 2, 2, 2, 1])])(nino()), "UK_NINO")
many(12, ["DNI {} del titular", "Mi NIF es {}, gracias.", "Tax ID (NIF): {}", "El documento nacional de identidad {} caduca en 2030."],
     lambda: R.choice([lambda s: s, lambda s: s[:-1] + "-" + s[-1]])(nif()), "ES_NIF")
many(10, ["NIE: {}", "Número de identidad de extranjero {} asignado.", "residence card NIE {}"], nie, "ES_NIE")
many(12, ["Codice fiscale: {}", "il suo codice fiscale è {} secondo l'anagrafe", "CF {} - Milano",
          "Italian tax code {} on the contract"], fiscal_code, "IT_FISCAL_CODE")
many(10, ["PAN card: {}", "Permanent Account Number {} linked to Aadhaar", "pan no {}"], pan, "IN_PAN")
many(12, ["Aadhaar {} verified by UIDAI", "आधार संख्या: {}", "aadhaar no. {}", "UIDAI number {} (enrolment)"],
     lambda: R.choice([lambda s: group(s, [4, 4, 4]), lambda s: s])(aadhaar()), "IN_AADHAAR")
many(10, ["NRIC {} issued in Singapore", "FIN: {}", "Singapore IC number {} on the form"], nric, "SG_NRIC_FIN")
many(10, ["ABN {}", "Australian Business Number: {}", "supplier ABN {} (GST registered)"],
     lambda: R.choice([lambda s: group(s, [2, 3, 3, 3]), lambda s: s])(abn()), "AU_ABN")
many(10, ["ACN {}", "Australian Company Number {} Pty Ltd", "company (ACN: {})"],
     lambda: R.choice([lambda s: group(s, [3, 3, 3]), lambda s: s])(acn()), "AU_ACN")
many(10, ["TFN {}", "My tax file number is {}.", "tax file no: {}"],
     lambda: R.choice([lambda s: group(s, [3, 3, 3]), lambda s: s])(tfn()), "AU_TFN")
many(10, ["Medicare card {}", "medicare number: {}", "Medicare no. {} expiring 05/28"],
     lambda: R.choice([lambda s: group(s, [4, 5, 1]), lambda s: s])(medicare()), "AU_MEDICARE")
many(12, ["PESEL: {}", "numer PESEL {} (ur. w Krakowie)", "Polish ID number PESEL {}"], pesel, "PL_PESEL")
many(10, ["Henkilötunnus: {}", "hetu {} ", "personal identity code {}", "personbeteckning {}"], hetu, "FI_PERSONAL_IDENTITY_CODE")
many(10, ["주민등록번호: {}", "RRN {}", "Resident registration number {} on file"], rrn, "KR_RRN")
many(10, ["DEA number {}", "prescriber DEA# {}", "Medical licence (DEA) {} renewed"], dea, "MEDICAL_LICENSE")
many(10, ["ITIN {}", "Individual taxpayer identification number: {}", "my taxpayer id {} for the W-7"], itin, "US_ITIN")
many(8, ["Passport number {}", "US passport no. {} expires 2031", "passport# {}"],
     lambda: R.choice([lambda: digits(9), lambda: R.choice(UP) + digits(8)])(), "US_PASSPORT")
many(8, ["Driver's license {}", "DL# {} (California)", "driver licence number: {}"],
     lambda: R.choice([lambda: R.choice(UP) + digits(7), lambda: R.choice(UP) + digits(12), lambda: digits(9)])(), "US_DRIVER_LICENSE")
many(8, ["checking account {}", "Bank account number: {}", "acct # {} at the credit union"],
     lambda: digits(R.randrange(8, 15)), "US_BANK_NUMBER")
many(10, ["BTC wallet {}", "send to {} please", "bitcoin address: {}"],
     lambda: R.choice([lambda: b58check(0), lambda: b58check(5), bech32])(), "CRYPTO")

urls = ["https://www.example.org/docs/getting-started?lang=en", "http://intranet.acme-corp.co.uk/hr/leave",
        "https://api.example.com/v2/users/42", "www.example.net/about", "https://example.io/", "ftp://files.example.edu/pub/readme.txt",
        "https://docs.example.dev/guide#install", "http://192.0.2.10:8080/status", "https://shop.example.com.au/cart?item=3&qty=2",
        "https://example.org"]
for i, u in enumerate(urls):
    add(["See {} for details.", "Link: {}", "the docs ({}) explain it", "Open {}, then log in."][i % 4], ("URL", u))

dates = ["2024-03-15", "15/03/2024", "03/15/2024", "15.03.2024", "2023-11-02T14:30:00Z", "March 15, 2024",
         "15 March 2024", "7 Feb 2025", "12/31/99", "1 de marzo de 2024", "2025-01-09", "31.12.1999", "Jan 3, 2026",
         "09/08/2023", "2022-06-30 08:15"]
for i, d in enumerate(dates):
    add(["Born on {}.", "Appointment: {}", "invoice dated {}", "Fecha: {}", "last login {}"][i % 5], ("DATE_TIME", d))

# Several entities in one line.
add("Customer {} (NIE {}) paid with account {} on {}.", (None, "Lopez"), ("ES_NIE", nie()), (None, "ES91 2100 0418 4502 0005 1332"), ("DATE_TIME", "2024-02-29"))
add("Employee record: TFN {}, Medicare {}, start date {}.", ("AU_TFN", group(tfn(), [3, 3, 3])), ("AU_MEDICARE", medicare()), ("DATE_TIME", "03/04/2023"))
add("Dados: PESEL {} i NIP 123-456-32-18, data {}", ("PL_PESEL", pesel()), ("DATE_TIME", "12.05.2021"))

# ---- look-alikes (no entities) -----------------------------------------------
for gen, tpl in [
    (lambda: group(corrupt_digit(nhs()), [3, 3, 4]), "Patient NHS number: {} (check it)"),
    (lambda: corrupt_letter(nif()), "DNI {} del titular"),
    (lambda: corrupt_letter(nie()), "NIE: {}"),
    (lambda: corrupt_letter(fiscal_code()), "Codice fiscale: {}"),
    (lambda: group(corrupt_digit(aadhaar()), [4, 4, 4]), "Aadhaar {} verified"),
    (lambda: corrupt_letter(nric()), "NRIC {} issued"),
    (lambda: group(corrupt_digit(abn()), [2, 3, 3, 3]), "ABN {}"),
    (lambda: group(corrupt_digit(acn()), [3, 3, 3]), "ACN {}"),
    (lambda: group(corrupt_digit(tfn()), [3, 3, 3]), "tax file number {}"),
    (lambda: corrupt_digit(medicare(), -2), "Medicare card {}"),
    (lambda: corrupt_digit(pesel()), "PESEL: {}"),
    (lambda: corrupt_letter(hetu()) if hetu()[-1].isalpha() else corrupt_digit(hetu()), "Henkilötunnus: {}"),
    (lambda: corrupt_digit(rrn()), "RRN {}"),
    (lambda: corrupt_digit(dea()), "DEA number {}"),
]:
    for _ in range(4):
        v = gen()
        add(tpl, (None, v))

for text in [
    "Order 2024-0315-0042 shipped on time.",
    "Invoice INV-20240315-7781 is overdue.",
    "Build 20240315.4 passed all tests.",
    "Version 10.0.19045.3803 installed.",
    "Call 020 7946 0958 after 5pm.",
    "Tracking number 1Z999AA10123456784 out for delivery.",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "Commit 3f2a9c1 fixed the date parser.",
    "The ratio was 3/4 and then 12/32.",
    "Room 15.03 on floor 2.",
    "Score 2024-13-45 is not a date.",
    "Part number AB1234567 in stock.",
    "Serial SN-99887766-XZ replaced.",
    "Table 45/17/2024 at the restaurant.",
    "My phone: +48 512 345 678",
    "ISBN 978-3-16-148410-0 ordered.",
    "Lot 900517-1234567 of the batch (not a person).",
    "Use the bucket s3://my-bucket/logs for output.",
    "Read config.py and main.rs, then run setup.sh.",
    "Our product codes are ABCDE1234F-style internally? no: SKU AB-12-CD.",
    "The IBAN GB82 WEST 1234 5698 7654 32 is not a bank account number here.",
    "Postal code 00-950 Warszawa, ul. Długa 1.",
]:
    add(text.replace("{", "{{").replace("}", "}}") if False else text)

for row in ROWS:
    print(json.dumps(row, ensure_ascii=False))
