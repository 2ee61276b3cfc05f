//! Authenticated denial with NSEC3 (RFC 5155 §8), as a validator checks it.
//!
//! Owns the proofs: closest encloser (§8.3), name error (§8.4), no data
//! (§8.5), and the insecure referral, with or without opt-out (§8.9,
//! §6). Signatures on the NSEC3 records are checked by the caller; this
//! module only decides whether the records, taken as authentic, prove what
//! the response claims. Records are read with the base layer's
//! [`crate::rdata::Nsec3`] and hashed with its [`crate::nsec3::nsec3_hash`].

use crate::name::Name;
use crate::nsec3::nsec3_hash;
use crate::rdata::Nsec3;
use crate::rr::rtype;
use tldns_base::message::Rr;

/// The only NSEC3 hash algorithm defined (RFC 5155 §11): SHA-1.
const SHA1: u8 = 1;
/// A cap on iterations a probe will compute (RFC 5155 §10.3 allows 2500 for
/// the largest keys; RFC 9276 asks for 0).
const MAX_ITERATIONS: u16 = 2500;

/// An NSEC3 record of a response: its owner's hash and its RDATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec3Record {
    /// The owner name.
    pub owner: Name,
    /// The hash in the owner's first label.
    pub hash: Vec<u8>,
    /// The RDATA.
    pub rdata: Nsec3,
}

/// Why a denial or referral is not proven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// No usable NSEC3 record (SHA-1, well formed) directly below the zone.
    #[error("no NSEC3 records in the response (RFC 5155 §7.2)")]
    Missing,
    /// The records disagree on iterations or salt.
    #[error("NSEC3 records with different parameters (RFC 5155 §8.2)")]
    MixedParameters,
    /// No ancestor of the name (within the zone) has a matching NSEC3.
    #[error("no closest encloser of {0} is proven (RFC 5155 §8.3)")]
    NoClosestEncloser(Name),
    /// No NSEC3 covers this next closer name; for a name error, also the
    /// queried name itself when an NSEC3 matches it (so it exists).
    #[error("next closer name {0} is not covered (RFC 5155 §8.3)")]
    NextCloserNotCovered(Name),
    /// No NSEC3 covers the wildcard at the closest encloser (`*.` + it).
    #[error("wildcard {0} is not covered (RFC 5155 §8.4)")]
    WildcardNotCovered(Name),
    /// No NSEC3 matches the queried name, which a no-data proof needs.
    #[error("no NSEC3 matches {0} (RFC 5155 §8.5)")]
    NoMatch(Name),
    /// The matching NSEC3's bitmap has the queried type or CNAME.
    #[error("the NSEC3 for {name} says type {rtype} exists (RFC 5155 §8.5)", rtype = crate::rr::type_name(*.rtype))]
    TypeExists {
        /// The queried name.
        name: Name,
        /// The type the bitmap has: the queried one or CNAME.
        rtype: u16,
    },
    /// The delegation's matching NSEC3 lacks NS or has DS or SOA.
    #[error("the NSEC3 for {0} does not show a delegation without DS (RFC 5155 §8.9)")]
    NotInsecureDelegation(Name),
    /// The delegation has no NSEC3 of its own and the NSEC3 covering its next
    /// closer name does not have the opt-out flag (RFC 5155 §6).
    #[error("{0} is covered by an NSEC3 without opt-out (RFC 5155 §8.9)")]
    NoOptOut(Name),
}

impl Nsec3Record {
    /// Decode an NSEC3 record; `None` for another hash algorithm (ignored by
    /// validators, RFC 5155 §8.1) or malformed RDATA.
    pub fn parse(rr: &Rr) -> Option<Nsec3Record> {
        if rr.rtype != rtype::NSEC3 {
            return None;
        }
        let rdata = Nsec3::from_rdata(&rr.rdata).ok()?;
        let label = rr.owner.first_label()?;
        let hash = data_encoding::BASE32HEX_NOPAD
            .decode(&label.to_ascii_uppercase())
            .ok()?;
        if rdata.hash_alg != SHA1
            || hash.len() != 20
            || rdata.next_hashed.len() != 20
            || rdata.iterations > MAX_ITERATIONS
        {
            return None;
        }
        Some(Nsec3Record {
            owner: rr.owner.clone(),
            hash,
            rdata,
        })
    }

    /// Is `t` in the type bitmap (RFC 4034 §4.1.2)?
    pub fn has_type(&self, t: u16) -> bool {
        let (window, low) = ((t >> 8) as u8, (t & 0xFF) as usize);
        let mut b = &self.rdata.types[..];
        while b.len() >= 2 {
            let (w, len) = (b[0], b[1] as usize);
            let Some(bits) = b.get(2..2 + len) else {
                return false;
            };
            if w == window {
                return bits
                    .get(low / 8)
                    .is_some_and(|byte| byte & (0x80 >> (low % 8)) != 0);
            }
            b = &b[2 + len..];
        }
        false
    }

    fn matches(&self, h: &[u8]) -> bool {
        self.hash == h
    }

    /// RFC 5155 §8.3: owner hash < h < next hash, where the last record
    /// of the chain wraps around to the first.
    fn covers(&self, h: &[u8]) -> bool {
        let (o, n) = (&self.hash[..], &self.rdata.next_hashed[..]);
        if o < n {
            o < h && h < n
        } else {
            // Last in the chain (or a chain of one): everything after the
            // owner or before the next.
            h > o || h < n
        }
    }
}

/// The NSEC3 records of a response with one parameter set (RFC 5155 §8.2).
pub struct Denial<'a> {
    zone: &'a Name,
    records: Vec<Nsec3Record>,
}

impl<'a> Denial<'a> {
    /// From the NSEC3 records in `authority` whose owners are directly below
    /// `zone`.
    pub fn new(zone: &'a Name, authority: &[Rr]) -> Result<Denial<'a>, ProofError> {
        let records: Vec<Nsec3Record> = authority
            .iter()
            .filter(|r| r.owner.parent().as_ref() == Some(zone))
            .filter_map(Nsec3Record::parse)
            .collect();
        let Some(first) = records.first() else {
            return Err(ProofError::Missing);
        };
        if records.iter().any(|r| {
            r.rdata.iterations != first.rdata.iterations || r.rdata.salt != first.rdata.salt
        }) {
            return Err(ProofError::MixedParameters);
        }
        Ok(Denial { zone, records })
    }

    fn hash(&self, n: &Name) -> [u8; 20] {
        let r = &self.records[0];
        nsec3_hash(n, &r.rdata.salt, r.rdata.iterations)
    }

    fn matching(&self, n: &Name) -> Option<&Nsec3Record> {
        let h = self.hash(n);
        self.records.iter().find(|r| r.matches(&h))
    }

    fn covering(&self, n: &Name) -> Option<&Nsec3Record> {
        let h = self.hash(n);
        self.records.iter().find(|r| r.covers(&h))
    }

    /// RFC 5155 §8.3: the closest encloser of `qname` has a matching NSEC3
    /// and the next closer name is covered. Returns (closest encloser, the
    /// NSEC3 covering the next closer name).
    pub fn closest_encloser(&self, qname: &Name) -> Result<(Name, &Nsec3Record), ProofError> {
        let mut next_closer = qname.clone();
        let mut ce = qname.parent();
        while let Some(c) = ce {
            if !c.is_subdomain_of(self.zone) {
                break;
            }
            if self.matching(&c).is_some() {
                let cover = self
                    .covering(&next_closer)
                    .ok_or_else(|| ProofError::NextCloserNotCovered(next_closer.clone()))?;
                return Ok((c, cover));
            }
            next_closer = c.clone();
            ce = c.parent();
        }
        Err(ProofError::NoClosestEncloser(qname.clone()))
    }

    /// RFC 5155 §8.4: name error — closest encloser proof and the wildcard
    /// at the closest encloser covered.
    pub fn name_error(&self, qname: &Name) -> Result<Name, ProofError> {
        if self.matching(qname).is_some() {
            return Err(ProofError::NextCloserNotCovered(qname.clone()));
        }
        let (ce, _) = self.closest_encloser(qname)?;
        let wildcard = ce
            .prepend(b"*")
            .map_err(|_| ProofError::NoClosestEncloser(qname.clone()))?;
        self.covering(&wildcard)
            .ok_or(ProofError::WildcardNotCovered(wildcard))?;
        Ok(ce)
    }

    /// RFC 5155 §8.5: no data — an NSEC3 matches `qname` and has neither
    /// `qtype` nor CNAME.
    pub fn no_data(&self, qname: &Name, qtype: u16) -> Result<(), ProofError> {
        let m = self
            .matching(qname)
            .ok_or_else(|| ProofError::NoMatch(qname.clone()))?;
        for t in [qtype, rtype::CNAME] {
            if m.has_type(t) {
                return Err(ProofError::TypeExists {
                    name: qname.clone(),
                    rtype: t,
                });
            }
        }
        Ok(())
    }

    /// RFC 5155 §8.9: a referral to `delegation` without DS — either its
    /// NSEC3 matches with NS set and DS and SOA clear, or (opt-out, §6) the
    /// closest encloser proof whose next-closer NSEC3 has the opt-out flag.
    pub fn insecure_referral(&self, delegation: &Name) -> Result<(), ProofError> {
        if let Some(m) = self.matching(delegation) {
            if m.has_type(rtype::NS) && !m.has_type(rtype::DS) && !m.has_type(rtype::SOA) {
                return Ok(());
            }
            return Err(ProofError::NotInsecureDelegation(delegation.clone()));
        }
        let (_, cover) = self.closest_encloser(delegation)?;
        if cover.rdata.opt_out() {
            Ok(())
        } else {
            Err(ProofError::NoOptOut(delegation.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::{base32hex_lower, bitmap_from_types};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    /// An NSEC3 record for `name` in `zone` (0 iterations, no salt) whose
    /// next hash is `next`'s.
    fn rec(zone: &Name, name: &str, next: &[u8; 20], types: &[u16], flags: u8) -> Rr {
        let h = nsec3_hash(&n(name), &[], 0);
        let rd = Nsec3 {
            hash_alg: 1,
            flags,
            iterations: 0,
            salt: vec![],
            next_hashed: next.to_vec(),
            types: bitmap_from_types(types),
        }
        .to_rdata();
        Rr {
            owner: zone.prepend(base32hex_lower(&h).as_bytes()).unwrap(),
            rtype: rtype::NSEC3,
            class: 1,
            ttl: 900,
            rdata: rd,
        }
    }

    /// A complete chain over `names`, each with its types.
    fn chain(zone: &Name, names: &[(&str, &[u16])], flags: u8) -> Vec<Rr> {
        let mut hs: Vec<([u8; 20], &str, &[u16])> = names
            .iter()
            .map(|(s, t)| (nsec3_hash(&n(s), &[], 0), *s, *t))
            .collect();
        hs.sort();
        (0..hs.len())
            .map(|i| {
                let next = hs[(i + 1) % hs.len()].0;
                rec(zone, hs[i].1, &next, hs[i].2, flags)
            })
            .collect()
    }

    const APEX: &[u16] = &[
        rtype::NS,
        rtype::SOA,
        rtype::RRSIG,
        rtype::DNSKEY,
        rtype::NSEC3PARAM,
    ];

    #[test]
    fn rfc5155_section_8_4_name_error() {
        let z = n("mobile.");
        let rrs = chain(
            &z,
            &[
                ("mobile.", APEX),
                ("nic.mobile.", &[rtype::NS]),
                ("secure.mobile.", &[rtype::NS, rtype::DS, rtype::RRSIG]),
            ],
            0,
        );
        let d = Denial::new(&z, &rrs).unwrap();
        assert_eq!(d.name_error(&n("nosuch.mobile.")).unwrap(), z);
        assert_eq!(d.name_error(&n("a.b.nosuch.mobile.")).unwrap(), z);
        // An existing name is not denied.
        assert!(d.name_error(&n("nic.mobile.")).is_err());
        // Without the apex record there is no closest encloser.
        let partial: Vec<Rr> = rrs
            .iter()
            .filter(|r| Nsec3Record::parse(r).unwrap().hash != nsec3_hash(&z, &[], 0))
            .cloned()
            .collect();
        let d = Denial::new(&z, &partial).unwrap();
        assert!(matches!(
            d.name_error(&n("nosuch.mobile.")),
            Err(ProofError::NoClosestEncloser(_))
        ));
        assert_eq!(Denial::new(&z, &[]).err(), Some(ProofError::Missing));
    }

    #[test]
    fn rfc5155_section_8_5_no_data_and_8_9_referrals() {
        let z = n("mobile.");
        let rrs = chain(
            &z,
            &[
                ("mobile.", APEX),
                ("nic.mobile.", &[rtype::NS]),
                ("secure.mobile.", &[rtype::NS, rtype::DS, rtype::RRSIG]),
            ],
            0,
        );
        let d = Denial::new(&z, &rrs).unwrap();
        assert!(d.no_data(&z, rtype::A).is_ok());
        assert!(matches!(
            d.no_data(&z, rtype::SOA),
            Err(ProofError::TypeExists { .. })
        ));
        assert!(d.insecure_referral(&n("nic.mobile.")).is_ok());
        assert!(matches!(
            d.insecure_referral(&n("secure.mobile.")),
            Err(ProofError::NotInsecureDelegation(_))
        ));
        // Not in the chain, no opt-out: not proven.
        assert!(matches!(
            d.insecure_referral(&n("unsigned.mobile.")),
            Err(ProofError::NoOptOut(_))
        ));
        // The same chain with opt-out set proves it (RFC 5155 §6).
        let rrs = chain(&z, &[("mobile.", APEX), ("nic.mobile.", &[rtype::NS])], 1);
        let d = Denial::new(&z, &rrs).unwrap();
        assert!(d.insecure_referral(&n("unsigned.mobile.")).is_ok());
    }

    #[test]
    fn type_bitmap_lookup() {
        let z = n("mobile.");
        let r = Nsec3Record::parse(&rec(&z, "mobile.", &[0; 20], APEX, 0)).unwrap();
        assert!(r.has_type(rtype::NSEC3PARAM) && r.has_type(rtype::SOA));
        assert!(!r.has_type(rtype::A) && !r.has_type(rtype::DS) && !r.has_type(1234));
    }
}
