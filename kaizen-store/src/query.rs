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

/// What a scan reads. Every part is optional; the default reads every event, every column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Half-open time range `[from_ms, to_ms)` on `ts_ms`.
    pub from_ms: Option<u64>,
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
}

impl Query {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn from_ms(mut self, ms: u64) -> Self {
        self.from_ms = Some(ms);
        self
    }

    pub fn to_ms(mut self, ms: u64) -> Self {
        self.to_ms = Some(ms);
        self
    }

    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.sessions.push(id.into());
        self
    }

    pub fn kind(mut self, kind: EventKind) -> Self {
        self.kinds.push(kind);
        self
    }

    pub fn columns(mut self, columns: impl IntoIterator<Item = Field>) -> Self {
        self.columns = Some(columns.into_iter().collect());
        self
    }

    pub fn skip_corrupt(mut self, log: SkippedFiles) -> Self {
        self.skip_corrupt = Some(log);
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
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

    /// The range is empty: nothing can match.
    pub fn is_empty_range(&self) -> bool {
        matches!((self.from_ms, self.to_ms), (Some(f), Some(t)) if f >= t)
    }
}
