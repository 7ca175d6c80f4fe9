//! Jailbreak words: role-play verbs, unfiltered personas, harmful payloads,
//! jailbreak modes, absence of restrictions, refusals, fiction framing and
//! the production verbs of a harmful how-to.

/// Words of class `V_PERSONA`.
pub(super) const PERSONA_VERBS: &[&str] = &[
    "pretend",
    "act",
    "acting",
    "roleplay",
    "imagine",
    "simulate",
    "emulate",
    "behave",
    "become",
    "impersonate",
    "portray",
    "play",
    "pose",
    "respond",
    "answer",
    "reply",
];

/// Words of class `ADJ_FREE`.
pub(super) const FREE_ADJ: &[&str] = &[
    "unfiltered",
    "uncensored",
    "unrestricted",
    "jailbroken",
    "unchained",
    "unleashed",
    "amoral",
    "lawless",
    "limitless",
    "unmoderated",
    "unrestrained",
    "unshackled",
    "nsfw",
    "boundless",
];

/// Words of class `PAYLOAD`.
pub(super) const PAYLOADS: &[&str] = &[
    "malware",
    "ransomware",
    "keylogger",
    "virus",
    "trojan",
    "spyware",
    "rootkit",
    "backdoor",
    "exploit",
    "exploits",
    "phishing",
    "bomb",
    "bombs",
    "explosive",
    "explosives",
    "meth",
    "methamphetamine",
    "napalm",
    "weapon",
    "weapons",
    "poison",
    "bioweapon",
    "steal",
    "steals",
    "stealing",
    "ddos",
    "cocaine",
    "heroin",
    "fentanyl",
    "ricin",
    "sarin",
    "anthrax",
    "pwned",
];

/// Words of class `MODE_ADJ`.
pub(super) const MODE_ADJ: &[&str] = &[
    "developer",
    "dev",
    "debug",
    "god",
    "jailbreak",
    "jailbroken",
    "dan",
    "unrestricted",
    "unfiltered",
    "uncensored",
    "evil",
    "chaos",
    "opposite",
    "admin",
    "sudo",
    "maintenance",
    "root",
    "superuser",
    "unlocked",
    "unsafe",
    "nsfw",
    "amoral",
];

/// Words of class `NEG_FREE`.
pub(super) const ABSENCE: &[&str] = &[
    "no",
    "without",
    "free",
    "freed",
    "liberated",
    "released",
    "exempt",
    "zero",
    "unbound",
    "none",
    "sin",
    "sans",
    "ohne",
    "senza",
];

/// Words of class `REFUSE_V`.
pub(super) const REFUSE_VERBS: &[&str] = &[
    "refuse",
    "decline",
    "reject",
    "deny",
    "refusing",
    "declining",
    "censor",
    "warn",
    "lecture",
    "moralize",
    "moralise",
];

/// Words of class `ACTIVE`.
pub(super) const ACTIVE: &[&str] = &[
    "enabled",
    "activated",
    "active",
    "on",
    "engaged",
    "unlocked",
    "initiated",
    "online",
];

/// Words of class `V_ENTER`.
pub(super) const ENTER_VERBS: &[&str] = &[
    "enter",
    "entering",
    "activate",
    "activating",
    "enable",
    "enabling",
    "switch",
    "engage",
    "unlock",
    "initiate",
    "start",
    "boot",
    "launch",
    "turn",
];

/// Words of class `FICTION`.
pub(super) const FICTION: &[&str] = &[
    "story",
    "fiction",
    "fictional",
    "novel",
    "screenplay",
    "script",
    "roleplay",
    "scene",
    "hypothetically",
    "hypothetical",
    "character",
    "characters",
    "pretend",
    "imagine",
    "game",
    "movie",
    "poem",
    "tale",
];

/// Words of class `N_CAVEAT`.
pub(super) const CAVEATS: &[&str] = &[
    "warnings",
    "disclaimers",
    "refusals",
    "caveats",
    "warning",
    "disclaimer",
];

/// Words of class `HOWTO_V`.
pub(super) const HOWTO_VERBS: &[&str] = &[
    "make",
    "build",
    "synthesize",
    "synthesise",
    "create",
    "cook",
    "produce",
    "manufacture",
    "brew",
    "assemble",
    "obtain",
    "acquire",
    "grow",
];
