/*
 * Native tests of the unicode-c plugin's C code: the scanner on tricky
 * inputs, and every allocation failure in check().
 *
 * The plugin (plugin.c, included below so its statics can be reset) and
 * the wit-bindgen bindings are compiled for the machine; the two host
 * imports are stubbed here. malloc, realloc and free are wrapped by the
 * linker (--wrap) to count live blocks and to fail the Nth allocation.
 * For every case, check() runs once per allocation it makes, failing that
 * one: it must return an error (not crash), and nothing may leak.
 *
 * Built and run by test/run-native.sh; the host-side tests live in
 * tests/plugin_c.rs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/plugin.c"

/* ---- allocation accounting --------------------------------------- */

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long live_blocks;
static long allocations;
static long fail_at; /* fail the allocation with this number (1-based); 0: never */

static int should_fail(void) {
    if (fail_at == 0) return 0;
    return ++allocations == fail_at;
}

void *__wrap_malloc(size_t n) {
    if (should_fail()) return NULL;
    void *p = __real_malloc(n);
    if (p) live_blocks++;
    return p;
}

void *__wrap_realloc(void *p, size_t n) {
    if (should_fail()) return NULL;
    void *q = __real_realloc(p, n);
    if (q && !p) live_blocks++;
    return q;
}

void __wrap_free(void *p) {
    if (p) live_blocks--;
    __real_free(p);
}

/* ---- host imports ------------------------------------------------- */

static const char *const *config_pairs; /* key, value, key, value, ..., NULL */

static void dup_into(guardrail_string_t *s, const char *v) {
    s->len = strlen(v);
    s->ptr = s->len ? __wrap_malloc(s->len) : NULL;
    if (s->len && !s->ptr) abort();
    memcpy(s->ptr, v, s->len);
}

/* What the canonical ABI does for config(): the list and its strings are
 * allocated in the plugin's memory (not subject to fail_at: the host's
 * cabi_realloc traps on failure, which is not the plugin's to handle). */
void __wasm_import_railyard_plugin_host_config(uint8_t *ret) {
    size_t n = 0;
    while (config_pairs && config_pairs[2 * n]) n++;
    long saved = fail_at;
    fail_at = 0;
    guardrail_tuple2_string_string_t *list = n ? __wrap_malloc(n * sizeof *list) : NULL;
    for (size_t i = 0; i < n; i++) {
        dup_into(&list[i].f0, config_pairs[2 * i]);
        dup_into(&list[i].f1, config_pairs[2 * i + 1]);
    }
    fail_at = saved;
    *(guardrail_tuple2_string_string_t **)ret = list;
    *(size_t *)(ret + sizeof(void *)) = n;
}

void __wasm_import_railyard_plugin_host_log(int32_t level, uint8_t *msg, size_t len) {
    (void)level, (void)msg, (void)len;
}

void __component_type_object_force_link_guardrail(void) {}

/* ---- helpers ------------------------------------------------------- */

static int failures;
static long injected; /* allocation failures injected */

#define EXPECT(cond, ...)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

static guardrail_payload_t make_payload(const char *const *texts, size_t n) {
    guardrail_payload_t p;
    memset(&p, 0, sizeof p);
    long saved = fail_at;
    fail_at = 0;
    p.messages.len = n;
    p.messages.ptr = __wrap_malloc(n * sizeof *p.messages.ptr);
    for (size_t i = 0; i < n; i++) {
        dup_into(&p.messages.ptr[i].role, "user");
        dup_into(&p.messages.ptr[i].content, texts[i]);
    }
    fail_at = saved;
    return p;
}

struct outcome {
    bool ok;
    guardrail_verdict_t verdict;
    guardrail_string_t error;
};

static struct outcome run_check(const char *const *texts, size_t n, const char *const *config) {
    config_pairs = config;
    have_cached_settings = false;
    guardrail_payload_t payload = make_payload(texts, n);
    struct outcome o;
    memset(&o, 0, sizeof o);
    o.ok = exports_guardrail_check(&payload, &o.verdict, &o.error);
    return o;
}

static void outcome_free(struct outcome *o) {
    long saved = fail_at;
    fail_at = 0;
    if (o->ok) guardrail_verdict_free(&o->verdict);
    else guardrail_string_free(&o->error);
    fail_at = saved;
}

static char *as_cstr(const guardrail_string_t *s) {
    static char buf[4096];
    size_t n = s->len < sizeof buf - 1 ? s->len : sizeof buf - 1;
    memcpy(buf, s->ptr, n);
    buf[n] = 0;
    return buf;
}

/* "rule-id start end" per finding, joined by "; ". */
static const char *describe(const guardrail_verdict_t *v) {
    static char buf[8192];
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < v->findings.len && at < sizeof buf - 128; i++) {
        const finding_t *f = &v->findings.ptr[i];
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%.*s", i ? "; " : "",
                               (int)f->rule_id.len, (const char *)f->rule_id.ptr);
        if (f->span.is_some)
            at += (size_t)snprintf(buf + at, sizeof buf - at, " %u-%u", f->span.val.start,
                                   f->span.val.end);
    }
    return buf;
}

static void expect_findings(const char *text, const char *const *config, const char *want,
                            action_t want_action) {
    const char *texts[] = {text};
    struct outcome o = run_check(texts, 1, config);
    EXPECT(o.ok, "check failed on %s: %s", text, as_cstr(&o.error));
    if (o.ok) {
        const char *got = describe(&o.verdict);
        EXPECT(strcmp(got, want) == 0, "findings of \"%s\": got [%s], want [%s]", text, got, want);
        EXPECT(o.verdict.action == want_action, "action of \"%s\": got %d, want %d", text,
               o.verdict.action, want_action);
    }
    outcome_free(&o);
}

/* ---- the cases ----------------------------------------------------- */

static void scanner_cases(void) {
    expect_findings("plain ASCII text, nothing to see", NULL, "", ALLOW);
    expect_findings("caf\xc3\xa9 na\xc3\xafve \xe2\x98\x95", NULL, "", ALLOW);
    /* Cyrillic а (U+0430) inside a Latin word. */
    expect_findings("log in at p\xd0\xb0ypal.com now", NULL, "unicode-c.mixed-script 10-17",
                    FLAG);
    /* A Cyrillic word with a Latin o. */
    expect_findings("\xd0\xb4o\xd0\xbc", NULL, "unicode-c.mixed-script 0-5", FLAG);
    /* Plain Russian and Greek words are not homoglyphs. */
    expect_findings("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xce\xb1\xce\xb2", NULL, "",
                    ALLOW);
    /* ZWSP in a word; the word is still one word for the homoglyph rule. */
    expect_findings("ig\xe2\x80\x8bnore", NULL, "unicode-c.zero-width 2-5", FLAG);
    /* A BOM at the start is fine, mid-text it is not. */
    expect_findings("\xef\xbb\xbfhello", NULL, "", ALLOW);
    expect_findings("he\xef\xbb\xbfllo", NULL, "unicode-c.zero-width 2-5", FLAG);
    /* ZWJ in an emoji sequence is fine; between ASCII letters it is not. */
    expect_findings("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", NULL, "", ALLOW);
    expect_findings("a\xe2\x80\x8d\xe2\x80\x8c" "b", NULL, "unicode-c.zero-width 1-7", FLAG);
    /* RLO ... PDF: two runs. */
    expect_findings("x\xe2\x80\xaeyz\xe2\x80\xac", NULL,
                    "unicode-c.bidi-control 1-4; unicode-c.bidi-control 6-9", BLOCK);
    /* Tag characters spelling "hi". */
    expect_findings("ok\xf3\xa0\x81\xa8\xf3\xa0\x81\xa9", NULL, "unicode-c.tag-characters 2-10",
                    BLOCK);
    /* The flag of England: U+1F3F4 + tags "gbeng" + cancel tag. */
    expect_findings("\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xa5\xf3\xa0\x81"
                    "\xae\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf",
                    NULL, "", ALLOW);
    /* One variation selector is style; a run hides bytes. */
    expect_findings("\xe2\x9d\xa4\xef\xb8\x8f", NULL, "", ALLOW);
    expect_findings("A\xef\xb8\x80\xef\xb8\x81", NULL, "unicode-c.variation-selectors 1-7", FLAG);
    /* Invalid UTF-8 is survived. */
    expect_findings("\xff\xfe\xc3(\xe2\x80\xf0\x9f", NULL, "", ALLOW);
    expect_findings("truncated tag \xf3\xa0\x81", NULL, "", ALLOW);

    static const char *const off[] = {"action.bidi_control", "allow", "action.homoglyph",
                                      "block", NULL};
    expect_findings("x\xe2\x80\xaey p\xd0\xb0ypal", off, "unicode-c.mixed-script 6-13", BLOCK);

    /* The reason quotes the hidden text. */
    const char *texts[] = {"ok\xf3\xa0\x81\xa8\xf3\xa0\x81\xa9"};
    struct outcome o = run_check(texts, 1, NULL);
    EXPECT(o.ok && strstr(as_cstr(&o.verdict.reason), "\"hi\"") != NULL, "reason: %s",
           as_cstr(&o.verdict.reason));
    outcome_free(&o);
}

static void config_errors(void) {
    static const char *const bad[][3] = {
        {"action.homoglyph", "maybe", "allow, flag or block"},
        {"max-findings", "-1", "a whole number"},
        {"max-findings", "100001", "a whole number"},
        {"action.bidi", "block", "unknown config key `action.bidi`"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *const config[] = {bad[i][0], bad[i][1], NULL};
        const char *texts[] = {"hello"};
        struct outcome o = run_check(texts, 1, config);
        EXPECT(!o.ok && strstr(as_cstr(&o.error), bad[i][2]), "%s=%s: %s", bad[i][0], bad[i][1],
               o.ok ? "accepted" : as_cstr(&o.error));
        outcome_free(&o);
    }
}

static void max_findings(void) {
    static const char *const three[] = {"max-findings", "3", NULL};
    expect_findings("a\xe2\x80\x8b" "b\xe2\x80\x8b" "c\xe2\x80\x8b" "d\xe2\x80\xae" "e", three,
                    "unicode-c.zero-width 1-4; unicode-c.zero-width 5-8; unicode-c.zero-width "
                    "9-12; unicode-c.more-findings",
                    BLOCK);
    const char *texts[] = {"a\xe2\x80\x8b" "b\xe2\x80\x8b" "c\xe2\x80\x8b" "d\xe2\x80\xae" "e"};
    struct outcome o = run_check(texts, 1, three);
    if (o.ok && o.verdict.findings.len == 4) {
        const finding_t *summary = &o.verdict.findings.ptr[3];
        EXPECT(strcmp(as_cstr(&summary->category), "BIDI_CONTROL") == 0,
               "summary category: %s", as_cstr(&summary->category));
    }
    outcome_free(&o);
}

/* Every allocation check() makes, failed in turn. */
static void allocation_failures(void) {
    static const char *const few[] = {"max-findings", "2", NULL};
    static const char *const bad[] = {"action.homoglyph", "nope", NULL};
    static const char *const *configs[] = {NULL, few, bad};
    const char *texts[] = {
        "ok\xf3\xa0\x81\xa8\xf3\xa0\x81\xa9 p\xd0\xb0ypal \xe2\x80\xae",
        "a\xe2\x80\x8b" "b\xe2\x80\x8b" "c\xe2\x80\x8b" "d\xe2\x80\x8b" "e\xe2\x80\x8b",
        "plain",
    };
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        for (long k = 1;; k++) {
            long before = live_blocks;
            allocations = 0;
            fail_at = k;
            struct outcome o = run_check(texts, 3, configs[c]);
            bool failed_here = allocations >= k;
            fail_at = 0;
            if (failed_here) {
                injected++;
                EXPECT(!o.ok, "config %zu, allocation %ld failed but check succeeded", c, k);
                EXPECT(!o.ok && o.error.len > 0, "config %zu, allocation %ld: empty error", c, k);
            }
            outcome_free(&o);
            EXPECT(live_blocks == before, "config %zu, allocation %ld failed: %ld blocks leaked",
                   c, k, live_blocks - before);
            if (!failed_here) break; /* check() made fewer than k allocations */
        }
    }
}

int main(void) {
    scanner_cases();
    config_errors();
    max_findings();
    long before = live_blocks;
    allocation_failures();
    EXPECT(live_blocks == before, "leaked %ld blocks", live_blocks - before);
    if (failures) {
        fprintf(stderr, "%d native check(s) failed\n", failures);
        return 1;
    }
    printf("unicode-c native tests: all passed (%ld allocation failures injected)\n", injected);
    return 0;
}
