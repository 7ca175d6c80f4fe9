//! Waiting for durability without a thread ([`Wal::durable_changes`]): a
//! task parked on the durable mark is woken by the fsync that covers its
//! bytes, made on another thread, and learns whether they were written or
//! lost. Deterministic: each wait is polled once before the fsync (it must
//! be pending) and then awaited.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use super::tests::{decision, next_segment_taken, open};
use super::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `f` once: whether it is still waiting.
fn pending<F: Future>(f: std::pin::Pin<&mut F>) -> bool {
    f.poll(&mut Context::from_waker(Waker::noop())).is_pending()
}

/// Syncs `wal` up to `lsn` on another thread while this one awaits `wait`
/// (bounded: a minute); returns the sync's result.
fn sync_elsewhere<F, T, E>(wal: &Arc<Wal>, lsn: u64, wait: F) -> Result<(), WalError>
where
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let syncer = {
        let wal = wal.clone();
        std::thread::spawn(move || wal.sync(lsn))
    };
    rt().block_on(async { tokio::time::timeout(Duration::from_secs(60), wait).await })
        .expect("woken within a minute")
        .expect("the log is open");
    syncer.join().unwrap()
}

#[test]
fn a_task_waiting_on_the_mark_is_woken_by_the_fsync_that_covers_it() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = open(tmp.path());
    let (first, _) = wal.append(&decision("first")).unwrap();
    let (second, _) = wal.append(&decision("second")).unwrap();
    let mut mark = wal.durable_changes();
    let mut wait = pin!(mark.wait_for(|&m| m >= second));
    assert!(pending(wait.as_mut()), "nothing is durable yet");
    assert!(wal.synced(second).is_none());

    // One fsync on another thread, for the first record: group commit
    // writes both, so the second's waiter wakes too.
    sync_elsewhere(&wal, first, wait).unwrap();
    assert!(matches!(wal.synced(second), Some(Ok(()))));
    assert!(matches!(wal.synced(first), Some(Ok(()))));
}

#[test]
fn a_task_whose_bytes_were_lost_is_woken_and_told() {
    let tmp = tempfile::tempdir().unwrap();
    let wal = next_segment_taken(tmp.path());
    let (lsn, _) = wal.append(&decision("lost")).unwrap();
    let mut mark = wal.durable_changes();
    let mut wait = pin!(mark.wait_for(|&m| m >= lsn));
    assert!(pending(wait.as_mut()));

    assert!(sync_elsewhere(&wal, lsn, wait).is_err());
    match wal.synced(lsn) {
        Some(Err(e)) => assert!(e.to_string().contains("not recorded"), "{e}"),
        other => panic!("a lost record must not read as durable: {other:?}"),
    }
}
