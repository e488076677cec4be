//! A realistic, deterministic corpus of agent events with the distributions of
//! `shared/tools/gen_events.py`: sessions of exponential length that interleave in time and
//! cross midnight, tool calls followed by their results, messages with token counts and
//! cost, occasional errors and cost records, payloads with non-ASCII text.
//!
//! Each session draws from its own seeded generator and the sessions are merged by time,
//! so the corpus streams in `(ts_ms, session_id, seq)` order in bounded memory.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use kaizen_core::{Event, EventKind, EventSource, Payload, UtcDay};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// 2026-10-01, the first day of `gen_events.py`.
pub const DEFAULT_START: UtcDay = UtcDay::from_days_since_epoch(20_727);
const DAY_MS: u64 = 86_400_000;
const MEAN_SESSION: f64 = 400.0;

const TOOLS: [&str; 10] = [
    "read_file",
    "edit_file",
    "bash",
    "grep",
    "glob",
    "write_file",
    "web_fetch",
    "todo_write",
    "list_dir",
    "run_tests",
];
const AGENTS: [(&str, &str); 5] = [
    ("claude-code", "claude-sonnet-4-5"),
    ("cursor", "gpt-5"),
    ("codex", "gpt-5-codex"),
    ("gemini-cli", "gemini-2.5-pro"),
    ("opencode", "claude-opus-4-1"),
];
const STOPS: [&str; 4] = ["end_turn", "tool_use", "max_tokens", "stop_sequence"];
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "fn",
    "let",
    "mut",
    "impl",
    "struct",
    "match",
    "return",
    "error",
    "result",
    "ok",
    "some",
    "none",
    "async",
    "await",
    "self",
    "crate",
    "mod",
    "use",
    "pub",
    "trait",
    "where",
    "parquet",
    "arrow",
    "batch",
    "schema",
    "column",
    "row",
    "group",
    "partition",
    "day",
    "bucket",
    "object",
    "store",
    "retry",
    "timeout",
    "latency",
    "token",
    "cost",
    "session",
    "agent",
    "tool",
    "call",
    "message",
    "hook",
    "données",
    "résumé",
    "naïve",
    "東京",
    "데이터",
    "🚀",
    "✓",
    "ünïcödé",
];
const LIFECYCLE: [&str; 5] = [
    "todo_write",
    "mode_transition",
    "compaction",
    "session_start",
    "session_end",
];
const HOOKS: [&str; 5] = [
    "PreToolUse",
    "PostToolUse",
    "UserPromptSubmit",
    "Stop",
    "SubagentStop",
];
const ERRORS: [&str; 5] = [
    "rate_limited",
    "overloaded",
    "context_length_exceeded",
    "tool_timeout",
    "invalid_request",
];
/// What follows a tool result: mostly another tool call, then messages, rarely the rest.
const AFTER_TOOL: [EventKind; 11] = [
    EventKind::ToolCall,
    EventKind::ToolCall,
    EventKind::ToolCall,
    EventKind::ToolCall,
    EventKind::ToolCall,
    EventKind::ToolCall,
    EventKind::Message,
    EventKind::Message,
    EventKind::Message,
    EventKind::Lifecycle,
    EventKind::Hook,
];

/// The corpus as an iterator of events in store order.
pub struct Corpus {
    sessions: Vec<Session>,
    /// The next event of each session, keyed by sort key.
    heads: BinaryHeap<Reverse<(u64, String, u64, usize)>>,
    next: Vec<Option<Event>>,
}

impl Corpus {
    pub fn new(events: u64, days: u32, start: UtcDay, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sessions = Vec::new();
        let mut left = events;
        while left > 0 {
            let u: f64 = rng.random();
            let n = ((-(1.0 - u).ln() * MEAN_SESSION) as u64).max(1).min(left);
            let (agent, model) = AGENTS[rng.random_range(0..AGENTS.len())];
            let start_ms = start.start_ms() + rng.random_range(0..u64::from(days) * DAY_MS);
            let id = format!("{agent}-{:08x}-{:04}", rng.random::<u32>(), sessions.len());
            let session_seed = rng.random();
            sessions.push(Session::new(id, start_ms, n, agent, model, session_seed));
            left -= n;
        }
        let mut corpus = Corpus {
            heads: BinaryHeap::with_capacity(sessions.len()),
            next: vec![None; sessions.len()],
            sessions,
        };
        for i in 0..corpus.sessions.len() {
            corpus.advance(i);
        }
        corpus
    }

    fn advance(&mut self, i: usize) {
        if let Some(e) = self.sessions[i].next_event() {
            self.heads
                .push(Reverse((e.ts_ms, e.session_id.clone(), e.seq, i)));
            self.next[i] = Some(e);
        }
    }
}

impl Iterator for Corpus {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let Reverse((_, _, _, i)) = self.heads.pop()?;
        let event = self.next[i].take();
        self.advance(i);
        event
    }
}

struct Session {
    rng: ChaCha8Rng,
    id: String,
    agent: &'static str,
    model: &'static str,
    n: u64,
    seq: u64,
    ts: u64,
    context: u32,
    pending_tool: Option<(&'static str, String)>,
    kind: EventKind,
    queued: VecDeque<Event>,
}

impl Session {
    fn new(
        id: String,
        start_ms: u64,
        n: u64,
        agent: &'static str,
        model: &'static str,
        seed: u64,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Session {
            context: rng.random_range(2_000..=12_000),
            rng,
            id,
            agent,
            model,
            n,
            seq: 0,
            ts: start_ms,
            pending_tool: None,
            kind: EventKind::Message,
            queued: VecDeque::new(),
        }
    }

    fn text(&mut self, lo: usize, hi: usize) -> String {
        let n = self.rng.random_range(lo..=hi);
        (0..n)
            .map(|_| *WORDS.choose(&mut self.rng).unwrap_or(&WORDS[0]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn base(&mut self, kind: EventKind, source: EventSource) -> Event {
        let mut e = Event::new(self.id.clone(), self.seq, self.ts, kind, source);
        e.ts_exact = self.rng.random::<f64>() > 0.03;
        e
    }

    fn next_event(&mut self) -> Option<Event> {
        if let Some(e) = self.queued.pop_front() {
            return Some(e);
        }
        if self.seq >= self.n {
            return None;
        }
        self.ts += self.rng.random_range(150..=25_000);
        let source = match self.rng.random_range(0..10) {
            0..6 => EventSource::Tail,
            6..8 => EventSource::Hook,
            _ => EventSource::Proxy,
        };
        let e = if let Some((tool, call_id)) = self.pending_tool.take() {
            let mut e = self.base(EventKind::ToolResult, source);
            e.tool = Some(tool.into());
            e.tool_call_id = Some(call_id);
            e.latency_ms = Some(self.rng.random_range(3..=40_000));
            let ok = self.rng.random::<f64>() > 0.06;
            let output = self.text(5, 200);
            let bytes = self.rng.random_range(0..=200_000);
            e.payload = Payload::from_value(&json!({"ok": ok, "output": output, "bytes": bytes}));
            self.kind = self.pick(&AFTER_TOOL);
            e
        } else if self.rng.random::<f64>() < 0.015 {
            let mut e = self.base(EventKind::Error, source);
            e.retry_count = Some(self.rng.random_range(0..=5));
            let error = self.pick(&ERRORS);
            let detail = self.text(3, 30);
            e.payload = Payload::from_value(&json!({"error": error, "detail": detail}));
            e
        } else {
            match self.kind {
                EventKind::ToolCall => self.tool_call(source),
                EventKind::Message => self.message(source),
                EventKind::Lifecycle => {
                    let mut e = self.base(EventKind::Lifecycle, source);
                    let kind = self.pick(&LIFECYCLE);
                    let items = self.rng.random_range(0..=12);
                    e.payload = Payload::from_value(&json!({"type": kind, "items": items}));
                    self.kind = EventKind::Message;
                    e
                }
                _ => {
                    let mut e = self.base(EventKind::Hook, EventSource::Hook);
                    let hook = self.pick(&HOOKS);
                    let decision = self.pick(&[Some("allow"), Some("deny"), None]);
                    e.payload = Payload::from_value(&json!({"hook": hook, "decision": decision}));
                    self.kind = EventKind::ToolCall;
                    e
                }
            }
        };
        self.seq += 1;
        if self.rng.random::<f64>() < 0.01 && self.seq < self.n {
            let mut cost = Event::new(
                self.id.clone(),
                self.seq,
                e.ts_ms + 1,
                EventKind::Cost,
                EventSource::Proxy,
            );
            cost.ts_exact = self.rng.random::<f64>() > 0.03;
            cost.cost_usd_e6 = Some(self.rng.random_range(10..=900_000));
            cost.payload = Payload::from_value(&json!({"model": self.model}));
            self.ts += 1;
            self.seq += 1;
            self.queued.push_back(cost);
        }
        Some(e)
    }

    fn tool_call(&mut self, source: EventSource) -> Event {
        let tool = self.pick(&TOOLS);
        let call_id = format!("call_{:016x}", self.rng.random::<u64>());
        let mut e = self.base(EventKind::ToolCall, source);
        e.tool = Some(tool.into());
        e.tool_call_id = Some(call_id.clone());
        let args = match tool {
            "bash" | "run_tests" => {
                let krate = self.pick(&WORDS[..20]);
                json!({"command": format!("cargo test -p {krate} -- {}", self.text(1, 6))})
            }
            _ => {
                let path = format!(
                    "src/{}/{}.rs",
                    self.pick(&WORDS[..30]),
                    self.pick(&WORDS[..40])
                );
                if matches!(tool, "edit_file" | "write_file") {
                    json!({"path": path, "diff": self.text(10, 150)})
                } else {
                    json!({"path": path})
                }
            }
        };
        e.payload = Payload::from_value(&json!({ "args": args }));
        self.pending_tool = Some((tool, call_id));
        e
    }

    fn message(&mut self, source: EventSource) -> Event {
        let mut e = self.base(EventKind::Message, source);
        let tokens_in: u32 = self.rng.random_range(200..=60_000);
        let tokens_out: u32 = self.rng.random_range(10..=4_000);
        self.context = (self.context + tokens_in / 4 + tokens_out).min(200_000);
        e.tokens_in = Some(tokens_in);
        e.tokens_out = Some(tokens_out);
        e.reasoning_tokens = self
            .rng
            .random_bool(0.5)
            .then(|| self.rng.random_range(0..=8_000));
        e.cost_usd_e6 = Some(i64::from(tokens_in) * 3 + i64::from(tokens_out) * 15);
        e.stop_reason = Some(self.pick(&STOPS).into());
        e.latency_ms = Some(self.rng.random_range(300..=90_000));
        e.ttft_ms = Some(self.rng.random_range(80..=6_000));
        e.context_used_tokens = Some(self.context);
        e.context_max_tokens = Some(200_000);
        e.cache_creation_tokens = Some(self.rng.random_range(0..=20_000));
        e.cache_read_tokens = Some(self.rng.random_range(0..=150_000));
        e.system_prompt_tokens = Some(self.rng.random_range(1_500..=12_000));
        let role = self.pick(&["assistant", "user"]);
        let text = self.text(5, 150);
        e.payload = Payload::from_value(
            &json!({"role": role, "model": self.model, "agent": self.agent, "text": text}),
        );
        self.kind = if self.rng.random::<f64>() < 0.7 {
            EventKind::ToolCall
        } else {
            EventKind::Message
        };
        e
    }
}
