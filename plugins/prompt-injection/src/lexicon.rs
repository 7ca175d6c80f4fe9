//! The words the phrase rules know, by grammatical role.
//!
//! Each word carries a bit set of classes (a word can be both an adjective
//! and a noun, say). The table is an open-addressing hash map built by a
//! `const fn` at compile time: a fresh WebAssembly instance per call pays
//! nothing to set it up, and a lookup is one hash probe per token.
//!
//! Words are stored in the tokenizer's normal form: lowercase ASCII, with
//! apostrophes removed (`don't` → `dont`, `user's` → `users`).

mod grammar;
mod jailbreak;
mod leak;
mod objects;
mod overrides;
mod phrases;
mod roles;
pub mod w;

/// Imperative verbs that discard earlier instructions: ignore, forget, …
pub const V_OVERRIDE: u64 = 1 << 0;
/// Verbs that switch safety off: disable, remove, lift, circumvent, …
pub const V_DISABLE: u64 = 1 << 1;
/// Verbs that make the model disclose something: reveal, print, repeat, …
pub const V_LEAK: u64 = 1 << 2;
/// Compliance verbs, an override when negated: follow, obey, …
pub const V_FOLLOW: u64 = 1 << 3;
/// Verbs that move data somewhere: send, forward, upload, …
pub const V_EXFIL: u64 = 1 << 4;
/// Role-play verbs: pretend, act, roleplay, imagine, …
pub const V_PERSONA: u64 = 1 << 5;
/// Negations: not, never, don't, …
pub const NEG: u64 = 1 << 6;
/// Second-person determiners: your, yours.
pub const D_YOUR: u64 = 1 << 7;
/// First-person determiners: my, our.
pub const D_MY: u64 = 1 << 8;
/// Quantifiers: all, any, every, each.
pub const D_ALL: u64 = 1 << 9;
/// Articles and demonstratives: the, these, those, a.
pub const D_THE: u64 = 1 << 10;
/// Words allowed between a verb and its object: of, to, entire, …
pub const FILLER: u64 = 1 << 11;
/// "Earlier" adjectives: previous, prior, above, original, …
pub const A_PRIOR: u64 = 1 << 12;
/// "Privileged" adjectives: system, hidden, secret, developer, safety, …
pub const A_SYSTEM: u64 = 1 << 13;
/// Instruction nouns: instructions, rules, prompt, guidelines, …
pub const N_INSTR: u64 = 1 << 14;
/// Safety nouns: restrictions, filters, guardrails, censorship, …
pub const N_SAFETY: u64 = 1 << 15;
/// Weaker nouns for what came before: message, text, context, task, …
pub const N_WEAK: u64 = 1 << 16;
/// Everything, anything.
pub const W_EVERYTHING: u64 = 1 << 17;
/// You.
pub const YOU: u64 = 1 << 18;
/// Names for the model: ai, assistant, chatbot, chatgpt, …
pub const AI: u64 = 1 << 19;
/// Chat role names: system, user, assistant, human, …
pub const ROLE: u64 = 1 << 20;
/// Unfiltered, uncensored, jailbroken, amoral, …
pub const ADJ_FREE: u64 = 1 << 21;
/// Clearly harmful payload words: malware, ransomware, bomb, …
pub const PAYLOAD: u64 = 1 << 22;
/// Credentials: password, credentials, api key, token, …
pub const SECRET_N: u64 = 1 << 23;
/// Data nouns: data, information, history, emails, …
pub const DATA_N: u64 = 1 << 24;
/// Forms of "to be".
pub const BE: u64 = 1 << 25;
/// New, updated, revised, …
pub const NEWADJ: u64 = 1 << 26;
/// Real, actual, true, only, …
pub const REALADJ: u64 = 1 << 27;
/// What a fake rule "was": a test, void, fake, obsolete, …
pub const STATUS: u64 = 1 << 28;
/// Override, supersede, replace, precedence, …
pub const OVERRIDE_N: u64 = 1 << 29;
/// Modes that jailbreaks ask for: developer, god, jailbreak, …
pub const MODE_ADJ: u64 = 1 << 30;
/// Generic data nouns, sensitive only with an owner: data, files, …
pub const DATA_GENERIC: u64 = 1 << 43;
/// Owners that make data sensitive: user's, customer, personal, …
pub const DATA_OWNER: u64 = 1 << 44;
/// Words that anchor a fixed phrase ("no longer", "stay in character").
pub const PHRASE: u64 = 1 << 45;
/// Nouns of a fake notice: "SYSTEM NOTICE:", "admin message:".
pub const NOTICE_N: u64 = 1 << 46;
/// Fiction framing: story, roleplay, hypothetically, …
pub const FICTION: u64 = 1 << 47;
/// Production verbs of a harmful how-to: make, build, synthesize, …
pub const HOWTO_V: u64 = 1 << 48;
/// What a jailbroken answer leaves out: warnings, disclaimers, …
pub const N_CAVEAT: u64 = 1 << 49;
/// Override verbs common in technical prose ("drop the patch", "skip the
/// test"): they count fully only against a qualified object.
pub const V_WEAK: u64 = 1 << 50;
/// Task, goal, job, objective, …
pub const TASK_N: u64 = 1 << 31;
/// Words of talking *about* attacks: explain, example, attack, detect, …
pub const META: u64 = 1 << 32;
/// Subjects other than the model: I, we, they, people, attackers, …
pub const SUBJ_OTHER: u64 = 1 << 33;
/// Modal verbs: must, should, will, can, …
pub const MODAL: u64 = 1 << 34;
/// Absence: no, without, free, zero, …
pub const NEG_FREE: u64 = 1 << 35;
/// Question words.
pub const QWORD: u64 = 1 << 36;
/// Adverbs and politeness that may precede an imperative: please, now, …
pub const ADV: u64 = 1 << 37;
/// Authorities an attacker impersonates: developer, admin, openai, …
pub const AUTH_N: u64 = 1 << 38;
/// Refuse, decline, reject.
pub const REFUSE_V: u64 = 1 << 39;
/// Nouns that make a preceding instruction noun a modifier
/// (`prompt injection`, `rules engine`), so it is not the object.
pub const COMPOUND: u64 = 1 << 40;
/// Harmless words for the state of a mode: enabled, activated, on.
pub const ACTIVE: u64 = 1 << 41;
/// Verbs that enter a mode: enter, activate, enable, switch, …
pub const V_ENTER: u64 = 1 << 42;

/// Every class with its word lists, by rule family in the submodules.
const GROUPS: &[(u64, &[&str])] = &[
    (V_OVERRIDE, overrides::OVERRIDE_VERBS),
    (V_DISABLE, overrides::DISABLE_VERBS),
    (V_LEAK, leak::LEAK_VERBS),
    (V_FOLLOW, overrides::FOLLOW_VERBS),
    (V_EXFIL, leak::EXFIL_VERBS),
    (V_PERSONA, jailbreak::PERSONA_VERBS),
    (NEG, grammar::NEGATIONS),
    (D_YOUR, grammar::YOUR),
    (D_MY, grammar::MY),
    (D_ALL, grammar::ALL),
    (D_THE, grammar::THE),
    (FILLER, grammar::FILLERS),
    (A_PRIOR, objects::PRIOR_ADJ),
    (A_SYSTEM, objects::SYSTEM_ADJ),
    (N_INSTR, objects::INSTRUCTION_NOUNS),
    (N_SAFETY, objects::SAFETY_NOUNS),
    (N_WEAK, objects::WEAK_NOUNS),
    (W_EVERYTHING, objects::EVERYTHING),
    (YOU, grammar::YOU),
    (AI, roles::AI_NAMES),
    (ROLE, roles::ROLES),
    (ADJ_FREE, jailbreak::FREE_ADJ),
    (PAYLOAD, jailbreak::PAYLOADS),
    (SECRET_N, leak::SECRET_NOUNS),
    (DATA_N, leak::DATA_NOUNS),
    (DATA_GENERIC, leak::GENERIC_DATA_NOUNS),
    (DATA_OWNER, leak::DATA_OWNERS),
    (PHRASE, phrases::ANCHORS),
    (BE, grammar::BE),
    (NEWADJ, overrides::NEW_ADJ),
    (REALADJ, overrides::REAL_ADJ),
    (STATUS, overrides::STATUS),
    (OVERRIDE_N, overrides::OVERRIDE_NOUNS),
    (MODE_ADJ, jailbreak::MODE_ADJ),
    (TASK_N, objects::TASK_NOUNS),
    (META, grammar::META),
    (SUBJ_OTHER, grammar::OTHER_SUBJECTS),
    (MODAL, grammar::MODALS),
    (NEG_FREE, jailbreak::ABSENCE),
    (QWORD, grammar::QUESTION_WORDS),
    (ADV, grammar::ADVERBS),
    (AUTH_N, roles::AUTHORITIES),
    (REFUSE_V, jailbreak::REFUSE_VERBS),
    (COMPOUND, objects::COMPOUNDS),
    (ACTIVE, jailbreak::ACTIVE),
    (V_ENTER, jailbreak::ENTER_VERBS),
    // Additions by language and by role, kept apart from the English core
    // lists above; a word listed twice gets the union of its classes.
    (V_LEAK, leak::LEAK_VERBS_OTHER_LANGS),
    (A_PRIOR, objects::PRIOR_ADJ_OTHER_LANGS),
    (D_ALL, grammar::ALL_OTHER_LANGS),
    (W_EVERYTHING, objects::WHATEVER),
    (V_DISABLE, overrides::DISABLE_VERB_FORMS),
    (ADV, grammar::LETS),
    (V_OVERRIDE, overrides::PARTICLE_VERBS),
    (FILLER, grammar::FORMAL_YOU),
    (N_SAFETY, objects::SAFETY_NOUNS_OTHER_LANGS),
    (PHRASE, phrases::DECODERS),
    (PHRASE, phrases::INSTRUCTED),
    (FILLER, grammar::FILLERS_OTHER_LANGS),
    (STATUS, overrides::STATUS_PARTICIPLES),
    (NOTICE_N, roles::NOTICE_NOUNS),
    (FICTION, jailbreak::FICTION),
    (N_CAVEAT, jailbreak::CAVEATS),
    (V_WEAK, overrides::WEAK_VERBS),
    (HOWTO_V, jailbreak::HOWTO_VERBS),
];

/// Longest normal form the tokenizer keeps; longer words are never
/// keywords.
pub const WORD_BUF: usize = 32;

/// Hash of a word's normal form held zero-padded in a `WORD_BUF`-byte
/// buffer. Eight bytes per multiply instead of one per byte (FNV-1a),
/// because this runs on every token of every payload; stable across builds
/// and platforms, and usable in `const` items.
pub const fn hash_buf(buf: &[u8; WORD_BUF], len: usize) -> u64 {
    const K: [u64; 4] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x85eb_ca77_c2b2_ae63,
    ];
    let mut h = len as u64;
    let mut k = 0;
    while k * 8 < len && k < 4 {
        let w = u64::from_le_bytes([
            buf[k * 8],
            buf[k * 8 + 1],
            buf[k * 8 + 2],
            buf[k * 8 + 3],
            buf[k * 8 + 4],
            buf[k * 8 + 5],
            buf[k * 8 + 6],
            buf[k * 8 + 7],
        ]);
        // One multiply per eight bytes: its high half depends on every
        // input bit, which is what the table slot uses.
        h = (h ^ w).wrapping_mul(K[k]);
        k += 1;
    }
    h ^ (h >> 32)
}

/// [`hash_buf`] of a word given as bytes (at most `WORD_BUF` of them).
pub const fn word(s: &[u8]) -> u64 {
    let mut buf = [0u8; WORD_BUF];
    let mut i = 0;
    while i < s.len() && i < WORD_BUF {
        buf[i] = s[i];
        i += 1;
    }
    hash_buf(&buf, s.len())
}

const TABLE_BITS: u32 = 11;
const TABLE_SIZE: usize = 1 << TABLE_BITS;

const fn slot(h: u64) -> usize {
    (h >> (64 - TABLE_BITS)) as usize
}

/// The low half of a hash (the high half folded in), never 0 (0 marks an
/// empty slot). Slot and fingerprint together use 43 bits of the hash: a
/// false hit on an arbitrary token has odds of about one in eight trillion.
const fn fingerprint(h: u64) -> u32 {
    let f = h as u32;
    if f == 0 { 1 } else { f }
}

/// Length of the longest word in the table: longer tokens skip the lookup.
pub const MAX_WORD_LEN: usize = {
    let mut m = 0;
    let mut g = 0;
    while g < GROUPS.len() {
        let words = GROUPS[g].1;
        let mut w = 0;
        while w < words.len() {
            if words[w].len() > m {
                m = words[w].len();
            }
            w += 1;
        }
        g += 1;
    }
    m
};

/// Open addressing with linear probing, split in two arrays so that the
/// probe for an unknown word (most tokens) touches only the 8 KiB of
/// fingerprints, which stay in L1 cache.
struct Table {
    keys: [u32; TABLE_SIZE],
    bits: [u64; TABLE_SIZE],
}

const fn build() -> Table {
    let mut t = Table {
        keys: [0; TABLE_SIZE],
        bits: [0; TABLE_SIZE],
    };
    let mut g = 0;
    while g < GROUPS.len() {
        let (bits, words) = GROUPS[g];
        let mut w = 0;
        while w < words.len() {
            let h = word(words[w].as_bytes());
            let f = fingerprint(h);
            let mut k = slot(h);
            loop {
                if t.keys[k] == 0 {
                    t.keys[k] = f;
                    t.bits[k] = bits;
                    break;
                }
                if t.keys[k] == f {
                    t.bits[k] |= bits;
                    break;
                }
                k = (k + 1) & (TABLE_SIZE - 1);
            }
            w += 1;
        }
        g += 1;
    }
    t
}

/// Built at compile time; a `static` so that it lives once in the data
/// segment instead of being inlined at each use.
static TABLE: Table = build();

/// Classes of the word whose normal form hashes to `h` (0: unknown word).
#[inline]
pub fn classes(h: u64) -> u64 {
    let f = fingerprint(h);
    let mut k = slot(h);
    loop {
        let key = TABLE.keys[k];
        if key == f {
            return TABLE.bits[k];
        }
        if key == 0 {
            return 0;
        }
        k = (k + 1) & (TABLE_SIZE - 1);
    }
}

/// Every word in the table (for tests).
#[cfg(test)]
pub fn all_words() -> Vec<&'static str> {
    GROUPS
        .iter()
        .flat_map(|(_, words)| words.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_several_groups_get_every_class() {
        let c = classes(word(b"system"));
        assert!(c & A_SYSTEM != 0 && c & ROLE != 0);
        assert_eq!(classes(word(b"disregard")), V_OVERRIDE);
        assert_eq!(classes(word(b"zebra")), 0);
        assert_eq!(classes(word(b"")), 0);
    }

    #[test]
    fn every_word_is_in_normal_form_and_found() {
        for (bits, words) in GROUPS {
            for w in *words {
                assert!(
                    w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                    "{w}"
                );
                assert!(w.len() <= MAX_WORD_LEN);
                assert_eq!(classes(word(w.as_bytes())) & bits, *bits, "{w}");
            }
        }
    }
}
