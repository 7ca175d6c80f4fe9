//! `railyard conformance`: the plugin author's test harness, and
//! `railyard manifest`: writes the manifest a plugins folder needs.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::{EXIT_ALLOWED, EXIT_BLOCKED, EXIT_ERROR};
use crate::conformance::{self, Format, Options};
use crate::engine::{EngineSettings, RailyardEngine};
use crate::plugin::manifest::{TrustedKey, render, sign_digest};
use crate::plugin::{Grants, LoadError, PluginKind, PluginLoader, capability};

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

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Junit,
}

#[derive(Args)]
pub(super) struct ConformanceArgs {
    /// The component to test. A manifest beside it (same name, `.toml`) is
    /// checked too.
    plugin: PathBuf,
    /// The world it must implement (default: the one it exports).
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// A JSON vector file, or a folder of them, to use instead of the
    /// built-in vectors and the ones the plugin's manifest names.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// The plugin's config, as a policy would give it: KEY=VALUE, repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Fuel per call, instead of the default budget (20,000,000 + 1,000 per
    /// input byte).
    #[arg(long)]
    fuel: Option<u64>,
    /// Memory budget per instance, in MiB.
    #[arg(long, default_value_t = conformance::DEFAULT_MEMORY_MIB)]
    memory_mib: u64,
}

pub(super) fn run(args: ConformanceArgs) -> anyhow::Result<u8> {
    let mut config = Vec::with_capacity(args.config.len());
    for kv in &args.config {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--config {kv:?}: expected KEY=VALUE");
        };
        config.push((k.to_string(), v.to_string()));
    }
    if !args.plugin.is_file() {
        bail!("{}: no such file", args.plugin.display());
    }
    let opts = Options {
        kind: args.kind.map(Into::into),
        vectors: args.vectors,
        config,
        fuel: args.fuel,
        memory_mib: args.memory_mib,
        ..Options::default()
    };
    let report = match conformance::run(&args.plugin, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("railyard: error: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Junit => Format::Junit,
    };
    print!("{}", report.render(format));
    Ok(if report.passed() {
        EXIT_ALLOWED
    } else {
        EXIT_BLOCKED
    })
}

#[derive(Args)]
pub(super) struct ManifestArgs {
    /// The component to describe.
    plugin: PathBuf,
    /// Stages to run it at (default: every request/response stage its
    /// info() declares), e.g. `--stage request`.
    #[arg(long = "stage", value_name = "STAGE")]
    stages: Vec<String>,
    /// Sign the digest with the ed25519 secret key (32 bytes, hex) in this
    /// environment variable; prints the public key to standard error.
    #[arg(long, value_name = "VAR")]
    sign_key_env: Option<String>,
    /// The folder a plugin that imports wasi:filesystem reads, relative to
    /// the plugins folder (default: `data`); seen at /data inside it.
    #[arg(long, value_name = "DIR")]
    read_only_dir: Option<PathBuf>,
}

pub(super) fn manifest(args: ManifestArgs) -> anyhow::Result<u8> {
    let wasm = std::fs::read(&args.plugin)
        .with_context(|| format!("reading {}", args.plugin.display()))?;
    let engine = RailyardEngine::new(EngineSettings::default())?;
    let loader = PluginLoader::new(engine)?;
    let plugin = loader.load(&args.plugin.display().to_string(), &wasm)?;
    let stages = if args.stages.is_empty() {
        plugin
            .info
            .stages
            .iter()
            .copied()
            .filter(|s| matches!(s, crate::Stage::Request | crate::Stage::Response))
            .collect()
    } else {
        let mut out = Vec::new();
        for s in &args.stages {
            match crate::Stage::parse(s) {
                Some(stage) if plugin.info.stages.contains(&stage) => out.push(stage),
                _ => bail!(
                    "--stage {s:?}: expected one of the stages the plugin declares ({})",
                    plugin
                        .info
                        .stages
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        out
    };
    let signature = match &args.sign_key_env {
        None => None,
        Some(var) => {
            let hex_key = std::env::var(var)
                .with_context(|| format!("environment variable {var} is not set"))?;
            let secret: [u8; 32] = hex::decode(hex_key.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{var} must hold a 32-byte ed25519 secret key in hex"))?;
            eprintln!(
                "signed with the key whose public half is {} (add it to the policy's registry.trusted-keys)",
                TrustedKey::from_secret(&secret)
            );
            Some(sign_digest(&secret, &plugin.digest))
        }
    };
    let component = args
        .plugin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    // The capabilities its imports need: what loading it with none refuses.
    let label = args.plugin.display().to_string();
    let needs = match loader.load_granted(&label, &wasm, &Grants::none()) {
        Err(LoadError::ForbiddenImport { imports, .. }) => {
            capability::capabilities_for(imports.iter().map(String::as_str))
        }
        _ => Vec::new(),
    };
    let mut capabilities = String::new();
    for cap in &needs {
        capabilities.push_str(&match *cap {
            "read-only-dir" => {
                let dir = args
                    .read_only_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("data"));
                if args.read_only_dir.is_none() {
                    eprintln!(
                        "note: {label} imports wasi:filesystem; the manifest grants it the folder `data` beside it (--read-only-dir chooses another), which the policy's [registry] read-only-dirs must allow"
                    );
                }
                format!("read-only-dir = {:?}\n", dir.display().to_string())
            }
            cap => format!("{cap} = true\n"),
        });
    }
    if !capabilities.is_empty() {
        capabilities.insert_str(0, "\n[capabilities]\n");
    }
    print!(
        "{}{capabilities}",
        render(
            &plugin.info.name,
            &plugin.info.version,
            plugin.kind,
            &stages,
            &plugin.digest,
            signature.as_deref(),
            component.as_deref(),
        )
    );
    Ok(EXIT_ALLOWED)
}
