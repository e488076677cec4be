//! `kaizen`: the command line over any kaizen store.

mod cli;
mod commands;
mod generate;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", output::error_message(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = || kaizen_store::open_with_options(&cli.store, &cli.store_options);
    match cli.command {
        Command::Ingest(args) => commands::ingest::run(store()?, args).await,
        Command::Scan(args) => commands::scan::run(store()?, args).await,
        Command::Stats(args) => commands::stats::run(store()?, args).await,
        Command::Partitions(args) => commands::partitions::run(store()?, args).await,
        Command::Prune(args) => commands::prune::run(store()?, args).await,
        Command::Compact(args) => {
            commands::compact::run(
                kaizen_store::open_store(&cli.store, &cli.store_options)?,
                args,
            )
            .await
        }
        Command::Verify(args) => {
            commands::verify::run(
                kaizen_store::open_store(&cli.store, &cli.store_options)?,
                args,
            )
            .await
        }
        Command::Copy(args) => {
            let source = kaizen_store::open_store(&cli.store, &cli.store_options)?;
            commands::copy::run(source, args).await
        }
        Command::Generate(args) => commands::generate::run(args),
        Command::Demo(args) => commands::demo::run(store()?, &cli.store, args).await,
    }
}
