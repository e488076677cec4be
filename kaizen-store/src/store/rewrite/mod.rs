//! Rewrites of stored files, all through one mechanism ([`switch`]): compaction (in
//! [`super::compact`]), and the event rewrite ([`events`]) that erasure ([`erase`]),
//! payload pruning ([`payload`]) and redaction are thin over.

mod erase;
mod events;
mod payload;
mod switch;

pub use erase::EraseReport;
pub use events::{
    FileEntrySummary, RewriteFn, RewriteReport, RewriteScope, Rewritten, RewrittenDay,
};
pub use payload::{
    PRUNED_PAYLOAD_KEPT_KEYS, PRUNED_PAYLOAD_MARK, is_pruned_payload, pruned_payload,
};
pub(crate) use switch::DayRewrite;
