//! Rewrites of stored files, all through one mechanism ([`switch`]): compaction (in
//! [`super::compact`]), and the event rewrites that erasure, payload pruning and
//! redaction are thin over ([`events`]).

mod switch;

pub(crate) use switch::DayRewrite;
pub use switch::Switched;
