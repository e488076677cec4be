//! `kaizen sql`: DataFusion SQL over the store(s), one query or an interactive prompt.

use datafusion::prelude::SessionContext;
use std::sync::Arc;

use kaizen_store::sql::EventsTable;
use kaizen_store::{SkippedFiles, Store};
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::cli::{ScanFormat, SqlArgs};
use crate::output;

pub async fn run(stores: Vec<(String, Store)>, args: SqlArgs) -> anyhow::Result<()> {
    let skipped = args.skip_corrupt.then(SkippedFiles::default);
    let mut table = EventsTable::new(stores);
    if let Some(log) = &skipped {
        table = table.skip_corrupt(log.clone());
    }
    let ctx = SessionContext::new_with_config(kaizen_store::sql::session_config());
    ctx.register_table("events", Arc::new(table))?;
    kaizen_store::sql::register_functions(&ctx);
    let result = match args.query {
        Some(query) => timed(args.timing, execute(&ctx, &query, args.format)).await,
        None => prompt(&ctx, args.format, args.timing).await,
    };
    if let Some(log) = &skipped {
        super::scan::report_skipped(log);
    }
    result
}

/// Runs one statement and writes its result; rows stream except for a table.
pub async fn execute(ctx: &SessionContext, query: &str, format: ScanFormat) -> anyhow::Result<()> {
    let frame = ctx.sql(query).await?;
    output::write_stream(frame.execute_stream().await?, format).await
}

/// Runs `work`, then with `timing` prints how long it took on standard error.
async fn timed<T>(timing: bool, work: impl Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let result = work.await;
    if timing {
        eprintln!("took {:.6} s", started.elapsed().as_secs_f64());
    }
    result
}

/// The interactive prompt: history across sessions, statements over several lines.
async fn prompt(ctx: &SessionContext, format: ScanFormat, timing: bool) -> anyhow::Result<()> {
    let mut editor = DefaultEditor::new()?;
    let history =
        std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".kaizen_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    outln!("kaizen sql: the table is `events`; end statements with `;`, quit with \\q or Ctrl-D.");
    let mut statement = String::new();
    loop {
        let prompt = if statement.is_empty() {
            "kaizen> "
        } else {
            "   ...> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if statement.is_empty() && matches!(trimmed, "\\q" | "quit" | "exit") {
                    break;
                }
                statement.push_str(&line);
                statement.push('\n');
                if trimmed.ends_with(';') {
                    let _ = editor.add_history_entry(statement.trim());
                    if let Err(e) = timed(
                        timing,
                        execute(ctx, statement.trim().trim_end_matches(';'), format),
                    )
                    .await
                    {
                        eprintln!("error: {}", output::error_message(&e));
                    }
                    statement.clear();
                }
            }
            Err(ReadlineError::Interrupted) => statement.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}

/// `--from` / `--to` as SQL conditions on `ts_ms`.
pub fn time_conditions(range: &crate::cli::TimeRange) -> Vec<String> {
    let from = range.from.map(|from| format!("ts_ms >= {from}"));
    let to = range.to.map(|to| format!("ts_ms < {to}"));
    from.into_iter().chain(to).collect()
}
