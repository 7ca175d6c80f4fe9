//! Builds railyard's WebAssembly plugins so the host can embed them.
//!
//! A fresh clone must run `railyard check "…"` with no config and no extra
//! step, so the first-party plugins are compiled here, as `wasm32-wasip2`
//! components, by a nested `cargo build` into its own target directory (a
//! separate directory avoids waiting on the lock the outer build holds). The
//! hostile test fixtures under `tests/plugins/` are built in the same call:
//! they share every dependency with the real plugins, so they cost seconds.
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

const WASM_TARGET: &str = "wasm32-wasip2";

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
        let file = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
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

/// Runs the nested cargo build and returns the folder with the `.wasm` files.
fn build_plugins(root: &Path, out_dir: &Path) -> PathBuf {
    ensure_wasm_target();

    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out; put the plugin
    // build beside the profiles so dev, test and bench builds share it.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join("railyard-plugins"))
        .unwrap_or_else(|| out_dir.join("railyard-plugins"));

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .arg("build")
        .args(["--profile", "plugin", "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    for (_, package) in FIRST_PARTY {
        cmd.args(["-p", package]);
    }
    for package in FIXTURES {
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
            "building the railyard plugins for {WASM_TARGET} failed ({status}); \
             the errors are printed above. Run `cargo build --profile plugin --target {WASM_TARGET} -p railyard-plugin-pii` \
             from the repository root to see them directly."
        );
    }
    target_dir.join(WASM_TARGET).join("plugin")
}

/// Installs the wasm32-wasip2 standard library through rustup if it is
/// missing, so a fresh machine needs no manual step.
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot
        .as_ref()
        .map(|s| s.join("lib/rustlib").join(WASM_TARGET).is_dir())
        .unwrap_or(false);
    if installed {
        return;
    }
    println!(
        "cargo:warning=installing the {WASM_TARGET} Rust target with rustup (first build only)"
    );
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`rustup target add {WASM_TARGET}` failed ({s}); install the target and build again"
        ),
        Err(e) => panic!(
            "the {WASM_TARGET} Rust target is not installed and rustup could not be run ({e}); \
             install the target for this toolchain, or set RAILYARD_PREBUILT_PLUGINS to a folder of built plugins"
        ),
    }
}
