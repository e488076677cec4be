//! The report's SQL: its groups (keys), the window, and the figures of each group.
//!
//! Every query reads the window's events (`ts_ms` in it: the scan lists only the UTC day
//! partitions it overlaps) and only the columns its figures use. Model, agent, project and
//! host come from [`attrs`](super::attrs): each event's own, else carried within its
//! session (a tool call under its message's model), which sorts the window's events by
//! session, so only a report that groups by one of them does so.

use super::attrs::{self, Attr};
use super::period::{Unit, Window};
use super::{percentiles, udf};

/// One dimension of `--by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Period(Unit),
    /// 5-hour block (per agent: a report by block is also by agent).
    Block,
    Session,
    Attr(Attr),
    Tool,
    Store,
}

impl Key {
    /// The key's column name in the query and in the report's rows.
    pub fn name(self) -> &'static str {
        match self {
            Key::Period(Unit::Day) => "day",
            Key::Period(Unit::Week) => "week",
            Key::Period(Unit::Month) => "month",
            Key::Block => "block",
            Key::Session => "session",
            Key::Attr(a) => a.name(),
            Key::Tool => "tool",
            Key::Store => "store",
        }
    }

    /// The key's SQL over the `attributed` (or `recent`) rows.
    fn sql(self) -> String {
        match self {
            Key::Period(_) => format!("{}(ts_ms)", udf::PERIOD),
            Key::Block => format!("{}(ts_ms, {})", udf::BLOCK, attr_column(Attr::Agent)),
            Key::Session => "session_id".into(),
            Key::Attr(a) => attr_column(a),
            Key::Tool => "coalesce(tool, '(no tool)')".into(),
            Key::Store => "store".into(),
        }
    }
}

/// The attributed value of `attr` (a column of the `attributed` CTE), with its fallback.
fn attr_column(attr: Attr) -> String {
    format!("coalesce(attr_{}, {})", attr.name(), attr.fallback_sql())
}

/// The attributes a report by `keys` attributes (with `--reprice`, the model too).
pub fn attributes_needed(keys: &[Key], reprice: bool) -> Vec<Attr> {
    attrs_of(keys, if reprice { &[Attr::Model] } else { &[] })
}

/// The attributes the keys (and `extra`) need, each once.
fn attrs_of(keys: &[Key], extra: &[Attr]) -> Vec<Attr> {
    let mut out: Vec<Attr> = Vec::new();
    let wanted = keys.iter().flat_map(|k| match k {
        Key::Attr(a) => vec![*a],
        Key::Block => vec![Attr::Agent],
        _ => vec![],
    });
    for a in wanted.chain(extra.iter().copied()) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The columns of the `recent` rows, attributes' own values (`own_<name>`) after them.
const RECENT_COLUMNS: [&str; 15] = [
    "ts_ms",
    "session_id",
    "seq",
    "kind",
    "tool",
    "store",
    "cost_usd_e6",
    "tokens_in",
    "tokens_out",
    "cache_read_tokens",
    "cache_creation_tokens",
    "latency_ms",
    "retry_count",
    "cache_creation_1h_tokens",
    "tool_errors",
];

/// `recent AS (…)`: the window's events with the columns the report reads, and the own
/// value of each of `attrs` (`own_<name>`).
///
/// Figures derived from several columns (a tool call, a 1-hour cache write) are taken
/// where they are summed, as aggregates with a `FILTER`, not here: DataFusion evaluates a
/// `CASE` (which `coalesce` becomes) on a filtered copy of the whole batch, and a cast per
/// row copies too (a by-session report spent a quarter of its time there).
fn recent_cte(window: &Window, attrs: &[Attr]) -> String {
    format!(
        "recent AS (
    SELECT ts_ms, session_id, seq, kind, tool, store, cost_usd_e6, tokens_in, tokens_out,
           cache_read_tokens, cache_creation_tokens, latency_ms, retry_count,
           cache_creation_1h_tokens, tool_errors{owns}
    FROM {events}
  )",
        owns = attrs
            .iter()
            .map(|a| format!(",\n           {} AS own_{}", a.own_sql(), a.name()))
            .collect::<String>(),
        events = events_in(window),
    )
}

/// Per session of the window: the value of each of `attrs` when its events name at most
/// one (`value_<name>`, NULL when none does), and `mixed`, whether any attribute has two
/// or more values in the session. Only mixed sessions need the order of their events to
/// attribute them; in the others every event takes the one value, looked up by session
/// (`udf::SessionValueUdf`). A grouping by session, far cheaper than sorting the window
/// (10 stores x 1M events by model: 9.6 s with every session sorted).
pub fn session_values(window: &Window, attrs: &[Attr]) -> String {
    let values: String = attrs
        .iter()
        .map(|a| format!(", min(own_{n}) AS value_{n}", n = a.name()))
        .collect();
    let mixed: Vec<String> = attrs
        .iter()
        .map(|a| {
            format!(
                "coalesce(min(own_{n}) <> max(own_{n}), false)",
                n = a.name()
            )
        })
        .collect();
    format!(
        "WITH {recent}
SELECT session_id{values}, {mixed} AS mixed
FROM recent GROUP BY session_id",
        recent = recent_cte(window, attrs),
        mixed = mixed.join(" OR "),
    )
}

/// `WITH recent AS (…), attributed AS (…)`: the window's events with the columns the
/// report reads, and each attribute carried within its session: the event's own; else that
/// of the latest event before it in its session (by `seq`) that names one; else, for the
/// events before any names one, the first that does; else NULL.
///
/// Sessions that name one value (see [`session_values`], whose lookups must be registered
/// for `attrs` or more) take it by a lookup per row; only the window's `mixed_sessions`
/// are sorted by `seq` to carry their values along.
fn window_ctes(window: &Window, attrs: &[Attr]) -> String {
    let recent = recent_cte(window, attrs);
    if attrs.is_empty() {
        return format!("{recent},\n  attributed AS (SELECT * FROM recent)");
    }
    let columns = |table: &str| -> String {
        RECENT_COLUMNS
            .iter()
            .map(|c| format!("{table}.{c}"))
            .chain(attrs.iter().map(|a| format!("{table}.own_{}", a.name())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let values: String = attrs
        .iter()
        .map(|a| {
            format!(
                ", {}(r.session_id) AS attr_{}",
                udf::SessionValueUdf::name_of(a.name()),
                a.name()
            )
        })
        .collect();
    if window.mixed_sessions.is_empty() {
        return format!(
            "{recent},\n  attributed AS (\n    SELECT {columns}{values} FROM recent r\n  )",
            columns = columns("r"),
        );
    }
    let mixed = format!("session_id IN ({})", sql_list(&window.mixed_sessions));
    let single = format!(
        "SELECT {columns}{values} FROM recent r WHERE NOT r.{mixed}",
        columns = columns("r"),
    );
    // Carried by a window that only looks back (it streams over the sorted events, and
    // the sort spills past the memory limit); the events before a session's first naming
    // one take that first value from a per-session aggregate, joined back (a window
    // looking forward would hold the whole window in memory).
    let carried: String = attrs
        .iter()
        .map(|a| {
            format!(
                ",
           last_value(own_{n}) IGNORE NULLS OVER (PARTITION BY session_id ORDER BY seq
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS carried_{n}",
                n = a.name()
            )
        })
        .collect();
    let firsts: Vec<String> = attrs
        .iter()
        .map(|a| {
            format!(
                "first_value(own_{n} ORDER BY seq) FILTER (WHERE own_{n} IS NOT NULL) AS first_{n}",
                n = a.name()
            )
        })
        .collect();
    let attributed: String = attrs
        .iter()
        .map(|a| {
            format!(
                ", coalesce(c.carried_{n}, f.first_{n}) AS attr_{n}",
                n = a.name()
            )
        })
        .collect();
    format!(
        "{recent},
  carried AS (
    SELECT *{carried}
    FROM recent WHERE {mixed}
  ),
  firsts AS (
    SELECT session_id AS first_session, {firsts}
    FROM recent WHERE {mixed} GROUP BY session_id
  ),
  attributed AS (
    {single}
    UNION ALL
    SELECT {columns}{attributed}
    FROM firsts f RIGHT JOIN carried c ON f.first_session = c.session_id
  )",
        firsts = firsts.join(", "),
        columns = columns("c"),
    )
}

/// The report: one row per group of `keys` (columns named by [`Key::name`]), with the
/// figures [`super::row::metrics`] reads, and `otel_events`, how many of its events came
/// over OpenTelemetry (see `Window::doubled_sessions`).
pub fn report(window: &Window, keys: &[Key]) -> String {
    let attrs = attrs_of(keys, &[]);
    let key_select: String = keys
        .iter()
        .map(|k| format!("{} AS {}, ", k.sql(), k.name()))
        .collect();
    let key_names: Vec<&str> = keys.iter().map(|k| k.name()).collect();
    let group = if keys.is_empty() {
        String::new()
    } else {
        format!("GROUP BY {}", key_names.join(", "))
    };
    let key_list: String = key_names.iter().map(|k| format!("{k}, ")).collect();
    format!(
        "WITH {ctes},
  keyed AS (
    SELECT {key_select}kind, seq, cost_usd_e6, tokens_in, tokens_out, cache_read_tokens,
           cache_creation_tokens, cache_creation_1h_tokens, latency_ms, retry_count,
           tool_errors
    FROM attributed
  )
SELECT {key_list}
       count(*) AS events,
       CAST(coalesce(sum(tokens_in), 0) AS BIGINT) AS input,
       CAST(coalesce(sum(tokens_out), 0) AS BIGINT) AS output,
       CAST(coalesce({cache_1h}, 0) AS BIGINT) AS cache_write_1h,
       CAST(coalesce(sum(cache_creation_tokens), 0) AS BIGINT) AS cache_creation,
       CAST(coalesce(sum(cache_read_tokens), 0) AS BIGINT) AS cache_read,
       CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6,
       count(cache_read_tokens) + count(cache_creation_tokens) AS cache_figures,
       count(*) FILTER (WHERE kind = 'Error') AS api_errors,
       count(*) FILTER (WHERE {tool_call}) AS tool_calls,
       CAST(coalesce({failed}, 0) AS BIGINT) AS failed_tool_results,
       CAST(coalesce(sum(retry_count), 0) AS BIGINT) AS retries,
       count(*) FILTER (WHERE {otel}) AS otel_events,
       get_field({percentiles}(latency_ms), 'p50') AS p50_latency_ms,
       get_field({percentiles}(latency_ms), 'p95') AS p95_latency_ms
FROM keyed
{group}",
        ctes = window_ctes(window, &attrs),
        cache_1h = attrs::cache_write_1h_sum(),
        failed = attrs::failed_tool_results_sum(),
        tool_call = is_tool_call(),
        otel = is_otel(),
        percentiles = percentiles::LATENCY_PERCENTILES,
    )
}

/// The responses of the window for block detection: (agent, ts_ms, responses).
pub fn responses(window: &Window) -> String {
    format!(
        "WITH {ctes}
SELECT {agent} AS agent, CAST(ts_ms AS BIGINT) AS ts_ms, count(*) AS responses
FROM attributed WHERE {is_response}
GROUP BY 1, 2",
        ctes = window_ctes(window, &[Attr::Agent]),
        agent = attr_column(Attr::Agent),
        is_response = attrs::IS_RESPONSE,
    )
}

/// For `--reprice`: per group and model, each distinct set of token figures of a response
/// (prices are per response: long-context tiers apply to one response's tokens), how many
/// responses had it and their recorded cost.
pub fn reprice(window: &Window, keys: &[Key]) -> String {
    let attrs = attrs_of(keys, &[Attr::Model]);
    let key_select: String = keys
        .iter()
        .map(|k| format!("{} AS {}, ", k.sql(), k.name()))
        .collect();
    let key_list: String = keys.iter().map(|k| format!("{}, ", k.name())).collect();
    format!(
        "WITH {ctes},
  keyed AS (
    SELECT {key_select}{model} AS reprice_model,
           CAST(coalesce(tokens_in, 0) AS BIGINT) AS input,
           CAST(coalesce(tokens_out, 0) AS BIGINT) AS output,
           CAST(coalesce(cache_read_tokens, 0) AS BIGINT) AS cache_read,
           CAST(coalesce(cache_creation_tokens, 0) AS BIGINT) AS cache_creation,
           {cache_1h} AS cache_write_1h,
           cost_usd_e6
    FROM attributed WHERE {is_response}
  )
SELECT {key_list}reprice_model, input, output, cache_read, cache_creation, cache_write_1h,
       count(*) AS responses, CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6
FROM keyed
GROUP BY {key_list}reprice_model, input, output, cache_read, cache_creation, cache_write_1h",
        ctes = window_ctes(window, &attrs),
        cache_1h = attrs::cache_write_1h(),
        model = attr_column(Attr::Model),
        is_response = attrs::IS_RESPONSE,
    )
}

/// The events dated after now that the window would hold but for now: all of them without
/// `--until`, else those up to its end. In no period until their time comes.
pub fn future(window: &Window) -> String {
    let until = match (window.until_given, window.asked_to_ms) {
        (false, _) => String::new(),
        (true, Some(to)) => format!(" AND ts_ms < {to}"),
        (true, None) => " AND false".to_owned(),
    };
    format!(
        "SELECT count(*) AS events, CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6
         FROM events WHERE ts_ms >= {}{until}",
        window.to_ms
    )
}

/// Cost per local day for the table's chart: typed columns only, the report's events.
pub fn day_costs(window: &Window) -> String {
    format!(
        "SELECT {}(ts_ms) AS day, CAST(coalesce(sum(cost_usd_e6), 0) AS BIGINT) AS cost_usd_e6
         FROM {} GROUP BY 1",
        udf::PERIOD,
        events_in(window)
    )
}

/// The window's events, as every figure of the report counts them: `FROM` this.
///
/// A session both exported over OpenTelemetry (`kaizen serve`, `seq` namespace
/// [`kaizen_import::SEQ_KIND_OTEL`]) and imported from its transcript (namespaces
/// [`kaizen_import::SEQ_KIND_CLAUDE`] to [`kaizen_import::SEQ_KIND_GEMINI`]) has its API
/// responses twice: its OpenTelemetry events are left out when the window holds a
/// transcript event of the session (the transcript is the complete record), so that no
/// token is counted twice. Those sessions ([`Window::doubled_sessions`], found first by
/// [`otel_sessions`] and [`transcribed_among`]) are named here as literals: a join of every
/// event with them made DataFusion hash the whole window (10M events: over 512 MiB).
fn events_in(window: &Window) -> String {
    let (from, to) = (window.from_ms, window.to_ms);
    let (otel_lo, otel_hi) = otel_seqs();
    let doubled = match window.doubled_sessions.is_empty() {
        true => String::new(),
        false => format!(
            " AND NOT (seq >= {otel_lo} AND seq < {otel_hi} AND session_id IN ({}))",
            sql_list(&window.doubled_sessions)
        ),
    };
    format!("events WHERE ts_ms >= {from} AND ts_ms < {to}{doubled}")
}

/// The `seq` range of OpenTelemetry events: [low, high).
/// Whether an event stands for one tool call: a `ToolCall`, or a `ToolResult` of
/// OpenTelemetry, whose agents send a record per finished call (`claude_code.tool_result`,
/// `codex.tool_result`, `gemini_cli.tool_call`) and none when it starts. A transcript's
/// result answers a call it also holds, and is not counted again.
fn is_tool_call() -> String {
    let (otel_lo, otel_hi) = otel_seqs();
    // The namespace first: it holds for no event of a store that `kaizen serve` never
    // wrote to, and DataFusion then skips the rest of the `AND` (were the kind first, the
    // namespace would be tested on a filtered copy of the batch).
    format!("kind = 'ToolCall' OR (seq >= {otel_lo} AND seq < {otel_hi} AND kind = 'ToolResult')")
}

/// Whether an event came over OpenTelemetry (`kaizen serve`), by its `seq`'s namespace.
fn is_otel() -> String {
    let (otel_lo, otel_hi) = otel_seqs();
    format!("seq >= {otel_lo} AND seq < {otel_hi}")
}

fn otel_seqs() -> (u64, u64) {
    use kaizen_import::SEQ_KIND_OTEL;
    (
        u64::from(SEQ_KIND_OTEL) << 56,
        u64::from(SEQ_KIND_OTEL + 1) << 56,
    )
}

fn sql_list(items: &[String]) -> String {
    (items.iter())
        .map(|s| crate::output::sql_string(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many events of the window came over OpenTelemetry (a scan of `seq` and `ts_ms`
/// only: no text column is decoded, and on a store `kaizen serve` never wrote to the
/// answer is 0 and [`otel_sessions`] is not run).
pub fn otel_events(window: &Window) -> String {
    let (otel_lo, otel_hi) = otel_seqs();
    format!(
        "SELECT count(*) AS n FROM events
         WHERE ts_ms >= {} AND ts_ms < {} AND seq >= {otel_lo} AND seq < {otel_hi}",
        window.from_ms, window.to_ms
    )
}

/// The sessions of the window with OpenTelemetry events (a scan of `seq`, `session_id`
/// and `ts_ms`).
pub fn otel_sessions(window: &Window) -> String {
    let (otel_lo, otel_hi) = otel_seqs();
    format!(
        "SELECT DISTINCT session_id FROM events
         WHERE ts_ms >= {} AND ts_ms < {} AND seq >= {otel_lo} AND seq < {otel_hi}",
        window.from_ms, window.to_ms
    )
}

/// Of `sessions`, those with a transcript event in the window.
pub fn transcribed_among(window: &Window, sessions: &[String]) -> String {
    use kaizen_import::SEQ_KIND_CLAUDE;
    let transcript_lo = u64::from(SEQ_KIND_CLAUDE) << 56;
    let (otel_lo, _) = otel_seqs();
    format!(
        "SELECT DISTINCT session_id FROM events
         WHERE ts_ms >= {} AND ts_ms < {} AND seq >= {transcript_lo} AND seq < {otel_lo}
           AND session_id IN ({})",
        window.from_ms,
        window.to_ms,
        sql_list(sessions)
    )
}
