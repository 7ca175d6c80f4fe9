//! The WAL's errors.

use std::io;
use std::path::Path;

/// A WAL failure.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The filesystem refused.
    #[error("write-ahead log {path}: {what}: {error}")]
    Io {
        /// The file or folder.
        path: String,
        /// What was being done.
        what: &'static str,
        /// Why.
        error: io::Error,
    },
    /// Another process holds the folder.
    #[error(
        "write-ahead log {path} is in use by another railyard process; give this one its own state folder (RAILYARD_STATE_DIR)"
    )]
    Locked {
        /// The folder.
        path: String,
    },
    /// An earlier write or fsync failed; nothing more can be acknowledged.
    #[error("write-ahead log {path} failed earlier and acknowledges nothing more: {reason}")]
    Failed {
        /// The folder.
        path: String,
        /// The first failure.
        reason: String,
    },
}

pub(super) fn io_err<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(io::Error) -> WalError + 'a {
    move |error| WalError::Io {
        path: path.display().to_string(),
        what,
        error,
    }
}
