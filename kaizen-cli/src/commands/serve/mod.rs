//! `kaizen serve`: an OpenTelemetry collector (OTLP/HTTP) whose output is the store.
//!
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
    store.create().await.context("creating the store")?;
    // A commit takes a few segments at a time: the writer's memory is bounded anyway, and
    // a failure then holds back less.
    let budget = args.flush_bytes.saturating_mul(4);

    // What the last run acknowledged and did not flush goes first.
    let (pending, _) = spool.depth();
    if pending > 0 {
        tracing::info!(bytes = pending, "flushing what the spool held at start");
        if let Err(e) = flush::flush_all(&store, &spool, &metrics, budget).await {
            tracing::error!(error = %format!("{e:#}"), "flushing the recovered spool failed; retried in the background");
        }
    }

    let app = Arc::new(http::App {
        tokens,
        spool: spool.clone(),
        metrics: metrics.clone(),
        limits: limits::Limits {
            max_records: args.max_records,
            max_attribute_bytes: args.max_attribute_bytes,
        },
        max_body: args.max_body,
        inflight: Semaphore::new(args.max_inflight.max(1)),
    });
    let router = Router::new()
        .route("/v1/logs", post(http::logs))
        .route("/v1/traces", post(http::traces))
        .route("/v1/metrics", post(http::metrics_otlp))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::prometheus))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, store = %kaizen_store::EventStore::location(&store), spool = %args.spool.display(), "listening");
    // The one line on standard output: where it listens (a test or script reads the port).
    println!("kaizen serve: listening on http://{addr}");
    std::io::stdout().flush()?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let flusher = tokio::spawn(flush::run(
        store.clone(),
        spool.clone(),
        metrics.clone(),
        budget,
        stop_rx,
    ));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;

    // Every request answered: close the open segment, stop the background flusher, flush.
    tracing::info!("shutting down: flushing the spool");
    spool.close_open().await;
    let _ = stop_tx.send(true);
    let _ = flusher.await;
    spool.stop();
    match flush::flush_all(&store, &spool, &metrics, budget).await {
        Ok(done) => tracing::info!(events = done.events, "spool flushed; stopped"),
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
