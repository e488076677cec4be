//! A small, deterministic tree of generated agent logs (Claude Code 2.1.x, Codex CLI 0.128,
//! Gemini CLI `.jsonl`) for `kaizen demo` on a machine without any: the same layout and
//! formats as `shared/tools/gen_agent_logs.py`, written in Rust because the shipped binary
//! can rely neither on that script nor on Python.
//!
//! Every figure an importer must find is counted while the lines are written (never by
//! reading them back) and returned as a [`SampleSummary`], so a test can compare the
//! importer's [`crate::Report`] with it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use kaizen_core::UtcDay;

use crate::error::{Error, Result};

/// What to generate. The same options give byte-identical trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Number of UTC days the sessions are spread over, ending at `end_day` (at least 1).
    pub days: u32,
    /// Sessions written for each of the three agents.
    pub sessions_per_agent: u32,
    /// Seed of the generator: another seed gives other ids, texts and figures.
    pub seed: u64,
    /// The last day sessions start on (usually today).
    pub end_day: UtcDay,
}

impl SampleOptions {
    /// The default shape (7 days, 10 sessions per agent, seed 1) ending at `end_day`:
    /// about 3 MB of logs and a few tens of dollars of (computed) cost.
    pub fn ending(end_day: UtcDay) -> SampleOptions {
        SampleOptions {
            days: 7,
            sessions_per_agent: 10,
            seed: 1,
            end_day,
        }
    }
}

/// Figures of one agent's generated files, counted the way the importer counts them
/// (see the crate docs): tokens in the store's convention (`input` excludes cache reads
/// and writes; `output` includes reasoning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSample {
    /// Distinct session ids.
    pub sessions: u64,
    /// Files written.
    pub files: u64,
    /// Lines written (all newline-terminated).
    pub lines: u64,
    /// Bytes written.
    pub bytes: u64,
    /// API responses (Claude: distinct `(message.id, requestId)`, API errors included;
    /// Codex: `token_count` snapshots whose total changed; Gemini: distinct `gemini` ids).
    pub responses: u64,
    /// Input tokens, cache reads and writes excluded.
    pub input: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Reasoning tokens (Codex `reasoning_output_tokens`, Gemini `thoughts`).
    pub reasoning: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the 5-minute cache (Claude only).
    pub cache_creation_5m: u64,
    /// Tokens written to the 1-hour cache (Claude only).
    pub cache_creation_1h: u64,
    /// Tool calls.
    pub tool_calls: u64,
    /// Tool results.
    pub tool_results: u64,
    /// Tool results that are errors.
    pub tool_errors: u64,
    /// API errors.
    pub api_errors: u64,
    /// Lines of a record type written on purpose that the importer does not know
    /// (Claude 2.1.x `last-prompt`).
    pub unknown_lines: u64,
}

/// What [`write_tree`] wrote: per agent figures and the files, relative to the tree's root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleSummary {
    /// Claude Code, under `claude/projects/`.
    pub claude: AgentSample,
    /// Codex CLI, under `codex/sessions/`.
    pub codex: AgentSample,
    /// Gemini CLI, under `gemini/tmp/`.
    pub gemini: AgentSample,
    /// Every file written, relative to the root, `/`-separated, in writing order.
    pub files: Vec<String>,
}

impl SampleSummary {
    /// Bytes written in all.
    pub fn bytes(&self) -> u64 {
        self.claude.bytes + self.codex.bytes + self.gemini.bytes
    }
}

/// Writes the sample tree under `dir`: `dir/claude/projects/<project>/<session>.jsonl`
/// (with `<session>/subagents/agent-<id>.jsonl`), `dir/codex/sessions/YYYY/MM/DD/rollout-…
/// .jsonl` and `dir/gemini/tmp/<hash>/chats/session-….jsonl`. Readers find it with
/// `CLAUDE_CONFIG_DIR=dir/claude`, `CODEX_HOME=dir/codex`, `GEMINI_DATA_DIR=dir/gemini/tmp`.
///
/// `dir` is created if absent. Errors: [`Error::Discover`] when `dir` already holds
/// `claude`, `codex` or `gemini` (nothing is replaced), or when `options.days` is 0;
/// [`Error::Io`] naming the path when a folder or file cannot be written (each file is
/// written beside itself and renamed, so a file is never seen half-written).
pub fn write_tree(dir: &Path, options: &SampleOptions) -> Result<SampleSummary> {
    if options.days == 0 {
        return Err(Error::Discover {
            path: dir.to_path_buf(),
            reason: "sample: days must be at least 1".to_owned(),
        });
    }
    for sub in ["claude", "codex", "gemini"] {
        if dir.join(sub).exists() {
            return Err(Error::Discover {
                path: dir.join(sub),
                reason: "sample: already exists; give an empty folder".to_owned(),
            });
        }
    }
    let mut w = Writer {
        root: dir.to_path_buf(),
        summary: SampleSummary::default(),
    };
    let first = options.end_day.minus_days(options.days - 1);
    for agent in 0..3u64 {
        let mut rng = Rng::new(options.seed ^ (agent + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for i in 0..options.sessions_per_agent {
            // Sessions spread evenly over the days, starting in working hours (UTC).
            let day = first.plus_days(
                (i as u64 * options.days as u64 / options.sessions_per_agent.max(1) as u64) as u32,
            );
            let start = day.start_ms() + rng.range(7 * HOUR, 19 * HOUR);
            match agent {
                0 => claude_session(&mut w, &mut rng, start, i)?,
                1 => codex_session(&mut w, &mut rng, start, i)?,
                _ => gemini_session(&mut w, &mut rng, start, i)?,
            }
        }
    }
    Ok(w.summary)
}

const SEC: u64 = 1000;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;

// --------------------------------------------------------------------------- output

struct Writer {
    root: PathBuf,
    summary: SampleSummary,
}

/// One file being built: its lines, then written at once.
struct File {
    rel: String,
    text: String,
    lines: u64,
}

impl File {
    fn new(rel: String) -> File {
        File {
            rel,
            text: String::new(),
            lines: 0,
        }
    }
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        self.lines += 1;
    }
}

impl Writer {
    fn write(&mut self, file: File, agent: usize) -> Result<()> {
        let path = self.root.join(&file.rel);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let tmp = path.with_extension("jsonl.part");
        fs::write(&tmp, file.text.as_bytes()).map_err(io(&tmp))?;
        // An agent appends as it works: its file's mtime is its last line's time. Imports
        // read files in that order (see `crate::in_time_order`), as they would real ones.
        if let Some(ms) = last_time_ms(&file.text) {
            let modified = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            let set = fs::File::options()
                .write(true)
                .open(&tmp)
                .and_then(|f| f.set_modified(modified));
            set.map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io(&path))?;
        let figures = self.agent(agent);
        figures.files += 1;
        figures.lines += file.lines;
        figures.bytes += file.text.len() as u64;
        self.summary.files.push(file.rel);
        Ok(())
    }
    fn agent(&mut self, agent: usize) -> &mut AgentSample {
        match agent {
            0 => &mut self.summary.claude,
            1 => &mut self.summary.codex,
            _ => &mut self.summary.gemini,
        }
    }
}

/// A JSON string literal.
fn js(s: &str) -> String {
    // Serializing a &str cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The time of the last `"timestamp":"…"` in a generated file's text (every format the
/// generator writes has one per timed line, in [`iso`]'s form), ms since the epoch.
fn last_time_ms(text: &str) -> Option<u64> {
    const KEY: &str = "\"timestamp\":\"";
    let at = text.rfind(KEY)? + KEY.len();
    let iso = text.get(at..at + 24)?;
    kaizen_core::parse_time_arg(iso).ok()
}

/// `2026-10-01T09:15:02.123Z`.
fn iso(ms: u64) -> String {
    // Generated times are within years of now, far inside the range of UtcDay.
    let Ok(day) = UtcDay::of_ts_ms(ms) else {
        return "1970-01-01T00:00:00.000Z".to_owned();
    };
    let t = ms - day.start_ms();
    format!(
        "{day}T{:02}:{:02}:{:02}.{:03}Z",
        t / HOUR,
        t / MIN % 60,
        t / SEC % 60,
        t % SEC
    )
}

// --------------------------------------------------------------------------- randomness

/// SplitMix64: tiny, seeded, the same on every platform (the tree must be reproducible).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi` (`lo` when the range is empty).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next() % (hi - lo)
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    /// Skewed towards `lo`: the smaller of two uniform draws (latencies, sizes).
    fn skewed(&mut self, lo: u64, hi: u64) -> u64 {
        self.range(lo, hi).min(self.range(lo, hi))
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(self.next() % 16) as usize]))
            .collect()
    }
    fn b62(&mut self, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| char::from(A[(self.next() % 62) as usize]))
            .collect()
    }
    fn uuid4(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            ["8", "9", "a", "b"][(self.next() % 4) as usize],
            &h[17..20],
            &h[20..32]
        )
    }
    fn uuid7(&mut self, ms: u64) -> String {
        let t = format!("{ms:012x}");
        let h = self.hex(20);
        format!(
            "{}-{}-7{}-{}{}-{}",
            &t[0..8],
            &t[8..12],
            &h[0..3],
            ["8", "9", "a", "b"][(self.next() % 4) as usize],
            &h[3..6],
            &h[6..18]
        )
    }
}

// --------------------------------------------------------------------------- prose

const NOUNS: &[&str] = &[
    "parser",
    "cache",
    "index",
    "writer",
    "schema",
    "cursor",
    "manifest",
    "partition",
    "buffer",
    "handler",
    "config",
    "migration",
    "snapshot",
    "reader",
    "encoder",
    "queue",
    "session",
    "report",
    "fixture",
    "listener",
];
const VERBS: &[&str] = &[
    "checks",
    "flushes",
    "reads",
    "rewrites",
    "validates",
    "merges",
    "sorts",
    "retries",
    "decodes",
    "splits",
];
const ADJS: &[&str] = &[
    "stale", "nested", "partial", "lazy", "strict", "empty", "cached", "daily", "legacy", "atomic",
];
const DIRS: &[&str] = &[
    "src",
    "crates/core/src",
    "tests",
    "pkg/store",
    "internal/io",
    "app",
];
const EXTS: &[&str] = &["rs", "go", "ts", "py", "toml"];
const WORDS: &[&str] = &["(données)", "(数据)", "(señal)", "(δ-encoding)", "(—)"];

fn path_of(rng: &mut Rng) -> String {
    format!(
        "{}/{}_{}.{}",
        rng.pick(DIRS),
        rng.pick(NOUNS),
        rng.pick(NOUNS),
        rng.pick(EXTS)
    )
}

fn sentence(rng: &mut Rng) -> String {
    let (n1, v, a, n2) = (
        *rng.pick(NOUNS),
        *rng.pick(VERBS),
        *rng.pick(ADJS),
        *rng.pick(NOUNS),
    );
    match rng.next() % 5 {
        0 => format!("The {a} {n1} {v} each {n2} before the commit."),
        1 => format!(
            "The {n1} in `{}` is {a}, so the {n2} {v} it once.",
            path_of(rng)
        ),
        2 => format!(
            "All {} {n1} tests pass after the {a} {n2} was fixed.",
            rng.range(3, 300)
        ),
        3 => format!(
            "Should the {n1} keep the {n2} when it is {a}? {}",
            rng.pick(WORDS)
        ),
        _ => format!("Let me look at the {a} {n1} first; it {v} the {n2}."),
    }
}

fn prose(rng: &mut Rng, sentences: u64) -> String {
    let mut out = String::new();
    for i in 0..sentences {
        if i > 0 {
            out.push_str(if i % 4 == 0 { "\n\n" } else { " " });
        }
        out.push_str(&sentence(rng));
    }
    out
}

/// Output of a shell command or a file read: `lines` plausible lines.
fn output(rng: &mut Rng, lines: u64) -> String {
    let mut out = String::new();
    for i in 0..lines {
        if i > 0 {
            out.push('\n');
        }
        let (n1, n2) = (*rng.pick(NOUNS), *rng.pick(NOUNS));
        match rng.next() % 5 {
            0 => write!(out, "test {n1}::{n2}_roundtrip ... ok"),
            1 => write!(
                out,
                "{}:{}:{}: warning: unused variable `{n2}`",
                path_of(rng),
                rng.range(1, 900),
                rng.range(1, 80)
            ),
            2 => write!(
                out,
                "   Compiling {n1}-{n2} v0.{}.{}",
                rng.range(1, 30),
                rng.range(0, 20)
            ),
            3 => write!(out, "    let {n1} = {n2}.get(\"{}\")?;", rng.pick(ADJS)),
            _ => write!(out, " M {}", path_of(rng)),
        }
        .unwrap_or(());
    }
    out
}

// --------------------------------------------------------------------------- Claude

const CLAUDE_MODELS: &[&str] = &[
    "claude-sonnet-4-6",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5-20250929",
];
/// Claude Code versions with the 2.1.x layout (`<session>/subagents/`).
const CLAUDE_VERSIONS: &[&str] = &["2.1.42", "2.1.58", "2.1.63"];
const BRANCHES: &[&str] = &["main", "main", "fix/cursor", "feat/export"];
const CLAUDE_SUB_MODEL: &str = "claude-haiku-4-5-20251001";

/// How a Claude tool behaves: name, latency range in ms, error share in percent.
struct ClaudeTool {
    name: &'static str,
    latency: (u64, u64),
    error_percent: u64,
}

const CLAUDE_TOOLS: &[ClaudeTool] = &[
    ClaudeTool {
        name: "Read",
        latency: (20, 400),
        error_percent: 4,
    },
    ClaudeTool {
        name: "Read",
        latency: (20, 400),
        error_percent: 4,
    },
    ClaudeTool {
        name: "Grep",
        latency: (80, 2500),
        error_percent: 0,
    },
    ClaudeTool {
        name: "Glob",
        latency: (30, 600),
        error_percent: 0,
    },
    ClaudeTool {
        name: "Edit",
        latency: (60, 900),
        error_percent: 8,
    },
    ClaudeTool {
        name: "Bash",
        latency: (400, 45_000),
        error_percent: 10,
    },
    ClaudeTool {
        name: "Bash",
        latency: (400, 45_000),
        error_percent: 10,
    },
    ClaudeTool {
        name: "Write",
        latency: (40, 500),
        error_percent: 0,
    },
];

/// The common head of a Claude line: the keys before `type`.
struct ClaudeCtx {
    cwd: String,
    session: String,
    version: &'static str,
    branch: &'static str,
    slug: String,
    /// `Some(agentId)` in a subagent file.
    agent_id: Option<String>,
    parent: Option<String>,
}

impl ClaudeCtx {
    fn head(&self) -> String {
        let mut s = format!(
            "{{\"parentUuid\":{},\"isSidechain\":{},\"userType\":\"external\",\"cwd\":{},\"sessionId\":\"{}\",\"version\":\"{}\",\"gitBranch\":\"{}\"",
            self.parent
                .as_deref()
                .map(js)
                .unwrap_or_else(|| "null".to_owned()),
            self.agent_id.is_some(),
            js(&self.cwd),
            self.session,
            self.version,
            self.branch
        );
        match &self.agent_id {
            Some(id) => write!(s, ",\"agentId\":\"{id}\"").unwrap_or(()),
            None => write!(s, ",\"slug\":\"{}\"", self.slug).unwrap_or(()),
        }
        s
    }
}

/// The prompt-cache state of one conversation: what is cached and when it was written.
struct Context {
    /// Tokens of the conversation so far (all cached after each response).
    tokens: u64,
    /// Tokens added since the last response (tool results, the user's prompt).
    pending: u64,
    /// Time of the last response.
    last_ms: u64,
    /// Share of writes going to the 1-hour cache: 0, 100, or mixed (50).
    one_hour_percent: u64,
}

/// One response's usage: (input, cache_read, write_5m, write_1h).
fn claude_usage(rng: &mut Rng, ctx: &mut Context, now: u64) -> (u64, u64, u64, u64) {
    let ttl = if ctx.one_hour_percent == 100 {
        HOUR
    } else {
        5 * MIN
    };
    let fresh = ctx.pending + rng.range(200, 1500);
    // A cache that expired is written again whole (what makes idle gaps cost).
    let (read, write) = if ctx.tokens > 0 && now.saturating_sub(ctx.last_ms) < ttl {
        (ctx.tokens, fresh)
    } else {
        let base = ctx.tokens.min(14_000);
        (base, ctx.tokens - base + fresh)
    };
    let w1h = match ctx.one_hour_percent {
        100 => write,
        0 => 0,
        _ => write * rng.range(20, 80) / 100,
    };
    ctx.tokens += fresh;
    ctx.pending = 0;
    ctx.last_ms = now;
    (rng.range(1, 12), read, write - w1h, w1h)
}

#[allow(clippy::too_many_arguments)]
fn claude_assistant_line(
    cx: &ClaudeCtx,
    model: &str,
    msg_id: &str,
    req_id: &str,
    block: &str,
    usage: (u64, u64, u64, u64),
    output_tokens: u64,
    stop: &str,
    uuid: &str,
    ts: u64,
) -> String {
    let (input, read, w5, w1) = usage;
    format!(
        "{},\"message\":{{\"model\":\"{model}\",\"id\":\"{msg_id}\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{block}],\"stop_reason\":{stop},\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{input},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{read},\"cache_creation\":{{\"ephemeral_5m_input_tokens\":{w5},\"ephemeral_1h_input_tokens\":{w1}}},\"output_tokens\":{output_tokens},\"service_tier\":\"standard\",\"inference_geo\":\"not_available\"}}}},\"requestId\":\"{req_id}\",\"type\":\"assistant\",\"uuid\":\"{uuid}\",\"timestamp\":\"{}\"}}",
        cx.head(),
        w5 + w1,
        iso(ts)
    )
}

/// A tool call the model makes: the `tool_use` block, the result's content, its
/// `toolUseResult` and whether it failed.
struct Call {
    id: String,
    name: &'static str,
    input: String,
    result: String,
    tool_use_result: String,
    error: bool,
    latency: u64,
}

fn claude_call(rng: &mut Rng, cwd: &str) -> Call {
    let tool = rng.pick(CLAUDE_TOOLS);
    let file = format!("{cwd}/{}", path_of(rng));
    let error = rng.chance(tool.error_percent);
    let latency = rng.skewed(tool.latency.0, tool.latency.1);
    let (input, result, tur) = match tool.name {
        "Read" => {
            let n = rng.range(20, 120);
            let body = output(rng, n);
            let numbered: String = body
                .lines()
                .enumerate()
                .map(|(i, l)| format!("{:>6}→{l}\n", i + 1))
                .collect();
            let tur = format!(
                "{{\"type\":\"text\",\"file\":{{\"filePath\":{},\"content\":{},\"numLines\":{n},\"startLine\":1,\"totalLines\":{n}}}}}",
                js(&file),
                js(&body)
            );
            (format!("{{\"file_path\":{}}}", js(&file)), numbered, tur)
        }
        "Grep" | "Glob" => {
            let n = rng.range(1, 15);
            let found: Vec<String> = (0..n).map(|_| path_of(rng)).collect();
            let pattern = rng.pick(NOUNS).to_string();
            let body = format!("Found {n} files\n{}", found.join("\n"));
            let tur = format!(
                "{{\"mode\":\"files_with_matches\",\"filenames\":[{}],\"numFiles\":{n}}}",
                found.iter().map(|f| js(f)).collect::<Vec<_>>().join(",")
            );
            (
                format!(
                    "{{\"pattern\":{},\"output_mode\":\"files_with_matches\"}}",
                    js(&pattern)
                ),
                body,
                tur,
            )
        }
        "Edit" | "Write" => {
            let old = sentence(rng);
            let new = sentence(rng);
            let body = format!("The file {file} has been updated successfully.");
            let tur = format!(
                "{{\"filePath\":{},\"oldString\":{},\"newString\":{},\"replaceAll\":false,\"userModified\":false}}",
                js(&file),
                js(&old),
                js(&new)
            );
            (
                format!(
                    "{{\"file_path\":{},\"old_string\":{},\"new_string\":{}}}",
                    js(&file),
                    js(&old),
                    js(&new)
                ),
                body,
                tur,
            )
        }
        _ => {
            let cmd = *rng.pick(&[
                "cargo test -q",
                "cargo clippy --all-targets",
                "git status --short",
                "git diff --stat",
                "ls -la",
                "cargo build",
            ]);
            let n = rng.range(3, 40);
            let body = output(rng, n);
            let tur = format!(
                "{{\"stdout\":{},\"stderr\":\"\",\"interrupted\":false,\"isImage\":false}}",
                js(&body)
            );
            (
                format!(
                    "{{\"command\":{},\"description\":{}}}",
                    js(cmd),
                    js(&format!("Run {cmd}"))
                ),
                body,
                tur,
            )
        }
    };
    let (result, tur) = if error {
        let reason = match tool.name {
            "Read" => format!("File does not exist: {file}"),
            "Edit" => "String to replace not found in file.".to_owned(),
            _ => format!("Exit code 1\n{}", output(rng, 3)),
        };
        (
            format!("<tool_use_error>{reason}</tool_use_error>"),
            js(&format!("Error: {reason}")),
        )
    } else {
        (result, tur)
    };
    Call {
        id: format!("toolu_01{}", rng.b62(22)),
        name: tool.name,
        input,
        result,
        tool_use_result: tur,
        error,
        latency,
    }
}

/// Writes one response of `blocks` (each block one line), output tokens growing line by
/// line, the final figure on the last line. Returns the time after the last line.
#[allow(clippy::too_many_arguments)]
fn claude_response(
    rng: &mut Rng,
    cx: &mut ClaudeCtx,
    file: &mut File,
    fig: &mut AgentSample,
    model: &str,
    ctx: &mut Context,
    blocks: &[String],
    tool_use: bool,
    mut now: u64,
) -> u64 {
    let usage = claude_usage(rng, ctx, now);
    let msg_id = format!("msg_01{}", rng.b62(22));
    let req_id = format!("req_011C{}", rng.b62(20));
    let final_out = rng.range(40, 900) + 60 * blocks.len() as u64;
    for (i, block) in blocks.iter().enumerate() {
        let last = i + 1 == blocks.len();
        // Interim lines carry a small running count, strictly below the final figure.
        let out = if last {
            final_out
        } else {
            rng.range(1, 30) + i as u64
        };
        let stop = match (last, tool_use) {
            (false, _) => "null",
            (true, true) => "\"tool_use\"",
            (true, false) => "\"end_turn\"",
        };
        let uuid = rng.uuid4();
        file.line(&claude_assistant_line(
            cx, model, &msg_id, &req_id, block, usage, out, stop, &uuid, now,
        ));
        cx.parent = Some(uuid);
        // Blocks stream in: seconds of thinking or text, tool_use lines right after.
        match blocks.get(i + 1) {
            Some(next) if next.starts_with("{\"type\":\"tool_use\"") => now += rng.range(20, 400),
            Some(_) => now += rng.skewed(300, 6000),
            None => {}
        }
    }
    fig.responses += 1;
    fig.input += usage.0;
    fig.cache_read += usage.1;
    fig.cache_creation_5m += usage.2;
    fig.cache_creation_1h += usage.3;
    fig.output += final_out;
    ctx.tokens += final_out;
    now
}

fn thinking_block(rng: &mut Rng) -> String {
    let n = rng.range(2, 6);
    format!(
        "{{\"type\":\"thinking\",\"thinking\":{},\"signature\":\"{}\"}}",
        js(&prose(rng, n)),
        rng.b62(340)
    )
}

fn text_block(rng: &mut Rng) -> String {
    let n = rng.range(1, 7);
    format!("{{\"type\":\"text\",\"text\":{}}}", js(&prose(rng, n)))
}

/// Tool results of `calls`, each at its call time + its latency. Returns the latest time.
fn claude_results(
    rng: &mut Rng,
    cx: &mut ClaudeCtx,
    file: &mut File,
    fig: &mut AgentSample,
    ctx: &mut Context,
    calls: &[Call],
    called: u64,
) -> u64 {
    let mut now = called;
    for call in calls {
        now = now.max(called + call.latency) + rng.range(1, 40);
        let err = if call.error { ",\"is_error\":true" } else { "" };
        let uuid = rng.uuid4();
        file.line(&format!(
            "{},\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":[{{\"tool_use_id\":\"{}\",\"type\":\"tool_result\",\"content\":{}{err}}}]}},\"uuid\":\"{uuid}\",\"timestamp\":\"{}\",\"toolUseResult\":{}}}",
            cx.head(),
            call.id,
            js(&call.result),
            iso(now),
            call.tool_use_result
        ));
        cx.parent = Some(uuid);
        fig.tool_results += 1;
        fig.tool_errors += call.error as u64;
        ctx.pending += call.result.len() as u64 / 4 + 20;
    }
    now
}

fn claude_session(w: &mut Writer, rng: &mut Rng, start: u64, index: u32) -> Result<()> {
    let project = format!("{}-{}", rng.pick(NOUNS), rng.pick(NOUNS));
    let cwd = format!("/home/dev/src/{project}");
    let dir: String = cwd
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let session = rng.uuid4();
    // By turns, so that every sample holds each family (subagents use Haiku).
    let model = CLAUDE_MODELS[index as usize % CLAUDE_MODELS.len()];
    let version = *rng.pick(CLAUDE_VERSIONS);
    let branch = *rng.pick(BRANCHES);
    let mut cx = ClaudeCtx {
        cwd: cwd.clone(),
        session: session.clone(),
        version,
        branch,
        slug: format!("{}-{}-{}", rng.pick(ADJS), rng.pick(VERBS), rng.pick(NOUNS)),
        agent_id: None,
        parent: None,
    };
    let mut ctx = Context {
        tokens: 0,
        pending: 14_000 + rng.range(0, 6000),
        last_ms: 0,
        one_hour_percent: *rng.pick(&[0, 0, 100, 50]),
    };
    let mut file = File::new(format!("claude/projects/{dir}/{session}.jsonl"));
    let mut fig = AgentSample {
        sessions: 1,
        ..AgentSample::default()
    };
    let mut subagents = Vec::new();
    let turns = rng.range(5, 12);
    let api_error_turn = if index % 3 == 1 {
        rng.range(1, turns)
    } else {
        u64::MAX
    };
    let task_turn = if index.is_multiple_of(2) {
        rng.range(1, turns)
    } else {
        u64::MAX
    };
    let mut now = start;
    let mut last_prompt = String::new();
    for turn in 0..turns {
        let n = rng.range(1, 5);
        let prompt = prose(rng, n);
        let uuid = rng.uuid4();
        file.line(&format!(
            "{{\"type\":\"file-history-snapshot\",\"messageId\":\"{uuid}\",\"snapshot\":{{\"messageId\":\"{uuid}\",\"trackedFileBackups\":{{}},\"timestamp\":\"{}\"}},\"isSnapshotUpdate\":false}}",
            iso(now)
        ));
        file.line(&format!(
            "{},\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":{}}},\"uuid\":\"{uuid}\",\"timestamp\":\"{}\",\"permissionMode\":\"default\"}}",
            cx.head(),
            js(&prompt),
            iso(now)
        ));
        cx.parent = Some(uuid);
        ctx.pending += prompt.len() as u64 / 4;
        let turn_start = now;
        now += rng.skewed(1500, 9000);
        if turn == api_error_turn {
            let uuid = rng.uuid4();
            file.line(&format!(
                "{},\"type\":\"assistant\",\"uuid\":\"{uuid}\",\"timestamp\":\"{}\",\"message\":{{\"id\":\"{}\",\"model\":\"<synthetic>\",\"role\":\"assistant\",\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"\",\"type\":\"message\",\"usage\":{{\"input_tokens\":0,\"output_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"server_tool_use\":{{\"web_search_requests\":0,\"web_fetch_requests\":0}},\"service_tier\":null,\"cache_creation\":{{\"ephemeral_1h_input_tokens\":0,\"ephemeral_5m_input_tokens\":0}}}},\"content\":[{{\"type\":\"text\",\"text\":\"API Error: 529 {{\\\"type\\\":\\\"error\\\",\\\"error\\\":{{\\\"type\\\":\\\"overloaded_error\\\",\\\"message\\\":\\\"Overloaded\\\"}}}}\"}}]}},\"error\":\"unknown\",\"isApiErrorMessage\":true}}",
                cx.head(),
                iso(now),
                rng.uuid4()
            ));
            cx.parent = Some(uuid);
            fig.responses += 1;
            fig.api_errors += 1;
            now += rng.range(5 * SEC, 40 * SEC);
        }
        let steps = rng.range(1, 6);
        for step in 0..steps {
            let last = step + 1 == steps;
            let mut blocks = Vec::new();
            if rng.chance(60) {
                blocks.push(thinking_block(rng));
            }
            if last || rng.chance(50) {
                blocks.push(text_block(rng));
            }
            let mut calls = Vec::new();
            if !last {
                for _ in 0..rng.skewed(1, 4) {
                    let call = claude_call(rng, &cwd);
                    blocks.push(format!(
                        "{{\"type\":\"tool_use\",\"id\":\"{}\",\"name\":\"{}\",\"input\":{}}}",
                        call.id, call.name, call.input
                    ));
                    calls.push(call);
                }
            }
            let task = !last && turn == task_turn && step == 0;
            let mut task_call = None;
            if task {
                let agent_id = format!("a{}", rng.hex(6));
                let id = format!("toolu_01{}", rng.b62(22));
                let description = format!("Review the {} {}", rng.pick(ADJS), rng.pick(NOUNS));
                let sub_prompt = prose(rng, 3);
                blocks.push(format!(
                    "{{\"type\":\"tool_use\",\"id\":\"{id}\",\"name\":\"Task\",\"input\":{{\"description\":{},\"prompt\":{},\"subagent_type\":\"Explore\"}}}}",
                    js(&description),
                    js(&sub_prompt)
                ));
                task_call = Some((agent_id, id, sub_prompt));
            }
            fig.tool_calls += calls.len() as u64 + task as u64;
            now = claude_response(
                rng,
                &mut cx,
                &mut file,
                &mut fig,
                model,
                &mut ctx,
                &blocks,
                !calls.is_empty() || task,
                now,
            );
            let called = now;
            now = claude_results(rng, &mut cx, &mut file, &mut fig, &mut ctx, &calls, called);
            if let Some((agent_id, id, sub_prompt)) = task_call {
                let (sub, end, summary) =
                    claude_subagent(rng, &cx, &dir, &agent_id, &sub_prompt, now, &mut fig);
                subagents.push(sub);
                now = end + rng.range(50, 400);
                let uuid = rng.uuid4();
                file.line(&format!(
                    "{},\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":[{{\"tool_use_id\":\"{id}\",\"type\":\"tool_result\",\"content\":[{{\"type\":\"text\",\"text\":{}}}]}}]}},\"uuid\":\"{uuid}\",\"timestamp\":\"{}\",\"toolUseResult\":{{\"status\":\"completed\",\"prompt\":{},\"agentId\":\"{agent_id}\",\"content\":[{{\"type\":\"text\",\"text\":{}}}],\"totalDurationMs\":{}}}}}",
                    cx.head(),
                    js(&summary),
                    iso(now),
                    js(&sub_prompt),
                    js(&summary),
                    end - called
                ));
                cx.parent = Some(uuid);
                fig.tool_results += 1;
                ctx.pending += summary.len() as u64 / 4;
            }
            // The next request: time to its first streamed block.
            now += rng.skewed(1500, 12_000);
        }
        let uuid = rng.uuid4();
        file.line(&format!(
            "{},\"type\":\"system\",\"subtype\":\"turn_duration\",\"durationMs\":{},\"timestamp\":\"{}\",\"uuid\":\"{uuid}\",\"isMeta\":false}}",
            cx.head(),
            now - turn_start,
            iso(now)
        ));
        cx.parent = Some(uuid);
        last_prompt = prompt;
        // The user reads, thinks, sometimes leaves: minutes between turns.
        now += rng.skewed(20 * SEC, 25 * MIN);
    }
    file.line(&format!(
        "{{\"type\":\"last-prompt\",\"lastPrompt\":{},\"sessionId\":\"{session}\"}}",
        js(&last_prompt)
    ));
    fig.unknown_lines += 1;
    w.write(file, 0)?;
    for sub in subagents {
        w.write(sub, 0)?;
    }
    add(w.agent(0), &fig);
    Ok(())
}

/// A 2.1.x subagent transcript: returns the file, the time it ended and its final text.
fn claude_subagent(
    rng: &mut Rng,
    parent: &ClaudeCtx,
    dir: &str,
    agent_id: &str,
    prompt: &str,
    mut now: u64,
    fig: &mut AgentSample,
) -> (File, u64, String) {
    let mut cx = ClaudeCtx {
        cwd: parent.cwd.clone(),
        session: parent.session.clone(),
        version: parent.version,
        branch: parent.branch,
        slug: String::new(),
        agent_id: Some(agent_id.to_owned()),
        parent: None,
    };
    let mut file = File::new(format!(
        "claude/projects/{dir}/{}/subagents/agent-{agent_id}.jsonl",
        parent.session
    ));
    let mut ctx = Context {
        tokens: 0,
        pending: 9000 + prompt.len() as u64 / 4,
        last_ms: 0,
        one_hour_percent: 0,
    };
    let uuid = rng.uuid4();
    file.line(&format!("{},\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":{}}},\"uuid\":\"{uuid}\",\"timestamp\":\"{}\"}}", cx.head(), js(prompt), iso(now)));
    cx.parent = Some(uuid);
    now += rng.range(800, 3000);
    let steps = rng.range(2, 5);
    let mut summary = String::new();
    for step in 0..steps {
        let last = step + 1 == steps;
        let mut blocks = Vec::new();
        let mut calls = Vec::new();
        if last {
            summary = prose(rng, 4);
            blocks.push(format!("{{\"type\":\"text\",\"text\":{}}}", js(&summary)));
        } else {
            for _ in 0..rng.range(1, 3) {
                let call = claude_call(rng, &cx.cwd.clone());
                blocks.push(format!(
                    "{{\"type\":\"tool_use\",\"id\":\"{}\",\"name\":\"{}\",\"input\":{}}}",
                    call.id, call.name, call.input
                ));
                calls.push(call);
            }
        }
        fig.tool_calls += calls.len() as u64;
        now = claude_response(
            rng,
            &mut cx,
            &mut file,
            fig,
            CLAUDE_SUB_MODEL,
            &mut ctx,
            &blocks,
            !last,
            now,
        );
        now = claude_results(rng, &mut cx, &mut file, fig, &mut ctx, &calls, now);
        now += rng.skewed(1500, 12_000);
    }
    (file, now, summary)
}

fn add(total: &mut AgentSample, f: &AgentSample) {
    total.sessions += f.sessions;
    total.responses += f.responses;
    total.input += f.input;
    total.output += f.output;
    total.reasoning += f.reasoning;
    total.cache_read += f.cache_read;
    total.cache_creation_5m += f.cache_creation_5m;
    total.cache_creation_1h += f.cache_creation_1h;
    total.tool_calls += f.tool_calls;
    total.tool_results += f.tool_results;
    total.tool_errors += f.tool_errors;
    total.api_errors += f.api_errors;
    total.unknown_lines += f.unknown_lines;
}

// --------------------------------------------------------------------------- Codex

const CODEX_MODELS: &[&str] = &["gpt-5.3-codex", "gpt-5.3-codex", "gpt-5.2-codex"];
const RATE_LIMITS: &str = "{\"limit_id\":\"codex\",\"limit_name\":null,\"primary\":{\"used_percent\":12.0,\"window_minutes\":300,\"resets_at\":0},\"secondary\":{\"used_percent\":3.0,\"window_minutes\":10080,\"resets_at\":0},\"credits\":null,\"plan_type\":\"plus\",\"rate_limit_reached_type\":null}";

/// Cumulative or per-call Codex usage.
#[derive(Clone, Copy, Default)]
struct CodexUsage {
    input: u64,
    cached: u64,
    output: u64,
    reasoning: u64,
}

impl CodexUsage {
    fn json(&self) -> String {
        format!(
            "{{\"input_tokens\":{},\"cached_input_tokens\":{},\"output_tokens\":{},\"reasoning_output_tokens\":{},\"total_tokens\":{}}}",
            self.input,
            self.cached,
            self.output,
            self.reasoning,
            self.input + self.output
        )
    }
}

fn codex_line(ts: u64, kind: &str, payload: &str) -> String {
    format!(
        "{{\"timestamp\":\"{}\",\"type\":\"{kind}\",\"payload\":{payload}}}",
        iso(ts)
    )
}

fn codex_session(w: &mut Writer, rng: &mut Rng, start: u64, index: u32) -> Result<()> {
    let id = rng.uuid7(start);
    let cwd = format!("/home/dev/src/{}-{}", rng.pick(NOUNS), rng.pick(NOUNS));
    let stamp = iso(start);
    let day = &stamp[..10];
    let clock = stamp[11..19].replace(':', "-");
    let mut file = File::new(format!(
        "codex/sessions/{}/{}/{}/rollout-{day}T{clock}-{id}.jsonl",
        &day[0..4],
        &day[5..7],
        &day[8..10]
    ));
    let mut fig = AgentSample {
        sessions: 1,
        ..AgentSample::default()
    };
    let mut now = start;
    let instructions = prose(rng, 6);
    file.line(&codex_line(now, "session_meta", &format!(
        "{{\"id\":\"{id}\",\"timestamp\":\"{}\",\"cwd\":{},\"originator\":\"codex_cli_rs\",\"cli_version\":\"0.128.0\",\"source\":\"cli\",\"model_provider\":\"openai\",\"base_instructions\":{{\"text\":{}}}}}",
        iso(now), js(&cwd), js(&instructions)
    )));
    let mut model = *rng.pick(CODEX_MODELS);
    let mut total = CodexUsage::default();
    let mut context = 9000 + rng.range(0, 4000);
    let mut last_snapshot: Option<String> = None;
    let turns = rng.range(3, 8);
    let api_error_turn = if index % 4 == 2 {
        rng.range(0, turns)
    } else {
        u64::MAX
    };
    for turn in 0..turns {
        let turn_id = rng.uuid7(now);
        if turn > 0 && rng.chance(20) {
            model = *rng.pick(CODEX_MODELS);
        }
        let prompt = {
            let n = rng.range(1, 4);
            prose(rng, n)
        };
        file.line(&codex_line(now, "event_msg", &format!("{{\"type\":\"task_started\",\"turn_id\":\"{turn_id}\",\"model_context_window\":258400}}")));
        file.line(&codex_line(now, "response_item", &format!("{{\"type\":\"message\",\"role\":\"user\",\"content\":[{{\"type\":\"input_text\",\"text\":{}}}]}}", js(&prompt))));
        file.line(&codex_line(now, "event_msg", &format!("{{\"type\":\"user_message\",\"message\":{},\"images\":[],\"local_images\":[],\"text_elements\":[]}}", js(&prompt))));
        context += prompt.len() as u64 / 4;
        let calls = rng.range(1, 7);
        for call in 0..=calls {
            now += rng.range(20, 200);
            file.line(&codex_line(now, "turn_context", &format!(
                "{{\"turn_id\":\"{turn_id}\",\"cwd\":{},\"approval_policy\":\"on-request\",\"sandbox_policy\":{{\"type\":\"workspace-write\",\"network_access\":false}},\"model\":\"{model}\",\"effort\":\"medium\",\"summary\":\"auto\"}}",
                js(&cwd)
            )));
            // Codex repeats the previous snapshot after a turn_context (same payload): not a response.
            if let Some(snapshot) = &last_snapshot
                && rng.chance(40)
            {
                file.line(&codex_line(now + 5, "event_msg", snapshot));
            }
            if turn == 0 && call == 0 {
                file.line(&codex_line(
                    now + 10,
                    "event_msg",
                    &format!(
                        "{{\"type\":\"token_count\",\"info\":null,\"rate_limits\":{RATE_LIMITS}}}"
                    ),
                ));
            }
            if turn == api_error_turn && call == 0 {
                now += rng.range(2 * SEC, 20 * SEC);
                file.line(&codex_line(now, "event_msg", "{\"type\":\"error\",\"message\":\"stream disconnected before completion: error sending request for url (https://chatgpt.com/backend-api/codex/responses)\"}"));
                fig.api_errors += 1;
            }
            now += rng.skewed(1500, 20_000);
            let reasoning = if rng.chance(70) {
                rng.range(30, 900)
            } else {
                0
            };
            let last = call == calls;
            let text_out = rng.range(20, if last { 700 } else { 180 });
            let fresh = rng.range(300, 3000);
            let used = CodexUsage {
                input: context + fresh,
                cached: context / 256 * 256,
                output: reasoning + text_out,
                reasoning,
            };
            context += fresh + used.output;
            if reasoning > 0 {
                let summary = sentence(rng);
                file.line(&codex_line(
                    now,
                    "event_msg",
                    &format!("{{\"type\":\"agent_reasoning\",\"text\":{}}}", js(&summary)),
                ));
                file.line(&codex_line(now, "response_item", &format!(
                    "{{\"type\":\"reasoning\",\"summary\":[{{\"type\":\"summary_text\",\"text\":{}}}],\"content\":null,\"encrypted_content\":\"gAAAAA{}\"}}",
                    js(&summary), rng.b62(200 + reasoning as usize / 2)
                )));
            }
            if last {
                let answer = {
                    let n = rng.range(2, 8);
                    prose(rng, n)
                };
                file.line(&codex_line(
                    now,
                    "event_msg",
                    &format!(
                        "{{\"type\":\"agent_message\",\"message\":{},\"phase\":\"final_answer\"}}",
                        js(&answer)
                    ),
                ));
                file.line(&codex_line(now, "response_item", &format!("{{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{{\"type\":\"output_text\",\"text\":{}}}],\"phase\":\"final_answer\"}}", js(&answer))));
            } else {
                let call_id = format!("call_{}", rng.b62(24));
                let patch = rng.chance(20);
                if patch {
                    let file_path = path_of(rng);
                    let body = format!(
                        "*** Begin Patch\n*** Update File: {file_path}\n@@\n-{}\n+{}\n*** End Patch",
                        sentence(rng),
                        sentence(rng)
                    );
                    file.line(&codex_line(now, "response_item", &format!("{{\"type\":\"custom_tool_call\",\"status\":\"completed\",\"call_id\":\"{call_id}\",\"name\":\"apply_patch\",\"input\":{}}}", js(&body))));
                    now += rng.range(40, 400);
                    let out = format!(
                        "{{\"output\":\"Success. Updated the following files:\\nM {file_path}\\n\",\"metadata\":{{\"exit_code\":0,\"duration_seconds\":0.1}}}}"
                    );
                    file.line(&codex_line(now, "response_item", &format!("{{\"type\":\"custom_tool_call_output\",\"call_id\":\"{call_id}\",\"output\":{}}}", js(&out))));
                } else {
                    let cmd = *rng.pick(&[
                        "cargo test -q",
                        "rg -n cursor src",
                        "git diff",
                        "cargo check",
                        "sed -n 1,120p src/lib.rs",
                    ]);
                    file.line(&codex_line(now, "response_item", &format!(
                        "{{\"type\":\"function_call\",\"name\":\"exec_command\",\"arguments\":{},\"call_id\":\"{call_id}\"}}",
                        js(&format!("{{\"cmd\":{},\"workdir\":{},\"yield_time_ms\":10000}}", js(cmd), js(&cwd)))
                    )));
                    let wall = rng.skewed(80, 40_000);
                    now += wall + rng.range(5, 50);
                    let code = if rng.chance(12) { 1 } else { 0 };
                    let n = rng.range(2, 30);
                    let out = format!(
                        "Chunk ID: {}\nWall time: {}.{:04} seconds\nProcess exited with code {code}\nOriginal token count: {}\nOutput:\n{}",
                        rng.hex(6),
                        wall / 1000,
                        wall % 1000 * 10,
                        n * 12,
                        output(rng, n)
                    );
                    file.line(&codex_line(now, "response_item", &format!("{{\"type\":\"function_call_output\",\"call_id\":\"{call_id}\",\"output\":{}}}", js(&out))));
                    fig.tool_errors += code;
                    context += out.len() as u64 / 4;
                }
                fig.tool_calls += 1;
                fig.tool_results += 1;
            }
            total.input += used.input;
            total.cached += used.cached;
            total.output += used.output;
            total.reasoning += used.reasoning;
            let snapshot = format!(
                "{{\"type\":\"token_count\",\"info\":{{\"total_token_usage\":{},\"last_token_usage\":{},\"model_context_window\":258400}},\"rate_limits\":{RATE_LIMITS}}}",
                total.json(),
                used.json()
            );
            file.line(&codex_line(now + 15, "event_msg", &snapshot));
            last_snapshot = Some(snapshot);
            fig.responses += 1;
            fig.input += used.input - used.cached;
            fig.cache_read += used.cached;
            fig.output += used.output;
            fig.reasoning += used.reasoning;
        }
        now += rng.range(100, 900);
        file.line(&codex_line(now, "event_msg", &format!("{{\"type\":\"task_complete\",\"turn_id\":\"{turn_id}\",\"last_agent_message\":null}}")));
        now += rng.skewed(30 * SEC, 20 * MIN);
    }
    w.write(file, 1)?;
    add(w.agent(1), &fig);
    Ok(())
}

// --------------------------------------------------------------------------- Gemini

const GEMINI_MODELS: &[&str] = &["gemini-2.5-pro", "gemini-2.5-pro", "gemini-2.5-flash"];

fn gemini_session(w: &mut Writer, rng: &mut Rng, start: u64, index: u32) -> Result<()> {
    let session = rng.uuid4();
    let hash = rng.hex(64);
    let clock = iso(start)[..16].replace(':', "-");
    let mut file = File::new(format!(
        "gemini/tmp/{hash}/chats/session-{clock}-{}.jsonl",
        &session[..8]
    ));
    let mut fig = AgentSample {
        sessions: 1,
        ..AgentSample::default()
    };
    let mut now = start;
    file.line(&format!("{{\"sessionId\":\"{session}\",\"projectHash\":\"{hash}\",\"startTime\":\"{0}\",\"lastUpdated\":\"{0}\",\"kind\":\"main\"}}", iso(now)));
    let model = *rng.pick(GEMINI_MODELS);
    let mut context = 7000 + rng.range(0, 3000);
    let turns = rng.range(3, 7);
    let api_error_turn = if index % 3 == 2 {
        rng.range(0, turns)
    } else {
        u64::MAX
    };
    for turn in 0..turns {
        let prompt = {
            let n = rng.range(1, 4);
            prose(rng, n)
        };
        now += rng.range(2 * SEC, 20 * SEC);
        file.line(&format!("{{\"id\":\"{}\",\"timestamp\":\"{}\",\"type\":\"user\",\"content\":[{{\"text\":{}}}]}}", rng.uuid4(), iso(now), js(&prompt)));
        file.line(&format!(
            "{{\"$set\":{{\"lastUpdated\":\"{}\"}}}}",
            iso(now)
        ));
        context += prompt.len() as u64 / 4;
        if turn == api_error_turn {
            now += rng.range(5 * SEC, 60 * SEC);
            file.line(&format!("{{\"id\":\"{}\",\"timestamp\":\"{}\",\"type\":\"error\",\"content\":\"[API Error: You exceeded your current quota. Please retry in 14s.]\"}}", rng.uuid4(), iso(now)));
            file.line(&format!(
                "{{\"$set\":{{\"lastUpdated\":\"{}\"}}}}",
                iso(now)
            ));
            fig.api_errors += 1;
        }
        let steps = rng.range(1, 5);
        for step in 0..steps {
            let last = step + 1 == steps;
            now += rng.skewed(2 * SEC, 30 * SEC);
            let id = rng.uuid4();
            let thoughts = rng.range(80, 1200);
            let out_tokens = rng.range(20, if last { 800 } else { 120 });
            let cached = if rng.chance(75) {
                context * rng.range(60, 95) / 100
            } else {
                0
            };
            let input = context + rng.range(200, 2000);
            context = input + out_tokens + thoughts;
            let content = if last {
                {
                    let n = rng.range(2, 7);
                    prose(rng, n)
                }
            } else {
                String::new()
            };
            let subject = format!(
                "{} the {}",
                ["Checking", "Reading", "Planning"][(rng.next() % 3) as usize],
                rng.pick(NOUNS)
            );
            let record = format!(
                "{{\"id\":\"{id}\",\"timestamp\":\"{}\",\"type\":\"gemini\",\"content\":{},\"thoughts\":[{{\"subject\":{},\"description\":{},\"timestamp\":\"{}\"}}],\"tokens\":{{\"input\":{input},\"output\":{out_tokens},\"cached\":{cached},\"thoughts\":{thoughts},\"tool\":0,\"total\":{}}},\"model\":\"{model}\"",
                iso(now),
                js(&content),
                js(&subject),
                js(&sentence(rng)),
                iso(now - 900),
                input + out_tokens + thoughts
            );
            file.line(&format!("{record}}}"));
            file.line(&format!(
                "{{\"$set\":{{\"lastUpdated\":\"{}\"}}}}",
                iso(now)
            ));
            fig.responses += 1;
            fig.input += input - cached;
            fig.cache_read += cached;
            fig.output += out_tokens + thoughts;
            fig.reasoning += thoughts;
            if !last {
                // The message is written again with its tool calls once they ran.
                let mut calls = Vec::new();
                for _ in 0..rng.skewed(1, 3) {
                    let call_id = rng.b62(8).to_lowercase();
                    now += rng.skewed(50, 15_000);
                    let error = rng.chance(8);
                    let (name, display, args, body) = if rng.chance(50) {
                        let p = path_of(rng);
                        let n = rng.range(10, 60);
                        (
                            "read_file",
                            "ReadFile",
                            format!("{{\"file_path\":{}}}", js(&p)),
                            (p, output(rng, n)),
                        )
                    } else {
                        let cmd = *rng.pick(&["npm test", "go test ./...", "git status"]);
                        let n = rng.range(3, 25);
                        (
                            "run_shell_command",
                            "Shell",
                            format!("{{\"command\":\"{cmd}\",\"description\":\"Run {cmd}\"}}"),
                            (cmd.to_owned(), output(rng, n)),
                        )
                    };
                    let (response, display_text, status) = if error {
                        let e = format!("Error: {} is locked.", body.0);
                        (format!("{{\"error\":{}}}", js(&e)), e, "error")
                    } else {
                        (
                            format!("{{\"output\":{}}}", js(&body.1)),
                            body.1.clone(),
                            "success",
                        )
                    };
                    context += display_text.len() as u64 / 4;
                    calls.push(format!(
                        "{{\"id\":\"{call_id}\",\"name\":\"{name}\",\"args\":{args},\"result\":[{{\"functionResponse\":{{\"id\":\"{call_id}\",\"name\":\"{name}\",\"response\":{response}}}}}],\"status\":\"{status}\",\"timestamp\":\"{}\",\"resultDisplay\":{},\"description\":{},\"displayName\":\"{display}\",\"renderOutputAsMarkdown\":true}}",
                        iso(now), js(&display_text), js(&body.0)
                    ));
                    fig.tool_calls += 1;
                    fig.tool_results += 1;
                    fig.tool_errors += error as u64;
                }
                file.line(&format!("{record},\"toolCalls\":[{}]}}", calls.join(",")));
            }
        }
        if rng.chance(10) {
            file.line(&format!("{{\"id\":\"{}\",\"timestamp\":\"{}\",\"type\":\"info\",\"content\":\"Request cancelled.\"}}", rng.uuid4(), iso(now)));
        }
        now += rng.skewed(30 * SEC, 15 * MIN);
    }
    w.write(file, 2)?;
    add(w.agent(2), &fig);
    Ok(())
}
