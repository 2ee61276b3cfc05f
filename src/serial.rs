//! SOA serials: RFC 1982 arithmetic and the configured scheme. The last
//! published serial is kept on disk by [`crate::pipeline::state`], together
//! with the journal position, so a restart never goes backwards.

use crate::config::SerialScheme;

pub use tldns_base::serial::{Serial, serial_gt};

/// The next serial after `last` under `scheme` at `now` (unix seconds).
/// Always greater than `last` in RFC 1982 terms.
pub fn next_serial(last: Option<u32>, scheme: SerialScheme, now: u64) -> u32 {
    let candidate = match scheme {
        SerialScheme::Unixtime => now as u32,
        SerialScheme::Increment => last.map_or(1, |l| l.wrapping_add(1)),
        SerialScheme::Dateserial => {
            let (y, m, d) = crate::rr::civil_from_days((now / 86_400) as i64);
            (y as u32) * 1_000_000 + m * 10_000 + d * 100
        }
    };
    let next = match last {
        Some(l) if !serial_gt(candidate, l) => l.wrapping_add(1),
        _ => candidate,
    };
    // Zero is a valid serial (RFC 1982) but some software reads it as unset.
    match (next, last) {
        (0, Some(l)) if serial_gt(1, l) => 1,
        (0, None) => 1,
        _ => next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards() {
        assert_eq!(
            next_serial(Some(2_000_000_000), SerialScheme::Unixtime, 1_000),
            2_000_000_001
        );
        assert_eq!(
            next_serial(None, SerialScheme::Unixtime, 1_700_000_000),
            1_700_000_000
        );
        assert_eq!(next_serial(Some(u32::MAX), SerialScheme::Increment, 0), 1);
        assert_eq!(
            next_serial(None, SerialScheme::Dateserial, 1_700_000_000),
            2023111400
        );
        assert_eq!(
            next_serial(Some(2023111400), SerialScheme::Dateserial, 1_700_000_000),
            2023111401
        );
    }
}
