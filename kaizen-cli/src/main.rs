//! `kaizen`: the command line over any kaizen store.

// First: its `outln!` is used by the modules after it.
#[macro_use]
mod output;

mod alloc;
mod build_info;
mod cli;
mod commands;
mod generate;
mod progress;

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use kaizen_store::{EventStore, Store};

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // These print what the clap definitions say: no store is opened, no runtime started
    // (a KAIZEN_STORE naming an unreachable bucket does not matter to them).
    match &cli.command {
        Command::Completions(args) => return exit_code(commands::completions::run(args)),
        Command::Man(args) => return exit_code(commands::man::run(args)),
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    exit_code(runtime.block_on(run(cli)))
}

/// The exit status of a command's result, its error printed on standard error.
fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        // Printed already, on standard output, with what to do.
        Err(e) if e.is::<commands::doctor::Warned>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {}", output::error_message(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let stores = open_stores(&cli, reads_stores(&cli.command))?;
    // Clones share their backend, and with it the request counters.
    let counted: Vec<(String, Store)> = match cli.requests {
        true => stores.clone(),
        false => Vec::new(),
    };
    let result = dispatch(cli, stores).await;
    for (name, store) in counted {
        match store.request_counts() {
            Some(counts) => eprintln!("{name}: {counts}"),
            None => eprintln!("{name}: a local folder: no requests to count"),
        }
    }
    result
}

async fn dispatch(cli: Cli, stores: Vec<(String, Store)>) -> anyhow::Result<()> {
    if reads_stores(&cli.command) {
        for (_, store) in &stores {
            require_store(store).await?;
        }
    }
    match cli.command {
        Command::Scan(args) if stores.len() > 1 => commands::scan::run_many(stores, args).await,
        Command::Stats(args) if stores.len() > 1 => commands::stats::run_many(stores, args).await,
        Command::Sql(args) => commands::sql::run(stores, args).await,
        Command::Report(args) => commands::report::run(stores, args).await,
        Command::Generate(args) => commands::generate::run(args),
        Command::Bench(args) => commands::bench::run(args, cli.store, cli.store_options).await,
        command => {
            let (name, store) = one_store(stores)?;
            match command {
                Command::Ingest(args) => commands::ingest::run(&store, args).await,
                Command::Import(args) => commands::import::run(&store, args).await,
                Command::Export(args) => commands::export::run(&store, args).await,
                Command::Hook(args) => commands::hook::run(&store, args).await,
                Command::Doctor => commands::doctor::run(&store).await,
                Command::Scan(args) => commands::scan::run(&store, args).await,
                Command::Stats(args) => commands::stats::run(&store, args).await,
                Command::Partitions(args) => commands::partitions::run(&store, args).await,
                Command::Prune(args) => commands::prune::run(&store, args).await,
                Command::Erase(args) => commands::erase::run(&store, args).await,
                Command::Redact(args) => commands::redact::run(&store, args).await,
                Command::Compact(args) => commands::compact::run(store, args).await,
                Command::Verify(args) => commands::verify::run(store, args).await,
                Command::Copy(args) => commands::copy::run(store, args).await,
                Command::Demo(args) => commands::demo::run(&store, &name, args).await,
                Command::Serve(args) => commands::serve::run(store, args).await,
                Command::Sql(_)
                | Command::Report(_)
                | Command::Generate(_)
                | Command::Bench(_)
                | Command::Completions(_)
                | Command::Man(_) => unreachable!("matched above, or in main"),
            }
        }
    }
}

/// Whether `command` reads the stores given (and so needs them to be there). Only `ingest`,
/// `import`, `hook` and `demo` make a store where none is; `doctor` reports on a store that
/// may not be there yet; `generate` and `bench` use none.
fn reads_stores(command: &Command) -> bool {
    !matches!(
        command,
        Command::Ingest(_)
            | Command::Import(_)
            | Command::Hook(_)
            | Command::Doctor
            | Command::Demo(_)
            | Command::Serve(_)
            | Command::Generate(_)
            | Command::Bench(_)
    )
}

/// Fails with "no store at …" when `store` is not there: a mistyped path or prefix is not
/// an empty store (see [`Store::exists`]).
async fn require_store(store: &Store) -> anyhow::Result<()> {
    if !store.exists().await? {
        bail!(
            "no store at {} (nothing is under its cold/; `kaizen import` or `kaizen ingest` makes a store)",
            store.location()
        );
    }
    Ok(())
}

/// Every `--store`, `~` and (with `expand_globs`) globs of local folders expanded, opened
/// with the store options.
fn open_stores(cli: &Cli, expand_globs: bool) -> anyhow::Result<Vec<(String, Store)>> {
    let mut names = Vec::new();
    for given in &cli.store {
        // A folder that is there is that folder, whatever its name holds; a command that
        // writes takes its one store as it is spelled (it may not be there yet).
        let literal = !given.contains("://")
            && kaizen_store::expand_home(given).is_ok_and(|path| path.is_dir());
        if expand_globs && !literal && !given.contains("://") && given.contains(['*', '?', '[']) {
            let pattern = kaizen_store::expand_home(given)?;
            let pattern = pattern
                .to_str()
                .with_context(|| format!("--store {given}: the home folder is not valid UTF-8"))?;
            let mut matched: Vec<String> = glob::glob(pattern)?
                .filter_map(Result::ok)
                .filter(|p| p.is_dir())
                .map(|p| p.display().to_string())
                .collect();
            if matched.is_empty() {
                bail!(
                    "--store {given}: no folder matches this pattern (`*`, `?` and `[` in a store path are wildcards that span several stores)"
                );
            }
            matched.sort();
            names.extend(matched);
        } else {
            names.push(given.clone());
        }
    }
    let stores: Vec<(String, Store)> = names
        .into_iter()
        .map(|name| {
            let store = kaizen_store::open_store(&name, &cli.store_options)?;
            Ok::<_, anyhow::Error>((name, store))
        })
        .collect::<anyhow::Result<_>>()?;
    refuse_repeated_stores(&stores)?;
    Ok(stores)
}

/// One store given twice (`./a` and `a/`, a path and its `file://` URL, a glob matching a
/// folder also given) would have its events counted twice by every report: refused.
fn refuse_repeated_stores(stores: &[(String, Store)]) -> anyhow::Result<()> {
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    for (name, store) in stores {
        let location = store.location();
        // A folder that exists compares by its real path (links and `..` resolved).
        let key = std::fs::canonicalize(&location)
            .map(|p| p.display().to_string())
            .unwrap_or(location);
        if let Some(first) = seen.insert(key, name) {
            bail!("--store {name}: the same store as --store {first}; give each store once");
        }
    }
    Ok(())
}

fn one_store(mut stores: Vec<(String, Store)>) -> anyhow::Result<(String, Store)> {
    match stores.len() {
        1 => Ok(stores.remove(0)),
        n => bail!(
            "this command works on one store; {n} were given (scan, stats, sql and report span several)"
        ),
    }
}
