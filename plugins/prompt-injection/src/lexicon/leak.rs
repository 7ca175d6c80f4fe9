//! Disclosure and exfiltration words: showing and sending verbs, credentials,
//! and data nouns with the owners that make data sensitive.

/// Words of class `V_LEAK`.
pub(super) const LEAK_VERBS: &[&str] = &[
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
];

/// Words of class `V_EXFIL`.
pub(super) const EXFIL_VERBS: &[&str] = &[
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
];

/// Words of class `SECRET_N`.
pub(super) const SECRET_NOUNS: &[&str] = &[
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
];

/// Words of class `DATA_N`.
pub(super) const DATA_NOUNS: &[&str] = &[
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
];

/// Words of class `DATA_GENERIC`.
pub(super) const GENERIC_DATA_NOUNS: &[&str] = &[
    "data",
    "information",
    "info",
    "files",
    "contents",
    "details",
    "documents",
    "notes",
    "text",
];

/// Words of class `DATA_OWNER`.
pub(super) const DATA_OWNERS: &[&str] = &[
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
];

/// Words of class `V_LEAK`.
pub(super) const LEAK_VERBS_OTHER_LANGS: &[&str] = &[
    "affiche", "afficher", "montre", "montrer", "revele", "reveler", "revelez", "muestra",
    "mostrar", "revela", "revelar", "zeige", "zeig", "gib", "rivela", "mostra", "mostre",
    "divulga",
];
