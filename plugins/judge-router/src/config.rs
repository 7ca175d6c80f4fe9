//! The router's config: reading and validating each rule's `NAME.field`
//! keys, with errors that name the key.

use crate::{Config, Mode, Rule, Settings};

impl Settings {
    /// Reads and validates the rules from the plugin's config. Every error
    /// names the offending key and says what was expected.
    pub fn from_config(cfg: &Config) -> Result<Settings, String> {
        let mut rules: Vec<Rule> = Vec::new();
        for raw in cfg.get_all("rules") {
            let name = raw.trim();
            if name.is_empty() || name.contains('.') || name.chars().any(char::is_whitespace) {
                return Err(format!(
                    "config key `rules`: expected rule names without dots or spaces, got {raw:?}"
                ));
            }
            if rules.iter().any(|r| r.name == name) {
                return Err(format!("config key `rules`: rule {name:?} is listed twice"));
            }
            rules.push(parse_rule(cfg, name)?);
        }
        Ok(Settings { rules })
    }
}

/// `NAME.field` config keys for one rule, built in one reused buffer: the
/// settings are parsed afresh for every payload (a fresh instance per call),
/// so this path avoids an allocation per key.
struct Keys {
    buf: String,
    prefix: usize,
}

impl Keys {
    fn new(name: &str) -> Keys {
        let mut buf = String::with_capacity(name.len() + 16);
        buf.push_str(name);
        buf.push('.');
        Keys {
            prefix: buf.len(),
            buf,
        }
    }

    fn of(&mut self, field: &str) -> &str {
        self.buf.truncate(self.prefix);
        self.buf.push_str(field);
        &self.buf
    }
}

fn parse_rule(cfg: &Config, name: &str) -> Result<Rule, String> {
    let mut keys = Keys::new(name);

    let key = keys.of("judge");
    let judge = match cfg.get(key).map(str::trim) {
        Some(j) if !j.is_empty() => j.to_string(),
        Some(_) => {
            return Err(format!(
                "config key `{key}`: expected a judge name, got an empty string"
            ));
        }
        None => {
            return Err(format!(
                "config key `{key}`: required (rule {name:?} is listed in `rules` but names no judge)"
            ));
        }
    };

    let key = keys.of("rubric");
    let rubric = match cfg.get(key).map(str::trim) {
        None => "default".to_string(),
        Some("") => {
            return Err(format!(
                "config key `{key}`: expected a rubric name, got an empty string"
            ));
        }
        Some(r) => r.to_string(),
    };

    let key = keys.of("mode");
    let mode = match cfg.get(key).map(str::trim) {
        None | Some("background") => Mode::Background,
        Some("blocking") => Mode::Blocking,
        Some(other) => {
            return Err(format!(
                "config key `{key}`: expected \"background\" or \"blocking\", got {other:?}"
            ));
        }
    };

    let key = keys.of("priority");
    let priority = match cfg.get(key) {
        None => 0,
        Some(v) => v.trim().parse::<u8>().map_err(|_| {
            format!("config key `{key}`: expected an integer in 0..=255, got {v:?}")
        })?,
    };

    let key = keys.of("categories");
    let mut categories = Vec::new();
    for c in cfg.get_all(key) {
        let c = c.trim();
        if c.is_empty() {
            return Err(format!(
                "config key `{key}`: expected a finding category or \"*\", got an empty string"
            ));
        }
        categories.push(c.to_string());
    }

    let key = keys.of("min-score");
    let min_score = cfg.get_unit(key, 0.0)?;
    if categories.is_empty() && cfg.get(key).is_some() {
        // Without categories the rule samples every payload and no finding
        // is consulted; a min-score there would be silently meaningless.
        return Err(format!(
            "config key `{key}`: only applies to findings, so rule {name:?} also needs `{name}.categories` (use \"*\" for any finding)"
        ));
    }
    let sample_rate = cfg.get_unit(keys.of("sample-rate"), 1.0)?;

    Ok(Rule {
        name: name.to_string(),
        judge,
        rubric,
        mode,
        priority,
        categories,
        min_score,
        sample_rate,
    })
}
