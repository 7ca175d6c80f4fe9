//! Host-side audit settings: where the tables live, where the WAL lives,
//! how durable an acknowledgement is, and what happens when the backlog is
//! full. These are operator concerns and come from the environment or
//! flags; what text is captured is a policy concern (`[audit]` in the
//! policy file).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use super::AuditError;
use super::auto_maintenance::MaintenanceSettings;
use super::wal::{Durability, RecordFormat};

/// What to do when the WAL backlog (rows not yet in Delta) passes its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFull {
    /// Refuse to record, so the caller refuses the traffic (default): no
    /// decision happens off the record.
    #[default]
    Reject,
    /// Keep recording and serving; raise the alarm (a counter and a loud
    /// log line). The WAL keeps growing on disk; nothing is dropped.
    Alarm,
}

/// Where and how the audit log is written.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Root of the audit tables: a local path or an `s3://`, `az://`,
    /// `gs://` URL (`RAILYARD_AUDIT_URL`, default
    /// `$XDG_DATA_HOME/railyard/audit` or `~/.local/share/railyard/audit`).
    /// The tables are `<root>/decisions`, `<root>/inferences`,
    /// `<root>/judgements`.
    pub table_root: String,
    /// Local state: host id, hash key, WAL (`RAILYARD_STATE_DIR`, default
    /// `$XDG_STATE_HOME/railyard` or `~/.local/state/railyard`).
    pub state_dir: PathBuf,
    /// When a record is acknowledged (`RAILYARD_AUDIT_DURABILITY`:
    /// `fsync`, default, or `async`).
    pub durability: Durability,
    /// WAL bytes not yet committed before [`OnFull`] applies
    /// (`RAILYARD_AUDIT_BACKLOG_MIB`, default 1024: at ~600 bytes a
    /// decision, well over a million decisions, hours of a busy host's
    /// traffic while storage is down).
    pub backlog_limit_bytes: u64,
    /// Past the backlog bound (`RAILYARD_AUDIT_ON_FULL`: `reject`, default,
    /// or `alarm`).
    pub on_full: OnFull,
    /// A segment is sealed at this size (`RAILYARD_AUDIT_SEGMENT_MIB`,
    /// default 16): one Parquet file per table per segment, so bigger
    /// segments mean fewer, larger files.
    pub segment_bytes: u64,
    /// …or at this age (`RAILYARD_AUDIT_SEGMENT_MS`, default 1000): how
    /// stale the tables may be behind the traffic.
    pub segment_age: Duration,
    /// Host id stamped on every row (`RAILYARD_HOST_ID`; default generated
    /// once and kept in the state folder).
    pub host_id: Option<String>,
    /// Key of the payload hash (`RAILYARD_AUDIT_KEY`; default generated
    /// once and kept in the state folder, mode 0600). Hosts that must
    /// correlate payloads share one key.
    pub hash_key: Option<Vec<u8>>,
    /// Extra object-store options (credentials, endpoint). The usual
    /// `AWS_*`, `AZURE_*`, `GOOGLE_*` environment variables are read too.
    pub storage_options: HashMap<String, String>,
    /// Table maintenance while serving (see `auto_maintenance` for each
    /// default and why).
    pub maintenance: MaintenanceSettings,
    /// How decision and inference records are written to the WAL
    /// (`RAILYARD_AUDIT_WAL_FORMAT`: `binary`, default, or `json`, which
    /// versions before the binary records can read: for a host that may be
    /// rolled back with a backlog in its WAL). Either is read.
    pub wal_format: RecordFormat,
    /// Table commits after which the committer reads its tables afresh
    /// from the latest checkpoint (`RAILYARD_AUDIT_REOPEN_COMMITS`, default
    /// 200): a table kept open grows its in-memory state with every
    /// commit.
    pub reopen_after_commits: usize,
    /// Whether the next WAL segment is written full of zeros and synced
    /// ahead of time, so that the fsyncs callers wait for overwrite blocks
    /// the filesystem already has instead of growing the file
    /// (`RAILYARD_AUDIT_WAL_PREALLOCATE`: `on`, default, or `off`; see
    /// `audit::wal::spare`).
    pub wal_preallocate: bool,
}

/// See [`AuditSettings::reopen_after_commits`] and the committer.
const DEFAULT_REOPEN_AFTER_COMMITS: usize = 200;

/// A whole number, at least 1.
fn whole(s: &str) -> Option<u64> {
    s.parse::<u64>().ok().filter(|v| *v >= 1)
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn home_dir(xdg: &str, fallback: &str) -> Result<PathBuf, AuditError> {
    if let Some(v) = std::env::var_os(xdg).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(v).join("railyard"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(fallback).join("railyard")),
        None => Err(AuditError::Settings(format!(
            "neither {xdg} nor HOME is set; set RAILYARD_AUDIT_URL and RAILYARD_STATE_DIR"
        ))),
    }
}

fn parse_env<T>(
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, AuditError> {
    match env(key) {
        None => Ok(None),
        Some(v) => parse(v.trim()).map(Some).ok_or_else(|| {
            AuditError::Settings(format!("{key}={v:?} is not valid; expected {expected}"))
        }),
    }
}

impl AuditSettings {
    /// Settings from the `RAILYARD_*` environment, with `table_root`
    /// overriding `RAILYARD_AUDIT_URL` when given (the `--audit` flag).
    pub fn from_env(table_root: Option<String>) -> Result<AuditSettings, AuditError> {
        let table_root = match table_root.or_else(|| env("RAILYARD_AUDIT_URL")) {
            Some(r) => r,
            None => home_dir("XDG_DATA_HOME", ".local/share")?
                .join("audit")
                .display()
                .to_string(),
        };
        let state_dir = match env("RAILYARD_STATE_DIR") {
            Some(d) => PathBuf::from(d),
            None => home_dir("XDG_STATE_HOME", ".local/state")?,
        };
        let mib = |s: &str| whole(s).map(|v| v << 20);
        Ok(AuditSettings {
            table_root,
            state_dir,
            durability: parse_env(
                "RAILYARD_AUDIT_DURABILITY",
                Durability::parse,
                "`fsync` or `async`",
            )?
            .unwrap_or_default(),
            backlog_limit_bytes: parse_env(
                "RAILYARD_AUDIT_BACKLOG_MIB",
                mib,
                "a whole number of MiB, at least 1",
            )?
            .unwrap_or(1024 << 20),
            on_full: parse_env(
                "RAILYARD_AUDIT_ON_FULL",
                |s| match s {
                    "reject" => Some(OnFull::Reject),
                    "alarm" => Some(OnFull::Alarm),
                    _ => None,
                },
                "`reject` or `alarm`",
            )?
            .unwrap_or_default(),
            segment_bytes: parse_env(
                "RAILYARD_AUDIT_SEGMENT_MIB",
                mib,
                "a whole number of MiB, at least 1",
            )?
            .unwrap_or(16 << 20),
            segment_age: parse_env(
                "RAILYARD_AUDIT_SEGMENT_MS",
                |s| whole(s).map(Duration::from_millis),
                "a whole number of milliseconds, at least 1",
            )?
            .unwrap_or(Duration::from_secs(1)),
            host_id: env("RAILYARD_HOST_ID"),
            hash_key: env("RAILYARD_AUDIT_KEY").map(String::into_bytes),
            storage_options: HashMap::new(),
            maintenance: maintenance_from_env()?,
            wal_format: parse_env(
                "RAILYARD_AUDIT_WAL_FORMAT",
                |s| match s {
                    "binary" => Some(RecordFormat::Binary),
                    "json" => Some(RecordFormat::Json),
                    _ => None,
                },
                "`binary` or `json`",
            )?
            .unwrap_or_default(),
            reopen_after_commits: parse_env(
                "RAILYARD_AUDIT_REOPEN_COMMITS",
                |s| whole(s).map(|v| v as usize),
                "a whole number of commits, at least 1",
            )?
            .unwrap_or(DEFAULT_REOPEN_AFTER_COMMITS),
            wal_preallocate: parse_env(
                "RAILYARD_AUDIT_WAL_PREALLOCATE",
                |s| match s {
                    "on" => Some(true),
                    "off" => Some(false),
                    _ => None,
                },
                "`on` or `off`",
            )?
            .unwrap_or(true),
        })
    }

    /// Settings for a table root and state folder, with every other value
    /// at its default (tests, embedders).
    pub fn new(table_root: impl Into<String>, state_dir: impl Into<PathBuf>) -> AuditSettings {
        AuditSettings {
            table_root: table_root.into(),
            state_dir: state_dir.into(),
            durability: Durability::Fsync,
            backlog_limit_bytes: 1024 << 20,
            on_full: OnFull::Reject,
            segment_bytes: 16 << 20,
            segment_age: Duration::from_secs(1),
            host_id: None,
            hash_key: None,
            storage_options: HashMap::new(),
            maintenance: MaintenanceSettings::default(),
            wal_format: RecordFormat::Binary,
            reopen_after_commits: DEFAULT_REOPEN_AFTER_COMMITS,
            wal_preallocate: true,
        }
    }
}

/// `RAILYARD_AUDIT_MAINTENANCE*` and friends over the defaults.
fn maintenance_from_env() -> Result<MaintenanceSettings, AuditError> {
    let d = MaintenanceSettings::default();
    Ok(MaintenanceSettings {
        enabled: parse_env(
            "RAILYARD_AUDIT_MAINTENANCE",
            |s| match s {
                "on" => Some(true),
                "off" => Some(false),
                _ => None,
            },
            "`on` or `off`",
        )?
        .unwrap_or(d.enabled),
        interval: parse_env(
            "RAILYARD_AUDIT_MAINTENANCE_SECS",
            |s| whole(s).map(Duration::from_secs),
            "a whole number of seconds, at least 1",
        )?
        .unwrap_or(d.interval),
        compact_min_files: parse_env(
            "RAILYARD_AUDIT_COMPACT_MIN_FILES",
            |s| whole(s).filter(|v| *v >= 2).map(|v| v as usize),
            "a whole number of files, at least 2",
        )?
        .unwrap_or(d.compact_min_files),
        target_file_bytes: parse_env(
            "RAILYARD_AUDIT_TARGET_FILE_MIB",
            |s| whole(s).map(|v| v << 20),
            "a whole number of MiB, at least 1",
        )?
        .unwrap_or(d.target_file_bytes),
        vacuum_interval: parse_env(
            "RAILYARD_AUDIT_VACUUM_HOURS",
            |s| whole(s).map(|h| Duration::from_secs(h * 3600)),
            "a whole number of hours, at least 1",
        )?
        .unwrap_or(d.vacuum_interval),
        retention: parse_env(
            "RAILYARD_AUDIT_RETENTION_HOURS",
            |s| whole(s).map(|h| Duration::from_secs(h * 3600)),
            "a whole number of hours, at least 1",
        )?
        .unwrap_or(d.retention),
        // Retention and holds: `[audit]` in serve.toml, not the
        // environment (`railyard serve` sets them). Write-once storage is
        // also `RAILYARD_AUDIT_WORM=true`, so the `railyard log` commands
        // (which read no serve.toml) know it; serve ORs it with `worm`.
        lifecycle: super::retention::Lifecycle {
            worm: parse_env(
                "RAILYARD_AUDIT_WORM",
                |s| match s.to_ascii_lowercase().as_str() {
                    "true" | "1" | "on" => Some(true),
                    "false" | "0" | "off" => Some(false),
                    _ => None,
                },
                "`true` or `false`",
            )?
            .unwrap_or(d.lifecycle.worm),
            ..d.lifecycle
        },
    })
}

/// Parses a table root: a URL with a scheme, or a local path (created).
pub fn root_url(root: &str) -> Result<Url, AuditError> {
    if let Ok(url) = Url::parse(root)
        && url.scheme().len() > 1
    {
        return match url.scheme() {
            "file" | "s3" | "s3a" | "az" | "abfs" | "abfss" | "azure" | "gs" | "memory" => Ok(url),
            other => Err(AuditError::Settings(format!(
                "audit table location {root:?}: unsupported scheme `{other}`; expected a local path, s3://, az://, abfss:// or gs://"
            ))),
        };
    }
    let path = Path::new(root);
    std::fs::create_dir_all(path).map_err(|e| {
        AuditError::Settings(format!(
            "audit table location {root}: cannot create it: {e}"
        ))
    })?;
    let abs = path
        .canonicalize()
        .map_err(|e| AuditError::Settings(format!("audit table location {root}: {e}")))?;
    Url::from_directory_path(&abs).map_err(|()| {
        AuditError::Settings(format!("audit table location {root}: not an absolute path"))
    })
}

/// Reads `file` or, if it does not exist, creates it with `make()`, mode
/// 0600 (it may hold a key).
pub(crate) fn read_or_create(
    file: &Path,
    make: impl FnOnce() -> Result<Vec<u8>, AuditError>,
) -> Result<Vec<u8>, AuditError> {
    match std::fs::read(file) {
        Ok(v) => return Ok(v),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(AuditError::Settings(format!("{}: {e}", file.display()))),
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| AuditError::Settings(format!("{}: {e}", dir.display())))?;
    }
    let value = make()?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(&tmp)
            .map_err(|e| AuditError::Settings(format!("{}: {e}", tmp.display())))?;
        f.write_all(&value)
            .and_then(|()| f.sync_all())
            .map_err(|e| AuditError::Settings(format!("{}: {e}", tmp.display())))?;
    }
    // Two processes racing: the first rename wins and both read it back.
    if std::fs::hard_link(&tmp, file).is_err() && !file.exists() {
        std::fs::rename(&tmp, file)
            .map_err(|e| AuditError::Settings(format!("{}: {e}", file.display())))?;
    }
    let _ = std::fs::remove_file(&tmp);
    std::fs::read(file).map_err(|e| AuditError::Settings(format!("{}: {e}", file.display())))
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, AuditError> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| AuditError::Settings(format!("reading /dev/urandom for a key: {e}")))?;
    Ok(buf)
}

/// The WAL folder for a table root: one per root, so pointing the same
/// state folder at another table never sends its backlog to the wrong place.
pub(crate) fn wal_dir(state_dir: &Path, root: &Url) -> PathBuf {
    let digest = hex::encode(Sha256::digest(root.as_str().as_bytes()));
    state_dir.join("wal").join(&digest[..16])
}
