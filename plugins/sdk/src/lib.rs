//! Plain types shared by railyard's first-party plugin cores.
//!
//! Each first-party plugin is two layers: a detector *core* written as
//! ordinary Rust over `&str` (this crate's types, no WebAssembly), and a thin
//! component layer that adapts the core to the WIT world. The core is what
//! the native-vs-WASM benchmark compares, so both sides run the same logic.
#![deny(missing_docs)]

mod component;
pub mod normalize;
pub mod sample;
pub mod stream;

/// The allocator of the first-party components (built for
/// `wasm32-unknown-unknown` by host/build.rs): dlmalloc serving first from
/// the heap in the component's initial memory, so a call that stays within
/// it never grows memory (see plugins/sdk/Cargo.toml).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// One thing a detector found in one text, by byte range.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Stable rule identifier, e.g. `pii.email`.
    pub rule_id: &'static str,
    /// Entity or threat category, e.g. `EMAIL_ADDRESS`.
    pub category: &'static str,
    /// Confidence in 0..=1.
    pub score: f32,
    /// Byte offset of the first byte (on a UTF-8 boundary).
    pub start: usize,
    /// Byte offset one past the last byte (on a UTF-8 boundary).
    pub end: usize,
}

/// A plugin's config as the host hands it over: key/value pairs, where an
/// array in the policy file arrives as several pairs under one key and a
/// nested table as dotted keys.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pairs: Vec<(String, String)>,
}

impl Config {
    /// Wraps the pairs the host returned.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Config { pairs }
    }

    /// The last value given for `key` (later pairs override earlier ones).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` parsed as a number, or `default` when absent.
    /// An unparsable value is an error naming the key, so a typo in the
    /// policy is not silently ignored.
    pub fn get_f32(&self, key: &str, default: f32) -> Result<f32, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<f32>()
                .map_err(|_| format!("config key `{key}`: expected a number, got {v:?}")),
        }
    }

    /// `key` parsed as a number in 0..=1 (a score, a threshold, a rate),
    /// or `default` when absent; a number outside is an error naming the
    /// key.
    pub fn get_unit(&self, key: &str, default: f32) -> Result<f32, String> {
        let v = self.get_f32(key, default)?;
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(format!(
                "config key `{key}`: expected a number in 0..=1, got {v}"
            ))
        }
    }

    /// `key` parsed as `true`/`false`, or `default` when absent.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(format!(
                "config key `{key}`: expected true or false, got {v:?}"
            )),
        }
    }

    /// Whether no pairs were given.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_pairs_override_and_arrays_repeat() {
        let c = Config::new(vec![
            ("a".into(), "1".into()),
            ("allow".into(), "x".into()),
            ("a".into(), "2".into()),
            ("allow".into(), "y".into()),
        ]);
        assert_eq!(c.get("a"), Some("2"));
        assert_eq!(c.get_all("allow").collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(c.get_f32("a", 0.0), Ok(2.0));
        assert!(c.get_bool("a", false).is_err());
        assert_eq!(c.get_f32("missing", 0.5), Ok(0.5));
    }
}
