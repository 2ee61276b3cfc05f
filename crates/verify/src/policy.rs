//! The acceptance policy, written once: which DNSSEC algorithms a version
//! may be signed with, how large an RSA key must be, and when a signature
//! is inside its validity period. The whole-version check ([`crate::verify`])
//! and the changed-part check ([`crate::verify_changed`]) both apply it;
//! nothing else in the verifier decides these questions.

use tldns_base::rr::alg;
use tldns_base::serial::Serial;

/// Algorithms a signature may use (RFC 8624 §3.1: MUST or RECOMMENDED for
/// signing): RSASHA256, ECDSAP256SHA256, ECDSAP384SHA384, ED25519.
pub const ALGORITHMS: [u8; 4] = [
    alg::RSASHA256,
    alg::ECDSAP256SHA256,
    alg::ECDSAP384SHA384,
    alg::ED25519,
];

/// Smallest RSA modulus accepted, in bits (RFC 8624 §3.1 and NIST SP
/// 800-131A: RSA keys below 2048 bits are not to be used for signing).
pub const MIN_RSA_MODULUS_BITS: usize = 2048;

/// Is `algorithm` one a version may be signed with?
pub fn algorithm_accepted(algorithm: u8) -> bool {
    ALGORITHMS.contains(&algorithm)
}

/// Bits of a big-endian modulus, leading zero octets ignored.
pub fn modulus_bits(n: &[u8]) -> usize {
    let n = &n[n.iter().take_while(|&&b| b == 0).count()..];
    match n.first() {
        None => 0,
        Some(&b) => (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
    }
}

/// Where `now` falls relative to a signature's validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// inception <= now < expiration.
    Valid,
    /// now < inception.
    NotYetValid,
    /// now >= expiration: a signature expiring exactly now is already
    /// expired, since a resolver that receives it a moment later must
    /// reject it (RFC 4034 §3.1.5, CONTRACT: .zm 2015).
    Expired,
}

/// RFC 4034 §3.1.5: the times are 32-bit serials (RFC 1982); a signature is
/// valid from its inception up to, not including, its expiration.
pub fn validity(inception: u32, expiration: u32, now: u32) -> Validity {
    let now = Serial(now);
    if now.since(Serial(inception)) < 0 {
        Validity::NotYetValid
    } else if Serial(expiration).since(now) <= 0 {
        Validity::Expired
    } else {
        Validity::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4034_section_3_1_5_validity_boundaries() {
        assert_eq!(validity(100, 200, 99), Validity::NotYetValid);
        assert_eq!(validity(100, 200, 100), Validity::Valid);
        assert_eq!(validity(100, 200, 199), Validity::Valid);
        assert_eq!(validity(100, 200, 200), Validity::Expired);
        assert_eq!(validity(100, 200, 201), Validity::Expired);
        // Serial arithmetic across the 2^32 wrap.
        assert_eq!(validity(u32::MAX - 10, 5, 0), Validity::Valid);
        assert_eq!(validity(u32::MAX - 10, 5, 5), Validity::Expired);
    }

    #[test]
    fn rfc8624_algorithms_and_rsa_size() {
        assert!(algorithm_accepted(8) && algorithm_accepted(13) && algorithm_accepted(15));
        assert!(!algorithm_accepted(5) && !algorithm_accepted(7) && !algorithm_accepted(1));
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0xff]), 9);
        let mut n1024 = vec![0xc0];
        n1024.extend(vec![0u8; 127]);
        assert!(modulus_bits(&n1024) < MIN_RSA_MODULUS_BITS);
        assert_eq!(modulus_bits(&n1024), 1024);
    }
}
