//! A `railyard serve` process's surroundings for a test: a temp dir holding
//! its config, audit tables, state and a reader's scratch space, and the
//! environment that points the server at them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::http::Server;

/// The temp dir of one test's server.
pub struct ServeEnv {
    dir: tempfile::TempDir,
}

impl Default for ServeEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl ServeEnv {
    pub fn new() -> ServeEnv {
        ServeEnv {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A path inside the temp dir.
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Writes `cfg/serve.toml` with `text`; returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let dir = self.path("cfg");
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("serve.toml");
        std::fs::write(&cfg, text).unwrap();
        cfg
    }

    /// Starts `railyard serve` with `args`: the compile cache of this test
    /// binary, audit tables in `audit/`, state in `state/`.
    pub fn start(&self, args: &[&str]) -> Server {
        self.start_with(args, &[])
    }

    /// [`ServeEnv::start`] with more environment variables.
    pub fn start_with(&self, args: &[&str], more: &[(&str, &Path)]) -> Server {
        let envs = [
            ("RAILYARD_CACHE_DIR", super::cache_dir()),
            ("RAILYARD_AUDIT_URL", self.path("audit")),
            ("RAILYARD_STATE_DIR", self.path("state")),
        ];
        let mut envs: Vec<(&str, &Path)> = envs.iter().map(|(k, v)| (*k, v.as_path())).collect();
        envs.extend_from_slice(more);
        Server::start(args, &envs)
    }

    /// [`ServeEnv::start`] on the default policy with a deadline a busy
    /// machine cannot miss (see `common::patient_default_policy`), unless
    /// `args` name a policy.
    pub fn start_patient(&self, args: &[&str]) -> Server {
        self.start_patient_with(args, &[])
    }

    /// [`ServeEnv::start_patient`] with more environment variables.
    pub fn start_patient_with(&self, args: &[&str], more: &[(&str, &Path)]) -> Server {
        let policy = super::patient_default_policy(self.dir.path());
        let mut args: Vec<&str> = args.to_vec();
        if !args.contains(&"--policy") {
            args.extend(["--policy", policy.to_str().unwrap()]);
        }
        self.start_with(&args, more)
    }

    /// `railyard log query --json` rows of a table, read through the Delta
    /// log.
    pub fn rows(&self, table: &str, filters: &[&str]) -> Vec<Value> {
        super::audit_rows(&self.path("audit"), &self.path("reader"), table, filters)
    }
}
