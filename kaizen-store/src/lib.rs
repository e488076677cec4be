//! kaizen-store: the [`EventStore`] trait, the one codec and the one day layout every
//! backend shares, and the backends themselves.
//!
//! - [`codec`]: events ↔ Arrow `RecordBatch` ↔ Parquet, in the v1 column schema.
//! - [`layout`]: days ↔ paths (`cold/events/day=YYYY-MM-DD/<uuid-v7>.parquet`, and v1 names).
//! - [`backend`]: byte movers (a local folder; object stores).
//! - [`Store`]: the [`EventStore`] over any backend.

#![warn(missing_docs)]

pub mod backend;
pub mod codec;
mod error;
mod event_store;
mod home;
pub mod layout;
mod open;
mod query;
pub mod sql;
mod store;

pub use error::{Error, Result};

/// A map with a fast hasher, for the maps ingest, compaction and merges fill row by row
/// (SipHash, std's default, guards against hostile keys these maps never see in volume: a
/// file's sessions and identities).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub use event_store::{
    AppendReceipt, BatchStream, EventStore, EventWriter, Partition, PruneReport, PrunedFile,
    RefusedEvents, WrittenFile,
};
pub use home::expand_home;
pub use open::{open, open_store, open_with_options, store_on};
/// The zstd level of a [`CompactTarget`] (a level in `1..=22`).
pub use parquet::basic::ZstdLevel;
pub use query::{IdentityLedger, Query, SkippedFiles};
/// How an identity conflict names the events a writer was given (see [`Error::Conflict`]).
pub use store::APPENDED;
pub use store::{
    CompactTarget, CompactedDay, CopyReport, EraseReport, FileEntrySummary,
    PRUNED_PAYLOAD_KEPT_KEYS, PRUNED_PAYLOAD_MARK, Problem, RewriteFn, RewriteReport, RewriteScope,
    Rewritten, RewrittenDay, Store, StoreOptions, VerifyReport, is_pruned_payload, pruned_payload,
};
