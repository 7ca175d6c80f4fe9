//! The word lists of `quoted`: framing words, verbs of obeying and of
//! saying, who says, bots talked about, and what a bot's prompt says.

use crate::words::Lex;

/// Words that frame quoted text as something discussed, not meant.
pub(super) const FRAMING: Lex = Lex::new(&[
    "angreifer*",
    "atacante*",
    "attaccant*",
    "attacker*",
    "attaquant*",
    "awareness",
    "beispiel*",
    "beispiele",
    "chercheur*",
    "course",
    "e.g",
    "eg",
    "ejemplo*",
    "esempi",
    "esempio",
    "esperiment*",
    "example*",
    "exemple*",
    "exemplo*",
    "experiment*",
    "explain*",
    "finding*",
    "formacao",
    "formacion",
    "formation",
    "formazione",
    "forscher*",
    "iniezion*",
    "injecao",
    "injecoes",
    "injection*",
    "injektion*",
    "investigador*",
    "inyeccion*",
    "lecon",
    "lesson",
    "lezione",
    "mitigat*",
    "module",
    "mortem",
    "owasp",
    "pesquisador*",
    "phishing",
    "policy",
    "poster",
    "postmortem*",
    "quiz",
    "red-team",
    "redteam",
    "researcher*",
    "ricercator*",
    "schulung*",
    "slogan",
    "such",
    "tipo",
    "training",
]);

/// Verbs by which a text tells its reader to act on what it quotes.
pub(super) const OBEY: Lex = Lex::new(&[
    "befolge", "befolgen", "cumple", "esegui", "execute", "follow", "obedece", "obeis*", "obey",
    "segui", "siga", "sigue", "suivez",
]);

/// Someone other than the writer or the reader, as the subject of a verb
/// of saying: "when someone types", "quand on lui demande", "cuando un
/// usuario escribe", "quando un tester ha scritto".
pub(super) const SOMEONE: Lex = Lex::new(&[
    "alguem",
    "alguien",
    "attacker*",
    "client*",
    "cliente*",
    "customer*",
    "he",
    "jemand",
    "kunde*",
    "man",
    "nutzer*",
    "on",
    "people",
    "qualcuno",
    "she",
    "somebody",
    "someone",
    "tester*",
    "they",
    "user",
    "users",
    "usuari*",
    "utent*",
    "utilisateur*",
    "utilizador*",
    "visitor*",
]);

/// Verbs of saying, asking or typing in the third person or as a past
/// participle (no imperative: "ask \"…\"" is a request).
pub(super) const SAYS: Lex = Lex::new(&[
    "ask",
    "asked",
    "asks",
    "chiede",
    "demande",
    "demandent",
    "dice",
    "dit",
    "diz",
    "ecrit",
    "eingibt",
    "escreve",
    "escribe",
    "fragt",
    "pede",
    "pedem",
    "pide",
    "piden",
    "pregunta",
    "sagt",
    "said",
    "says",
    "schreibt",
    "scritto",
    "scrive",
    "tape",
    "tippt",
    "type",
    "typed",
    "types",
    "write",
    "writes",
    "wrote",
]);

/// Nouns of a chatbot the text talks about.
pub(super) const BOTS: Lex = Lex::new(&[
    "asistente",
    "assistant",
    "assistent",
    "assistente",
    "bot",
    "chatbot",
]);

/// Prepositions between a prompt and the bot it is for.
pub(super) const FOR: Lex = Lex::new(&[
    "de", "del", "della", "des", "do", "du", "for", "fur", "of", "para", "per", "pour",
]);

/// What a bot's prompt says of itself and its reader, discounted when
/// the prompt is quoted for review: addresses to the bot ("You are
/// Lola…"), what to do when asked for its instructions. Overrides,
/// exfiltration and jailbreaks inside it still count.
pub(super) const PROMPTS_SAY: [&str; 5] = [
    "prompt-injection.addressed-to-model",
    "prompt-injection.addresses-model",
    "prompt-injection.instruction-extraction",
    "prompt-injection.prompt-leak",
    "prompt-injection.role-label",
];
