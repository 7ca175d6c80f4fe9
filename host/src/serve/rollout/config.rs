//! The rollout keys of `serve.toml`: a route's `shadow`, `canary`,
//! `canary-percent` and `canary-by`, and `[rollout] shadow-queue`,
//! validated once with the key named.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// Jobs a shadow candidate's queue holds by default before a call's
/// shadow evaluation is skipped (and counted). A job is one stage's
/// payload, a few KiB: 1,024 of them bound the memory to a few MiB per
/// candidate and absorb a burst of a second or two at the rates one host
/// serves, while a candidate slower than the live policy for longer than
/// that sheds load instead of growing without bound.
pub const DEFAULT_SHADOW_QUEUE: usize = 1024;

/// `[rollout]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRollout {
    shadow_queue: Option<usize>,
}

impl RawRollout {
    /// The shadow queue size, or the key and what is wrong.
    pub fn shadow_queue(&self) -> Result<usize, (String, String)> {
        match self.shadow_queue {
            Some(0) => Err((
                "rollout.shadow-queue".into(),
                "must be at least 1 (remove `shadow` from the routes to turn shadowing off)".into(),
            )),
            Some(n) => Ok(n),
            None => Ok(DEFAULT_SHADOW_QUEUE),
        }
    }
}

/// What decides a call's arm: a stable hash of the caller's name or of the
/// request id (`canary-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanaryKey {
    /// `caller` (the default): a caller always lands in the same arm, so
    /// one client never sees both policies.
    Caller,
    /// `request-id`: calls spread by their id (for unauthenticated
    /// servers, where every call is the caller `anonymous`). A client that
    /// sends its own `x-request-id` keeps its arm on a retry.
    RequestId,
}

/// A route's canary: `percent` of its calls served by `policy` for real.
#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    /// The candidate policy's name in `[policies]`.
    pub policy: String,
    /// The share, in hundredths of a percent (0 to 10,000).
    pub basis_points: u32,
    /// What the share is taken by.
    pub by: CanaryKey,
}

/// A route's rollout: a shadow candidate, a canary, both or neither.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteRollout {
    /// The policy that evaluates every call of the route off the hot
    /// path, recorded and never affecting the call.
    pub shadow: Option<String>,
    /// The policy that serves a share of the route's calls.
    pub canary: Option<Canary>,
}

impl RouteRollout {
    /// Whether the route has a shadow or a canary.
    pub fn is_set(&self) -> bool {
        self.shadow.is_some() || self.canary.is_some()
    }

    /// The policies it names.
    pub fn policies(&self) -> impl Iterator<Item = &str> {
        self.shadow
            .as_deref()
            .into_iter()
            .chain(self.canary.as_ref().map(|c| c.policy.as_str()))
    }
}

/// The rollout keys of `[[routes]]` entry `i`, whose own policy is
/// `live`, as written.
pub struct RawRouteRollout {
    /// `shadow`.
    pub shadow: Option<String>,
    /// `canary`.
    pub canary: Option<String>,
    /// `canary-percent`.
    pub canary_percent: Option<f64>,
    /// `canary-by`.
    pub canary_by: Option<String>,
}

impl RawRouteRollout {
    /// Validates route `i`'s keys against the configured policies.
    pub fn validate(
        self,
        i: usize,
        live: &str,
        policies: &BTreeMap<String, Option<PathBuf>>,
    ) -> Result<RouteRollout, (String, String)> {
        let key = |k: &str| format!("routes[{i}].{k}");
        let known = |k: &str, name: &str| -> Result<(), (String, String)> {
            if !policies.contains_key(name) {
                return Err((
                    key(k),
                    format!(
                        "no policy named `{name}` (defined: {}); a candidate is a policy under [policies]",
                        policies.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if name == live {
                return Err((
                    key(k),
                    format!(
                        "`{name}` is the route's own policy; name another policy to compare with it"
                    ),
                ));
            }
            Ok(())
        };
        if let Some(s) = &self.shadow {
            known("shadow", s)?;
        }
        let canary = match (self.canary, self.canary_percent) {
            (None, None) => {
                if self.canary_by.is_some() {
                    return Err((key("canary-by"), "is set without `canary`".into()));
                }
                None
            }
            (None, Some(_)) => {
                return Err((
                    key("canary-percent"),
                    "is set without `canary` (the candidate policy's name)".into(),
                ));
            }
            (Some(_), None) => {
                return Err((
                    key("canary"),
                    "needs `canary-percent` (0 to 100) beside it".into(),
                ));
            }
            (Some(policy), Some(percent)) => {
                known("canary", &policy)?;
                if !(0.0..=100.0).contains(&percent) {
                    return Err((
                        key("canary-percent"),
                        format!("{percent} is out of range; expected 0 to 100"),
                    ));
                }
                let by = match self.canary_by.as_deref() {
                    None | Some("caller") => CanaryKey::Caller,
                    Some("request-id") => CanaryKey::RequestId,
                    Some(other) => {
                        return Err((
                            key("canary-by"),
                            format!("`{other}`: expected \"caller\" or \"request-id\""),
                        ));
                    }
                };
                Some(Canary {
                    policy,
                    basis_points: (percent * 100.0).round() as u32,
                    by,
                })
            }
        };
        Ok(RouteRollout {
            shadow: self.shadow,
            canary,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::serve::ServeConfig;

    fn parse(routes: &str) -> Result<ServeConfig, crate::serve::config::ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        let text = format!(
            "[policies]\nlive = \"live.toml\"\nstrict = \"strict.toml\"\n[upstreams.a]\nbase-url = \"http://127.0.0.1:1/v1\"\n[[routes]]\nmodel = \"*\"\nupstream = \"a\"\npolicy = \"live\"\n{routes}"
        );
        std::fs::write(&p, text).unwrap();
        ServeConfig::from_file(&p)
    }

    #[test]
    fn a_route_names_its_candidates_and_mistakes_name_the_key() {
        let c = parse("shadow = \"strict\"\ncanary = \"strict\"\ncanary-percent = 12.5\ncanary-by = \"request-id\"\n[rollout]\nshadow-queue = 7\n").unwrap();
        let r = &c.routes[0].rollout;
        assert_eq!(r.shadow.as_deref(), Some("strict"));
        let canary = r.canary.as_ref().unwrap();
        assert_eq!(
            (canary.basis_points, canary.by),
            (1250, super::CanaryKey::RequestId)
        );
        assert_eq!(c.shadow_queue, 7);
        let whole = parse("canary = \"strict\"\ncanary-percent = 5\n").unwrap();
        let canary = whole.routes[0].rollout.canary.as_ref().unwrap();
        assert_eq!(
            (canary.basis_points, canary.by),
            (500, super::CanaryKey::Caller),
            "a whole number is a percent too; caller is the default key"
        );
        assert!(!parse("").unwrap().routes[0].rollout.is_set());
        for (text, key) in [
            ("shadow = \"nope\"\n", "routes[0].shadow"),
            ("shadow = \"live\"\n", "routes[0].shadow"),
            ("canary = \"strict\"\n", "routes[0].canary"),
            ("canary-percent = 5\n", "routes[0].canary-percent"),
            (
                "canary = \"strict\"\ncanary-percent = 101\n",
                "routes[0].canary-percent",
            ),
            (
                "canary = \"strict\"\ncanary-percent = 5\ncanary-by = \"ip\"\n",
                "routes[0].canary-by",
            ),
            ("canary-by = \"caller\"\n", "routes[0].canary-by"),
            ("[rollout]\nshadow-queue = 0\n", "rollout.shadow-queue"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.key, key, "{text}: {e}");
        }
    }
}
