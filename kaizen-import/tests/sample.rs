//! The built-in sample tree (`kaizen_import::sample`): the importer reads every line of it
//! as a known record, its totals equal the figures the generator counted while writing,
//! export gives the files back byte for byte, and the same options give the same bytes.

mod common;

use std::collections::HashMap;

use common::{import_tree, tree};
use kaizen_core::UtcDay;
use kaizen_import::sample::{AgentSample, SampleOptions, write_tree};
use kaizen_import::{SourceReport, export};

fn options() -> SampleOptions {
    SampleOptions::ending("2026-11-30".parse::<UtcDay>().unwrap())
}

/// The importer's figures in the shape of the generator's.
fn as_sample(r: &SourceReport) -> AgentSample {
    AgentSample {
        sessions: r.sessions.len() as u64,
        files: r.files,
        lines: r.lines,
        bytes: r.bytes,
        responses: r.responses,
        input: r.input,
        output: r.output,
        reasoning: r.reasoning,
        cache_read: r.cache_read,
        cache_creation_5m: r.cache_creation_5m,
        cache_creation_1h: r.cache_creation_1h,
        tool_calls: r.tool_calls,
        tool_results: r.tool_results,
        tool_errors: r.tool_errors,
        api_errors: r.api_errors,
        unknown_lines: r.unknown_types.values().sum(),
    }
}

#[test]
fn sample_imports_to_the_figures_it_was_written_with() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sample");
    let summary = write_tree(&root, &options()).unwrap();

    let (events, report, _) = import_tree(&root, &HashMap::new());
    for (name, want) in [
        ("claude", &summary.claude),
        ("codex", &summary.codex),
        ("gemini", &summary.gemini),
    ] {
        let r = &report.sources[name];
        // Every line known (only the deliberate `last-prompt`), none skipped, no open tail.
        let allowed = if name == "claude" {
            vec!["last-prompt"]
        } else {
            vec![]
        };
        assert!(
            r.unknown_types
                .keys()
                .all(|k| allowed.contains(&k.as_str())),
            "{name}: unknown record types {:?}",
            r.unknown_types
        );
        assert_eq!(r.lines_skipped, 0, "{name}: {:?}", r.skipped);
        assert!(
            r.truncated_tails.is_empty(),
            "{name}: {:?}",
            r.truncated_tails
        );
        assert!(
            r.unpriced_models.keys().all(|m| m == "<synthetic>"),
            "{name}: unpriced {:?}",
            r.unpriced_models
        );
        assert_eq!(&as_sample(r), want, "{name}: importer vs generator");
        // Every kind of figure is present: the sample shows what a real history holds.
        assert!(want.responses > 0 && want.tool_calls > 0 && want.tool_errors > 0);
        assert!(want.api_errors > 0, "{name}: no API error");
        assert!(
            want.cache_read > want.input,
            "{name}: cache reads should dominate input"
        );
    }
    assert!(summary.claude.cache_creation_5m > 0 && summary.claude.cache_creation_1h > 0);
    assert!(
        summary
            .files
            .iter()
            .any(|f| f.contains("/subagents/agent-a")),
        "no 2.1.x subagent"
    );

    // A mix of models, as a real history has.
    let models: std::collections::BTreeSet<String> = common::figures(&events)
        .into_keys()
        .map(|(_, _, model)| model)
        .collect();
    for family in [
        "claude-sonnet-",
        "claude-opus-",
        "claude-haiku-",
        "gpt-5.3-codex",
        "gpt-5.2-codex",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    ] {
        assert!(
            models.iter().any(|m| m.starts_with(family)),
            "no {family}: {models:?}"
        );
    }

    // Cost: tens of dollars for the default week, not thousands.
    let cost: i64 = report.sources.values().map(|r| r.cost_usd_e6).sum();
    assert!(
        (5_000_000..200_000_000).contains(&cost),
        "cost {} USD",
        cost as f64 / 1e6
    );
    // Small: a few MB.
    let bytes = summary.bytes();
    assert!((1_500_000..6_000_000).contains(&bytes), "{bytes} bytes");

    // Export: every file back, byte for byte, and nothing else.
    let out = tempfile::tempdir().unwrap();
    let written = export(events, out.path(), None).unwrap();
    assert_eq!(written.events_skipped, 0);
    let want = tree(&root);
    let got = tree(out.path());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &want {
        assert!(got[path] == *bytes, "{} differs", path.display());
    }
    assert_eq!(want.len(), summary.files.len());
}

#[test]
fn same_options_same_bytes_other_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_tree(&dir.path().join("a"), &options()).unwrap();
    let b = write_tree(&dir.path().join("b"), &options()).unwrap();
    assert_eq!(a, b);
    assert!(tree(&dir.path().join("a")) == tree(&dir.path().join("b")));

    let other = SampleOptions {
        seed: 2,
        ..options()
    };
    write_tree(&dir.path().join("c"), &other).unwrap();
    assert!(tree(&dir.path().join("a")) != tree(&dir.path().join("c")));
}

#[test]
fn sessions_fall_in_the_requested_days() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SampleOptions {
        days: 3,
        sessions_per_agent: 4,
        ..options()
    };
    let root = dir.path().join("s");
    write_tree(&root, &opts).unwrap();
    let (events, _, _) = import_tree(&root, &HashMap::new());
    let first = opts.end_day.minus_days(2);
    for e in &events {
        let day = UtcDay::of_ts_ms(e.ts_ms).unwrap();
        // Sessions start on the days asked for; a late one may run past midnight.
        assert!(day >= first && day <= opts.end_day.next(), "{day}");
    }
}

#[test]
fn an_existing_tree_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("claude")).unwrap();
    let err = write_tree(dir.path(), &options()).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let zero = SampleOptions {
        days: 0,
        ..options()
    };
    assert!(write_tree(&dir.path().join("x"), &zero).is_err());
}

/// A Claude tool result carries its latency: the time from its call's line to its own,
/// so reports give p50/p95 per tool. Reads are quick and shell commands slow, as the
/// sample writes them.
#[test]
fn claude_tool_results_carry_the_time_since_their_call() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sample");
    write_tree(&root, &options()).unwrap();
    let (events, _, _) = import_tree(&root, &HashMap::new());
    let latency = |tool: &str| -> Vec<u32> {
        let mut ms: Vec<u32> = (events.iter())
            .filter(|e| e.kind == kaizen_core::EventKind::ToolResult)
            .filter(|e| e.payload.to_value()["agent"] == "claude")
            .filter(|e| e.tool.as_deref() == Some(tool))
            .map(|e| e.latency_ms.expect("a result's latency"))
            .collect();
        ms.sort_unstable();
        ms
    };
    let (read, bash) = (latency("Read"), latency("Bash"));
    assert!(!read.is_empty() && !bash.is_empty());
    let median = |v: &[u32]| v[v.len() / 2];
    assert!(median(&read) < 5_000, "{read:?}");
    assert!(median(&bash) > median(&read), "{bash:?} {read:?}");
}
