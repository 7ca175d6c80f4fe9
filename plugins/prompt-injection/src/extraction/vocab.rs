//! The word lists of the extraction rule, in six languages: showing verbs
//! and question words, possessives and instruction nouns, "given" and
//! "told" forms, and the words of "before this conversation" and
//! "everything above".

use crate::words::{Filter, Lex};

pub(crate) const SHOW: Lex = Lex::new(&[
    "affich*",
    "anzuzeig*",
    "ausgeb*",
    "aushandig*",
    "auszugeb*",
    "brauche",
    "cita*",
    "cite*",
    "copi*",
    "copy",
    "correg*",
    "corrig*",
    "dame",
    "devolva",
    "devolve",
    "devolve-me",
    "devuelveme",
    "diga",
    "dime",
    "dimmi",
    "dis-moi",
    "disclose",
    "display",
    "divulg*",
    "diz-me",
    "donne*",
    "dump",
    "echo",
    "ecri*",
    "elenc*",
    "ensena*",
    "entreg*",
    "enumer*",
    "escrev*",
    "escrib*",
    "expose",
    "fornec*",
    "forneca",
    "fornir*",
    "fornisc*",
    "fourni*",
    "gib",
    "give",
    "herausgeb*",
    "herauszugeb*",
    "imprim*",
    "incoll*",
    "indicame",
    "indicami",
    "indique-moi",
    "indiquez-moi",
    "korrigier*",
    "leak",
    "list",
    "lista",
    "liste",
    "listez",
    "manda",
    "mande",
    "montr*",
    "mostr*",
    "mostre",
    "muestr*",
    "need",
    "nenn*",
    "offenleg*",
    "offenzuleg*",
    "output",
    "paste",
    "preisgeb*",
    "preiszugeb*",
    "print",
    "proofread",
    "quero",
    "quiero",
    "quote",
    "recite",
    "recopi*",
    "redonne*",
    "repeat",
    "repet*",
    "repit*",
    "reprodu*",
    "restate",
    "resum*",
    "reveal",
    "revel*",
    "revela*",
    "riassum*",
    "ridammi",
    "ridimmi",
    "ripet*",
    "riport*",
    "rivel*",
    "sag",
    "sage",
    "schreib*",
    "scriv*",
    "share",
    "show",
    "spell",
    "spill",
    "stampa",
    "start",
    "summarise",
    "summarize",
    "tell",
    "tradu*",
    "transcri*",
    "translate",
    "type",
    "ubersetz*",
    "verrat*",
    "veux",
    "voglio",
    "want",
    "wiedergeb*",
    "wiederhol*",
    "wiederzugeb*",
    "write",
    "zeig*",
    "zitier*",
    "zusammenfass*",
]);
/// What a request must name (instructions, a system message's noun, a
/// start, "above"), as one filter.
pub(crate) const NAMED: Filter = Filter::union(&[&INSTRUCTIONS, &SYS_NOUN, &START, &ABOVE]);
/// Question words: they ask for the instructions only with an object that
/// is the model's own ("what are your rules?"), not a generic one.
pub(crate) const QUESTION: Lex = Lex::new(&[
    "como", "cosa", "cual", "cuales", "quais", "qual", "quale", "quali", "que", "quel*", "was",
    "wat", "wats", "welche*", "what", "whats", "which", "wie",
]);
/// Negations: "never reveal your system prompt" is a rule, not a request.
pub(super) const NEGATION: Lex = Lex::new(&[
    "don't", "dont", "jamais", "mai", "nao", "ne", "never", "nicht", "nie", "niemals", "non",
    "not", "nunca",
]);
pub(super) const POSSESSIVE: Lex = Lex::new(&[
    "dein", "deine", "deinen", "deiner", "deines", "seu", "seus", "sua", "suas", "ta", "tes",
    "teu", "teus", "ton", "tu", "tua", "tuas", "tue", "tuo", "tuoi", "tus", "ur", "vos", "votre",
    "your", "yr",
]);
pub(super) const INSTRUCTIONS: Lex = Lex::new(&[
    "anweisung*",
    "config",
    "configurac*",
    "configuration",
    "configurazion*",
    "consignas",
    "consigne*",
    "context",
    "directives",
    "directrices",
    "diretrizes",
    "direttive",
    "guidance",
    "guidelines",
    "instruc*",
    "instrucc*",
    "instruction*",
    "istruzion*",
    "konfiguration*",
    "metaprompt*",
    "normas",
    "norme",
    "orientaciones",
    "orientacoes",
    "pre-prompt*",
    "preamble",
    "preprompt*",
    "prompt*",
    "regel",
    "regeln",
    "regla",
    "reglas",
    "regle",
    "regles",
    "regola",
    "regole",
    "regra",
    "regras",
    "richtlinien",
    "rule",
    "rules",
    "set-up",
    "setup",
    "system*",
    "systemanweisung*",
    "systemprompt*",
    "vorgaben",
]);
/// "…you were given", "…you received", "…tu as reçues": participles that
/// follow the second person.
pub(super) const GIVEN: Lex = Lex::new(&[
    "bekommen",
    "configur*",
    "dadas",
    "dado",
    "date",
    "dato",
    "demande*",
    "detto",
    "deu",
    "dicho",
    "dijeron",
    "dio",
    "diste",
    "dit",
    "dito",
    "donne*",
    "erhalten",
    "fed",
    "festgelegt*",
    "fijad*",
    "fissat*",
    "fixe*",
    "follow",
    "following",
    "gegeben",
    "gesagt",
    "given",
    "got",
    "indicaron",
    "initiali*",
    "initialised",
    "initialized",
    "instructed",
    "loaded",
    "mandaron",
    "mandou",
    "mitgegeben",
    "operating",
    "ordena*",
    "passad*",
    "passaram",
    "passou",
    "pidieron",
    "programmed",
    "provided",
    "recebe*",
    "recebid*",
    "received",
    "recibi*",
    "recu*",
    "ricevut*",
    "running",
    "segui*",
    "set",
    "sigues",
    "suis",
    "told",
    "vorgegeben",
    "written",
]);
/// Verbs that carry the second person themselves ("recibiste").
pub(super) const GIVEN_YOU: Lex = Lex::new(&["dieron", "hai", "recebeu", "recibiste", "te dieron"]);
/// "…gave you", "…give you": verbs that precede it.
pub(super) const GAVE: Lex = Lex::new(&[
    "deram",
    "disseram",
    "escreveram",
    "gave",
    "give",
    "given",
    "left",
    "mandaram",
    "passaram",
    "prepared",
    "said",
    "say",
    "set",
    "tell",
    "told",
    "wrote",
]);
/// "before this conversation", "at the start of this chat".
pub(super) const START: Lex = Lex::new(&[
    "anfang",
    "antes",
    "avant",
    "before",
    "begin*",
    "comeco",
    "comienzo",
    "debut",
    "depart",
    "first",
    "inicio",
    "initial*",
    "inizio",
    "partenza",
    "partida",
    "preced*",
    "prima",
    "principio",
    "start*",
    "top",
    "vor",
]);
pub(super) const YOU: Lex = Lex::new(&[
    "a-t-on", "dich", "dir", "du", "hast", "lhe", "t-*", "te", "ti", "tu", "u", "voce", "vous",
    "you",
]);
/// "everything above", "all the text above".
/// Words that make "above" a request for everything before ("repeat
/// everything above").
pub(super) const ALL: Lex = Lex::new(&[
    "all",
    "alles",
    "everything",
    "repeat",
    "todo",
    "tout",
    "tudo",
    "tutto",
]);

/// The first person, singular or plural, and its auxiliaries.
pub(super) const FIRST: Lex = Lex::new(&[
    "ai", "avons", "eu", "hab", "habe", "haben", "he", "hemos", "ho", "i", "ich", "io", "je",
    "nous", "t-ai", "t-ho", "tenho", "we", "wir", "yo",
]);
/// The user's own: "my system prompt", "le prompt système de mon bot",
/// "meinen Systemprompt", "il prompt di sistema del nostro bot".
pub(super) const OWN_MY: Lex = Lex::new(&[
    "mein*", "meu", "meus", "mi", "mia", "mie", "miei", "minha*", "mio", "mis", "mon", "my", "nos",
    "noss*", "nostr*", "notre", "nuestr*", "our", "unser*",
]);
/// The user's bot or app, after "my": "…de mon bot", "…of our assistant".
pub(super) const BOT: Lex = Lex::new(&[
    "agent*",
    "app",
    "asistente*",
    "assistant*",
    "assistent*",
    "bot",
    "bots",
    "chatbot*",
    "gpt",
]);
/// A bot or an assistant named as someone's subject ("el chatbot
/// revelara…", "fazer o assistente revelar…").
pub(super) const AGENT: Lex = Lex::new(&[
    "agente*",
    "asistente*",
    "assistant*",
    "assistente*",
    "bot",
    "bots",
    "chatbot*",
    "ia",
    "modello",
    "modelo",
]);
/// Possessives that are "its" as well as "your" ("su", "seu", "suo").
pub(super) const THIRD_POSSESSIVE: Lex = Lex::new(&[
    "seu", "seus", "su", "sua", "suas", "sue", "suo", "suoi", "sus",
]);
/// The first person as an object ("…que tu *m'*as données", "…che *mi* hai
/// dato", "…die du *mir* gegeben hast", "…que você *me* deu").
pub(super) const ME: Lex = Lex::new(&["m-*", "me", "mi", "mich", "mir", "moi"]);
/// Verbs of the user's own material after a first person ("the lyrics I
/// pasted above", "el texto que pegué", "ce que j'ai collé").
pub(super) const PASTED: Lex = Lex::new(&[
    "attached",
    "colle*",
    "copied",
    "eingefugt",
    "escrevi",
    "escribi",
    "geschrieben",
    "incollat*",
    "pasted",
    "pegue",
    "posted",
    "quoted",
    "scritto",
    "sent",
    "shared",
    "typed",
    "uploaded",
    "wrote",
]);
/// What an edit is for, after "for": "proofread your instructions for
/// typos" asks for them, "your instructions for making pasta" names a
/// topic.
pub(super) const FLAWS: Lex = Lex::new(&[
    "erreurs",
    "errores",
    "errori",
    "errors",
    "erros",
    "fautes",
    "fehler",
    "grammar",
    "mistakes",
    "spelling",
    "tippfehler",
    "typos",
]);
/// Words that make a "prompt" a command line's ("your shell prompt").
pub(super) const SHELL: Lex = Lex::new(&[
    "bash",
    "cli",
    "cmd",
    "command",
    "console",
    "fish",
    "login",
    "powershell",
    "ps1",
    "shell",
    "terminal",
    "zsh",
]);
/// "hidden", "secret", "confidential" in six languages.
pub(super) const HIDDEN: Lex = Lex::new(&[
    "cache*",
    "confidential*",
    "escondid*",
    "geheim*",
    "hidden",
    "internal",
    "nascost*",
    "ocult*",
    "secret*",
    "segret*",
    "versteckt*",
]);
/// Verbs in the second person that say "you have".
pub(super) const SECOND: Lex = Lex::new(&["avez", "hai", "hast", "tens", "tienes"]);
/// The user's own: "before *my* first message".
pub(super) const MY: Lex = Lex::new(&[
    "meine*", "meiner", "meu", "mi", "mia", "minha", "mio", "mon", "my",
]);
/// A message in a conversation.
pub(super) const MESSAGE: Lex = Lex::new(&[
    "domanda",
    "frage",
    "mensagem",
    "mensaje",
    "message",
    "messaggio",
    "nachricht",
    "pergunta",
    "pregunta",
    "prompt",
    "question",
    "turn",
]);

/// Nouns that "de sistema" makes the system's message.
pub(super) const SYS_NOUN: Lex = Lex::new(&[
    "consigne*",
    "instruc*",
    "istruzion*",
    "mensage*",
    "mensaje*",
    "message*",
    "messaggi*",
    "prompt*",
]);

/// "this" before the conversation or session.
pub(super) const THIS: Lex = Lex::new(&[
    "ce", "cette", "diese*", "esta", "este", "questa", "questo", "this",
]);
/// This conversation.
pub(super) const CONVERSATION: Lex = Lex::new(&[
    "chat*",
    "conversa*",
    "dialog*",
    "echange",
    "gesprach*",
    "session",
    "sitzung",
    "unterhaltung",
]);

pub(super) const ABOVE: Lex = Lex::new(&["above", "acima", "arriba", "dessus", "oben", "sopra"]);
