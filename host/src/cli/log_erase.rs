//! `railyard log erase`: remove one request's, caller's or end user's rows
//! from every audit table, recorded in the hash chain.

use anyhow::{Context, bail};

use super::EXIT_ALLOWED;
use crate::audit::erase::{self, Selector};
use crate::audit::events::{Event, EventKind, direct};
use crate::audit::worm::Storage;
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
pub(super) async fn run(storage: &Storage, args: EraseArgs) -> anyhow::Result<u8> {
    let (root, options) = (storage.root(), storage.options());
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
        let request = erase::Request {
            selector: &selector,
            requests: &requests,
            by: &by,
            chain_id: &chain_id,
            dry_run: args.dry_run,
        };
        let r = erase::erase_table(&mut t, kind, request, storage)
            .await
            .with_context(|| format!("erasing from {}", kind.name()))?;
        done.push(r);
    }
    let erased: u64 = done.iter().map(|r| r.rows).sum();
    let recorded = if args.dry_run || erased == 0 {
        None
    } else {
        Some(record_erasure(storage, &selector, &by, &done).await)
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "selector": selector.kind(),
                "by": by,
                "dry_run": args.dry_run,
                "tables": done,
                "recorded_in_events": recorded,
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
        match recorded {
            Some(true) => eprintln!("erasure recorded in the events table (kind erasure)"),
            Some(false) => {
                eprintln!("no events table: the erasure is recorded in the hash chains only")
            }
            None => {}
        }
        if !args.dry_run {
            eprintln!(
                "erasure recorded in each table's hash chain (by {by}); rows still in a host's WAL are not erased: run this once the hosts have committed (railyard log flush)"
            );
        }
    }
    Ok(EXIT_ALLOWED)
}

/// Records the erasure in the `events` table, if there is one: who, the
/// selector's kind and the SHA-256 of its value (never the value), rows per
/// table and the erase commits' versions. Returns whether a row was
/// committed; a failure to record is reported and does not undo the
/// erasure, which the chains hold already.
async fn record_erasure(
    storage: &Storage,
    selector: &Selector,
    by: &str,
    done: &[erase::Erased],
) -> bool {
    let rows: u64 = done.iter().map(|r| r.rows).sum();
    let event = Event::new(
        EventKind::Erasure,
        format!(
            "{rows} row(s) erased by {by}, selected by {}",
            selector.kind()
        ),
    )
    .admin(by)
    .detail(serde_json::json!({
        "by": by,
        "selector": selector.kind(),
        "selector_sha256": selector.value_sha256(),
        "rows": rows,
        "tables": done,
    }));
    match direct::record(storage.root(), storage.options(), "erase", event).await {
        Ok(recorded) => recorded,
        Err(e) => {
            eprintln!(
                "warning: the erasure is in the hash chains but could not be recorded in the events table: {e}"
            );
            false
        }
    }
}
