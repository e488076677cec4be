//! The HTTP routes: OTLP/HTTP `POST /v1/logs`, `/v1/traces`, `/v1/metrics` (protobuf or
//! JSON, gzip or not), `GET /healthz`, `GET /metrics`.
//!
//! Status codes follow the OTLP/HTTP specification: 200 with a partial success naming
//! rejected records; 400 for a body that does not decode; 401 without a valid token; 413
//! over a bound; 415 for another content type or encoding; 429 (too many requests at
//! once) and 503 (spool full or failing, shutting down) with `Retry-After`, which OTLP
//! exporters retry. Error bodies are a `google.rpc.Status`, in the request's format.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use kaizen_import::otel::proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use kaizen_import::otel::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use kaizen_import::otel::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use kaizen_import::otel::{self, Mapped};
use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::auth::Tokens;
use super::limits::Limits;
use super::metrics::Metrics;
use super::spool::{Spool, SpoolError};

/// How long a client may take to send its body. A slow body holds only the memory of
/// what has arrived (see [`App::body_budget`]), not a request slot.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Most bytes a body's buffer is sized for from its declared length, before they arrive.
const INITIAL_BODY_CAPACITY: u64 = 64 << 10;

/// Longest message of an error response (a serde error on a deeply nested body can be long).
const MAX_MESSAGE_CHARS: usize = 1_000;

/// How far past the server's clock a record's time may be (a client's clock may be off;
/// a time years ahead is a wrong field, and would sit in a day no report reads).
const MAX_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// Seconds a client is told to wait on 429 and 503.
const RETRY_AFTER_S: u32 = 5;

/// What every request handler shares.
pub struct App {
    pub tokens: Tokens,
    pub spool: Arc<Spool>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub max_body: u64,
    /// Requests being decoded and spooled at once (`--max-inflight`): 429 beyond.
    pub inflight: Semaphore,
    /// Bodies in memory, in KiB: `--max-inflight` × `--max-body`. A body takes its bytes
    /// from it as they arrive, so a slow sender holds what it sent, and no request slot.
    pub body_budget: Arc<Semaphore>,
    /// Refusals logged: at most one line a second per reason.
    pub refusal_log: RefusalLog,
}

/// The body budget in KiB for `max_inflight` bodies of `max_body` bytes.
pub fn body_budget(max_inflight: usize, max_body: u64) -> Arc<Semaphore> {
    let kib = (max_inflight as u64)
        .saturating_mul(max_body.div_ceil(1024))
        .min(Semaphore::MAX_PERMITS as u64);
    Arc::new(Semaphore::new(kib as usize))
}

/// Logs refused requests at most once a second per reason, with how many were not
/// logged since: a flood of bad tokens must not become a flood of log lines (each is
/// counted in `/metrics` anyway).
#[derive(Default)]
pub struct RefusalLog(
    std::sync::Mutex<std::collections::HashMap<&'static str, (std::time::Instant, u64)>>,
);

impl RefusalLog {
    /// Whether to log a refusal for `reason` now, and how many went unlogged before it.
    fn admit(&self, reason: &'static str) -> Option<u64> {
        let mut seen = self.0.lock().ok()?;
        let now = std::time::Instant::now();
        match seen.get_mut(reason) {
            Some((last, skipped)) if now.duration_since(*last) < Duration::from_secs(1) => {
                *skipped += 1;
                None
            }
            Some((last, skipped)) => {
                *last = now;
                Some(std::mem::take(skipped))
            }
            None => {
                seen.insert(reason, (now, 0));
                Some(0)
            }
        }
    }
}

/// `google.rpc.Status`, the body of OTLP/HTTP error responses. opentelemetry-proto does
/// not generate it; these are its first two fields, as googleapis defines them (the third,
/// `details`, is left empty).
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
pub struct Status {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Protobuf,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub enum Signal {
    Logs,
    Traces,
    Metrics,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
        }
    }
}

/// A refused request: its status, message, and the reason counted in `/metrics`.
struct Refusal {
    status: StatusCode,
    message: String,
    reason: &'static str,
}

fn refuse(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Refusal {
    let mut message = message.into();
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(cut);
        message.push('…');
    }
    Refusal {
        status,
        message,
        reason,
    }
}

pub async fn logs(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(&app, Signal::Logs, req).await
}

pub async fn traces(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(&app, Signal::Traces, req).await
}

pub async fn metrics_otlp(State(app): State<Arc<App>>, req: Request) -> Response {
    handle(&app, Signal::Metrics, req).await
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The routes there are, for a 404 or 405.
const ROUTES: &str =
    "POST /v1/logs, POST /v1/traces, POST /v1/metrics (OTLP/HTTP); GET /healthz, GET /metrics";

pub async fn not_found(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!(
            "no route {} {}: the routes are {ROUTES}\n",
            req.method(),
            req.uri().path()
        ),
    )
        .into_response()
}

pub async fn method_not_allowed(req: Request) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}: the routes are {ROUTES}\n",
            req.method(),
            req.uri().path()
        ),
    )
        .into_response()
}

/// `/metrics`: behind the same tokens as the OTLP routes, when there are any.
pub async fn prometheus(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&app, &headers) {
        app.metrics.reject(r.reason);
        return (r.status, [(header::WWW_AUTHENTICATE, "Bearer")], r.message).into_response();
    }
    let (bytes, segments) = app.spool.depth();
    app.metrics
        .spool_bytes
        .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    app.metrics.spool_segments.set(segments as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn handle(app: &App, signal: Signal, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let format = format_of(req.headers());
    let response = match accept(app, signal, req).await {
        Ok(r) => r,
        Err(r) => {
            app.metrics.reject(r.reason);
            if let Some(not_logged) = app.refusal_log.admit(r.reason) {
                tracing::warn!(path = %path, status = r.status.as_u16(), reason = r.reason, message = %r.message, not_logged, "refused");
            }
            error_response(r, format.unwrap_or(Format::Protobuf))
        }
    };
    let labels = vec![
        ("path".to_owned(), path),
        ("code".to_owned(), response.status().as_u16().to_string()),
    ];
    app.metrics.requests.get_or_create(&labels).inc();
    response
}

fn format_of(headers: &HeaderMap) -> Option<Format> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = ct.split(';').next()?.trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-protobuf" => Some(Format::Protobuf),
        "application/json" => Some(Format::Json),
        _ => None,
    }
}

/// The sender's name (the events' `host`): `None` when the server has no tokens.
fn authorize(app: &App, headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    if app.tokens.is_empty() {
        return Ok(None);
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match app.tokens.name_of(auth) {
        Some(name) => Ok(Some(name.to_owned())),
        None => {
            let what = if auth.is_none() {
                "no Authorization header"
            } else {
                "an unknown token"
            };
            Err(refuse(
                StatusCode::UNAUTHORIZED,
                "auth",
                format!("{what}: send `Authorization: Bearer <token>`"),
            ))
        }
    }
}

async fn accept(app: &App, signal: Signal, req: Request) -> Result<Response, Refusal> {
    // Everything the head says first: nothing of the body is read for a request refused.
    let host = authorize(app, req.headers())?;
    let format = format_of(req.headers()).ok_or_else(|| {
        refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "Content-Type must be application/x-protobuf or application/json",
        )
    })?;
    let gzip = match req
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
    {
        None => false,
        Some(e) if e.is_empty() || e == "identity" => false,
        Some(e) if e == "gzip" => true,
        Some(e) => {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content_encoding",
                format!("Content-Encoding {e:?} is not supported (gzip or none)"),
            ));
        }
    };
    let (body, _body_memory) = read_body(app, req).await?;
    app.metrics.bytes.inc_by(body.len() as u64);
    // Then a request slot: decoding takes a few times the body's memory, and CPU.
    let _slot = app.inflight.try_acquire().map_err(|_| {
        refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "too many requests at once (--max-inflight); retry later",
        )
    })?;
    // Inflating, decoding and mapping are CPU work: off the async threads, so that
    // `/healthz` and the other connections are answered while a large body decodes.
    let (limits, max_body, for_mapping) = (app.limits, app.max_body, host.clone());
    let decoded = tokio::task::spawn_blocking(move || {
        decode_request(
            signal,
            format,
            gzip,
            body,
            max_body,
            limits,
            for_mapping.as_deref(),
        )
    })
    .await
    .map_err(|e| {
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "decode_task",
            format!("decoding the request failed: {e}"),
        )
    })??;
    let (mapped, accepted_records) = match decoded {
        Decoded::Events(mapped, n) => (mapped, n),
        Decoded::Metrics(n) => {
            app.metrics.add_records("metrics", "not_stored", n);
            let partial = (n > 0).then(|| ExportMetricsPartialSuccess {
                rejected_data_points: i64::try_from(n).unwrap_or(i64::MAX),
                error_message: "kaizen serve does not store metrics: the same figures come with the log records (OTEL_LOGS_EXPORTER)".into(),
            });
            return Ok(ok_response(
                &ExportMetricsServiceResponse {
                    partial_success: partial,
                },
                format,
            ));
        }
    };
    spool(app, &mapped).await?;
    let stored = mapped.events.len() as u64;
    app.metrics.add_records(signal.name(), "stored", stored);
    app.metrics
        .add_records(signal.name(), "rejected", mapped.rejected);
    tracing::debug!(
        signal = signal.name(),
        records = accepted_records,
        stored,
        rejected = mapped.rejected,
        host = host.as_deref(),
        "accepted"
    );
    let rejected = i64::try_from(mapped.rejected).unwrap_or(i64::MAX);
    // A message with nothing rejected is a warning, as the specification allows.
    let partial = rejected > 0 || mapped.first_error.is_some();
    let message = mapped.first_error.unwrap_or_default();
    Ok(match signal {
        Signal::Logs => ok_response(
            &ExportLogsServiceResponse {
                partial_success: partial.then_some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: message,
                }),
            },
            format,
        ),
        _ => ok_response(
            &ExportTraceServiceResponse {
                partial_success: partial.then_some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message,
                }),
            },
            format,
        ),
    })
}

/// A decoded request: its events and how many records it held, or a metrics request's
/// data points (not stored).
enum Decoded {
    Events(Mapped, u64),
    Metrics(u64),
}

/// Inflates (gzip), decodes, bounds and maps a request body (CPU work, on a blocking
/// thread). Records dated far ahead are rejected; a JSON body of no record is warned.
fn decode_request(
    signal: Signal,
    format: Format,
    gzip: bool,
    body: Vec<u8>,
    max_body: u64,
    limits: Limits,
    host: Option<&str>,
) -> Result<Decoded, Refusal> {
    let body = if gzip { gunzip(&body, max_body)? } else { body };
    let (mut mapped, n) = match signal {
        Signal::Logs => {
            let r: ExportLogsServiceRequest = decode(&body, format)?;
            let n = limits.logs(&r).map_err(too_large)?;
            (otel::logs_to_events(&r, host), n)
        }
        Signal::Traces => {
            let r: ExportTraceServiceRequest = decode(&body, format)?;
            let n = limits.traces(&r).map_err(too_large)?;
            (otel::spans_to_events(&r, host), n)
        }
        Signal::Metrics => {
            let r: ExportMetricsServiceRequest = decode(&body, format)?;
            return Ok(Decoded::Metrics(limits.metrics(&r).map_err(too_large)?));
        }
    };
    refuse_far_future(&mut mapped);
    if mapped.events.is_empty() && mapped.rejected == 0 && format == Format::Json {
        mapped.first_error = empty_json_warning(&body);
    }
    Ok(Decoded::Events(mapped, n))
}

fn too_large(message: String) -> Refusal {
    refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
}

/// The body, at most `max_body` bytes, within [`BODY_TIMEOUT`], and the part of the body
/// budget it holds (released when the request is done with it). A body that finds the
/// budget spent is refused with 429: the server holds as many bodies as it may.
async fn read_body(
    app: &App,
    req: Request,
) -> Result<(Vec<u8>, Option<OwnedSemaphorePermit>), Refusal> {
    let over = || {
        too_large(format!(
            "the request body is over the limit of {} bytes (--max-body): send smaller batches",
            app.max_body
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_body) {
        return Err(over());
    }
    // The budget is taken as bytes arrive, never for a declared length: 64 heads that
    // declare 16 MiB each and send nothing would otherwise hold all of it.
    let mut memory = BodyMemory::default();
    let mut body = Vec::with_capacity(
        usize::try_from(declared.unwrap_or(0).min(INITIAL_BODY_CAPACITY)).unwrap_or(0),
    );
    let mut stream = req.into_body();
    let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
    loop {
        let frame = match tokio::time::timeout_at(deadline, stream.frame()).await {
            Err(_) => {
                return Err(refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    format!(
                        "the request body did not arrive within {} s",
                        BODY_TIMEOUT.as_secs()
                    ),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "body",
                    format!("reading the request body: {e}"),
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let len = body.len() as u64 + data.len() as u64;
        if len > app.max_body {
            return Err(over());
        }
        memory.reserve(app, len)?;
        body.extend_from_slice(&data);
    }
    Ok((body, memory.permit))
}

/// What a body being read holds of [`App::body_budget`], in KiB.
#[derive(Default)]
struct BodyMemory {
    permit: Option<OwnedSemaphorePermit>,
    kib: u64,
}

impl BodyMemory {
    /// Holds enough of the budget for `bytes` in all (429 when it is spent).
    fn reserve(&mut self, app: &App, bytes: u64) -> Result<(), Refusal> {
        let more = bytes.div_ceil(1024).saturating_sub(self.kib);
        if more == 0 {
            return Ok(());
        }
        let busy = || {
            refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "the server holds as many request bodies as it may (--max-inflight x --max-body); retry later",
            )
        };
        let n = u32::try_from(more).map_err(|_| busy())?;
        let permit = app
            .body_budget
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| busy())?;
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        self.kib += more;
        Ok(())
    }
}

/// Records dated more than [`MAX_AHEAD_MS`] past the server's clock are rejected (counted
/// in the partial success, the first named).
fn refuse_far_future(mapped: &mut Mapped) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let horizon = now_ms.saturating_add(MAX_AHEAD_MS);
    let before = mapped.events.len();
    let mut first = None;
    mapped.events.retain(|e| {
        if e.ts_ms <= horizon {
            return true;
        }
        first.get_or_insert(e.ts_ms);
        false
    });
    let dropped = (before - mapped.events.len()) as u64;
    if let Some(ts_ms) = first {
        mapped.rejected += dropped;
        mapped.first_error.get_or_insert_with(|| {
            format!(
                "a record's time ({ts_ms} ms since the epoch) is more than a day past the server's clock: its timeUnixNano is wrong"
            )
        });
    }
}

/// The warning for a JSON request that decoded to no record although it is not empty:
/// OTLP/JSON ignores unknown keys, so `resource_logs` (snake_case) silently holds nothing.
fn empty_json_warning(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let keys = value.as_object()?;
    if keys.is_empty() {
        return None;
    }
    let names: Vec<&str> = keys.keys().map(String::as_str).take(5).collect();
    Some(format!(
        "the request holds no record: its keys ({}) are not OTLP/JSON's, which are lowerCamelCase (resourceLogs, scopeLogs, logRecords; resourceSpans); unknown keys are ignored",
        names.join(", ")
    ))
}

/// Decompresses a gzip body, refusing one that inflates past `max` bytes (a gzip bomb).
/// Members may follow one another (RFC 1952); anything else after the last is an error.
fn gunzip(body: &[u8], max: u64) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let mut reader = flate2::bufread::MultiGzDecoder::new(body).take(max + 1);
    reader.read_to_end(&mut out).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "gzip",
            format!("the body is not valid gzip: {e}"),
        )
    })?;
    if out.len() as u64 > max {
        return Err(too_large(format!(
            "the body inflates past the limit of {max} bytes (--max-body): send smaller batches"
        )));
    }
    Ok(out)
}

fn decode<T: Message + Default + serde::de::DeserializeOwned>(
    body: &[u8],
    format: Format,
) -> Result<T, Refusal> {
    match format {
        Format::Protobuf => T::decode(body).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                "decode",
                format!("invalid OTLP protobuf: {e}"),
            )
        }),
        Format::Json => serde_json::from_slice(body).or_else(|e| {
            // proto3's JSON mapping lets a double be a string ("1.5", "NaN", "Infinity",
            // as Python's json_format writes a NaN); the generated types take numbers
            // only. Read again with such values made numbers (or, for NaN and the
            // infinities, which JSON numbers cannot hold, kept as the string).
            let retried = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .filter(|_| names_double_value(body))
                .and_then(|mut value| {
                    doubles_as_numbers(&mut value);
                    serde_json::from_value::<T>(value).ok()
                });
            retried.ok_or_else(|| {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "decode",
                    format!("invalid OTLP JSON: {e}"),
                )
            })
        }),
    }
}

/// Whether a JSON body names `doubleValue` at all (else there is nothing to read again).
fn names_double_value(body: &[u8]) -> bool {
    body.windows(b"doubleValue".len())
        .any(|w| w == b"doubleValue")
}

/// Rewrites every `"doubleValue": "<text>"` of an OTLP JSON value: a finite number becomes
/// a JSON number; `NaN` and the infinities become `"stringValue"` (JSON has no number for
/// them). Anything that is not a number is left for the decoder to refuse.
fn doubles_as_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let text = match map.get("doubleValue") {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                _ => None,
            };
            if let Some(text) = text
                && let Ok(n) = text.trim().parse::<f64>()
            {
                match serde_json::Number::from_f64(n) {
                    Some(n) => {
                        map.insert("doubleValue".into(), serde_json::Value::Number(n));
                    }
                    None => {
                        map.remove("doubleValue");
                        map.insert("stringValue".into(), serde_json::Value::String(text));
                    }
                }
            }
            map.values_mut().for_each(doubles_as_numbers);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(doubles_as_numbers),
        _ => {}
    }
}

/// Writes the events to the spool; answers only once they are fsynced.
async fn spool(app: &App, mapped: &Mapped) -> Result<(), Refusal> {
    if mapped.events.is_empty() {
        return Ok(());
    }
    let mut lines = Vec::new();
    for e in &mapped.events {
        lines.extend_from_slice(e.to_json().as_bytes());
        lines.push(b'\n');
    }
    app.spool.append(lines).await.map_err(|e| {
        let (status, reason) = match e {
            SpoolError::Full { .. } => (StatusCode::SERVICE_UNAVAILABLE, "spool_full"),
            SpoolError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "spool_too_small"),
            SpoolError::Io(_) => (StatusCode::SERVICE_UNAVAILABLE, "spool_io"),
            SpoolError::Closed => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
        };
        refuse(status, reason, e.to_string())
    })
}

fn ok_response<T: Message + serde::Serialize>(msg: &T, format: Format) -> Response {
    encode(StatusCode::OK, msg, format)
}

fn encode<T: Message + serde::Serialize>(status: StatusCode, msg: &T, format: Format) -> Response {
    let (ct, body) = match format {
        Format::Protobuf => ("application/x-protobuf", msg.encode_to_vec()),
        Format::Json => (
            "application/json",
            serde_json::to_vec(msg).unwrap_or_default(),
        ),
    };
    (status, [(header::CONTENT_TYPE, ct)], Body::from(body)).into_response()
}

fn error_response(r: Refusal, format: Format) -> Response {
    // gRPC codes, as google.rpc.Status carries them.
    let code = match r.status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3, // INVALID_ARGUMENT
        StatusCode::UNAUTHORIZED => 16,                                    // UNAUTHENTICATED
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS => 8, // RESOURCE_EXHAUSTED
        StatusCode::REQUEST_TIMEOUT => 4,                                  // DEADLINE_EXCEEDED
        _ => 14,                                                           // UNAVAILABLE
    };
    let status = r.status;
    let mut response = encode(
        status,
        &Status {
            code,
            message: r.message,
        },
        format,
    );
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
    }
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
