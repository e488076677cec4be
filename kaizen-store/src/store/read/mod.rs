//! The store's read primitive: which files of a day are live ([`live`]), and a day's live
//! files read as one checked, sorted stream ([`DayScan`]). Every reader — scan, compact,
//! copy, verify, the writer's identity check and the rewrites — reads through it.

mod day;
mod live;
mod resume;
mod rows;

pub(crate) use day::DayScan;
pub(crate) use live::{
    DayState, LiveFile, check_footer_day, day_state, file_identities, live_files, open_parquet,
    read_facts,
};
