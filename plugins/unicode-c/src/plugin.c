/*
 * unicode-c: a guardrail that finds text a reader cannot see, and letters
 * that are not what they look like.
 *
 * What it checks, in the content of every message (system prompts too:
 * retrieved documents and templates carry hidden text as well as callers):
 *
 *   category             rule-id                         what
 *   TAG_CHARACTERS       unicode-c.tag-characters        U+E0000-U+E007F: invisible
 *                                                        copies of ASCII ("ASCII
 *                                                        smuggling"); the reason quotes
 *                                                        the hidden text. Subdivision
 *                                                        flags (England...) are fine.
 *   BIDI_CONTROL         unicode-c.bidi-control          U+202A-U+202E, U+2066-U+2069:
 *                                                        reorder what is displayed
 *                                                        ("Trojan Source")
 *   INVISIBLE_CHARACTER  unicode-c.zero-width            U+200B-U+200D, U+2060, U+FEFF
 *                                                        after the first byte; ZWJ/ZWNJ
 *                                                        between emoji or in Arabic and
 *                                                        Indic text are fine
 *                        unicode-c.invisible-format      U+00AD soft hyphen, U+180E,
 *                                                        U+2061-U+2064
 *                        unicode-c.variation-selectors   runs of two or more of
 *                                                        U+FE00-U+FE0F, U+E0100-U+E01EF
 *                                                        (one picks an emoji's style; a
 *                                                        run encodes bytes; the reason
 *                                                        quotes them)
 *   HOMOGLYPH            unicode-c.mixed-script          a word mixing Latin letters
 *                                                        with Cyrillic or Greek ones
 *                                                        where a letter is a look-alike
 *                                                        ("pаypal" with Cyrillic а)
 *
 * Each finding spans the run of characters (or the word) in its message,
 * in bytes. The verdict is the most severe action among the categories
 * found; the reason counts the findings per category.
 *
 * Config keys:
 *   action.tag_characters       allow | flag | block   (default block)
 *   action.bidi_control         allow | flag | block   (default block)
 *   action.invisible_character  allow | flag | block   (default flag)
 *   action.homoglyph            allow | flag | block   (default flag)
 *       `allow` turns the category's check off: no findings, no cost.
 *   max-findings                0..100000 (default 64): findings listed per
 *       payload; past it, one `unicode-c.more-findings` finding (no span)
 *       stands for the rest, with the category and score of the most
 *       severe of them. The verdict counts them all.
 * Any other key is an error, so a misspelt key is not silently ignored.
 *
 * Memory: every allocation is checked. Out of memory, check() frees what it
 * built and returns an error (the host then applies the policy's failure
 * mode); only if even the error message cannot be allocated does it trap.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "guardrail.h"
#include "unicode_scan.h"

#define PLUGIN_NAME "unicode-c"
#define PLUGIN_VERSION "0.1.0"
#define DEFAULT_MAX_FINDINGS 64
#define MAX_MAX_FINDINGS 100000
/* Hidden text quoted in the reason, in bytes: enough to read the intent. */
#define HIDDEN_TEXT_MAX 120

typedef railyard_plugin_types_action_t action_t;
typedef railyard_plugin_types_finding_t finding_t;

#define ALLOW RAILYARD_PLUGIN_TYPES_ACTION_ALLOW
#define FLAG RAILYARD_PLUGIN_TYPES_ACTION_FLAG
#define BLOCK RAILYARD_PLUGIN_TYPES_ACTION_BLOCK

/* ---- growable text, for reasons and error messages ---------------- */

struct text {
    char *ptr;
    size_t len, cap;
    bool failed; /* an allocation failed; the text is incomplete */
};

static void text_bytes(struct text *t, const void *bytes, size_t n) {
    if (t->failed || n == 0) return;
    if (n > SIZE_MAX / 2 - t->len) {
        t->failed = true;
        return;
    }
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->len + n) cap *= 2;
        char *grown = realloc(t->ptr, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->ptr = grown;
        t->cap = cap;
    }
    memcpy(t->ptr + t->len, bytes, n);
    t->len += n;
}

static void text_str(struct text *t, const char *s) { text_bytes(t, s, strlen(s)); }

static void text_uint(struct text *t, size_t v) {
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_bytes(t, digits + i, sizeof digits - i);
}

/* Appends `s` in double quotes, cut to `max` bytes on a character
 * boundary, with `"` and `\` escaped. */
static void text_quoted(struct text *t, const uint8_t *s, size_t n, size_t max) {
    bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && (s[n] & 0xC0) == 0x80) n--;
    }
    text_str(t, "\"");
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            text_bytes(t, s + from, i - from);
            text_str(t, "\\");
            from = i;
        }
    }
    text_bytes(t, s + from, n - from);
    text_str(t, cut ? "\"..." : "\"");
}

/* Hands the text over as a WIT string (the bindings free it after the
 * call). False, with the text freed, if it is incomplete. */
static bool text_finish(struct text *t, guardrail_string_t *out) {
    if (t->failed) {
        free(t->ptr);
        return false;
    }
    out->ptr = (uint8_t *)t->ptr;
    out->len = t->len;
    return true;
}

static bool string_dup(guardrail_string_t *out, const char *s) {
    size_t n = strlen(s);
    out->len = n;
    out->ptr = NULL;
    if (n == 0) return true;
    out->ptr = malloc(n);
    if (!out->ptr) return false;
    memcpy(out->ptr, s, n);
    return true;
}

/* Sets an error result: `message`, else (when building it ran out of
 * memory) `fallback`. If not even that can be allocated, traps: the host
 * reports the fault and applies the failure mode all the same. */
static void set_error(guardrail_string_t *err, struct text *message, const char *fallback) {
    if (text_finish(message, err)) return;
    struct text t = {0};
    text_str(&t, fallback);
    if (!text_finish(&t, err)) abort();
}

/* ---- settings -------------------------------------------------------- */

struct settings {
    action_t action[UC_CATEGORY_COUNT];
    size_t max_findings;
};

static const char *const ACTION_KEYS[UC_CATEGORY_COUNT] = {
    [UC_INVISIBLE_CHARACTER] = "action.invisible_character",
    [UC_BIDI_CONTROL] = "action.bidi_control",
    [UC_TAG_CHARACTERS] = "action.tag_characters",
    [UC_HOMOGLYPH] = "action.homoglyph",
};

static bool equals(const guardrail_string_t *s, const char *literal) {
    size_t n = strlen(literal);
    return s->len == n && memcmp(s->ptr, literal, n) == 0;
}

static void bad_value(struct text *err, const guardrail_string_t *key,
                      const guardrail_string_t *value, const char *expected) {
    text_str(err, "config key `");
    text_bytes(err, key->ptr, key->len);
    text_str(err, "`: expected ");
    text_str(err, expected);
    text_str(err, ", got ");
    text_quoted(err, value->ptr, value->len, 64);
}

static bool parse_action(const guardrail_string_t *v, action_t *out) {
    if (equals(v, "allow")) *out = ALLOW;
    else if (equals(v, "flag")) *out = FLAG;
    else if (equals(v, "block")) *out = BLOCK;
    else return false;
    return true;
}

static bool parse_count(const guardrail_string_t *v, size_t max, size_t *out) {
    if (v->len == 0 || v->len > 9) return false;
    size_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->ptr[i] < '0' || v->ptr[i] > '9') return false;
        n = n * 10 + (v->ptr[i] - '0');
    }
    if (n > max) return false;
    *out = n;
    return true;
}

/* Reads the settings from the host's config. False, with `err` set, on a
 * bad key or value. */
static bool settings_from_config(struct settings *s, guardrail_string_t *err) {
    static const action_t defaults[UC_CATEGORY_COUNT] = {
        [UC_INVISIBLE_CHARACTER] = FLAG,
        [UC_BIDI_CONTROL] = BLOCK,
        [UC_TAG_CHARACTERS] = BLOCK,
        [UC_HOMOGLYPH] = FLAG,
    };
    memcpy(s->action, defaults, sizeof defaults);
    s->max_findings = DEFAULT_MAX_FINDINGS;

    guardrail_list_tuple2_string_string_t config;
    railyard_plugin_host_config(&config);
    struct text message = {0};
    bool ok = true;
    for (size_t i = 0; i < config.len && ok; i++) {
        const guardrail_string_t *key = &config.ptr[i].f0, *value = &config.ptr[i].f1;
        if (equals(key, "max-findings")) {
            ok = parse_count(value, MAX_MAX_FINDINGS, &s->max_findings);
            if (!ok) bad_value(&message, key, value, "a whole number from 0 to 100000");
            continue;
        }
        int category = -1;
        for (int c = 0; c < UC_CATEGORY_COUNT; c++) {
            if (equals(key, ACTION_KEYS[c])) category = c;
        }
        if (category >= 0) {
            ok = parse_action(value, &s->action[category]);
            if (!ok) bad_value(&message, key, value, "allow, flag or block");
            continue;
        }
        ok = false;
        text_str(&message, "unknown config key `");
        text_bytes(&message, key->ptr, key->len);
        text_str(&message, "`; expected one of max-findings");
        for (int c = 0; c < UC_CATEGORY_COUNT; c++) {
            text_str(&message, ", ");
            text_str(&message, ACTION_KEYS[c]);
        }
    }
    guardrail_list_tuple2_string_string_free(&config);
    if (!ok) set_error(err, &message, PLUGIN_NAME ": invalid config (out of memory describing it)");
    return ok;
}

/* The config cannot change during an instance's life, so an instance that
 * the host reuses reads it once. */
static struct settings cached_settings;
static bool have_cached_settings;

static bool load_settings(struct settings *s, guardrail_string_t *err) {
    if (!have_cached_settings) {
        if (!settings_from_config(&cached_settings, err)) return false;
        have_cached_settings = true;
    }
    *s = cached_settings;
    return true;
}

/* ---- collecting findings ------------------------------------------- */

struct collector {
    const struct settings *settings;
    uint32_t message;
    const uint8_t *content;

    finding_t *items;
    size_t len, cap;
    size_t per_category[UC_CATEGORY_COUNT]; /* every hit, listed or not */

    /* Hits past max-findings, summed up in one finding. */
    size_t dropped;
    enum uc_category dropped_category;
    float dropped_score;

    /* The first run of tag characters (else of variation selectors), whose
     * hidden text the reason quotes. */
    char hidden[HIDDEN_TEXT_MAX];
    size_t hidden_len;
    enum uc_rule hidden_rule;
    bool have_hidden;
};

static void collector_free(struct collector *c) {
    for (size_t i = 0; i < c->len; i++) railyard_plugin_types_finding_free(&c->items[i]);
    free(c->items);
    c->items = NULL;
    c->len = c->cap = 0;
}

/* Appends a finding with a rule id `unicode-c.<rule>`. False when out of
 * memory (nothing is appended then). */
static bool collector_push(struct collector *c, const char *rule, enum uc_category category,
                           float score, const railyard_plugin_types_option_span_t *span) {
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        finding_t *grown = realloc(c->items, cap * sizeof *grown);
        if (!grown) return false;
        c->items = grown;
        c->cap = cap;
    }
    finding_t *f = &c->items[c->len];
    memset(f, 0, sizeof *f);
    struct text id = {0};
    text_str(&id, PLUGIN_NAME ".");
    text_str(&id, rule);
    if (!text_finish(&id, &f->rule_id)) return false;
    if (!string_dup(&f->category, uc_category_name(category))) {
        free(f->rule_id.ptr);
        return false;
    }
    f->score = score;
    f->span = *span;
    f->replacement.is_some = false;
    c->len++;
    return true;
}

static void note_hidden_text(struct collector *c, const struct uc_hit *hit) {
    bool tags = hit->rule == UC_RULE_TAG_CHARACTERS;
    if (c->have_hidden && !(tags && c->hidden_rule != UC_RULE_TAG_CHARACTERS)) return;
    c->hidden_len = uc_hidden_text(c->content, hit->start, hit->end, c->hidden, sizeof c->hidden);
    c->hidden_rule = hit->rule;
    c->have_hidden = true;
}

/* uc_scan's callback. Returns 1 (stop) when out of memory. */
static int collect_hit(void *ctx, const struct uc_hit *hit) {
    struct collector *c = ctx;
    enum uc_category category = uc_rule_category(hit->rule);
    float score = uc_rule_score(hit->rule);
    c->per_category[category]++;
    if (hit->rule == UC_RULE_TAG_CHARACTERS || hit->rule == UC_RULE_VARIATION_SELECTORS)
        note_hidden_text(c, hit);
    if (c->len < c->settings->max_findings) {
        railyard_plugin_types_option_span_t span = {true, {c->message, hit->start, hit->end}};
        return collector_push(c, uc_rule_name(hit->rule), category, score, &span) ? 0 : 1;
    }
    const action_t *action = c->settings->action;
    if (c->dropped == 0 || action[category] > action[c->dropped_category] ||
        (action[category] == action[c->dropped_category] && score > c->dropped_score)) {
        c->dropped_category = category;
        c->dropped_score = score;
    }
    c->dropped++;
    return 0;
}

/* "found TAG_CHARACTERS (1), BIDI_CONTROL (2); hidden text: "...";
 * 70 findings, 64 listed" */
static bool build_reason(const struct collector *c, guardrail_string_t *out) {
    static const enum uc_category order[UC_CATEGORY_COUNT] = {
        UC_TAG_CHARACTERS, UC_BIDI_CONTROL, UC_HOMOGLYPH, UC_INVISIBLE_CHARACTER};
    struct text t = {0};
    text_str(&t, "found ");
    bool first = true;
    for (int i = 0; i < UC_CATEGORY_COUNT; i++) {
        size_t n = c->per_category[order[i]];
        if (n == 0) continue;
        if (!first) text_str(&t, ", ");
        first = false;
        text_str(&t, uc_category_name(order[i]));
        text_str(&t, " (");
        text_uint(&t, n);
        text_str(&t, ")");
    }
    if (c->have_hidden) {
        text_str(&t, c->hidden_rule == UC_RULE_TAG_CHARACTERS
                          ? "; text hidden in tag characters: "
                          : "; bytes hidden in variation selectors: ");
        text_quoted(&t, (const uint8_t *)c->hidden, c->hidden_len, HIDDEN_TEXT_MAX);
    }
    if (c->dropped) {
        text_str(&t, "; ");
        text_uint(&t, c->len + c->dropped);
        text_str(&t, " findings, ");
        text_uint(&t, c->len);
        text_str(&t, " listed");
    }
    return text_finish(&t, out);
}

/* ---- the exports ------------------------------------------------------ */

void exports_guardrail_info(guardrail_plugin_info_t *ret) {
    /* Nothing can be reported from info(): out of memory here, trap. */
    railyard_plugin_types_stage_t *stages = malloc(2 * sizeof *stages);
    if (!stages || !string_dup(&ret->name, PLUGIN_NAME) ||
        !string_dup(&ret->version, PLUGIN_VERSION))
        abort();
    stages[0] = RAILYARD_PLUGIN_TYPES_STAGE_REQUEST;
    stages[1] = RAILYARD_PLUGIN_TYPES_STAGE_RESPONSE;
    ret->stages.ptr = stages;
    ret->stages.len = 2;
}

bool exports_guardrail_check(guardrail_payload_t *payload, guardrail_verdict_t *ret,
                             guardrail_string_t *err) {
    struct settings settings;
    if (!load_settings(&settings, err)) {
        guardrail_payload_free(payload);
        return false;
    }
    unsigned categories = 0;
    for (int c = 0; c < UC_CATEGORY_COUNT; c++) {
        if (settings.action[c] != ALLOW) categories |= 1u << c;
    }

    struct collector c;
    memset(&c, 0, sizeof c);
    c.settings = &settings;
    const railyard_plugin_types_list_message_t *messages = &payload->messages;
    for (size_t m = 0; m < messages->len && categories; m++) {
        c.message = (uint32_t)m;
        c.content = messages->ptr[m].content.ptr;
        if (uc_scan(c.content, messages->ptr[m].content.len, categories, collect_hit, &c))
            goto out_of_memory;
    }

    action_t action = ALLOW;
    for (int k = 0; k < UC_CATEGORY_COUNT; k++) {
        if (c.per_category[k] && settings.action[k] > action) action = settings.action[k];
    }
    ret->action = action;
    ret->reason.ptr = NULL;
    ret->reason.len = 0;
    if (action != ALLOW && !build_reason(&c, &ret->reason)) goto out_of_memory;
    if (c.dropped) {
        railyard_plugin_types_option_span_t none = {false, {0, 0, 0}};
        if (!collector_push(&c, "more-findings", c.dropped_category, c.dropped_score, &none)) {
            free(ret->reason.ptr);
            goto out_of_memory;
        }
    }
    if (c.len == 0) {
        /* The bindings free a list only when it is not empty. */
        free(c.items);
        c.items = NULL;
    }
    ret->findings.ptr = c.items;
    ret->findings.len = c.len;
    guardrail_payload_free(payload);
    return true;

out_of_memory:
    collector_free(&c);
    guardrail_payload_free(payload);
    struct text message = {0};
    text_str(&message, PLUGIN_NAME ": out of memory while checking the payload");
    set_error(err, &message, "out of memory");
    return false;
}
