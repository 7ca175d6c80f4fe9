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
//! to read them afresh, and the engine after each compile (its compile
//! engine's Cranelift scratch, ~20 MiB after the default policy's
//! plugins, is freed at once). The process also keeps glibc to one arena
//! per core ([`limit_arenas`]). Other allocators (musl, or a non-Linux
//! system) manage their own, and this does nothing there.

/// Caps glibc's malloc arenas at one per core (at least two) for this
/// process, unless `MALLOC_ARENA_MAX` is set, which glibc reads itself.
///
/// glibc gives threads up to eight arenas per core; freed memory stays in
/// the arena that freed it, so with tokio's workers, the blocking pool and
/// the audit threads each touching its own arena, a busy `serve` held more
/// and more freed memory resident: a 10-minute soak at 300 mixed calls/s
/// grew +32 MiB resident with glibc's default, where its live heap grew
/// +3 MiB (BENCHMARKS.md, issue 19, target 6). Called first thing in
/// `main`, before any thread exists.
pub(crate) fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
        // SAFETY: `mallopt` sets an allocator parameter under its lock;
        // M_ARENA_MAX only bounds how many arenas later threads may create.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Returns the free memory of every malloc arena to the system.
pub(crate) fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks the allocator's own free lists
    // under its locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What the heap holds, summed over every malloc arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeapUsage {
    /// Bytes in live allocations (including large ones mapped on their
    /// own): what the program holds, whatever the allocator keeps around it.
    pub(crate) in_use: u64,
    /// Bytes in the free chunks of the allocator's arenas. Not all of it
    /// is resident: `malloc_trim` hands the pages inside free chunks back
    /// to the system but leaves the chunks counted here (a soak showed
    /// 356 MiB "free" beside a 118 MiB resident size), so read it next to
    /// the resident size, not as memory the process occupies.
    pub(crate) free: u64,
}

/// The heap's use now (glibc's `mallinfo2`); `None` with another allocator.
/// It takes each arena's lock in turn: for a scrape, not for a hot path.
pub(crate) fn usage() -> Option<HeapUsage> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallinfo2` reads the allocator's own statistics under
        // its locks and returns them by value.
        let m = unsafe { libc::mallinfo2() };
        Some(HeapUsage {
            in_use: (m.uordblks + m.hblkhd) as u64,
            free: m.fordblks as u64,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

#[cfg(test)]
mod tests {
    use super::usage;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_live_allocation_shows_in_the_heap_in_use() {
        let before = usage().expect("glibc reports its heap").in_use;
        // Large next to anything another test frees meanwhile.
        let held: Vec<u8> = vec![1; 128 << 20];
        let during = usage().unwrap().in_use;
        assert!(
            during >= before + (112 << 20),
            "in use {before} -> {during} with 128 MiB held"
        );
        drop(std::hint::black_box(held));
    }
}
