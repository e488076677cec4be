//! kaizen: a cold store for AI-agent telemetry.
//!
//! This facade re-exports the two library crates so that a user depends on one crate:
//! [`core`] holds the event model (no I/O), [`store`] the `EventStore` trait and its backends.

pub use kaizen_core as core;
pub use kaizen_store as store;

pub use kaizen_core::{Event, EventKind, EventSource, UtcDay};
pub use kaizen_store::{EventStore, Query};
