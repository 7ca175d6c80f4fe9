//! What a plugin may import: the grant set it is linked against.
//!
//! Deny by default. Every plugin may import `railyard:plugin/host` and the
//! WASI interfaces every language runtime pulls in even when unused — the
//! `wasi:cli/*` family and `wasi:io/*` — which are linked inert (no
//! environment, no arguments, empty stdin, stdout discarded, stderr kept for
//! fault messages). Everything else must be granted:
//!
//! | capability | imports it links | what the plugin gets |
//! |---|---|---|
//! | `clocks` | `wasi:clocks/*` | the host's wall and monotonic clocks |
//! | `random` | `wasi:random/*` | the host's random numbers |
//! | `read-only-dir` | `wasi:filesystem/*` | one host folder, read-only, at `/data` |
//!
//! Sockets, HTTP and any other interface are granted by nothing: such a
//! component is refused at load with an error naming the import.
//!
//! A folder plugin requests capabilities in its manifest and the policy's
//! `[registry]` table says which it may be granted. A plugin named directly
//! by a policy (`builtin` or `path`) keeps the set railyard has always
//! linked: clocks, random, and filesystem types with nothing preopened.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a granted read-only folder appears inside the plugin.
pub const READ_ONLY_DIR_GUEST_PATH: &str = "/data";

/// One thing a manifest may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// `wasi:clocks/*`.
    Clocks,
    /// `wasi:random/*`.
    Random,
    /// `wasi:filesystem/*` with this host folder preopened read-only.
    ReadOnlyDir(PathBuf),
}

impl Capability {
    /// The name used in manifests and policies.
    pub fn name(&self) -> &'static str {
        match self {
            Capability::Clocks => "clocks",
            Capability::Random => "random",
            Capability::ReadOnlyDir(_) => "read-only-dir",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::ReadOnlyDir(p) => write!(f, "read-only-dir = {}", p.display()),
            other => f.write_str(other.name()),
        }
    }
}

/// The set a plugin is linked against. Two plugins with equal grants share
/// one linker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Grants {
    /// `wasi:clocks/*` are linked.
    pub clocks: bool,
    /// `wasi:random/*` are linked.
    pub random: bool,
    /// `wasi:filesystem/*` are linked (with nothing preopened unless
    /// `read_only_dir` is set).
    pub filesystem: bool,
    /// A host folder preopened read-only at [`READ_ONLY_DIR_GUEST_PATH`].
    pub read_only_dir: Option<Arc<Path>>,
}

/// Why an import is not linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// A capability would grant it; the plugin does not have it.
    NotGranted(&'static str),
    /// Nothing grants it (sockets, HTTP, an unknown interface, a version
    /// this host does not implement).
    Never,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::NotGranted(cap) => write!(
                f,
                "it needs the `{cap}` capability, which this plugin was not granted (request it in the plugin's manifest; the policy's [registry] must allow it)"
            ),
            Denial::Never => f.write_str(
                "no capability grants it; plugins may import railyard:plugin/host@0.1, WASI 0.2 cli and io, and — when granted — clocks, random and a read-only folder",
            ),
        }
    }
}

/// `wasi:cli/*` and `wasi:io/*` interfaces every plugin may import, linked
/// inert (see the module docs).
pub(crate) const BASELINE_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
];

const CLOCKS: &[&str] = &["wasi:clocks/wall-clock", "wasi:clocks/monotonic-clock"];
const RANDOM: &[&str] = &[
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];
const FILESYSTEM: &[&str] = &["wasi:filesystem/types", "wasi:filesystem/preopens"];

impl Grants {
    /// Only the baseline: the host interface, WASI cli and io.
    pub fn none() -> Grants {
        Grants::default()
    }

    /// What a plugin named directly by a policy is linked against: clocks,
    /// random and filesystem types with nothing preopened.
    pub fn policy_plugin() -> Grants {
        Grants {
            clocks: true,
            random: true,
            filesystem: true,
            read_only_dir: None,
        }
    }

    /// The grants that give exactly `capabilities`.
    pub fn from_capabilities<'a>(capabilities: impl IntoIterator<Item = &'a Capability>) -> Grants {
        let mut g = Grants::none();
        for c in capabilities {
            match c {
                Capability::Clocks => g.clocks = true,
                Capability::Random => g.random = true,
                Capability::ReadOnlyDir(dir) => {
                    g.filesystem = true;
                    g.read_only_dir = Some(Arc::from(dir.as_path()));
                }
            }
        }
        g
    }

    /// Whether a component importing `name` (e.g.
    /// `wasi:clocks/monotonic-clock@0.2.6`) can be linked under these grants.
    pub fn check(&self, name: &str) -> Result<(), Denial> {
        let (unversioned, version) = name.split_once('@').unwrap_or((name, ""));
        let wasi_02 = version.starts_with("0.2.");
        match unversioned {
            "railyard:plugin/host" | "railyard:plugin/types" if version.starts_with("0.1.") => {
                Ok(())
            }
            n if BASELINE_WASI.contains(&n) && wasi_02 => Ok(()),
            n if CLOCKS.contains(&n) && wasi_02 => self.require(self.clocks, "clocks"),
            n if RANDOM.contains(&n) && wasi_02 => self.require(self.random, "random"),
            n if FILESYSTEM.contains(&n) && wasi_02 => {
                self.require(self.filesystem, "read-only-dir")
            }
            _ => Err(Denial::Never),
        }
    }

    fn require(&self, granted: bool, capability: &'static str) -> Result<(), Denial> {
        if granted {
            Ok(())
        } else {
            Err(Denial::NotGranted(capability))
        }
    }
}

/// The capability that would grant `import` (`clocks`, `random`,
/// `read-only-dir`), if one would.
pub fn capability_for(import: &str) -> Option<&'static str> {
    match Grants::none().check(import) {
        Err(Denial::NotGranted(cap)) => Some(cap),
        _ => None,
    }
}

/// The distinct capabilities that would grant `imports`, most specific
/// first: a plugin that reads a file imports `wasi:filesystem` and, through
/// it, `wasi:clocks`; `read-only-dir` is what it is really asking for.
pub fn capabilities_for<'a>(imports: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let mut caps: Vec<&'static str> = imports.into_iter().filter_map(capability_for).collect();
    caps.sort_by_key(|c| rank(c));
    caps.dedup();
    caps
}

/// `"; in all it needs the capabilities a, b"` when the refused imports
/// need more than one capability, else nothing.
pub(crate) fn needs_note(imports: &[String]) -> String {
    let caps = capabilities_for(imports.iter().map(String::as_str));
    if caps.len() > 1 {
        format!(
            "; in all it needs the capabilities {} (`railyard manifest` writes them into a manifest)",
            caps.join(", ")
        )
    } else {
        String::new()
    }
}

/// Order in which denials are explained: the capability that explains the
/// others first.
pub(crate) fn rank(capability: &str) -> u8 {
    match capability {
        "read-only-dir" => 0,
        "random" => 1,
        "clocks" => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_allows_host_cli_and_io_only() {
        let g = Grants::none();
        assert!(g.check("railyard:plugin/host@0.1.0").is_ok());
        assert!(g.check("wasi:cli/stderr@0.2.6").is_ok());
        assert!(g.check("wasi:io/streams@0.2.0").is_ok());
        assert_eq!(
            g.check("wasi:clocks/monotonic-clock@0.2.6"),
            Err(Denial::NotGranted("clocks"))
        );
        assert_eq!(
            g.check("wasi:random/random@0.2.6"),
            Err(Denial::NotGranted("random"))
        );
        assert_eq!(
            g.check("wasi:filesystem/preopens@0.2.6"),
            Err(Denial::NotGranted("read-only-dir"))
        );
    }

    #[test]
    fn nothing_grants_sockets_http_or_other_versions() {
        let g = Grants::policy_plugin();
        for name in [
            "wasi:sockets/tcp@0.2.0",
            "wasi:http/outgoing-handler@0.2.0",
            "wasi:cli/stderr@0.3.0",
            "railyard:plugin/host@0.2.0",
            "evil",
        ] {
            assert_eq!(g.check(name), Err(Denial::Never), "{name}");
        }
    }

    #[test]
    fn a_file_reading_plugin_is_asked_for_read_only_dir_first() {
        let caps = capabilities_for([
            "wasi:clocks/wall-clock@0.2.6",
            "wasi:filesystem/types@0.2.6",
            "wasi:filesystem/preopens@0.2.6",
            "wasi:cli/stderr@0.2.6",
            "wasi:sockets/tcp@0.2.0",
        ]);
        assert_eq!(caps, vec!["read-only-dir", "clocks"]);
    }

    #[test]
    fn capabilities_grant_their_interfaces() {
        let g = Grants::from_capabilities(&[
            Capability::Clocks,
            Capability::ReadOnlyDir("/srv".into()),
        ]);
        assert!(g.check("wasi:clocks/wall-clock@0.2.6").is_ok());
        assert!(g.check("wasi:filesystem/types@0.2.6").is_ok());
        assert!(g.check("wasi:random/insecure@0.2.6").is_err());
        assert_eq!(g.read_only_dir.as_deref(), Some(Path::new("/srv")));
    }
}
