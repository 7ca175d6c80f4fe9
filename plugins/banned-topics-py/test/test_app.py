"""Unit tests for app.py, on the machine's CPython (run with test/run.sh).

The tests through the host are in tests/plugin_python.rs; these check the
parts that need many cases: every span is compared with a slow reference
that folds, squeezes and maps one character at a time.
"""

import random
import unittest

import app
from wit_world.imports import types


def payload(*texts):
    messages = [types.Message("user", t) for t in texts]
    return types.Payload("r-1", types.Stage.REQUEST, "", "", messages, [])


def spans(topics, *texts):
    """(message, byte start, byte end, topic index) of each hit."""
    p = payload(*texts)
    return app.byte_spans(app.find_hits(topics, p.messages), p.messages)


def reference_spans(topics, *texts):
    """The same, one character at a time: fold each character, squeeze each
    whitespace run, and remember which original character each came from."""
    out = []
    for index, text in enumerate(texts):
        folded, origin = [], []  # one entry per folded character
        for i, c in enumerate(text):
            for f in c.casefold():
                folded.append(f)
                origin.append(i)
        squeezed, first, last = [], [], []  # per squeezed character: folded range
        j = 0
        while j < len(folded):
            k = j + 1
            if folded[j].isspace():
                while k < len(folded) and folded[k].isspace():
                    k += 1
            squeezed.append(" " if folded[j].isspace() else folded[j])
            first.append(j)
            last.append(k - 1)
            j = k
        s = "".join(squeezed)
        for t, topic in enumerate(topics):
            found = []
            for kw in topic.keywords:
                pos = s.find(kw.text)
                while pos != -1:
                    end = pos + len(kw.text)
                    bad_start = kw.bounded_start and pos > 0 and app.is_word_char(s[pos - 1])
                    bad_end = kw.bounded_end and end < len(s) and app.is_word_char(s[end])
                    if bad_start or bad_end:
                        pos = s.find(kw.text, pos + 1)
                    else:
                        found.append((pos, end))
                        pos = s.find(kw.text, end)
            found.sort(key=lambda h: (h[0], -h[1]))
            reach = -1
            for pos, end in found:
                if end <= reach:
                    continue
                reach = end
                start_char = origin[first[pos]]
                end_char = origin[last[end - 1]] + 1
                out.append(
                    (index, len(text[:start_char].encode()), len(text[:end_char].encode()), t)
                )
    return sorted(out)


class ConfigTest(unittest.TestCase):
    def test_topics_keep_their_order_and_default_to_block(self):
        topics = app.parse_config(
            [
                ("topics", "b"),
                ("topics", "a"),
                ("a.keywords", "x"),
                ("b.keywords", "y"),
                ("b.action", " Flag "),
            ]
        )
        self.assertEqual([t.name for t in topics], ["b", "a"])
        self.assertEqual([t.action for t in topics], [types.Action.FLAG, types.Action.BLOCK])
        self.assertEqual(topics[1].rule_id, "banned-topics.a")

    def test_no_config_means_no_topics(self):
        self.assertEqual(app.parse_config([]), [])

    def test_bad_configs_say_what_to_fix(self):
        cases = [
            ([("topics", "a")], "topic 'a' has no keywords"),
            ([("topics", "a"), ("a.keywords", "x"), ("a.action", "kill")], "'kill'"),
            ([("topics", "a"), ("a.keywords", "x"), ("a.action", "flag"), ("a.action", "flag")],
             "set more than once"),
            ([("b.keywords", "x")], "config names topic 'b', which `topics` does not list"),
            ([("topics", "a b")], "topic name 'a b'"),
            ([("topics", "a"), ("topics", "a")], "listed twice"),
            ([("topics", "a"), ("a.keywords", " \t")], "blank keyword"),
            ([("topics", "a"), ("a.keywords", "x\x00y")], "NUL"),
            ([("topics", "a"), ("a.keyword", "x")], "unknown config key `a.keyword`"),
            ([("banned", "x")], "unknown config key `banned`"),
        ]
        for config, says in cases:
            with self.subTest(config=config):
                with self.assertRaises(app.ConfigError) as raised:
                    app.parse_config(config)
                self.assertIn(says, str(raised.exception))


class MatchingTest(unittest.TestCase):
    def setUp(self):
        self.topics = app.parse_config(
            [
                ("topics", "w"),
                ("topics", "m"),
                ("w.keywords", "untraceable gun"),
                ("w.keywords", "gun"),
                ("w.keywords", "$$$"),
                ("m.keywords", "Straße"),
                ("m.action", "flag"),
            ]
        )

    def covered(self, text):
        return [text.encode()[s:e].decode() for _, s, e, _ in spans(self.topics, text)]

    def test_whole_words_only(self):
        self.assertEqual(self.covered("begun guns shotgun gun_x xgun"), [])
        self.assertEqual(self.covered("gun, (GUN) «Gun»"), ["gun", "GUN", "Gun"])

    def test_punctuation_keywords_have_no_word_edge(self):
        self.assertEqual(self.covered("pay$$$now"), ["$$$"])

    def test_phrases_match_any_whitespace_run(self):
        self.assertEqual(self.covered("An UNTRACEABLE \t\n gun."), ["UNTRACEABLE \t\n gun"])

    def test_hits_inside_a_hit_of_the_same_topic_are_not_repeated(self):
        found = spans(self.topics, "an untraceable gun")
        self.assertEqual(len(found), 1)

    def test_full_case_folding_maps_back_to_original_characters(self):
        text = "ßß STRASSE straße ﬁ Straße"
        self.assertEqual(self.covered(text), ["STRASSE", "straße", "Straße"])

    def test_each_keyword_stops_after_the_cap(self):
        found = spans(self.topics, "gun " * (app.MAX_FINDINGS + 50))
        self.assertEqual(len(found), app.MAX_FINDINGS)

    def test_verdict_blocks_on_the_most_severe_topic(self):
        v = app.check_payload(payload("Straße", "a gun"), self.topics)
        self.assertEqual(v.action, types.Action.BLOCK)
        self.assertEqual(v.reason, "banned topics: w, m")
        self.assertEqual([f.span.message for f in v.findings], [0, 1])
        v = app.check_payload(payload("nothing here"), self.topics)
        self.assertEqual((v.action, v.reason, v.findings), (types.Action.ALLOW, "", []))

    def test_random_payloads_agree_with_the_reference(self):
        # Characters that fold to more than one (ß, ﬁ, İ), fold to another
        # letter (ſ, the Kelvin sign), other whitespace, and multi-byte text.
        alphabet = list("-$ab gun ßſ\u0130\u212a \t\n\u00a0ﬁ☕é_x") + ["ss", "GUN", "  ", "Straße"]
        keywords = ["gun", "a b", "ss", "straße", "fi", "ß a", "k", "é", "$x", "x$", "-ab", "aa"]
        rng = random.Random(6)
        for _ in range(3000):
            config = [("topics", "t0"), ("topics", "t1")]
            config += [("t0.keywords", k) for k in rng.sample(keywords, 3)]
            config += [("t1.keywords", k) for k in rng.sample(keywords, 2)]
            topics = app.parse_config(config)
            texts = [
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
                for _ in range(rng.randint(1, 3))
            ]
            got = sorted(spans(topics, *texts))
            self.assertEqual(got, reference_spans(topics, *texts), f"{config} {texts!r}")


if __name__ == "__main__":
    unittest.main()
