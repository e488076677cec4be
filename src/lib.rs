//! kaizen: a cold store for AI-agent telemetry.
//!
//! This facade re-exports the library crates so that a user depends on one crate: [`core`]
//! holds the event model (no I/O), [`import`] turns agents' own logs into events (no store),
//! [`store`] the `EventStore` trait and its backends.

pub use kaizen_core as core;
pub use kaizen_import as import;
pub use kaizen_store as store;

pub use kaizen_core::{Event, EventKind, EventSource, UtcDay};
pub use kaizen_store::{EventStore, Query};
