//! The kaizen event model: [`Event`] and its parts, its serde JSON form, validation with
//! typed errors, and UTC-day arithmetic. No I/O lives here.

#![warn(missing_docs)]

mod attributes;
mod day;
mod error;
mod event;
mod field;
mod json;
mod payload;

pub use attributes::PayloadAttributes;
pub use day::{MAX_TS_MS, UtcDay, parse_time_arg};
pub use error::{Error, Result};
pub use event::{Event, EventKind, EventSource};
pub use field::Field;
pub use payload::{Payload, same_json};
