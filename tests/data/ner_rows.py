"""Shared by the NER set generators (make_ner_faker.py, make_ner_mimesis.py):
a template filled with generated entities, with their offsets."""


def fill(tpl, kinds):
    """Fills each `{}` of `tpl` with the value of the next generator in
    `kinds` (each returns `(type, value)`). Returns the text and its
    entities, with UTF-8 byte offsets (`start`/`end`) and character
    offsets (`start_char`/`end_char`)."""
    text, ents = "", []
    parts = tpl.split("{}")
    for part, gen in zip(parts, kinds):
        ty, v = gen()
        text += part
        b = len(text.encode())
        ents.append({"type": ty, "start": b, "end": b + len(v.encode()), "start_char": len(text),
                     "end_char": len(text) + len(v), "value": v})
        text += v
    text += parts[-1]
    return text, ents
