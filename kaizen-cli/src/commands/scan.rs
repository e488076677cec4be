//! `kaizen scan`: events in order, as JSON Lines, CSV or a table.

use kaizen_core::Field;
use kaizen_store::codec::parse_columns;
use kaizen_store::{EventStore, Query, SkippedFiles};

use crate::cli::{ScanArgs, ScanFormat};
use crate::output;

pub async fn run(store: &dyn EventStore, args: ScanArgs) -> anyhow::Result<()> {
    let columns = match &args.columns {
        Some(names) => parse_columns(names.iter().map(String::as_str))?,
        // Every column, in the order of the events' JSON form.
        None => Field::JSON_ORDER.to_vec(),
    };
    // A count needs no column: the scan reads its keys (and the filters'), not payloads.
    let columns = match matches!(args.format, ScanFormat::Count) {
        true => vec![Field::TsMs],
        false => columns,
    };
    let query = Query {
        from_ms: args.range.from,
        to_ms: args.range.to,
        sessions: args.sessions,
        kinds: args.kinds,
        columns: Some(columns),
        limit: args.limit,
        skip_corrupt: args.skip_corrupt.then(SkippedFiles::default),
        ..Query::all()
    };
    let skipped = query.skip_corrupt.clone();
    output::write_stream(store.scan(query).await?, args.format).await?;
    if let Some(skipped) = skipped {
        report_skipped(&skipped);
    }
    Ok(())
}

/// Each file a `--skip-corrupt` read passed over, on stderr.
pub fn report_skipped(skipped: &SkippedFiles) {
    for (path, reason) in skipped.list() {
        eprintln!("skipped corrupt file {path}: {reason}");
    }
}

/// The scan over several stores: SQL over them as one table, merged in key order, with a
/// `store` column naming where each event lives.
pub async fn run_many(
    stores: Vec<(String, kaizen_store::Store)>,
    args: ScanArgs,
) -> anyhow::Result<()> {
    if args.skip_corrupt {
        anyhow::bail!("--skip-corrupt reads one store at a time: give one --store");
    }
    let columns = match &args.columns {
        Some(names) => parse_columns(names.iter().map(String::as_str))?,
        None => Field::JSON_ORDER.to_vec(),
    };
    let mut select: Vec<&str> = columns.iter().map(|f| f.name()).collect();
    select.push(kaizen_store::sql::STORE_COLUMN);
    let mut conditions = super::sql::time_conditions(&args.range);
    let list = |values: Vec<String>| values.join(", ");
    if !args.sessions.is_empty() {
        let ids = args
            .sessions
            .iter()
            .map(|s| output::sql_string(s))
            .collect();
        conditions.push(format!("session_id IN ({})", list(ids)));
    }
    if !args.kinds.is_empty() {
        let kinds = args
            .kinds
            .iter()
            .map(|k| output::sql_string(k.name()))
            .collect();
        conditions.push(format!("kind IN ({})", list(kinds)));
    }
    let filter = match conditions.is_empty() {
        true => String::new(),
        false => format!("WHERE {}", conditions.join(" AND ")),
    };
    let limit = args.limit.map(|n| format!("LIMIT {n}")).unwrap_or_default();
    let query = format!(
        "SELECT {} FROM events {filter} ORDER BY ts_ms, session_id, seq {limit}",
        select.join(", ")
    );
    let ctx = kaizen_store::sql::session(stores)?;
    super::sql::execute(&ctx, &query, args.format).await
}
