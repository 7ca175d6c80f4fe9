//! `railyard log verify` and `railyard log keygen`: tamper evidence.

use std::time::Instant;

use anyhow::Context;

use super::{EXIT_ALLOWED, EXIT_BLOCKED};
use crate::audit::chain::{self, Signer, VerifyingKeys, verify};
use crate::audit::{TableKind, table};

/// Runs `verify` over every table; exit 0 when nothing is broken.
pub(super) async fn run_verify(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
    since_us: Option<i64>,
    public_keys: &[String],
    json: bool,
) -> anyhow::Result<u8> {
    let report = verify_report(root, options, since_us, public_keys).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.ok {
        EXIT_ALLOWED
    } else {
        EXIT_BLOCKED
    })
}

/// Verifies every table (see [`run_verify`] for the keys trusted).
pub(super) async fn verify_report(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
    since_us: Option<i64>,
    public_keys: &[String],
) -> anyhow::Result<verify::Report> {
    let started = Instant::now();
    let mut keys = VerifyingKeys::default();
    for k in public_keys {
        keys.add(k).map_err(anyhow::Error::msg)?;
    }
    if let Ok(list) = std::env::var("RAILYARD_AUDIT_VERIFY_KEYS") {
        for k in list.split(',').filter(|k| !k.trim().is_empty()) {
            keys.add(k.trim()).map_err(anyhow::Error::msg)?;
        }
    }
    if let Some(signer) = chain::signing_key_from_env().map_err(anyhow::Error::msg)? {
        keys.add_signer(&signer);
    }
    let options_v = verify::Options {
        since_us,
        keys: keys.clone(),
    };
    let mut report = verify::Report {
        signatures_checked: !keys.is_empty(),
        trusted_keys: keys.ids(),
        ..verify::Report::default()
    };
    for kind in TableKind::ALL {
        let store = table::table_store(root, kind, options)?;
        let r = verify::verify_table(kind.name(), store.as_ref(), &options_v)
            .await
            .with_context(|| format!("verifying {}", kind.name()))?;
        if r.latest_version.is_some() {
            report.tables.push(r);
        }
    }
    report.finish(started);
    Ok(report)
}

fn print_report(r: &verify::Report) {
    for t in &r.tables {
        let signed: u64 = t.chains.iter().map(|c| c.signed).sum();
        let tail: u64 = t.chains.iter().map(|c| c.unsigned_tail).sum();
        println!(
            "{:<11} {} commit(s) from version {}, {} chain(s), {} signed head(s), {} entries after the last signature; {} data file(s), {} bytes, {} rows hashed{}",
            t.table,
            t.commits,
            t.first_version,
            t.chains.len(),
            signed,
            tail,
            t.files_checked,
            t.bytes_checked,
            t.rows_checked,
            if t.files_skipped > 0 {
                format!(" ({} older file(s) not hashed)", t.files_skipped)
            } else {
                String::new()
            }
        );
        if t.checkpoints_checked > 0 {
            println!(
                "            {} checkpoint(s) checked against their commits",
                t.checkpoints_checked
            );
        }
        if let Some(v) = t.checkpoint_base {
            println!(
                "            the checkpoint at version {v} is the starting state (the commits before it were cleaned up)"
            );
        }
        if t.adds_without_action_hash > 0 {
            println!(
                "            {} add(s) chained before the chain covered whole actions: their stats are checked for the row count only",
                t.adds_without_action_hash
            );
        }
        for b in t.breaks.iter().take(20) {
            println!("  BREAK [{}] {}", b.kind, b.message);
        }
    }
    if !r.signatures_checked {
        println!(
            "signatures: not checked (no trusted key: --public-key or RAILYARD_AUDIT_VERIFY_KEYS)"
        );
    }
    match &r.first_break {
        None => println!("verified: no break ({} ms)", r.elapsed_ms),
        Some(b) => println!("FIRST BREAK in {}: {}", b.table, b.message),
    }
}

/// Writes a new signing key (hex seed) to `out` and prints its public key.
pub(super) fn keygen(out: &std::path::Path) -> anyhow::Result<u8> {
    let seed: [u8; 32] = crate::audit::random_seed()?;
    let signer = Signer::from_seed(seed);
    if out.exists() {
        anyhow::bail!("{} exists; not overwriting a key", out.display());
    }
    std::fs::write(out, hex::encode(seed)).with_context(|| format!("writing {}", out.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o600));
    }
    println!("key id:     {}", signer.id());
    println!("public key: {}", signer.public_hex());
    eprintln!(
        "signing key written to {}; give it to hosts as RAILYARD_AUDIT_SIGNING_KEY_FILE, and the public key to verify",
        out.display()
    );
    Ok(EXIT_ALLOWED)
}
