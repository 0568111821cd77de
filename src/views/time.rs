//! Timestamps in answers and events: RFC 3339 in UTC, byte for byte as chrono writes them
//! (`2026-12-03T10:54:01.123456Z`; the fraction with 0, 3, 6 or 9 digits, the fewest that hold
//! it), but written into a buffer on the stack and handed to the serializer as one string.
//! chrono's own `Serialize` writes through `collect_str`, which serde_json passes through its
//! escaper piece by piece: some 2 200 instructions a timestamp, where this takes about 650
//! (callgrind, escaping included; docs/performance.md). An answer carries up to five, a page
//! of the event feed fifty. What the fast path does not cover
//! (a year outside 0–9999, a leap second) goes to chrono's own.
//!
//! Use it on a field: `#[serde(serialize_with = "crate::views::time::rfc3339")]`, or
//! `crate::views::time::rfc3339_option` for an `Option`. The OpenAPI schema stays chrono's.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// The longest text the fast path writes: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const LONGEST: usize = 30;

/// Serializes `at` as chrono does, faster.
pub fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; LONGEST];
    // Only ASCII digits and `-T:.Z` are written, so the text is always UTF-8.
    match write(at, &mut buf).map(|n| std::str::from_utf8(&buf[..n])) {
        Some(Ok(text)) => serializer.serialize_str(text),
        _ => at.serialize(serializer),
    }
}

/// [`rfc3339`] for an optional timestamp: `null` when there is none.
pub fn rfc3339_option<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    struct Fast<'a>(&'a DateTime<Utc>);
    impl Serialize for Fast<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            rfc3339(self.0, serializer)
        }
    }
    match at {
        Some(at) => serializer.serialize_some(&Fast(at)),
        None => serializer.serialize_none(),
    }
}

/// Writes `at` into `buf` and returns its length, or `None` where chrono's own must write it.
fn write(at: &DateTime<Utc>, buf: &mut [u8; LONGEST]) -> Option<usize> {
    let year = at.year();
    let nano = at.nanosecond();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        return None;
    }
    let year = year as u32;
    two(buf, 0, year / 100);
    two(buf, 2, year % 100);
    buf[4] = b'-';
    two(buf, 5, at.month());
    buf[7] = b'-';
    two(buf, 8, at.day());
    buf[10] = b'T';
    two(buf, 11, at.hour());
    buf[13] = b':';
    two(buf, 14, at.minute());
    buf[16] = b':';
    two(buf, 17, at.second());
    let mut n = 19;
    let (digits, fraction) = match nano {
        0 => (0, 0),
        _ if nano.is_multiple_of(1_000_000) => (3, nano / 1_000_000),
        _ if nano.is_multiple_of(1_000) => (6, nano / 1_000),
        _ => (9, nano),
    };
    if digits > 0 {
        buf[n] = b'.';
        let mut rest = fraction;
        for i in (0..digits).rev() {
            buf[n + 1 + i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        n += 1 + digits;
    }
    buf[n] = b'Z';
    Some(n + 1)
}

/// Two decimal digits of `value` (0–99) at `at`.
fn two(buf: &mut [u8], at: usize, value: u32) {
    buf[at] = b'0' + (value / 10) as u8;
    buf[at + 1] = b'0' + (value % 10) as u8;
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[derive(Serialize)]
    struct Fast {
        #[serde(serialize_with = "rfc3339")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "rfc3339_option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    fn both(at: DateTime<Utc>) -> (String, String) {
        let fast = serde_json::to_string(&Fast { at, maybe: Some(at) }).unwrap();
        let chrono = serde_json::to_string(&Chrono { at, maybe: Some(at) }).unwrap();
        (fast, chrono)
    }

    fn utc(year: i32, month: u32, day: u32, h: u32, m: u32, s: u32, nano: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(
            &NaiveDate::from_ymd_opt(year, month, day).unwrap().and_hms_nano_opt(h, m, s, nano).unwrap(),
        )
    }

    #[test]
    fn writes_what_chrono_writes_for_every_fraction_and_the_edges() {
        let cases = [
            utc(2026, 12, 3, 10, 54, 1, 0),
            utc(2026, 12, 3, 10, 54, 1, 120_000_000),
            utc(2026, 12, 3, 10, 54, 1, 123_456_000),
            utc(2026, 12, 3, 10, 54, 1, 123_456_789),
            utc(2026, 12, 3, 10, 54, 1, 1_000),
            utc(2026, 12, 3, 10, 54, 1, 1),
            utc(2026, 12, 3, 10, 54, 1, 999_999_999),
            utc(0, 1, 1, 0, 0, 0, 0),
            utc(9, 2, 3, 4, 5, 6, 7_000_000),
            utc(999, 10, 31, 23, 59, 59, 500_000),
            utc(9999, 12, 31, 23, 59, 59, 999_999_000),
            // Outside the fast path: chrono's own writes these.
            utc(-1, 1, 1, 0, 0, 0, 0),
            utc(10_000, 1, 1, 0, 0, 0, 0),
            utc(2016, 12, 31, 23, 59, 59, 1_500_000_000),
        ];
        for at in cases {
            let (fast, chrono) = both(at);
            assert_eq!(fast, chrono, "{at:?}");
        }
        assert_eq!(
            both(utc(2026, 12, 3, 10, 54, 1, 123_456_000)).0,
            r#"{"at":"2026-12-03T10:54:01.123456Z","maybe":"2026-12-03T10:54:01.123456Z"}"#
        );
        let none = serde_json::to_string(&Fast { at: utc(2026, 1, 2, 3, 4, 5, 0), maybe: None }).unwrap();
        assert_eq!(none, r#"{"at":"2026-01-02T03:04:05Z","maybe":null}"#);
    }

    #[test]
    fn writes_what_chrono_writes_across_the_calendar() {
        // Every day of a leap year and of a plain one, at a time of day and fraction that move
        // with the day, and years across the range.
        let mut at = utc(2024, 1, 1, 0, 0, 0, 0);
        for i in 0..731u32 {
            let (fast, chrono) = both(at);
            assert_eq!(fast, chrono, "{at:?}");
            let nano = match i % 4 {
                0 => 0,
                1 => (i % 1000) * 1_000_000,
                2 => (i * 997 % 1_000_000) * 1_000,
                _ => i * 1_234_567 % 1_000_000_000,
            };
            at += chrono::Duration::seconds(86_400 + 3_607);
            at = at.with_nanosecond(nano).unwrap();
        }
        for year in (0..=9999).step_by(37) {
            let (fast, chrono) = both(utc(year, 7, 15, 12, 30, 45, 250_000_000));
            assert_eq!(fast, chrono, "{year}");
        }
    }
}
