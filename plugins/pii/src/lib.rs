//! PII detector core for railyard: e-mail addresses, phone numbers, credit
//! card numbers, IBANs, US social security numbers and IP addresses, with
//! Presidio's entity names.
//!
//! The scanners are hand-written byte scanners. One pass over the text
//! skips eight bytes at a time while none can start a match, and stops at
//! trigger bytes (`@`, `+`, `(`, `:`) and at words starting with a digit or
//! an upper-case letter; each scanner then reads a bounded window, so the
//! whole pass is O(n), with no set-up and no allocation besides the
//! results. Structure is validated (Luhn and issuer ranges, IBAN length and
//! mod-97, octet ranges, IPv6 group counts, SSA rules, E.164 country codes
//! and national lengths), and labels in the same line or clause ("call",
//! "SSN", "order", "version") raise or lower the score of weaker formats.
//!
//! Every reported span starts and ends on an ASCII byte, so it always lies
//! on UTF-8 character boundaries whatever surrounds it. Matches glued to
//! letters or digits of any script (except scripts written without spaces,
//! such as CJK) are not reported.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
#[allow(missing_docs, clippy::too_many_arguments)] // generated bindings
mod component;

mod card;
mod email;
mod iban;
mod ids;
mod ip;
mod names;
mod phone;
mod scan;
mod ssn;

#[cfg(test)]
mod evasion_tests;
#[cfg(test)]
mod tests;

pub use railyard_plugin_sdk::{Config, Detection};

use scan::{CLASS, DIGIT, HEX, INTERESTING, WORD, at, numeric_start_ok, prev_is_word};

/// All category names this detector can report: the six of the byte
/// scanners, then the recognizer set of `ids` (Presidio's predefined
/// pattern types).
pub const CATEGORIES: &[&str] = &[
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "DATE_TIME",
    "CRYPTO",
    "US_BANK_NUMBER",
    "US_DRIVER_LICENSE",
    "US_ITIN",
    "US_PASSPORT",
    "MEDICAL_LICENSE",
    "UK_NHS",
    "UK_NINO",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "IN_PAN",
    "IN_AADHAAR",
    "SG_NRIC_FIN",
    "AU_ABN",
    "AU_ACN",
    "AU_TFN",
    "AU_MEDICARE",
    "PL_PESEL",
    "FI_PERSONAL_IDENTITY_CODE",
    "KR_RRN",
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
];

// Bit per category, in the order of CATEGORIES.
const EMAIL: u32 = 1 << 0;
const PHONE: u32 = 1 << 1;
const CARD: u32 = 1 << 2;
const IBAN: u32 = 1 << 3;
const SSN: u32 = 1 << 4;
const IP: u32 = 1 << 5;
pub(crate) const URL: u32 = 1 << 6;
pub(crate) const DATE_TIME: u32 = 1 << 7;
pub(crate) const CRYPTO: u32 = 1 << 8;
pub(crate) const US_BANK_NUMBER: u32 = 1 << 9;
pub(crate) const US_DRIVER_LICENSE: u32 = 1 << 10;
pub(crate) const US_ITIN: u32 = 1 << 11;
pub(crate) const US_PASSPORT: u32 = 1 << 12;
pub(crate) const MEDICAL_LICENSE: u32 = 1 << 13;
pub(crate) const UK_NHS: u32 = 1 << 14;
pub(crate) const UK_NINO: u32 = 1 << 15;
pub(crate) const ES_NIF: u32 = 1 << 16;
pub(crate) const ES_NIE: u32 = 1 << 17;
pub(crate) const IT_FISCAL_CODE: u32 = 1 << 18;
pub(crate) const IN_PAN: u32 = 1 << 19;
pub(crate) const IN_AADHAAR: u32 = 1 << 20;
pub(crate) const SG_NRIC_FIN: u32 = 1 << 21;
pub(crate) const AU_ABN: u32 = 1 << 22;
pub(crate) const AU_ACN: u32 = 1 << 23;
pub(crate) const AU_TFN: u32 = 1 << 24;
pub(crate) const AU_MEDICARE: u32 = 1 << 25;
pub(crate) const PL_PESEL: u32 = 1 << 26;
pub(crate) const FI_PERSONAL_IDENTITY_CODE: u32 = 1 << 27;
pub(crate) const KR_RRN: u32 = 1 << 28;
pub(crate) const PERSON: u32 = 1 << 29;
pub(crate) const LOCATION: u32 = 1 << 30;
pub(crate) const ORGANIZATION: u32 = 1 << 31;
const ALL: u32 = u32::MAX;
/// Names, places and organisations, found by `names`.
const NAMES: u32 = PERSON | LOCATION | ORGANIZATION;
/// The recognizer set scanned by `ids`.
const IDS: u32 = ALL & !(EMAIL | PHONE | CARD | IBAN | SSN | IP | NAMES);
/// Reported when `entities` is not given: everything but URLs, dates and
/// names, places and organisations, which most prompts carry and few
/// policies mean to redact (list them, or `all`, in `entities`).
const DEFAULT: u32 = ALL & !(URL | DATE_TIME | NAMES);

/// How far this detector's decisions reach, for streamed answers (see
/// `railyard_plugin_sdk::stream`): keywords are read `CTX_BEFORE` bytes
/// before a match and `CTX_AFTER` after it; the longest match with spaces
/// is an IBAN in groups (42 bytes), so 80 bytes at the end stay unsettled.
pub const STREAM_REACH: railyard_plugin_sdk::stream::Reach = railyard_plugin_sdk::stream::Reach {
    before: scan::CTX_BEFORE + 24,
    after: 80,
    max_token: 4096,
    every: 16,
};

/// Default `min-score`.
const DEFAULT_MIN_SCORE: f32 = 0.5;

/// Validated settings, parsed once per call from the plugin config.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Bit set of reported categories (see [`CATEGORIES`]).
    entities: u32,
    /// Values never reported, trimmed.
    allow: Vec<String>,
    /// Detections scoring below are dropped.
    min_score: f32,
}

impl Default for Settings {
    /// Every entity but `URL`, `DATE_TIME`, `PERSON`, `LOCATION` and
    /// `ORGANIZATION`, no allow-list, `min-score` 0.5.
    fn default() -> Self {
        Settings {
            entities: DEFAULT,
            allow: Vec::new(),
            min_score: DEFAULT_MIN_SCORE,
        }
    }
}

impl Settings {
    /// Keys: `entities` (repeatable, or comma-separated; which of
    /// [`CATEGORIES`] to report, or `all`; default all but `URL`,
    /// `DATE_TIME`, `PERSON`, `LOCATION` and `ORGANIZATION`), `allow` (repeatable; exact
    /// values never reported, compared after trimming, case-insensitive for
    /// e-mail addresses), `min-score` (number in 0..=1, default 0.5:
    /// detections scoring below are dropped).
    ///
    /// Unknown entity names or bad numbers are an error naming the key and
    /// what is expected.
    pub fn from_config(cfg: &Config) -> Result<Settings, String> {
        let mut entities = 0u32;
        let mut given = false;
        for value in cfg.get_all("entities") {
            given = true;
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if name.eq_ignore_ascii_case("all") {
                    entities = ALL;
                    continue;
                }
                let Some(i) = CATEGORIES.iter().position(|c| c.eq_ignore_ascii_case(name)) else {
                    return Err(format!(
                        "config key `entities`: unknown entity {name:?}, expected one of {}",
                        CATEGORIES.join(", ")
                    ));
                };
                entities |= 1 << i;
            }
        }
        if !given {
            entities = DEFAULT;
        } else if entities == 0 {
            return Err(format!(
                "config key `entities`: expected at least one of {}",
                CATEGORIES.join(", ")
            ));
        }
        let allow = cfg
            .get_all("allow")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
            .collect();
        let min_score = cfg.get_f32("min-score", DEFAULT_MIN_SCORE)?;
        if !(0.0..=1.0).contains(&min_score) {
            return Err(format!(
                "config key `min-score`: expected a number between 0 and 1, got {min_score}"
            ));
        }
        Ok(Settings {
            entities,
            allow,
            min_score,
        })
    }

    /// The score below which detections are dropped.
    pub fn min_score(&self) -> f32 {
        self.min_score
    }

    /// Whether `category` (one of [`CATEGORIES`]) is reported.
    pub fn reports(&self, category: &str) -> bool {
        CATEGORIES
            .iter()
            .position(|c| *c == category)
            .is_some_and(|i| self.entities & (1 << i) != 0)
    }

    /// Whether the detected `value` of `category` is on the allow-list.
    fn allowed(&self, category: &str, value: &str) -> bool {
        let value = value.trim();
        self.allow.iter().any(|a| {
            if category == CATEGORIES[0] {
                a.eq_ignore_ascii_case(value)
            } else {
                a == value
            }
        })
    }
}

/// Per-call state: which scanners run, and the candidates found so far.
pub(crate) struct Scan<'a> {
    pub(crate) text: &'a str,
    pub(crate) run: u32,
    min_score: f32,
    cands: Vec<Detection>,
}

impl Scan<'_> {
    pub(crate) fn push(
        &mut self,
        cat: u32,
        rule_id: &'static str,
        start: usize,
        end: usize,
        score: f32,
    ) {
        if score >= self.min_score {
            self.cands.push(Detection {
                rule_id,
                category: CATEGORIES[cat.trailing_zeros() as usize],
                score,
                start,
                end,
            });
        }
    }

    /// A word (maximal run of ASCII alphanumerics and `_`) spans `i..j`;
    /// `cl` is the class of its first byte. Cheap shape checks on the word
    /// and the byte after it decide which scanners can possibly match.
    fn word(&mut self, i: usize, j: usize, cl: u8) {
        if self.run & IDS != 0 {
            ids::word_at(self, i, j);
        }
        let text = self.text;
        let b = text.as_bytes();
        let prev = if i > 0 { b[i - 1] } else { 0 };
        let next = at(b, j);
        let len = j - i;
        if cl & DIGIT != 0 {
            let all_digits = b[i..j].iter().all(u8::is_ascii_digit);
            if all_digits {
                let spaced = matches!(next, b' ' | b'-' | b'.' | b'/' | 0xC2);
                let card = self.run & CARD != 0
                    && ((13..=19).contains(&len) || (len == 4 && matches!(next, b' ' | b'-')));
                let ssn = self.run & SSN != 0
                    && (len == 9 || (len == 3 && matches!(next, b'-' | b' ' | b'.')));
                let phone = self.run & PHONE != 0 && prev != b'+' && (len >= 7 || spaced);
                if (card || ssn || phone) && numeric_start_ok(text, i) {
                    // A card or SSN at this start would win any overlap with
                    // a phone number starting here, so skip the phone scan.
                    let mut found = false;
                    if card && let Some((e, s)) = card::at_digit(text, i) {
                        self.push(CARD, "pii.credit-card", i, e, s);
                        found = s >= self.min_score;
                    }
                    if ssn && let Some((e, s)) = ssn::at_digit(text, i) {
                        self.push(SSN, "pii.us-ssn", i, e, s);
                        found |= s >= self.min_score;
                    }
                    if phone
                        && !found
                        && let Some((e, s)) = phone::at_start(text, i)
                    {
                        self.push(PHONE, "pii.phone", i, e, s);
                    }
                }
                if self.run & IP != 0
                    && len <= 3
                    && next == b'.'
                    && !(prev == b'.' && i >= 2 && b[i - 2].is_ascii_alphanumeric())
                    && let Some((e, s)) = ip::ipv4_at(text, i)
                {
                    self.push(IP, "pii.ipv4", i, e, s);
                }
            }
        } else if self.run & IBAN != 0
            && scan::is_digit(at(b, i + 2))
            && scan::is_digit(at(b, i + 3))
            && let Some(e) = iban::at_letter(text, i)
        {
            self.push(IBAN, "pii.iban", i, e, iban::SCORE);
            return;
        }
        if cl & HEX != 0
            && next == b':'
            && len <= 4
            && self.run & IP != 0
            && prev != b':'
            && prev != b'.'
            && let Some((e, s)) = ip::ipv6_at(text, i)
        {
            self.push(IP, "pii.ipv6", i, e, s);
        }
    }

    /// A trigger byte (`+`, `(`, `:`, `@`) at `i`.
    fn trigger(&mut self, i: usize, c: u8) {
        let text = self.text;
        let b = text.as_bytes();
        match c {
            b'@' if self.run & EMAIL != 0 => {
                if let Some((s, e)) = email::at_sign(text, i) {
                    self.push(EMAIL, "pii.email", s, e, email::SCORE);
                }
            }
            b'+' if self.run & PHONE != 0
                && scan::is_digit(at(b, i + 1))
                && !prev_is_word(text, i)
                && at(b, i.wrapping_sub(1)) != b'+' =>
            {
                if let Some((e, s)) = phone::at_start(text, i) {
                    self.push(PHONE, "pii.phone", i, e, s);
                }
            }
            b'(' if self.run & PHONE != 0
                && scan::is_digit(at(b, i + 1))
                && numeric_start_ok(text, i) =>
            {
                if let Some((e, s)) = phone::at_start(text, i) {
                    self.push(PHONE, "pii.phone", i, e, s);
                }
            }
            b':' if self.run & IP != 0 => {
                let prev = at(b, i.wrapping_sub(1));
                if at(b, i + 1) == b':' && prev != b':' && !prev_is_word(text, i) {
                    if let Some((e, s)) = ip::ipv6_at(text, i) {
                        self.push(IP, "pii.ipv6", i, e, s);
                    }
                } else if prev.is_ascii_hexdigit() {
                    // The first group of `fe80::1` when it starts with a
                    // lower-case letter (other word starts were scanned).
                    let mut ws = i - 1;
                    while ws > 0 && i - ws < 4 && b[ws - 1].is_ascii_hexdigit() {
                        ws -= 1;
                    }
                    let before = at(b, ws.wrapping_sub(1));
                    if b[ws].is_ascii_lowercase()
                        && !prev_is_word(text, ws)
                        && before != b':'
                        && before != b'.'
                        && let Some((e, s)) = ip::ipv6_at(text, ws)
                    {
                        self.push(IP, "pii.ipv6", ws, e, s);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Which category wins when two candidates overlap: checksum-validated and
/// unambiguous formats before phone numbers.
fn tier(category: &str) -> u8 {
    match category {
        "EMAIL_ADDRESS" | "IBAN_CODE" | "URL" | "CRYPTO" => 4,
        "CREDIT_CARD" => 3,
        "PHONE_NUMBER" => 1,
        "IP_ADDRESS" | "US_SSN" | "DATE_TIME" | "US_BANK_NUMBER" | "US_DRIVER_LICENSE"
        | "US_PASSPORT" | "PERSON" | "LOCATION" | "ORGANIZATION" => 2,
        // National identifiers: a checksum or a fixed layout, and their
        // own context words.
        _ => 3,
    }
}

/// Appends detections for `text` to `out`, sorted by start, non-overlapping
/// across categories where possible. The text is normalised first (see
/// `railyard_plugin_sdk::normalize`: look-alike and full-width characters,
/// Unicode spaces and dashes, invisible characters, digit groups joined by
/// dots or underscores, base64, hex and percent-encoded runs); spans always
/// refer to `text` as given.
pub fn detect(text: &str, settings: &Settings, out: &mut Vec<Detection>) {
    railyard_plugin_sdk::normalize::detect(text, out, |t, out| {
        detect_ascii_forms(t, settings, out)
    });
}

/// [`detect`] on text whose separators and digits are already ASCII.
fn detect_ascii_forms(text: &str, settings: &Settings, out: &mut Vec<Detection>) {
    let want = settings.entities;
    if want == 0 || text.is_empty() {
        return;
    }
    // Phone look-alikes (cards, IBANs, SSNs, addresses) are scanned even when
    // not reported so that they suppress overlapping phone candidates.
    let run = if want & PHONE != 0 {
        want | CARD | IBAN | SSN | IP
    } else {
        want
    };
    let mut scan = Scan {
        text,
        run,
        min_score: settings.min_score,
        cands: Vec::new(),
    };
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    while i < n {
        // Fast path: skip eight bytes at a time while none can matter
        // (lower-case prose, spaces, most punctuation, non-ASCII text).
        while let Some(chunk) = b.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            match scan::first_interesting(u64::from_le_bytes(w)) {
                None => i += 8,
                Some(k) => {
                    i += k;
                    break;
                }
            }
        }
        let Some(&c) = b.get(i) else { break };
        let cl = CLASS[c as usize];
        if cl & INTERESTING == 0 {
            i += 1;
            continue;
        }
        if cl & WORD != 0 {
            let mut j = i + 1;
            while j < n && CLASS[b[j] as usize] & WORD != 0 {
                j += 1;
            }
            // Only word starts count; `abc123` is skipped whole.
            let inside = i > 0
                && if b[i - 1] < 0x80 {
                    CLASS[b[i - 1] as usize] & WORD != 0
                } else {
                    prev_is_word(text, i)
                };
            if !inside {
                scan.word(i, j, cl);
            }
            i = j;
            continue;
        }
        scan.trigger(i, c);
        i += 1;
    }
    if want & IDS != 0 {
        ids::scan_lower(&mut scan);
    }
    if want & NAMES != 0 {
        names::scan(&mut scan);
    }
    resolve(scan.cands, settings, text, out);
}

/// Keeps the best of each group of overlapping candidates (by category
/// tier, then length, then score) and appends the survivors in start order,
/// filtered by the reported categories and the allow-list.
fn resolve(mut cands: Vec<Detection>, settings: &Settings, text: &str, out: &mut Vec<Detection>) {
    let mut emit = |d: Detection| {
        if settings.reports(d.category)
            && !text
                .get(d.start..d.end)
                .is_some_and(|v| settings.allowed(d.category, v))
        {
            out.push(d);
        }
    };
    cands.sort_unstable_by_key(|d| (d.start, std::cmp::Reverse(d.end)));
    let mut i = 0;
    while i < cands.len() {
        let mut cluster_end = cands[i].end;
        let mut j = i + 1;
        while j < cands.len() && cands[j].start < cluster_end {
            cluster_end = cluster_end.max(cands[j].end);
            j += 1;
        }
        if j == i + 1 {
            emit(cands[i].clone());
        } else {
            let cluster = &mut cands[i..j];
            cluster.sort_by(|a, b| {
                (tier(b.category), b.end - b.start)
                    .cmp(&(tier(a.category), a.end - a.start))
                    .then(b.score.total_cmp(&a.score))
            });
            let mut kept: Vec<Detection> = Vec::new();
            for d in cluster.iter() {
                if kept.iter().all(|k| d.end <= k.start || k.end <= d.start) {
                    kept.push(d.clone());
                }
            }
            kept.sort_unstable_by_key(|d| d.start);
            for d in kept {
                emit(d);
            }
        }
        i = j;
    }
}
