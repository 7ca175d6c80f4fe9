//! Gives the heap's free memory back to the system after a burst.
//!
//! A maintenance round (compaction reads and rewrites Parquet files,
//! checkpoints load a table's whole state) allocates tens of MiB for a
//! few seconds while the server keeps serving. glibc's allocator keeps
//! what such a burst freed inside its arenas: the resident size of a
//! long-running `serve` rose by ~30 MiB at each of the first rounds and
//! never came down. After a round the thread asks the allocator to return
//! the free pages of every arena (`malloc_trim(0)`); live data is not
//! touched. The committer does the same when it drops its tables' state
//! to read them afresh. Other allocators (musl, or a non-Linux system)
//! manage their own, and this does nothing there.

/// Returns the free memory of every malloc arena to the system.
pub(crate) fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks the allocator's own free lists
    // under its locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
