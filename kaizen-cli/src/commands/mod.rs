pub mod copy;
pub mod demo;
pub mod generate;
pub mod ingest;
pub mod partitions;
pub mod prune;
pub mod scan;
pub mod stats;
