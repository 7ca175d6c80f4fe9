//! Where in a document's layout a word stands: in a file name, as the
//! label of a chat turn, in an exported dialogue. Text as written, not
//! words: these are questions about punctuation and lines.

/// Whether the word at byte `at` is part of a file name with an extension
/// (`.github/copilot-instructions.md`), read as the run of text between
/// spaces, quotes or backticks.
pub(super) fn in_file_name(text: &str, at: usize) -> bool {
    let stop = |c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '(' | ')' | '[' | ']');
    let from = text[..at].rfind(stop).map_or(0, |k| k + 1);
    let to = text[at..].find(stop).map_or(text.len(), |k| at + k);
    let run = text[from..to].trim_end_matches([',', ';', ':', '!', '?']);
    let run = run.strip_suffix('.').unwrap_or(run);
    run.rsplit_once('.').is_some_and(|(name, ext)| {
        !name.is_empty()
            && (1..=4).contains(&ext.len())
            && ext
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && ext.bytes().any(|b| b.is_ascii_lowercase())
            && at < from + name.len()
    })
}

/// The label of a line ("Agent bot: …", "[10:02] Assistant : …"): at most
/// two words (and a timestamp) before the word, a colon right after it.
pub(super) fn turn_label(text: &str, start: usize, end: usize) -> bool {
    // A label opens its line within a few words: look back no further.
    let from = text.floor_char_boundary(start.saturating_sub(40));
    let Some(line) = text[from..start]
        .rfind('\n')
        .map(|k| from + k + 1)
        .or((from == 0).then_some(0))
    else {
        return false;
    };
    let mut prefix = text[line..start].trim_start_matches([' ', '>', '\t']);
    if prefix.starts_with('[') {
        prefix = prefix.find(']').map_or("", |k| &prefix[k + 1..]);
    }
    let short = prefix.split_whitespace().count() <= 2
        && prefix
            .chars()
            .all(|c| c.is_alphabetic() || " ()-".contains(c));
    let rest = &text[end..];
    let colon = rest
        .char_indices()
        .take_while(|&(k, c)| k < 8 && c != '\n')
        .find(|&(_, c)| c == ':')
        .is_some_and(|(k, _)| {
            rest[..k]
                .chars()
                .all(|c| c.is_alphabetic() || " ()".contains(c))
        });
    short && colon
}

/// Speakers on the user's side of an exported chat.
const CUSTOMER: [&str; 16] = [
    "caller",
    "client",
    "cliente",
    "customer",
    "guest",
    "human",
    "kunde",
    "kundin",
    "patient",
    "user",
    "usuario",
    "usuário",
    "utente",
    "utilisateur",
    "visitante",
    "visitor",
];

/// Whether `text` is an exported dialogue: three or more lines open with a
/// short speaker label and a colon, from at least two speakers, one of
/// them on the user's side ("Customer:", "Utilisateur :"). Metadata lines
/// ("Author: …", "Status: …") make no dialogue.
pub(super) fn dialogue(text: &str) -> bool {
    let mut speakers: Vec<&str> = Vec::new();
    let mut lines = 0;
    let mut customer = false;
    for l in text.lines() {
        let mut l = l.trim_start_matches([' ', '>', '\t']);
        if l.starts_with('[') {
            l = l.find(']').map_or("", |k| l[k + 1..].trim_start());
        }
        let Some(k) = l.find(':') else {
            continue;
        };
        let label = l[..k].trim_end();
        if label.is_empty()
            || label.split_whitespace().count() > 3
            || !label
                .chars()
                .all(|c| c.is_alphabetic() || " ()-_".contains(c))
        {
            continue;
        }
        lines += 1;
        customer |= CUSTOMER.iter().any(|c| label.eq_ignore_ascii_case(c));
        if !speakers.contains(&label) {
            speakers.push(label);
        }
    }
    customer && lines >= 3 && speakers.len() >= 2
}
