/*
 * employee-ids: a railyard PII detector for one company's own entity, the
 * employee id `EMP-` followed by exactly six digits (EMP-004217), as an
 * outside plugin author writes it: the C template's pii-detector with the
 * e-mail matcher replaced. A finding employee-ids.id, category EMPLOYEE_ID,
 * score 0.95, spanning the id. It finds no e-mail address and no
 * credential, so it cannot pass the built-in golden vectors; its manifest
 * declares `finds = ["EMPLOYEE_ID"]` and brings its own vectors.
 *
 * Test fixture for tests/custom_detector.rs; built with the C template's
 * build.sh (PLUGIN_NAME and PLUGIN_VERSION come from there).
 */
#include <stdlib.h>
#include <string.h>

#include "pii_detector.h"

typedef railyard_plugin_types_finding_t finding_t;

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p) abort();
    return p;
}

static bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
static bool is_word(uint8_t b) {
    return is_digit(b) || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_';
}

void exports_pii_detector_info(pii_detector_plugin_info_t *ret) {
    pii_detector_string_dup(&ret->name, PLUGIN_NAME);
    pii_detector_string_dup(&ret->version, PLUGIN_VERSION);
    ret->stages.len = 2;
    ret->stages.ptr = xrealloc(NULL, 2 * sizeof *ret->stages.ptr);
    ret->stages.ptr[0] = RAILYARD_PLUGIN_TYPES_STAGE_REQUEST;
    ret->stages.ptr[1] = RAILYARD_PLUGIN_TYPES_STAGE_RESPONSE;
}

bool exports_pii_detector_detect(pii_detector_payload_t *payload,
                                 pii_detector_list_finding_t *ret, pii_detector_string_t *err) {
    (void)err;
    finding_t *findings = NULL;
    size_t n_findings = 0;
    for (size_t m = 0; m < payload->messages.len; m++) {
        const uint8_t *s = payload->messages.ptr[m].content.ptr;
        size_t len = payload->messages.ptr[m].content.len;
        for (size_t i = 0; i + 10 <= len; i++) {
            if (memcmp(s + i, "EMP-", 4) != 0) continue;
            if (i > 0 && is_word(s[i - 1])) continue;
            size_t d = 0;
            while (d < 6 && is_digit(s[i + 4 + d])) d++;
            if (d != 6 || (i + 10 < len && is_digit(s[i + 10]))) continue;
            findings = xrealloc(findings, (n_findings + 1) * sizeof *findings);
            finding_t *f = &findings[n_findings++];
            pii_detector_string_dup(&f->rule_id, PLUGIN_NAME ".id");
            pii_detector_string_dup(&f->category, "EMPLOYEE_ID");
            f->score = 0.95f;
            f->span.is_some = true;
            f->span.val.message = (uint32_t)m;
            f->span.val.start = (uint32_t)i;
            f->span.val.end = (uint32_t)(i + 10);
            f->replacement.is_some = false;
            i += 9;
        }
    }
    ret->ptr = findings;
    ret->len = n_findings;
    pii_detector_payload_free(payload);
    return true;
}
