//! `railyard log erase`: remove one request's, caller's or end user's rows
//! from every audit table, recorded in the hash chain.

use anyhow::{Context, bail};

use super::EXIT_ALLOWED;
use crate::audit::erase::{self, Selector};
use crate::audit::{TableKind, chain, table};

/// Which rows (exactly one selector).
#[derive(clap::Args, Clone, Debug)]
pub(super) struct EraseArgs {
    /// Erase the call with this request id.
    #[arg(long = "request-id")]
    request_id: Option<String>,
    /// Erase every call of this caller.
    #[arg(long)]
    caller: Option<String>,
    /// Erase every call made on behalf of this end user
    /// (`inferences.end_user`).
    #[arg(long = "end-user")]
    end_user: Option<String>,
    /// Who asks for the erasure (recorded in the chain). Default: $USER.
    #[arg(long)]
    by: Option<String>,
    /// Count the rows that would go; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

impl EraseArgs {
    fn selector(&self) -> anyhow::Result<Selector> {
        let given: Vec<Selector> = [
            self.request_id.clone().map(Selector::RequestId),
            self.caller.clone().map(Selector::Caller),
            self.end_user.clone().map(Selector::EndUser),
        ]
        .into_iter()
        .flatten()
        .collect();
        match <[Selector; 1]>::try_from(given) {
            Ok([s]) => {
                if matches!(&s, Selector::RequestId(v) | Selector::Caller(v) | Selector::EndUser(v) if v.trim().is_empty())
                {
                    bail!("the {} to erase must not be empty", s.kind());
                }
                Ok(s)
            }
            Err(_) => bail!("give exactly one of --request-id, --caller or --end-user"),
        }
    }
}

/// Runs the erasure over every table.
pub(super) async fn run(
    root: &url::Url,
    options: &std::collections::HashMap<String, String>,
    args: EraseArgs,
) -> anyhow::Result<u8> {
    let selector = args.selector()?;
    let by = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "unknown".into());
    let chain_id = chain::process_chain("erase");
    let requests = match &selector {
        Selector::EndUser(u) => {
            match table::open_existing(root, TableKind::Inferences, options).await? {
                Some(t) => erase::requests_of_end_user(&t, u).await?,
                None => Default::default(),
            }
        }
        _ => Default::default(),
    };
    let mut done = Vec::new();
    for kind in erase::ERASED_TABLES {
        let Some(mut t) = table::open_existing(root, kind, options).await? else {
            continue;
        };
        let r = erase::erase_table(
            &mut t,
            kind,
            &selector,
            &requests,
            &by,
            &chain_id,
            args.dry_run,
        )
        .await
        .with_context(|| format!("erasing from {}", kind.name()))?;
        done.push(r);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "selector": selector.kind(),
                "by": by,
                "dry_run": args.dry_run,
                "tables": done,
            }))?
        );
    } else {
        for r in &done {
            println!(
                "{:<11} {} row(s) {}{}",
                r.table,
                r.rows,
                if args.dry_run { "would go" } else { "erased" },
                r.version
                    .map(|v| format!(
                        " ({} file(s) rewritten into {}, version {v})",
                        r.files_removed, r.files_added
                    ))
                    .unwrap_or_default()
            );
        }
        if !args.dry_run {
            eprintln!(
                "erasure recorded in each table's hash chain (by {by}); rows still in a host's WAL are not erased: run this once the hosts have committed (railyard log flush)"
            );
        }
    }
    Ok(EXIT_ALLOWED)
}
