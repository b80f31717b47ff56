//! Time for the whole service. Every "now" comes from an injected [`Clock`] so that tests can pin
//! it; `clippy.toml` bans the std/chrono clocks everywhere else.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use std::sync::Mutex;

/// A UTC instant with millisecond precision (the precision MOSIP's wire format carries).
pub type Timestamp = DateTime<Utc>;

/// The only way the service reads the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real clock, truncated to milliseconds so that a stored value equals the one shown.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one permitted reading of the system clock
    fn now(&self) -> Timestamp {
        truncate_to_millis(Utc::now())
    }
}

/// A clock tests can set and move.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(truncate_to_millis(at)))
    }
    pub fn set(&self, at: Timestamp) {
        if let Ok(mut t) = self.0.lock() {
            *t = truncate_to_millis(at);
        }
    }
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        match self.0.lock() {
            Ok(t) => *t,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

pub fn truncate_to_millis(t: Timestamp) -> Timestamp {
    let nanos = t.nanosecond() % 1_000_000_000;
    t.with_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

/// MOSIP's wire format `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`; also the stored form, which sorts
/// lexicographically in time order.
pub fn format_ts(t: &Timestamp) -> String {
    // The same text as `%Y-%m-%dT%H:%M:%S%.3fZ` for every four-digit year. Written digit by
    // digit: every response carries one or more, and chrono's general RFC 3339 writer took ~600
    // instructions each (callgrind), this ~100.
    let d = t.naive_utc();
    let (year, nanos) = (d.year(), d.nanosecond());
    let Ok(year) = u32::try_from(year) else {
        return t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    };
    if year > 9999 || nanos >= 1_000_000_000 {
        // Five-digit years and leap seconds: chrono's own rendering.
        return t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    }
    let mut b = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut b[0..4], year);
    put_digits(&mut b[5..7], d.month());
    put_digits(&mut b[8..10], d.day());
    put_digits(&mut b[11..13], d.hour());
    put_digits(&mut b[14..16], d.minute());
    put_digits(&mut b[17..19], d.second());
    put_digits(&mut b[20..23], nanos / 1_000_000);
    std::str::from_utf8(&b)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// Writes `v` right-aligned into `out` as zero-padded decimal digits.
fn put_digits(out: &mut [u8], mut v: u32) {
    for slot in out.iter_mut().rev() {
        // `v % 10` is a single digit.
        *slot = b'0' + u8::try_from(v % 10).unwrap_or(0);
        v /= 10;
    }
}

/// Parses exactly `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (three fraction digits, literal `Z`, a real
/// calendar date-time; no leap second).
pub fn parse_ts(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    // The shape is fixed and checked, so the fields are read by position: chrono's format-string
    // parser was a tenth of reading a stored row.
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let year = i32::try_from(num(0..4)).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5..7), num(8..10))?;
    // Seconds above 59 are refused here (and_hms_milli_opt only takes a leap second as
    // millis >= 1000, which three digits cannot spell).
    let time = date.and_hms_milli_opt(num(11..13), num(14..16), num(17..19), num(20..23))?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_wire_format() {
        let t = parse_ts("2025-07-01T10:15:30.123Z").unwrap();
        assert_eq!(format_ts(&t), "2025-07-01T10:15:30.123Z");
    }

    #[test]
    fn formats_like_the_wire_pattern() {
        for text in [
            "0001-01-01T00:00:00.000Z",
            "1999-12-31T23:59:59.999Z",
            "2026-11-28T03:04:05.007Z",
            "9999-12-31T23:59:59.000Z",
            "2024-02-29T12:00:00.010Z",
            "1970-01-01T00:00:00.100Z",
        ] {
            let t = parse_ts(text).unwrap();
            assert_eq!(format_ts(&t), text);
            assert_eq!(
                format_ts(&t),
                t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            );
        }
        // Beyond four digits the general writer takes over.
        let far = parse_ts("9999-12-31T23:59:59.999Z").unwrap() + chrono::Duration::days(400);
        assert_eq!(
            format_ts(&far),
            far.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
        // Sub-millisecond parts (never stored) are cut, not rounded, like the pattern.
        let t = parse_ts("2026-11-28T03:04:05.007Z").unwrap() + chrono::Duration::microseconds(999);
        assert_eq!(format_ts(&t), "2026-11-28T03:04:05.007Z");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "2025-07-01T10:15:30Z",
            "2025-07-01T10:15:30.12Z",
            "2025-07-01T10:15:30.1234Z",
            "2025-07-01T10:15:30.123",
            "2025-07-01T10:15:30.123+00:00",
            "2025-02-30T10:15:30.123Z",
            "2025-07-01T24:00:00.000Z",
            "2025-07-01T23:59:60.000Z",
            "2025-07-01T23:60:00.000Z",
            "2025-13-01T10:15:30.123Z",
            "2025-00-01T10:15:30.123Z",
            "2025-07-00T10:15:30.123Z",
            "2025-07-01 10:15:30.123Z",
            "",
            "２025-07-01T10:15:30.123Z",
        ] {
            assert!(parse_ts(bad).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn system_clock_is_millisecond_precise() {
        let now = SystemClock.now();
        assert_eq!(now.nanosecond() % 1_000_000, 0);
    }
}
