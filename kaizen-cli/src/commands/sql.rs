//! `kaizen sql`: DataFusion SQL over the store(s), one query or an interactive prompt.

use std::io::{BufWriter, Write};

use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use kaizen_store::Store;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::cli::{ScanFormat, SqlArgs};
use crate::output;

pub async fn run(stores: Vec<(String, Store)>, args: SqlArgs) -> anyhow::Result<()> {
    let ctx = kaizen_store::sql::session(stores)?;
    match args.query {
        Some(query) => execute(&ctx, &query, args.format).await,
        None => prompt(&ctx, args.format).await,
    }
}

/// Runs one statement and writes its result; rows stream except for a table.
pub async fn execute(ctx: &SessionContext, query: &str, format: ScanFormat) -> anyhow::Result<()> {
    let frame = ctx.sql(query).await?;
    let mut batches = frame.execute_stream().await?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match format {
        ScanFormat::Jsonl => {
            while let Some(batch) = batches.try_next().await? {
                output::write_jsonl(&batch, &mut out)?;
            }
        }
        ScanFormat::Csv => {
            let mut csv = output::CsvOut::new(&mut out);
            while let Some(batch) = batches.try_next().await? {
                csv.write(&batch)?;
            }
        }
        ScanFormat::Table => {
            let all: Vec<_> = batches.try_collect().await?;
            writeln!(out, "{}", output::batches_table(&all)?)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The interactive prompt: history across sessions, statements over several lines.
async fn prompt(ctx: &SessionContext, format: ScanFormat) -> anyhow::Result<()> {
    let mut editor = DefaultEditor::new()?;
    let history =
        std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".kaizen_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "kaizen sql: the table is `events`; end statements with `;`, quit with \\q or Ctrl-D."
    );
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
                    if let Err(e) =
                        execute(ctx, statement.trim().trim_end_matches(';'), format).await
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
