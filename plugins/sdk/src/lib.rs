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
///
/// It remembers every key asked for, so [`Config::read`] can refuse a key
/// the plugin never reads (a typo such as `entitties`) instead of ignoring
/// it.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pairs: Vec<(String, String)>,
    asked: std::cell::RefCell<Vec<String>>,
}

impl Config {
    /// Wraps the pairs the host returned.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Config {
            pairs,
            asked: Default::default(),
        }
    }

    /// Reads a plugin's settings from the host's `pairs` with `settings`
    /// (its `from_config`), then refuses any key it did not ask for,
    /// naming the key and the ones it does read. Every first-party
    /// component reads its config through this.
    pub fn read<T>(
        pairs: Vec<(String, String)>,
        settings: impl FnOnce(&Config) -> Result<T, String>,
    ) -> Result<T, String> {
        let config = Config::new(pairs);
        let value = settings(&config)?;
        config.refuse_unknown()?;
        Ok(value)
    }

    /// An error naming the first key no getter asked for.
    pub fn refuse_unknown(&self) -> Result<(), String> {
        let asked = self.asked.borrow();
        let Some((key, _)) = self.pairs.iter().find(|(k, _)| !asked.contains(k)) else {
            return Ok(());
        };
        let mut known: Vec<&str> = asked.iter().map(String::as_str).collect();
        known.sort_unstable();
        Err(if known.is_empty() {
            format!("config key `{key}`: unknown key; this plugin takes no config")
        } else {
            format!(
                "config key `{key}`: unknown key; expected one of {}",
                known.join(", ")
            )
        })
    }

    fn ask(&self, key: &str) {
        if self.pairs.is_empty() {
            return;
        }
        let mut asked = self.asked.borrow_mut();
        if !asked.iter().any(|k| k == key) {
            asked.push(key.to_string());
        }
    }

    /// The last value given for `key` (later pairs override earlier ones).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ask(key);
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.ask(key);
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

    #[test]
    fn read_refuses_a_key_the_settings_never_asked_for() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let settings = |c: &Config| -> Result<f32, String> {
            let _ = c.get_all("entities").count();
            c.get_f32("min-score", 0.5)
        };
        assert_eq!(
            Config::read(
                pairs(&[("entities", "EMAIL"), ("min-score", "0.7")]),
                settings
            ),
            Ok(0.7)
        );
        assert_eq!(Config::read(Vec::new(), settings), Ok(0.5));
        let e = Config::read(pairs(&[("entitties", "EMAIL")]), settings).unwrap_err();
        assert_eq!(
            e,
            "config key `entitties`: unknown key; expected one of entities, min-score"
        );
        // The settings' own error comes first.
        let e = Config::read(pairs(&[("min-score", "x"), ("zz", "1")]), settings).unwrap_err();
        assert!(e.contains("`min-score`"), "{e}");
        let e = Config::read(pairs(&[("a", "1")]), |_| Ok(())).unwrap_err();
        assert!(e.contains("takes no config"), "{e}");
    }
}
