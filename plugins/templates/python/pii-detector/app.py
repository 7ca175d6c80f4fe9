"""{{name}}: a railyard PII detector, written in Python.

Finds email addresses. The host decides what to do with them (redact,
block) from the policy; a detector only says where they are.

No config.

For each "@" in a message: the local part is the run of
`A-Z a-z 0-9 . _ % + -` just before it, the domain the run of
`A-Z a-z 0-9 . -` just after it, without trailing dots. It is an address
when the local part is not empty and the domain has a "." with a character
on each side. Each address is a finding: rule id `{{name}}.email`, category
EMAIL_ADDRESS, score 0.9, and a span giving its UTF-8 byte range in the
message.

The scan runs on the UTF-8 bytes, so the offsets are the byte offsets the
host expects (Python's str indices count characters, not bytes), and uses
`bytes.find`, `rstrip` and `lstrip`, which run in C: the host meters every
WebAssembly instruction, and a Python loop over each character of a 1 MiB
message would not fit its budget.
"""

import string

import wit_world
from wit_world.imports import types

NAME = "{{name}}"
VERSION = "0.1.0"

LOCAL_CHARS = (string.ascii_letters + string.digits + "._%+-").encode()
DOMAIN_CHARS = (string.ascii_letters + string.digits + ".-").encode()


def find_emails(text):
    """(start, end) byte offsets of the email addresses in UTF-8 `text`."""
    found = []
    after_previous_at = 0  # neither part can reach past another "@"
    at = text.find(b"@")
    while at != -1:
        next_at = text.find(b"@", at + 1)
        before = text[after_previous_at:at]
        after = text[at + 1 : len(text) if next_at == -1 else next_at]
        local_len = len(before) - len(before.rstrip(LOCAL_CHARS))
        domain = after[: len(after) - len(after.lstrip(DOMAIN_CHARS))].rstrip(b".")
        # The domain ends in no ".", so a "." after its first character
        # has a character on each side.
        if local_len and domain.find(b".", 1) != -1:
            found.append((at - local_len, at + 1 + len(domain)))
        after_previous_at, at = at + 1, next_at
    return found


class WitWorld(wit_world.WitWorld):
    def info(self):
        return types.PluginInfo(NAME, VERSION, [types.Stage.REQUEST, types.Stage.RESPONSE])

    def detect(self, payload):
        findings = []
        for index, message in enumerate(payload.messages):
            for start, end in find_emails(message.content.encode()):
                span = types.Span(index, start, end)
                findings.append(types.Finding(f"{NAME}.email", "EMAIL_ADDRESS", 0.9, span, None))
        return findings
