//! `kaizen bench --import`: on one generated agent-log tree, in one run, `kaizen import`
//! (throughput, peak memory), its rerun from the cursors, and `kaizen report --by day` and
//! `--by session` after it, beside ccusage 20.0.24 reading the same files when it is
//! installed.
//!
//! Nothing is reported that was not checked: kaizen's import summary and its report must
//! give the tree's own figures (counted by the generator as it wrote, never read back), the
//! rerun must write nothing, and ccusage's tokens per day must equal kaizen's, up to the
//! one documented difference of convention (ccusage keeps Gemini's thoughts out of
//! `outputTokens`). Any difference fails the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use kaizen_core::UtcDay;
use kaizen_import::sample::{AgentSample, SampleOptions, SampleSummary};
use serde::{Deserialize, Serialize};

use super::measure::{self, Measured};
use crate::cli::BenchArgs;

/// Bytes the generator writes per session, on average over the three agents (85.5 KB on
/// trees of 5 and 50 MB): how many sessions make the size asked for.
pub(super) const BYTES_PER_SESSION: u64 = 85_500;

/// Runs of each report (kaizen's and ccusage's), of which the fastest counts.
pub(super) const REPORT_RUNS: usize = 3;

/// The ccusage version whose conventions the comparison knows.
const CCUSAGE_VERSION: &str = "20.0.24";

/// Import throughput the issue asks for, MB/s.
const IMPORT_GOAL_MB_S: f64 = 100.0;

/// Peak memory of an import the issue allows, MB (10^6 bytes), whatever the tree's size.
const IMPORT_GOAL_RSS_MB: f64 = 200.0;

/// An import over an unchanged tree must take well under this, seconds.
const RERUN_GOAL_SECONDS: f64 = 1.0;

/// How many times faster than ccusage the issue asks kaizen's reports to be.
const REPORT_GOAL_SPEEDUP: f64 = 10.0;

/// Tokens in the store's convention: `input` excludes cache reads and writes, `output`
/// includes reasoning (thoughts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    /// Input tokens, cache reads and writes excluded.
    pub input: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the prompt cache (5-minute and 1-hour).
    pub cache_creation: u64,
}

impl Tokens {
    fn add(&mut self, other: Tokens) {
        self.input += other.input;
        self.output += other.output;
        self.cache_read += other.cache_read;
        self.cache_creation += other.cache_creation;
    }
}

/// The generated tree, as its generator counted it.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    /// Bytes of every file written.
    pub bytes: u64,
    /// Files written.
    pub files: u64,
    /// Lines written (each one event once imported).
    pub lines: u64,
    /// Distinct session ids over the three agents.
    pub sessions: u64,
    /// API responses (each carries one response's tokens).
    pub responses: u64,
    pub tokens: Tokens,
    /// Reasoning tokens of Gemini (part of `tokens.output`; ccusage leaves them out of
    /// Gemini's `outputTokens`).
    pub gemini_reasoning: u64,
    /// The generator's options: sessions of each agent, over `days` UTC days from
    /// `first_day` to `last_day` (yesterday), both `YYYY-MM-DD`.
    pub sessions_per_agent: u32,
    pub days: u32,
    pub first_day: String,
    pub last_day: String,
}

/// The first import, from nothing.
#[derive(Debug, Clone, Serialize)]
pub struct ImportFigures {
    /// The whole `kaizen import` process, wall clock.
    pub seconds: f64,
    /// Tree bytes (10^6) per second.
    pub mb_per_second: f64,
    /// Events written per second.
    pub events_per_second: f64,
    /// The import process's peak resident memory (`None` where the OS does not tell).
    pub peak_rss_bytes: Option<u64>,
    /// From kaizen's import summary: files, lines and bytes read, events made and written,
    /// distinct sessions, API responses and their tokens.
    pub files: u64,
    pub lines: u64,
    pub bytes: u64,
    pub events: u64,
    pub events_written: u64,
    pub sessions: u64,
    pub responses: u64,
    pub tokens: Tokens,
    /// Parquet files the import published.
    pub data_files_written: usize,
    /// The store's bytes on disk after the import.
    pub store_bytes: u64,
}

/// The same import again, from the cursors it stored.
#[derive(Debug, Clone, Serialize)]
pub struct RerunFigures {
    /// The whole process, wall clock.
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
    /// Files skipped unopened because their cursor says nothing changed.
    pub files_unchanged: u64,
    pub lines_read: u64,
    pub events_written: u64,
}

/// One kaizen report after the import: the fastest of [`REPORT_RUNS`] processes.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFigures {
    /// The whole process, wall clock.
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
    /// Rows printed (days, sessions), and the sums of their events and tokens.
    pub rows: u64,
    pub events: u64,
    pub tokens: Tokens,
}

/// One ccusage command's fastest run.
#[derive(Debug, Clone, Serialize)]
pub struct CcusageRun {
    /// The arguments given to ccusage.
    pub command: String,
    /// The whole process (node and the native binary it starts), wall clock.
    pub seconds: f64,
    /// The largest peak resident memory of the process and its children.
    pub peak_rss_bytes: Option<u64>,
}

/// ccusage on the same tree.
#[derive(Debug, Clone, Serialize)]
pub struct Ccusage {
    /// Its entry script (`src/cli.js`), and the version its `package.json` states.
    pub path: PathBuf,
    pub version: String,
    /// `claude|codex|gemini daily`, each the fastest of [`REPORT_RUNS`].
    pub daily: Vec<CcusageRun>,
    /// `claude|codex|gemini session`, likewise.
    pub session: Vec<CcusageRun>,
    /// The sums of the three agents' fastest runs, seconds.
    pub daily_seconds: f64,
    pub session_seconds: f64,
    /// Days both compared, and whether every token figure agreed (the run fails otherwise).
    pub days_compared: usize,
    pub tokens_agree: bool,
    /// The largest difference of one day's cost, kaizen's against ccusage's, relative to
    /// ccusage's (informative: prices are documented to differ slightly, see README).
    pub max_day_cost_difference: f64,
}

/// A figure beside the goal the issue set for it.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    /// What is measured, its value, the target and whether the value meets it.
    pub name: &'static str,
    pub value: f64,
    pub target: &'static str,
    pub met: bool,
}

/// Everything `kaizen bench --import` measured.
#[derive(Debug, Serialize)]
pub struct ImportBenchReport {
    /// Always `import` (the other benchmark's report has no `mode`).
    pub mode: &'static str,
    /// The size asked for, MB (10^6 bytes); `tree.bytes` is the size written.
    pub import_mb: u64,
    /// Cores this process may use.
    pub cores: usize,
    pub tree: Tree,
    pub import: ImportFigures,
    pub rerun: RerunFigures,
    pub report_by_day: ReportFigures,
    pub report_by_session: ReportFigures,
    /// The import summary and both reports gave the tree's own figures.
    pub kaizen_matches_tree: bool,
    pub ccusage: Option<Ccusage>,
    pub goals: Vec<Goal>,
}

/// Runs the import benchmark in the empty folder `dir`.
pub fn bench(args: &BenchArgs, dir: &Path) -> anyhow::Result<ImportBenchReport> {
    let exe = std::env::current_exe().context("this program's path")?;
    let tree_dir = dir.join("tree");
    let store = dir.join("store");

    let sessions_per_agent =
        u32::try_from((args.import_mb * 1_000_000 / 3 / BYTES_PER_SESSION).max(1))
            .context("--import-mb: too large")?;
    let last = UtcDay::today().minus_days(1);
    let options = SampleOptions {
        days: args.days,
        sessions_per_agent,
        seed: args.seed,
        end_day: last,
    };
    eprintln!(
        "writing about {} MB of agent logs ({sessions_per_agent} sessions per agent over {} days)…",
        args.import_mb, args.days
    );
    let summary = kaizen_import::sample::write_tree(&tree_dir, &options)?;
    let tree = tree_figures(&summary, &options);

    eprintln!("kaizen import…");
    let first = measure::run(
        import_command(&exe, &store, &tree_dir),
        dir,
        "kaizen-import",
    )?;
    let imported: ImportOut = serde_json::from_str(&first.stdout)
        .with_context(|| format!("kaizen import's summary: {}", first.stdout))?;
    let import = import_figures(&first, &imported, dir_bytes(&store)?);

    eprintln!("kaizen import again (from its cursors)…");
    let second = measure::run(
        import_command(&exe, &store, &tree_dir),
        dir,
        "kaizen-import-again",
    )?;
    let again: ImportOut = serde_json::from_str(&second.stdout)
        .with_context(|| format!("kaizen import's summary: {}", second.stdout))?;
    let all_again = again.all();
    let rerun = RerunFigures {
        seconds: second.seconds,
        peak_rss_bytes: second.peak_rss,
        files_unchanged: all_again.files_unchanged,
        lines_read: all_again.lines,
        events_written: again.events_written,
    };

    eprintln!("kaizen report --by day, --by session…");
    let (report_by_day, day_rows) = kaizen_report(&exe, &store, dir, "day")?;
    let (report_by_session, _) = kaizen_report(&exe, &store, dir, "session")?;

    check_against_tree(&tree, &import, &rerun, &report_by_day, &report_by_session)?;

    let ccusage = match find_ccusage()? {
        Some(path) => {
            eprintln!("ccusage daily, session…");
            Some(run_ccusage(&path, &tree_dir, dir, &summary, &day_rows)?)
        }
        None => {
            eprintln!(
                "ccusage: not installed (scripts/bench-tools installs it; or set KAIZEN_CCUSAGE); kaizen's figures alone"
            );
            None
        }
    };

    let goals = goals(
        &import,
        &rerun,
        &report_by_day,
        &report_by_session,
        ccusage.as_ref(),
    );
    Ok(ImportBenchReport {
        mode: "import",
        import_mb: args.import_mb,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        tree,
        import,
        rerun,
        report_by_day,
        report_by_session,
        kaizen_matches_tree: true,
        ccusage,
        goals,
    })
}

fn tree_figures(summary: &SampleSummary, options: &SampleOptions) -> Tree {
    let agents = [&summary.claude, &summary.codex, &summary.gemini];
    let sum = |f: fn(&AgentSample) -> u64| agents.iter().map(|a| f(a)).sum::<u64>();
    Tree {
        bytes: summary.bytes(),
        files: sum(|a| a.files),
        lines: sum(|a| a.lines),
        sessions: sum(|a| a.sessions),
        responses: sum(|a| a.responses),
        tokens: Tokens {
            input: sum(|a| a.input),
            output: sum(|a| a.output),
            cache_read: sum(|a| a.cache_read),
            cache_creation: sum(|a| a.cache_creation_5m + a.cache_creation_1h),
        },
        gemini_reasoning: summary.gemini.reasoning,
        sessions_per_agent: options.sessions_per_agent,
        days: options.days,
        first_day: options.end_day.minus_days(options.days - 1).to_string(),
        last_day: options.end_day.to_string(),
    }
}

/// `kaizen --store STORE import all TREE --format json`.
fn import_command(exe: &Path, store: &Path, tree: &Path) -> Command {
    let mut command = Command::new(exe);
    command.arg("--store").arg(store);
    command.args(["import", "all"]).arg(tree);
    command.args(["--format", "json"]);
    command
}

/// What `kaizen import --format json` prints (the fields this benchmark reads).
#[derive(Debug, Deserialize)]
struct ImportOut {
    report: kaizen_import::Report,
    events_written: u64,
    files_written: usize,
}

impl ImportOut {
    /// The figures of every source together.
    fn all(&self) -> kaizen_import::SourceReport {
        let mut all = kaizen_import::SourceReport::default();
        for source in self.report.sources.values() {
            all.merge(source);
        }
        all
    }
}

fn import_figures(run: &Measured, out: &ImportOut, store_bytes: u64) -> ImportFigures {
    let all = out.all();
    let seconds = run.seconds.max(1e-9);
    ImportFigures {
        seconds: run.seconds,
        mb_per_second: all.bytes as f64 / 1e6 / seconds,
        events_per_second: out.events_written as f64 / seconds,
        peak_rss_bytes: run.peak_rss,
        files: all.files,
        lines: all.lines,
        bytes: all.bytes,
        events: all.events,
        events_written: out.events_written,
        sessions: all.sessions.len() as u64,
        responses: all.responses,
        tokens: Tokens {
            input: all.input,
            output: all.output,
            cache_read: all.cache_read,
            cache_creation: all.cache_creation(),
        },
        data_files_written: out.files_written,
        store_bytes,
    }
}

/// `kaizen report --format json` (schema `kaizen.report/1`): its rows.
#[derive(Debug, Deserialize)]
struct ReportDoc {
    rows: Vec<ReportRow>,
}

/// One row of `kaizen report --format json` (the fields this benchmark reads).
#[derive(Debug, Deserialize)]
struct ReportRow {
    /// The day or the session.
    #[serde(alias = "day", alias = "session")]
    key: String,
    events: u64,
    cost_usd_e6: i64,
    input_tokens: u64,
    output_tokens: u64,
    cache_read_tokens: u64,
    cache_write_5m_tokens: u64,
    cache_write_1h_tokens: u64,
}

impl ReportRow {
    fn tokens(&self) -> Tokens {
        Tokens {
            input: self.input_tokens,
            output: self.output_tokens,
            cache_read: self.cache_read_tokens,
            cache_creation: self.cache_write_5m_tokens + self.cache_write_1h_tokens,
        }
    }
}

/// `kaizen report --by BY` over every day the tree can hold, the fastest of a few runs
/// (all must print the same rows); its figures and rows.
fn kaizen_report(
    exe: &Path,
    store: &Path,
    dir: &Path,
    by: &str,
) -> anyhow::Result<(ReportFigures, Vec<ReportRow>)> {
    let command = || {
        let mut command = Command::new(exe);
        command.arg("--store").arg(store);
        // Days of UTC, as ccusage is run (`--timezone UTC`).
        command.args(["report", "--by", by, "--days", "3650", "--timezone", "UTC"]);
        command.args(["--format", "json"]);
        command
    };
    let best = fastest(command, dir, &format!("kaizen-report-{by}"))?;
    let rows = serde_json::from_str::<ReportDoc>(&best.stdout)
        .with_context(|| format!("kaizen report --by {by}: {}", best.stdout))?
        .rows;
    let mut tokens = Tokens::default();
    for row in &rows {
        tokens.add(row.tokens());
    }
    let figures = ReportFigures {
        seconds: best.seconds,
        peak_rss_bytes: best.peak_rss,
        rows: rows.len() as u64,
        events: rows.iter().map(|r| r.events).sum(),
        tokens,
    };
    Ok((figures, rows))
}

/// The fastest of [`REPORT_RUNS`] runs of the command `make` builds; every run must print
/// the same standard output (the machine is shared and noisy: the fastest is what the
/// program can do).
fn fastest(make: impl Fn() -> Command, dir: &Path, what: &str) -> anyhow::Result<Measured> {
    let mut best: Option<Measured> = None;
    for _ in 0..REPORT_RUNS {
        let run = measure::run(make(), dir, what)?;
        if let Some(b) = &best {
            anyhow::ensure!(
                b.stdout == run.stdout,
                "{what}: two runs printed different output"
            );
        }
        if best.as_ref().is_none_or(|b| run.seconds < b.seconds) {
            best = Some(run);
        }
    }
    best.ok_or_else(|| anyhow::anyhow!("{what}: no run"))
}

/// kaizen's figures against the tree's own: the import read every line and byte, made an
/// event of each line, wrote each once and counted every token once; the rerun read and
/// wrote nothing; the reports sum to the same tokens and events.
fn check_against_tree(
    tree: &Tree,
    import: &ImportFigures,
    rerun: &RerunFigures,
    by_day: &ReportFigures,
    by_session: &ReportFigures,
) -> anyhow::Result<()> {
    let mut wrong = Vec::new();
    let mut expect = |what: &str, kaizen: u64, tree: u64| {
        if kaizen != tree {
            wrong.push(format!("{what}: kaizen {kaizen}, tree {tree}"));
        }
    };
    expect("import: files", import.files, tree.files);
    expect("import: lines", import.lines, tree.lines);
    expect("import: bytes", import.bytes, tree.bytes);
    expect("import: events (one per line)", import.events, tree.lines);
    expect("import: events written", import.events_written, tree.lines);
    expect("import: sessions", import.sessions, tree.sessions);
    expect("import: API responses", import.responses, tree.responses);
    for (what, kaizen, want) in token_pairs("import", import.tokens, tree.tokens) {
        expect(&what, kaizen, want);
    }
    expect("rerun: files unchanged", rerun.files_unchanged, tree.files);
    expect("rerun: lines read", rerun.lines_read, 0);
    expect("rerun: events written", rerun.events_written, 0);
    expect("report --by day: events", by_day.events, tree.lines);
    for (what, kaizen, want) in token_pairs("report --by day", by_day.tokens, tree.tokens) {
        expect(&what, kaizen, want);
    }
    expect(
        "report --by session: sessions",
        by_session.rows,
        tree.sessions,
    );
    expect("report --by session: events", by_session.events, tree.lines);
    for (what, kaizen, want) in token_pairs("report --by session", by_session.tokens, tree.tokens) {
        expect(&what, kaizen, want);
    }
    if !wrong.is_empty() {
        bail!(
            "kaizen's figures differ from the generated tree's:\n  {}",
            wrong.join("\n  ")
        );
    }
    Ok(())
}

fn token_pairs(what: &str, kaizen: Tokens, want: Tokens) -> [(String, u64, u64); 4] {
    [
        (format!("{what}: input tokens"), kaizen.input, want.input),
        (format!("{what}: output tokens"), kaizen.output, want.output),
        (
            format!("{what}: cache read tokens"),
            kaizen.cache_read,
            want.cache_read,
        ),
        (
            format!("{what}: cache creation tokens"),
            kaizen.cache_creation,
            want.cache_creation,
        ),
    ]
}

/// ccusage's entry script: `$KAIZEN_CCUSAGE` (which must exist), else where
/// scripts/bench-tools installs it; `None` when it is not there.
fn find_ccusage() -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = std::env::var_os("KAIZEN_CCUSAGE") {
        let path = PathBuf::from(path);
        anyhow::ensure!(
            path.is_file(),
            "KAIZEN_CCUSAGE={}: no such file",
            path.display()
        );
        return Ok(Some(path));
    }
    let tools = match std::env::var_os("KAIZEN_TOOLS") {
        Some(tools) => PathBuf::from(tools),
        None => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(".cache/kaizen-test-tools"),
            None => return Ok(None),
        },
    };
    let path = tools.join("ccusage/node_modules/ccusage/src/cli.js");
    Ok(path.is_file().then_some(path))
}

/// The version in the `package.json` beside ccusage's `src/`.
fn ccusage_version(cli: &Path) -> anyhow::Result<String> {
    let package = (cli.parent().and_then(Path::parent))
        .map(|p| p.join("package.json"))
        .context("ccusage: no package folder")?;
    let text = std::fs::read_to_string(&package)
        .with_context(|| format!("{}: cannot read", package.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", package.display()))?;
    json["version"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{}: no version", package.display()))
}

const AGENTS: [&str; 3] = ["claude", "codex", "gemini"];

/// Times ccusage's daily and session reports of each agent on the tree, and compares its
/// tokens per day with kaizen's `report --by day` rows.
fn run_ccusage(
    cli: &Path,
    tree: &Path,
    dir: &Path,
    summary: &SampleSummary,
    kaizen_days: &[ReportRow],
) -> anyhow::Result<Ccusage> {
    let version = ccusage_version(cli)?;
    if version != CCUSAGE_VERSION {
        eprintln!(
            "ccusage {version}: the comparison knows the conventions of {CCUSAGE_VERSION} (scripts/bench-tools installs it)"
        );
    }
    // An empty home: ccusage must read the tree, never the user's own logs.
    let home = dir.join("ccusage-home");
    std::fs::create_dir_all(&home)?;
    let command = |agent: &str, report: &str| {
        let mut command = Command::new("node");
        command.arg(cli);
        command.args([agent, report, "--json", "--offline", "--timezone", "UTC"]);
        command
            .env("HOME", &home)
            .env("CLAUDE_CONFIG_DIR", tree.join("claude"))
            .env("CODEX_HOME", tree.join("codex"))
            .env("GEMINI_DATA_DIR", tree.join("gemini/tmp"));
        command
    };
    let mut daily = Vec::new();
    let mut session = Vec::new();
    let mut days: BTreeMap<String, CcDay> = BTreeMap::new();
    for agent in AGENTS {
        for (report, runs) in [("daily", &mut daily), ("session", &mut session)] {
            let what = format!("ccusage-{agent}-{report}");
            let best = fastest(|| command(agent, report), dir, &what)?;
            if report == "daily" {
                add_ccusage_days(agent, &best.stdout, &mut days)
                    .with_context(|| format!("{what}: its JSON"))?;
            }
            runs.push(CcusageRun {
                command: format!("ccusage {agent} {report} --json --offline --timezone UTC"),
                seconds: best.seconds,
                peak_rss_bytes: best.peak_rss,
            });
        }
    }
    let (days_compared, max_day_cost_difference) = compare_days(kaizen_days, &days, summary)?;
    eprintln!("ccusage: tokens agree with kaizen's on each of {days_compared} days");
    Ok(Ccusage {
        path: cli.to_path_buf(),
        version,
        daily_seconds: daily.iter().map(|r| r.seconds).sum(),
        session_seconds: session.iter().map(|r| r.seconds).sum(),
        daily,
        session,
        days_compared,
        tokens_agree: true,
        max_day_cost_difference,
    })
}

/// One day of ccusage's `daily --json`, summed over the agents, in the store's convention.
#[derive(Debug, Default)]
struct CcDay {
    tokens: Tokens,
    /// Gemini's thoughts: in its `totalTokens`, not in its `outputTokens`.
    gemini_thoughts: u64,
    cost_usd: f64,
}

/// Adds one agent's `daily --json` to `days`. Claude's and Gemini's days state
/// `totalCost`, Codex's `costUSD`.
fn add_ccusage_days(
    agent: &str,
    json: &str,
    days: &mut BTreeMap<String, CcDay>,
) -> anyhow::Result<()> {
    let doc: serde_json::Value = serde_json::from_str(json)?;
    let list = doc["daily"].as_array().context("no \"daily\" list")?;
    for day in list {
        let date = day["date"].as_str().context("a day without \"date\"")?;
        let number = |key: &str| {
            day[key]
                .as_u64()
                .with_context(|| format!("{date}: no whole \"{key}\""))
        };
        let tokens = Tokens {
            input: number("inputTokens")?,
            output: number("outputTokens")?,
            cache_read: number("cacheReadTokens")?,
            cache_creation: number("cacheCreationTokens")?,
        };
        let entry = days.entry(date.to_owned()).or_default();
        entry.tokens.add(tokens);
        if agent == "gemini" {
            let total = number("totalTokens")?;
            let counted = tokens.input + tokens.output + tokens.cache_read + tokens.cache_creation;
            entry.gemini_thoughts += total.checked_sub(counted).with_context(|| {
                format!("{date}: Gemini's totalTokens {total} under its parts {counted}")
            })?;
        }
        let cost = day["totalCost"]
            .as_f64()
            .or_else(|| day["costUSD"].as_f64());
        entry.cost_usd += cost.with_context(|| format!("{date}: no cost"))?;
    }
    Ok(())
}

/// Compares each day's tokens; fails on any difference beyond Gemini's thoughts, which
/// ccusage leaves out of `outputTokens` (and keeps in `totalTokens`): over the tree they
/// must be exactly the generator's Gemini reasoning. The days compared and the largest
/// relative difference of a day's cost.
fn compare_days(
    kaizen: &[ReportRow],
    ccusage: &BTreeMap<String, CcDay>,
    summary: &SampleSummary,
) -> anyhow::Result<(usize, f64)> {
    let mut wrong = Vec::new();
    let mut max_cost_difference: f64 = 0.0;
    let kaizen_days: BTreeMap<&str, &ReportRow> =
        kaizen.iter().map(|r| (r.key.as_str(), r)).collect();
    for (date, cc) in ccusage {
        let Some(k) = kaizen_days.get(date.as_str()) else {
            wrong.push(format!("{date}: in ccusage's report, not in kaizen's"));
            continue;
        };
        let mut theirs = cc.tokens;
        theirs.output += cc.gemini_thoughts;
        for (what, kaizen, ccusage) in token_pairs(date, k.tokens(), theirs) {
            if kaizen != ccusage {
                wrong.push(format!("{what}: kaizen {kaizen}, ccusage {ccusage}"));
            }
        }
        if cc.cost_usd > 0.0 {
            let ours = k.cost_usd_e6 as f64 / 1e6;
            max_cost_difference = max_cost_difference.max((ours - cc.cost_usd).abs() / cc.cost_usd);
        }
    }
    for row in kaizen {
        let spent = row.tokens();
        if !ccusage.contains_key(&row.key) && spent != Tokens::default() {
            wrong.push(format!(
                "{}: tokens in kaizen's report, no day in ccusage's",
                row.key
            ));
        }
    }
    let thoughts: u64 = ccusage.values().map(|d| d.gemini_thoughts).sum();
    if thoughts != summary.gemini.reasoning {
        wrong.push(format!(
            "Gemini thoughts (ccusage's totalTokens beyond its parts): {thoughts}, the tree's reasoning {}",
            summary.gemini.reasoning
        ));
    }
    if !wrong.is_empty() {
        bail!(
            "kaizen's and ccusage's tokens differ:\n  {}",
            wrong.join("\n  ")
        );
    }
    Ok((ccusage.len(), max_cost_difference))
}

fn goals(
    import: &ImportFigures,
    rerun: &RerunFigures,
    by_day: &ReportFigures,
    by_session: &ReportFigures,
    ccusage: Option<&Ccusage>,
) -> Vec<Goal> {
    let mut goals = vec![Goal {
        name: "import MB/s",
        value: import.mb_per_second,
        target: ">= 100",
        met: import.mb_per_second >= IMPORT_GOAL_MB_S,
    }];
    if let Some(rss) = import.peak_rss_bytes {
        let mb = rss as f64 / 1e6;
        goals.push(Goal {
            name: "import peak RSS, MB",
            value: mb,
            target: "<= 200",
            met: mb <= IMPORT_GOAL_RSS_MB,
        });
    }
    goals.push(Goal {
        name: "import again (unchanged), seconds",
        value: rerun.seconds,
        target: "< 1",
        met: rerun.seconds < RERUN_GOAL_SECONDS,
    });
    if let Some(cc) = ccusage {
        for (name, theirs, ours) in [
            (
                "ccusage daily / kaizen report --by day, seconds",
                cc.daily_seconds,
                by_day.seconds,
            ),
            (
                "ccusage session / kaizen report --by session, seconds",
                cc.session_seconds,
                by_session.seconds,
            ),
        ] {
            let value = theirs / ours.max(1e-9);
            goals.push(Goal {
                name,
                value,
                target: ">= 10",
                met: value >= REPORT_GOAL_SPEEDUP,
            });
        }
    }
    goals
}

/// The bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    super::dir_bytes(dir)
}

/// Prints the report as tables, like the other bench mode.
pub fn print_table(report: &ImportBenchReport) -> anyhow::Result<()> {
    let mib = |b: Option<u64>| {
        b.map_or("?".to_owned(), |b| {
            format!("{:.0} MiB", b as f64 / 1048576.0)
        })
    };
    let secs = |s: f64| format!("{s:.3} s");
    let t = &report.tree;
    outln!(
        "agent-log tree: {:.1} MB, {} files, {} lines, {} sessions, {} to {} ({} cores); \
         each report the fastest of {REPORT_RUNS} runs",
        t.bytes as f64 / 1e6,
        t.files,
        t.lines,
        t.sessions,
        t.first_day,
        t.last_day,
        report.cores
    );
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["", "kaizen", "ccusage"]);
    let i = &report.import;
    let cc = report.ccusage.as_ref();
    let none = || "-".to_owned();
    table.add_row(["import time".to_owned(), secs(i.seconds), none()]);
    table.add_row([
        "import MB/s".to_owned(),
        format!("{:.1}", i.mb_per_second),
        none(),
    ]);
    table.add_row([
        "import events/s".to_owned(),
        format!("{:.0}", i.events_per_second),
        none(),
    ]);
    table.add_row(["import peak RSS".to_owned(), mib(i.peak_rss_bytes), none()]);
    table.add_row([
        "events written".to_owned(),
        i.events_written.to_string(),
        none(),
    ]);
    table.add_row([
        "store bytes".to_owned(),
        format!("{:.1} MiB", i.store_bytes as f64 / 1048576.0),
        none(),
    ]);
    table.add_row([
        "import again (unchanged)".to_owned(),
        secs(report.rerun.seconds),
        none(),
    ]);
    table.add_row([
        "report by day".to_owned(),
        secs(report.report_by_day.seconds),
        cc.map_or_else(none, |c| format!("{} (3 agents)", secs(c.daily_seconds))),
    ]);
    table.add_row([
        "report by session".to_owned(),
        secs(report.report_by_session.seconds),
        cc.map_or_else(none, |c| format!("{} (3 agents)", secs(c.session_seconds))),
    ]);
    table.add_row([
        "report by day peak RSS".to_owned(),
        mib(report.report_by_day.peak_rss_bytes),
        cc.map_or_else(none, |c| {
            mib(c.daily.iter().filter_map(|r| r.peak_rss_bytes).max())
        }),
    ]);
    outln!("{table}");
    outln!(
        "kaizen's import summary and reports match the tree's own figures (lines, events, sessions, tokens)"
    );
    match cc {
        Some(c) => outln!(
            "ccusage {}: tokens agree with kaizen's on each of {} days (Gemini thoughts: in kaizen's output, \
             outside ccusage's outputTokens); largest difference of a day's cost {:.2}%",
            c.version,
            c.days_compared,
            c.max_day_cost_difference * 100.0
        ),
        None => outln!("ccusage: not installed (scripts/bench-tools)"),
    }
    let mut goals = comfy_table::Table::new();
    goals.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    goals.set_header(["goal", "value", "target", "met"]);
    for g in &report.goals {
        goals.add_row([
            g.name.to_owned(),
            format!("{:.2}", g.value),
            g.target.to_owned(),
            if g.met { "yes" } else { "no" }.to_owned(),
        ]);
    }
    outln!("{goals}");
    Ok(())
}
