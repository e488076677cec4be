//! The bounds a decoded request is held to before anything of it is kept: records per
//! request, and the size of each attribute and log body (413 with the key named).

use kaizen_import::otel::proto::collector::logs::v1::ExportLogsServiceRequest;
use kaizen_import::otel::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use kaizen_import::otel::proto::collector::trace::v1::ExportTraceServiceRequest;
use kaizen_import::otel::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use kaizen_import::otel::proto::metrics::v1::metric::Data;

/// The bounds (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_records: u64,
    pub max_attribute_bytes: u64,
}

/// Bytes a value holds: its text or bytes, an array's or map's elements (keys included).
fn value_bytes(v: Option<&AnyValue>) -> u64 {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.len() as u64,
        Some(Value::BytesValue(b)) => b.len() as u64,
        Some(Value::ArrayValue(a)) => a.values.iter().map(|v| value_bytes(Some(v))).sum(),
        Some(Value::KvlistValue(kv)) => kv
            .values
            .iter()
            .map(|kv| kv.key.len() as u64 + value_bytes(kv.value.as_ref()))
            .sum(),
        _ => 8,
    }
}

impl Limits {
    fn attrs(&self, attrs: &[KeyValue], what: &dyn Fn() -> String) -> Result<(), String> {
        for kv in attrs {
            let n = kv.key.len() as u64 + value_bytes(kv.value.as_ref());
            if n > self.max_attribute_bytes {
                return Err(format!(
                    "attribute {:?} of {} is {n} bytes, over the limit of {} bytes (--max-attribute-bytes)",
                    truncate(&kv.key),
                    what(),
                    self.max_attribute_bytes
                ));
            }
        }
        Ok(())
    }

    /// An instrumentation scope: its name and version count as attributes (they are kept
    /// in every event's payload).
    fn scope(&self, scope: Option<&InstrumentationScope>, i: usize) -> Result<(), String> {
        let Some(scope) = scope else {
            return Ok(());
        };
        let what = || format!("the scope of resource {i}");
        for (field, text) in [("name", &scope.name), ("version", &scope.version)] {
            let n = text.len() as u64;
            if n > self.max_attribute_bytes {
                return Err(format!(
                    "the {field} of {} is {n} bytes, over the limit of {} bytes (--max-attribute-bytes)",
                    what(),
                    self.max_attribute_bytes
                ));
            }
        }
        self.attrs(&scope.attributes, &what)
    }

    fn records(&self, n: u64, what: &str) -> Result<(), String> {
        if n > self.max_records {
            return Err(format!(
                "{n} {what} in one request, over the limit of {} (--max-records): send smaller batches",
                self.max_records
            ));
        }
        Ok(())
    }

    /// Checks a logs request. The error is the 413's message.
    pub fn logs(&self, r: &ExportLogsServiceRequest) -> Result<u64, String> {
        let n = r
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len() as u64)
            .sum();
        self.records(n, "log records")?;
        for (i, rl) in r.resource_logs.iter().enumerate() {
            if let Some(res) = &rl.resource {
                self.attrs(&res.attributes, &|| format!("resource {i}"))?;
            }
            for sl in &rl.scope_logs {
                self.scope(sl.scope.as_ref(), i)?;
                for (j, rec) in sl.log_records.iter().enumerate() {
                    let what = || format!("log record {j} of resource {i}");
                    self.attrs(&rec.attributes, &what)?;
                    let body = value_bytes(rec.body.as_ref());
                    if body > self.max_attribute_bytes {
                        return Err(format!(
                            "the body of {} is {body} bytes, over the limit of {} bytes (--max-attribute-bytes)",
                            what(),
                            self.max_attribute_bytes
                        ));
                    }
                }
            }
        }
        Ok(n)
    }

    /// Checks a traces request (span, span event and resource attributes).
    pub fn traces(&self, r: &ExportTraceServiceRequest) -> Result<u64, String> {
        let n = r
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len() as u64)
            .sum();
        self.records(n, "spans")?;
        for (i, rs) in r.resource_spans.iter().enumerate() {
            if let Some(res) = &rs.resource {
                self.attrs(&res.attributes, &|| format!("resource {i}"))?;
            }
            for ss in &rs.scope_spans {
                self.scope(ss.scope.as_ref(), i)?;
                for (j, span) in ss.spans.iter().enumerate() {
                    let what = || format!("span {j} ({:?}) of resource {i}", truncate(&span.name));
                    self.attrs(&span.attributes, &what)?;
                    for e in &span.events {
                        self.attrs(&e.attributes, &what)?;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Counts a metrics request's data points (not stored; only their number is bounded).
    pub fn metrics(&self, r: &ExportMetricsServiceRequest) -> Result<u64, String> {
        let n = r
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                Some(Data::Histogram(h)) => h.data_points.len(),
                Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                Some(Data::Summary(s)) => s.data_points.len(),
                None => 0,
            } as u64)
            .sum();
        self.records(n, "data points")?;
        Ok(n)
    }
}

/// A key as shown in a message: at most 100 characters.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
