//! `/metrics`: the server's counters in Prometheus' text format (prometheus-client).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label pairs of a series.
pub type Labels = Vec<(String, String)>;

/// Every series the server exports (prefix `kaizen_serve_`).
pub struct Metrics {
    registry: Registry,
    /// Requests answered, by `path` and HTTP `code`.
    pub requests: Family<Labels, Counter>,
    /// Records (log records, spans, data points) by `signal` and `outcome`: `stored` (in
    /// the spool, then the store), `rejected` (partial success), `not_stored` (metrics).
    pub records: Family<Labels, Counter>,
    /// Request body bytes received (as sent, before gzip).
    pub bytes: Counter,
    /// Requests refused, by `reason` (auth, content_type, too_large, decode, spool_full, …).
    pub rejects: Family<Labels, Counter>,
    /// Bytes in the spool (acknowledged, not yet in the store).
    pub spool_bytes: Gauge,
    /// Closed segments waiting to be flushed.
    pub spool_segments: Gauge,
    /// Seconds per flush (reading segments, writing and publishing files).
    pub flush_seconds: Histogram,
    /// Flushes by `result` (ok, error).
    pub flushes: Family<Labels, Counter>,
    /// Events the flushes published (copies of stored events not counted).
    pub flushed_events: Counter,
    /// Spool lines that were not events (damaged on disk), kept aside.
    pub damaged_lines: Counter,
    /// Spooled events the store refused (another event holds their identity), kept aside.
    pub refused_events: Counter,
    /// 1 while the last flush (or the store's creation) succeeded, 0 while it fails.
    pub store_up: Gauge,
    /// Connections open.
    pub connections: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kaizen_serve");
        let m = Metrics {
            requests: Family::default(),
            records: Family::default(),
            bytes: Counter::default(),
            rejects: Family::default(),
            spool_bytes: Gauge::default(),
            spool_segments: Gauge::default(),
            flush_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            flushes: Family::default(),
            flushed_events: Counter::default(),
            damaged_lines: Counter::default(),
            refused_events: Counter::default(),
            store_up: Gauge::default(),
            connections: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "requests",
            "Requests answered, by path and HTTP code",
            m.requests.clone(),
        );
        registry.register(
            "records",
            "Records received, by signal and outcome",
            m.records.clone(),
        );
        registry.register(
            "received_bytes",
            "Request body bytes received, as sent",
            m.bytes.clone(),
        );
        registry.register("rejects", "Requests refused, by reason", m.rejects.clone());
        registry.register(
            "spool_bytes",
            "Bytes acknowledged and not yet in the store",
            m.spool_bytes.clone(),
        );
        registry.register(
            "spool_segments",
            "Closed spool segments waiting for a flush",
            m.spool_segments.clone(),
        );
        registry.register(
            "flush_seconds",
            "Seconds per flush to the store",
            m.flush_seconds.clone(),
        );
        registry.register(
            "flushes",
            "Flushes to the store, by result",
            m.flushes.clone(),
        );
        registry.register(
            "flushed_events",
            "Events published by flushes",
            m.flushed_events.clone(),
        );
        registry.register(
            "damaged_lines",
            "Spool lines that were not events, kept aside in <segment>.damaged",
            m.damaged_lines.clone(),
        );
        registry.register(
            "refused_events",
            "Spooled events the store refused, kept aside in <segment>.refused",
            m.refused_events.clone(),
        );
        registry.register(
            "store_up",
            "1 while flushing to the store succeeds, 0 while it fails",
            m.store_up.clone(),
        );
        registry.register("connections", "Connections open", m.connections.clone());
        Metrics { registry, ..m }
    }

    /// The text exposition (`text/plain; version=0.0.4` compatible OpenMetrics text).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Counts a refused request.
    pub fn reject(&self, reason: &str) {
        self.rejects
            .get_or_create(&vec![("reason".to_owned(), reason.to_owned())])
            .inc();
    }

    /// Adds records of a signal with an outcome.
    pub fn add_records(&self, signal: &str, outcome: &str, n: u64) {
        if n > 0 {
            let labels = vec![
                ("signal".to_owned(), signal.to_owned()),
                ("outcome".to_owned(), outcome.to_owned()),
            ];
            self.records.get_or_create(&labels).inc_by(n);
        }
    }
}
