"""DuckDB's side of `kaizen bench`: one phase per process, so that each phase's peak memory
is its own. Run by kaizen as `python3 -c <this> PHASE ARGS...`. Prints a line MARK, then the
seconds the work took (the interpreter's start left out), then the result.

  ingest EVENTS_JSONL OUT_DIR   JSON Lines -> day-partitioned ZSTD Parquet (the v1 columns)
  rows OUT_DIR SQL              runs SQL over a view `events` of OUT_DIR; the rows as CSV
  count OUT_DIR SQL             the same; the number of rows it read
"""
import sys
import time

import duckdb

MARK = "@@ kaizen bench"
# DuckDB draws a progress bar on standard output for long queries.
duckdb.execute("SET enable_progress_bar = false")

# The v1 columns and their types (shared/docs/seed-format-v1.md).
COLUMNS = {
    "session_id": "VARCHAR", "seq": "UBIGINT", "ts_ms": "UBIGINT", "ts_exact": "BOOLEAN",
    "kind": "VARCHAR", "source": "VARCHAR", "tool": "VARCHAR", "tool_call_id": "VARCHAR",
    "tokens_in": "UINTEGER", "tokens_out": "UINTEGER", "reasoning_tokens": "UINTEGER",
    "cost_usd_e6": "BIGINT", "payload": "JSON", "stop_reason": "VARCHAR",
    "latency_ms": "UINTEGER", "ttft_ms": "UINTEGER", "retry_count": "USMALLINT",
    "context_used_tokens": "UINTEGER", "context_max_tokens": "UINTEGER",
    "cache_creation_tokens": "UINTEGER", "cache_read_tokens": "UINTEGER",
    "system_prompt_tokens": "UINTEGER",
}


def ingest(events, out):
    started = time.perf_counter()
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    duckdb.sql(
        f"""COPY (
              SELECT *, CAST(epoch_ms(CAST(ts_ms AS BIGINT)) AS DATE) AS day
              FROM read_json('{events}', format = 'newline_delimited', columns = {columns})
            ) TO '{out}' (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd)"""
    )
    print(MARK)
    print(time.perf_counter() - started)


def query(out, sql, count):
    started = time.perf_counter()
    duckdb.sql(
        f"CREATE VIEW events AS SELECT * FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true)"
    )
    if count:
        rows = [str(sum(batch.num_rows for batch in duckdb.sql(sql).to_arrow_reader()))]
    else:
        rows = [",".join(str(v) for v in row) for row in duckdb.sql(sql).fetchall()]
    print(MARK)
    print(time.perf_counter() - started)
    print("\n".join(rows))


if __name__ == "__main__":
    phase, args = sys.argv[1], sys.argv[2:]
    if phase == "ingest":
        ingest(*args)
    else:
        query(*args, count=phase == "count")
