//! Writes the built-in sample tree and prints what it holds and how long it took.
//! Usage: `write_sample DIR [END_DAY]` (END_DAY `YYYY-MM-DD`, today by default).

use std::path::PathBuf;
use std::time::Instant;

use kaizen_core::UtcDay;
use kaizen_import::sample::{SampleOptions, write_tree};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: write_sample DIR [END_DAY]")?);
    let end_day = match args.next() {
        Some(day) => day.parse::<UtcDay>()?,
        None => UtcDay::today(),
    };
    let started = Instant::now();
    let summary = write_tree(&dir, &SampleOptions::ending(end_day))?;
    let took = started.elapsed();
    println!("{summary:#?}");
    println!(
        "{} files, {} bytes in {:.3} s",
        summary.files.len(),
        summary.bytes(),
        took.as_secs_f64()
    );
    Ok(())
}
