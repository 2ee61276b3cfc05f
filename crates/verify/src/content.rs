//! What may be in the zone at all (Exhibit A §1; Specification 6 §2.2).
//!
//! Owns the structural checks: one SOA at the apex, only the types Exhibit A
//! lists at each kind of name, nothing below a delegation but A/AAAA glue.
//! It does not look at signatures or the NSEC3 chain.

use super::{Index, Place, VerifyError};
use crate::rr::{RrsigFields, rtype};

pub(super) fn check(z: &Index<'_>, extra: &[u16]) -> Result<(), VerifyError> {
    let soa = z
        .rrset(z.apex, rtype::SOA)
        .ok_or_else(|| VerifyError::NoSoa {
            origin: z.origin.clone(),
        })?;
    if soa.end - soa.start != 1 {
        return Err(VerifyError::MultipleSoa {
            origin: z.origin.clone(),
            count: soa.end - soa.start,
        });
    }
    for n in 0..z.nodes.len() {
        let owner = z.owner(n);
        let place = z.nodes[n].place;
        for s in z.node_rrsets(n) {
            let t = s.rtype;
            let allowed = match place {
                // Exhibit A §1.1, §1.2, §1.5.
                Place::Apex => matches!(
                    t,
                    rtype::SOA
                        | rtype::NS
                        | rtype::DNSKEY
                        | rtype::NSEC3PARAM
                        | rtype::RRSIG
                        | rtype::NSEC
                ),
                // Exhibit A §1.3, §1.4; A/AAAA only as glue at the cut itself
                // (`example.mobile NS example.mobile`), never signed.
                Place::Delegation => match t {
                    rtype::NS | rtype::DS | rtype::RRSIG | rtype::NSEC => true,
                    rtype::A | rtype::AAAA => z.rrset(n, rtype::NS).is_some_and(|ns| {
                        z.records_of(ns)
                            .any(|r| r.rdata.eq_ignore_ascii_case(owner.wire()))
                    }),
                    _ => false,
                },
                Place::BelowCut(cut) => {
                    if t == rtype::RRSIG {
                        // RFC 4035 §2.2: glue is not signed.
                        let covered = z
                            .records_of(s)
                            .find_map(|r| RrsigFields::covered(&r.rdata))
                            .unwrap_or(rtype::RRSIG);
                        return Err(VerifyError::RrsigOverNonAuthoritative {
                            owner: owner.clone(),
                            rtype: covered,
                        });
                    }
                    if !matches!(t, rtype::A | rtype::AAAA) {
                        return Err(VerifyError::BelowDelegation {
                            owner: owner.clone(),
                            rtype: t,
                            delegation: z.owner(cut).clone(),
                        });
                    }
                    true
                }
                // NSEC3 owners (RFC 5155 §3), NSEC; A/AAAA here would be an
                // address for a name that is not delegated.
                Place::Authoritative => matches!(t, rtype::NSEC3 | rtype::RRSIG | rtype::NSEC),
            };
            // Below a cut `allowed` is always true: extras never apply there.
            if !allowed && !extra.contains(&t) {
                return Err(VerifyError::TypeNotAllowed {
                    owner: owner.clone(),
                    rtype: t,
                    place: match place {
                        Place::Apex => "at the apex",
                        Place::Delegation => "at a delegation",
                        Place::BelowCut(_) => "below a delegation",
                        Place::Authoritative => "at a name that is not delegated",
                    },
                });
            }
            if t == rtype::SOA && place != Place::Apex {
                return Err(VerifyError::TypeNotAllowed {
                    owner: owner.clone(),
                    rtype: t,
                    place: "outside the apex",
                });
            }
        }
    }
    Ok(())
}
