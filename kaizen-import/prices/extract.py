#!/usr/bin/env python3
"""Extracts kaizen-import's price table from LiteLLM's model price table.

usage: python3 -m pip download litellm==VERSION --no-deps -d /tmp/litellm
       (cd /tmp/litellm && unzip -o -q litellm-*.whl \
            litellm/model_prices_and_context_window_backup.json)
       python3 extract.py VERSION /tmp/litellm/litellm/model_prices_and_context_window_backup.json \
            > litellm-VERSION.json

Keeps the chat models of Anthropic (claude-*), OpenAI (gpt-*, o1/o3/o4*, codex*) and
Google (gemini-*) under their plain names (no provider prefix, no regional copies), and
per model only the per-token prices an importer uses: input, output, cache read,
5-minute cache write, 1-hour cache write, and their long-context tiers (above_200k /
above_272k). Prices are US dollars per token, exactly as LiteLLM writes them.
"""
import json
import re
import sys

version, path = sys.argv[1], sys.argv[2]
table = json.load(open(path))
BASE = ["input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
        "cache_creation_input_token_cost", "cache_creation_input_token_cost_above_1hr"]
TIER = re.compile(r"^(%s)_above_(\d+)k_tokens$" % "|".join(BASE))
NAME = re.compile(r"^(claude-|gpt-|o1|o3|o4|codex|gemini-)")
models = {}
for name, entry in sorted(table.items()):
    if not NAME.match(name) or "/" in name or not isinstance(entry, dict):
        continue
    if entry.get("mode") not in ("chat", "responses", None):
        continue
    keep = {}
    for key, value in entry.items():
        if not isinstance(value, (int, float)):
            continue
        if key in BASE or TIER.match(key):
            keep[key] = value
    if "input_cost_per_token" in keep and "output_cost_per_token" in keep:
        models[name] = keep
out = {"source": "litellm %s model_prices_and_context_window_backup.json" % version,
       "version": "litellm-%s" % version, "unit": "USD per token", "models": models}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
