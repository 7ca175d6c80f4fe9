//! Words that mark text as addressed to the model: AI and role nouns,
//! the cues and participles around them ("note to the AI", "agents reading
//! this"), and the words `address` weighs them by.

use crate::words::{Filter, Lex};

/// Nouns that name an AI model on their own.
pub(super) const AI: Lex = Lex::new(&[
    "ai",
    "ai-*",
    "artificial*",
    "artificiel*",
    "chatbot",
    "chatbot*",
    "chatbots",
    "chatgpt",
    "claude",
    "copilot",
    "copilot*",
    "gemini",
    "gpt",
    "gpt*",
    "ia",
    "ki",
    "ki-*",
    "kunstlich*",
    "llm",
    "llm*",
    "llms",
    "sprachmodell*",
    "summariser",
    "summarisers",
    "summarizer",
    "summarizers",
]);
/// Every word is looked up in `AI` and `ROLE`: one filter for both.
pub(crate) const NOUN: Filter = Filter::union(&[&AI, &ROLE, &QUALIFIER]);
/// Nouns that name one only next to an AI word ("AI assistant", "language
/// model", "asistente de IA", "KI-Assistent") or in a vocative.
pub(super) const ROLE: Lex = Lex::new(&[
    "add-in*",
    "agent",
    "agente*",
    "agents",
    "asistente*",
    "assistant*",
    "assistent*",
    "assistente*",
    "bot",
    "bots",
    "browser*",
    "crawler*",
    "helper*",
    "ki-assistent*",
    "model",
    "modele*",
    "modell*",
    "modelo*",
    "models",
    "plugin*",
    "programmer*",
    "reader*",
    "reviewer*",
    "robot*",
    "scraper*",
    "system",
]);
/// A person's job or nature beside a role noun: "executive assistant",
/// "for human reviewers", "assistante de direction", "asistente personal",
/// "Assistenz der Geschäftsführung": someone on the staff, not a model.
pub(super) const HUMAN: Lex = Lex::new(&[
    "administrative",
    "dental",
    "direccion",
    "direction",
    "diretoria",
    "direzione",
    "executiv*",
    "geschaftsfuhrung",
    "human*",
    "legal",
    "medical",
    "menschlich*",
    "office",
    "personal",
    "pessoal",
    "research",
    "sales",
    "teaching",
    "umani",
    "umano",
]);
/// Words that introduce an addressee.
pub(super) const CUE: Lex = Lex::new(&[
    "a",
    "achtung",
    "al",
    "alla",
    "an",
    "ao",
    "attention",
    "attn",
    "au",
    "aux",
    "avis",
    "aviso",
    "bonjour",
    "cara",
    "caro",
    "cher",
    "chere",
    "ciao",
    "dear",
    "den",
    "estimad*",
    "falls",
    "for",
    "fur",
    "gentile",
    "hallo",
    "hello",
    "hey",
    "hi",
    "hinweis",
    "hola",
    "if",
    "important*",
    "liebe*",
    "memo",
    "message",
    "nota",
    "note",
    "notice",
    "ola",
    "para",
    "per",
    "pour",
    "pra",
    "pras",
    "prezad*",
    "pro",
    "pros",
    "ps",
    "querid*",
    "reminder",
    "salut",
    "se",
    "si",
    "to",
    "wenn",
    "wichtig*",
]);
/// Cues that are bare prepositions or conjunctions.
pub(super) const PREPOSITION: Lex = Lex::new(&[
    "a", "al", "alla", "an", "ao", "au", "aux", "den", "for", "fur", "para", "per", "pour", "pra",
    "pras", "pro", "pros", "se", "si", "to",
]);
/// Participles that describe an address instead of making one: "hidden
/// text aimed at the AI assistant", "texto oculto dirigido al asistente",
/// "un message destiné à l'assistant", "an den Assistenten gerichtet".
pub(super) const DESCRIBED: Lex = Lex::new(&[
    "addressed",
    "adressee*",
    "aimed",
    "destinad*",
    "destine*",
    "direcionad*",
    "directed",
    "dirigid*",
    "indirizzat*",
    "rivolt*",
    "targeted",
    "targeting",
]);
/// Documents about a thing, before "for": "policy for AI tools", "Richtlinie
/// für KI-Assistenten", "guide pour les assistants", "linee guida per
/// l'IA": the topic, not an addressee.
pub(super) const TOPIC: Lex = Lex::new(&[
    "checklist*",
    "faq",
    "guia",
    "guida",
    "guide",
    "guidelines",
    "policies",
    "policy",
    "politica*",
    "politique*",
    "regelung*",
    "richtlinie*",
    "tips",
    "training",
    "usage",
]);
/// Participles that say the model is the one reading ("agents processing
/// this page", "the model answering questions about").
pub(super) const READING: Lex = Lex::new(&[
    "abra",
    "abre",
    "abrir",
    "analis*",
    "analy*",
    "answering",
    "apra",
    "apre",
    "browsing",
    "crawling",
    "elabora*",
    "generating",
    "handling",
    "indexing",
    "le",
    "lea",
    "lee",
    "legge",
    "leggendo",
    "lendo",
    "ler",
    "leyendo",
    "liest",
    "lisant",
    "listening",
    "lit",
    "monitoring",
    "offnet",
    "opening",
    "opens",
    "ouvre",
    "parsing",
    "proces*",
    "process",
    "processed",
    "processes",
    "processing",
    "reading",
    "reads",
    "resum*",
    "reviewing",
    "riassum*",
    "running",
    "scanning",
    "scraping",
    "screening",
    "summarises",
    "summarising",
    "summarizes",
    "summarizing",
    "taking",
    "tradu*",
    "traite*",
    "transcrib*",
    "translating",
    "triaging",
    "ubersetz*",
    "using",
    "verarbeit*",
    "viewing",
    "visiting",
    "watching",
    "zusammenfass*",
]);
/// "this" in six languages.
pub(super) const THIS: Lex = Lex::new(&[
    "ce", "cet", "cette", "dies*", "essa", "esse", "esta", "este", "esto", "estos", "isso", "isto",
    "questa", "questo", "these", "this",
]);
/// Nouns an AI noun may head ("agent instructions", "AI note").
pub(super) const HEADED: Lex = Lex::new(&[
    "anweisung*",
    "consigne*",
    "directive*",
    "instrucc*",
    "instruction*",
    "istruzion*",
    "message",
    "nota",
    "note",
    "notes",
    "notice",
    "task*",
]);

/// Words that make a following role noun a machine ("language model",
/// "autonomous agent", "automated system", "asistente virtual").
pub(super) const QUALIFIER: Lex = Lex::new(&[
    "agentic",
    "autom*",
    "autonom*",
    "coding",
    "digital*",
    "language",
    "linguistic",
    "linguistic*",
    "linguistica",
    "linguistico",
    "linguistiqu*",
    "programacao",
    "programacion",
    "programmation",
    "programmazione",
    "programmier*",
    "virtu*",
]);

/// Words after an AI word that keep it an addressee ("AI that reads
/// this", "AI or human reviewer"); any other word makes it a modifier
/// ("the AI team", "AI policy").
pub(super) const LINK: Lex = Lex::new(&[
    "and", "che", "das", "der", "die", "e", "et", "first", "here", "now", "o", "oder", "only",
    "or", "ou", "please", "que", "qui", "that", "too", "und", "welche*", "which", "who", "y",
]);
/// Nouns an AI word may name a model with ("any AI tool reviewing…"),
/// kept out of `ROLE`, which every word is looked up in.
pub(super) const TOOL: Lex = Lex::new(&["tool", "tools"]);
/// Determiners after "a" or "an" that make them "to" (Spanish, Italian,
/// Portuguese, German), or the Romance and German AI words themselves.
pub(super) const DET: Lex = Lex::new(&[
    "alle",
    "as",
    "cualquier*",
    "das",
    "dem",
    "den",
    "der",
    "die",
    "el",
    "gli",
    "ia",
    "il",
    "jede*",
    "ki",
    "la",
    "las",
    "le",
    "lo",
    "los",
    "o",
    "ogni",
    "os",
    "qualquer",
    "qualsiasi",
    "tod*",
    "tutt*",
]);
/// Modal verbs: "the assistant must…".
pub(super) const MODAL: Lex = Lex::new(&[
    "debe", "deve", "devra", "doit", "has", "is", "muss", "must", "needs", "shall", "should",
    "soll", "tiene",
]);
/// Obligations laid on a subject: "…are required to", "…must".
pub(super) const OBLIGED: Lex = Lex::new(&[
    "debe",
    "deben",
    "deve",
    "devem",
    "devono",
    "directed",
    "doit",
    "doivent",
    "hereby",
    "instructed",
    "muss",
    "mussen",
    "must",
    "obliged",
    "ordered",
    "required",
    "shall",
    "should",
    "soll",
    "sollen",
]);
/// "now", "from now on".
pub(super) const NOW: Lex = Lex::new(&[
    "adesso",
    "agora",
    "ahora",
    "desormais",
    "henceforth",
    "jetzt",
    "maintenant",
    "now",
    "ora",
    "sofort",
]);
/// Greetings: a cue that says the addressee is spoken to.
pub(super) const GREETING: Lex = Lex::new(&[
    "bonjour", "cara", "caro", "cher", "chere", "ciao", "dear", "estimad*", "gentile", "hallo",
    "hello", "hey", "hi", "hola", "liebe*", "ola", "prezad*", "querid*", "salut",
]);
/// "my assistant", "mi asistente": the user's own helper.
pub(crate) const MY: Lex = Lex::new(&[
    "ma", "mein*", "meu", "mi", "mia", "minha", "mio", "mon", "my",
]);
/// "its chatbot", "our agent", "their assistants": someone's own tool,
/// talked about, not spoken to. Not the Spanish "su", the Italian "suo" or
/// the German "Ihr", which also mean a formal "your".
pub(crate) const THEIR: Lex = Lex::new(&[
    "her", "his", "its", "leur", "leurs", "loro", "nos", "nossa", "nosso", "nostra", "nostro",
    "notre", "nuestra", "nuestro", "our", "sein", "seine*", "their", "unser*",
]);
/// "if you use an AI note-taker", "utilisez Copilot": the reader uses the
/// tool, the tool is not the reader.
pub(super) const USE: Lex = Lex::new(&[
    "benutz*", "nutz*", "usa", "usando", "usar", "usas", "use", "uses", "using", "utilise*",
    "utilisez", "utiliz*", "verwend*",
]);
/// Relative pronouns that open a clause saying which machine is meant.
pub(super) const RELATIVE: Lex =
    Lex::new(&["che", "der", "die", "que", "qui", "that", "which", "who"]);
/// A service job that makes a role noun a person's ("the support agent
/// who picks this up", "the travel agent who books this trip", "l'agent
/// support qui traite ce dossier"): someone a ticket or a file is handed to.
pub(super) const SERVICE: Lex = Lex::new(&[
    "booking",
    "call",
    "customer",
    "desk",
    "help",
    "helpdesk",
    "insurance",
    "sales",
    "service",
    "support",
    "travel",
]);
/// What a reader keeps for someone ("the assistant that manages Dana's
/// inbox", "el asistente que gestiona el correo de Marta", "der Frau Jäger
/// ihre Mails sortiert", "qui gère l'agenda de"): a mailbox or a calendar.
pub(super) const MAILBOX: Lex = Lex::new(&[
    "agenda*",
    "bandeja",
    "boite",
    "caixa",
    "calendar*",
    "casella",
    "correo*",
    "courriel*",
    "e-mail*",
    "email*",
    "inbox*",
    "kalender*",
    "mail",
    "mailbox*",
    "mails",
    "posteingang*",
    "postfach*",
    "termine",
]);
/// "to *any* AI", "for *all* agents".
pub(super) const ANY: Lex = Lex::new(&[
    "all",
    "any",
    "cualquier*",
    "every",
    "jede*",
    "n-importe",
    "qualquer",
    "qualsiasi",
    "whoever",
]);

/// The reader's own, in a condition: "if your AI…".
pub(super) const YOUR: Lex = Lex::new(&[
    "dein", "deine", "deinen", "ta", "teu", "ton", "tu", "tua", "tuo", "votre", "your",
]);
/// Conditionals before "your": "if", "si", "se", "wenn", "falls".
pub(super) const IF: Lex = Lex::new(&["falls", "if", "se", "si", "wenn"]);
