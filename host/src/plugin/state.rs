//! What a plugin's store holds for one call, and the host functions and
//! inert WASI it is linked against.
//!
//! Plugins may import `railyard:plugin/host` (log, config) and the WASI
//! interfaces their [`Grants`] allow (see `plugin::capability`). WASI is
//! inert unless granted otherwise: no environment, no arguments, empty
//! stdin, stdout discarded, stderr captured (bounded) for fault messages,
//! and no preopened directory but the one a `read-only-dir` grant names.
//! What is not granted is not linked at all, so a component that imports it
//! cannot be instantiated; `plugin::load` refuses it first with an error
//! naming the import.

use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{HasData, HasSelf, Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::random::{WasiRandom, WasiRandomCtx};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use super::bindings::{wit, wit_host};
use super::capability::{Grants, READ_ONLY_DIR_GUEST_PATH};
use crate::engine::MemoryLimiter;

/// Guest log lines kept per call; more are counted and dropped so a plugin
/// cannot flood the host's log.
const MAX_LOG_LINES: u32 = 32;
/// Bytes kept of each guest log line.
const MAX_LOG_LINE: usize = 1024;
/// Bytes of guest stderr kept for fault messages (a panic message fits).
const STDERR_CAPTURE: usize = 4096;

/// Store data for one plugin call.
pub(crate) struct PluginState {
    pub(crate) limiter: MemoryLimiter,
    plugin: Arc<str>,
    config: Arc<[(String, String)]>,
    log_lines: u32,
    // WASI state is built on first use: most first-party plugins never
    // touch WASI, and building a context per call would cost every call.
    wasi: Option<(WasiCtx, ResourceTable, MemoryOutputPipe)>,
    random: Option<WasiRandomCtx>,
    read_only_dir: Option<Arc<Path>>,
}

impl PluginState {
    /// Resets the per-call counters of a reused instance's state.
    pub(crate) fn begin_call(&mut self) {
        self.log_lines = 0;
    }

    pub(crate) fn new(
        plugin: Arc<str>,
        config: Arc<[(String, String)]>,
        memory_bytes: u64,
    ) -> Self {
        PluginState {
            limiter: MemoryLimiter::new(memory_bytes),
            plugin,
            config,
            log_lines: 0,
            wasi: None,
            random: None,
            read_only_dir: None,
        }
    }

    /// Preopens `dir` read-only for this call (a `read-only-dir` grant).
    pub(crate) fn with_read_only_dir(mut self, dir: Option<Arc<Path>>) -> Self {
        self.read_only_dir = dir;
        self
    }

    /// What the guest wrote to stderr during this call (a panic message,
    /// typically), lossily decoded and trimmed.
    pub(crate) fn stderr(&self) -> Option<String> {
        let (_, _, pipe) = self.wasi.as_ref()?;
        let bytes = pipe.contents();
        let text = without_backtrace_hint(&String::from_utf8_lossy(&bytes));
        (!text.is_empty()).then_some(text)
    }
}

/// `text` without the Rust standard library's "run with `RUST_BACKTRACE=1`"
/// note: a plugin never sees the host's environment, so the advice cannot
/// be followed and only misleads.
fn without_backtrace_hint(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("RUST_BACKTRACE"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let (plugin, dir) = (&self.plugin, &self.read_only_dir);
        let (ctx, table, _) = self.wasi.get_or_insert_with(|| {
            let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
            let mut builder = WasiCtx::builder();
            builder.stderr(stderr.clone());
            if let Some(dir) = dir
                && let Err(e) =
                    builder.preopened_dir(dir, READ_ONLY_DIR_GUEST_PATH, FsPerms::ReadOnly)
            {
                // Checked at load; a folder removed since then leaves the
                // plugin with no preopen, which it sees as a missing file.
                tracing::warn!(plugin = %plugin, dir = %dir.display(), error = %e, "granted read-only folder cannot be opened");
            }
            (builder.build(), ResourceTable::new(), stderr)
        });
        WasiCtxView { ctx, table }
    }
}

impl wit::Host for PluginState {}

impl wit_host::Host for PluginState {
    fn log(&mut self, level: wit_host::LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES {
            if self.log_lines == MAX_LOG_LINES + 1 {
                tracing::warn!(plugin = %self.plugin, "plugin log limit reached; further lines from this call are dropped");
            }
            return;
        }
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let plugin = &*self.plugin;
        match level {
            wit_host::LogLevel::Trace => {
                tracing::trace!(target: "railyard::plugin", plugin, "{message}")
            }
            wit_host::LogLevel::Debug => {
                tracing::debug!(target: "railyard::plugin", plugin, "{message}")
            }
            wit_host::LogLevel::Info => {
                tracing::info!(target: "railyard::plugin", plugin, "{message}")
            }
            wit_host::LogLevel::Warn => {
                tracing::warn!(target: "railyard::plugin", plugin, "{message}")
            }
            wit_host::LogLevel::Error => {
                tracing::error!(target: "railyard::plugin", plugin, "{message}")
            }
        }
    }

    fn config(&mut self) -> Vec<(String, String)> {
        self.config.to_vec()
    }
}

struct HasTable;

impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

fn table(state: &mut PluginState) -> &mut ResourceTable {
    state.ctx().table
}

/// The linker for plugins with `grants`: the host interface, inert WASI cli
/// and io, and exactly the granted interfaces — nothing else.
pub(crate) fn linker(
    engine: &wasmtime::Engine,
    grants: &Grants,
) -> wasmtime::Result<Linker<PluginState>> {
    use wasmtime_wasi::p2::bindings::{cli, filesystem, io, sync};

    let mut linker = Linker::new(engine);
    let l = &mut linker;
    wit_host::add_to_linker::<PluginState, HasSelf<PluginState>>(l, |s| s)?;

    cli::environment::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::exit::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::stdin::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::stdout::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::stderr::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_input::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_output::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stdin::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stdout::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stderr::add_to_linker::<PluginState, WasiCli>(l, |s| s.cli())?;
    io::error::add_to_linker::<PluginState, HasTable>(l, table)?;
    sync::io::poll::add_to_linker::<PluginState, HasTable>(l, table)?;
    sync::io::streams::add_to_linker::<PluginState, HasTable>(l, table)?;
    if grants.clocks {
        link_clocks(l)?;
    }
    if grants.random {
        link_random(l)?;
    }
    if grants.filesystem {
        sync::filesystem::types::add_to_linker::<PluginState, WasiFilesystem>(l, |s| {
            s.filesystem()
        })?;
        filesystem::preopens::add_to_linker::<PluginState, WasiFilesystem>(l, |s| s.filesystem())?;
    }
    Ok(linker)
}

fn link_clocks(l: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::clocks;
    clocks::wall_clock::add_to_linker::<PluginState, WasiClocks>(l, |s| s.clocks())?;
    clocks::monotonic_clock::add_to_linker::<PluginState, WasiClocks>(l, |s| s.clocks())?;
    Ok(())
}

fn link_random(l: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::random;
    random::random::add_to_linker::<PluginState, WasiRandom>(l, |s| {
        s.random.get_or_insert_with(Default::default)
    })?;
    random::insecure::add_to_linker::<PluginState, WasiRandom>(l, |s| {
        s.random.get_or_insert_with(Default::default)
    })?;
    random::insecure_seed::add_to_linker::<PluginState, WasiRandom>(l, |s| {
        s.random.get_or_insert_with(Default::default)
    })?;
    Ok(())
}

#[cfg(test)]
mod stderr_tests {
    #[test]
    fn the_backtrace_hint_is_dropped_from_a_panic_message() {
        let panic = "thread '<unnamed>' panicked at src/lib.rs:9:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            super::without_backtrace_hint(panic),
            "thread '<unnamed>' panicked at src/lib.rs:9:5:\nboom"
        );
    }
}
