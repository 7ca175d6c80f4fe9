"""{{name}}: a railyard guardrail, written in Python.

Blocks any message that contains a banned word.

Config (`[plugins.{{name}}.config]` in a policy, `[config]` in the manifest):
    banned = ["word", "another word"]   # default: ["forbidden-word"]

Each message's content is searched for each banned word, ignoring ASCII
case ("Forbidden-Word" matches, "É" and "é" are different). Every
occurrence (not overlapping the previous one of the same word) is a
finding: rule id `{{name}}.banned`, category BANNED_WORD, score 1.0, and
a span giving its UTF-8 byte range in the message. Any finding blocks
with the reason "banned word"; none allows. An empty banned word is
ignored.

The search runs on the UTF-8 bytes, so the offsets are the byte offsets
the host expects (Python's str indices count characters, not bytes), and
`bytes.lower()` folds ASCII letters only. `bytes.find` scans in C: the
host meters every WebAssembly instruction, and a Python loop over each
character of a 1 MiB message would not fit its budget.
"""

import wit_world
from wit_world.imports import host, types

NAME = "{{name}}"
VERSION = "0.1.0"
DEFAULT_BANNED = ["forbidden-word"]


def banned_words():
    """The `banned` values from the config (one pair per array element)."""
    words = [value for key, value in host.config() if key == "banned"]
    return words or DEFAULT_BANNED


class WitWorld(wit_world.WitWorld):
    def info(self):
        return types.PluginInfo(NAME, VERSION, [types.Stage.REQUEST, types.Stage.RESPONSE])

    def check(self, payload):
        words = [w.encode().lower() for w in banned_words() if w]
        findings = []
        for index, message in enumerate(payload.messages):
            text = message.content.encode().lower()
            for word in words:
                start = text.find(word)
                while start != -1:
                    end = start + len(word)
                    span = types.Span(index, start, end)
                    findings.append(types.Finding(f"{NAME}.banned", "BANNED_WORD", 1.0, span, None))
                    start = text.find(word, end)
        if findings:
            return types.Verdict(types.Action.BLOCK, "banned word", findings)
        return types.Verdict(types.Action.ALLOW, "", [])
