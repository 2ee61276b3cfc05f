//! The served form of a zone version: everything `answer()` needs,
//! precomputed once per version.
//!
//! Built from a [`SignedZone`] when a version is published, then immutable.
//! A TLD answer is one of a handful of shapes (apex RRset, referral, DS,
//! NXDOMAIN, NODATA), and every part of those that does not depend on the
//! query name is a [`Frag`] here: per delegation its NS RRset, glue, and
//! DS with RRSIG or the NSEC3 that proves there is no DS; at the apex each
//! RRset with its RRSIGs and the negative-answer SOA; the NSEC3 chain as a
//! sorted array of hashes beside their records, so that an NXDOMAIN costs
//! one hash of the next-closer name and one binary search.

use super::frag::{Frag, FragBuilder};
use crate::config::ServerConfig;
use crate::name::Name;
use crate::rr::rtype;
use crate::zone::{Nsec3Param, SignedZone, nsec3_owner, nsec3_rdata};
use std::collections::HashMap;

/// Answer options taken from the server configuration.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub edns_max_payload: u16,
    pub nsid: Option<Box<[u8]>>,
    pub identity: Option<Box<[u8]>>,
}

impl Options {
    pub fn from_config(c: &ServerConfig) -> Options {
        Options {
            edns_max_payload: c.edns_max_payload,
            nsid: c.nsid.as_ref().map(|s| s.as_bytes().into()),
            identity: c.identity.as_ref().map(|s| s.as_bytes().into()),
        }
    }
}

/// How a referral shows, with DO set, whether the child is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Unsigned zone: nothing to prove.
    Unsigned,
    /// DS RRset with RRSIG (secure delegation).
    Ds,
    /// The NSEC3 (by index) whose owner is the delegation: no DS bit.
    Match(u32),
    /// Opt-out: the apex NSEC3 (closest provable encloser) and this
    /// covering NSEC3 with the opt-out flag (RFC 5155 §7.2.7).
    OptOut(u32),
}

/// Precomputed parts of the answers at one delegation.
#[derive(Debug, Clone)]
pub struct Referral {
    /// Wire length of the delegation name.
    pub name_len: u16,
    /// NS RRset, placed first in the authority section.
    pub ns: Frag,
    /// In-zone glue for the NS targets, additional section.
    pub glue: Frag,
    /// DS RRset then its RRSIGs (empty without DS).
    pub ds: Frag,
    pub proof: Proof,
}

/// Precomputed apex answers.
#[derive(Debug, Clone, Default)]
pub struct Apex {
    pub soa: Frag,
    /// SOA for negative answers: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §3).
    pub neg_soa: Frag,
    pub ns: Frag,
    pub ns_glue: Frag,
    pub dnskey: Frag,
    pub nsec3param: Frag,
}

/// The NSEC3 chain, as the query path reads it.
#[derive(Debug, Clone)]
pub struct Nsec3Index {
    pub hashes: Vec<[u8; 20]>,
    pub recs: Vec<Frag>,
    pub iterations: u16,
    pub salt: Box<[u8]>,
    /// Index of the NSEC3 matching the apex (closest encloser of every
    /// non-existent name in a TLD).
    pub apex: u32,
    /// Index of the NSEC3 covering `*.<origin>` (RFC 5155 §7.2.2).
    pub wildcard_cover: u32,
}

impl Nsec3Index {
    /// Index of the record whose owner hash equals `h`, or that covers it.
    #[inline]
    pub fn find(&self, h: &[u8; 20]) -> (u32, bool) {
        match self.hashes.binary_search(h) {
            Ok(i) => (i as u32, true),
            Err(0) => (self.hashes.len() as u32 - 1, false),
            Err(i) => (i as u32 - 1, false),
        }
    }
}

/// A keyed hasher for the delegation map: query names come from anyone,
/// and registered names from registrants, so the hash is seeded per process.
pub type MapHasher = std::hash::RandomState;

/// Everything the query path reads for one zone version.
#[derive(Debug, Clone)]
pub struct Index {
    /// Lower-cased wire form of the origin.
    pub origin: Name,
    pub serial: u32,
    pub delegations: HashMap<Box<[u8]>, Referral, MapHasher>,
    pub apex: Apex,
    pub nsec3: Option<Nsec3Index>,
    pub opts: Options,
}

/// The NSEC3 hash (RFC 5155 §5), shared with the signer: one implementation.
pub use crate::dnssec::nsec3::nsec3_hash_wire;

impl Index {
    /// Precompute the answers of `sz`.
    pub fn build(sz: &SignedZone, opts: Options) -> Index {
        let z = &sz.zone;
        let origin = &z.origin;
        let ttl = z.ttl;
        let sec = sz.dnssec.as_ref();
        let apex_sigs = |t: u16| -> &[Vec<u8>] {
            sec.and_then(|s| s.apex_sigs.get(&t))
                .map(|v| v.as_slice())
                .unwrap_or(&[])
        };

        // NSEC3 chain.
        let nsec3 = sec.map(|s| {
            let p: &Nsec3Param = &s.nsec3param;
            let mut hashes = Vec::with_capacity(s.nsec3.len());
            let mut recs = Vec::with_capacity(s.nsec3.len());
            for (h, n3) in &s.nsec3 {
                let owner = nsec3_owner(h, origin);
                let mut b = FragBuilder::new(&[origin], None);
                b.end_plain();
                b.rr_raw(&owner, rtype::NSEC3, ttl.nsec3, &nsec3_rdata(p, n3));
                for sig in &n3.sigs {
                    b.rrsig(&owner, ttl.nsec3, sig);
                }
                hashes.push(*h);
                recs.push(b.finish());
            }
            let apex_h = nsec3_hash_wire(origin.wire(), &p.salt, p.iterations);
            let wild = origin.prepend(b"*").expect("*.TLD is a valid name");
            let wild_h = nsec3_hash_wire(wild.wire(), &p.salt, p.iterations);
            let mut ix = Nsec3Index {
                hashes,
                recs,
                iterations: p.iterations,
                salt: p.salt.clone().into_boxed_slice(),
                apex: 0,
                wildcard_cover: 0,
            };
            if !ix.hashes.is_empty() {
                ix.apex = ix.find(&apex_h).0;
                ix.wildcard_cover = ix.find(&wild_h).0;
            }
            ix
        });

        // Apex.
        let soa_rdata = z.soa.to_rdata();
        let apex_frag = |t: u16, ttl: u32, rdatas: &[Vec<u8>], base: Option<usize>| {
            let mut b = FragBuilder::new(&[origin], base);
            for r in rdatas {
                b.rr_raw(origin, t, ttl, r);
            }
            b.end_plain();
            for s in apex_sigs(t) {
                b.rrsig(origin, ttl, s);
            }
            b.finish()
        };
        let soa_frag = |ttl: u32, base: Option<usize>| {
            let mut b = FragBuilder::new(&[origin], base);
            b.rr(origin, rtype::SOA, ttl, |b| {
                b.name(&z.soa.mname);
                b.name(&z.soa.rname);
                b.bytes(&soa_rdata[z.soa.mname.wire_len() + z.soa.rname.wire_len()..]);
            });
            b.end_plain();
            for s in apex_sigs(rtype::SOA) {
                b.rrsig(origin, ttl, s);
            }
            b.finish()
        };
        let (apex_ns, apex_glue) =
            ns_and_glue(origin, origin, &z.apex_ns, ttl.ns, apex_sigs(rtype::NS), sz);
        let apex = Apex {
            soa: soa_frag(ttl.soa, Some(0)),
            neg_soa: soa_frag(ttl.soa.min(z.soa.minimum), None),
            ns: apex_ns,
            ns_glue: apex_glue,
            dnskey: sec
                .map(|s| apex_frag(rtype::DNSKEY, ttl.dnskey, &s.dnskeys, Some(0)))
                .unwrap_or_default(),
            nsec3param: sec
                .map(|s| {
                    apex_frag(
                        rtype::NSEC3PARAM,
                        ttl.nsec3,
                        &[s.nsec3param.to_rdata()],
                        Some(0),
                    )
                })
                .unwrap_or_default(),
        };

        // Delegations.
        let mut delegations =
            HashMap::with_capacity_and_hasher(z.content.delegations.len(), MapHasher::default());
        for (name, d) in &z.content.delegations {
            let (ns, glue) = ns_and_glue(origin, name, &d.ns, ttl.ns, &[], sz);
            let mut b = FragBuilder::new(&[origin, name], None);
            for ds in &d.ds {
                b.rr_raw(name, rtype::DS, ttl.ds, &ds.to_rdata());
            }
            b.end_plain();
            if let Some(sigs) = sec.and_then(|s| s.ds_sigs.get(name)) {
                for s in sigs {
                    b.rrsig(name, ttl.ds, s);
                }
            }
            let ds = b.finish();
            let proof = match (&nsec3, d.ds.is_empty()) {
                (None, _) => Proof::Unsigned,
                (Some(_), false) => Proof::Ds,
                (Some(ix), true) => {
                    let h = nsec3_hash_wire(name.wire(), &ix.salt, ix.iterations);
                    match ix.find(&h) {
                        (i, true) => Proof::Match(i),
                        (i, false) => Proof::OptOut(i),
                    }
                }
            };
            let label: Box<[u8]> = name.first_label().unwrap_or_default().into();
            delegations.insert(
                label,
                Referral {
                    name_len: name.wire_len() as u16,
                    ns,
                    glue,
                    ds,
                    proof,
                },
            );
        }
        Index {
            origin: origin.clone(),
            serial: z.soa.serial,
            delegations,
            apex,
            nsec3,
            opts,
        }
    }

    /// The referral for a lower-case second-level label.
    #[inline]
    pub fn delegation(&self, label: &[u8]) -> Option<&Referral> {
        self.delegations.get(label)
    }

    /// Number of delegations served.
    pub fn len(&self) -> usize {
        self.delegations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.delegations.is_empty()
    }
}

/// NS RRset at `owner` (placed first in its section) and the glue for its
/// in-zone targets, compressed against the NS RDATA.
fn ns_and_glue(
    origin: &Name,
    owner: &Name,
    targets: &[Name],
    ttl: u32,
    sigs: &[Vec<u8>],
    sz: &SignedZone,
) -> (Frag, Frag) {
    let mut nb = FragBuilder::new(&[origin, owner], Some(0));
    for t in targets {
        nb.rr(owner, rtype::NS, ttl, |b| b.name(t));
    }
    nb.end_plain();
    for s in sigs {
        nb.rrsig(owner, ttl, s);
    }
    let mut gb = FragBuilder::new(&[origin, owner], None);
    gb.learn(&nb);
    let gttl = sz.zone.ttl.glue;
    for t in targets {
        if let Some(g) = sz.zone.content.glue.get(t) {
            for a in &g.a {
                gb.rr_raw(t, rtype::A, gttl, &a.octets());
            }
            for a in &g.aaaa {
                gb.rr_raw(t, rtype::AAAA, gttl, &a.octets());
            }
        }
    }
    (nb.finish(), gb.finish())
}
