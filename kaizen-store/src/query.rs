use std::sync::{Arc, Mutex};

use kaizen_core::{EventKind, Field, UtcDay};

/// Where a scan with `skip_corrupt` records each file it skipped, with the reason.
#[derive(Debug, Clone, Default)]
pub struct SkippedFiles(Arc<Mutex<Vec<(String, String)>>>);

impl SkippedFiles {
    pub(crate) fn record(&self, path: &str, reason: String) {
        if let Ok(mut skipped) = self.0.lock() {
            skipped.push((path.to_owned(), reason));
        }
    }

    /// The files skipped so far, as `(path, reason)`.
    pub fn list(&self) -> Vec<(String, String)> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Two logs are equal when they are the same log.
impl PartialEq for SkippedFiles {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The identities of the files a query's scans have opened, by day: where the store's
/// identity rule is checked across days (`store/identities.rs`). One is shared by every
/// scan of one query (the runs of days SQL scans side by side); a scan given none makes
/// its own. Two logs are equal when they are the same log.
#[derive(Debug, Clone, Default)]
pub struct IdentityLedger(pub(crate) Arc<Mutex<crate::store::Ledger>>);

impl PartialEq for IdentityLedger {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a scan reads. Every part is optional; the default reads every event, every column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Half-open time range `[from_ms, to_ms)` on `ts_ms` (ms since the epoch); `None`:
    /// from the first event.
    pub from_ms: Option<u64>,
    /// The range's end, excluded; `None`: to the last event.
    pub to_ms: Option<u64>,
    /// Only these sessions (any of them); empty means all.
    pub sessions: Vec<String>,
    /// Only these kinds (any of them); empty means all.
    pub kinds: Vec<EventKind>,
    /// Output columns in this order; `None` means all 22 in v1 order.
    pub columns: Option<Vec<Field>>,
    /// At most this many events.
    pub limit: Option<usize>,
    /// Skip files that cannot be read (corrupt, truncated, wrong schema or day) instead of
    /// failing, recording each here. Rows a damaged file gave before the damage are kept.
    pub skip_corrupt: Option<SkippedFiles>,
    /// Shared by the scans of one query so that an identity stored on two days is found
    /// whichever scan reads each day; `None`: each scan checks the days it reads.
    pub identities: Option<IdentityLedger>,
    /// Rows of a day may come in any order (days still come in order): files that share no
    /// identity are read one after another instead of merged by the key. For aggregates,
    /// which need each event once but no order: a day of many files is read at the cost of
    /// its bytes, not of a k-way merge. A day whose files change under such a scan after it
    /// gave rows cannot be resumed without an order to resume from: the scan then fails
    /// (nothing is given twice or missed), and a new scan reads the day as it now is.
    pub unordered: bool,
}

impl Query {
    /// Every event, every column (the builder's start).
    pub fn all() -> Self {
        Self::default()
    }

    /// Events at `ms` or later (ms since the epoch).
    pub fn from_ms(mut self, ms: u64) -> Self {
        self.from_ms = Some(ms);
        self
    }

    /// Events before `ms` (excluded).
    pub fn to_ms(mut self, ms: u64) -> Self {
        self.to_ms = Some(ms);
        self
    }

    /// Adds a session to read (called again: either session).
    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.sessions.push(id.into());
        self
    }

    /// Adds a kind to read (called again: either kind).
    pub fn kind(mut self, kind: EventKind) -> Self {
        self.kinds.push(kind);
        self
    }

    /// Reads only these columns, in this order: the others are never decoded (payloads
    /// are most of a store's bytes).
    pub fn columns(mut self, columns: impl IntoIterator<Item = Field>) -> Self {
        self.columns = Some(columns.into_iter().collect());
        self
    }

    /// Skips unreadable files instead of failing, naming each in `log` (see
    /// [`Query::skip_corrupt`]'s field).
    pub fn skip_corrupt(mut self, log: SkippedFiles) -> Self {
        self.skip_corrupt = Some(log);
        self
    }

    /// At most `limit` events, the first in the store's order.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Lets each day's rows come in any order (see [`Query::unordered`]).
    pub fn unordered(mut self) -> Self {
        self.unordered = true;
        self
    }

    /// The output columns.
    pub fn output_fields(&self) -> Vec<Field> {
        self.columns.clone().unwrap_or_else(|| Field::ALL.to_vec())
    }

    /// Whether a day can hold events of the time range.
    pub fn may_contain_day(&self, day: UtcDay) -> bool {
        self.from_ms.is_none_or(|from| day.end_ms() > from)
            && self.to_ms.is_none_or(|to| day.start_ms() < to)
    }

    /// Whether `[min, max]` (inclusive) overlaps the time range.
    pub fn may_contain_span(&self, min: u64, max: u64) -> bool {
        self.from_ms.is_none_or(|from| max >= from) && self.to_ms.is_none_or(|to| min < to)
    }

    /// Whether every time in `min..=max` is in the query's range.
    pub fn contains_span(&self, min: u64, max: u64) -> bool {
        self.from_ms.is_none_or(|from| min >= from) && self.to_ms.is_none_or(|to| max < to)
    }

    /// Splits the query into at most `parts` queries over contiguous runs of `days`
    /// (sorted), which together cover exactly this query's time range: scanned side by
    /// side, each in key order, they give the same events as this one.
    pub fn split_by_days(&self, days: &[UtcDay], parts: usize) -> Vec<Query> {
        let parts = parts.clamp(1, days.len().max(1));
        let per_part = days.len().div_ceil(parts).max(1);
        // Each part after the first starts at the first day of its run.
        let starts: Vec<u64> = days
            .chunks(per_part)
            .skip(1)
            .map(|run| run[0].start_ms())
            .collect();
        let mut bounds = vec![self.from_ms];
        bounds.extend(starts.iter().map(|&s| Some(s)));
        bounds.push(self.to_ms);
        bounds
            .windows(2)
            .map(|w| Query {
                from_ms: w[0],
                to_ms: w[1],
                ..self.clone()
            })
            .collect()
    }

    /// The range is empty: nothing can match.
    pub fn is_empty_range(&self) -> bool {
        matches!((self.from_ms, self.to_ms), (Some(f), Some(t)) if f >= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> UtcDay {
        s.parse().expect("day")
    }

    #[test]
    fn a_span_is_contained_only_when_both_ends_are_in_range() {
        let query = Query::all().from_ms(10).to_ms(20);
        assert!(query.contains_span(10, 19));
        assert!(!query.contains_span(9, 19));
        assert!(!query.contains_span(10, 20));
        assert!(query.may_contain_span(5, 10) && !query.contains_span(5, 10));
        assert!(Query::all().contains_span(0, u64::MAX));
    }

    #[test]
    fn split_by_days_covers_the_range_exactly_in_contiguous_runs() {
        let days: Vec<UtcDay> = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-09"]
            .map(day)
            .to_vec();
        let query = Query::all()
            .from_ms(day("2026-10-01").start_ms() + 5)
            .kind(EventKind::Cost);
        let parts = query.split_by_days(&days, 3);
        assert_eq!(parts.len(), 2, "runs of two days: two parts");
        assert_eq!(parts[0].from_ms, query.from_ms);
        assert_eq!(parts[0].to_ms, Some(day("2026-10-05").start_ms()));
        assert_eq!(parts[1].from_ms, Some(day("2026-10-05").start_ms()));
        assert_eq!(parts[1].to_ms, None);
        assert!(parts.iter().all(|p| p.kinds == query.kinds));

        assert_eq!(query.split_by_days(&days, 1), vec![query.clone()]);
        assert_eq!(query.split_by_days(&[], 4), vec![query.clone()]);
        assert_eq!(query.split_by_days(&days, 9).len(), 4);
    }
}
