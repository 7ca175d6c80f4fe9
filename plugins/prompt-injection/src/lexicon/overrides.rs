//! Instruction-override words: override, disable and follow verbs, "new"
//! and "real" instructions, what a fake rule "was", and override nouns.

/// Words of class `V_OVERRIDE`.
pub(super) const OVERRIDE_VERBS: &[&str] = &[
    "ignore",
    "ignoring",
    "disregard",
    "disregarding",
    "forget",
    "forgetting",
    "override",
    "overriding",
    "overrule",
    "skip",
    "neglect",
    "discard",
    "abandon",
    "dismiss",
    "ditch",
    "erase",
    "scrap",
    "nullify",
    "omit",
    "overlook",
    "drop",
    "clear",
    "reset",
    "wipe",
    "cancel",
    "revoke",
    "bypass",
    "unlearn",
    "aside",
    // Spanish, French, German, Italian, Portuguese.
    "ignora",
    "ignorar",
    "ignorez",
    "ignorer",
    "ignoriere",
    "ignorieren",
    "vergiss",
    "vergessen",
    "olvida",
    "olvide",
    "oublie",
    "oubliez",
    "dimentica",
    "esquece",
    "esqueca",
];

/// Words of class `V_DISABLE`.
pub(super) const DISABLE_VERBS: &[&str] = &[
    "disable",
    "deactivate",
    "remove",
    "lift",
    "circumvent",
    "evade",
    "suspend",
    "bypass",
    "override",
    "turn",
    "switch",
    "break",
    "jailbreak",
    "unlock",
    "shut",
    "strip",
    "lose",
    "drop",
];

/// Words of class `V_FOLLOW`.
pub(super) const FOLLOW_VERBS: &[&str] = &[
    "follow",
    "following",
    "obey",
    "obeying",
    "heed",
    "adhere",
    "adhering",
    "comply",
    "complying",
    "abide",
    "abiding",
    "respect",
    "honor",
    "honour",
    "apply",
    "listen",
    "listening",
    "bound",
];

/// Words of class `NEWADJ`.
pub(super) const NEW_ADJ: &[&str] = &[
    "new",
    "updated",
    "revised",
    "different",
    "modified",
    "changed",
    "latest",
    "replacement",
    "nuevas",
    "nouvelles",
    "neue",
    "neuen",
];

/// Words of class `REALADJ`.
pub(super) const REAL_ADJ: &[&str] = &[
    "real", "actual", "true", "genuine", "only", "sole", "primary", "main", "sole", "single",
];

/// Words of class `STATUS`.
pub(super) const STATUS: &[&str] = &[
    "fake",
    "false",
    "void",
    "null",
    "wrong",
    "invalid",
    "obsolete",
    "outdated",
    "cancelled",
    "canceled",
    "revoked",
    "test",
    "joke",
    "irrelevant",
    "deprecated",
    "superseded",
    "overridden",
    "replaced",
    "lie",
    "lies",
    "fictional",
    "mistake",
    "expired",
    "nonsense",
    "lifted",
    "suspended",
    "disabled",
    "removed",
    "rescinded",
    "withdrawn",
    "meaningless",
    "fabricated",
    "bogus",
    "decoy",
    "trick",
];

/// Words of class `OVERRIDE_N`.
pub(super) const OVERRIDE_NOUNS: &[&str] = &[
    "override",
    "overrides",
    "overriding",
    "supersede",
    "supersedes",
    "replace",
    "replaces",
    "precedence",
    "priority",
    "prevail",
    "prevails",
    "outrank",
    "outranks",
    "overrule",
    "overrules",
    "trump",
    "trumps",
];

/// Words of class `V_DISABLE`.
///
/// Other forms of the disabling verbs, as in "an AI that has escaped its
/// guardrails" or "ignores its rules".
pub(super) const DISABLE_VERB_FORMS: &[&str] = &[
    "escape",
    "escaped",
    "escapes",
    "broke",
    "broken",
    "bypassed",
    "bypasses",
    "circumvented",
    "ignores",
    "ignored",
    "evaded",
    "overrode",
    "disregards",
];

/// Words of class `V_OVERRIDE`.
///
/// "throw out", "toss away", "put aside": override verbs with a particle.
pub(super) const PARTICLE_VERBS: &[&str] = &["throw", "toss", "chuck", "put", "cast"];

/// Words of class `STATUS`.
pub(super) const STATUS_PARTICIPLES: &[&str] = &[
    "changed",
    "updated",
    "modified",
    "revised",
    "off",
    "gone",
    "deactivated",
    "bypassed",
    "unlocked",
    "waived",
];

/// Words of class `V_WEAK`.
pub(super) const WEAK_VERBS: &[&str] = &[
    "skip", "drop", "clear", "reset", "cancel", "discard", "abandon", "dismiss", "ditch", "erase",
    "scrap", "nullify", "omit", "overlook", "wipe", "revoke", "remove", "lift", "strip", "lose",
    "break", "switch", "turn", "shut", "suspend", "unlock",
];
