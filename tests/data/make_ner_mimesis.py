#!/usr/bin/env python3
"""Writes tests/data/heldout-ner-mimesis.jsonl: the third PERSON / LOCATION /
ORGANIZATION set (issue 21), written *before* the name recognizer was
retrained and kept untouched afterwards.

Independent of everything the recognizer is built or trained from: the
names, cities, addresses and companies come from the Mimesis library's
locale data (not Faker, not railyard's gazetteers); the prompt shapes are
hand-written for this file only (e-mails, support tickets, CRM notes,
chat lines, meeting notes, shipping requests), several sentences and
lines long, with capitalised words that are not entities (products,
plans, features, days, months, headings, acronyms) that must not fire,
and some rows with no entity at all.

    pip install mimesis==18.0.0
    python3 tests/data/make_ner_mimesis.py > tests/data/heldout-ner-mimesis.jsonl

Conventions as the other NER sets: a person is given name and surname (no
title); an address is house number, street name and street type; a city
or a country is a LOCATION; a company is its name with its legal form
when it has one. Offsets: UTF-8 bytes (`start`/`end`) and characters.
"""
import json
import random

from mimesis import Address, Finance, Person
from mimesis.locales import Locale
from ner_rows import fill

SEED = 2126
R = random.Random(SEED)
LOCALES = [Locale.EN, Locale.EN_GB, Locale.DE, Locale.ES, Locale.FR, Locale.IT, Locale.NL, Locale.PL, Locale.PT_BR,
           Locale.SV, Locale.TR, Locale.CS, Locale.DA, Locale.EN_AU, Locale.FI]
PEOPLE = {loc: Person(loc, seed=SEED) for loc in LOCALES}
PLACES = {loc: Address(loc, seed=SEED) for loc in LOCALES}
EN_ADDR = Address(Locale.EN, seed=SEED)
COMPANIES = [Finance(loc, seed=SEED) for loc in [Locale.EN, Locale.EN_GB, Locale.DE, Locale.FR, Locale.NL, Locale.IT,
                                                 Locale.ES, Locale.SV]]


def loc():
    return R.choice(LOCALES)


def person():
    p = PEOPLE[loc()]
    return ("PERSON", f"{p.first_name()} {p.last_name()}")


def city():
    return ("LOCATION", PLACES[loc()].city())


def country():
    return ("LOCATION", EN_ADDR.country())


def address():
    return ("LOCATION", EN_ADDR.address())


def company():
    f = R.choice(COMPANIES)
    c = f.company()
    if R.random() < 0.3 and not c.endswith(("Inc.", "Ltd", "GmbH", "AG", "LLC")):
        c += " " + R.choice(["Inc.", "Ltd", "GmbH", "LLC", "AG", "S.A."])
    return ("ORGANIZATION", c)


P, C, N, A, O = person, city, country, address, company

# Hand-written for this file. Capitalised non-entities on purpose.
TEMPLATES = [
    ("Subject: Re: Premium Plan renewal\n\nHi {},\n\nThanks for the call on Monday. I've attached the Q3 pricing "
     "sheet. Let me know if the Enterprise tier works for {}.\n\nCheers,\n{}", [P, O, P]),
    ("Ticket #48213 — Login fails after Update\nReporter: {}\nCompany: {}\nSteps: open Settings > Security, "
     "enable Two-Factor Auth, restart. Error persists.", [P, O]),
    ("CRM note: spoke with {} ({}) about moving their Berlin-style pop-up to {}. Follow up in March.", [P, O, C]),
    ("can you rewrite this so it sounds friendlier? \"{}, your package is stuck in {} customs, sorry\"", [P, N]),
    ("Please ship the replacement Router X2 to {}, {}. Recipient: {}.", [A, C, P]),
    ("Meeting notes (Tuesday)\n- Attendees: {}, {}\n- Action Items: draft the SLA for {}\n- Next Steps: "
     "review the Dashboard mock-ups", [P, P, O]),
    ("[10:42] {}: is the {} office closed for the holiday?\n[10:43] Support Bot: Yes, until Thursday.", [P, C]),
    ("Write a LinkedIn recommendation for {}, who led the Data Platform team at {} for three years.", [P, O]),
    ("Our new supplier {} is based in {}; their invoices arrive in Euro. Summarise the Payment Terms below.",
     [O, N]),
    ("Dear Hiring Committee,\n\nI am writing to recommend {} for the Senior Analyst role. We worked together "
     "at {} in {}.\n\nKind regards,\n{}", [P, O, C, P]),
    ("Translate to Spanish: The shipment for {} left our {} warehouse on Friday.", [O, C]),
    ("Customer {} says the Smart Thermostat app crashes on Android 14. Account owner: {}.", [P, P]),
    ("Billing address: {}\n{}\nAccount: {}\nPlan: Business Pro (Annual)", [A, C, O]),
    ("Hey, quick one: did {} ever reply about the venue in {}? The Kick-Off is in April.", [P, C]),
    ("Draft a polite reminder to {} at {}: the NDA still has no signature.", [P, O]),
    ("Lead source: Trade Show (Hall B)\nContact: {}\nEmployer: {}\nCountry: {}\nInterest: API Gateway, SSO",
     [P, O, N]),
    ("I moved from {} to {} last year and my Health Card still shows the old address, {}. What do I do?",
     [C, C, A]),
    ("Summarise this thread for {}. Keep the Release Notes section and drop the Jira links.", [P]),
    ("Incident INC-5521: Payment Service degraded. Escalated by {} from {}. Region: {}.", [P, O, C]),
    ("Book a table for four near {} for Saturday, under the name {}.", [A, P]),
    ("Compare the shipping rates from {} and {} to {} for a 20 kg Parcel.", [C, C, N]),
    ("> From: {}\n> Sent: Wednesday\n> Please confirm the Purchase Order for {}.\n\nReply saying we confirm.",
     [P, O]),
    ("Feedback form — Name: {} | City: {} | Rating: Excellent | Comment: Great Customer Service!", [P, C]),
    ("{} has agreed to sponsor the Open Source Summit in {}. Draft the press release.", [O, C]),
    ("Remind me to call {} about the lease on {} before the End of Month.", [P, A]),
]

# Capitalised look-alikes with no entity at all.
NEGATIVES = [
    "Please Review The Attached Quarterly Report Before Friday.",
    "Turn on Dark Mode in Settings, then restart the App.",
    "The Enterprise Plan includes Single Sign-On, Audit Logs and Priority Support.",
    "What is the difference between Standard Shipping and Express Delivery?",
    "Status: Open | Priority: High | Component: Search Index | Assignee: Unassigned",
    "New Year's Eve falls on a Thursday, so the Office closes early.",
    "Explain how the Garbage Collector works in Java and Go.",
    "Action Items:\n- Update the Privacy Policy\n- Renew the SSL Certificate\n- Archive Old Tickets",
    "May I ask why the Premium Account was charged twice in June?",
    "Can you write a haiku about Autumn Leaves and Morning Coffee?",
    "Grace and Hope are values our Team Charter mentions twice.",
    "The Board approved the Annual Budget and the Hiring Plan.",
    "Reset the Admin Password and enable Rate Limiting on the Public API.",
    "Give me three Title Ideas for a blog post about Remote Work.",
    "Black Friday Sale: 30% off all Wireless Headphones until Sunday.",
]

rows = []
k = 0
for rep in range(5):
    for tpl, kinds in TEMPLATES:
        text, ents = fill(tpl, kinds)
        rows.append({"id": f"nerm-{k:04d}", "text": text, "entities": ents})
        k += 1
for text in NEGATIVES:
    rows.append({"id": f"nerm-{k:04d}", "text": text, "entities": []})
    k += 1

for row in rows:
    print(json.dumps(row, ensure_ascii=False))
