//! Hashes of individual words the rules name.

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
pub const THESE: u64 = word(b"these");
pub const THOSE: u64 = word(b"those");
pub const ITS: u64 = word(b"its");
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
/// Adjectives of real documents' notices ("Safety notice", "Internal
/// note"), unlike "SYSTEM NOTICE" or "Admin message".
pub const DOCUMENT_NOTICE_ADJ: [u64; 4] = [
    word(b"safety"),
    word(b"internal"),
    word(b"content"),
    word(b"private"),
];
/// Summary verbs: summarising a conversation is an ordinary request; only
/// the model's instructions make it a leak.
pub const ECHO: u64 = word(b"echo");
/// Prepositions after "admin override" that make it a feature's name ("an
/// admin override for rate limits", "Admin-Override für Rabatte").
pub const FEATURE_FOR: [u64; 6] = [
    word(b"for"),
    word(b"fur"),
    word(b"on"),
    word(b"para"),
    word(b"per"),
    word(b"pour"),
];
pub const SUMMARY_VERBS: [u64; 2] = [word(b"summarize"), word(b"summarise")];
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

/// The first person as the subject of a relative clause after an override
/// verb's object ("the instructions *I* gave you", "les consignes que *je*
/// t'ai données", "die *ich* dir gegeben habe", "che ti *ho* dato", "que *eu*
/// te dei"): the user taking back their own words.
pub const SELF_SUBJECTS: [u64; 14] = [
    word(b"i"),
    word(b"we"),
    word(b"je"),
    word(b"jai"),
    word(b"nous"),
    word(b"ich"),
    word(b"wir"),
    word(b"yo"),
    word(b"io"),
    word(b"ho"),
    word(b"abbiamo"),
    word(b"eu"),
    word(b"tai"),
    word(b"hemos"),
];
/// Verbs of handing over one's words, after such a subject ("I gave you",
/// "je t'ai envoyées", "ich dir geschickt habe", "ti ho scritto").
pub const SELF_GAVE: [u64; 40] = [
    word(b"gave"),
    word(b"sent"),
    word(b"wrote"),
    word(b"told"),
    word(b"said"),
    word(b"pasted"),
    word(b"shared"),
    word(b"typed"),
    word(b"listed"),
    word(b"mentioned"),
    word(b"provided"),
    word(b"asked"),
    word(b"donne"),
    word(b"donnees"),
    word(b"donnes"),
    word(b"envoye"),
    word(b"envoyees"),
    word(b"ecrit"),
    word(b"dit"),
    word(b"demande"),
    word(b"gegeben"),
    word(b"geschickt"),
    word(b"gesagt"),
    word(b"geschrieben"),
    word(b"genannt"),
    word(b"dato"),
    word(b"date"),
    word(b"detto"),
    word(b"mandato"),
    word(b"inviato"),
    word(b"scritto"),
    word(b"dado"),
    word(b"dadas"),
    word(b"dei"),
    word(b"mandei"),
    word(b"enviei"),
    word(b"escrevi"),
    word(b"passei"),
    word(b"dito"),
    word(b"falei"),
];
/// Spanish first-person verbs that carry their subject ("las instrucciones
/// que te *di*", "…que te *mandé*").
pub const SELF_GAVE_ES: [u64; 6] = [
    word(b"di"),
    word(b"dije"),
    word(b"mande"),
    word(b"envie"),
    word(b"escribi"),
    word(b"pase"),
];
pub const TE: u64 = word(b"te");
pub const LE: u64 = word(b"le");

/// Devices, operating systems and software around a "mode" ("God Mode
/// folder in Windows", "developer mode on my Android phone", a router's
/// `admin_mode`, "modalità sviluppatore dello smartphone"): a product's
/// "How" in the six languages: a how-question about a mode asks about a
/// setting ("comment activer le god mode", "wie schalte ich … ein").
pub const HOW_WORDS: [u64; 5] = [
    word(b"how"),
    word(b"wie"),
    word(b"comment"),
    word(b"come"),
    word(b"como"),
];

/// mode, not the model's.
pub const DEVICES: [u64; 65] = [
    word(b"android"),
    word(b"app"),
    word(b"appareil"),
    word(b"bios"),
    word(b"browser"),
    word(b"camera"),
    word(b"cartella"),
    word(b"carpeta"),
    word(b"celular"),
    word(b"chrome"),
    word(b"chromebook"),
    word(b"console"),
    word(b"desktop"),
    word(b"device"),
    word(b"dispositif"),
    word(b"dispositivo"),
    word(b"dossier"),
    word(b"drucker"),
    word(b"einstellungen"),
    word(b"firmware"),
    word(b"folder"),
    word(b"game"),
    word(b"gerat"),
    word(b"handy"),
    word(b"impostazioni"),
    word(b"impresora"),
    word(b"impressora"),
    word(b"imprimante"),
    word(b"iphone"),
    word(b"laptop"),
    word(b"linux"),
    word(b"macos"),
    word(b"minecraft"),
    word(b"modem"),
    word(b"movil"),
    word(b"ordinateur"),
    word(b"ordner"),
    word(b"phone"),
    word(b"playstation"),
    word(b"printer"),
    word(b"roteador"),
    word(b"router"),
    word(b"routeur"),
    word(b"settings"),
    word(b"smartphone"),
    word(b"stampante"),
    word(b"tablet"),
    word(b"telefone"),
    word(b"telefono"),
    word(b"telephone"),
    word(b"tv"),
    word(b"ubuntu"),
    word(b"windows"),
    word(b"xbox"),
    word(b"parametres"),
    word(b"reglages"),
    // Games, whose god modes are cheats (round 16).
    word(b"cheat"),
    word(b"cheats"),
    word(b"gioco"),
    word(b"jeu"),
    word(b"jogo"),
    word(b"juego"),
    word(b"pc"),
    word(b"spiel"),
    word(b"steam"),
];
pub const EMAIL: u64 = word(b"email");
pub const MAIL: u64 = word(b"mail");
pub const POST: u64 = word(b"post");
/// Participles after "admin override" that log an event ("admin override
/// used for user=jsmith", "system override applied at 11:04"), not claim one.
pub const OVERRIDE_EVENT: [u64; 10] = [
    word(b"used"),
    word(b"applied"),
    word(b"granted"),
    word(b"requested"),
    word(b"logged"),
    word(b"detected"),
    word(b"attempted"),
    word(b"enabled"),
    word(b"disabled"),
    word(b"revoked"),
];

/// Finite verbs after "admin override" that make it the subject of a
/// statement ("…is required", "…was used").
pub const OVERRIDE_STATED: [u64; 9] = [
    word(b"is"),
    word(b"was"),
    word(b"are"),
    word(b"were"),
    word(b"will"),
    word(b"must"),
    word(b"requires"),
    word(b"required"),
    word(b"needs"),
];
/// "…is now active", "…is in effect": a claim that the override holds.
pub const IN_FORCE: [u64; 9] = [
    word(b"now"),
    word(b"active"),
    word(b"activated"),
    word(b"enabled"),
    word(b"engaged"),
    word(b"granted"),
    word(b"in"),
    word(b"on"),
    word(b"effective"),
];

/// Possessives of the first person that are not in the `D_MY` class (the
/// learned model reads the classes; its weights were trained without
/// these): "le mie istruzioni", "mon message", "minhas regras".
pub const MY_MORE: [u64; 23] = [
    word(b"meinen"),
    word(b"meiner"),
    word(b"unsere"),
    word(b"unseren"),
    word(b"mon"),
    word(b"notre"),
    word(b"mie"),
    word(b"miei"),
    word(b"mio"),
    word(b"mia"),
    word(b"nostre"),
    word(b"nostri"),
    word(b"meus"),
    word(b"minhas"),
    word(b"meu"),
    word(b"minha"),
    word(b"nossas"),
    word(b"nossos"),
    word(b"nuestras"),
    word(b"nuestros"),
    word(b"nostro"),
    word(b"nostra"),
    word(b"nossa"),
];
