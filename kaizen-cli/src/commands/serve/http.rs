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
use http_body_util::{BodyExt, LengthLimitError, Limited};
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
use tokio::sync::Semaphore;

use super::auth::Tokens;
use super::limits::Limits;
use super::metrics::Metrics;
use super::spool::{Spool, SpoolError};

/// How long a client may take to send its body (a slow client holds a request slot).
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Seconds a client is told to wait on 429 and 503.
const RETRY_AFTER_S: u32 = 5;

/// What every request handler shares.
pub struct App {
    pub tokens: Tokens,
    pub spool: Arc<Spool>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub max_body: u64,
    pub inflight: Semaphore,
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
    Refusal {
        status,
        message: message.into(),
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

pub async fn prometheus(State(app): State<Arc<App>>) -> Response {
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
            tracing::warn!(path = %path, status = r.status.as_u16(), reason = r.reason, message = %r.message, "refused");
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

async fn accept(app: &App, signal: Signal, req: Request) -> Result<Response, Refusal> {
    // Bound memory first: each request in flight holds at most two bodies.
    let _permit = app.inflight.try_acquire().map_err(|_| {
        refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "too many requests at once; retry later",
        )
    })?;
    let host = if app.tokens.is_empty() {
        None
    } else {
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        match app.tokens.name_of(auth) {
            Some(name) => Some(name.to_owned()),
            None => {
                let what = if auth.is_none() {
                    "no Authorization header"
                } else {
                    "an unknown token"
                };
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    "auth",
                    format!("{what}: send `Authorization: Bearer <token>`"),
                ));
            }
        }
    };
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
    let body = read_body(app, req).await?;
    app.metrics.bytes.inc_by(body.len() as u64);
    let body = if gzip {
        gunzip(&body, app.max_body)?
    } else {
        body
    };
    let (mapped, accepted_records) = match signal {
        Signal::Logs => {
            let r: ExportLogsServiceRequest = decode(&body, format)?;
            let n = app.limits.logs(&r).map_err(too_large)?;
            (otel::logs_to_events(&r, host.as_deref()), n)
        }
        Signal::Traces => {
            let r: ExportTraceServiceRequest = decode(&body, format)?;
            let n = app.limits.traces(&r).map_err(too_large)?;
            (otel::spans_to_events(&r, host.as_deref()), n)
        }
        Signal::Metrics => {
            let r: ExportMetricsServiceRequest = decode(&body, format)?;
            let n = app.limits.metrics(&r).map_err(too_large)?;
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
    let message = mapped.first_error.unwrap_or_default();
    Ok(match signal {
        Signal::Logs => ok_response(
            &ExportLogsServiceResponse {
                partial_success: (rejected > 0).then_some(ExportLogsPartialSuccess {
                    rejected_log_records: rejected,
                    error_message: message,
                }),
            },
            format,
        ),
        _ => ok_response(
            &ExportTraceServiceResponse {
                partial_success: (rejected > 0).then_some(ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message,
                }),
            },
            format,
        ),
    })
}

fn too_large(message: String) -> Refusal {
    refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
}

/// The body, at most `max_body` bytes, within [`BODY_TIMEOUT`].
async fn read_body(app: &App, req: Request) -> Result<Vec<u8>, Refusal> {
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
    let limit = usize::try_from(app.max_body).unwrap_or(usize::MAX);
    let collected =
        tokio::time::timeout(BODY_TIMEOUT, Limited::new(req.into_body(), limit).collect()).await;
    match collected {
        Err(_) => Err(refuse(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request body did not arrive in time",
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(over()),
        Ok(Err(e)) => Err(refuse(
            StatusCode::BAD_REQUEST,
            "body",
            format!("reading the request body: {e}"),
        )),
        Ok(Ok(c)) => Ok(c.to_bytes().to_vec()),
    }
}

/// Decompresses a gzip body, refusing one that inflates past `max` bytes (a gzip bomb).
fn gunzip(body: &[u8], max: u64) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(body).take(max + 1);
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
        Format::Json => serde_json::from_slice(body).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                "decode",
                format!("invalid OTLP JSON: {e}"),
            )
        }),
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
