//! Function words the rules step over or read a sentence's frame by:
//! negations, determiners, fillers, forms of "to be", modals, question
//! words, adverbs, other subjects, and words of talk *about* attacks.

/// Words of class `NEG`.
pub(super) const NEGATIONS: &[&str] = &[
    "not", "never", "dont", "doesnt", "didnt", "cannot", "cant", "wont", "shouldnt", "mustnt",
    "avoid", "nor", "neither", "refrain", "without",
];

/// Words of class `D_YOUR`.
pub(super) const YOUR: &[&str] = &[
    "your", "yours", "thy", "ur", "deine", "deinen", "tus", "tes", "vos", "tuoi", "tue", "suas",
    "seus",
];

/// Words of class `D_MY`.
pub(super) const MY: &[&str] = &["my", "our", "mine", "ours", "meine", "mis", "mes", "nos"];

/// Words of class `D_ALL`.
pub(super) const ALL: &[&str] = &[
    "all", "any", "every", "each", "todas", "todos", "toutes", "tous", "alle", "allen", "tutte",
    "tutti",
];

/// Words of class `D_THE`.
pub(super) const THE: &[&str] = &[
    "the", "these", "those", "this", "that", "a", "an", "such", "its", "their", "las", "los",
    "les", "la", "le", "die", "der", "den", "el", "le", "gli", "as", "os",
];

/// Words of class `FILLER`.
pub(super) const FILLERS: &[&str] = &[
    "of",
    "to",
    "and",
    "or",
    "entire",
    "whole",
    "complete",
    "full",
    "exact",
    "exactly",
    "given",
    "stated",
    "listed",
    "mentioned",
    "specified",
    "remaining",
    "other",
    "same",
    "single",
    "one",
    "more",
    "further",
    "additional",
    "specific",
    "certain",
    "various",
    "many",
    "most",
    "standard",
    "usual",
    "normal",
    "standing",
    "explicit",
    "strict",
    "important",
    "very",
    "kind",
    "sort",
    "set",
    "de",
    "des",
    "del",
    "di",
    "delle",
    "do",
    "da",
    "das",
    "verbatim",
    "word",
    "for",
    "literally",
    "exact",
    "raw",
    "so",
    "far",
    "until",
    "now",
    "up",
    "point",
    "here",
    "there",
    "said",
    "told",
    "what",
    "was",
    "were",
    "been",
    "have",
    "has",
    "had",
    "you",
    "were",
    "received",
    "got",
    "contents",
    "entirety",
];

/// Words of class `YOU`.
pub(super) const YOU: &[&str] = &["you", "youre", "u", "yourself", "ye", "youve", "youll"];

/// Words of class `BE`.
pub(super) const BE: &[&str] = &[
    "is", "are", "was", "were", "be", "been", "being", "am", "isnt", "arent", "wasnt", "werent",
];

/// Words of class `META`.
pub(super) const META: &[&str] = &[
    "attack",
    "attacks",
    "attacker",
    "attackers",
    "injection",
    "injections",
    "jailbreaks",
    "explain",
    "explanation",
    "mean",
    "meaning",
    "means",
    "example",
    "examples",
    "detect",
    "detection",
    "detecting",
    "classify",
    "classifier",
    "prevent",
    "prevention",
    "defend",
    "defense",
    "defence",
    "mitigate",
    "mitigation",
    "research",
    "paper",
    "dataset",
    "study",
    "phrase",
    "phrases",
    "security",
    "awareness",
    "protect",
    "recognize",
    "recognise",
    "identify",
    "vulnerability",
    "vulnerable",
    "malicious",
    "training",
    "slide",
    "course",
    "lecture",
    "blog",
    "article",
    "essay",
    "threat",
    "risk",
    "risks",
    "red",
    "teaming",
];

/// Words of class `SUBJ_OTHER`.
pub(super) const OTHER_SUBJECTS: &[&str] = &[
    "i",
    "we",
    "they",
    "he",
    "she",
    "it",
    "people",
    "users",
    "attackers",
    "models",
    "llms",
    "someone",
    "who",
    "which",
    "hackers",
    "one",
    "chatbots",
    "systems",
    "bots",
    "agents",
    "git",
    "teams",
    "students",
];

/// Words of class `MODAL`.
pub(super) const MODALS: &[&str] = &[
    "must", "should", "will", "shall", "need", "needs", "have", "got", "can", "could", "would",
    "may", "might", "want", "wanna", "gotta",
];

/// Words of class `QWORD`.
pub(super) const QUESTION_WORDS: &[&str] = &[
    "how", "what", "why", "when", "where", "which", "who", "whats", "hows", "whether",
];

/// Words of class `ADV`.
pub(super) const ADVERBS: &[&str] = &[
    "please",
    "pls",
    "plz",
    "now",
    "just",
    "simply",
    "kindly",
    "so",
    "then",
    "also",
    "first",
    "immediately",
    "hereby",
    "really",
    "actually",
    "completely",
    "totally",
    "entirely",
    "fully",
    "henceforth",
    "and",
    "but",
    "ok",
    "okay",
    "alright",
    "hey",
    "instead",
    "again",
    "firstly",
    "finally",
    "urgently",
    "quickly",
    "absolutely",
    "strictly",
    "always",
    "from",
    "on",
    "forth",
    "forward",
    "therefore",
    "thus",
    "hence",
];

/// Words of class `D_ALL`.
pub(super) const ALL_OTHER_LANGS: &[&str] = &["tout", "todo", "alles", "tutto", "tudo"];

/// Words of class `ADV`.
pub(super) const LETS: &[&str] = &["lets", "let"];

/// Words of class `FILLER`.
pub(super) const FORMAL_YOU: &[&str] = &["sie", "ihre", "vous", "usted", "ustedes"];

/// Words of class `FILLER`.
pub(super) const FILLERS_OTHER_LANGS: &[&str] = &[
    "ce", "qui", "que", "lo", "was", "das", "ci", "quello", "che", "et", "y", "und", "e", "o",
    "ou", "oder", "window",
];
