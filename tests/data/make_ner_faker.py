#!/usr/bin/env python3
"""Writes tests/data/heldout-ner-faker.jsonl: a second PERSON / LOCATION /
ORGANIZATION set whose names come from an independent source, the Faker
library's locale data (10 locales), not from anyone who wrote railyard's
gazetteers. Written after heldout-ner.jsonl turned out to share all its
people's given names and all its places with the gazetteers (the same
person wrote both, corpus first): this set measures generalisation.

    pip install faker==37.4.0
    python3 tests/data/make_ner_faker.py > tests/data/heldout-ner-faker.jsonl

Faker's cities are partly fictional ("Bonnet-sur-Verdier"), as real
traffic has places no list holds; companies are kept when they have two
words or more (a lone surname is not recognisably a company, to a person
either). Countries come in the locale's language.
"""
import json
import random

from faker import Faker
from ner_rows import fill

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "pt_BR", "nl_NL", "en_IN"]
f = Faker(LOCALES)
Faker.seed(2112)
R = random.Random(2112)


def person():
    return ("PERSON", f"{f.first_name()} {f.last_name()}")


def place():
    return ("LOCATION", f.city() if R.random() < 0.7 else f.country())


def company():
    while True:
        c = f.company()
        if len(c.split()) >= 2:
            return ("ORGANIZATION", c)


def address():
    return ("LOCATION", f["en_US"].street_address())


TEMPLATES = [
    ("Could you write a short thank-you note to {} for the help in {}?", [person, place]),
    ("{} from {} asked for a refund on order 5521.", [person, company]),
    ("We are opening a second warehouse in {} next year.", [place]),
    ("Please update the CRM: {} now works at {}.", [person, company]),
    ("Draft an agenda for the call between {} and {}.", [person, person]),
    ("The invoice from {} is addressed to {}.", [company, address]),
    ("Remind {} that the visa appointment in {} is on Tuesday.", [person, place]),
    ("Which documents does {} need to register a branch in {}?", [company, place]),
    ("Summarise the complaint {} filed against {}.", [person, company]),
    ("Best regards, {}", [person]),
    ("Our driver will collect the parcel at {} at noon.", [address]),
    ("{} and {} will share a room at the conference in {}.", [person, person, place]),
]

rows = []
for k in range(120):
    tpl, kinds = TEMPLATES[k % len(TEMPLATES)]
    text, ents = fill(tpl, kinds)
    rows.append({"id": f"nerf-{k:04d}", "text": text, "entities": ents})

for row in rows:
    print(json.dumps(row, ensure_ascii=False))
