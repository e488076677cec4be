#!/usr/bin/env python3
"""Reads a kaizen store with DuckDB, pyarrow and polars, unchanged, and prints what each
sees as JSON: rows, distinct sessions, cost and token sums, the characters of payloads and
of call ids, rows per day, and rows per model (the derived `model` column of schema 2).

    read_store.py STORE_DIR
"""
import json
import sys

store = sys.argv[1].rstrip("/")
files = f"{store}/cold/events/day=*/*.parquet"
out = {}

import duckdb

con = duckdb.connect()
rel = f"read_parquet('{files}', hive_partitioning = true)"
rows, sessions, cost, tin, tout, payload_chars, call_id_chars = con.execute(
    f"SELECT count(*), count(DISTINCT session_id), sum(cost_usd_e6), sum(tokens_in), sum(tokens_out), "
    f"sum(length(payload)), sum(length(tool_call_id)) FROM {rel}"
).fetchone()
days = con.execute(f"SELECT CAST(day AS VARCHAR), count(*) FROM {rel} GROUP BY day ORDER BY day").fetchall()
models = con.execute(f"SELECT model, count(*) FROM {rel} WHERE model IS NOT NULL GROUP BY model").fetchall()
out["duckdb"] = {"rows": rows, "sessions": sessions, "cost_usd_e6": int(cost), "tokens_in": int(tin),
                 "tokens_out": int(tout), "payload_chars": int(payload_chars),
                 "call_id_chars": int(call_id_chars), "days": {d: n for d, n in days},
                 "models": {m: n for m, n in models}}

import pyarrow.compute as pc
import pyarrow.dataset as ds

table = ds.dataset(f"{store}/cold/events", format="parquet", partitioning="hive").to_table()
day_counts = table.group_by("day").aggregate([("seq", "count")]).to_pylist()
out["pyarrow"] = {
    "rows": table.num_rows,
    "sessions": len(pc.unique(table["session_id"])),
    "cost_usd_e6": pc.sum(table["cost_usd_e6"]).as_py(),
    "tokens_in": pc.sum(table["tokens_in"]).as_py(),
    "tokens_out": pc.sum(table["tokens_out"]).as_py(),
    "payload_chars": pc.sum(pc.utf8_length(table["payload"])).as_py(),
    "call_id_chars": pc.sum(pc.utf8_length(table["tool_call_id"])).as_py(),
    "days": {str(r["day"]): r["seq_count"] for r in day_counts},
    "models": {r["model"]: r["seq_count"] for r in table.group_by("model").aggregate([("seq", "count")]).to_pylist()
               if r["model"] is not None},
}

import polars as pl

lf = pl.scan_parquet(files, hive_partitioning=True)
totals = lf.select(
    pl.len().alias("rows"),
    pl.col("session_id").n_unique().alias("sessions"),
    pl.col("cost_usd_e6").sum().alias("cost"),
    pl.col("tokens_in").cast(pl.Int64).sum().alias("tin"),
    pl.col("tokens_out").cast(pl.Int64).sum().alias("tout"),
    pl.col("payload").str.len_chars().sum().alias("payload_chars"),
    pl.col("tool_call_id").str.len_chars().sum().alias("call_id_chars"),
).collect().row(0)
per_day = lf.group_by("day").agg(pl.len().alias("n")).collect()
per_model = lf.filter(pl.col("model").is_not_null()).group_by("model").agg(pl.len().alias("n")).collect()
out["polars"] = {
    "rows": totals[0], "sessions": totals[1], "cost_usd_e6": totals[2], "tokens_in": totals[3],
    "tokens_out": totals[4], "payload_chars": totals[5], "call_id_chars": totals[6],
    "days": {str(d): n for d, n in per_day.iter_rows()},
    "models": {m: n for m, n in per_model.iter_rows()},
}

print(json.dumps(out))
