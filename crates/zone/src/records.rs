//! The zone model read back from records: the inverse of
//! [`SignedZone::records`], for versions that arrive by zone transfer
//! (secondary mode) rather than from the SRS.
//!
//! It accepts what a TLD zone may hold (the registry agreement, Exhibit A §1): the apex
//! SOA, NS, DNSKEY, NSEC3PARAM and their RRSIGs, delegations (NS, DS and the
//! RRSIG over DS), glue, and the NSEC3 chain with its RRSIGs. Anything else
//! is refused with the owner and type, as is anything the model cannot
//! represent exactly (the model keeps one TTL per kind of record). It does
//! not check signatures: that is the verifier (`tldns-verify`)'s job, run on the same
//! records before the version is served.

use super::{Content, Delegation, Dnssec, Glue, Nsec3, Nsec3Param, SignedZone, Ttls, Zone};
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use tldns_base::name::Name;
use tldns_base::nsec3::nsec3_owner_hash;
use tldns_base::rr::{
    Dnskey, Ds, Nsec3param, Record, RrsigFields, Soa, default_ttl, read_name, rtype, type_name,
};

/// Why records do not make a zone of this model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    /// No SOA record at the apex (the origin, given here).
    #[error("no SOA at the apex {0} (RFC 1035 §5.2)")]
    NoSoa(Name),
    /// More than one SOA record at the apex (how many, given here).
    #[error("{0} SOA records at the apex; a zone has exactly one (RFC 1035 §5.2)")]
    ManySoa(usize),
    /// A record outside the zone, or of a type not allowed at its owner
    /// (NSEC3 and the RRSIGs over it only at a hashed owner below the apex).
    #[error("{owner} {rtype}: not allowed in a TLD zone (registry agreement Exhibit A §1)")]
    NotAllowed {
        /// The record's owner.
        owner: Name,
        /// The record's type mnemonic.
        rtype: String,
    },
    /// RDATA that does not parse as its type, or that the model cannot hold
    /// (an NSEC3PARAM or NSEC3 whose hash algorithm is not SHA-1).
    #[error("{owner} {rtype}: malformed RDATA")]
    Rdata {
        /// The record's owner.
        owner: Name,
        /// The record's type mnemonic.
        rtype: String,
    },
    /// A TTL other than the one the first record of its kind had.
    #[error(
        "{owner} {rtype}: TTL {ttl}, but {expected} elsewhere; the model keeps one TTL per kind of record"
    )]
    Ttl {
        /// The record's owner.
        owner: Name,
        /// The record's type mnemonic.
        rtype: String,
        /// Its TTL, in seconds.
        ttl: u32,
        /// The TTL of the records of its kind read before it, in seconds.
        expected: u32,
    },
    /// A DS RRset at a name with no NS RRset.
    #[error("{owner}: DS without NS (RFC 4035 §2.4: DS only at a delegation)")]
    DsWithoutNs {
        /// The DS RRset's owner.
        owner: Name,
    },
    /// An NSEC3 record whose iterations or salt are not the NSEC3PARAM's.
    #[error("{owner}: NSEC3 parameters differ from the apex NSEC3PARAM (RFC 5155 §4)")]
    Nsec3Param {
        /// The NSEC3 record's owner.
        owner: Name,
    },
    /// DNSKEY, NSEC3PARAM or NSEC3 records, but not exactly one NSEC3PARAM.
    #[error("DNSSEC records without one NSEC3PARAM at the apex (RFC 5155 §4)")]
    NoNsec3Param,
    /// An RRSIG the model has no place for: over a type it keeps no
    /// signatures for (only the apex SOA, NS, DNSKEY and NSEC3PARAM, DS and
    /// NSEC3 have them), over a DS or NSEC3 RRset that is not there, or in a
    /// zone without DNSSEC records.
    #[error("{owner}: RRSIG over {covered} where the model keeps none")]
    StraySig {
        /// The RRSIG's owner.
        owner: Name,
        /// The mnemonic of the type it covers.
        covered: String,
    },
    /// More RRSIGs over one NSEC3 record than the model holds (255; one per
    /// signing key is what a zone has).
    #[error("{owner}: {count} RRSIGs over one NSEC3, more than 255")]
    TooManySigs {
        /// The NSEC3 record's owner.
        owner: Name,
        /// How many RRSIGs cover it.
        count: usize,
    },
}

fn same_ttl(slot: &mut Option<u32>, r: &Record) -> Result<(), RecordsError> {
    match *slot {
        None => {
            *slot = Some(r.ttl);
            Ok(())
        }
        Some(t) if t == r.ttl => Ok(()),
        Some(t) => Err(RecordsError::Ttl {
            owner: r.owner.clone(),
            rtype: type_name(r.rtype),
            ttl: r.ttl,
            expected: t,
        }),
    }
}

fn rdata_err(r: &Record) -> RecordsError {
    RecordsError::Rdata {
        owner: r.owner.clone(),
        rtype: type_name(r.rtype),
    }
}

fn ns_target(r: &Record) -> Result<Name, RecordsError> {
    match read_name(&r.rdata, 0) {
        Some((n, end)) if end == r.rdata.len() => Ok(n),
        _ => Err(rdata_err(r)),
    }
}

/// RRSIG's type covered (RFC 4034 §3.1); its fixed fields must be there.
fn covered(r: &Record) -> Result<u16, RecordsError> {
    RrsigFields::parse(&r.rdata)
        .map(|f| f.type_covered)
        .map_err(|_| rdata_err(r))
}

#[derive(Default)]
struct Ttl {
    soa: Option<u32>,
    ns: Option<u32>,
    ds: Option<u32>,
    glue: Option<u32>,
    dnskey: Option<u32>,
    nsec3: Option<u32>,
}

impl SignedZone {
    /// The model of `records` (any order) for the zone at `origin`.
    pub fn from_records(origin: &Name, records: &[Record]) -> Result<SignedZone, RecordsError> {
        let mut ttl = Ttl::default();
        let mut soas = Vec::new();
        let mut apex_ns = Vec::new();
        let mut dnskeys = Vec::new();
        let (mut cds, mut cdnskey) = (Vec::new(), Vec::new());
        let mut params = Vec::new();
        let mut apex_sigs: BTreeMap<u16, Vec<Vec<u8>>> = BTreeMap::new();
        let mut ns: BTreeMap<Name, Vec<Name>> = BTreeMap::new();
        let mut ds: BTreeMap<Name, Vec<Ds>> = BTreeMap::new();
        let mut ds_sigs: BTreeMap<Name, Vec<Vec<u8>>> = BTreeMap::new();
        let mut glue: BTreeMap<Name, Glue> = BTreeMap::new();
        let mut nsec3: BTreeMap<[u8; 20], &Record> = BTreeMap::new();
        let mut nsec3_sigs: HashMap<[u8; 20], Vec<Vec<u8>>> = HashMap::new();

        for r in records {
            let not_allowed = || RecordsError::NotAllowed {
                owner: r.owner.clone(),
                rtype: type_name(r.rtype),
            };
            if !r.owner.is_subdomain_of(origin) {
                return Err(not_allowed());
            }
            let apex = &r.owner == origin;
            match r.rtype {
                rtype::SOA if apex => {
                    same_ttl(&mut ttl.soa, r)?;
                    soas.push(Soa::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?);
                }
                rtype::NS if apex => {
                    same_ttl(&mut ttl.ns, r)?;
                    apex_ns.push(ns_target(r)?);
                }
                rtype::DNSKEY if apex => {
                    same_ttl(&mut ttl.dnskey, r)?;
                    Dnskey::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?;
                    dnskeys.push(r.rdata.clone());
                }
                rtype::CDS if apex => {
                    same_ttl(&mut ttl.dnskey, r)?;
                    Ds::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?;
                    cds.push(r.rdata.clone());
                }
                rtype::CDNSKEY if apex => {
                    same_ttl(&mut ttl.dnskey, r)?;
                    Dnskey::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?;
                    cdnskey.push(r.rdata.clone());
                }
                rtype::NSEC3PARAM if apex => {
                    same_ttl(&mut ttl.nsec3, r)?;
                    let p = Nsec3param::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?;
                    if p.hash_alg != 1 {
                        return Err(rdata_err(r));
                    }
                    params.push(Nsec3Param {
                        iterations: p.iterations,
                        salt: p.salt,
                        opt_out: false,
                    });
                }
                rtype::RRSIG if apex => {
                    let c = covered(r)?;
                    if !matches!(
                        c,
                        rtype::SOA
                            | rtype::NS
                            | rtype::DNSKEY
                            | rtype::NSEC3PARAM
                            | rtype::CDS
                            | rtype::CDNSKEY
                    ) {
                        return Err(RecordsError::StraySig {
                            owner: r.owner.clone(),
                            covered: type_name(c),
                        });
                    }
                    apex_sigs.entry(c).or_default().push(r.rdata.clone());
                }
                _ if apex => return Err(not_allowed()),
                rtype::NS => {
                    same_ttl(&mut ttl.ns, r)?;
                    ns.entry(r.owner.clone()).or_default().push(ns_target(r)?);
                }
                rtype::DS => {
                    same_ttl(&mut ttl.ds, r)?;
                    let d = Ds::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?;
                    ds.entry(r.owner.clone()).or_default().push(d);
                }
                rtype::A => {
                    same_ttl(&mut ttl.glue, r)?;
                    let o: [u8; 4] = r.rdata.as_slice().try_into().map_err(|_| rdata_err(r))?;
                    glue.entry(r.owner.clone())
                        .or_default()
                        .push(Ipv4Addr::from(o).into());
                }
                rtype::AAAA => {
                    same_ttl(&mut ttl.glue, r)?;
                    let o: [u8; 16] = r.rdata.as_slice().try_into().map_err(|_| rdata_err(r))?;
                    glue.entry(r.owner.clone())
                        .or_default()
                        .push(Ipv6Addr::from(o).into());
                }
                rtype::NSEC3 => {
                    same_ttl(&mut ttl.nsec3, r)?;
                    let h = nsec3_owner_hash(&r.owner, origin).ok_or_else(not_allowed)?;
                    nsec3.insert(h, r);
                }
                rtype::RRSIG => {
                    let c = covered(r)?;
                    match c {
                        rtype::DS => ds_sigs
                            .entry(r.owner.clone())
                            .or_default()
                            .push(r.rdata.clone()),
                        rtype::NSEC3 => {
                            let h = nsec3_owner_hash(&r.owner, origin).ok_or_else(not_allowed)?;
                            nsec3_sigs.entry(h).or_default().push(r.rdata.clone());
                        }
                        _ => {
                            return Err(RecordsError::StraySig {
                                owner: r.owner.clone(),
                                covered: type_name(c),
                            });
                        }
                    }
                }
                _ => return Err(not_allowed()),
            }
        }

        let soa = match soas.len() {
            0 => return Err(RecordsError::NoSoa(origin.clone())),
            1 => soas.pop().expect("one element"),
            n => return Err(RecordsError::ManySoa(n)),
        };
        let soa_ttl = ttl.soa.unwrap_or(default_ttl::SOA);

        // Delegations; equal NS sets share one allocation, as the builder does.
        let mut sets: HashMap<Vec<Name>, Arc<[Name]>> = HashMap::new();
        let mut delegations = BTreeMap::new();
        for (owner, mut set) in ns {
            set.sort();
            set.dedup();
            let shared = sets
                .entry(set.clone())
                .or_insert_with(|| set.into())
                .clone();
            let mut d = ds.remove(&owner).unwrap_or_default();
            d.sort();
            d.dedup();
            delegations.insert(owner, Delegation { ns: shared, ds: d });
        }
        if let Some((owner, _)) = ds.into_iter().next() {
            return Err(RecordsError::DsWithoutNs { owner });
        }
        for owner in ds_sigs.keys() {
            if delegations.get(owner).is_none_or(|d| d.ds.is_empty()) {
                return Err(RecordsError::StraySig {
                    owner: owner.clone(),
                    covered: "DS".into(),
                });
            }
        }
        apex_ns.sort();
        apex_ns.dedup();

        let signed = !dnskeys.is_empty() || !params.is_empty() || !nsec3.is_empty();
        let dnssec = if signed {
            if params.len() != 1 {
                return Err(RecordsError::NoNsec3Param);
            }
            let mut param = params.pop().expect("one element");
            let mut chain = BTreeMap::new();
            for (hash, r) in nsec3 {
                // RFC 5155 §3.2; SHA-1 (§11), so a 20-octet next hashed owner.
                let d = tldns_base::rr::Nsec3::from_rdata(&r.rdata).map_err(|_| rdata_err(r))?;
                let next: [u8; 20] = match d.next_hashed.as_slice().try_into() {
                    Ok(next) if d.hash_alg == 1 => next,
                    _ => return Err(rdata_err(r)),
                };
                if d.iterations != param.iterations || d.salt != param.salt {
                    return Err(RecordsError::Nsec3Param {
                        owner: r.owner.clone(),
                    });
                }
                param.opt_out |= d.opt_out();
                let sigs = nsec3_sigs.remove(&hash).unwrap_or_default();
                // The packed record counts its signatures in one octet.
                if sigs.len() > usize::from(u8::MAX) {
                    return Err(RecordsError::TooManySigs {
                        owner: r.owner.clone(),
                        count: sigs.len(),
                    });
                }
                chain.insert(hash, Nsec3::new(next, d.flags, &d.types, &sigs));
            }
            if let Some(h) = nsec3_sigs.keys().next() {
                return Err(RecordsError::StraySig {
                    owner: super::nsec3_owner(h, origin),
                    covered: "NSEC3".into(),
                });
            }
            cds.sort();
            cdnskey.sort();
            Some(Dnssec {
                dnskeys,
                cds,
                cdnskey,
                nsec3param: param,
                apex_sigs,
                ds_sigs: ds_sigs.into_iter().collect(),
                nsec3: chain.into_iter().collect(),
            })
        } else {
            if let Some((t, _)) = apex_sigs.into_iter().next() {
                return Err(RecordsError::StraySig {
                    owner: origin.clone(),
                    covered: type_name(t),
                });
            }
            if let Some((o, _)) = ds_sigs.into_iter().next() {
                return Err(RecordsError::StraySig {
                    owner: o,
                    covered: "DS".into(),
                });
            }
            None
        };

        Ok(SignedZone {
            zone: Zone {
                origin: origin.clone(),
                ttl: Ttls {
                    soa: soa_ttl,
                    ns: ttl.ns.unwrap_or(default_ttl::NS),
                    ds: ttl.ds.unwrap_or(default_ttl::DS),
                    glue: ttl.glue.unwrap_or(default_ttl::GLUE),
                    dnskey: ttl.dnskey.unwrap_or(default_ttl::DNSKEY),
                    nsec3: ttl.nsec3.unwrap_or(soa_ttl.min(soa.minimum)),
                },
                soa,
                apex_ns,
                content: Content {
                    delegations: delegations.into_iter().collect(),
                    glue: glue.into_iter().collect(),
                },
            },
            dnssec,
        })
    }
}
