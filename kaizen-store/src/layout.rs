//! The one place that maps days to paths inside a store, and paths back to days.
//!
//! New files: `cold/events/day=YYYY-MM-DD/<uuid-v7>.parquet` (hive style). v1 files:
//! `cold/events/YYYY-MM-DD.parquet` and `cold/events/YYYY-MM-DD-NNNNNN.parquet`. Anything
//! else under the store is foreign: never read as data, never deleted.

use kaizen_core::UtcDay;

/// The folder, relative to the store root, that holds every data file.
pub const EVENTS_DIR: &str = "cold/events";
/// The top folder of every store: a location holds a store when something is under it
/// ([`crate::Store::exists`]).
pub const STORE_MARKER_DIR: &str = "cold";

const DAY_DIR_PREFIX: &str = "day=";
const PARQUET: &str = ".parquet";
/// Suffix of a file being written: not yet data, and not matched by `*.parquet` globs.
const STAGING_SUFFIX: &str = ".kaizen-tmp";

/// Which writer made a data file, as told by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataFileKind {
    /// `cold/events/YYYY-MM-DD.parquet`
    V1Daily,
    /// `cold/events/YYYY-MM-DD-NNNNNN.parquet`
    V1Chunk(u32),
    /// `cold/events/day=YYYY-MM-DD/<id>.parquet`
    Partitioned,
}

/// A path that the layout recognises as a data file of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Its path in the store.
    pub path: String,
    /// The day its path names (every row must be of it).
    pub day: UtcDay,
    /// Which of the layout's names it has.
    pub kind: DataFileKind,
}

/// The folder of a day's new files.
pub fn day_dir(day: UtcDay) -> String {
    format!("{EVENTS_DIR}/{DAY_DIR_PREFIX}{day}")
}

/// A fresh path for a new data file of `day`. The name is a UUIDv7: time-ordered, never reused.
pub fn new_file_path(day: UtcDay) -> String {
    format!("{}/{}{PARQUET}", day_dir(day), uuid::Uuid::now_v7())
}

/// The folder of the small documents a store keeps beside its data (import cursors…):
/// never read as data, never listed by the catalog.
pub const STATE_DIR: &str = "state";

/// The folder of the versions of the state document `name`.
pub fn state_dir(name: &str) -> String {
    format!("{STATE_DIR}/{name}")
}

/// A fresh path for a new version of the state document `name`: UUIDv7 names sort in the
/// order they were made.
pub fn new_state_path(name: &str) -> String {
    format!("{}/{}.json", state_dir(name), uuid::Uuid::now_v7())
}

/// The path of a file derived from `key` (a copy's rewrite of a source file): the same key
/// always gives the same name, so a rerun finds what an earlier run wrote.
pub fn derived_file_path(day: UtcDay, key: &str) -> String {
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes());
    format!("{}/{id}{PARQUET}", day_dir(day))
}

/// The folder `path` is directly in, as [`crate::backend::Backend::list`] names folders
/// (`""` for a file at the store's root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Where a file is written before it is published under `final_path`: same folder, so
/// publishing is a rename on a file system; a name no reader takes for data.
pub fn staging_path(final_path: &str) -> String {
    // Short on purpose: some S3 servers map whole keys to file names (s3s-fs's multipart).
    let dir = parent_dir(final_path);
    let tmp = format!(".{}{STAGING_SUFFIX}", uuid::Uuid::now_v7());
    if dir.is_empty() {
        tmp
    } else {
        format!("{dir}/{tmp}")
    }
}

/// When a staging file was made (ms since the epoch), from the UUIDv7 in its name.
pub fn staging_created_ms(path: &str) -> Option<u64> {
    let name = path.rsplit('/').next()?;
    let id = name.strip_prefix('.')?.strip_suffix(STAGING_SUFFIX)?;
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    Some(secs * 1000 + u64::from(nanos) / 1_000_000)
}

const MARKER_PREFIX: &str = "_kaizen-compaction-";
const MARKER_SUFFIX: &str = ".json";

/// The marker a compaction publishes once all its outputs are: from then on the files its
/// outputs supersede are ignored. Hive readers skip names starting with `_`.
pub fn compaction_marker_path(day: UtcDay, id: &str) -> String {
    format!("{}/{MARKER_PREFIX}{id}{MARKER_SUFFIX}", day_dir(day))
}

/// The compaction id a marker path names, if it is one.
pub fn parse_compaction_marker(path: &str) -> Option<(UtcDay, String)> {
    let (dir, name) = path.rsplit_once('/')?;
    let day = parse_day_dir(dir)?;
    let id = name
        .strip_prefix(MARKER_PREFIX)?
        .strip_suffix(MARKER_SUFFIX)?;
    Some((day, id.to_owned()))
}

/// A file a writer left while writing (published or abandoned): not data, not foreign either.
pub fn is_staging(path: &str) -> bool {
    path.ends_with(STAGING_SUFFIX)
}

/// The day named by a folder directly under [`EVENTS_DIR`] (`day=YYYY-MM-DD`).
pub fn parse_day_dir(dir: &str) -> Option<UtcDay> {
    let name = dir.trim_end_matches('/').rsplit('/').next()?;
    name.strip_prefix(DAY_DIR_PREFIX)?.parse().ok()
}

/// Recognises a data file by its path relative to the store root; `None` means foreign.
pub fn classify(path: &str) -> Option<DataFile> {
    let rest = path.strip_prefix(EVENTS_DIR)?.strip_prefix('/')?;
    let data = |day, kind| {
        Some(DataFile {
            path: path.to_owned(),
            day,
            kind,
        })
    };
    match rest.split_once('/') {
        Some((dir, name)) => {
            let day = parse_day_dir(dir)?;
            let stem = name.strip_suffix(PARQUET)?;
            // Our own names are UUIDs; any other visible *.parquet a tool put in a day folder
            // is still that day's data for hive readers, so it is for us too.
            (!stem.is_empty() && !stem.starts_with('.') && !name.contains('/')).then_some(())?;
            data(day, DataFileKind::Partitioned)
        }
        None => {
            let stem = rest.strip_suffix(PARQUET)?;
            match stem.len() {
                10 => data(stem.parse().ok()?, DataFileKind::V1Daily),
                17 if stem.as_bytes()[10] == b'-' => {
                    let counter = &stem[11..];
                    if !counter.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    data(
                        stem[..10].parse().ok()?,
                        DataFileKind::V1Chunk(counter.parse().ok()?),
                    )
                }
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> UtcDay {
        s.parse().unwrap()
    }

    #[test]
    fn recognises_every_data_name_and_nothing_else() {
        let d = day("2026-10-01");
        assert_eq!(
            classify("cold/events/2026-10-01.parquet").unwrap().kind,
            DataFileKind::V1Daily
        );
        assert_eq!(
            classify("cold/events/2026-10-01-000007.parquet")
                .unwrap()
                .kind,
            DataFileKind::V1Chunk(7)
        );
        let new = new_file_path(d);
        assert_eq!(
            classify(&new).unwrap(),
            DataFile {
                path: new.clone(),
                day: d,
                kind: DataFileKind::Partitioned
            }
        );
        for foreign in [
            "cold/events/.DS_Store",
            "cold/events/notes.txt",
            "cold/events/2026-10-01.parquet.bak",
            "cold/events/2026-13-01.parquet",
            "cold/events/2026-10-01-00000x.parquet",
            "cold/events/day=2026-10-01/notes.md",
            "cold/events/day=2026-10-01/.hidden.parquet",
            "cold/events/day=2026-10-01/sub/x.parquet",
            "cold/events/day=bad/x.parquet",
            "cold/other/2026-10-01.parquet",
            "2026-10-01.parquet",
            &staging_path(&new),
        ] {
            assert_eq!(classify(foreign), None, "{foreign}");
        }
        assert!(is_staging(&staging_path(&new)));
        let created = staging_created_ms(&staging_path(&new)).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert!(created.abs_diff(now.as_millis() as u64) < 60_000);
        let marker = compaction_marker_path(d, "abc");
        assert_eq!(
            parse_compaction_marker(&marker),
            Some((d, "abc".to_owned()))
        );
        assert_eq!(classify(&marker), None);
    }

    #[test]
    fn new_names_are_unique_and_time_ordered() {
        let d = day("2026-10-01");
        let a = new_file_path(d);
        let b = new_file_path(d);
        assert!(a < b, "{a} {b}");
        assert_eq!(parse_day_dir(&day_dir(d)), Some(d));
    }
}
