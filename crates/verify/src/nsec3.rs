//! The NSEC3 chain (RFC 5155; Specification 6 §1.3).
//!
//! Owns the hash computation (RFC 5155 §5) and the chain checks: one
//! NSEC3PARAM, every NSEC3 with its parameters, the chain sorted and closed,
//! every name that needs an NSEC3 has one (opt-out aside), no stray NSEC3,
//! and each type bitmap equal to the types at its name.

use super::{Index, Place, VerifyError, par_map};
use crate::name::Name;
use crate::rr::{Nsec3, Nsec3param, base32hex_lower, bitmap_from_types, bitmap_to_text, rtype};
use std::collections::HashMap;
use tldns_base::nsec3::nsec3_owner_hash;

pub(crate) use tldns_base::nsec3::nsec3_hash;

#[derive(Debug)]
pub(super) struct Summary {
    pub records: usize,
    pub hashes: usize,
}

struct Link<'a> {
    hash: [u8; 20],
    next: [u8; 20],
    opt_out: bool,
    bitmap: Vec<u8>,
    owner: &'a Name,
}

/// A name that needs (or, for insecure delegations under opt-out, may have)
/// an NSEC3.
struct Needed {
    name: Name,
    required: bool,
    /// The node holding the name's records; `None` for an empty non-terminal.
    node: Option<usize>,
}

pub(super) fn check(z: &Index<'_>, threads: usize) -> Result<Summary, VerifyError> {
    let count = z
        .rrset(z.apex, rtype::NSEC3PARAM)
        .map_or(0, |s| s.end - s.start);
    if count != 1 {
        return Err(VerifyError::Nsec3ParamCount { count });
    }
    let param = z
        .records_of(z.rrset(z.apex, rtype::NSEC3PARAM).expect("counted above"))
        .next()
        .expect("one record");
    let param = Nsec3param::from_rdata(&param.rdata).map_err(|_| VerifyError::BadRdata {
        owner: param.owner.clone(),
        rtype: rtype::NSEC3PARAM,
    })?;
    if param.hash_alg != 1 || param.flags != 0 {
        return Err(VerifyError::Nsec3ParamValue {
            algorithm: param.hash_alg,
            flags: param.flags,
        });
    }
    let (iterations, salt) = (param.iterations, param.salt.as_slice());

    let mut links = Vec::new();
    for n in 0..z.nodes.len() {
        let Some(set) = z.rrset(n, rtype::NSEC3) else {
            continue;
        };
        let owner = z.owner(n);
        if set.end - set.start != 1 {
            return Err(VerifyError::Nsec3Duplicate {
                owner: owner.clone(),
            });
        }
        let hash = nsec3_owner_hash(owner, z.origin).ok_or_else(|| VerifyError::Nsec3Owner {
            owner: owner.clone(),
        })?;
        let bad = || VerifyError::BadRdata {
            owner: owner.clone(),
            rtype: rtype::NSEC3,
        };
        let rd = Nsec3::from_rdata(&z.records[z.order[set.start]].rdata).map_err(|_| bad())?;
        let next: [u8; 20] = rd.next_hashed.as_slice().try_into().map_err(|_| bad())?;
        // RFC 5155 §7.1: all NSEC3 RRs use the NSEC3PARAM's algorithm,
        // iterations and salt.
        if !rd.matches(&param) {
            return Err(VerifyError::Nsec3ParamMismatch {
                owner: owner.clone(),
            });
        }
        if rd.flags & !Nsec3::OPT_OUT != 0 {
            return Err(VerifyError::Nsec3Flags {
                owner: owner.clone(),
                flags: rd.flags,
            });
        }
        links.push(Link {
            hash,
            next,
            opt_out: rd.opt_out(),
            bitmap: rd.types,
            owner,
        });
    }
    links.sort_unstable_by_key(|l| l.hash);
    if let Some(first) = links.first()
        && let Some(l) = links.iter().find(|l| l.opt_out != first.opt_out)
    {
        return Err(VerifyError::Nsec3OptOutMixed {
            owner: l.owner.clone(),
        });
    }
    // RFC 5155 §7.1: ordered by hash, each pointing at the next, the last at
    // the first.
    for (i, l) in links.iter().enumerate() {
        let following = &links[(i + 1) % links.len()];
        if l.next != following.hash {
            return Err(VerifyError::Nsec3Chain {
                owner: l.owner.clone(),
                next: base32hex_lower(&l.next),
                expected: base32hex_lower(&following.hash),
            });
        }
    }

    let needed = needed_names(z);
    let hashes = par_map(&needed, threads, |n| nsec3_hash(&n.name, salt, iterations));
    let mut matched = vec![false; links.len()];
    for (need, h) in needed.iter().zip(&hashes) {
        let at = links.partition_point(|l| l.hash < *h);
        if let Some(l) = links.get(at).filter(|l| l.hash == *h) {
            matched[at] = true;
            let types: Vec<u16> = match need.node {
                None => Vec::new(),
                // The delegation NS RRset is listed though not authoritative;
                // RRSIG is listed when the name has a signed RRset, whether
                // or not the signature is there (that is `rrsig`'s finding).
                Some(n) => {
                    let mut t: Vec<u16> = z
                        .node_rrsets(n)
                        .iter()
                        .map(|s| s.rtype)
                        .filter(|&t| t == rtype::NS || z.is_authoritative(n, t))
                        .collect();
                    if t.iter().any(|&t| z.is_authoritative(n, t)) {
                        t.push(rtype::RRSIG);
                    }
                    t
                }
            };
            let want = bitmap_from_types(&types);
            if l.bitmap != want {
                return Err(VerifyError::Nsec3Bitmap {
                    owner: l.owner.clone(),
                    name: need.name.clone(),
                    // `Nsec3::from_rdata` checked the bitmap is well formed.
                    found: bitmap_to_text(&l.bitmap).unwrap_or_default(),
                    expected: bitmap_to_text(&want).unwrap_or_default(),
                });
            }
        } else if need.required {
            let hashed = z
                .origin
                .prepend(base32hex_lower(h).as_bytes())
                .unwrap_or_else(|_| z.origin.clone());
            return Err(VerifyError::Nsec3Missing {
                name: need.name.clone(),
                hashed,
            });
        } else {
            // RFC 5155 §7.1: an insecure delegation without NSEC3 must be
            // covered by an opt-out NSEC3 (the chain wraps around).
            let cover = if at == 0 {
                links.last()
            } else {
                links.get(at - 1)
            };
            if !cover.is_some_and(|l| l.opt_out) {
                return Err(VerifyError::Nsec3OptOutMissing {
                    name: need.name.clone(),
                });
            }
        }
    }
    if let Some(i) = matched.iter().position(|m| !m) {
        return Err(VerifyError::Nsec3Stray {
            owner: links[i].owner.clone(),
        });
    }
    Ok(Summary {
        records: links.len(),
        hashes: hashes.len(),
    })
}

/// The apex, every delegation (optional when it has no DS: opt-out), every
/// other authoritative name except NSEC3 owners, and the empty
/// non-terminals between them and the apex (RFC 5155 §7.1).
fn needed_names(z: &Index<'_>) -> Vec<Needed> {
    let mut out = Vec::with_capacity(z.nodes.len());
    let mut ents: HashMap<&[u8], bool> = HashMap::new();
    for n in 0..z.nodes.len() {
        let required = match z.nodes[n].place {
            Place::Apex => true,
            Place::Delegation => z.rrset(n, rtype::DS).is_some(),
            Place::Authoritative => {
                if z.rrset(n, rtype::NSEC3).is_some() {
                    continue;
                }
                true
            }
            Place::BelowCut(_) => continue,
        };
        let owner = z.owner(n);
        out.push(Needed {
            name: owner.clone(),
            required,
            node: Some(n),
        });
        // Ancestors strictly between the name and the apex that own nothing.
        let w = owner.wire();
        let stop = w.len() - z.origin.wire_len();
        let mut off = 1 + w[0] as usize;
        while off < stop {
            let suffix = &w[off..];
            if z.by_owner.contains_key(suffix) {
                break;
            }
            *ents.entry(suffix).or_default() |= required;
            off += 1 + w[off] as usize;
        }
    }
    let mut ent_list: Vec<(&[u8], bool)> = ents.into_iter().collect();
    ent_list.sort_unstable();
    for (wire, required) in ent_list {
        if let Ok(name) = Name::from_wire(wire) {
            out.push(Needed {
                name,
                required,
                node: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(owner: &Name, t: u16, rdata: Vec<u8>) -> crate::rr::Record {
        crate::rr::Record::new(owner.clone(), 3600, t, rdata)
    }

    /// A chain over `names`, each with its type bitmap, all with `flags`.
    fn zone_with_chain(names: &[(&str, &[u16])], flags: u8) -> Vec<crate::rr::Record> {
        let o = Name::parse("mobile.").unwrap();
        let ns = Name::parse("ns.example.net.").unwrap().wire().to_vec();
        let soa = crate::rr::Soa {
            mname: Name::parse("ns.example.net.").unwrap(),
            rname: Name::parse("h.mobile.").unwrap(),
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5,
        };
        let sec = Name::parse("secure.mobile.").unwrap();
        let insec = Name::parse("insecure.mobile.").unwrap();
        let mut recs = vec![
            rec(&o, rtype::SOA, soa.to_rdata()),
            rec(&o, rtype::NS, ns.clone()),
            rec(&o, rtype::NSEC3PARAM, vec![1, 0, 0, 0, 0]),
            rec(&sec, rtype::NS, ns.clone()),
            rec(&sec, rtype::DS, vec![0, 1, 13, 2, 0xaa]),
            rec(&insec, rtype::NS, ns),
        ];
        let mut chain: Vec<([u8; 20], Vec<u8>)> = names
            .iter()
            .map(|(n, t)| {
                (
                    nsec3_hash(&Name::parse(n).unwrap(), &[], 0),
                    bitmap_from_types(t),
                )
            })
            .collect();
        chain.sort();
        for i in 0..chain.len() {
            let next = chain[(i + 1) % chain.len()].0;
            let mut rd = vec![1, flags, 0, 0, 0, 20];
            rd.extend_from_slice(&next);
            rd.extend_from_slice(&chain[i].1);
            recs.push(rec(
                &o.prepend(base32hex_lower(&chain[i].0).as_bytes()).unwrap(),
                rtype::NSEC3,
                rd,
            ));
        }
        recs
    }

    fn run(recs: &[crate::rr::Record]) -> Result<Summary, VerifyError> {
        let o = Name::parse("mobile.").unwrap();
        let z = Index::build(recs, &o)?;
        check(&z, 2)
    }

    const APEX: &[u16] = &[rtype::NS, rtype::SOA, rtype::RRSIG, rtype::NSEC3PARAM];
    const SIGNED: &[u16] = &[rtype::NS, rtype::DS, rtype::RRSIG];

    /// RFC 5155 §7.1: an insecure delegation may be left out of the chain
    /// when an opt-out NSEC3 covers it, and only then.
    #[test]
    fn rfc5155_section_7_1_opt_out_may_omit_insecure_delegations() {
        let names = [("mobile.", APEX), ("secure.mobile.", SIGNED)];
        let s = run(&zone_with_chain(&names, 1)).unwrap();
        assert_eq!((s.records, s.hashes), (2, 3));
        let e = run(&zone_with_chain(&names, 0)).unwrap_err();
        assert!(
            matches!(&e, VerifyError::Nsec3OptOutMissing { name } if name.to_string() == "insecure.mobile."),
            "{e}"
        );
        // The secure delegation can never be left out.
        let e = run(&zone_with_chain(
            &[("mobile.", APEX), ("insecure.mobile.", &[rtype::NS])],
            1,
        ))
        .unwrap_err();
        assert!(
            matches!(&e, VerifyError::Nsec3Missing { name, .. } if name.to_string() == "secure.mobile."),
            "{e}"
        );
        // Included, the insecure delegation has NS only: no RRSIG bit.
        let all = [
            ("mobile.", APEX),
            ("secure.mobile.", SIGNED),
            ("insecure.mobile.", &[rtype::NS][..]),
        ];
        run(&zone_with_chain(&all, 0)).unwrap();
        let wrong = [
            ("mobile.", APEX),
            ("secure.mobile.", SIGNED),
            ("insecure.mobile.", &[rtype::NS, rtype::RRSIG][..]),
        ];
        assert!(matches!(
            run(&zone_with_chain(&wrong, 0)),
            Err(VerifyError::Nsec3Bitmap { .. })
        ));
        // A name that is not in the zone.
        let stray = [
            ("mobile.", APEX),
            ("secure.mobile.", SIGNED),
            ("ghost.mobile.", &[rtype::NS][..]),
        ];
        assert!(matches!(
            run(&zone_with_chain(&stray, 1)),
            Err(VerifyError::Nsec3Stray { .. })
        ));
    }

    /// RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
    #[test]
    fn rfc5155_appendix_a_hashes() {
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        for (name, want) in [
            ("example", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
            ("a.example", "35mthgpgcu1qg68fab165klnsnk3dpvl"),
            ("ai.example", "gjeqe526plbf1g8mklp59enfd789njgi"),
            ("ns1.example", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"),
            ("ns2.example", "q04jkcevqvmu85r014c7dkba38o0ji5r"),
            ("w.example", "k8udemvp1j2f7eg6jebps17vp3n8i58h"),
            ("*.w.example", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"),
            ("x.w.example", "b4um86eghhds6nea196smvmlo4ors995"),
            ("y.w.example", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"),
            ("x.y.w.example", "2vptu5timamqttgl4luu9kg21e0aor3s"),
            ("xx.example", "t644ebqk9bibcna874givr6joj62mlhv"),
        ] {
            let h = nsec3_hash(&Name::parse(name).unwrap(), &salt, 12);
            assert_eq!(base32hex_lower(&h), want, "{name}");
        }
    }
}
