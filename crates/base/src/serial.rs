//! Serial number arithmetic (RFC 1982), for SOA serials and RRSIG times.
//!
//! Owns the one comparison of 32-bit sequence numbers; nothing else in
//! tldns subtracts serials.

use std::cmp::Ordering;
use std::fmt;

/// A 32-bit serial number compared by RFC 1982 §3.2. Two serials exactly
/// 2^31 apart are unordered (`partial_cmp` is `None`): neither is greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Serial(pub u32);

impl Serial {
    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }

    /// RFC 1982 §3.1 addition; `n` must be at most 2^31 - 1 to be defined.
    pub fn wrapping_add(self, n: u32) -> Serial {
        Serial(self.0.wrapping_add(n))
    }

    /// Signed distance from `other` to `self` (positive: `self` is later),
    /// for times held as serials (RRSIG inception and expiration).
    pub fn since(self, other: Serial) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
}

impl PartialOrd for Serial {
    fn partial_cmp(&self, other: &Serial) -> Option<Ordering> {
        let d = self.0.wrapping_sub(other.0);
        match d {
            0 => Some(Ordering::Equal),
            0x8000_0000 => None,
            d if (d as i32) > 0 => Some(Ordering::Greater),
            _ => Some(Ordering::Less),
        }
    }
}

impl From<u32> for Serial {
    fn from(v: u32) -> Serial {
        Serial(v)
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// RFC 1982 §3.2: `a` is greater than `b`.
pub fn serial_gt(a: u32, b: u32) -> bool {
    Serial(a) > Serial(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1982 §3.2 and §5.2 examples, for SERIAL_BITS = 32.
    #[test]
    fn rfc1982_section_3_2_comparison() {
        assert!(serial_gt(1, 0));
        assert!(serial_gt(0, u32::MAX));
        assert!(serial_gt(0x7FFF_FFFF, 0));
        assert!(!serial_gt(0x8000_0000, 0)); // undefined: not greater
        assert!(!serial_gt(0, 0x8000_0000));
        assert!(!serial_gt(5, 5));
        assert!(Serial(1) < Serial(2));
        assert!(Serial(5) >= Serial(5));
        assert_eq!(Serial(0).partial_cmp(&Serial(0x8000_0000)), None);
        assert_eq!(Serial(10).since(Serial(u32::MAX)), 11);
        assert_eq!(Serial(u32::MAX).wrapping_add(2), Serial(1));
    }
}
