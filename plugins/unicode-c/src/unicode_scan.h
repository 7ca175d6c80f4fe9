/*
 * The detector core of the unicode-c guardrail: one pass over a UTF-8 text
 * that reports invisible characters, bidirectional controls, Unicode tag
 * characters and words that mix Latin with look-alike Cyrillic or Greek
 * letters. It knows nothing about the component model: plugin.c turns its
 * hits into findings, so the core can be compiled and tested natively.
 */
#ifndef UNICODE_SCAN_H
#define UNICODE_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* What a hit is, as reported to the host (`category` of a finding). */
enum uc_category {
    UC_INVISIBLE_CHARACTER,
    UC_BIDI_CONTROL,
    UC_TAG_CHARACTERS,
    UC_HOMOGLYPH,
    UC_CATEGORY_COUNT
};

/* Which rule fired (`rule-id` of a finding); each belongs to one category. */
enum uc_rule {
    UC_RULE_ZERO_WIDTH,          /* U+200B-U+200D, U+2060, U+FEFF mid-text */
    UC_RULE_FORMAT,              /* U+00AD, U+180E, U+2061-U+2064 */
    UC_RULE_VARIATION_SELECTORS, /* runs of two or more variation selectors */
    UC_RULE_BIDI_CONTROL,        /* U+202A-U+202E, U+2066-U+2069 */
    UC_RULE_TAG_CHARACTERS,      /* U+E0000-U+E007F */
    UC_RULE_MIXED_SCRIPT,        /* Latin mixed with Cyrillic/Greek look-alikes */
    UC_RULE_COUNT
};

/* One hit: a run of characters of one rule, or one mixed-script word, as
 * byte offsets [start, end) into the scanned text, on character boundaries. */
struct uc_hit {
    uint32_t start;
    uint32_t end;
    enum uc_rule rule;
};

/* Called once per hit. A non-zero return stops the scan and is returned by
 * uc_scan (plugin.c returns non-zero when it runs out of memory). */
typedef int (*uc_emit_fn)(void *ctx, const struct uc_hit *hit);

/* Scans `text` once and calls `emit` for every hit whose category's bit
 * (1u << category) is set in `categories`. Returns 0, or what `emit`
 * returned to stop. Invalid UTF-8 is tolerated: each bad byte counts as one
 * unknown character. Texts must be shorter than 4 GiB (WIT spans are u32). */
int uc_scan(const uint8_t *text, size_t len, unsigned categories, uc_emit_fn emit, void *ctx);

/* Decodes the ASCII that a run of tag characters or variation selectors in
 * text[start, end) spells (tag U+E0020-U+E007E is ASCII 0x20-0x7E; variation
 * selector N is byte N-1, the "emoji smuggling" encoding). Writes at most
 * `cap` bytes to `out`, printable ASCII only (anything else becomes '?'),
 * and returns how many it wrote. */
size_t uc_hidden_text(const uint8_t *text, size_t start, size_t end, char *out, size_t cap);

enum uc_category uc_rule_category(enum uc_rule rule);
/* The rule's name, e.g. "bidi-control" (the plugin prefixes "unicode-c."). */
const char *uc_rule_name(enum uc_rule rule);
/* The category's name, e.g. "BIDI_CONTROL". */
const char *uc_category_name(enum uc_category category);
/* The score a finding of this rule carries, in 0..1. */
float uc_rule_score(enum uc_rule rule);

#endif
