//! Model patterns (routes' `model`, callers' `models`) and the mistakes
//! that would otherwise start silently: a pattern with `*` anywhere but at
//! its end (matched literally, never what was meant), and a route no call
//! can reach because an earlier one takes all its models. (An
//! `api-key-env` naming a variable that is not set is refused by
//! `crate::base_url::check_key_env`.)

use super::{Api, Route};

/// Refuses a pattern that is empty or has `*` before its end. A pattern is
/// a model name, a prefix ending in `*`, or `*`: the README promises no
/// more, so `gpt-*-mini` is refused rather than matched literally.
pub(crate) fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.trim().is_empty() {
        return Err("must not be empty (a model name, a prefix ending in `*`, or `*`)".into());
    }
    if pattern.trim_end_matches('*').contains('*') || pattern.ends_with("**") {
        return Err(format!(
            "`{pattern}` has a `*` before its end; a pattern is a model name, a prefix ending in `*`, or `*` (a `*` elsewhere is not supported)"
        ));
    }
    Ok(())
}

/// Whether every model `later` matches is matched by `earlier`: with `*`
/// only at a pattern's end ([`check_pattern`]), exactly when `earlier`
/// matches `later` read as a model name.
fn covers(earlier: &str, later: &str) -> bool {
    crate::serve::access::pattern_matches(earlier, later)
}

/// The first route no call can reach, as `(earlier, later)` indices: an
/// earlier route takes every model of the later one through an upstream of
/// the same API (a call uses the first route matching its model whose
/// upstream speaks its endpoint's API).
pub(crate) fn unreachable_route(routes: &[(&Route, Api)]) -> Option<(usize, usize)> {
    routes.iter().enumerate().find_map(|(j, (later, api))| {
        routes[..j]
            .iter()
            .position(|(earlier, a)| a == api && covers(&earlier.model, &later.model))
            .map(|i| (i, j))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_is_allowed_only_at_the_end() {
        for ok in ["gpt-4o", "gpt-4o*", "*"] {
            assert!(check_pattern(ok).is_ok(), "{ok}");
        }
        for bad in ["", " ", "gpt-*-mini", "*-mini", "gpt**"] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage() {
        assert!(covers("*", "gpt-4o"));
        assert!(covers("gpt-*", "gpt-4o*"));
        assert!(covers("gpt-4o", "gpt-4o"));
        assert!(!covers("gpt-4o", "gpt-4o*"));
        assert!(!covers("gpt-4o*", "gpt-*"));
        assert!(!covers("claude-*", "gpt-4o"));
    }
}
