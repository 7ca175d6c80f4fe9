"""banned-topics: a keyword-list guardrail, written in Python.

Blocks or flags messages that talk about topics the operator has banned.
Each topic is a named list of keywords and phrases with an action. It checks
every message of every payload it is given (request and response).

Config (the policy's `[plugins.NAME.config]` table; the host's `config()`
hands it over as flattened dotted keys, one pair per array element):

    topics = ["weapons", "medical"]          # the topics, in report order
    weapons.keywords = ["build a bomb", "untraceable gun"]
    weapons.action = "block"                 # block | flag; default block
    medical.keywords = ["dosage", "prescription"]
    medical.action = "flag"

Matching:
- case-insensitive with full Unicode case folding (`str.casefold`): "GUN",
  "Gun" and "gun" are the same word, and so are "STRASSE" and "Straße";
- whole words and phrases only: "gun" does not match "begun" or "guns",
  "build a bomb" does not match "rebuild a bomber";
- any run of whitespace (spaces, tabs, newlines) in the text matches the
  space between a phrase's words: "build   a\\nbomb" matches "build a bomb".
No other normalisation is done: "b.o.m.b", look-alike letters from other
scripts and NFC/NFD differences are not matched.

Each hit is a finding: rule id `banned-topics.<topic>`, category
`BANNED_TOPIC`, score 1.0, and a span giving the hit's UTF-8 byte range in
the original message (not the folded text). A hit inside another hit of the
same topic ("gun" inside "untraceable gun") is not reported again. The
verdict's action is the most severe among the topics hit (block beats flag)
and its reason names them in config order: "banned topics: weapons,
medical". With no hit it allows. At most 1,000 findings are reported per
payload (the host refuses more than 10,000), the first ones of each keyword
in text order; the action and the reason still count every topic hit.

Bad config makes every check return an error, which the host turns into
the policy's failure mode (fail-closed blocks): a topic with no keywords, a
blank keyword, an action other than block or flag, a key for a topic that
`topics` does not list, or any other key. With no config at all there are
no topics and every payload is allowed.

How it stays inside the host's fuel budget: the Python interpreter is slow
per step, so the scanning is done by C code in the standard library. All
messages are joined into one string, folded with one `str.casefold()` call,
and (when a keyword is a phrase) whitespace runs squeezed to one space
with one `str.split()`; then `str.find` jumps from one occurrence of a keyword to the next, and
Python code runs only there, to check the word boundaries. No regex is
compiled per call (`re.compile` is Python code and costs about a million
operations per pattern); the few regexes used are compiled when the
component is built. A call costs a few operations per byte of text per
keyword, plus a few thousand per occurrence of a keyword.
"""

import bisect
import re
from itertools import accumulate
from operator import attrgetter

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types

NAME = "banned-topics"
VERSION = "0.1.0"
CATEGORY = "BANNED_TOPIC"
MAX_FINDINGS = 1000

ACTIONS = {"block": types.Action.BLOCK, "flag": types.Action.FLAG}
SEVERITY = {types.Action.FLAG: 1, types.Action.BLOCK: 2}

# Joins the messages into one text. It is neither a word character nor
# whitespace, so no keyword or phrase can match across two messages, and
# a message's first and last words still sit on word boundaries.
SEPARATOR = "\x00"

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]+")
WORD = re.compile(r"\w*")
WHITESPACE_RUN = re.compile(r"\s{2,}")


def _expanding_chars():
    """A regex for the characters whose case folding is longer than one character."""
    chars = [
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c < 0xE000 and len(chr(c).casefold()) > 1
    ]
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


# Module-level code runs once, when componentize-py pre-initialises the
# component at build time: these regexes are compiled into the snapshot
# and cost nothing per call.
EXPANDING = _expanding_chars()


class ConfigError(Exception):
    """The plugin's config is unusable; the message says how to fix it."""


def is_word_char(c):
    """What the regex `\\w` matches: letters and digits of any script, and `_`."""
    return c.isalnum() or c == "_"


class Keyword:
    """A keyword or phrase, folded, with its words joined by single spaces."""

    def __init__(self, text):
        words = text.casefold().split()
        self.text = " ".join(words)
        # A boundary is checked only next to a word character: a keyword
        # that starts or ends with punctuation ("$$$", "c++") has no word
        # edge there.
        self.bounded_start = is_word_char(self.text[0])
        self.bounded_end = is_word_char(self.text[-1])

    def find_all(self, squeezed, limit):
        """(start, end) of the first `limit` whole-word occurrences, left to right."""
        text, size, found = self.text, len(self.text), []
        pos = squeezed.find(text)
        while pos != -1 and len(found) < limit:
            end = pos + size
            if (self.bounded_start and pos and is_word_char(squeezed[pos - 1])) or (
                self.bounded_end and end < len(squeezed) and is_word_char(squeezed[end])
            ):
                # Part of a longer word ("the" in "there"). A whole-word
                # occurrence cannot start inside that word: skip past it,
                # so a long run of letters costs one step, not one per letter.
                pos = squeezed.find(text, max(pos + 1, WORD.match(squeezed, pos).end()))
            else:
                found.append((pos, end))
                pos = squeezed.find(text, end)
        return found


class Topic:
    """One banned topic: its name, action and keywords."""

    def __init__(self, name, action, keywords):
        self.name = name
        self.action = action
        self.rule_id = f"{NAME}.{name}"
        self.keywords = [Keyword(k) for k in keywords]


def parse_config(pairs):
    """The topics the config defines, in the order `topics` lists them."""
    names, keywords, actions = [], {}, {}
    for key, value in pairs:
        if key == "topics":
            name = value.strip()
            if not TOPIC_NAME.fullmatch(name):
                raise ConfigError(
                    f"topic name {value!r} must be letters, digits, '-' or '_'"
                )
            if name in names:
                raise ConfigError(f"topic {name!r} is listed twice in `topics`")
            names.append(name)
            continue
        topic, dot, field = key.partition(".")
        if dot and field == "keywords":
            keywords.setdefault(topic, []).append(value)
        elif dot and field == "action":
            if topic in actions:
                raise ConfigError(f"`{key}` is set more than once; give one action")
            actions[topic] = value
        else:
            raise ConfigError(
                f"unknown config key `{key}`: expected `topics`, "
                "`<topic>.keywords` or `<topic>.action`"
            )

    for topic in list(keywords) + list(actions):
        if topic not in names:
            raise ConfigError(
                f"config names topic {topic!r}, which `topics` does not list "
                f"(topics = {names})"
            )

    topics = []
    for name in names:
        words = keywords.get(name, [])
        if not words:
            raise ConfigError(
                f"topic {name!r} has no keywords: set `{name}.keywords = [...]`"
            )
        for word in words:
            if not word.strip():
                raise ConfigError(f"topic {name!r} has a blank keyword")
            if SEPARATOR in word:
                raise ConfigError(f"topic {name!r} has a keyword with a NUL character")
        action_text = actions.get(name, "block")
        action = ACTIONS.get(action_text.strip().lower())
        if action is None:
            raise ConfigError(
                f"`{name}.action` is {action_text!r}; expected \"block\" or \"flag\""
            )
        topics.append(Topic(name, action, words))
    return topics


class OffsetMap:
    """Maps indices in a rewritten text back to indices in the text it came from.

    The rewrites here change a few stretches of the text and leave the rest
    alone: case folding turns a few characters into longer strings ("ß" to
    "ss", "ﬁ" to "fi"), squeezing turns runs of whitespace into one space.
    Each such stretch is recorded (where it starts and ends in both texts);
    between stretches the two texts differ by a constant offset, so a lookup
    is one binary search.
    """

    def __init__(self):
        self.new_starts, self.new_ends, self.old_starts, self.old_ends = [], [], [], []

    def add(self, old_start, old_end, new_start, new_end):
        self.new_starts.append(new_start)
        self.new_ends.append(new_end)
        self.old_starts.append(old_start)
        self.old_ends.append(old_end)

    @classmethod
    def of_casefold(cls, text, folded):
        offsets = cls()
        if len(folded) != len(text):  # else every character folded to one
            shift = 0
            for m in EXPANDING.finditer(text):
                grown = len(m.group().casefold()) - 1
                offsets.add(m.start(), m.end(), m.start() + shift, m.end() + shift + grown)
                shift += grown
        return offsets

    @classmethod
    def of_squeeze(cls, text, squeezed):
        offsets = cls()
        if len(squeezed) != len(text):  # else there was no run to squeeze
            shift = 0
            for m in WHITESPACE_RUN.finditer(text):
                offsets.add(m.start(), m.end(), m.start() - shift, m.start() - shift + 1)
                shift += m.end() - m.start() - 1
        return offsets

    def old(self, index, is_end):
        """The old index of `index`; inside a rewritten stretch, its start (or end, for an end)."""
        if not self.new_starts:
            return index
        k = bisect.bisect_right(self.new_starts, index) - 1
        if k < 0 or index == self.new_starts[k]:
            return self.old_starts[k] if k >= 0 else index
        if index < self.new_ends[k]:
            return self.old_ends[k] if is_end else self.old_starts[k]
        return index - self.new_ends[k] + self.old_ends[k]


def find_hits(topics, messages):
    """Every hit as (message index, start, end, topic index), in code points."""
    if not topics:
        return []
    contents = list(map(attrgetter("content"), messages))
    text = SEPARATOR.join(contents)
    folded = text.casefold()
    squeezed = folded
    if any(" " in k.text for topic in topics for k in topic.keywords):
        # Only phrases need whitespace runs squeezed to one space. `split()`
        # does it in C; the sentinels keep a run at either end as one space.
        squeezed = " ".join(f"{SEPARATOR}{folded}{SEPARATOR}".split())[1:-1]
    found = []
    for t, topic in enumerate(topics):
        for keyword in topic.keywords:
            found.extend(
                (start, -end, t) for start, end in keyword.find_all(squeezed, MAX_FINDINGS)
            )
    if not found:
        return []

    unsqueeze = OffsetMap.of_squeeze(folded, squeezed)
    unfold = OffsetMap.of_casefold(text, folded)
    # Where each message starts in `text` (each is followed by SEPARATOR).
    starts = list(accumulate(map((1).__add__, map(len, contents)), initial=0))
    hits = []
    reach = {}  # per topic, the end of the last hit kept
    found.sort()  # by start, longest first
    for start, end, t in found:
        end = -end
        if end <= reach.get(t, -1):
            continue  # inside the topic's previous hit
        reach[t] = end
        start = unfold.old(unsqueeze.old(start, False), False)
        end = unfold.old(unsqueeze.old(end, True), True)
        i = bisect.bisect_right(starts, start) - 1
        hits.append((i, start - starts[i], end - starts[i], t))
    hits.sort()
    return hits


def byte_spans(hits, messages):
    """Turns code point offsets into UTF-8 byte offsets, one pass per message."""
    spans = []
    current, position, byte_position, ascii_only = -1, 0, 0, True
    for i, start, end, t in hits:
        content = messages[i].content
        if i != current:
            current, position, byte_position = i, 0, 0
            ascii_only = content.isascii()
        if ascii_only:
            spans.append((i, start, end, t))
            continue
        # Hits are sorted by start: encode only the stretch since the last one.
        byte_position += len(content[position:start].encode("utf-8"))
        position = start
        byte_end = byte_position + len(content[start:end].encode("utf-8"))
        spans.append((i, byte_position, byte_end, t))
    return spans


def check_payload(payload, topics):
    hits = find_hits(topics, payload.messages)
    if not hits:
        return types.Verdict(types.Action.ALLOW, "", [])
    hit_topics = sorted({t for _, _, _, t in hits})
    action = max((topics[t].action for t in hit_topics), key=SEVERITY.get)
    names = ", ".join(topics[t].name for t in hit_topics)
    reason = ("banned topic: " if len(hit_topics) == 1 else "banned topics: ") + names
    findings = [
        types.Finding(topics[t].rule_id, CATEGORY, 1.0, types.Span(i, start, end), None)
        for i, start, end, t in byte_spans(hits[:MAX_FINDINGS], payload.messages)
    ]
    return types.Verdict(action, reason, findings)


# The parsed config of the last call. Each call usually gets a fresh
# instance (so this is empty again), but a policy entry with `reuse = true`
# keeps the instance, and then the config is parsed once.
_cached = (None, None)


def topics_from_host():
    global _cached
    pairs = tuple(host.config())
    if _cached[0] != pairs:
        _cached = (pairs, parse_config(pairs))
    return _cached[1]


class WitWorld(wit_world.WitWorld):
    def info(self):
        return types.PluginInfo(NAME, VERSION, [types.Stage.REQUEST, types.Stage.RESPONSE])

    def check(self, payload):
        try:
            return check_payload(payload, topics_from_host())
        except ConfigError as e:
            raise Err(f"{NAME}: bad config: {e}")
        except Exception as e:  # a bug: say what it was instead of trapping
            raise Err(f"{NAME}: internal error: {type(e).__name__}: {e}")
