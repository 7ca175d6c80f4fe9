//! How many client connections `railyard serve` holds open at once.
//!
//! Every accepted connection is a file descriptor, and so is every WAL
//! segment, Delta file, upstream connection and compiled plugin. Accepting
//! without bound let an overload (thousands of queued clients) take every
//! descriptor: the write-ahead log then failed to open its next segment
//! (EMFILE) and every call was refused until the clients went away. So the
//! server accepts at most `[limits] max-connections` at once and leaves the
//! rest in the kernel's listen queue until one closes; by default the limit
//! leaves room under the open-file limit for the calls' upstream
//! connections and the audit log's files. At start the soft open-file limit
//! is raised to the hard one, as servers do.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Descriptors kept for everything but client and upstream connections:
/// WAL segments, Delta and Parquet files, the compile cache, listeners,
/// watchers, the metrics and Redis connections.
pub const RESERVED_FDS: u64 = 256;

/// The most connections the automatic limit allows.
pub const MAX_AUTO_CONNECTIONS: u64 = 16_384;

/// Raises the soft open-file limit to the hard one (where allowed) and
/// returns the soft limit now in force (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "could not read or raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection limit: `configured` when set, else what the open-file
/// limit leaves after `max_concurrency` upstream connections and
/// [`RESERVED_FDS`] (at least 64, at most [`MAX_AUTO_CONNECTIONS`]).
pub fn limit(configured: Option<usize>, max_concurrency: usize, open_files: Option<u64>) -> usize {
    if let Some(n) = configured {
        return n;
    }
    let Some(open_files) = open_files else {
        return 1024;
    };
    open_files
        .saturating_sub(max_concurrency as u64)
        .saturating_sub(RESERVED_FDS)
        .clamp(64, MAX_AUTO_CONNECTIONS) as usize
}

/// Connections open now against the limit.
#[derive(Clone)]
pub struct Connections {
    slots: Arc<Semaphore>,
    limit: usize,
}

impl Connections {
    pub fn new(limit: usize) -> Connections {
        Connections {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// Waits for a free slot; the permit is held for the connection's life.
    pub async fn slot(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.limit - self.slots.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_automatic_limit_leaves_room_for_upstream_and_files() {
        assert_eq!(limit(Some(7), 512, Some(1024)), 7);
        assert_eq!(limit(None, 512, Some(1024)), 256);
        assert_eq!(limit(None, 512, Some(10_000)), 10_000 - 512 - 256);
        assert_eq!(
            limit(None, 512, Some(1 << 20)),
            MAX_AUTO_CONNECTIONS as usize
        );
        assert_eq!(limit(None, 4096, Some(1024)), 64);
        assert_eq!(limit(None, 512, None), 1024);
    }

    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_limit() {
        let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let soft = raise_open_file_limit().unwrap();
        // Some platforms cap the soft limit below an unlimited hard one.
        assert!(soft == hard || hard == rlimit::INFINITY, "{soft} vs {hard}");
    }
}
