//! Builds railyard's WebAssembly plugins so the host can embed them.
//!
//! A fresh clone must run `railyard check "…"` with no config and no extra
//! step, so the plugins are compiled here by nested `cargo build`s into
//! their own target directory (a separate directory avoids waiting on the
//! lock the outer build holds).
//!
//! The first-party plugins use no WASI, so they are built for
//! `wasm32-unknown-unknown` and linked with the toolchain's
//! `wasm-component-ld` (the linker `wasm32-wasip2` uses), which makes the
//! same kind of component without the thirteen WASI interfaces Rust's
//! standard library on `wasm32-wasip2` imports: fewer imports to wire and
//! fewer core instances per fresh instance (issue 19). The hostile test
//! fixtures under `tests/plugins/` do use WASI and stay `wasm32-wasip2`.
//! Every plugin gets a 64 KiB shadow stack instead of rustc's 1 MiB
//! default ([`PLUGIN_STACK_BYTES`]): the pool resets a fresh instance's
//! memory page by page, and the stack was most of the pages. The plugins
//! in [`SIMD_PLUGINS`] are also built with WebAssembly SIMD, in a target
//! folder of their own (flags are per build, not per package).
//!
//! Outputs:
//! - `$OUT_DIR/builtin_plugins.rs`: `include_bytes!` of each first-party
//!   component, used by `plugin::builtin`.
//! - `RAILYARD_PLUGIN_WASM_DIR`: the folder holding every built component,
//!   for tests and benchmarks.
//! - `$OUT_DIR/plugin_templates.rs`: `include_bytes!` of every file under
//!   `plugins/templates/`, which `railyard plugin new` copies into a new
//!   plugin project (so the binary needs no repository beside it).
//!
//! Escape hatch: `RAILYARD_PREBUILT_PLUGINS=/dir` skips the nested build and
//! takes the `.wasm` files from that folder (for packagers with their own
//! plugin build).

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Target of the hostile fixtures (they exercise WASI).
const WASI_TARGET: &str = "wasm32-wasip2";
/// Target of the first-party plugins (no WASI), componentised by
/// `wasm-component-ld`.
const PLAIN_TARGET: &str = "wasm32-unknown-unknown";

/// Shadow-stack size of every plugin built here. Rust places the stack
/// first in linear memory (`--stack-first`), so an overflow runs below
/// address 0 and traps instead of overwriting data. The detectors keep
/// their working sets on the heap; 64 KiB is far above their deepest
/// frames, checked by the plugin and detection-quality tests on 64 KiB
/// payloads.
const PLUGIN_STACK_BYTES: u32 = 64 << 10;

/// Initial linear memory of the first-party plugins: stack, data, and a heap
/// that a call on a typical payload fits in. Their allocator (dlmalloc,
/// plugins/sdk) uses this heap before it grows memory; each growth of a
/// fresh instance costs the host an `mprotect`, and resetting the memory
/// afterwards another.
const PLUGIN_INITIAL_MEMORY: u32 = 1 << 20;

/// First-party plugins built with `-Ctarget-feature=+simd128`: LLVM
/// vectorises their loops and `memchr` takes its SIMD path. Measured per plugin side by side (BENCHMARKS.md, issue 19,
/// target 2): prompt-injection gains ~8 % at 64 KiB, while pii and secrets
/// lose 6 % to 20 %, so only prompt-injection is built so. Wasmtime enables
/// the SIMD proposal by default and Cranelift needs only SSE2 for it on
/// x86-64, so every host that runs railyard runs these components.
const SIMD_PLUGINS: &[&str] = &["railyard-plugin-prompt-injection"];

/// (built-in name, cargo package) of every first-party plugin.
const FIRST_PARTY: &[(&str, &str)] = &[
    ("pii", "railyard-plugin-pii"),
    ("secrets", "railyard-plugin-secrets"),
    ("prompt-injection", "railyard-plugin-prompt-injection"),
    ("judge-router", "railyard-plugin-judge-router"),
];

/// Test fixtures: misbehaving plugins for the containment tests.
const FIXTURES: &[&str] = &["railyard-fixture-hostile", "railyard-fixture-hostile-net"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives inside the workspace root")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    for watched in [
        "plugins",
        "wit",
        "tests/plugins",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=RAILYARD_PREBUILT_PLUGINS");

    // Watched through `plugins` above.
    embed_templates(&root.join("plugins/templates"), &out_dir);

    let wasm_dir = match env::var_os("RAILYARD_PREBUILT_PLUGINS") {
        Some(dir) => PathBuf::from(dir),
        None => build_plugins(&root, &out_dir),
    };

    let mut table = String::from(
        "/// (built-in name, component bytes) of every first-party plugin, built by host/build.rs.\n\
         pub(crate) static BUILTIN_COMPONENTS: &[(&str, &[u8])] = &[\n",
    );
    for (name, package) in FIRST_PARTY {
        let file = wasm_dir.join(wasm_file_name(package));
        if !file.is_file() {
            panic!(
                "plugin component {} is missing after the build",
                file.display()
            );
        }
        writeln!(
            table,
            "    ({name:?}, include_bytes!({:?})),",
            file.display().to_string()
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("builtin_plugins.rs"), table).expect("write builtin_plugins.rs");
    println!(
        "cargo:rustc-env=RAILYARD_PLUGIN_WASM_DIR={}",
        wasm_dir.display()
    );
}

/// Writes `$OUT_DIR/plugin_templates.rs`: a table of (path relative to
/// `plugins/templates/` with `/` separators, bytes) for every template file,
/// sorted by path. Build output that a template author may leave behind
/// while trying a template in place is not embedded.
fn embed_templates(templates: &Path, out_dir: &Path) {
    const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "__pycache__", ".toolchains"];
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading template folder {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("reading template folder {}: {e}", dir.display()))
                .path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_ref()) {
                    walk(&path, files);
                }
            } else if !name.ends_with(".wasm") {
                files.push(path);
            }
        }
    }

    let mut files = Vec::new();
    if templates.is_dir() {
        walk(templates, &mut files);
    }
    files.sort();
    let mut table = String::from(
        "/// (path under plugins/templates/, contents) of every template file, embedded by host/build.rs.\n\
         pub(crate) static TEMPLATE_FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        let relative = file
            .strip_prefix(templates)
            .expect("walked from the templates folder")
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        writeln!(
            table,
            "    ({relative:?}, include_bytes!({:?})),",
            file.display().to_string()
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("plugin_templates.rs"), table).expect("write plugin_templates.rs");
}

/// Runs the nested cargo builds and returns the folder with the `.wasm`
/// files (every plugin and fixture, whichever target it was built for).
fn build_plugins(root: &Path, out_dir: &Path) -> PathBuf {
    let sysroot = rustc_sysroot();
    for target in [PLAIN_TARGET, WASI_TARGET] {
        ensure_wasm_target(sysroot.as_deref(), target);
    }

    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out; put the plugin
    // build beside the profiles so dev, test and bench builds share it.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join("railyard-plugins"))
        .unwrap_or_else(|| out_dir.join("railyard-plugins"));

    // `wasm-component-ld` ships with every toolchain that has wasm32-wasip2
    // (it is that target's linker); as the linker of wasm32-unknown-unknown
    // it turns the core module into a component from the WIT that
    // wit-bindgen embeds, adding no WASI.
    let host = env::var("HOST").expect("cargo sets HOST");
    let component_ld = sysroot
        .as_ref()
        .map(|s| {
            s.join("lib/rustlib")
                .join(&host)
                .join("bin/wasm-component-ld")
        })
        .filter(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "wasm-component-ld was not found in the Rust toolchain ({}); it comes with the \
                 {WASI_TARGET} target: install that target, or set RAILYARD_PREBUILT_PLUGINS to a \
                 folder of built plugins",
                sysroot
                    .as_ref()
                    .map_or("unknown sysroot".into(), |s| s.display().to_string())
            )
        });
    let stack = format!("-Clink-arg=-zstack-size={PLUGIN_STACK_BYTES}");
    let linker = format!(
        "target.{PLAIN_TARGET}.linker={:?}",
        component_ld.display().to_string()
    );
    let plain_flags = format!("{stack:?}, \"-Clink-arg=--initial-memory={PLUGIN_INITIAL_MEMORY}\"");
    let plain_config = [
        linker.clone(),
        format!("target.{PLAIN_TARGET}.rustflags=[{plain_flags}]"),
    ];
    let simd_config = [
        linker,
        format!("target.{PLAIN_TARGET}.rustflags=[{plain_flags}, \"-Ctarget-feature=+simd128\"]"),
    ];
    let wasi_config = [format!("target.{WASI_TARGET}.rustflags=[{stack:?}]")];

    let (simd, plain): (Vec<&str>, Vec<&str>) = FIRST_PARTY
        .iter()
        .map(|(_, p)| *p)
        .partition(|p| SIMD_PLUGINS.contains(p));
    let simd_dir = target_dir.join("simd");
    let builds = [
        (&target_dir, PLAIN_TARGET, &plain_config[..], &plain[..]),
        (&simd_dir, PLAIN_TARGET, &simd_config[..], &simd[..]),
        (&target_dir, WASI_TARGET, &wasi_config[..], FIXTURES),
    ];
    for (dir, target, config, packages) in builds {
        if !packages.is_empty() {
            nested_build(root, dir, target, config, packages);
        }
    }

    // One folder with every component, as tests and benchmarks expect.
    let components = target_dir.join("components");
    std::fs::create_dir_all(&components)
        .unwrap_or_else(|e| panic!("creating {}: {e}", components.display()));
    for (dir, target, _, packages) in builds {
        for package in packages {
            let name = wasm_file_name(package);
            let built = dir.join(target).join("plugin").join(&name);
            let dest = components.join(&name);
            std::fs::copy(&built, &dest).unwrap_or_else(|e| {
                panic!("copying {} to {}: {e}", built.display(), dest.display())
            });
        }
    }
    components
}

/// The file cargo writes for package `package`'s component.
fn wasm_file_name(package: &str) -> String {
    format!("{}.wasm", package.replace('-', "_"))
}

/// One nested `cargo build --profile plugin --target TARGET` of `packages`.
fn nested_build(
    root: &Path,
    target_dir: &Path,
    target: &str,
    config: &[String],
    packages: &[&str],
) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .arg("build")
        .args(["--profile", "plugin", "--target", target])
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    for c in config {
        cmd.arg("--config").arg(c);
    }
    for package in packages {
        cmd.args(["-p", package]);
    }
    // The outer cargo's settings (flags for the host target, clippy's
    // wrapper, the outer target dir) must not leak into a wasm build. Keep
    // the jobserver (CARGO_MAKEFLAGS) so both builds share the same cores.
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let keep = matches!(key, "CARGO_HOME" | "CARGO_MAKEFLAGS")
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_");
        let drop = (key.starts_with("CARGO_") && !keep)
            || matches!(key, "RUSTFLAGS" | "RUSTC_WORKSPACE_WRAPPER" | "CARGO");
        if drop {
            cmd.env_remove(key);
        }
    }

    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build the wasm plugins: {e}"));
    if !status.success() {
        panic!(
            "building the railyard plugins for {target} failed ({status}); \
             the errors are printed above. Run `cargo build --profile plugin --target {target} -p {}` \
             from the repository root to see them directly.",
            packages[0]
        );
    }
}

fn rustc_sysroot() -> Option<PathBuf> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

/// Installs a wasm target's standard library through rustup if it is
/// missing, so a fresh machine needs no manual step.
fn ensure_wasm_target(sysroot: Option<&Path>, target: &str) {
    let installed = sysroot
        .map(|s| s.join("lib/rustlib").join(target).is_dir())
        .unwrap_or(false);
    if installed {
        return;
    }
    println!("cargo:warning=installing the {target} Rust target with rustup (first build only)");
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            panic!("`rustup target add {target}` failed ({s}); install the target and build again")
        }
        Err(e) => panic!(
            "the {target} Rust target is not installed and rustup could not be run ({e}); \
             install the target for this toolchain, or set RAILYARD_PREBUILT_PLUGINS to a folder of built plugins"
        ),
    }
}
