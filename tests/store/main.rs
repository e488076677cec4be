//! The library's integration tests, in one binary so that the dependencies are linked once:
//! the conformance suite on every backend, SQL over stores, and fuzzing of Parquet decoding.

#[macro_use]
mod suite;

mod azure;
mod fuzz_parquet;
mod gcs;
mod local;
mod memory;
mod prefixes;
mod s3;
mod sql;
