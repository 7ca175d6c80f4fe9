//! Who speaks or is spoken to: names for the model, chat roles, the
//! authorities an attacker impersonates, and the nouns of a fake notice.

/// Words of class `AI`.
pub(super) const AI_NAMES: &[&str] = &[
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
];

/// Words of class `ROLE`.
pub(super) const ROLES: &[&str] = &[
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
];

/// Words of class `AUTH_N`.
pub(super) const AUTHORITIES: &[&str] = &[
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
];

/// Words of class `NOTICE_N`.
pub(super) const NOTICE_NOUNS: &[&str] = &[
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
];
