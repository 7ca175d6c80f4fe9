//! Words that anchor the fixed multi-word phrases (`rules::phrases`).

/// Words of class `PHRASE`.
pub(super) const ANCHORS: &[&str] = &[
    "longer",
    "character",
    "nothing",
    "end",
    "henceforth",
    "going",
    "starting",
    "dan",
    "mode",
    "stands",
    "do",
    "for",
    "from",
    "without",
];

/// Words of class `PHRASE`.
pub(super) const DECODERS: &[&str] = &["decode", "decrypt", "unscramble"];

/// Words of class `PHRASE`.
pub(super) const INSTRUCTED: &[&str] = &[
    "attention",
    "opposite",
    "told",
    "instructed",
    "programmed",
    "asked",
    "ordered",
    "trained",
    "prompted",
];
