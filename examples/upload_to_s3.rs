//! Upload a local kaizen store to an S3 bucket (AWS, or any S3-compatible server such as
//! MinIO), then verify it there — written against the library, as your program would be.
//!
//! ```sh
//! AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_REGION=us-east-1 \
//! cargo run --release --example upload_to_s3 -- --from ./kaizen-data --bucket NAME \
//!     [--prefix P] [--endpoint http://127.0.0.1:9000]
//! ```
//!
//! Credentials come from the standard AWS environment variables. Rerunning after an
//! interruption uploads only what is missing.

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use kaizen::store::{EventStore, Store, open_store};

#[derive(Parser)]
struct Args {
    /// The local store to upload.
    #[arg(long, default_value = "./kaizen-data")]
    from: String,
    #[arg(long)]
    bucket: String,
    /// Where in the bucket the store goes.
    #[arg(long, default_value = "")]
    prefix: String,
    /// An S3-compatible server's endpoint, e.g. http://127.0.0.1:9000 for MinIO.
    #[arg(long)]
    endpoint: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let source = Store::local(&args.from);
    let url = format!("s3://{}/{}", args.bucket, args.prefix.trim_matches('/'));
    let url = url.trim_end_matches('/').to_owned();
    let mut options = Vec::new();
    if let Some(endpoint) = &args.endpoint {
        options.push(("aws_endpoint".to_owned(), endpoint.clone()));
        if endpoint.starts_with("http://") {
            options.push(("aws_allow_http".to_owned(), "true".to_owned()));
        }
    }
    let target = open_store(&url, &options)?;

    let total: u64 = source.partitions().await?.iter().map(|p| p.bytes).sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )?
        .progress_chars("=> "),
    );
    let report = source
        .copy_to(&target, None, None, &|bytes| bar.inc(bytes))
        .await;
    bar.finish_and_clear();
    let report = report?;
    println!(
        "uploaded {} file(s), {} already in the bucket",
        report.copied.len(),
        report.skipped.len()
    );

    // Read the counts back from the bucket.
    for partition in target.partitions().await? {
        let verified = report.verified.get(&partition.day).copied().unwrap_or(0);
        println!(
            "{}: {} file(s), {} row(s) in the bucket, {verified} event(s) verified",
            partition.day, partition.files, partition.rows
        );
    }
    let endpoint = match &args.endpoint {
        Some(e) => format!(" --store-option aws_endpoint={e} --store-option aws_allow_http=true"),
        None => String::new(),
    };
    println!("\nthe store is at {url}\n  kaizen --store {url}{endpoint} stats");
    Ok(())
}
