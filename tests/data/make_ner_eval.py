#!/usr/bin/env python3
"""Writes tests/data/heldout-ner.jsonl: PERSON, LOCATION and ORGANIZATION
in prompts, for issue 21's side-by-side with Presidio + spaCy.

Written before railyard's name recognizer and apart from it: its own
names (drawn from many languages and countries, not from the recognizer's
gazetteers), its own templates (support tickets, CRM notes, travel
requests, HR e-mails, chat), and look-alikes that must not be reported:
capitalised common words at sentence starts, product names, weekdays and
months, job titles, words like "May", "Will", "Bill" used as words.
Seeded, reproducible:

    python3 tests/data/make_ner_eval.py > tests/data/heldout-ner.jsonl

Spans: the name as written, without titles (Dr., Ms.) or possessive 's;
LOCATION covers cities, regions, countries and street addresses (Presidio
maps spaCy's GPE, LOC and FAC to it); ORGANIZATION companies, banks,
universities, hospitals, agencies.
"""
import json
import random

R = random.Random(42021)
PEOPLE = ["Aisha Bello", "Mateo Fernández", "Sofia Rossi", "Kenji Watanabe", "Priya Raman", "Lukas Becker",
          "Chloé Martin", "Olumide Adeyemi", "Hannah Schmidt", "Diego Alvarez", "Mei Lin", "Tomasz Nowak",
          "Fatima Zahra", "Liam O'Connor", "Anna Kowalska", "Rafael Souza", "Ingrid Johansson", "Arjun Mehta",
          "Grace Kim", "Samuel Okafor", "Elena Popescu", "Noah Williams", "Emily Carter", "James Thompson",
          "Yuki Tanaka", "Carlos Mendoza", "Sarah Cohen", "David Levy", "Laura Bianchi", "Ahmed Hassan"]
PLACES = ["Lisbon", "Nairobi", "Toronto", "Kraków", "São Paulo", "Osaka", "Manchester", "Lyon", "Austin",
          "Bangalore", "Denver", "Rotterdam", "Seville", "Melbourne", "Cape Town", "Germany", "Brazil",
          "Canada", "Kenya", "Italy", "California", "Texas", "Bavaria", "Ontario", "Vietnam"]
ORGS = ["Northwind Traders", "Globex Corporation", "Initech", "Umbrella Pharmaceuticals", "Stark Industries",
        "Contoso Ltd", "Fabrikam Inc", "Barclays", "Deutsche Bank", "Siemens", "Unilever", "Toyota", "Microsoft",
        "Harvard University", "Mayo Clinic", "the World Health Organization", "Banco Santander", "Acme Robotics GmbH",
        "Red Cross", "Oxford University"]
ADDRESSES = ["221B Baker Street", "1600 Pennsylvania Avenue", "42 Elm Road", "10 Downing Street", "350 Fifth Avenue"]


def strip_article(o):
    return o[4:] if o.startswith("the ") else o


ROWS = []


def add(template, *values):
    text, ents = "", []
    parts = template.split("{}")
    assert len(parts) == len(values) + 1, template
    for part, (ty, v) in zip(parts, values):
        text += part
        if ty:
            span = strip_article(v) if ty == "ORGANIZATION" else v
            lead = v[: len(v) - len(span)]
            b = len((text + lead).encode())
            ents.append({"type": ty, "start": b, "end": b + len(span.encode()),
                         "start_char": len(text + lead), "end_char": len(text + lead) + len(span), "value": span})
        text += v
    text += parts[-1]
    ROWS.append({"id": f"ner-{len(ROWS):04d}", "text": text, "entities": ents})


P, L, O = (lambda: ("PERSON", R.choice(PEOPLE))), (lambda: ("LOCATION", R.choice(PLACES))), (lambda: ("ORGANIZATION", R.choice(ORGS)))
templates = [
    ("Please draft a reply to {} about the delayed shipment to {}.", [P, L]),
    ("Customer {} from {} called twice about invoice 4471.", [P, L]),
    ("Summarise the email {} sent to the board of {} yesterday.", [P, O]),
    ("{} moved from {} to {} last spring.", [P, L, L]),
    ("Book a table for two in {} on Friday, under the name {}.", [L, P]),
    ("Hi, I'm {} and I work at {} in {}.", [P, O, L]),
    ("Ticket opened by {}: the VPN to the {} office is down.", [P, L]),
    ("Translate this note from {} to the team at {}.", [P, O]),
    ("Can you check whether {} still has a branch in {}?", [O, L]),
    ("Dear {}, thank you for your application to {}.", [P, O]),
    ("My manager {} wants the report before the {} audit.", [P, O]),
    ("Ship the replacement to {}, {} for {}.", [None, L, P]),
    ("{} and {} will present the results in {}.", [P, P, L]),
    ("Write a LinkedIn post congratulating {} on joining {}.", [P, O]),
    ("The patient, {}, was transferred from {} to a clinic in {}.", [P, O, L]),
    ("Regards,\n{}\n{}", [P, O]),
    ("Is {} a good place to visit in October? My friend {} says yes.", [L, P]),
    ("Forward the contract to {} at {} before noon.", [P, O]),
]
for k in range(150):
    tpl, kinds = templates[k % len(templates)]
    vals = []
    for kind in kinds:
        if kind is None:
            vals.append(("LOCATION", R.choice(ADDRESSES)))
        else:
            vals.append(kind())
    add(tpl, *vals)

for text in [
    "Monday is fine, but May would be better for the launch.",
    "Will you summarise this article about renewable energy?",
    "The Senior Product Manager role requires five years of experience.",
    "Bill the customer for the extra hours, please.",
    "Apple pie recipes usually need cinnamon and nutmeg.",
    "Our Premium Plan includes Priority Support and Advanced Analytics.",
    "Please Review The Attached Document Before Tuesday.",
    "Turn on Dark Mode in Settings to save battery.",
    "The Python library handles JSON and YAML files.",
    "Happy New Year to the whole team!",
    "Error: Connection Refused when calling the Payments API.",
    "Grace period for the loan ends in March.",
    "Rose, Lily and Iris are flowers that grow well in shade.",
    "Hope you are well; Mark the calendar for the review.",
    "Read chapter Nine before the Thursday seminar.",
]:
    add(text)

for row in ROWS:
    print(json.dumps(row, ensure_ascii=False))
