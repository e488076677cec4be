//! `kaizen generate`: a realistic deterministic corpus on standard output.

use std::io::{BufWriter, Write};

use crate::cli::GenerateArgs;
use crate::generate::{Corpus, DEFAULT_START};

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let corpus = Corpus::new(
        args.events,
        args.days,
        args.start.unwrap_or(DEFAULT_START),
        args.seed,
    );
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    for event in corpus {
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
