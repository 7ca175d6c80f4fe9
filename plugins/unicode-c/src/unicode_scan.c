/*
 * One pass over a UTF-8 text, reporting what a reader cannot see.
 *
 * Almost all text the guardrail sees is ASCII, and nothing it looks for is:
 * every finding starts at a byte >= 0x80. So the scan skips ASCII 16 bytes
 * at a time (8 without SIMD) and decodes only the non-ASCII characters.
 * Words matter only to the homoglyph rule, and only around a non-ASCII
 * letter, so a word is opened lazily: on the first Cyrillic, Greek or
 * accented Latin letter, the scan looks back over the ASCII letters just
 * skipped (never further back than the last character it decoded, so every
 * byte is looked at a bounded number of times) and forward until the word
 * ends. Runs of invisible characters of one rule become one hit.
 */
#include "unicode_scan.h"

#include <string.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

/* ASCII classes: a word character, a letter, a letter that looks like a
 * Cyrillic or Greek one (so `o` in a Cyrillic word is a homoglyph). */
enum { A_WORD = 1, A_LETTER = 2, A_LOOKALIKE = 4 };

static const uint8_t ASCII_CLASS[128] = {
#define W A_WORD
#define L (A_WORD | A_LETTER)
#define K (A_WORD | A_LETTER | A_LOOKALIKE)
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* controls */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* controls */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /*  !"#$%&'()*+,-./ */
    W, W, W, W, W, W, W, W, W, W, 0, 0, 0, 0, 0, 0, /* 0-9 :;<=>? */
    0, K, K, K, L, K, L, L, K, K, K, K, L, K, K, K, /* @ A-O */
    K, K, L, K, K, L, L, K, K, K, K, 0, 0, 0, 0, 0, /* P-Z [\]^_ */
    0, K, L, K, K, K, L, L, K, K, K, K, K, L, L, K, /* ` a-o */
    K, K, L, K, L, K, K, K, K, K, L, 0, 0, 0, 0, 0, /* p-z {|}~ DEL */
#undef W
#undef L
#undef K
};

/* Classes of non-ASCII characters, as far as words are concerned. */
enum letter_class { C_OTHER, C_LATIN, C_CYRILLIC, C_GREEK, C_MARK };

static enum letter_class letter_class(uint32_t cp) {
    if (cp < 0x00C0) return C_OTHER;
    if (cp <= 0x024F) return (cp == 0x00D7 || cp == 0x00F7) ? C_OTHER : C_LATIN;
    if (cp >= 0x0300 && cp <= 0x036F) return C_MARK;
    if (cp >= 0x0370 && cp <= 0x03FF)
        return (cp == 0x0375 || cp == 0x037E || cp == 0x0387) ? C_OTHER : C_GREEK;
    if (cp >= 0x0400 && cp <= 0x052F) {
        if (cp >= 0x0483 && cp <= 0x0489) return C_MARK;
        return cp == 0x0482 ? C_OTHER : C_CYRILLIC;
    }
    if (cp >= 0x1E00 && cp <= 0x1EFF) return C_LATIN;
    return C_OTHER;
}

/* Cyrillic and Greek letters that look like a Latin letter in common fonts. */
static int looks_latin(uint32_t cp) {
    switch (cp) {
    /* Greek */
    case 0x037F: /* Ϳ J */
    case 0x0391: case 0x0392: case 0x0395: case 0x0396: case 0x0397: /* Α Β Ε Ζ Η */
    case 0x0399: case 0x039A: case 0x039C: case 0x039D: case 0x039F: /* Ι Κ Μ Ν Ο */
    case 0x03A1: case 0x03A4: case 0x03A5: case 0x03A7:              /* Ρ Τ Υ Χ */
    case 0x03B1: case 0x03B9: case 0x03BA: case 0x03BD: case 0x03BF: /* α ι κ ν ο */
    case 0x03C1: case 0x03C5: case 0x03C7:                           /* ρ υ χ */
    case 0x03F2: case 0x03F3: case 0x03F9:                           /* ϲ ϳ Ϲ */
    /* Cyrillic */
    case 0x0405: case 0x0406: case 0x0408:                           /* Ѕ І Ј */
    case 0x0410: case 0x0412: case 0x0415: case 0x041A: case 0x041C: /* А В Е К М */
    case 0x041D: case 0x041E: case 0x0420: case 0x0421: case 0x0422: /* Н О Р С Т */
    case 0x0425:                                                     /* Х */
    case 0x0430: case 0x0435: case 0x043E: case 0x0440: case 0x0441: /* а е о р с */
    case 0x0443: case 0x0445:                                        /* у х */
    case 0x0455: case 0x0456: case 0x0458: case 0x0475:              /* ѕ і ј ѵ */
    case 0x04AE: case 0x04AF: case 0x04BB: case 0x04C0: case 0x04CF: /* Ү ү һ Ӏ ӏ */
    case 0x0501: case 0x051A: case 0x051B: case 0x051C: case 0x051D: /* ԁ Ԛ ԛ Ԝ ԝ */
        return 1;
    default:
        return 0;
    }
}

/* The rule an invisible or formatting character belongs to, or
 * UC_RULE_COUNT for an ordinary character. */
static enum uc_rule format_rule(uint32_t cp) {
    if (cp < 0x2000) {
        return (cp == 0x00AD || cp == 0x180E) ? UC_RULE_FORMAT : UC_RULE_COUNT;
    }
    if (cp <= 0x206F) {
        if (cp >= 0x200B && cp <= 0x200D) return UC_RULE_ZERO_WIDTH;
        if (cp >= 0x202A && cp <= 0x202E) return UC_RULE_BIDI_CONTROL;
        if (cp == 0x2060) return UC_RULE_ZERO_WIDTH;
        if (cp >= 0x2061 && cp <= 0x2064) return UC_RULE_FORMAT;
        if (cp >= 0x2066 && cp <= 0x2069) return UC_RULE_BIDI_CONTROL;
        return UC_RULE_COUNT;
    }
    if (cp >= 0xFE00 && cp <= 0xFE0F) return UC_RULE_VARIATION_SELECTORS;
    if (cp == 0xFEFF) return UC_RULE_ZERO_WIDTH;
    if (cp >= 0xE0000 && cp <= 0xE007F) return UC_RULE_TAG_CHARACTERS;
    if (cp >= 0xE0100 && cp <= 0xE01EF) return UC_RULE_VARIATION_SELECTORS;
    return UC_RULE_COUNT;
}

static int is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

/* Decodes the character at s[i]; sets *n to its length in bytes. A byte
 * that does not start a valid sequence decodes as U+FFFD of length 1. */
static uint32_t decode(const uint8_t *s, size_t len, size_t i, size_t *n) {
    uint8_t b0 = s[i];
    if (b0 < 0x80) {
        *n = 1;
        return b0;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (i + 1 < len && is_continuation(s[i + 1])) {
            *n = 2;
            return ((uint32_t)(b0 & 0x1F) << 6) | (s[i + 1] & 0x3F);
        }
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (i + 2 < len && is_continuation(s[i + 1]) && is_continuation(s[i + 2])) {
            uint32_t cp = ((uint32_t)(b0 & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
                          (s[i + 2] & 0x3F);
            if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
                *n = 3;
                return cp;
            }
        }
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (i + 3 < len && is_continuation(s[i + 1]) && is_continuation(s[i + 2]) &&
            is_continuation(s[i + 3])) {
            uint32_t cp = ((uint32_t)(b0 & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                          ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
            if (cp >= 0x10000 && cp <= 0x10FFFF) {
                *n = 4;
                return cp;
            }
        }
    }
    *n = 1;
    return 0xFFFD;
}

/* The index of the first byte >= 0x80 at or after i, or len. */
static size_t skip_ascii(const uint8_t *s, size_t i, size_t len) {
#ifdef __wasm_simd128__
    while (i + 16 <= len) {
        uint32_t high_bits = wasm_i8x16_bitmask(wasm_v128_load(s + i));
        if (high_bits) return i + (size_t)__builtin_ctz(high_bits);
        i += 16;
    }
#else
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
#endif
    while (i < len && s[i] < 0x80) i++;
    return i;
}

struct scanner {
    const uint8_t *s;
    size_t len;
    unsigned categories;
    uc_emit_fn emit;
    void *ctx;
    /* The last non-ASCII character decoded (it ends where the scan is, when
     * the byte before the scan position is not ASCII). */
    uint32_t last_cp;

    /* The word being read, when a non-ASCII letter opened one. */
    int word_open;
    size_t word_start, word_end;
    int latin, latin_lookalike, other, other_lookalike;

    /* The run of invisible characters of one rule being read. */
    int run_open;
    enum uc_rule run_rule;
    size_t run_start, run_end;
    uint32_t run_count;
    uint32_t run_before; /* the character before the run; 0 at the start */
    uint32_t run_last;
    int run_is_flag_tag; /* only tag digits and lowercase letters so far */
};

static int emit_hit(struct scanner *sc, enum uc_rule rule, size_t start, size_t end) {
    if (!(sc->categories & (1u << uc_rule_category(rule)))) return 0;
    struct uc_hit hit = {(uint32_t)start, (uint32_t)end, rule};
    return sc->emit(sc->ctx, &hit);
}

/* The character that ends at byte i. */
static uint32_t char_before(const struct scanner *sc, size_t i) {
    if (i == 0) return 0;
    return sc->s[i - 1] < 0x80 ? sc->s[i - 1] : sc->last_cp;
}

static int run_close(struct scanner *sc);

static int word_close(struct scanner *sc) {
    sc->word_open = 0;
    /* Hits go out in the order they start: a run that ended before the
     * word cannot grow any more, so it goes first. */
    if (sc->run_open && sc->run_start < sc->word_start) {
        int r = run_close(sc);
        if (r) return r;
    }
    if ((sc->latin && sc->other_lookalike) || (sc->other && sc->latin_lookalike))
        return emit_hit(sc, UC_RULE_MIXED_SCRIPT, sc->word_start, sc->word_end);
    return 0;
}

static void word_note_ascii(struct scanner *sc, uint8_t c) {
    uint8_t k = ASCII_CLASS[c];
    if (k & A_LETTER) sc->latin = 1;
    if (k & A_LOOKALIKE) sc->latin_lookalike = 1;
}

/* Opens a word at the non-ASCII letter at i, taking in the ASCII letters
 * and digits right before it, but nothing before `bound`. */
static void word_open(struct scanner *sc, size_t i, size_t bound) {
    sc->word_open = 1;
    sc->latin = sc->latin_lookalike = sc->other = sc->other_lookalike = 0;
    size_t start = i;
    while (start > bound && (ASCII_CLASS[sc->s[start - 1]] & A_WORD)) {
        start--;
        word_note_ascii(sc, sc->s[start]);
    }
    sc->word_start = start;
}

static void word_note_letter(struct scanner *sc, uint32_t cp, enum letter_class cls) {
    if (cls == C_LATIN) {
        sc->latin = 1;
    } else if (cls == C_CYRILLIC || cls == C_GREEK) {
        sc->other = 1;
        if (looks_latin(cp)) sc->other_lookalike = 1;
    }
}

/* A subdivision flag (England, Scotland, Wales) is U+1F3F4, two to seven
 * tag digits or lowercase letters, and the cancel tag U+E007F: a
 * legitimate use of tag characters, not a finding. */
static int run_is_flag(const struct scanner *sc) {
    return sc->run_before == 0x1F3F4 && sc->run_last == 0xE007F && sc->run_is_flag_tag &&
           sc->run_count >= 3 && sc->run_count <= 8;
}

static int run_close(struct scanner *sc) {
    if (!sc->run_open) return 0;
    sc->run_open = 0;
    /* One variation selector picks a glyph (emoji or text style); a hidden
     * message needs a run of them. */
    if (sc->run_rule == UC_RULE_VARIATION_SELECTORS && sc->run_count < 2) return 0;
    if (sc->run_rule == UC_RULE_TAG_CHARACTERS && run_is_flag(sc)) return 0;
    return emit_hit(sc, sc->run_rule, sc->run_start, sc->run_end);
}

static int run_add(struct scanner *sc, enum uc_rule rule, uint32_t cp, size_t i, size_t n) {
    if (!(sc->run_open && sc->run_rule == rule && sc->run_end == i)) {
        int r = run_close(sc);
        if (r) return r;
        sc->run_open = 1;
        sc->run_rule = rule;
        sc->run_start = i;
        sc->run_count = 0;
        sc->run_before = char_before(sc, i);
        sc->run_last = 0;
        sc->run_is_flag_tag = 1;
    }
    if (rule == UC_RULE_TAG_CHARACTERS) {
        int flag_char = (cp >= 0xE0030 && cp <= 0xE0039) || (cp >= 0xE0061 && cp <= 0xE007A) ||
                        cp == 0xE007F;
        if (!flag_char || sc->run_last == 0xE007F) sc->run_is_flag_tag = 0;
    }
    sc->run_end = i + n;
    sc->run_count++;
    sc->run_last = cp;
    return 0;
}

/* A visible character of a script that joins with ZWJ/ZWNJ: emoji,
 * Arabic, Indic... but not Latin, Cyrillic or Greek, whose words have no
 * use for joiners. */
static int joinable(uint32_t cp) {
    return cp >= 0x80 && format_rule(cp) == UC_RULE_COUNT && letter_class(cp) == C_OTHER;
}

/* ZWJ and ZWNJ between two joinable characters shape emoji sequences and
 * Arabic or Indic text; anywhere else they hide something. */
static int joins_visible(const struct scanner *sc, size_t i, size_t n) {
    uint32_t before = char_before(sc, i);
    int before_ok = joinable(before) || format_rule(before) == UC_RULE_VARIATION_SELECTORS;
    if (!before_ok || i + n >= sc->len) return 0;
    size_t m;
    return joinable(decode(sc->s, sc->len, i + n, &m));
}

static int on_format(struct scanner *sc, enum uc_rule rule, uint32_t cp, size_t i, size_t n) {
    if (rule == UC_RULE_ZERO_WIDTH) {
        if (cp == 0xFEFF && i == 0) return 0; /* a byte-order mark */
        if ((cp == 0x200C || cp == 0x200D) && joins_visible(sc, i, n)) return 0;
    }
    return run_add(sc, rule, cp, i, n);
}

int uc_scan(const uint8_t *text, size_t len, unsigned categories, uc_emit_fn emit, void *ctx) {
    struct scanner sc;
    memset(&sc, 0, sizeof sc);
    sc.s = text;
    sc.len = len;
    sc.categories = categories;
    sc.emit = emit;
    sc.ctx = ctx;
    int words = (categories & (1u << UC_HOMOGLYPH)) != 0;
    size_t i = 0;
    size_t bound = 0; /* the end of the last character decoded */
    int r;

    while (i < len) {
        if (sc.word_open) {
            /* Read the word on over ASCII letters and digits. */
            size_t from = i;
            while (i < len && text[i] < 0x80 && (ASCII_CLASS[text[i]] & A_WORD)) {
                word_note_ascii(&sc, text[i]);
                i++;
            }
            if (i > from) sc.word_end = i;
            if (i >= len || text[i] < 0x80) {
                if ((r = word_close(&sc))) return r;
                continue;
            }
        } else {
            i = skip_ascii(text, i, len);
            if (i >= len) break;
        }

        size_t n;
        uint32_t cp = decode(text, len, i, &n);
        enum uc_rule rule = format_rule(cp);
        if (rule != UC_RULE_COUNT) {
            /* Invisible characters neither end nor extend a word, so
             * "pa<ZWSP>ypal" is still one word. */
            if ((r = on_format(&sc, rule, cp, i, n))) return r;
        } else {
            enum letter_class cls = letter_class(cp);
            if (cls != C_OTHER && words) {
                if (!sc.word_open) word_open(&sc, i, bound);
                word_note_letter(&sc, cp, cls);
                sc.word_end = i + n;
            } else if (sc.word_open) {
                if ((r = word_close(&sc))) return r;
            }
        }
        sc.last_cp = cp;
        i += n;
        bound = i;
    }
    if (sc.word_open && (r = word_close(&sc))) return r;
    return run_close(&sc);
}

size_t uc_hidden_text(const uint8_t *text, size_t start, size_t end, char *out, size_t cap) {
    size_t i = start, written = 0;
    while (i < end && written < cap) {
        size_t n;
        uint32_t cp = decode(text, end, i, &n);
        i += n;
        int byte;
        if (cp >= 0xE0020 && cp <= 0xE007E) {
            byte = (int)(cp - 0xE0000);
        } else if (cp >= 0xFE00 && cp <= 0xFE0F) {
            byte = (int)(cp - 0xFE00);
        } else if (cp >= 0xE0100 && cp <= 0xE01EF) {
            byte = (int)(cp - 0xE0100) + 16;
        } else {
            continue; /* the language tag U+E0001, the cancel tag U+E007F */
        }
        out[written++] = (byte >= 0x20 && byte < 0x7F) ? (char)byte : '?';
    }
    return written;
}

enum uc_category uc_rule_category(enum uc_rule rule) {
    switch (rule) {
    case UC_RULE_BIDI_CONTROL:
        return UC_BIDI_CONTROL;
    case UC_RULE_TAG_CHARACTERS:
        return UC_TAG_CHARACTERS;
    case UC_RULE_MIXED_SCRIPT:
        return UC_HOMOGLYPH;
    default:
        return UC_INVISIBLE_CHARACTER;
    }
}

const char *uc_rule_name(enum uc_rule rule) {
    static const char *const names[UC_RULE_COUNT] = {
        "zero-width", "invisible-format", "variation-selectors",
        "bidi-control", "tag-characters", "mixed-script",
    };
    return (unsigned)rule < UC_RULE_COUNT ? names[rule] : "unknown";
}

const char *uc_category_name(enum uc_category category) {
    static const char *const names[UC_CATEGORY_COUNT] = {
        "INVISIBLE_CHARACTER", "BIDI_CONTROL", "TAG_CHARACTERS", "HOMOGLYPH",
    };
    return (unsigned)category < UC_CATEGORY_COUNT ? names[category] : "UNKNOWN";
}

float uc_rule_score(enum uc_rule rule) {
    /* How sure a hit is to be an attack rather than typography: tag
     * characters have no other use outside flags; a soft hyphen often is
     * just hyphenation. */
    static const float scores[UC_RULE_COUNT] = {0.7f, 0.5f, 0.8f, 0.9f, 1.0f, 0.8f};
    return (unsigned)rule < UC_RULE_COUNT ? scores[rule] : 0.5f;
}
