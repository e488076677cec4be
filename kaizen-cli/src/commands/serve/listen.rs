//! Connections: the accept loop, with the two bounds `axum::serve` does not set.
//!
//! - **A header deadline** (`--header-timeout`): a connection that has not sent a whole
//!   request head within it, first or between two requests of a kept-alive connection, is
//!   closed (hyper's `header_read_timeout`, which needs a timer that `axum::serve` does not
//!   give it). Without it a client that sends half a request head holds its connection
//!   forever, and enough of them use up the process's file descriptors (slowloris).
//! - **A write deadline** (three times `--header-timeout`): a client that stops reading its
//!   answers (pipelined requests filling the socket) is cut off when a write makes no
//!   progress for that long; else it would hold a connection slot with no time limit.
//! - **A connection cap** (`--max-connections`): at the cap no connection is accepted; new
//!   ones wait in the kernel's listen backlog until one closes, so the descriptors the
//!   spool and the store need are never taken by clients.
//!
//! Shutdown stops accepting, lets each connection finish the request it is in (hyper's
//! graceful shutdown), and waits for them at most [`DRAIN`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::metrics::Metrics;

/// Longest wait, at shutdown, for requests in progress to be answered. A request body
/// has at most [`super::http::BODY_TIMEOUT`] to arrive, and the spool's fsync follows.
const DRAIN: Duration = Duration::from_secs(40);

/// Pause after a failed `accept` (no descriptor left: `EMFILE`), so that the loop does not
/// spin while connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The bounds of [`serve`] (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Longest time to receive a request head.
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains (see the module).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A slot first: at the cap, connections wait in the kernel's backlog, not here.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let service = TowerToHyperService::new(router.clone());
        let mut closing = closing_rx.clone();
        let metrics = metrics.clone();
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let _slot = slot;
            metrics.connections.inc();
            // Small responses: do not wait for more to fill a segment.
            let _ = stream.set_nodelay(true);
            // A client that stops reading its answers (pipelined requests, a full socket
            // buffer) holds its connection only this long: writes that make no progress
            // end it.
            let mut io = tokio_io_timeout::TimeoutStream::new(stream);
            io.set_write_timeout(Some(header_timeout.saturating_mul(3)));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(Box::pin(io)), service);
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                // (The guard wait_for returns is dropped here, not held across the drain.)
                () = async { drop(closing.wait_for(|closing| *closing).await) } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                if e.is_timeout() {
                    metrics.reject("header_timeout");
                }
                tracing::debug!(error = %e, "connection ended");
            }
            metrics.connections.dec();
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the drain: closed"
        );
        connections.abort_all();
    }
}

/// Raises the soft limit of open files to the hard one (as Go's runtime does), and warns
/// when `--max-connections` and the files the spool and the store need do not fit in it.
pub fn raise_open_files_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        // The store's writer and readers, the spool, logs: a few dozen; 256 to spare.
        let needed = max_connections as u64 + 256;
        if limit.rlim_cur < needed {
            tracing::warn!(
                open_files_limit = limit.rlim_cur,
                max_connections,
                "the open-files limit leaves little room beside --max-connections: lower it, or raise `ulimit -n`"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = max_connections;
}
