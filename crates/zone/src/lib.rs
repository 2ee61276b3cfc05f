//! The zone model: what a published version of the TLD holds, in canonical
//! order, with its DNSSEC data attached.
//!
//! A TLD zone is almost all delegations, so the model is delegation-centric:
//! the apex (from configuration), a map of second-level delegations (NS set
//! shared between delegations that use the same servers, DS), the glue for
//! in-zone name servers, and, when signed, the NSEC3 chain and the RRSIGs.
//!
//! Three users shape it:
//! - the server, which never reads this model on the query path: it reads the
//!   compiled, precomputed form in the server's index, built from this
//!   model once per version;
//! - incremental updates (change feed), which edit the maps in place: a
//!   changed delegation touches its entry, its NSEC3 record and the records
//!   around it, nothing else;
//! - verification and export, which read [`Zone::records`].
//!
//! Published versions are immutable `Arc<SignedZone>` values swapped
//! atomically; this crate does no I/O. It sits on the base layer
//! (`tldns-base`) alone, so the verifier (`tldns-verify`) can read it
//! without any path to the signer.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
#![warn(missing_docs)]

pub mod codec;
pub mod diff;
pub mod records;
use std::collections::BTreeMap;
use tldns_base::name::Name;
use tldns_base::rr::{Ds, Record, Soa, rtype};

/// The persistent ordered map of the model: versions share every node an
/// update did not touch, so a new version costs what changed, not the
/// zone's size, and two versions compare by walking only what differs.
pub type Map<K, V> = imbl::OrdMap<K, V>;
/// One difference between two [`Map`]s (`Map::diff`).
pub use imbl::ordmap::DiffItem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// A delegation of a registered (second-level) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// Name servers, in the order they will be published (sorted, unique).
    /// Shared between delegations with the same set.
    pub ns: Arc<[Name]>,
    /// DS RRset (sorted, unique); empty for an insecure delegation.
    pub ds: Vec<Ds>,
}

/// Addresses of an in-zone name server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glue {
    /// IPv4 addresses, published as A records (sorted, unique).
    pub a: Vec<Ipv4Addr>,
    /// IPv6 addresses, published as AAAA records (sorted, unique).
    pub aaaa: Vec<Ipv6Addr>,
}

impl Glue {
    /// Add an address to [`Glue::a`] or [`Glue::aaaa`], keeping the list
    /// sorted and unique (an address already there is not added again).
    pub fn push(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => {
                if !self.a.contains(&v4) {
                    self.a.push(v4);
                    self.a.sort();
                }
            }
            IpAddr::V6(v6) => {
                if !self.aaaa.contains(&v6) {
                    self.aaaa.push(v6);
                    self.aaaa.sort();
                }
            }
        }
    }

    /// Whether the host has no address at all.
    pub fn is_empty(&self) -> bool {
        self.a.is_empty() && self.aaaa.is_empty()
    }
}

/// What the policy allows below the apex: delegations and their glue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    /// Delegations by registered name, in canonical order.
    pub delegations: Map<Name, Delegation>,
    /// Glue by host name; every host is below a published delegation and
    /// used by at least one delegation (or by the apex NS set).
    pub glue: Map<Name, Glue>,
}

/// TTLs of the records the zone holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttls {
    /// The apex SOA record, in seconds.
    pub soa: u32,
    /// NS RRsets, at the apex and at every delegation, in seconds.
    pub ns: u32,
    /// DS RRsets and the RRSIGs over them, in seconds.
    pub ds: u32,
    /// Glue A and AAAA records, in seconds.
    pub glue: u32,
    /// The apex DNSKEY RRset, in seconds.
    pub dnskey: u32,
    /// NSEC3 and NSEC3PARAM, in seconds: the configured value, by default
    /// min(SOA TTL, SOA minimum) (RFC 5155 §3, RFC 9077).
    pub nsec3: u32,
}

impl Ttls {
    /// TTL of the apex RRset of type `t`, and so of the RRSIGs over it
    /// (RFC 4034 §3: an RRSIG's TTL is its RRset's).
    pub fn apex(&self, t: u16) -> u32 {
        match t {
            rtype::SOA => self.soa,
            rtype::NS => self.ns,
            rtype::DNSKEY | rtype::CDS | rtype::CDNSKEY => self.dnskey,
            _ => self.nsec3,
        }
    }
}

/// The unsigned zone: apex plus content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The TLD's name: the apex, owner of the SOA, apex NS and DNSKEY.
    pub origin: Name,
    /// The apex SOA; its serial is the version's ([`Zone::serial`]).
    pub soa: Soa,
    /// The apex NS RRset's name servers (sorted, unique).
    pub apex_ns: Vec<Name>,
    /// TTLs of every kind of record the zone holds.
    pub ttl: Ttls,
    /// Delegations and glue below the apex.
    pub content: Content,
}

/// NSEC3PARAM (RFC 5155 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec3Param {
    /// Additional SHA-1 iterations (RFC 5155 §3.1.3).
    pub iterations: u16,
    /// Salt, empty for none (RFC 5155 §3.1.5).
    pub salt: Vec<u8>,
    /// Whether the chain uses Opt-Out (RFC 5155 §6): its NSEC3 records carry
    /// the flag and insecure delegations may have none. Not in the
    /// NSEC3PARAM RDATA, whose flags are 0.
    pub opt_out: bool,
}

impl Nsec3Param {
    /// NSEC3PARAM RDATA: hash algorithm 1 (SHA-1), flags 0 (RFC 5155 §4.1.2).
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v = vec![1, 0];
        v.extend_from_slice(&self.iterations.to_be_bytes());
        v.push(self.salt.len() as u8);
        v.extend_from_slice(&self.salt);
        v
    }
}

/// One NSEC3 record of the chain (RFC 5155 §3) with the RRSIG RDATA over
/// it, packed in one shared allocation: versions share it, and the query
/// path writes it after one pointer (next hashed owner, flags, type bitmap
/// and signatures lie side by side).
///
/// Layout: next hashed owner (20), flags (1), bitmap length (2, big-endian),
/// signature count (1), the bitmap, then per signature its length (2) and
/// RDATA.
#[derive(Clone, PartialEq, Eq)]
pub struct Nsec3(Arc<[u8]>);

const N3_HEAD: usize = 24;

impl Nsec3 {
    /// `types` is the type bitmap in wire form (RFC 5155 §3.2.1); flags bit
    /// 0 is opt-out (§3.1.2.1).
    pub fn new<S: AsRef<[u8]>>(next: [u8; 20], flags: u8, types: &[u8], sigs: &[S]) -> Nsec3 {
        let sig_len: usize = sigs.iter().map(|s| 2 + s.as_ref().len()).sum();
        let mut v = Vec::with_capacity(N3_HEAD + types.len() + sig_len);
        v.extend_from_slice(&next);
        v.push(flags);
        // A bitmap is at most 256 windows of 34 octets, an RRSIG RDATA
        // under 64 KiB, and a record has one signature per ZSK.
        v.extend_from_slice(&(types.len() as u16).to_be_bytes());
        v.push(u8::try_from(sigs.len()).expect("fewer than 256 signatures"));
        v.extend_from_slice(types);
        for s in sigs {
            let s = s.as_ref();
            v.extend_from_slice(&u16::try_from(s.len()).expect("RDATA fits").to_be_bytes());
            v.extend_from_slice(s);
        }
        Nsec3(v.into())
    }

    /// Where the record lies (for prefetching).
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }

    /// Next hashed owner name (raw SHA-1 output).
    #[inline]
    pub fn next(&self) -> &[u8; 20] {
        self.0[..20].try_into().expect("20 octets")
    }

    /// NSEC3 flags (RFC 5155 §3.1.2); 0x01 ([`tldns_base::rr::Nsec3::OPT_OUT`])
    /// is Opt-Out.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.0[20]
    }

    /// Type bitmap in wire form.
    #[inline]
    pub fn types(&self) -> &[u8] {
        &self.0[N3_HEAD..N3_HEAD + self.types_len()]
    }

    #[inline]
    fn types_len(&self) -> usize {
        u16::from_be_bytes([self.0[21], self.0[22]]) as usize
    }

    /// Number of signatures.
    #[inline]
    pub fn sig_count(&self) -> usize {
        self.0[23] as usize
    }

    /// RRSIG RDATA over this record.
    #[inline]
    pub fn sigs(&self) -> Nsec3Sigs<'_> {
        Nsec3Sigs {
            rest: &self.0[N3_HEAD + self.types_len()..],
        }
    }

    /// Octets of the signatures as their RRs' RDLENGTH and RDATA: what
    /// they add to a message beyond the owner, type, class and TTL.
    #[inline]
    pub fn sig_wire_len(&self) -> usize {
        self.0.len() - N3_HEAD - self.types_len()
    }

    /// A record not signed yet.
    pub fn unsigned(next: [u8; 20], flags: u8, types: &[u8]) -> Nsec3 {
        Nsec3::new::<&[u8]>(next, flags, types, &[])
    }

    /// The packed form (see the layout above), as [`Nsec3::from_bytes`]
    /// reads it back.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A record from its packed form, if the layout holds: the bitmap and
    /// every signature within the octets, nothing after the last one.
    pub fn from_bytes(b: &[u8]) -> Option<Nsec3> {
        let head = b.get(..N3_HEAD)?;
        let types = u16::from_be_bytes([head[21], head[22]]) as usize;
        let mut rest = b.get(N3_HEAD + types..)?;
        for _ in 0..head[23] {
            let (l, r) = rest.split_first_chunk::<2>()?;
            rest = r.get(u16::from_be_bytes(*l) as usize..)?;
        }
        rest.is_empty().then(|| Nsec3(b.into()))
    }

    /// The same record with `sigs` (RRSIG RDATA) in place of its signatures.
    pub fn with_sigs<S: AsRef<[u8]>>(&self, sigs: &[S]) -> Nsec3 {
        Nsec3::new(*self.next(), self.flags(), self.types(), sigs)
    }
}

impl std::fmt::Debug for Nsec3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nsec3")
            .field("next", self.next())
            .field("flags", &self.flags())
            .field("types", &self.types())
            .field("sigs", &self.sigs().collect::<Vec<_>>())
            .finish()
    }
}

/// The signatures of an [`Nsec3`].
#[derive(Clone)]
pub struct Nsec3Sigs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Nsec3Sigs<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let (l, rest) = self.rest.split_first_chunk::<2>()?;
        let (s, rest) = rest.split_at(u16::from_be_bytes(*l) as usize);
        self.rest = rest;
        Some(s)
    }
}

/// DNSSEC data of a signed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnssec {
    /// DNSKEY RDATA published at the apex.
    pub dnskeys: Vec<Vec<u8>>,
    /// The chain's hash parameters, published as the apex NSEC3PARAM.
    pub nsec3param: Nsec3Param,
    /// CDS RDATA at the apex (RFC 7344 §3.1): the DS RRset the zone asks
    /// its parent to hold; empty when not published.
    pub cds: Vec<Vec<u8>>,
    /// CDNSKEY RDATA at the apex (RFC 7344 §3.2), the same keys as `cds`.
    pub cdnskey: Vec<Vec<u8>>,
    /// RRSIG RDATA per apex RRset type (SOA, NS, DNSKEY, NSEC3PARAM, and
    /// CDS and CDNSKEY when published).
    pub apex_sigs: BTreeMap<u16, Vec<Vec<u8>>>,
    /// RRSIG RDATA over each delegation's DS RRset.
    pub ds_sigs: Map<Name, Vec<Vec<u8>>>,
    /// The NSEC3 chain keyed by hashed owner (raw SHA-1 output, so the map
    /// order is the chain order).
    pub nsec3: Map<[u8; 20], Nsec3>,
}

impl Dnssec {
    /// The expiration of the signature that expires first, in RFC 1982
    /// order from `now` (RFC 4034 §3.1.5): what the refresh must keep ahead
    /// of. `None` when there is no readable signature.
    pub fn earliest_expiration(&self, now: u32) -> Option<u32> {
        let apex = self.apex_sigs.values().flatten().map(Vec::as_slice);
        let ds = self.ds_sigs.values().flatten().map(Vec::as_slice);
        let n3 = self.nsec3.values().flat_map(|n| n.sigs());
        Self::earliest(apex.chain(ds).chain(n3), now)
    }

    /// The earliest expiration among `sigs` (RRSIG RDATA), as
    /// [`Dnssec::earliest_expiration`].
    pub fn earliest<'a>(sigs: impl Iterator<Item = &'a [u8]>, now: u32) -> Option<u32> {
        sigs.filter_map(|s| tldns_base::rr::RrsigFields::parse(s).ok())
            .map(|f| f.expiration)
            .min_by_key(|e| e.wrapping_sub(now) as i32)
    }
}

/// A version ready to publish: the zone and, when signed, its DNSSEC data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedZone {
    /// The unsigned zone.
    pub zone: Zone,
    /// Keys, NSEC3 chain and signatures; `None` for an unsigned version.
    pub dnssec: Option<Dnssec>,
}

impl Zone {
    /// The SOA serial (RFC 1982 arithmetic).
    pub fn serial(&self) -> u32 {
        self.soa.serial
    }

    /// Apex glue: addresses of the TLD's own in-zone name servers.
    pub fn apex_glue(&self) -> impl Iterator<Item = (&Name, &Glue)> {
        self.apex_ns
            .iter()
            .filter_map(|n| self.content.glue.get_key_value(n))
    }

    /// The records of the unsigned zone: SOA, apex NS, then per delegation
    /// NS and DS, then glue. Canonical order within each group.
    pub fn records(&self) -> Vec<Record> {
        let mut out = Vec::with_capacity(4 + self.content.delegations.len() * 3);
        out.push(self.soa_record());
        self.apex_ns_records(&mut out);
        for (name, d) in self.content.delegations.iter() {
            self.delegation_records(name, d, &mut out);
        }
        for (name, g) in self.content.glue.iter() {
            self.glue_records(name, g, &mut out);
        }
        out
    }

    /// The apex SOA record.
    pub fn soa_record(&self) -> Record {
        Record::new(
            self.origin.clone(),
            self.ttl.soa,
            rtype::SOA,
            self.soa.to_rdata(),
        )
    }

    /// Append the apex NS records to `out`.
    pub fn apex_ns_records(&self, out: &mut Vec<Record>) {
        for ns in &self.apex_ns {
            out.push(Record::new(
                self.origin.clone(),
                self.ttl.ns,
                rtype::NS,
                ns.wire().to_vec(),
            ));
        }
    }

    /// NS and DS records of one delegation.
    pub fn delegation_records(&self, name: &Name, d: &Delegation, out: &mut Vec<Record>) {
        for ns in d.ns.iter() {
            out.push(Record::new(
                name.clone(),
                self.ttl.ns,
                rtype::NS,
                ns.wire().to_vec(),
            ));
        }
        for ds in &d.ds {
            out.push(Record::new(
                name.clone(),
                self.ttl.ds,
                rtype::DS,
                ds.to_rdata(),
            ));
        }
    }

    /// A and AAAA records of one glue host.
    pub fn glue_records(&self, name: &Name, g: &Glue, out: &mut Vec<Record>) {
        for a in &g.a {
            out.push(Record::new(
                name.clone(),
                self.ttl.glue,
                rtype::A,
                a.octets().to_vec(),
            ));
        }
        for a in &g.aaaa {
            out.push(Record::new(
                name.clone(),
                self.ttl.glue,
                rtype::AAAA,
                a.octets().to_vec(),
            ));
        }
    }
}

impl SignedZone {
    /// The SOA serial of the version (RFC 1982 arithmetic).
    pub fn serial(&self) -> u32 {
        self.zone.serial()
    }

    /// Every record of the public zone: [`Zone::records`], then DNSKEY,
    /// NSEC3PARAM and the RRSIGs at the apex, RRSIGs over DS, and the NSEC3
    /// chain with its signatures.
    pub fn records(&self) -> Vec<Record> {
        let mut out = self.zone.records();
        let Some(sec) = &self.dnssec else { return out };
        self.apex_dnssec_records(&mut out);
        for (name, sigs) in sec.ds_sigs.iter() {
            self.ds_sig_records(name, sigs, &mut out);
        }
        for (hash, n3) in sec.nsec3.iter() {
            self.nsec3_records(hash, n3, &mut out);
        }
        out
    }

    /// DNSKEY, NSEC3PARAM, CDS and CDNSKEY, and the RRSIGs at the apex.
    pub fn apex_dnssec_records(&self, out: &mut Vec<Record>) {
        let Some(sec) = &self.dnssec else { return };
        let o = &self.zone.origin;
        let t = &self.zone.ttl;
        for k in &sec.dnskeys {
            out.push(Record::new(o.clone(), t.dnskey, rtype::DNSKEY, k.clone()));
        }
        out.push(Record::new(
            o.clone(),
            t.nsec3,
            rtype::NSEC3PARAM,
            sec.nsec3param.to_rdata(),
        ));
        for (ty, set) in [(rtype::CDS, &sec.cds), (rtype::CDNSKEY, &sec.cdnskey)] {
            for rd in set {
                out.push(Record::new(o.clone(), t.dnskey, ty, rd.clone()));
            }
        }
        for (ty, sigs) in &sec.apex_sigs {
            let ttl = t.apex(*ty);
            for s in sigs {
                out.push(Record::new(o.clone(), ttl, rtype::RRSIG, s.clone()));
            }
        }
    }

    /// The RRSIGs over one delegation's DS RRset.
    pub fn ds_sig_records(&self, name: &Name, sigs: &[Vec<u8>], out: &mut Vec<Record>) {
        for s in sigs {
            out.push(Record::new(
                name.clone(),
                self.zone.ttl.ds,
                rtype::RRSIG,
                s.clone(),
            ));
        }
    }

    /// One NSEC3 record and its RRSIGs.
    pub fn nsec3_records(&self, hash: &[u8; 20], n3: &Nsec3, out: &mut Vec<Record>) {
        let Some(sec) = &self.dnssec else { return };
        let ttl = self.zone.ttl.nsec3;
        let owner = nsec3_owner(hash, &self.zone.origin);
        out.push(Record::new(
            owner.clone(),
            ttl,
            rtype::NSEC3,
            nsec3_rdata(&sec.nsec3param, n3),
        ));
        for s in n3.sigs() {
            out.push(Record::new(owner.clone(), ttl, rtype::RRSIG, s.to_vec()));
        }
    }
}

pub use tldns_base::nsec3::nsec3_owner;

/// NSEC3 RDATA (RFC 5155 §3.2).
pub fn nsec3_rdata(p: &Nsec3Param, n: &Nsec3) -> Vec<u8> {
    let mut v = Vec::with_capacity(26 + p.salt.len() + n.types().len());
    v.push(1);
    v.push(n.flags());
    v.extend_from_slice(&p.iterations.to_be_bytes());
    v.push(p.salt.len() as u8);
    v.extend_from_slice(&p.salt);
    v.push(20);
    v.extend_from_slice(n.next());
    v.extend_from_slice(n.types());
    v
}

#[cfg(test)]
mod tests;
