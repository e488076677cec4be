use std::fmt;
use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, macros::format_description};

use crate::{Error, Result};

const DAY_MS: u64 = 86_400_000;

/// The last millisecond the layout can name a day for: 9999-12-31T23:59:59.999Z.
pub const MAX_TS_MS: u64 = 253_402_300_799_999;

/// A UTC calendar day, as days since 1970-01-01. Its text form is `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcDay(u32);

impl UtcDay {
    /// The day of a timestamp in milliseconds since the Unix epoch.
    pub fn of_ts_ms(ts_ms: u64) -> Result<UtcDay> {
        if ts_ms > MAX_TS_MS {
            return Err(Error::InvalidTime {
                input: ts_ms.to_string(),
                reason: "after 9999-12-31T23:59:59.999Z".into(),
            });
        }
        Ok(UtcDay((ts_ms / DAY_MS) as u32))
    }

    /// The day `days` after 1970-01-01 (day 0): the inverse of
    /// [`UtcDay::days_since_epoch`].
    pub const fn from_days_since_epoch(days: u32) -> UtcDay {
        UtcDay(days)
    }

    /// Days since 1970-01-01: how Arrow's `Date32` (the SQL `day` column) counts.
    pub fn days_since_epoch(self) -> u32 {
        self.0
    }

    /// First millisecond of the day.
    pub fn start_ms(self) -> u64 {
        u64::from(self.0) * DAY_MS
    }

    /// First millisecond of the next day: the day is `[start_ms, end_ms)`.
    pub fn end_ms(self) -> u64 {
        self.start_ms() + DAY_MS
    }

    /// The day after (no saturation: the days the layout names end long before `u32`'s).
    pub fn next(self) -> UtcDay {
        UtcDay(self.0 + 1)
    }

    /// The day `days` before this one, saturating at 1970-01-01.
    pub fn minus_days(self, days: u32) -> UtcDay {
        UtcDay(self.0.saturating_sub(days))
    }

    /// The day `days` after this one, saturating at the last day `u32` counts.
    pub fn plus_days(self, days: u32) -> UtcDay {
        UtcDay(self.0.saturating_add(days))
    }

    /// Today, from the system clock.
    pub fn today() -> UtcDay {
        let now = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        UtcDay((now / 86_400) as u32)
    }

    fn date(self) -> Date {
        Date::from_julian_day(UNIX_EPOCH_JULIAN + self.0 as i32).unwrap_or(Date::MAX)
    }
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN: i32 = 2_440_588;

impl fmt::Display for UtcDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date();
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl FromStr for UtcDay {
    type Err = Error;

    /// Exactly `YYYY-MM-DD`, a real calendar date from 1970-01-01 on.
    fn from_str(s: &str) -> Result<UtcDay> {
        let invalid = |reason: &str| Error::InvalidTime {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        let format = format_description!("[year]-[month]-[day]");
        if s.len() != 10 {
            return Err(invalid("expected a day as YYYY-MM-DD"));
        }
        let date = Date::parse(s, &format).map_err(|e| invalid(&e.to_string()))?;
        let days = date.to_julian_day() - UNIX_EPOCH_JULIAN;
        u32::try_from(days)
            .map(UtcDay)
            .map_err(|_| invalid("before 1970-01-01"))
    }
}

/// Parses a user's time argument to milliseconds since the Unix epoch:
/// RFC 3339 (`2026-10-01T12:00:00Z`, `2026-10-01T14:00:00+02:00`), a day `YYYY-MM-DD`
/// (its UTC midnight), or epoch milliseconds (`1790812800000`).
pub fn parse_time_arg(s: &str) -> Result<u64> {
    let invalid = |reason: String| Error::InvalidTime {
        input: s.to_owned(),
        reason,
    };
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = s
            .parse()
            .map_err(|_| invalid("epoch milliseconds out of range".into()))?;
        return (ms <= MAX_TS_MS)
            .then_some(ms)
            .ok_or_else(|| invalid("after 9999-12-31".into()));
    }
    if s.len() == 10 {
        return s.parse::<UtcDay>().map(UtcDay::start_ms);
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        invalid(format!(
            "{e}; expected RFC 3339 (2026-10-01T12:00:00Z), YYYY-MM-DD or epoch milliseconds"
        ))
    })?;
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    u64::try_from(ms).map_err(|_| invalid("before 1970-01-01".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_boundaries_are_half_open() {
        let d: UtcDay = "2026-10-01".parse().unwrap();
        assert_eq!(d.start_ms(), 1_790_812_800_000);
        assert_eq!(UtcDay::of_ts_ms(1_790_899_199_999).unwrap(), d);
        assert_eq!(UtcDay::of_ts_ms(1_790_899_200_000).unwrap(), d.next());
        assert_eq!(d.next().to_string(), "2026-10-02");
        assert_eq!(UtcDay::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(
            UtcDay::of_ts_ms(MAX_TS_MS).unwrap().to_string(),
            "9999-12-31"
        );
        assert!(UtcDay::of_ts_ms(MAX_TS_MS + 1).is_err());
    }

    #[test]
    fn time_args() {
        assert_eq!(parse_time_arg("1790812800000").unwrap(), 1_790_812_800_000);
        assert_eq!(parse_time_arg("2026-10-01").unwrap(), 1_790_812_800_000);
        assert_eq!(
            parse_time_arg("2026-10-01T02:00:00.5+02:00").unwrap(),
            1_790_812_800_500
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30",
            "yesterday",
            "1969-12-31",
            "2026-10-01T00:00",
        ] {
            assert!(parse_time_arg(bad).is_err(), "{bad}");
        }
    }
}
