//! `railyard plugin new`: starts a plugin project from a template.
//!
//! A template is the files under `plugins/templates/<lang>/common/` (copied
//! for every kind) with `plugins/templates/<lang>/<kind>/` laid over them.
//! host/build.rs embeds every template file in the binary, and the WIT
//! contract is embedded here, so the command needs no repository beside it.
//!
//! In file names and contents, `{{name}}` becomes the plugin's name,
//! `{{name_snake}}` the name with `_` for `-`, and `{{kind}}` the world's
//! name. The project gets the host's own `wit/railyard.wit`; `*.sh` files
//! are made executable. Each template's `build.sh` builds `NAME.wasm` and
//! writes its manifest `NAME.toml`, which pass `railyard conformance`
//! unmodified.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::EXIT_ALLOWED;
use crate::plugin::PluginKind;

include!(concat!(env!("OUT_DIR"), "/plugin_templates.rs"));

/// The contract every plugin is built against, as this host speaks it.
const WIT: &str = include_str!("../../../wit/railyard.wit");

#[derive(Args)]
pub(super) struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Create a plugin project from a template: sources, build.sh, README
    /// and the WIT contract.
    ///
    /// Exit code: 0 created, 2 error (bad name, unknown language, the
    /// folder exists and is not empty).
    New(NewArgs),
}

#[derive(Args)]
struct NewArgs {
    /// The plugin's name: lower-case ASCII letters, digits and `-`,
    /// starting with a letter (e.g. `no-shouting`).
    name: String,
    /// The template's language, e.g. `rust`, `python`, `js`, `c`.
    #[arg(long)]
    lang: String,
    /// The world the plugin implements.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Where to create the project (default: `./NAME`). It must not exist
    /// or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Guardrail,
    PiiDetector,
    JudgeRouter,
}

impl From<KindArg> for PluginKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Guardrail => PluginKind::Guardrail,
            KindArg::PiiDetector => PluginKind::PiiDetector,
            KindArg::JudgeRouter => PluginKind::JudgeRouter,
        }
    }
}

pub(super) fn run(args: PluginArgs) -> anyhow::Result<u8> {
    match args.command {
        PluginCommand::New(args) => new(args),
    }
}

fn new(args: NewArgs) -> anyhow::Result<u8> {
    let name = args.name.as_str();
    if !valid_name(name) {
        bail!(
            "plugin name {name:?}: expected lower-case ASCII letters, digits and `-`, \
             starting with a letter (e.g. `no-shouting`)"
        );
    }
    let kind = PluginKind::from(args.kind).as_str();
    let files = template(&args.lang, kind)?;

    let dir = args.dir.unwrap_or_else(|| PathBuf::from(name));
    refuse_non_empty(&dir)?;

    let substitute = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{name_snake}}", &name.replace('-', "_"))
            .replace("{{kind}}", kind)
    };
    let mut created = Vec::with_capacity(files.len() + 1);
    for (relative, contents) in files {
        let path = dir.join(substitute(&relative));
        let contents = match std::str::from_utf8(contents) {
            Ok(text) => substitute(text).into_bytes(),
            Err(_) => contents.to_vec(),
        };
        write_file(&path, &contents)?;
        created.push(path);
    }
    // Written as the host has it: never substituted.
    let wit = dir.join("wit/railyard.wit");
    write_file(&wit, WIT.as_bytes())?;
    created.push(wit);

    println!(
        "created a {} {kind} plugin {name:?} in {}:",
        args.lang,
        dir.display()
    );
    for path in &created {
        println!("  {}", path.display());
    }
    println!(
        "next steps, in {dir} (its README.md says more):\n  \
         build:   ./build.sh  (writes {name}.wasm and its manifest {name}.toml)\n  \
         test:    railyard conformance {name}.wasm\n  \
         try:     in a policy, [plugins.{name}] path = \"{name}.wasm\", then railyard check --policy ...\n  \
         deploy:  copy {name}.wasm and {name}.toml into the folder of the policy's [registry] dir",
        dir = dir.display()
    );
    Ok(EXIT_ALLOWED)
}

/// `[a-z][a-z0-9-]*`: usable as a file name, a cargo package, a policy key
/// and (with `_` for `-`) an identifier in every template language.
fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The project's files for `lang` and `kind`, by path relative to the
/// project (placeholders not yet substituted): `common/` overlaid with the
/// kind's folder.
fn template(lang: &str, kind: &str) -> anyhow::Result<BTreeMap<String, &'static [u8]>> {
    let languages: BTreeSet<&str> = TEMPLATE_FILES
        .iter()
        .filter_map(|(path, _)| path.split_once('/').map(|(lang, _)| lang))
        .collect();
    if !languages.contains(lang) {
        bail!(
            "no plugin templates for language {lang:?}; available: {}",
            languages.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let layer = |folder: &str| {
        let prefix = format!("{lang}/{folder}/");
        TEMPLATE_FILES
            .iter()
            .filter_map(move |(path, contents)| {
                path.strip_prefix(&prefix)
                    .map(|relative| (relative.to_string(), *contents))
            })
            .collect::<Vec<_>>()
    };
    let for_kind = layer(kind);
    if for_kind.is_empty() {
        bail!("the {lang} templates have no {kind} template (plugins/templates/{lang}/{kind}/)");
    }
    let mut files: BTreeMap<String, &'static [u8]> = layer("common").into_iter().collect();
    files.extend(for_kind);
    Ok(files)
}

/// A new project goes into a folder that does not exist or is empty, so
/// nothing of the user's is overwritten.
fn refuse_non_empty(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("{} exists and is not a folder", dir.display());
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    if entries.next().is_some() {
        bail!(
            "{} exists and is not empty; choose another name or --dir",
            dir.display()
        );
    }
    Ok(())
}

/// Writes one file, creating its folders; `*.sh` becomes executable.
fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    if path.extension().is_some_and(|e| e == "sh") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_words_joined_by_dashes() {
        for ok in ["a", "no-shouting", "pii2", "x-1-y"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "1abc", "-a", "No", "a_b", "a b", "é", "a/b", "a."] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn every_embedded_template_language_has_common_files_and_every_kind() {
        let languages: BTreeSet<&str> = TEMPLATE_FILES
            .iter()
            .filter_map(|(path, _)| path.split_once('/').map(|(lang, _)| lang))
            .collect();
        assert!(languages.contains("rust"), "{languages:?}");
        for lang in languages {
            for kind in ["guardrail", "pii-detector", "judge-router"] {
                let files = template(lang, kind).unwrap();
                assert!(files.contains_key("build.sh"), "{lang} {kind}: no build.sh");
                assert!(
                    files.contains_key("README.md"),
                    "{lang} {kind}: no README.md"
                );
                assert!(
                    !files.contains_key("wit/railyard.wit"),
                    "{lang} {kind}: templates must not carry the WIT; the command writes the host's"
                );
            }
        }
    }
}
