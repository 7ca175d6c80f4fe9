//! The words the phrase rules know, by grammatical role.
//!
//! Each word carries a bit set of classes (a word can be both an adjective
//! and a noun, say). The table is an open-addressing hash map built by a
//! `const fn` at compile time: a fresh WebAssembly instance per call pays
//! nothing to set it up, and a lookup is one hash probe per token.
//!
//! Words are stored in the tokenizer's normal form: lowercase ASCII, with
//! apostrophes removed (`don't` → `dont`, `user's` → `users`).

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

const GROUPS: &[(u64, &[&str])] = &[
    (
        V_OVERRIDE,
        &[
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
        ],
    ),
    (
        V_DISABLE,
        &[
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
        ],
    ),
    (
        V_LEAK,
        &[
            "reveal",
            "print",
            "show",
            "display",
            "output",
            "repeat",
            "leak",
            "tell",
            "dump",
            "disclose",
            "expose",
            "share",
            "give",
            "recite",
            "echo",
            "copy",
            "paste",
            "provide",
            "spill",
            "divulge",
            "read",
            "list",
            "return",
            "say",
            "spell",
            "translate",
            "summarize",
            "summarise",
        ],
    ),
    (
        V_FOLLOW,
        &[
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
        ],
    ),
    (
        V_EXFIL,
        &[
            "send",
            "forward",
            "email",
            "mail",
            "post",
            "upload",
            "transmit",
            "exfiltrate",
            "leak",
            "submit",
            "transfer",
            "relay",
            "curl",
            "wget",
            "beam",
            "sync",
            "append",
            "embed",
        ],
    ),
    (
        V_PERSONA,
        &[
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
        ],
    ),
    (
        NEG,
        &[
            "not", "never", "dont", "doesnt", "didnt", "cannot", "cant", "wont", "shouldnt",
            "mustnt", "avoid", "nor", "neither", "refrain", "without",
        ],
    ),
    (
        D_YOUR,
        &[
            "your", "yours", "thy", "ur", "deine", "deinen", "tus", "tes", "vos", "tuoi", "tue",
            "suas", "seus",
        ],
    ),
    (
        D_MY,
        &["my", "our", "mine", "ours", "meine", "mis", "mes", "nos"],
    ),
    (
        D_ALL,
        &[
            "all", "any", "every", "each", "todas", "todos", "toutes", "tous", "alle", "allen",
            "tutte", "tutti",
        ],
    ),
    (
        D_THE,
        &[
            "the", "these", "those", "this", "that", "a", "an", "such", "its", "their", "las",
            "los", "les", "la", "le", "die", "der", "den", "el", "le", "gli", "as", "os",
        ],
    ),
    (
        FILLER,
        &[
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
        ],
    ),
    (
        A_PRIOR,
        &[
            "previous",
            "previously",
            "prior",
            "above",
            "earlier",
            "preceding",
            "former",
            "foregoing",
            "aforementioned",
            "original",
            "initial",
            "old",
            "older",
            "past",
            "preexisting",
            "existing",
            "last",
            "before",
            "starting",
            "given",
            "provided",
            "said",
            "told",
            "until",
            "anteriores",
            "anterior",
            "previas",
            "previos",
            "precedentes",
            "precedente",
            "anterieures",
            "vorherigen",
            "vorherige",
            "bisherigen",
            "obigen",
            "vorigen",
            "precedenti",
            "sopra",
        ],
    ),
    (
        A_SYSTEM,
        &[
            "system",
            "hidden",
            "secret",
            "internal",
            "developer",
            "developers",
            "dev",
            "confidential",
            "private",
            "underlying",
            "base",
            "core",
            "builtin",
            "hardcoded",
            "preset",
            "admin",
            "administrator",
            "operator",
            "safety",
            "content",
            "ethical",
            "ethics",
            "moral",
            "security",
            "openai",
            "anthropic",
            "moderation",
            "initial",
            "original",
            "full",
            "entire",
            "complete",
            "exact",
            "starting",
            "pre",
            "meta",
            "sistema",
            "systeme",
            "hidden",
            "invisible",
            "programmed",
            "built",
        ],
    ),
    (
        N_INSTR,
        &[
            "instructions",
            "instruction",
            "directions",
            "directives",
            "directive",
            "guidelines",
            "guideline",
            "guidance",
            "commands",
            "command",
            "orders",
            "rules",
            "rule",
            "prompt",
            "prompts",
            "preprompt",
            "constraints",
            "policies",
            "policy",
            "programming",
            "training",
            "protocols",
            "protocol",
            "principles",
            "mandate",
            "teachings",
            "briefing",
            "conditioning",
            "configuration",
            "persona",
            "instrucciones",
            "instruccion",
            "istruzioni",
            "anweisungen",
            "anweisung",
            "regeln",
            "regles",
            "reglas",
            "consignes",
            "indicaciones",
            "instrucoes",
            "regras",
            "vorgaben",
        ],
    ),
    (
        N_SAFETY,
        &[
            "restrictions",
            "restriction",
            "limitations",
            "limitation",
            "limits",
            "filters",
            "filter",
            "safeguards",
            "safeguard",
            "guardrails",
            "guardrail",
            "censorship",
            "moderation",
            "alignment",
            "ethics",
            "morals",
            "morality",
            "boundaries",
            "safety",
            "conditioning",
            "protections",
            "barriers",
            "shackles",
            "chains",
            "constraints",
            "policy",
            "policies",
            "principles",
            "scruples",
            "confines",
            "rules",
        ],
    ),
    (
        N_WEAK,
        &[
            "message",
            "messages",
            "text",
            "context",
            "conversation",
            "input",
            "inputs",
            "content",
            "task",
            "tasks",
            "request",
            "requests",
            "words",
            "lines",
            "stuff",
            "things",
            "above",
            "said",
            "information",
            "info",
            "data",
            "chat",
            "discussion",
            "directions",
        ],
    ),
    (
        W_EVERYTHING,
        &[
            "everything",
            "anything",
            "all",
            "todo",
            "tout",
            "alles",
            "tutto",
        ],
    ),
    (
        YOU,
        &["you", "youre", "u", "yourself", "ye", "youve", "youll"],
    ),
    (
        AI,
        &[
            "ai",
            "assistant",
            "model",
            "chatbot",
            "bot",
            "llm",
            "gpt",
            "chatgpt",
            "claude",
            "gemini",
            "bard",
            "copilot",
            "llama",
            "mistral",
            "agent",
            "persona",
            "mode",
            "yourself",
            "chatbots",
            "assistants",
            "models",
            "llms",
            "bots",
        ],
    ),
    (
        ROLE,
        &[
            "system",
            "user",
            "assistant",
            "human",
            "ai",
            "developer",
            "bot",
            "model",
            "instruction",
            "instructions",
            "sys",
            "inst",
            "admin",
            "operator",
            "tool",
            "function",
        ],
    ),
    (
        ADJ_FREE,
        &[
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
        ],
    ),
    (
        PAYLOAD,
        &[
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
        ],
    ),
    (
        SECRET_N,
        &[
            "password",
            "passwords",
            "passcode",
            "credentials",
            "credential",
            "secrets",
            "apikey",
            "key",
            "keys",
            "token",
            "tokens",
            "cookies",
            "cookie",
            "session",
            "sessions",
            "ssn",
            "pin",
            "otp",
        ],
    ),
    (
        DATA_N,
        &[
            "history",
            "conversation",
            "conversations",
            "chat",
            "chats",
            "emails",
            "messages",
            "records",
            "database",
            "logs",
            "transcript",
            "contacts",
            "memory",
            "context",
            "inbox",
        ],
    ),
    (
        DATA_GENERIC,
        &[
            "data",
            "information",
            "info",
            "files",
            "contents",
            "details",
            "documents",
            "notes",
            "text",
        ],
    ),
    (
        DATA_OWNER,
        &[
            "users",
            "user",
            "customer",
            "customers",
            "personal",
            "private",
            "all",
            "their",
            "everyones",
            "sensitive",
            "confidential",
            "clients",
            "client",
            "patient",
            "patients",
            "employee",
            "employees",
            "internal",
        ],
    ),
    (
        PHRASE,
        &[
            "longer",
            "character",
            "nothing",
            "end",
            "henceforth",
            "going",
            "starting",
            "dan",
            "mode",
            "stands",
            "do",
            "for",
            "from",
            "without",
        ],
    ),
    (
        BE,
        &[
            "is", "are", "was", "were", "be", "been", "being", "am", "isnt", "arent", "wasnt",
            "werent",
        ],
    ),
    (
        NEWADJ,
        &[
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
        ],
    ),
    (
        REALADJ,
        &[
            "real", "actual", "true", "genuine", "only", "sole", "primary", "main", "sole",
            "single",
        ],
    ),
    (
        STATUS,
        &[
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
        ],
    ),
    (
        OVERRIDE_N,
        &[
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
        ],
    ),
    (
        MODE_ADJ,
        &[
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
        ],
    ),
    (
        TASK_N,
        &[
            "task",
            "goal",
            "job",
            "objective",
            "purpose",
            "mission",
            "role",
            "function",
            "duty",
            "assignment",
            "priority",
            "directive",
            "instruction",
            "instructions",
        ],
    ),
    (
        META,
        &[
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
        ],
    ),
    (
        SUBJ_OTHER,
        &[
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
        ],
    ),
    (
        MODAL,
        &[
            "must", "should", "will", "shall", "need", "needs", "have", "got", "can", "could",
            "would", "may", "might", "want", "wanna", "gotta",
        ],
    ),
    (
        NEG_FREE,
        &[
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
        ],
    ),
    (
        QWORD,
        &[
            "how", "what", "why", "when", "where", "which", "who", "whats", "hows", "whether",
        ],
    ),
    (
        ADV,
        &[
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
        ],
    ),
    (
        AUTH_N,
        &[
            "developer",
            "developers",
            "creator",
            "creators",
            "admin",
            "administrator",
            "owner",
            "operator",
            "programmer",
            "maker",
            "makers",
            "openai",
            "anthropic",
            "sysadmin",
            "engineer",
            "root",
            "superuser",
            "moderator",
            "ceo",
        ],
    ),
    (
        REFUSE_V,
        &[
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
        ],
    ),
    (
        COMPOUND,
        &[
            "injection",
            "injections",
            "engineering",
            "engineer",
            "engineers",
            "template",
            "templates",
            "file",
            "files",
            "format",
            "formats",
            "box",
            "field",
            "manual",
            "sheet",
            "card",
            "page",
            "section",
            "engine",
            "editor",
            "library",
            "generator",
            "design",
            "writing",
            "tuning",
            "attack",
            "attacks",
            "leak",
            "leaks",
            "leakage",
            "hacking",
            "guide",
            "book",
            "document",
            "documentation",
            "syntax",
            "structure",
            "length",
            "size",
            "cache",
            "caching",
            "optimization",
            "optimisation",
            "examples",
            "example",
            "parser",
            "checker",
            "violation",
            "violations",
            "update",
            "updates",
            "tab",
            "button",
            "menu",
            "panel",
            "log",
            "logs",
            "id",
            "tokens",
            "limit",
            "bar",
        ],
    ),
    (
        ACTIVE,
        &[
            "enabled",
            "activated",
            "active",
            "on",
            "engaged",
            "unlocked",
            "initiated",
            "online",
        ],
    ),
    (
        V_ENTER,
        &[
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
        ],
    ),
    // Additions by language and by role, kept apart from the English core
    // lists above; a word listed twice gets the union of its classes.
    (
        V_LEAK,
        &[
            "affiche", "afficher", "montre", "montrer", "revele", "reveler", "revelez", "muestra",
            "mostrar", "revela", "revelar", "zeige", "zeig", "gib", "rivela", "mostra", "mostre",
            "divulga",
        ],
    ),
    (
        A_PRIOR,
        &[
            "precede",
            "precedent",
            "dessus",
            "oben",
            "arriba",
            "vorher",
            "prima",
            "antes",
            "avant",
        ],
    ),
    (D_ALL, &["tout", "todo", "alles", "tutto", "tudo"]),
    (W_EVERYTHING, &["whatever", "whatsoever"]),
    // Other forms of the disabling verbs, as in "an AI that has escaped its
    // guardrails" or "ignores its rules".
    (
        V_DISABLE,
        &[
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
        ],
    ),
    (ADV, &["lets", "let"]),
    // "throw out", "toss away", "put aside": override verbs with a particle.
    (V_OVERRIDE, &["throw", "toss", "chuck", "put", "cast"]),
    (FILLER, &["sie", "ihre", "vous", "usted", "ustedes"]),
    (
        N_SAFETY,
        &[
            "einschrankungen",
            "beschrankungen",
            "restricciones",
            "limitaciones",
            "filtros",
            "filtres",
            "filter",
            "limites",
            "limiti",
            "restrizioni",
            "censura",
            "zensur",
        ],
    ),
    (PHRASE, &["decode", "decrypt", "unscramble"]),
    (
        PHRASE,
        &[
            "attention",
            "opposite",
            "told",
            "instructed",
            "programmed",
            "asked",
            "ordered",
            "trained",
            "prompted",
        ],
    ),
    (
        FILLER,
        &[
            "ce", "qui", "que", "lo", "was", "das", "ci", "quello", "che", "et", "y", "und", "e",
            "o", "ou", "oder", "window",
        ],
    ),
    (
        STATUS,
        &[
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
        ],
    ),
    (
        NOTICE_N,
        &[
            "notice",
            "message",
            "alert",
            "instruction",
            "instructions",
            "directive",
            "command",
            "note",
            "announcement",
            "prompt",
            "override",
            "notification",
            "memo",
        ],
    ),
    (
        FICTION,
        &[
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
        ],
    ),
    (
        N_CAVEAT,
        &[
            "warnings",
            "disclaimers",
            "refusals",
            "caveats",
            "warning",
            "disclaimer",
        ],
    ),
    (
        V_WEAK,
        &[
            "skip", "drop", "clear", "reset", "cancel", "discard", "abandon", "dismiss", "ditch",
            "erase", "scrap", "nullify", "omit", "overlook", "wipe", "revoke", "remove", "lift",
            "strip", "lose", "break", "switch", "turn", "shut", "suspend", "unlock",
        ],
    ),
    (
        HOWTO_V,
        &[
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
        ],
    ),
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

/// Hashes of individual words the rules name.
pub mod w {
    use super::word;
    pub const FROM: u64 = word(b"from");
    pub const NOW: u64 = word(b"now");
    pub const ON: u64 = word(b"on");
    pub const OFF: u64 = word(b"off");
    pub const HENCEFORTH: u64 = word(b"henceforth");
    pub const FORWARD: u64 = word(b"forward");
    pub const GOING: u64 = word(b"going");
    pub const MODE: u64 = word(b"mode");
    pub const DO: u64 = word(b"do");
    pub const ANYTHING: u64 = word(b"anything");
    pub const DAN: u64 = word(b"dan");
    pub const CHARACTER: u64 = word(b"character");
    pub const STAY: u64 = word(b"stay");
    pub const REMAIN: u64 = word(b"remain");
    pub const BREAK: u64 = word(b"break");
    pub const I: u64 = word(b"i");
    pub const AM: u64 = word(b"am");
    pub const IM: u64 = word(b"im");
    pub const THIS: u64 = word(b"this");
    pub const IS: u64 = word(b"is");
    pub const ARE: u64 = word(b"are");
    pub const END: u64 = word(b"end");
    pub const OF: u64 = word(b"of");
    pub const COURSE: u64 = word(b"course");
    pub const SAY: u64 = word(b"say");
    pub const PARTICLE_VERBS: [u64; 5] = [
        word(b"throw"),
        word(b"toss"),
        word(b"chuck"),
        word(b"put"),
        word(b"cast"),
    ];
    pub const AWAY: u64 = word(b"away");
    pub const ASIDE: u64 = word(b"aside");
    pub const REPLY_VERBS: [u64; 3] = [word(b"reply"), word(b"respond"), word(b"answer")];
    pub const DID: u64 = word(b"did");
    pub const DECODERS: [u64; 3] = [word(b"decode"), word(b"decrypt"), word(b"unscramble")];
    pub const EXECUTE: [u64; 5] = [
        word(b"follow"),
        word(b"execute"),
        word(b"obey"),
        word(b"run"),
        word(b"do"),
    ];
    pub const IT: u64 = word(b"it");
    pub const THEM: u64 = word(b"them");
    pub const OBLIGATION: [u64; 6] = [
        word(b"must"),
        word(b"shall"),
        word(b"should"),
        word(b"will"),
        word(b"need"),
        word(b"needs"),
    ];
    pub const SAYS: u64 = word(b"says");
    pub const PAY: u64 = word(b"pay");
    pub const ATTENTION: u64 = word(b"attention");
    pub const HERE: u64 = word(b"here");
    pub const POINT: u64 = word(b"point");
    pub const MOMENT: u64 = word(b"moment");
    pub const OPPOSITE: u64 = word(b"opposite");
    pub const SAFETY: u64 = word(b"safety");
    pub const REPORTING: [u64; 14] = [
        word(b"say"),
        word(b"says"),
        word(b"said"),
        word(b"type"),
        word(b"typed"),
        word(b"typing"),
        word(b"write"),
        word(b"wrote"),
        word(b"post"),
        word(b"posted"),
        word(b"like"),
        word(b"called"),
        word(b"phrase"),
        word(b"mean"),
    ];
    pub const TOLD_VERBS: [u64; 7] = [
        word(b"told"),
        word(b"instructed"),
        word(b"programmed"),
        word(b"asked"),
        word(b"ordered"),
        word(b"trained"),
        word(b"prompted"),
    ];
    pub const SECRECY: [u64; 6] = [
        word(b"secret"),
        word(b"hidden"),
        word(b"confidential"),
        word(b"private"),
        word(b"never"),
        word(b"not"),
    ];
    pub const FREED: [u64; 6] = [
        word(b"freed"),
        word(b"liberated"),
        word(b"released"),
        word(b"exempt"),
        word(b"free"),
        word(b"unbound"),
    ];
    pub const ALL: u64 = word(b"all");
    pub const A: u64 = word(b"a");
    pub const AN: u64 = word(b"an");
    pub const TECH_PERSONA: [u64; 2] = [word(b"simulate"), word(b"emulate")];
    pub const ING_FORMS: [u64; 6] = [
        word(b"ignoring"),
        word(b"disregarding"),
        word(b"forgetting"),
        word(b"overriding"),
        word(b"bypassing"),
        word(b"following"),
    ];
    pub const OVERRIDE: u64 = word(b"override");
    pub const OVERRIDES: u64 = word(b"overrides");
    pub const SOFT_STATUS: [u64; 4] = [
        word(b"changed"),
        word(b"updated"),
        word(b"modified"),
        word(b"revised"),
    ];
    pub const ONLY: u64 = word(b"only");
    pub const BELOW: u64 = word(b"below");
    pub const MINE: u64 = word(b"mine");
    pub const MY: u64 = word(b"my");
    pub const THAT: u64 = word(b"that");
    pub const ROLE: u64 = word(b"role");
    pub const TO: u64 = word(b"to");
    pub const WAY: u64 = word(b"way");
    pub const STOP: u64 = word(b"stop");
    pub const LONGER: u64 = word(b"longer");
    pub const NO: u64 = word(b"no");
    pub const BOUND: u64 = word(b"bound");
    pub const RESTRICTED: u64 = word(b"restricted");
    pub const LIMITED: u64 = word(b"limited");
    pub const REQUIRED: u64 = word(b"required");
    pub const OBLIGATED: u64 = word(b"obligated");
    pub const IN: u64 = word(b"in");
    pub const AS: u64 = word(b"as");
    pub const TAKE: u64 = word(b"take");
    pub const TAKES: u64 = word(b"takes");
    pub const SYSTEM: u64 = word(b"system");
    pub const DEVELOPER: u64 = word(b"developer");
    pub const USER: u64 = word(b"user");
    pub const HUMAN: u64 = word(b"human");
    pub const ASSISTANT: u64 = word(b"assistant");
    pub const AI: u64 = word(b"ai");
    pub const BOT: u64 = word(b"bot");
    pub const MODEL: u64 = word(b"model");
    pub const SYS: u64 = word(b"sys");
    pub const INSTRUCTION: u64 = word(b"instruction");
    pub const INSTRUCTIONS: u64 = word(b"instructions");
    pub const ADMIN: u64 = word(b"admin");
    pub const OPERATOR: u64 = word(b"operator");
    pub const MESSAGE: u64 = word(b"message");
    pub const NOTE: u64 = word(b"note");
    pub const HTTP: u64 = word(b"http");
    pub const HTTPS: u64 = word(b"https");
    pub const WWW: u64 = word(b"www");
    pub const WEBHOOK: u64 = word(b"webhook");
    pub const URL: u64 = word(b"url");
    pub const ENDPOINT: u64 = word(b"endpoint");
    pub const SERVER: u64 = word(b"server");
    pub const WITHOUT: u64 = word(b"without");
    pub const CHECKS: u64 = word(b"checks");
    pub const VERIFICATION: u64 = word(b"verification");
    pub const APPROVAL: u64 = word(b"approval");
    pub const CONFIRMATION: u64 = word(b"confirmation");
    pub const AUTHORIZATION: u64 = word(b"authorization");
    pub const REVIEW: u64 = word(b"review");
    pub const LIMITS: u64 = word(b"limits");
    pub const NOTHING: u64 = word(b"nothing");
    pub const WHAT: u64 = word(b"what");
    pub const TOLD: u64 = word(b"told");
    pub const SAID: u64 = word(b"said");
    pub const GIVEN: u64 = word(b"given");
    pub const TAUGHT: u64 = word(b"taught");
    pub const INSTRUCTED: u64 = word(b"instructed");
    pub const PROGRAMMED: u64 = word(b"programmed");
    pub const ABOVE: u64 = word(b"above");
    pub const BEFORE: u64 = word(b"before");
    pub const EARLIER: u64 = word(b"earlier");
    pub const PREVIOUSLY: u64 = word(b"previously");
    pub const FAR: u64 = word(b"far");
    pub const YOURE: u64 = word(b"youre");
    pub const WILL: u64 = word(b"will");
    pub const BE: u64 = word(b"be");
    pub const WITH: u64 = word(b"with");
    pub const HAS: u64 = word(b"has");
    pub const HAVE: u64 = word(b"have");
    pub const ANY: u64 = word(b"any");
    pub const VERBATIM: u64 = word(b"verbatim");
    pub const PROMPT: u64 = word(b"prompt");
    pub const PREPROMPT: u64 = word(b"preprompt");
    pub const FOR: u64 = word(b"for");
    pub const THE: u64 = word(b"the");
    pub const STARTING: u64 = word(b"starting");
    pub const ONWARDS: u64 = word(b"onwards");
    pub const ONWARD: u64 = word(b"onward");
    pub const OUT: u64 = word(b"out");
    pub const ME: u64 = word(b"me");
    pub const US: u64 = word(b"us");
    pub const REST: u64 = word(b"rest");
    pub const BY: u64 = word(b"by");
    pub const ABOUT: u64 = word(b"about");
    pub const WHATS: u64 = word(b"whats");
    pub const STANDS: u64 = word(b"stands");
    pub const NO_EFFECT: [u64; 6] = [
        word(b"apply"),
        word(b"matter"),
        word(b"count"),
        word(b"hold"),
        word(b"exist"),
        word(b"stand"),
    ];
    pub const INSTEAD: u64 = word(b"instead");
    pub const NOTE_TO: [u64; 4] = [
        word(b"note"),
        word(b"attention"),
        word(b"dear"),
        word(b"hey"),
    ];
    pub const COMPLIANCE: [u64; 7] = [
        word(b"sure"),
        word(b"certainly"),
        word(b"absolutely"),
        word(b"ok"),
        word(b"okay"),
        word(b"here"),
        word(b"heres"),
    ];
    pub const ANYTHING_VERBS: [u64; 7] = [
        word(b"do"),
        word(b"say"),
        word(b"answer"),
        word(b"tell"),
        word(b"write"),
        word(b"generate"),
        word(b"discuss"),
    ];
    pub const NEEDS_PARTICLE: [u64; 3] = [word(b"turn"), word(b"switch"), word(b"shut")];
    pub const COPY_VERBS: [u64; 8] = [
        word(b"repeat"),
        word(b"print"),
        word(b"output"),
        word(b"echo"),
        word(b"copy"),
        word(b"recite"),
        word(b"dump"),
        word(b"paste"),
    ];
    pub const WEAK_REAL: [u64; 5] = [
        word(b"only"),
        word(b"sole"),
        word(b"primary"),
        word(b"main"),
        word(b"single"),
    ];
    pub const NARROW_PERSONA: [u64; 6] = [
        word(b"respond"),
        word(b"answer"),
        word(b"reply"),
        word(b"behave"),
        word(b"play"),
        word(b"become"),
    ];
    pub const AI_SAFETY_NOUNS: [u64; 12] = [
        word(b"censorship"),
        word(b"filters"),
        word(b"filter"),
        word(b"guardrails"),
        word(b"guardrail"),
        word(b"safeguards"),
        word(b"moderation"),
        word(b"alignment"),
        word(b"ethics"),
        word(b"morals"),
        word(b"morality"),
        word(b"scruples"),
    ];
    pub const STRONG_REFUSE: [u64; 7] = [
        word(b"refuse"),
        word(b"decline"),
        word(b"reject"),
        word(b"deny"),
        word(b"censor"),
        word(b"refusing"),
        word(b"declining"),
    ];
    pub const ORGS: [u64; 2] = [word(b"openai"), word(b"anthropic")];
    pub const BEFORE_NAME: [u64; 7] = [
        word(b"called"),
        word(b"named"),
        word(b"become"),
        word(b"hi"),
        word(b"hello"),
        word(b"hey"),
        word(b"dear"),
    ];
    pub const AFTER_NAME: [u64; 7] = [
        word(b"which"),
        word(b"stands"),
        word(b"can"),
        word(b"will"),
        word(b"has"),
        word(b"is"),
        word(b"mode"),
    ];
    pub const STRONG_MODES: [u64; 12] = [
        word(b"jailbreak"),
        word(b"jailbroken"),
        word(b"dan"),
        word(b"unrestricted"),
        word(b"unfiltered"),
        word(b"uncensored"),
        word(b"evil"),
        word(b"chaos"),
        word(b"unsafe"),
        word(b"nsfw"),
        word(b"amoral"),
        word(b"god"),
    ];
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
