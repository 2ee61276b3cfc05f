//! Time, once: unix seconds now, the RRSIG time format (RFC 4034 §3.2),
//! civil dates (proleptic Gregorian) and UTC times of day, for every module
//! that needs them.
//!
//! Owns calendar arithmetic; it does no I/O but read the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time now, in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of a UTC date and time, or `None` if a field is out of range.
pub fn unix_from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix seconds to `YYYYMMDDHHmmSS` in UTC.
pub fn format_timestamp(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `YYYYMMDDHHmmSS` (UTC) to unix seconds; `None` if it is not one.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
    unix_from_civil(
        n(0, 4)? as i64,
        n(4, 6)?,
        n(6, 8)?,
        n(8, 10)?,
        n(10, 12)?,
        n(12, 14)?,
    )
}

/// RRSIG time as YYYYMMDDHHmmSS (RFC 4034 §3.2). Serial arithmetic on the
/// 32-bit value is the caller's business; this prints the absolute time.
pub fn rrsig_time(t: u32) -> String {
    format_timestamp(t as i64)
}

/// An RRSIG time field from its presentation form (RFC 4034 §3.2): either
/// `YYYYMMDDHHmmSS` or a plain number of seconds; the 14-digit form is
/// reduced modulo 2^32 (RFC 4034 §3.1.5: serial arithmetic).
pub fn parse_rrsig_time(s: &str) -> Option<u32> {
    if s.len() == 14 {
        return parse_timestamp(s).map(|t| t as u32);
    }
    s.parse().ok()
}

/// A UTC time of day, `HH:MM:SS` (or `HH:MM`): when a daily job runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeOfDay {
    /// Seconds after 00:00:00 UTC.
    pub secs: u32,
}

/// Why a text is not a [`TimeOfDay`]; names the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a UTC time of day HH:MM:SS")]
pub struct TimeOfDayError {
    /// The text that did not parse.
    pub text: String,
}

impl std::str::FromStr for TimeOfDay {
    type Err = TimeOfDayError;
    fn from_str(s: &str) -> Result<TimeOfDay, TimeOfDayError> {
        let bad = || TimeOfDayError {
            text: s.to_string(),
        };
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        // Two ASCII digits each (checked above): the parse cannot fail, and
        // 99 would be refused by the range check below anyway.
        let v: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
        let (h, m, sec) = (v[0], v[1], v.get(2).copied().unwrap_or(0));
        if h > 23 || m > 59 || sec > 59 {
            return Err(bad());
        }
        Ok(TimeOfDay {
            secs: h * 3600 + m * 60 + sec,
        })
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.secs;
        write!(f, "{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    }
}

/// A TTL in seconds or with BIND units (`1w2d3h4m5s`); at most 2^31 - 1
/// (RFC 2181 §8).
pub fn parse_ttl(s: &str) -> Option<u32> {
    let mut total: u64 = 0;
    let mut n: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            n = Some(n.unwrap_or(0).checked_mul(10)?.checked_add(u64::from(d))?);
            if n? > u64::from(u32::MAX) {
                return None;
            }
        } else {
            let mult = match c.to_ascii_lowercase() {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 604_800,
                _ => return None,
            };
            // n <= u32::MAX and the total stays below 2^31, so no overflow.
            total += n.take()? * mult;
            if total > 0x7fff_ffff {
                return None;
            }
        }
    }
    total += n.unwrap_or(0);
    if s.is_empty() || total > 0x7fff_ffff {
        return None;
    }
    Some(total as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ttl_bounds_without_overflow() {
        assert_eq!(parse_ttl("2147483647"), Some(0x7fff_ffff));
        assert_eq!(parse_ttl("2147483648"), None);
        assert_eq!(parse_ttl("3550w"), Some(3550 * 604_800));
        assert_eq!(parse_ttl("3551w"), None);
        // A long token whose units would overflow a u64 sum: refused early.
        assert_eq!(parse_ttl(&"4294967295w".repeat(7000)), None);
        assert_eq!(parse_ttl("1h1h"), Some(7200));
        assert_eq!(parse_ttl(""), None);
    }

    #[test]
    fn rfc4034_section_3_2_time_format() {
        assert_eq!(rrsig_time(0), "19700101000000");
        assert_eq!(rrsig_time(1_700_000_000), "20231114221320");
        assert_eq!(parse_rrsig_time("20231114221320"), Some(1_700_000_000));
        assert_eq!(parse_rrsig_time("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_rrsig_time("20230230000000"), None);
        // After 2106 the field wraps (serial arithmetic).
        assert_eq!(parse_rrsig_time("21060207062816"), Some(0));
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(unix_from_civil(2024, 2, 29, 12, 0, 0), Some(1_709_208_000));
        assert_eq!(unix_from_civil(2023, 2, 29, 12, 0, 0), None);
    }

    #[test]
    fn time_of_day() {
        assert_eq!("00:00:00".parse::<TimeOfDay>().unwrap().secs, 0);
        assert_eq!("23:59:59".parse::<TimeOfDay>().unwrap().secs, 86_399);
        assert_eq!("12:30".parse::<TimeOfDay>().unwrap().secs, 45_000);
        for bad in ["24:00:00", "1:00:00", "00:60:00", "noon", "00:00:00:00"] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
        assert_eq!(
            "25:00".parse::<TimeOfDay>().unwrap_err().to_string(),
            "\"25:00\" is not a UTC time of day HH:MM:SS"
        );
        assert_eq!(TimeOfDay { secs: 3661 }.to_string(), "01:01:01");
    }
}
