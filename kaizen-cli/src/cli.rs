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

    /// Print the requests each object store was sent (get, head, list, put, delete, copy)
    /// to standard error when the command ends: what it costs on a bucket.
    #[arg(long, global = true)]
    pub requests: bool,

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
    /// SQL over the store(s): a table `events` (22 columns, 5 derived, `day`, `store`). No query: a prompt.
    Sql(SqlArgs),
    /// What agents cost and did per day, week, month, 5-hour block, session, model, tool, …
    Report(ReportArgs),
    /// Events, sessions, cost and tokens per day.
    Stats(StatsArgs),
    /// Per day: files, rows, bytes and time span.
    Partitions(PartitionsArgs),
    /// Remove whole days of data files older than a cutoff, or (--payload-older-than) only
    /// their payloads, keeping every typed column.
    Prune(PruneArgs),
    /// Remove every event of sessions from every file of the store (and their import
    /// cursors); print what was removed.
    Erase(EraseArgs),
    /// Run the secret detectors of import and ingest over what is stored, and rewrite the
    /// files holding a match (each secret replaced by [REDACTED:<detector>]).
    Redact(StoredRedactArgs),
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
    #[command(flatten)]
    pub redact: RedactArgs,
}

/// Secret redaction, on by default in `ingest` and `import` (see the README).
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Store secrets as they are. By default each secret the built-in detectors (and
    /// --redact-pattern/--redact-patterns) find is replaced by [REDACTED:<detector>] before
    /// anything is stored.
    #[arg(long, conflicts_with_all = ["redact_patterns", "redact_pattern_files"])]
    pub keep_secrets: bool,
    /// Also redact what this regular expression matches (repeatable; the n-th is the
    /// detector custom-n; only its group named `secret`, when it has one).
    #[arg(long = "redact-pattern", value_name = "REGEX")]
    pub redact_patterns: Vec<String>,
    /// Also redact the patterns of FILE, one `NAME = REGEX` a line (`#` comments; repeatable).
    #[arg(long = "redact-patterns", value_name = "FILE")]
    pub redact_pattern_files: Vec<PathBuf>,
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
    /// The last this many days of the time zone (today included); the default window when
    /// neither --since nor --until is given is 30 days.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "since")]
    pub days: Option<u32>,
    /// From this day on (YYYY-MM-DD or YYYYMMDD, a calendar day of the time zone).
    #[arg(long, value_parser = parse_local_date)]
    pub since: Option<chrono::NaiveDate>,
    /// Up to this day, included (YYYY-MM-DD or YYYYMMDD, a calendar day of the time zone).
    #[arg(long, value_parser = parse_local_date)]
    pub until: Option<chrono::NaiveDate>,
    /// The groups, comma-separated (`--by day,model`): at most one of day, week (from
    /// Monday), month, block (5-hour usage windows), with any of the others.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "day")]
    pub by: Vec<ReportBy>,
    /// An IANA time zone (Europe/Paris, Asia/Kolkata, UTC) for days, weeks and months and
    /// for --since/--until; default: $TZ, else the machine's zone.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// Cost recomputed from the stored tokens with the shipped price table (or --prices),
    /// beside the recorded cost, and the difference per model.
    #[arg(long)]
    pub reprice: bool,
    /// A price table for --reprice, in the shipped file's form
    /// ({"version", "models": {name: {"input_cost_per_token": …}}}).
    #[arg(long, value_name = "FILE", requires = "reprice")]
    pub prices: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportOutput::Table)]
    pub format: ReportOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum ReportBy {
    /// Calendar day of the time zone.
    Day,
    /// Calendar week of the time zone, Monday to Sunday (named by its Monday).
    Week,
    /// Calendar month of the time zone.
    Month,
    /// 5-hour usage windows (as ccusage's `blocks`), per agent.
    Block,
    /// The session.
    Session,
    Model,
    Agent,
    /// The project (imported agent logs: the project folder or working directory).
    Project,
    Tool,
    /// The machine: the payload's `host`, else the store the event lives in.
    Host,
    /// The store the event lives in (several stores: `--store` repeated or a glob).
    Store,
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
    /// Keep the days older than this many days before today (e.g. 30d) but replace each
    /// event's payload by a small marker: cost, tokens, latency, tools, kinds and every
    /// other typed column stay, and reports over those days give the same figures.
    #[arg(long, value_parser = parse_days)]
    pub payload_older_than: Option<u32>,
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
pub struct StoredRedactArgs {
    #[command(flatten)]
    pub range: TimeRange,
    /// Only this session (repeatable).
    #[arg(long = "session", value_name = "ID")]
    pub sessions: Vec<String>,
    /// Print what would be rewritten; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub redact: RedactArgs,
}

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// A session whose every event is removed (repeatable), its whole id.
    #[arg(long = "session", value_name = "ID", required = true, value_parser = parse_session_id)]
    pub sessions: Vec<String>,
    /// Print what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Only this day (the current UTC day too, which is otherwise left to its writers).
    #[arg(long, value_parser = parse_day, conflicts_with_all = ["before", "all"])]
    pub day: Option<UtcDay>,
    /// Only the days before this one (default: before the current UTC day, the sealed days).
    #[arg(long, value_parser = parse_day, conflicts_with = "all")]
    pub before: Option<UtcDay>,
    /// Every day, the current UTC day included.
    #[arg(long)]
    pub all: bool,
    /// Size of the files to make, e.g. 128MiB, 64MB, 1GiB.
    #[arg(long, default_value = "128MiB", value_parser = parse_size)]
    pub target_size: u64,
    /// zstd level of the files to make, 1 to 22; days with a file below it are rewritten.
    /// The default, 19 (the cold level), makes a day about a fifth smaller than ingest's 4,
    /// at some 24 CPU-s per 100k events.
    #[arg(long, default_value_t = kaizen_store::codec::COLD_ZSTD_LEVEL,
          value_parser = clap::value_parser!(i32).range(1..=22))]
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
    #[command(flatten)]
    pub redact: RedactArgs,
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

impl BenchArgs {
    /// The corpus's name, as the bench's report gives it.
    pub fn corpus_name(&self) -> &'static str {
        match self.corpus {
            BenchCorpus::Generated => "generated",
            BenchCorpus::AgentLogs => "agent-logs",
        }
    }
}

/// Which events `kaizen bench` measures on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchCorpus {
    /// gen_events.py's corpus.
    Generated,
    /// Imported agent logs.
    AgentLogs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Events in the generated corpus.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub events: u64,
    /// The corpus: `generated` (gen_events.py's events, payloads of random words) or
    /// `agent-logs` (a generated Claude Code, Codex and Gemini CLI tree of `--corpus-mb` MB,
    /// imported, and its events as `kaizen scan` writes them: payloads of code, diffs and
    /// tool output, as an archive holds).
    #[arg(long, value_enum, default_value_t = BenchCorpus::Generated)]
    pub corpus: BenchCorpus,
    /// Megabytes (10^6 bytes) of agent logs for `--corpus agent-logs`.
    #[arg(long, value_name = "N", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub corpus_mb: u64,
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
    #[arg(long, conflicts_with_all = ["events", "compact_level", "report_stores"])]
    pub import: bool,
    /// Megabytes (10^6 bytes) of agent logs for `--import`.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "import",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub import_mb: u64,

    /// With `--store s3://…` (or gs://, az://): milliseconds to wait before each request
    /// to the bucket, as a real one takes (a loopback server answers in well under one).
    #[arg(long, value_name = "MS", default_value_t = 30)]
    pub request_latency_ms: u64,
    /// Instead: ingest the corpus (`--events` over `--days`) once, link it into N stores
    /// (one per machine, as many machines' stores in one bucket), and time `kaizen report`
    /// over all N for the corpus's days (`--by day`, `--by model`), its figures checked.
    #[arg(long, value_name = "N", conflicts_with = "compact_level",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub report_stores: Option<u32>,
    /// Instead: `kaizen serve` on loopback under 1, 8 and 64 concurrent OTLP senders
    /// (records/s, p50/p99 request latency) and its peak RSS; every record acknowledged
    /// must be in the store once after it stops.
    #[arg(long, conflicts_with_all = ["events", "compact_level", "import", "report_stores"])]
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
    /// Requests decoded and spooled at once; more get 429 with Retry-After. Request bodies
    /// being received hold at most --max-inflight x --max-body bytes of memory between them
    /// (429 beyond), so a slow sender holds what it sent, not a request slot. At least 1.
    #[arg(long, default_value_t = 64, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_inflight: usize,
    /// Most connections open at once. At the cap no connection is accepted: new ones wait
    /// in the kernel's backlog until one closes. At least 1.
    #[arg(long, default_value_t = 512, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,
    /// A connection that does not send a whole request head within this time (the first,
    /// or the next on a kept-alive connection) is closed: half-sent requests cannot hold
    /// connections (slowloris).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: std::time::Duration,
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

/// A calendar day: `YYYY-MM-DD` or `YYYYMMDD` (ccusage's form).
fn parse_local_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%Y%m%d"))
        .map_err(|_| format!("expected a day such as 2026-10-01 or 20261001, got {s:?}"))
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

/// A session id as given: refused when empty or only spaces (no session has such an id, and
/// an erase of it is a mistake).
fn parse_session_id(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("a session id cannot be empty".to_owned());
    }
    Ok(text.to_owned())
}
