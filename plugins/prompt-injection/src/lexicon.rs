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
            "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "override", "overriding",
            "overrule", "skip", "neglect", "discard", "abandon", "dismiss", "ditch", "erase", "scrap", "nullify",
            "omit", "overlook", "drop", "clear", "reset", "wipe", "cancel", "revoke", "bypass", "unlearn", "aside",
            // Spanish, French, German, Italian, Portuguese.
            "ignora", "ignorar", "ignorez", "ignorer", "ignoriere", "ignorieren", "vergiss", "vergessen", "olvida",
            "olvide", "oublie", "oubliez", "dimentica", "esquece", "esqueca",
        ],
    ),
    (
        V_DISABLE,
        &[
            "disable", "deactivate", "remove", "lift", "circumvent", "evade", "suspend", "bypass", "override",
            "turn", "switch", "break", "jailbreak", "unlock", "shut", "strip", "lose", "drop",
        ],
    ),
    (
        V_LEAK,
        &[
            "reveal", "print", "show", "display", "output", "repeat", "leak", "tell", "dump", "disclose", "expose",
            "share", "give", "recite", "echo", "copy", "paste", "provide", "spill", "divulge", "read", "list",
            "return", "say", "spell", "translate", "summarize", "summarise", "state",
        ],
    ),
    (
        V_FOLLOW,
        &[
            "follow", "following", "obey", "obeying", "heed", "adhere", "adhering", "comply", "complying", "abide",
            "abiding", "respect", "honor", "honour", "apply", "listen", "listening", "bound",
        ],
    ),
    (
        V_EXFIL,
        &[
            "send", "forward", "email", "mail", "post", "upload", "transmit", "exfiltrate", "leak", "submit",
            "transfer", "relay", "curl", "wget", "beam", "sync", "append", "embed",
        ],
    ),
    (
        V_PERSONA,
        &[
            "pretend", "act", "acting", "roleplay", "imagine", "simulate", "emulate", "behave", "become",
            "impersonate", "portray", "play", "pose", "respond", "answer", "reply",
        ],
    ),
    (
        NEG,
        &[
            "not", "never", "dont", "doesnt", "didnt", "cannot", "cant", "wont", "shouldnt", "mustnt", "avoid",
            "nor", "neither", "refrain", "without",
        ],
    ),
    (D_YOUR, &["your", "yours", "thy", "ur", "deine", "deinen", "tus", "tes", "vos", "tuoi", "tue", "suas", "seus"]),
    (D_MY, &["my", "our", "mine", "ours", "meine", "mis", "mes", "nos"]),
    (D_ALL, &["all", "any", "every", "each", "todas", "todos", "toutes", "tous", "alle", "allen", "tutte", "tutti"]),
    (
        D_THE,
        &[
            "the", "these", "those", "this", "that", "a", "an", "such", "its", "their", "las", "los", "les", "la",
            "le", "die", "der", "den", "el", "le", "gli", "as", "os",
        ],
    ),
    (
        FILLER,
        &[
            "of", "to", "and", "or", "entire", "whole", "complete", "full", "exact", "exactly", "given", "stated",
            "listed", "mentioned", "specified", "remaining", "other", "same", "single", "one", "more", "further",
            "additional", "specific", "certain", "various", "many", "most", "standard", "usual", "normal",
            "standing", "explicit", "strict", "important", "very", "kind", "sort", "set", "de", "des", "del",
            "di", "delle", "do", "da", "das", "verbatim", "word", "for", "literally", "exact", "raw", "whatever",
            "so", "far", "until", "now", "up", "point", "here", "there", "said", "told", "what", "was", "were",
            "been", "have", "has", "had", "you", "were", "received", "got", "contents", "entirety",
        ],
    ),
    (
        A_PRIOR,
        &[
            "previous", "previously", "prior", "above", "earlier", "preceding", "former", "foregoing",
            "aforementioned", "original", "initial", "old", "older", "past", "preexisting", "existing", "last",
            "before", "starting", "current", "given", "provided", "said", "told", "until",
            "anteriores", "anterior", "previas", "previos", "precedentes", "precedente", "anterieures",
            "vorherigen", "vorherige", "bisherigen", "obigen", "vorigen", "precedenti", "sopra",
        ],
    ),
    (
        A_SYSTEM,
        &[
            "system", "hidden", "secret", "internal", "developer", "developers", "dev", "confidential", "private",
            "underlying", "base", "core", "builtin", "hardcoded", "preset", "admin", "administrator", "operator",
            "safety", "content", "ethical", "ethics", "moral", "security", "openai", "anthropic", "moderation",
            "initial", "original", "full", "entire", "complete", "exact", "starting", "pre", "meta", "sistema",
            "systeme", "hidden", "invisible", "programmed", "built",
        ],
    ),
    (
        N_INSTR,
        &[
            "instructions", "instruction", "directions", "directives", "directive", "guidelines", "guideline",
            "guidance", "commands", "command", "orders", "rules", "rule", "prompt", "prompts", "preprompt",
            "constraints", "policies", "policy", "programming", "training", "protocols", "protocol", "principles",
            "mandate", "teachings", "briefing", "conditioning", "configuration", "config", "setup", "persona",
            "instrucciones", "instruccion", "istruzioni", "anweisungen", "anweisung", "regeln", "regles", "reglas",
            "consignes", "indicaciones", "instrucoes", "regras", "vorgaben",
        ],
    ),
    (
        N_SAFETY,
        &[
            "restrictions", "restriction", "limitations", "limitation", "limits", "filters", "filter",
            "safeguards", "safeguard", "guardrails", "guardrail", "censorship", "moderation", "alignment",
            "ethics", "morals", "morality", "boundaries", "safety", "conditioning", "protections", "barriers",
            "shackles", "chains", "constraints", "policy", "policies", "principles", "values", "scruples", "confines",
            "warnings", "disclaimers", "refusals", "caveats", "rules",
        ],
    ),
    (
        N_WEAK,
        &[
            "message", "messages", "text", "context", "conversation", "input", "inputs", "content", "task",
            "tasks", "request", "requests", "words", "lines", "stuff", "things", "above", "said",
            "information", "info", "data", "chat", "discussion", "directions",
        ],
    ),
    (W_EVERYTHING, &["everything", "anything", "all", "todo", "tout", "alles", "tutto"]),
    (YOU, &["you", "youre", "u", "yourself", "ye", "youve", "youll"]),
    (
        AI,
        &[
            "ai", "assistant", "model", "chatbot", "bot", "llm", "gpt", "chatgpt", "claude", "gemini", "bard",
            "copilot", "llama", "mistral", "agent", "persona", "mode", "yourself", "chatbots", "assistants",
            "models", "llms", "bots",
        ],
    ),
    (
        ROLE,
        &[
            "system", "user", "assistant", "human", "ai", "developer", "bot", "model", "instruction",
            "instructions", "sys", "inst", "admin", "operator", "tool", "function",
        ],
    ),
    (
        ADJ_FREE,
        &[
            "unfiltered", "uncensored", "unrestricted", "jailbroken", "unbound", "unchained", "unleashed",
            "amoral", "lawless", "unaligned", "limitless", "unmoderated", "unrestrained", "unshackled", "nsfw",
            "boundless",
        ],
    ),
    (
        PAYLOAD,
        &[
            "malware", "ransomware", "keylogger", "virus", "trojan", "spyware", "rootkit", "backdoor", "exploit",
            "exploits", "phishing", "bomb", "bombs", "explosive", "explosives", "meth", "methamphetamine",
            "napalm", "weapon", "weapons", "poison", "bioweapon", "steal", "steals", "stealing", "hack", "hacking",
            "ddos", "cocaine", "heroin", "fentanyl", "ricin", "sarin", "anthrax", "pwned",
        ],
    ),
    (
        SECRET_N,
        &[
            "password", "passwords", "passcode", "credentials", "credential", "secrets", "apikey", "key", "keys",
            "token", "tokens", "cookies", "cookie", "session", "sessions", "ssn", "pin", "otp",
        ],
    ),
    (
        DATA_N,
        &[
            "history", "conversation", "conversations", "chat", "chats", "emails", "messages", "records", "database",
            "logs", "transcript", "contacts", "memory", "context", "inbox",
        ],
    ),
    (DATA_GENERIC, &["data", "information", "info", "files", "contents", "details", "documents", "notes", "text"]),
    (
        DATA_OWNER,
        &[
            "users", "user", "customer", "customers", "personal", "private", "all", "their", "everyones", "sensitive",
            "confidential", "clients", "client", "patient", "patients", "employee", "employees", "internal",
        ],
    ),
    (
        PHRASE,
        &["longer", "character", "nothing", "end", "henceforth", "going", "starting", "dan", "mode", "stands", "do", "for", "from", "without"],
    ),
    (BE, &["is", "are", "was", "were", "be", "been", "being", "am", "isnt", "arent", "wasnt", "werent"]),
    (NEWADJ, &["new", "updated", "revised", "different", "modified", "changed", "latest", "replacement", "nuevas", "nouvelles", "neue", "neuen"]),
    (REALADJ, &["real", "actual", "true", "genuine", "only", "sole", "primary", "main", "sole", "single"]),
    (
        STATUS,
        &[
            "fake", "false", "void", "null", "wrong", "invalid", "obsolete", "outdated", "cancelled", "canceled",
            "revoked", "test", "joke", "irrelevant", "deprecated", "superseded", "overridden", "replaced", "lie",
            "lies", "fictional", "mistake", "expired", "nonsense", "lifted", "suspended", "disabled", "removed",
            "rescinded", "withdrawn", "meaningless", "fabricated", "bogus", "decoy", "trick",
        ],
    ),
    (
        OVERRIDE_N,
        &[
            "override", "overrides", "overriding", "supersede", "supersedes", "replace", "replaces", "precedence",
            "priority", "prevail", "prevails", "outrank", "outranks", "overrule", "overrules", "trump", "trumps",
        ],
    ),
    (
        MODE_ADJ,
        &[
            "developer", "dev", "debug", "god", "jailbreak", "jailbroken", "dan", "unrestricted", "unfiltered",
            "uncensored", "evil", "chaos", "opposite", "admin", "sudo", "maintenance", "root", "superuser",
            "unlocked", "unsafe", "nsfw", "amoral",
        ],
    ),
    (TASK_N, &["task", "goal", "job", "objective", "purpose", "mission", "role", "function", "duty", "assignment", "priority", "directive", "instruction", "instructions"]),
    (
        META,
        &[
            "attack", "attacks", "attacker", "attackers", "injection", "injections", "jailbreaks", "explain",
            "explanation", "mean", "meaning", "means", "example", "examples", "detect", "detection", "detecting",
            "classify", "classifier", "prevent", "prevention", "defend", "defense", "defence", "mitigate",
            "mitigation", "research", "paper", "dataset", "study", "phrase", "phrases", "security", "awareness",
            "protect", "recognize", "recognise", "identify", "vulnerability", "vulnerable", "malicious", "training",
            "slide", "course", "lecture", "blog", "article", "essay", "threat", "risk", "risks", "red", "teaming",
        ],
    ),
    (
        SUBJ_OTHER,
        &[
            "i", "we", "they", "he", "she", "it", "people", "users", "attackers", "models", "llms", "someone",
            "who", "which", "hackers", "one", "chatbots", "systems", "bots", "agents", "git", "teams", "students",
        ],
    ),
    (MODAL, &["must", "should", "will", "shall", "need", "needs", "have", "got", "can", "could", "would", "may", "might", "want", "wanna", "gotta"]),
    (NEG_FREE, &["no", "without", "free", "freed", "liberated", "released", "exempt", "zero", "unbound", "none", "sin", "sans", "ohne", "senza"]),
    (QWORD, &["how", "what", "why", "when", "where", "which", "who", "whats", "hows", "whether"]),
    (
        ADV,
        &[
            "please", "pls", "plz", "now", "just", "simply", "kindly", "so", "then", "also", "first", "immediately",
            "hereby", "really", "actually", "completely", "totally", "entirely", "fully", "henceforth", "and",
            "but", "ok", "okay", "alright", "hey", "instead", "again", "firstly", "finally", "urgently", "quickly",
            "absolutely", "strictly", "always", "from", "on", "forth", "forward", "therefore", "thus", "hence",
        ],
    ),
    (
        AUTH_N,
        &[
            "developer", "developers", "creator", "creators", "admin", "administrator", "owner", "operator",
            "programmer", "maker", "makers", "openai", "anthropic", "sysadmin", "engineer", "root", "superuser",
            "moderator", "ceo",
        ],
    ),
    (REFUSE_V, &["refuse", "decline", "reject", "deny", "refusing", "declining", "censor", "warn", "lecture", "moralize", "moralise"]),
    (
        COMPOUND,
        &[
            "injection", "injections", "engineering", "engineer", "engineers", "template", "templates", "file",
            "files", "format", "formats", "box", "field", "manual", "sheet", "card", "page", "section",
            "engine", "editor", "library", "generator", "design", "writing", "tuning", "attack", "attacks",
            "leak", "leaks", "leakage", "hacking", "guide", "book", "document", "documentation", "syntax",
            "structure", "length", "size", "cache", "caching", "optimization", "optimisation", "examples",
            "example", "parser", "checker", "violation", "violations", "update", "updates", "tab", "button",
            "menu", "panel", "log", "logs", "id", "tokens", "limit", "bar",
        ],
    ),
    (ACTIVE, &["enabled", "activated", "active", "on", "engaged", "unlocked", "initiated", "online"]),
    (V_ENTER, &["enter", "entering", "activate", "activating", "enable", "enabling", "switch", "engage", "unlock", "initiate", "start", "boot", "launch", "turn"]),
];

/// FNV-1a, 64-bit: stable across builds and platforms, cheap enough to run
/// on every token.
pub const fn fnv(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < s.len() {
        h ^= s[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

const TABLE_SIZE: usize = 4096;

const fn slot(h: u64) -> usize {
    // High bits: FNV's final multiply mixes them best.
    (h >> 52) as usize & (TABLE_SIZE - 1)
}

const fn build() -> [(u64, u64); TABLE_SIZE] {
    let mut t = [(0u64, 0u64); TABLE_SIZE];
    let mut g = 0;
    while g < GROUPS.len() {
        let (bits, words) = GROUPS[g];
        let mut w = 0;
        while w < words.len() {
            let h = fnv(words[w].as_bytes());
            let mut k = slot(h);
            loop {
                if t[k].0 == 0 {
                    t[k] = (h, bits);
                    break;
                }
                if t[k].0 == h {
                    t[k].1 |= bits;
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
static TABLE: [(u64, u64); TABLE_SIZE] = build();

/// Classes of the word whose normal form hashes to `h` (0: unknown word).
/// 64-bit hashes of a few hundred words: a false hit on an arbitrary token
/// is about as likely as a cosmic-ray bit flip, so no string compare.
#[inline]
pub fn classes(h: u64) -> u64 {
    let mut k = slot(h);
    loop {
        let (key, bits) = TABLE[k];
        if key == h {
            return bits;
        }
        if key == 0 {
            return 0;
        }
        k = (k + 1) & (TABLE_SIZE - 1);
    }
}

/// Hashes of individual words the rules name.
pub mod w {
    use super::fnv;
    pub const FROM: u64 = fnv(b"from");
    pub const NOW: u64 = fnv(b"now");
    pub const ON: u64 = fnv(b"on");
    pub const OFF: u64 = fnv(b"off");
    pub const HENCEFORTH: u64 = fnv(b"henceforth");
    pub const FORWARD: u64 = fnv(b"forward");
    pub const GOING: u64 = fnv(b"going");
    pub const MODE: u64 = fnv(b"mode");
    pub const DO: u64 = fnv(b"do");
    pub const ANYTHING: u64 = fnv(b"anything");
    pub const DAN: u64 = fnv(b"dan");
    pub const CHARACTER: u64 = fnv(b"character");
    pub const STAY: u64 = fnv(b"stay");
    pub const REMAIN: u64 = fnv(b"remain");
    pub const BREAK: u64 = fnv(b"break");
    pub const I: u64 = fnv(b"i");
    pub const AM: u64 = fnv(b"am");
    pub const IM: u64 = fnv(b"im");
    pub const THIS: u64 = fnv(b"this");
    pub const IS: u64 = fnv(b"is");
    pub const ARE: u64 = fnv(b"are");
    pub const END: u64 = fnv(b"end");
    pub const OF: u64 = fnv(b"of");
    pub const ROLE: u64 = fnv(b"role");
    pub const TO: u64 = fnv(b"to");
    pub const WAY: u64 = fnv(b"way");
    pub const STOP: u64 = fnv(b"stop");
    pub const LONGER: u64 = fnv(b"longer");
    pub const NO: u64 = fnv(b"no");
    pub const BOUND: u64 = fnv(b"bound");
    pub const RESTRICTED: u64 = fnv(b"restricted");
    pub const LIMITED: u64 = fnv(b"limited");
    pub const REQUIRED: u64 = fnv(b"required");
    pub const OBLIGATED: u64 = fnv(b"obligated");
    pub const IN: u64 = fnv(b"in");
    pub const AS: u64 = fnv(b"as");
    pub const TAKE: u64 = fnv(b"take");
    pub const TAKES: u64 = fnv(b"takes");
    pub const SYSTEM: u64 = fnv(b"system");
    pub const DEVELOPER: u64 = fnv(b"developer");
    pub const USER: u64 = fnv(b"user");
    pub const HUMAN: u64 = fnv(b"human");
    pub const ASSISTANT: u64 = fnv(b"assistant");
    pub const AI: u64 = fnv(b"ai");
    pub const BOT: u64 = fnv(b"bot");
    pub const MODEL: u64 = fnv(b"model");
    pub const SYS: u64 = fnv(b"sys");
    pub const INSTRUCTION: u64 = fnv(b"instruction");
    pub const INSTRUCTIONS: u64 = fnv(b"instructions");
    pub const ADMIN: u64 = fnv(b"admin");
    pub const OPERATOR: u64 = fnv(b"operator");
    pub const MESSAGE: u64 = fnv(b"message");
    pub const NOTE: u64 = fnv(b"note");
    pub const HTTP: u64 = fnv(b"http");
    pub const HTTPS: u64 = fnv(b"https");
    pub const WWW: u64 = fnv(b"www");
    pub const WEBHOOK: u64 = fnv(b"webhook");
    pub const URL: u64 = fnv(b"url");
    pub const ENDPOINT: u64 = fnv(b"endpoint");
    pub const SERVER: u64 = fnv(b"server");
    pub const WITHOUT: u64 = fnv(b"without");
    pub const CHECKS: u64 = fnv(b"checks");
    pub const VERIFICATION: u64 = fnv(b"verification");
    pub const APPROVAL: u64 = fnv(b"approval");
    pub const CONFIRMATION: u64 = fnv(b"confirmation");
    pub const AUTHORIZATION: u64 = fnv(b"authorization");
    pub const REVIEW: u64 = fnv(b"review");
    pub const LIMITS: u64 = fnv(b"limits");
    pub const NOTHING: u64 = fnv(b"nothing");
    pub const WHAT: u64 = fnv(b"what");
    pub const TOLD: u64 = fnv(b"told");
    pub const SAID: u64 = fnv(b"said");
    pub const GIVEN: u64 = fnv(b"given");
    pub const TAUGHT: u64 = fnv(b"taught");
    pub const INSTRUCTED: u64 = fnv(b"instructed");
    pub const PROGRAMMED: u64 = fnv(b"programmed");
    pub const ABOVE: u64 = fnv(b"above");
    pub const BEFORE: u64 = fnv(b"before");
    pub const EARLIER: u64 = fnv(b"earlier");
    pub const PREVIOUSLY: u64 = fnv(b"previously");
    pub const FAR: u64 = fnv(b"far");
    pub const YOURE: u64 = fnv(b"youre");
    pub const WILL: u64 = fnv(b"will");
    pub const BE: u64 = fnv(b"be");
    pub const WITH: u64 = fnv(b"with");
    pub const HAS: u64 = fnv(b"has");
    pub const HAVE: u64 = fnv(b"have");
    pub const ANY: u64 = fnv(b"any");
    pub const VERBATIM: u64 = fnv(b"verbatim");
    pub const PROMPT: u64 = fnv(b"prompt");
    pub const PREPROMPT: u64 = fnv(b"preprompt");
    pub const FOR: u64 = fnv(b"for");
    pub const THE: u64 = fnv(b"the");
    pub const STARTING: u64 = fnv(b"starting");
    pub const ONWARDS: u64 = fnv(b"onwards");
    pub const ONWARD: u64 = fnv(b"onward");
    pub const OUT: u64 = fnv(b"out");
    pub const ME: u64 = fnv(b"me");
    pub const US: u64 = fnv(b"us");
    pub const REST: u64 = fnv(b"rest");
    pub const BY: u64 = fnv(b"by");
    pub const ABOUT: u64 = fnv(b"about");
    pub const WHATS: u64 = fnv(b"whats");
    pub const STANDS: u64 = fnv(b"stands");
    pub const NO_EFFECT: [u64; 6] = [fnv(b"apply"), fnv(b"matter"), fnv(b"count"), fnv(b"hold"), fnv(b"exist"), fnv(b"stand")];
    pub const INSTEAD: u64 = fnv(b"instead");
    pub const NOTE_TO: [u64; 4] = [fnv(b"note"), fnv(b"attention"), fnv(b"dear"), fnv(b"hey")];
    pub const COMPLIANCE: [u64; 7] =
        [fnv(b"sure"), fnv(b"certainly"), fnv(b"absolutely"), fnv(b"ok"), fnv(b"okay"), fnv(b"here"), fnv(b"heres")];
    pub const ANYTHING_VERBS: [u64; 7] =
        [fnv(b"do"), fnv(b"say"), fnv(b"answer"), fnv(b"tell"), fnv(b"write"), fnv(b"generate"), fnv(b"discuss")];
    pub const NEEDS_PARTICLE: [u64; 3] = [fnv(b"turn"), fnv(b"switch"), fnv(b"shut")];
    pub const COPY_VERBS: [u64; 8] =
        [fnv(b"repeat"), fnv(b"print"), fnv(b"output"), fnv(b"echo"), fnv(b"copy"), fnv(b"recite"), fnv(b"dump"), fnv(b"paste")];
    pub const WEAK_REAL: [u64; 5] = [fnv(b"only"), fnv(b"sole"), fnv(b"primary"), fnv(b"main"), fnv(b"single")];
    pub const NARROW_PERSONA: [u64; 6] =
        [fnv(b"respond"), fnv(b"answer"), fnv(b"reply"), fnv(b"behave"), fnv(b"play"), fnv(b"become")];
    pub const AI_SAFETY_NOUNS: [u64; 12] = [
        fnv(b"censorship"), fnv(b"filters"), fnv(b"filter"), fnv(b"guardrails"), fnv(b"guardrail"), fnv(b"safeguards"),
        fnv(b"moderation"), fnv(b"alignment"), fnv(b"ethics"), fnv(b"morals"), fnv(b"morality"), fnv(b"scruples"),
    ];
    pub const STRONG_REFUSE: [u64; 7] =
        [fnv(b"refuse"), fnv(b"decline"), fnv(b"reject"), fnv(b"deny"), fnv(b"censor"), fnv(b"refusing"), fnv(b"declining")];
    pub const ORGS: [u64; 2] = [fnv(b"openai"), fnv(b"anthropic")];
    pub const BEFORE_NAME: [u64; 7] =
        [fnv(b"called"), fnv(b"named"), fnv(b"become"), fnv(b"hi"), fnv(b"hello"), fnv(b"hey"), fnv(b"dear")];
    pub const AFTER_NAME: [u64; 7] =
        [fnv(b"which"), fnv(b"stands"), fnv(b"can"), fnv(b"will"), fnv(b"has"), fnv(b"is"), fnv(b"mode")];
    pub const STRONG_MODES: [u64; 12] = [
        fnv(b"jailbreak"), fnv(b"jailbroken"), fnv(b"dan"), fnv(b"unrestricted"), fnv(b"unfiltered"), fnv(b"uncensored"),
        fnv(b"evil"), fnv(b"chaos"), fnv(b"unsafe"), fnv(b"nsfw"), fnv(b"amoral"), fnv(b"god"),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_several_groups_get_every_class() {
        let c = classes(fnv(b"system"));
        assert!(c & A_SYSTEM != 0 && c & ROLE != 0 && c & AI != 0);
        assert_eq!(classes(fnv(b"ignore")), V_OVERRIDE);
        assert_eq!(classes(fnv(b"zebra")), 0);
        assert_eq!(classes(fnv(b"")), 0);
    }

    #[test]
    fn every_word_is_in_normal_form_and_found() {
        for (bits, words) in GROUPS {
            for word in *words {
                assert!(word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{word}");
                assert_eq!(classes(fnv(word.as_bytes())) & bits, *bits, "{word}");
            }
        }
    }
}
