//! The report's time zone, its window and its calendar periods (day, week, month).
//!
//! Days, weeks and months are the calendar periods of one IANA zone, DST included: a local
//! day is 23, 24 or 25 hours, and its start is the first instant whose local date is that
//! day. The window and every period are half-open ranges of UTC milliseconds, so a scan
//! filters on `ts_ms` alone and reads exactly the UTC day partitions a local period
//! overlaps; an event is in the one period whose range holds its `ts_ms`, never in none.

use anyhow::{Context, bail};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Calendar periods of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Day,
    /// Monday to Sunday, named by its Monday (ccusage's weeks).
    Week,
    Month,
}

/// The zone reports are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone {
    tz: Tz,
}

impl Zone {
    /// `--timezone ZONE` (an IANA name; another name is an error naming it), else `$TZ`
    /// (with or without a leading `:`) when it is an IANA name, else the machine's zone
    /// (`/etc/localtime`), else UTC, as the C library does without one.
    pub fn resolve(given: Option<&str>) -> anyhow::Result<Zone> {
        if let Some(name) = given {
            return Zone::named(name).with_context(|| format!("--timezone {name}"));
        }
        let from_env = std::env::var("TZ").ok().filter(|tz| !tz.is_empty());
        if let Some(zone) = from_env
            .as_deref()
            .and_then(|tz| Zone::named(tz.trim_start_matches(':')).ok())
        {
            return Ok(zone);
        }
        // A POSIX $TZ (`CET-1CEST`) names no IANA zone: the machine's is the next best.
        let machine = iana_time_zone::get_timezone()
            .ok()
            .and_then(|name| Zone::named(&name).ok());
        Ok(machine.unwrap_or(Zone { tz: Tz::UTC }))
    }

    /// The zone of an IANA name (`UTC`, `Asia/Kolkata`).
    pub fn named(name: &str) -> anyhow::Result<Zone> {
        match name.parse::<Tz>() {
            Ok(tz) => Ok(Zone { tz }),
            Err(_) => match (chrono_tz::TZ_VARIANTS.iter())
                .find(|tz| tz.name().eq_ignore_ascii_case(name))
            {
                // Names are exact (as the tz database spells them): say the right one.
                Some(tz) => bail!(
                    "not an IANA time zone: {name:?}; did you mean {:?}?",
                    tz.name()
                ),
                None => bail!(
                    "not an IANA time zone: {name:?} (such as UTC, Europe/Paris, America/New_York, Asia/Kolkata)"
                ),
            },
        }
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &'static str {
        self.tz.name()
    }

    /// The local calendar day of an instant (milliseconds since the epoch).
    pub fn date_of(&self, ms: i64) -> NaiveDate {
        let utc = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
        utc.with_timezone(&self.tz).date_naive()
    }

    /// The first instant (UTC ms) of the local day `date`: its midnight, or where a DST
    /// jump skips midnight, the first local time that exists that day.
    pub fn day_start(&self, date: NaiveDate) -> i64 {
        let midnight = date.and_time(NaiveTime::MIN);
        match self.tz.from_local_datetime(&midnight) {
            chrono::LocalResult::Single(t) => t.timestamp_millis(),
            // Midnight happens twice (clocks set back at midnight): the first.
            chrono::LocalResult::Ambiguous(first, _) => first.timestamp_millis(),
            chrono::LocalResult::None => {
                // Skipped: the day starts at the jump. The offset before it, applied to
                // local midnight, is an instant before the jump, whose local date is the
                // day before; walk to the first minute of `date` (jumps are at most a day).
                let before = self.tz.offset_from_utc_date(&(date - Duration::days(1)));
                let mut ms = (midnight - before.fix()).and_utc().timestamp_millis();
                while self.date_of(ms) < date {
                    ms += 60_000;
                }
                ms
            }
        }
    }
}

/// The first day of the period of `unit` holding `date`.
pub fn period_first_day(unit: Unit, date: NaiveDate) -> NaiveDate {
    match unit {
        Unit::Day => date,
        Unit::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        Unit::Month => date.with_day(1).unwrap_or(date),
    }
}

/// The first day of the period after the one starting on `first`.
fn next_first_day(unit: Unit, first: NaiveDate) -> NaiveDate {
    match unit {
        Unit::Day => first + Duration::days(1),
        Unit::Week => first + Duration::days(7),
        Unit::Month => first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first + Duration::days(31)),
    }
}

/// The label of the period starting on `first`: `2026-10-01` (a day; a week, by its
/// Monday) or `2026-10` (a month), as ccusage names them.
pub fn label(unit: Unit, first: NaiveDate) -> String {
    match unit {
        Unit::Day | Unit::Week => first.format("%Y-%m-%d").to_string(),
        Unit::Month => first.format("%Y-%m").to_string(),
    }
}

/// Maps instants to their period of one unit in one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Periods {
    zone: Zone,
    unit: Unit,
}

impl Periods {
    pub fn new(zone: Zone, unit: Unit) -> Self {
        Periods { zone, unit }
    }

    /// The period holding `ms`: [start, end) in UTC ms.
    pub fn range(&self, ms: i64) -> (i64, i64) {
        let first = period_first_day(self.unit, self.zone.date_of(ms));
        let start = self.zone.day_start(first);
        let end = self.zone.day_start(next_first_day(self.unit, first));
        (start, end)
    }

    /// The label of the period starting at `start_ms` (one [`Periods::range`] gave).
    pub fn label(&self, start_ms: i64) -> String {
        label(self.unit, self.zone.date_of(start_ms))
    }
}

/// The report's window: events with `from_ms <= ts_ms < to_ms`. A window reaching past now
/// ends at now (included): events dated later (a clock ahead, a bad timestamp) are counted
/// apart, in no period, until their time comes.
#[derive(Debug, Clone)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Where the asked-for window ends, when past `to_ms` (the window was cut at now).
    pub asked_to_ms: Option<i64>,
    /// Whether `--until` was given (else the window is "up to now", and every event after
    /// now is left out of it).
    pub until_given: bool,
    /// The first and last local day asked for.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Sessions of the window both exported over OpenTelemetry and imported from their
    /// transcript, whose OpenTelemetry events the report leaves out (see `sql::events_in`):
    /// found before the report's queries, usually none.
    pub doubled_sessions: Vec<String>,
    /// Sessions of the window whose events name two or more models (agents, projects,
    /// hosts: the attributes a report groups by), which only a sort by `seq` attributes
    /// (see `sql::window_ctes`): found before the report's queries, usually few.
    pub mixed_sessions: Vec<String>,
}

impl Window {
    /// The window of `--days N` (the last N local days, today included; 30 without any
    /// option) or `--since`/`--until` (local days, both included), cut at `now_ms`.
    pub fn new(
        zone: Zone,
        days: Option<u32>,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        now_ms: i64,
    ) -> anyhow::Result<Window> {
        let today = zone.date_of(now_ms);
        let last_day = until.unwrap_or(today);
        let first_day = match (since, days) {
            (Some(since), _) => since,
            (None, days) => {
                let days = days.unwrap_or(30);
                let back = chrono::Days::new(u64::from(days.saturating_sub(1)));
                match last_day.checked_sub_days(back) {
                    // Before the epoch no event is (`ts_ms` is unsigned): as far back as that.
                    Some(first) => first.max(epoch_day()),
                    None => epoch_day(),
                }
            }
        };
        if first_day > last_day {
            bail!("--since {first_day} is after --until {last_day}: an empty window");
        }
        let from_ms = zone.day_start(first_day);
        let end_ms = zone.day_start(last_day + Duration::days(1));
        // Now is in the window (`ts_ms <= now`), later instants are not.
        let (to_ms, asked_to_ms) = if end_ms > now_ms + 1 {
            (now_ms + 1, Some(end_ms))
        } else {
            (end_ms, None)
        };
        Ok(Window {
            from_ms,
            to_ms: to_ms.max(from_ms),
            asked_to_ms,
            until_given: until.is_some(),
            first_day,
            last_day,
            doubled_sessions: Vec::new(),
            mixed_sessions: Vec::new(),
        })
    }
}

/// 1970-01-01, the first day an event can be on.
fn epoch_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("time")
            .timestamp_millis()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn local_days_cover_every_instant_once() {
        for name in [
            "UTC",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
        ] {
            let zone = Zone::named(name).expect("zone");
            let periods = Periods::new(zone, Unit::Day);
            // Over a year (two DST changes), consecutive days meet exactly.
            let mut start = zone.day_start(day("2026-01-01"));
            for _ in 0..366 {
                let (s, e) = periods.range(start);
                assert_eq!(s, start, "{name}");
                assert!(e - s >= 22 * 3_600_000 && e - s <= 25 * 3_600_000, "{name}");
                assert_eq!(periods.range(e - 1), (s, e), "{name}");
                start = e;
            }
        }
    }

    #[test]
    fn zones_east_and_west_and_half_hours() {
        let kolkata = Zone::named("Asia/Kolkata").expect("zone");
        // 2026-10-01 00:00 in Kolkata is 2026-09-30 18:30 UTC.
        assert_eq!(
            kolkata.day_start(day("2026-10-01")),
            ms("2026-09-30T18:30:00Z")
        );
        let la = Zone::named("America/Los_Angeles").expect("zone");
        assert_eq!(la.day_start(day("2026-10-01")), ms("2026-10-01T07:00:00Z"));
        // The DST change of 2026-11-01: a 25-hour day.
        let (s, e) = Periods::new(la, Unit::Day).range(ms("2026-11-01T12:00:00Z"));
        assert_eq!(e - s, 25 * 3_600_000);
        // A zone whose DST jump skips midnight (Santiago, 2026-09-06 00:00 → 01:00).
        let santiago = Zone::named("America/Santiago").expect("zone");
        let start = santiago.day_start(day("2026-09-06"));
        assert_eq!(santiago.date_of(start), day("2026-09-06"));
        assert_eq!(santiago.date_of(start - 1), day("2026-09-05"));
        assert!(Zone::named("Mars/Olympus").is_err());
    }

    #[test]
    fn weeks_start_monday_and_months_on_the_first() {
        let utc = Zone::named("UTC").expect("zone");
        let weeks = Periods::new(utc, Unit::Week);
        // 2026-10-01 is a Thursday: its week is named by Monday 2026-09-28.
        let (s, e) = weeks.range(ms("2026-10-01T10:00:00Z"));
        assert_eq!(weeks.label(s), "2026-09-28");
        assert_eq!(e - s, 7 * 86_400_000);
        let months = Periods::new(utc, Unit::Month);
        let (s, e) = months.range(ms("2026-02-10T10:00:00Z"));
        assert_eq!(months.label(s), "2026-02");
        assert_eq!(e - s, 28 * 86_400_000);
    }

    #[test]
    fn window_of_days_since_until() {
        let zone = Zone::named("Asia/Kolkata").expect("zone");
        let now = ms("2026-10-05T12:00:00Z");
        let w = Window::new(zone, Some(2), None, None, now).expect("window");
        assert_eq!(w.from_ms, ms("2026-10-03T18:30:00Z"));
        assert_eq!(w.to_ms, now + 1);
        let w = Window::new(
            zone,
            None,
            Some(day("2026-10-01")),
            Some(day("2026-10-02")),
            now,
        )
        .expect("window");
        assert_eq!(
            (w.from_ms, w.to_ms),
            (ms("2026-09-30T18:30:00Z"), ms("2026-10-02T18:30:00Z"))
        );
        assert!(w.asked_to_ms.is_none());
        assert!(
            Window::new(
                zone,
                None,
                Some(day("2026-10-03")),
                Some(day("2026-10-02")),
                now
            )
            .is_err()
        );
    }
}
