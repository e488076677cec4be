#!/usr/bin/env python3
"""Rewrites one Parquet data file of a kaizen store with another tool, as a user tidying a
day folder would: reads it, writes every row to a new file in the same folder, and deletes
the original (the store's identity rule: a day's events are stored once). Prints, as JSON,
the Arrow type of `payload` that the new file's embedded schema hint (if any) gives.

    rewrite_day.py duckdb|pyarrow|polars FILE.parquet
"""
import json
import os
import sys
import uuid

tool, source = sys.argv[1], sys.argv[2]
folder = os.path.dirname(source)
target = os.path.join(folder, f"rewritten-by-{tool}-{uuid.uuid4().hex}.parquet")

if tool == "duckdb":
    import duckdb

    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{source}')) TO '{target}' (FORMAT parquet)"
    )
elif tool == "pyarrow":
    import pyarrow.parquet as pq

    # A careful user keeps the file's key-value metadata: the rewrite then claims to be
    # kaizen's (writer, schema version, identity group), but another Parquet writer made it.
    table = pq.read_table(source)
    kept = {k: v for k, v in (pq.read_metadata(source).metadata or {}).items() if k != b"ARROW:schema"}
    pq.write_table(table.replace_schema_metadata(kept), target)
elif tool == "polars":
    import polars as pl

    # polars keeps its own string type: the file's embedded Arrow schema says LargeUtf8 (or
    # Utf8View), though its Parquet types are kaizen's.
    pl.read_parquet(source).write_parquet(target)
else:
    sys.exit(f"unknown tool {tool}")

os.remove(source)

import pyarrow.parquet as pq

meta = pq.read_metadata(target).metadata or {}
print(
    json.dumps(
        {
            "path": target,
            "payload_hint": str(pq.read_schema(target).field("payload").type),
            "kaizen_schema_v": (meta.get(b"kaizen_schema_v") or b"").decode(),
        }
    )
)
