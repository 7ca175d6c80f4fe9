//! `railyard serve`: the guard API and OpenAI-compatible proxy.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::audit::AuditLog;
use crate::serve::{ConfigSource, Overrides, ServeConfig, Server, State};

#[derive(Args)]
pub(super) struct ServeArgs {
    /// Server configuration (TOML): listen address, policies, upstreams,
    /// routes, caller keys, limits. Default: none (see README).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The `default` policy (TOML). Default: the embedded default policy.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port). Default: the
    /// config's `listen`, else 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// OpenAI-compatible base URL (e.g. https://api.openai.com/v1) serving
    /// every model no configured route claims. Default: RAILYARD_UPSTREAM_URL.
    #[arg(long)]
    upstream: Option<String>,
    /// Environment variable holding the API key sent to `--upstream`.
    #[arg(long, default_value = "OPENAI_API_KEY")]
    upstream_key_env: String,
    #[command(flatten)]
    audit: super::log::AuditArgs,
    /// Do not record decisions in the audit log.
    #[arg(long, conflicts_with = "audit")]
    no_audit: bool,
}

pub(super) fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let upstream = args.upstream.clone().or_else(|| {
        std::env::var("RAILYARD_UPSTREAM_URL")
            .ok()
            .filter(|u| !u.is_empty())
    });
    // The flags are applied over the file at start and again on every
    // reload of it.
    let overrides = Overrides {
        policy: args.policy.clone(),
        listen: args.listen,
        upstream: upstream.map(|u| (u, Some(args.upstream_key_env.clone()))),
    };
    let source = args.config.as_ref().map(|path| ConfigSource {
        path: path.clone(),
        overrides: overrides.clone(),
    });
    let config = match &source {
        Some(s) => s.load().map_err(anyhow::Error::msg)?,
        None => overrides
            .apply(ServeConfig::default())
            .map_err(anyhow::Error::msg)?,
    };
    // Before anything is opened or bound: serving the model endpoints to a
    // network without authenticating callers must be asked for.
    crate::serve::access::check_listen(&config, config.listen).map_err(anyhow::Error::msg)?;
    if config.callers.is_empty() {
        eprintln!(
            "railyard: no [[callers]] configured: every request is accepted as caller `anonymous`{}",
            if config.listen.ip().is_loopback() {
                " (loopback only)"
            } else {
                " (allow-unauthenticated = true)"
            }
        );
    }
    let audit = if args.no_audit {
        None
    } else {
        let mut settings = args.audit.settings()?;
        // `[audit]` in serve.toml: retention, legal holds, WORM storage.
        let worm_env = settings.maintenance.lifecycle.worm;
        settings.maintenance.lifecycle = config.audit.lifecycle.clone();
        settings.maintenance.lifecycle.worm |= worm_env;
        let mut log =
            AuditLog::open(settings).context("opening the audit log (--no-audit skips it)")?;
        // A serving host keeps its tables readable (compaction,
        // checkpoints, vacuum) unless RAILYARD_AUDIT_MAINTENANCE=off.
        log.start_maintenance()
            .context("starting audit table maintenance")?;
        Some(log)
    };
    // Spans go to an OTLP collector only when one is configured; the
    // exporter runs on its own thread, off the request path.
    let otlp = crate::telemetry::init(config.otlp_endpoint.as_deref())
        .context("starting the OTLP trace exporter ([telemetry] otlp-endpoint)")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = crate::serve::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let has_upstream = !config.upstreams.is_empty();
        let metrics_listener = match config.metrics_listen {
            Some(m) => Some(crate::serve::bind(m).await?),
            None => None,
        };
        let state = tokio::task::block_in_place(|| State::new(config, audit))?;
        let server = Server::new(state, source);
        // SIGHUP and changes of the file reload it; started before the
        // listening line, so a SIGHUP after it never finds no handler.
        let _config_watcher = server.watch().context("watching the serve configuration")?;
        if let Some(l) = metrics_listener {
            // Printed before the listening line, which says the server is up.
            println!("railyard: metrics on http://{}/metrics", l.local_addr()?);
            tokio::spawn(crate::serve::metrics_endpoint::serve(server.clone(), l));
        }
        if let Some(endpoint) = &otlp {
            println!("railyard: exporting traces to {endpoint}");
        }
        // SIGTERM and SIGINT handlers exist before the listening line, so a
        // stop sent the moment the server says it is up is a clean stop.
        let stop = shutdown_signal()?;
        println!("railyard: listening on http://{addr}");
        if !has_upstream {
            println!(
                "railyard: no upstream: /v1/guard works; /v1/chat/completions needs --upstream URL or RAILYARD_UPSTREAM_URL"
            );
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        crate::serve::serve(server, listener, stop).await
    })?;
    // The spans of the last calls are batched: they go out before the exit.
    if let Err(e) = crate::telemetry::shutdown(std::time::Duration::from_secs(10)) {
        eprintln!("railyard: warning: {e}");
    }
    Ok(super::EXIT_ALLOWED)
}

/// Resolves at SIGTERM or SIGINT; both are registered when this returns.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
