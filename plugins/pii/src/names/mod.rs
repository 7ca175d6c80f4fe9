//! PERSON, LOCATION and ORGANIZATION without a model: runs of capitalised
//! words judged by gazetteers (`gazetteer`: given names, places,
//! organisations), by their shape (a company suffix, a street suffix after
//! a house number, a title before a name) and by context words ("my name
//! is", "customer", "Dear …"). No network, no model file: the lists are
//! compiled into the component.
//!
//! What it does not do, and a statistical NER does: names that are in no
//! list and have no title, suffix or label ("… says Okonkwo"), places
//! outside the gazetteer, organisations without a suffix or a known name,
//! and names in lower case. Precision comes first: a lone given name that
//! is also a word ("Grace", "Mark", "May") needs a title or a greeting.

#[cfg(test)]
mod eval;
mod gazetteer;

use crate::{LOCATION, ORGANIZATION, PERSON, Scan};
use gazetteer::{FIRST_NAMES, ORGS, PLACES};

/// Last words that make a run of capitalised words an organisation.
const ORG_SUFFIX: &[&str] = &[
    "AG",
    "Agency",
    "Airlines",
    "Association",
    "Bancorp",
    "Bank",
    "Capital",
    "Clinic",
    "Co",
    "College",
    "Company",
    "Consulting",
    "Corp",
    "Corporation",
    "Council",
    "Cross",
    "Electronics",
    "Energy",
    "Enterprises",
    "Foundation",
    "GmbH",
    "Group",
    "Holdings",
    "Hospital",
    "Inc",
    "Industries",
    "Institute",
    "Insurance",
    "LLC",
    "Labs",
    "Logistics",
    "Ltd",
    "Media",
    "Ministry",
    "Motors",
    "Organisation",
    "Organization",
    "Partners",
    "Pharmaceuticals",
    "Robotics",
    "SA",
    "Software",
    "Solutions",
    "Studios",
    "Systems",
    "Technologies",
    "Traders",
    "Trust",
    "University",
    "plc",
];
/// First words of "University of …", "Bank of …".
const ORG_OF: &[&str] = &["Bank", "Institute", "Ministry", "University"];
/// Last words of a street after a house number.
const STREET: &[&str] = &[
    "Ave",
    "Avenue",
    "Blvd",
    "Boulevard",
    "Close",
    "Court",
    "Drive",
    "Lane",
    "Ln",
    "Place",
    "Rd",
    "Road",
    "Square",
    "St",
    "Street",
    "Terrace",
    "Way",
];
/// Titles before a name (the span starts after them).
const TITLE: &[&str] = &[
    "Dame", "Dr", "Frau", "Herr", "Miss", "Mme", "Mr", "Mrs", "Ms", "Prof", "Sir", "Sr", "Sra",
];
/// Words after which a capitalised pair is a person ("customer Ana Lopes").
const PERSON_CUE: &[&str] = &[
    "am",
    "by",
    "called",
    "colleague",
    "customer",
    "dear",
    "friend",
    "hello",
    "hi",
    "im",
    "is",
    "manager",
    "named",
    "patient",
    "regards",
    "sincerely",
    "thanks",
];
/// Capitalised words that open sentences and are not part of a name.
const STOP: &[&str] = &[
    "A",
    "Ask",
    "Book",
    "Call",
    "Can",
    "Check",
    "Contact",
    "Could",
    "Customer",
    "Dear",
    "Email",
    "Forward",
    "Hello",
    "Hi",
    "How",
    "I",
    "If",
    "In",
    "Is",
    "It",
    "My",
    "Our",
    "Please",
    "Regards",
    "Send",
    "Ship",
    "Summarise",
    "Summarize",
    "Thanks",
    "The",
    "This",
    "Ticket",
    "Translate",
    "What",
    "When",
    "Where",
    "Why",
    "Will",
    "Write",
    "Your",
];
/// Lower-case particles inside names ("Ludwig van Beethoven").
const PARTICLE: &[&str] = &[
    "al", "bin", "da", "de", "del", "der", "di", "dos", "du", "la", "le", "van", "von",
];

/// Membership in a sorted list (the tests keep every list sorted).
fn has(list: &[&str], w: &str) -> bool {
    list.binary_search(&w).is_ok()
}

/// One word: byte span, and whether it starts with an upper-case letter
/// (and is not all upper case, unless short).
#[derive(Clone, Copy)]
struct W {
    start: usize,
    end: usize,
    cap: bool,
    /// Only spaces between this word and the previous one.
    joined: bool,
}

fn words(text: &str) -> Vec<W> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    let mut gap_ok = true;
    while let Some((i, c)) = it.next() {
        if !c.is_alphabetic() {
            gap_ok &= c == ' ';
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = it.peek() {
            if d.is_alphabetic() {
                end = j + d.len_utf8();
                it.next();
            } else if (d == '\'' || d == '’' || d == '-')
                && text[j + d.len_utf8()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphabetic)
                && !text[j + d.len_utf8()..].starts_with("s ")
            {
                it.next();
            } else {
                break;
            }
        }
        let w = &text[i..end];
        let upper = w.chars().filter(|c| c.is_uppercase()).count();
        let cap = c.is_uppercase() && (upper < w.chars().count() || w.len() <= 4);
        out.push(W {
            start: i,
            end,
            cap,
            joined: gap_ok,
        });
        gap_ok = true;
    }
    out
}

/// Finds names, places and organisations in `s.text`.
pub(crate) fn scan(s: &mut Scan) {
    let text = s.text;
    let w = words(text);
    let word = |k: usize| &text[w[k].start..w[k].end];
    let mut i = 0;
    while i < w.len() {
        if !w[i].cap {
            i += 1;
            continue;
        }
        // A run of capitalised words joined by spaces (and particles).
        let mut j = i + 1;
        while j < w.len() && w[j].joined {
            if w[j].cap {
                j += 1;
            } else if has(PARTICLE, word(j)) && j + 1 < w.len() && w[j + 1].cap && w[j + 1].joined {
                j += 2;
            } else {
                break;
            }
        }
        let mut a = i;
        while a < j - 1 && has(STOP, word(a)) {
            a += 1;
        }
        run(s, &w, a, j, text);
        i = j;
    }
}

/// Judges the run `w[a..b]`.
fn run(s: &mut Scan, w: &[W], a: usize, b: usize, text: &str) {
    let word = |k: usize| &text[w[k].start..w[k].end];
    let span = |x: usize, y: usize| (w[x].start, w[y - 1].end);
    let full = &text[w[a].start..w[b - 1].end];
    let prev = a
        .checked_sub(1)
        .map(|k| word(k).to_ascii_lowercase().replace(['\'', '’'], ""));
    let n = b - a;
    let run_set = s.run;
    let mut push = |cat: u32, rule, (st, en): (usize, usize), score| {
        if run_set & cat != 0 {
            s.push(cat, rule, st, en, score);
        }
    };
    // Organisations: a known name, a suffix, "University of X".
    if has(ORGS, full) || (n >= 2 && has(ORG_SUFFIX, word(b - 1))) {
        return push(ORGANIZATION, "pii.organization", span(a, b), 0.85);
    }
    if n == 1
        && has(ORG_OF, word(a))
        && text[w[a].end..].starts_with(" of ")
        && let Some(k) = (b..w.len()).find(|&k| w[k].cap)
        && w[k].start == w[a].end + 4
    {
        return push(
            ORGANIZATION,
            "pii.organization",
            (w[a].start, w[k].end),
            0.85,
        );
    }
    // Addresses: house number, street name, street suffix.
    if n >= 2 && has(STREET, word(b - 1)) {
        let before = text[..w[a].start].trim_end_matches(' ');
        let num = before.len()
            - before
                .bytes()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
        if num < before.len()
            && before.as_bytes()[num].is_ascii_digit()
            && before.len() < w[a].start
        {
            return push(LOCATION, "pii.location", (num, w[b - 1].end), 0.85);
        }
    }
    if has(PLACES, full) {
        return push(LOCATION, "pii.location", span(a, b), 0.85);
    }
    // People.
    let titled = prev
        .as_deref()
        .is_some_and(|p| TITLE.iter().any(|t| t.eq_ignore_ascii_case(p)));
    let cued = prev.as_deref().is_some_and(|p| has(PERSON_CUE, p));
    let given = has(FIRST_NAMES, word(a));
    if (2..=4).contains(&n) && (given || titled || cued) {
        let score = if given { 0.85 } else { 0.7 };
        return push(PERSON, "pii.person", span(a, b), score);
    }
    if n == 1 && (titled || (given && cued)) {
        return push(PERSON, "pii.person", span(a, b), 0.7);
    }
    // A place inside a longer run ("Lisbon Airport", "Toronto office").
    for k in a..b {
        if has(PLACES, word(k)) {
            push(LOCATION, "pii.location", span(k, k + 1), 0.7);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Detection, Settings, detect};

    fn found(text: &str) -> Vec<(&'static str, &str)> {
        let s = Settings::from_config(&Config::new(vec![(
            "entities".into(),
            "PERSON,LOCATION,ORGANIZATION".into(),
        )]))
        .unwrap();
        let mut out: Vec<Detection> = Vec::new();
        detect(text, &s, &mut out);
        out.iter()
            .map(|d| (d.category, &text[d.start..d.end]))
            .collect()
    }

    // Sentences of our own, not the evaluation corpus's.
    #[test]
    fn people_places_and_organisations() {
        assert_eq!(
            found("Ask Olivia Brennan to fly from Vienna to the Initrode Corporation office."),
            [
                ("PERSON", "Olivia Brennan"),
                ("LOCATION", "Vienna"),
                ("ORGANIZATION", "Initrode Corporation")
            ]
        );
        assert_eq!(
            found("Dr. Okonkwo works at University of Lagos."),
            [
                ("PERSON", "Okonkwo"),
                ("ORGANIZATION", "University of Lagos")
            ]
        );
        assert_eq!(
            found("Send it to 12 Harbour Road, please."),
            [("LOCATION", "12 Harbour Road")]
        );
        assert_eq!(
            found("customer Ana Lopes called."),
            [("PERSON", "Ana Lopes")]
        );
    }

    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        use super::*;
        for list in [
            ORG_SUFFIX, ORG_OF, STREET, TITLE, PERSON_CUE, STOP, PARTICLE,
        ] {
            assert!(
                list.windows(2).all(|w| w[0] < w[1]),
                "{:?}",
                list.windows(2).find(|w| w[0] >= w[1])
            );
        }
    }

    #[test]
    fn capitalised_words_that_are_not_names_stay_quiet() {
        for text in [
            "Grace, Mark and Rose are in the garden.",
            "Please Review The Attached Report Before Friday.",
            "The Enterprise Plan includes Single Sign-On.",
            "May we meet on Monday?",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
