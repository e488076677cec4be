"""Sends Claude Code- and Codex-shaped OTLP log records to `kaizen serve` with the
OpenTelemetry Python SDK, and prints the sums it sent as JSON (for the test to compare
with `kaizen report`).

usage: otlp_send.py ENDPOINT TOKEN (protobuf|json) (gzip|none) SESSIONS SEED BASE_NS

Every field of every record is a function of the arguments (times from BASE_NS), so a
run repeated with the same arguments sends the very same records.

protobuf: the SDK's own OTLP/HTTP exporter (opentelemetry-exporter-otlp-proto-http).
json: the same records, encoded by the SDK's OTLP encoder, as OTLP JSON (protobuf's JSON
mapping: camelCase, 64-bit integers as strings, enums as numbers), POSTed by urllib.
"""

import gzip
import json
import random
import sys
import urllib.request

from google.protobuf.json_format import MessageToJson
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource

endpoint, token, fmt, compression, sessions, seed, base_ns = sys.argv[1:8]
sessions, rng = int(sessions), random.Random(int(seed))
headers = {"Authorization": f"Bearer {token}"} if token != "-" else {}
now_ns = int(base_ns)
sums = dict(records=0, tokens_in=0, tokens_out=0, cache_read=0, cache_creation=0, cost_usd_e6=0)


def emit_all(logger_for):
    """Emits every record through the loggers; returns nothing (sums are kept above)."""
    seq = 0
    for s in range(sessions):
        agent = "claude" if s % 2 == 0 else "codex"
        logger = logger_for(agent)
        sid = f"{agent}-{seed}-{s}"
        for i in range(rng.randint(3, 8)):
            seq += 1
            t = now_ns + seq * 1_000_000
            if agent == "claude":
                tin, tout, cr, cc = (rng.randint(1, 5000) for _ in range(4))
                cost_e6 = rng.randint(1, 90_000)
                attrs = {
                    "event.name": "api_request", "session.id": sid, "event.sequence": i,
                    "event.timestamp": "2026-01-01T00:00:00Z", "model": "claude-sonnet-4-5",
                    # strings in some versions, numbers in others: both
                    "input_tokens": str(tin) if i % 2 else tin, "output_tokens": tout,
                    "cache_read_tokens": str(cr), "cache_creation_tokens": cc,
                    "cost_usd": f"{cost_e6 / 1e6:.6f}" if i % 2 else cost_e6 / 1e6,
                    "duration_ms": rng.randint(100, 9000),
                }
                logger.emit(timestamp=t, observed_timestamp=t, body="claude_code.api_request", attributes=attrs)
                sums["tokens_in"] += tin; sums["tokens_out"] += tout
                sums["cache_read"] += cr; sums["cache_creation"] += cc; sums["cost_usd_e6"] += cost_e6
                seq += 1
                logger.emit(timestamp=t + 1, observed_timestamp=t + 1, body="claude_code.tool_result", attributes={
                    "event.name": "tool_result", "session.id": sid, "event.sequence": 1000 + i,
                    "tool_name": "Bash", "success": "true" if i % 3 else "false", "duration_ms": "12"})
                sums["records"] += 2
            else:
                cached = rng.randint(0, 3000)
                tin = rng.randint(0, 3000)
                reasoning = rng.randint(0, 500)
                tout = reasoning + rng.randint(0, 800)
                attrs = {
                    "event.name": "codex.sse_event", "event.kind": "response.completed",
                    "conversation.id": sid, "model": "gpt-5-codex",
                    "input_token_count": tin + cached, "cached_token_count": cached,
                    "output_token_count": str(tout), "reasoning_token_count": reasoning,
                }
                logger.emit(timestamp=t, observed_timestamp=t, body="codex.sse_event", attributes=attrs)
                sums["tokens_in"] += tin; sums["tokens_out"] += tout; sums["cache_read"] += cached
                sums["records"] += 1


def provider(processor_for, agent):
    service = "claude-code" if agent == "claude" else "codex_cli_rs"
    # The SDK draws a random service.instance.id per process: fixed here, so that a
    # repeated run is the same export (an exporter's own retries keep theirs).
    p = LoggerProvider(resource=Resource.create(
        {"service.name": service, "service.version": "1.0.0", "service.instance.id": f"instance-{seed}"}))
    p.add_log_record_processor(processor_for())
    return p


if fmt == "protobuf":
    comp = Compression.Gzip if compression == "gzip" else Compression.NoCompression
    exporters = []

    class Checked(OTLPLogExporter):
        def export(self, batch):
            result = super().export(batch)
            if result != LogRecordExportResult.SUCCESS:
                sys.exit(f"export failed: {result}")
            return result

    def processor():
        e = Checked(endpoint=endpoint + "/v1/logs", headers=headers, compression=comp, timeout=10)
        exporters.append(e)
        return SimpleLogRecordProcessor(e)

    providers = {a: provider(processor, a) for a in ("claude", "codex")}
    emit_all(lambda a: providers[a].get_logger("com.anthropic.claude_code.events" if a == "claude" else "codex_otel"))
    for p in providers.values():
        p.force_flush()
        p.shutdown()
else:
    memory = InMemoryLogRecordExporter()
    providers = {a: provider(lambda: SimpleLogRecordProcessor(memory), a) for a in ("claude", "codex")}
    emit_all(lambda a: providers[a].get_logger("events"))
    request = encode_logs(memory.get_finished_logs())
    body = MessageToJson(request, use_integers_for_enums=True).encode()
    h = dict(headers, **{"Content-Type": "application/json"})
    if compression == "gzip":
        body = gzip.compress(body)
        h["Content-Encoding"] = "gzip"
    req = urllib.request.Request(endpoint + "/v1/logs", data=body, headers=h, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        answer = json.loads(r.read() or b"{}")
        if r.status != 200 or (answer.get("partialSuccess") or {}).get("rejectedLogRecords"):
            sys.exit(f"export failed: {r.status} {answer}")

print(json.dumps(sums))
