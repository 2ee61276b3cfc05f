//! The acceptance policy, written once: which DNSSEC algorithms a version
//! may be signed with, how large an RSA key must be, which fields an RRSIG
//! must carry for the RRset it covers, and when a signature is inside its
//! validity period. The whole-version check ([`crate::verify`])
//! and the changed-part check ([`crate::verify_changed`]) both apply it;
//! nothing else in the verifier decides these questions.

use tldns_base::name::Name;
use tldns_base::rr::{RrsigFields, alg};
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

/// Which field of an RRSIG does not fit the RRset it covers
/// ([`check_fields`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// The signer's name is not the zone's origin (RFC 4035 §5.3.1).
    Signer,
    /// The labels field is not the owner's label count (RFC 4034 §3.1.3;
    /// a TLD zone holds no wildcard, so no signature may claim one).
    Labels {
        /// The owner's label count.
        expected: usize,
    },
    /// The original TTL is not the RRset's TTL (RFC 4034 §3.1.4).
    OriginalTtl,
}

/// The fields of an RRSIG by `signer` over `owner`'s RRset of TTL `ttl`, in
/// the zone `origin`, checked in this order: signer, labels, original TTL.
/// The type covered, the key and the validity period are the caller's, since
/// it finds the RRset and the key by them.
pub fn check_fields(
    f: &RrsigFields,
    signer: &Name,
    owner: &Name,
    origin: &Name,
    ttl: u32,
) -> Result<(), FieldProblem> {
    if signer != origin {
        return Err(FieldProblem::Signer);
    }
    let expected = owner.label_count();
    if f.labels as usize != expected {
        return Err(FieldProblem::Labels { expected });
    }
    if f.original_ttl != ttl {
        return Err(FieldProblem::OriginalTtl);
    }
    Ok(())
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
    /// reject it (RFC 4034 §3.1.5; the .zm 2015 incident in
    /// docs/architecture.md).
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

/// Whether a signature expiring at `expiration` is still valid `life`
/// seconds after `now` (serial arithmetic, as [`validity`]).
pub fn lasts(expiration: u32, now: u32, life: u32) -> bool {
    life == 0 || i64::from(Serial(expiration).since(Serial(now))) >= i64::from(life)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(labels: u8, original_ttl: u32) -> RrsigFields {
        RrsigFields {
            type_covered: tldns_base::rr::rtype::A,
            algorithm: alg::ECDSAP256SHA256,
            labels,
            original_ttl,
            expiration: 200,
            inception: 100,
            key_tag: 1,
        }
    }

    #[test]
    fn rfc4034_section_3_1_rrsig_fields() {
        let origin: Name = "example.".parse().unwrap();
        let owner: Name = "ns1.dom.example.".parse().unwrap();
        let ok = check_fields(&fields(3, 3600), &origin, &owner, &origin, 3600);
        assert_eq!(ok, Ok(()));
        let other: Name = "other.".parse().unwrap();
        let signer = check_fields(&fields(3, 3600), &other, &owner, &origin, 3600);
        assert_eq!(signer, Err(FieldProblem::Signer));
        for labels in [0, 2, 4] {
            let r = check_fields(&fields(labels, 3600), &origin, &owner, &origin, 3600);
            assert_eq!(r, Err(FieldProblem::Labels { expected: 3 }));
        }
        let ttl = check_fields(&fields(3, 3599), &origin, &owner, &origin, 3600);
        assert_eq!(ttl, Err(FieldProblem::OriginalTtl));
    }

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
