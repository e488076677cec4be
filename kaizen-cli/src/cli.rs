use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kaizen_core::{EventKind, UtcDay};

/// kaizen: a cold store for AI-agent telemetry.
#[derive(Debug, Parser)]
#[command(name = "kaizen", version = crate::build_info::VERSION, about)]
pub struct Cli {
    /// The store: a folder (./kaizen-data), file:///…, s3://bucket/prefix, gs://…, az://…,
    /// memory://. Repeat it, or give a glob of local folders (~/.kaizen/workspaces/*), and
    /// scan, stats, sql and report span them all, with a `store` column.
    #[arg(
        long,
        global = true,
        env = "KAIZEN_STORE",
        default_value = "./kaizen-data",
        action = clap::ArgAction::Append
    )]
    pub store: Vec<String>,

    /// An object-store option, key=value (repeatable): aws_endpoint, aws_allow_http,
    /// aws_region, azure_storage_use_emulator, google_service_account, …
    #[arg(long = "store-option", global = true, value_name = "KEY=VALUE", value_parser = parse_option)]
    pub store_options: Vec<(String, String)>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest JSON Lines events (one event a line) from files or standard input.
    Ingest(IngestArgs),
    /// Import agents' own logs (Claude Code, Codex, Gemini CLI) and upstream kaizen's
    /// databases: every line (row) kept, each file from where the last import stopped.
    Import(ImportArgs),
    /// Write imported agent logs back as the original files, byte for byte.
    Export(ExportArgs),
    /// Run by an agent's hook (Claude Code `Stop`/`SessionEnd`): import the folder of the
    /// transcript it names (the session, its subagents, the project's other sessions)
    Hook(HookArgs),
    /// Check what could lose history: agents set to delete their logs, where logs are.
    Doctor,
    /// Print events in (ts_ms, session_id, seq) order.
    Scan(ScanArgs),
    /// SQL over the store(s): a table `events` (22 columns, `day`, `store`). No query: a prompt.
    Sql(SqlArgs),
    /// What agents cost and did: per day, model, tool, session or agent, with a cost chart.
    Report(ReportArgs),
    /// Events, sessions, cost and tokens per day.
    Stats(StatsArgs),
    /// Per day: files, rows, bytes and time span.
    Partitions(PartitionsArgs),
    /// Remove whole days of data files older than a cutoff.
    Prune(PruneArgs),
    /// Merge each day's small files (and v1 files) into few large sorted files.
    Compact(CompactArgs),
    /// Check every file of the store; exit 1 when anything is wrong.
    Verify(VerifyArgs),
    /// Copy the store (any backend, v1 files included) to another URL; rerun to resume.
    Copy(CopyArgs),
    /// Print a realistic, deterministic event corpus as JSON Lines.
    Generate(GenerateArgs),
    /// Import this machine's agent logs (or a generated week of them) and report on them.
    Demo(DemoArgs),
    /// An OpenTelemetry (OTLP/HTTP) collector whose output is the store: agents' log records
    /// and GenAI spans, spooled to disk (acknowledged means durable) and flushed in batches.
    Serve(ServeArgs),
    /// Time ingest and three queries, bytes and peak memory, beside DuckDB (python3 duckdb);
    /// with --import, agent-log import and reports beside ccusage.
    Bench(BenchArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish (see the README).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `kaizen man > kaizen.1`; with a command, its own page.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// JSON Lines files; `-` or nothing reads standard input.
    pub files: Vec<PathBuf>,
    /// Skip invalid lines (each reported with its reason) instead of refusing the whole run.
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, Args)]
pub struct TimeRange {
    /// Events at or after: RFC 3339, YYYY-MM-DD (UTC midnight) or epoch milliseconds.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<u64>,
    /// Events before (exclusive): RFC 3339, YYYY-MM-DD or epoch milliseconds.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub range: TimeRange,
    /// Only this session (repeatable).
    #[arg(long = "session", value_name = "ID")]
    pub sessions: Vec<String>,
    /// Only this kind (repeatable).
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_kind)]
    pub kinds: Vec<EventKind>,
    /// Columns to print, comma-separated (default: all 22).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// At most this many events.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Read the rest of the store when a file is corrupt, reporting each file skipped.
    #[arg(long)]
    pub skip_corrupt: bool,
    #[arg(long, value_enum, default_value_t = ScanFormat::Jsonl)]
    pub format: ScanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Jsonl,
    Csv,
    Table,
    /// Only the number of rows: every row is still read and decoded.
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The last this many days (today included).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
    #[arg(long, value_enum, default_value_t = ReportBy::Day)]
    pub by: ReportBy,
    #[arg(long, value_enum, default_value_t = ReportOutput::Table)]
    pub format: ReportOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportBy {
    Day,
    Model,
    /// The project (imported agent logs: the project folder or working directory).
    Project,
    Tool,
    Session,
    Agent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportOutput {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query; without one, an interactive prompt (statements end with `;`).
    pub query: Option<String>,
    /// Read the rest of the store(s) when a file is corrupt, reporting each file skipped.
    #[arg(long)]
    pub skip_corrupt: bool,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Print on standard error how long each statement took (planning to last row).
    #[arg(long)]
    pub timing: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub range: TimeRange,
    /// Read the rest of the store when a file is corrupt, reporting each file skipped.
    #[arg(long)]
    pub skip_corrupt: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct PartitionsArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Cutoff {
    /// Remove the days before this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub before: Option<UtcDay>,
    /// Remove the days older than this many days before today, e.g. 30d.
    #[arg(long, value_parser = parse_days)]
    pub older_than: Option<u32>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub cutoff: Cutoff,
    /// Print what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Only this day.
    #[arg(long, value_parser = parse_day, conflicts_with = "before")]
    pub day: Option<UtcDay>,
    /// Only the days before this one.
    #[arg(long, value_parser = parse_day)]
    pub before: Option<UtcDay>,
    /// Size of the files to make, e.g. 128MiB, 64MB, 1GiB.
    #[arg(long, default_value = "128MiB", value_parser = parse_size)]
    pub target_size: u64,
    /// zstd level of the files to make, 1 to 22; days with a file below it are rewritten.
    /// 19 makes cold days about a fifth smaller than ingest's 3, at some 60 times the CPU.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=22))]
    pub level: i32,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also decode every row of every file.
    #[arg(long)]
    pub deep: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Which agent's logs.
    #[arg(value_enum, default_value_t = ImportSource::All)]
    pub source: ImportSource,
    /// Roots, project folders or single files; none: each agent's default roots
    /// ($CLAUDE_CONFIG_DIR or ~/.claude and ~/.config/claude; $CODEX_HOME or ~/.codex;
    /// ~/.gemini/tmp; upstream kaizen: ~/.kaizen/projects/*/kaizen.db). For kaizen-db, a
    /// kaizen.db file or a folder holding projects/*/kaizen.db.
    pub paths: Vec<PathBuf>,
    /// Keep a line that is not JSON as text and go on, instead of refusing the whole run
    /// (kaizen-db: leave an invalid row out, counted and listed).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Read and report; write nothing (cursors included).
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportSource {
    All,
    Claude,
    Codex,
    Gemini,
    /// Upstream kaizen's SQLite databases, read-only.
    KaizenDb,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which agent's files.
    #[arg(value_enum)]
    pub agent: ExportAgent,
    /// Only this session (repeatable).
    #[arg(long = "session", value_name = "ID")]
    pub sessions: Vec<String>,
    /// Only sessions with events in this range (their files are written whole).
    #[command(flatten)]
    pub range: TimeRange,
    /// The folder to write the files into, at their paths relative to the agent's root.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The agent whose hook runs this (its hook input on standard input).
    #[arg(value_enum)]
    pub agent: HookAgent,
    /// Print the import's summary (hooks' output is usually hidden).
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookAgent {
    Claude,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportAgent {
    Claude,
    Codex,
    Gemini,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The target store URL (any backend).
    #[arg(long)]
    pub to: String,
    /// An object-store option for the target, key=value (repeatable).
    #[arg(long = "to-option", value_name = "KEY=VALUE", value_parser = parse_option)]
    pub to_options: Vec<(String, String)>,
    /// Copy events at or after this time only.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<u64>,
    /// Copy events before this time only.
    #[arg(long = "to-time", value_parser = parse_time)]
    pub to_time: Option<u64>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Days the sessions start in.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// First day (default 2026-10-01, as shared/tools/gen_events.py).
    #[arg(long, value_parser = parse_day)]
    pub start: Option<UtcDay>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Events in the generated corpus.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub events: u64,
    /// Days the corpus's sessions start in.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Work in this empty folder, and keep it (default: a temporary folder, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the temporary folder (corpus, both stores, each phase's output).
    #[arg(long)]
    pub keep: bool,
    /// After the queries, also time `kaizen compact --level N` and the bytes it leaves.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=22))]
    pub compact_level: Option<i32>,
    /// Instead: write a generated agent-log tree (Claude Code, Codex, Gemini CLI) of
    /// `--import-mb` MB over `--days` days ending yesterday, time `kaizen import` on it, its
    /// rerun and `kaizen report --by day|session`, beside ccusage on the same tree when it is
    /// installed (scripts/bench-tools; or `$KAIZEN_CCUSAGE`), whose tokens must agree.
    #[arg(long, conflicts_with_all = ["events", "compact_level"])]
    pub import: bool,
    /// Megabytes (10^6 bytes) of agent logs for `--import`.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "import",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub import_mb: u64,
    /// Instead: `kaizen serve` on loopback under 1, 8 and 64 concurrent OTLP senders
    /// (records/s, p50/p99 request latency) and its peak RSS; every record acknowledged
    /// must be in the store once after it stops.
    #[arg(long, conflicts_with_all = ["events", "compact_level", "import"])]
    pub serve: bool,
    /// Records each concurrency level of `--serve` sends (in requests of 100).
    #[arg(long, value_name = "N", default_value_t = 100_000, requires = "serve",
          value_parser = clap::value_parser!(u64).range(100..))]
    pub serve_records: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Import a generated week of agent logs even when this machine has its own.
    #[arg(long)]
    pub sample: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell the script is for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen (OTLP/HTTP's port is 4318). Anything but loopback needs --token-file.
    #[arg(long, default_value = "127.0.0.1:4318")]
    pub listen: std::net::SocketAddr,
    /// A file of bearer tokens, one `NAME TOKEN` a line (`#` comments): a request must
    /// carry one (`Authorization: Bearer TOKEN`), and its events get `host` = NAME.
    /// Repeatable. Tokens are at least 16 characters.
    #[arg(long = "token-file", value_name = "F")]
    pub token_files: Vec<PathBuf>,
    /// The spool: a folder of fsynced segments, what is acknowledged and not yet in the
    /// store. One server per spool (locked).
    #[arg(long, default_value = "./kaizen-spool")]
    pub spool: PathBuf,
    /// Flush to the store when the open segment holds this much (B, KiB, MiB, …).
    #[arg(long, default_value = "32MiB", value_parser = parse_size)]
    pub flush_bytes: u64,
    /// Flush to the store when the open segment's first record is this old (500ms, 60s, 5m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub flush_age: std::time::Duration,
    /// Largest request body, as sent and after gzip (413 above).
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// Most log records (spans) in one request (413 above).
    #[arg(long, default_value_t = 50_000)]
    pub max_records: u64,
    /// Largest attribute (key or value: a string, bytes, or an array's or map's total), and
    /// largest log body (413 above).
    #[arg(long, default_value = "256KiB", value_parser = parse_size)]
    pub max_attribute_bytes: u64,
    /// Most bytes the spool may hold on disk: over it, requests get 503 with Retry-After
    /// until a flush makes room.
    #[arg(long, default_value = "1GiB", value_parser = parse_size)]
    pub spool_max_bytes: u64,
    /// Requests handled at once; more get 429 with Retry-After (bounds memory: each holds
    /// at most two --max-body buffers).
    #[arg(long, default_value_t = 64)]
    pub max_inflight: usize,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command (`import`, `sql`, …): its page, `kaizen-COMMAND(1)`, instead of `kaizen(1)`.
    pub command: Option<String>,
}

fn parse_time(s: &str) -> Result<u64, String> {
    kaizen_core::parse_time_arg(s).map_err(|e| e.to_string())
}

fn parse_day(s: &str) -> Result<UtcDay, String> {
    s.parse().map_err(|e: kaizen_core::Error| e.to_string())
}

fn parse_kind(s: &str) -> Result<EventKind, String> {
    EventKind::from_name(s).ok_or_else(|| {
        let names: Vec<_> = EventKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown kind {s:?} (one of {})", names.join(", "))
    })
}

/// `30d` or `30`: a whole number of days.
fn parse_days(s: &str) -> Result<u32, String> {
    s.strip_suffix('d')
        .unwrap_or(s)
        .parse()
        .map_err(|_| format!("expected a number of days such as 30d, got {s:?}"))
}

fn parse_option(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

/// A duration: a number with a unit (ms, s, m, h), e.g. `500ms`, `60s`, `5m`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 60s, got {s:?}"))?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(format!("unknown unit in {s:?} (ms, s, m, h)")),
    };
    ms.filter(|ms| *ms > 0)
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| format!("duration {s:?} out of range"))
}

/// A size in bytes: a number with an optional unit (B, KB, MB, GB, KiB, MiB, GiB).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("expected a size such as 128MiB, got {s:?}"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit in {s:?} (B, KB, MB, GB, KiB, MiB, GiB)"
            ));
        }
    };
    number
        .checked_mul(scale)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("size {s:?} out of range"))
}
