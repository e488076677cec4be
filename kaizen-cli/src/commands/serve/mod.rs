//! `kaizen serve`: an OpenTelemetry collector (OTLP/HTTP) whose output is the store.
//!
//! - [`listen`]: connections: the accept loop, a connection cap, a header deadline;
//! - [`http`]: the routes, decoding, bounds and answers;
//! - [`auth`]: bearer tokens and their names (the events' `host`);
//! - [`limits`]: records per request, attribute sizes;
//! - [`spool`]: acknowledged means durable (fsynced segments before any 2xx);
//! - [`flush`]: segments → the store's all-or-nothing writer, then deleted;
//! - [`metrics`]: `/metrics` in Prometheus' text format.
//!
//! The mapping of OTLP records onto events is `kaizen_import::otel`.

mod auth;
mod flush;
mod http;
mod limits;
mod listen;
mod metrics;
mod spool;

use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::routing::{get, post};
use kaizen_store::Store;
use tokio::sync::{Semaphore, watch};

use crate::cli::ServeArgs;

pub async fn run(store: Store, args: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let tokens = auth::Tokens::read(args.token_files.as_slice())?;
    if tokens.is_empty() && !args.listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {} without --token-file: anyone who reaches it could write to the store (listen on 127.0.0.1, or give tokens)",
            args.listen
        );
    }
    let spool = Arc::new(spool::Spool::open(
        &args.spool,
        args.flush_bytes,
        args.flush_age,
        args.spool_max_bytes,
    )?);
    let metrics = Arc::new(metrics::Metrics::new());
    // A commit takes a few segments at a time: the writer's memory is bounded anyway, and
    // a failure then holds back less.
    let budget = args.flush_bytes.saturating_mul(4);
    listen::raise_open_files_limit(args.max_connections);

    let app = Arc::new(http::App {
        tokens,
        spool: spool.clone(),
        metrics: metrics.clone(),
        limits: limits::Limits {
            max_records: args.max_records,
            max_attribute_bytes: args.max_attribute_bytes,
        },
        max_body: args.max_body,
        inflight: Semaphore::new(args.max_inflight),
        body_budget: http::body_budget(args.max_inflight, args.max_body),
        refusal_log: http::RefusalLog::default(),
    });
    let router = Router::new()
        .route("/v1/logs", post(http::logs))
        .route("/v1/traces", post(http::traces))
        .route("/v1/metrics", post(http::metrics_otlp))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::prometheus))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, store = %kaizen_store::EventStore::location(&store), spool = %args.spool.display(), "listening");
    // The one line on standard output: where it listens (a test or script reads the port).
    println!("kaizen serve: listening on http://{addr}");
    std::io::stdout().flush()?;

    // Listening comes first: what the last run acknowledged and did not flush is flushed
    // by the background flusher, oldest first, before anything newer; and a store that
    // cannot be reached now (a bucket's network down) is retried there, while requests are
    // still taken into the spool.
    let (pending, _) = spool.depth();
    if pending > 0 {
        tracing::info!(
            bytes = pending,
            "the spool holds what the last run acknowledged: flushed first, in the background"
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let flusher = tokio::spawn(flush::run(
        store.clone(),
        spool.clone(),
        metrics.clone(),
        budget,
        stop_rx,
    ));
    listen::serve(
        listener,
        router,
        listen::ConnectionLimits {
            max_connections: args.max_connections,
            header_timeout: args.header_timeout,
        },
        metrics.clone(),
        shutdown_signal(),
    )
    .await;

    // Every request answered: close the open segment, stop the background flusher, flush.
    tracing::info!("shutting down: flushing the spool");
    spool.close_open().await;
    let _ = stop_tx.send(true);
    let _ = flusher.await;
    spool.stop();
    let flushed = async {
        store.create().await.context("creating the store")?;
        flush::flush_all(&store, &spool, &metrics, budget).await
    }
    .await;
    match flushed {
        Ok(_) => tracing::info!(
            events_stored = metrics.flushed_events.get(),
            "spool flushed; stopped"
        ),
        Err(e) => {
            let (bytes, segments) = spool.depth();
            tracing::error!(error = %format!("{e:#}"), bytes, segments, "the spool could not be flushed: it is kept, and flushed at the next start");
            return Err(e);
        }
    }
    Ok(())
}

/// Structured logs on standard error; `KAIZEN_LOG` (e.g. `debug`) sets the level.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAIZEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("signal received");
}
