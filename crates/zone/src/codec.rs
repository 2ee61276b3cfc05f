//! A compact binary form of a version ([`SignedZone`]) and of a step
//! between two ([`Diff`]): what the durable snapshot and journal of the
//! published versions hold. The snapshot must load a 1,000,000-delegation
//! TLD in a few seconds, so it is the model's own layout, not records:
//! names in wire form, each NS set once (delegations refer to it by
//! number, and share it again when read), the packed NSEC3 records
//! ([`Nsec3::as_bytes`]) copied as they are. Integers are big-endian;
//! maps are written in their order, so a version always encodes to the
//! same octets.
//!
//! Integrity is not this module's: the file around the octets carries a
//! digest. Decoding still checks every length and name, so damaged octets
//! are an error, never a panic or a wrong model.
//!
//! Layout of a version: origin, SOA RDATA, the six TTLs, apex NS, the NS
//! sets, the delegations (name, set number, DS RDATA), the glue (name, A,
//! AAAA), then a flag and, when signed, DNSKEY RDATA, NSEC3PARAM (with the
//! opt-out flag), the apex RRSIGs by type, the RRSIGs over DS by owner and
//! the NSEC3 chain by hash. A step: both SOA records, the removed and the
//! added records (owner, type, TTL, RDATA).

use crate::diff::Diff;
use crate::{Content, Delegation, Dnssec, Glue, Map, Nsec3, Nsec3Param, SignedZone, Ttls, Zone};
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use tldns_base::name::Name;
use tldns_base::rr::{Ds, Record, Soa};

/// Why octets are not a version or a step in this form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at octet {at}: {what}")]
pub struct CodecError {
    /// Where decoding stopped.
    pub at: usize,
    /// What was expected there.
    pub what: &'static str,
}

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("fewer than 2^32 items"));
    }
    /// Octets with a 16-bit length (RDATA, names).
    fn short(&mut self, b: &[u8]) {
        self.u16(u16::try_from(b.len()).expect("RDATA under 64 KiB"));
        self.0.extend_from_slice(b);
    }
    /// Octets with a 32-bit length.
    fn long(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    fn name(&mut self, n: &Name) {
        self.short(n.wire());
    }
    fn record(&mut self, r: &Record) {
        self.name(&r.owner);
        self.u16(r.rtype);
        self.u32(r.ttl);
        self.short(&r.rdata);
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> R<'a> {
    fn err(&self, what: &'static str) -> CodecError {
        CodecError { at: self.at, what }
    }
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        let s = self
            .b
            .get(self.at..self.at.checked_add(n).ok_or_else(|| self.err(what))?)
            .ok_or_else(|| self.err(what))?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, CodecError> {
        let s = self.take(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, CodecError> {
        let s = self.take(4, what)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    /// A count of items of at least `min` octets each, checked against
    /// what is left (so a damaged count cannot make a huge allocation).
    fn count(&mut self, min: usize, what: &'static str) -> Result<usize, CodecError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min) > self.b.len() - self.at {
            return Err(self.err(what));
        }
        Ok(n)
    }
    fn short(&mut self, what: &'static str) -> Result<&'a [u8], CodecError> {
        let n = self.u16(what)? as usize;
        self.take(n, what)
    }
    fn long(&mut self, what: &'static str) -> Result<&'a [u8], CodecError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }
    fn name(&mut self, what: &'static str) -> Result<Name, CodecError> {
        let at = self.at;
        let w = self.short(what)?;
        Name::from_wire(w).map_err(|_| CodecError { at, what })
    }
    fn record(&mut self) -> Result<Record, CodecError> {
        let owner = self.name("record owner")?;
        let rtype = self.u16("record type")?;
        let ttl = self.u32("record TTL")?;
        let rdata = self.short("record RDATA")?.to_vec();
        Ok(Record::new(owner, ttl, rtype, rdata))
    }
    fn end(&self) -> Result<(), CodecError> {
        if self.at == self.b.len() {
            Ok(())
        } else {
            Err(self.err("end (octets left over)"))
        }
    }
}

/// The octets of a version.
pub fn encode_zone(z: &SignedZone) -> Vec<u8> {
    let zone = &z.zone;
    let n = zone.content.delegations.len();
    let mut w = W(Vec::with_capacity(64 + n * 48));
    w.name(&zone.origin);
    w.short(&zone.soa.to_rdata());
    let t = &zone.ttl;
    for v in [t.soa, t.ns, t.ds, t.glue, t.dnskey, t.nsec3] {
        w.u32(v);
    }
    w.len(zone.apex_ns.len());
    for ns in &zone.apex_ns {
        w.name(ns);
    }
    // NS sets by allocation: delegations that share one are written once.
    let mut sets: HashMap<*const Name, u32> = HashMap::new();
    let mut order: Vec<&Arc<[Name]>> = Vec::new();
    for d in zone.content.delegations.values() {
        let next = order.len() as u32;
        sets.entry(d.ns.as_ptr()).or_insert_with(|| {
            order.push(&d.ns);
            next
        });
    }
    w.len(order.len());
    for set in &order {
        w.len(set.len());
        for ns in set.iter() {
            w.name(ns);
        }
    }
    w.len(n);
    for (name, d) in zone.content.delegations.iter() {
        w.name(name);
        w.u32(sets[&d.ns.as_ptr()]);
        w.len(d.ds.len());
        for ds in &d.ds {
            w.short(&ds.to_rdata());
        }
    }
    w.len(zone.content.glue.len());
    for (name, g) in zone.content.glue.iter() {
        w.name(name);
        w.len(g.a.len());
        for a in &g.a {
            w.0.extend_from_slice(&a.octets());
        }
        w.len(g.aaaa.len());
        for a in &g.aaaa {
            w.0.extend_from_slice(&a.octets());
        }
    }
    match &z.dnssec {
        None => w.u8(0),
        Some(sec) => {
            // 1: signed; 2: signed, with CDS and CDNSKEY after the DNSKEYs
            // (a version without them is written as before).
            let cds = !sec.cds.is_empty() || !sec.cdnskey.is_empty();
            w.u8(if cds { 2 } else { 1 });
            w.len(sec.dnskeys.len());
            for k in &sec.dnskeys {
                w.short(k);
            }
            if cds {
                for set in [&sec.cds, &sec.cdnskey] {
                    w.len(set.len());
                    for rd in set {
                        w.short(rd);
                    }
                }
            }
            let p = &sec.nsec3param;
            w.u16(p.iterations);
            w.short(&p.salt);
            w.u8(u8::from(p.opt_out));
            w.len(sec.apex_sigs.len());
            for (t, sigs) in &sec.apex_sigs {
                w.u16(*t);
                w.len(sigs.len());
                for s in sigs {
                    w.short(s);
                }
            }
            w.len(sec.ds_sigs.len());
            for (name, sigs) in sec.ds_sigs.iter() {
                w.name(name);
                w.len(sigs.len());
                for s in sigs {
                    w.short(s);
                }
            }
            w.len(sec.nsec3.len());
            for (h, n3) in sec.nsec3.iter() {
                w.0.extend_from_slice(h);
                w.long(n3.as_bytes());
            }
        }
    }
    w.0
}

/// The version `b` holds ([`encode_zone`]'s octets).
pub fn decode_zone(b: &[u8]) -> Result<SignedZone, CodecError> {
    let mut r = R { b, at: 0 };
    let origin = r.name("origin")?;
    let at = r.at;
    let soa = Soa::from_rdata(r.short("SOA")?).map_err(|_| CodecError { at, what: "SOA" })?;
    let mut t = [0u32; 6];
    for v in &mut t {
        *v = r.u32("TTL")?;
    }
    let ttl = Ttls {
        soa: t[0],
        ns: t[1],
        ds: t[2],
        glue: t[3],
        dnskey: t[4],
        nsec3: t[5],
    };
    let mut apex_ns = Vec::new();
    for _ in 0..r.count(3, "apex NS")? {
        apex_ns.push(r.name("apex NS")?);
    }
    let mut sets: Vec<Arc<[Name]>> = Vec::new();
    for _ in 0..r.count(4, "NS sets")? {
        let mut set = Vec::new();
        for _ in 0..r.count(3, "NS set")? {
            set.push(r.name("NS")?);
        }
        sets.push(set.into());
    }
    let mut delegations = Vec::with_capacity(r.count(11, "delegations")?);
    for _ in 0..delegations.capacity() {
        let name = r.name("delegation")?;
        let at = r.at;
        let set = r.u32("NS set number")? as usize;
        let ns = sets
            .get(set)
            .ok_or(CodecError {
                at,
                what: "NS set number",
            })?
            .clone();
        let mut ds = Vec::new();
        for _ in 0..r.count(2, "DS")? {
            let at = r.at;
            ds.push(Ds::from_rdata(r.short("DS")?).map_err(|_| CodecError { at, what: "DS" })?);
        }
        delegations.push((name, Delegation { ns, ds }));
    }
    let mut glue = Vec::new();
    for _ in 0..r.count(11, "glue")? {
        let name = r.name("glue")?;
        let mut g = Glue::default();
        for _ in 0..r.count(4, "A")? {
            let o: [u8; 4] = r.take(4, "A")?.try_into().expect("4 octets");
            g.a.push(Ipv4Addr::from(o));
        }
        for _ in 0..r.count(16, "AAAA")? {
            let o: [u8; 16] = r.take(16, "AAAA")?.try_into().expect("16 octets");
            g.aaaa.push(Ipv6Addr::from(o));
        }
        glue.push((name, g));
    }
    let dnssec = match r.u8("DNSSEC flag")? {
        0 => None,
        flag @ (1 | 2) => {
            let mut dnskeys = Vec::new();
            for _ in 0..r.count(2, "DNSKEY")? {
                dnskeys.push(r.short("DNSKEY")?.to_vec());
            }
            let (mut cds, mut cdnskey) = (Vec::new(), Vec::new());
            if flag == 2 {
                for _ in 0..r.count(2, "CDS")? {
                    cds.push(r.short("CDS")?.to_vec());
                }
                for _ in 0..r.count(2, "CDNSKEY")? {
                    cdnskey.push(r.short("CDNSKEY")?.to_vec());
                }
            }
            let iterations = r.u16("NSEC3PARAM iterations")?;
            let salt = r.short("NSEC3PARAM salt")?.to_vec();
            let opt_out = match r.u8("opt-out flag")? {
                0 => false,
                1 => true,
                _ => return Err(r.err("opt-out flag")),
            };
            let mut apex_sigs = BTreeMap::new();
            for _ in 0..r.count(6, "apex RRSIGs")? {
                let t = r.u16("covered type")?;
                let mut sigs = Vec::new();
                for _ in 0..r.count(2, "RRSIG")? {
                    sigs.push(r.short("RRSIG")?.to_vec());
                }
                apex_sigs.insert(t, sigs);
            }
            let mut ds_sigs = Vec::new();
            for _ in 0..r.count(7, "RRSIGs over DS")? {
                let name = r.name("RRSIG owner")?;
                let mut sigs = Vec::new();
                for _ in 0..r.count(2, "RRSIG")? {
                    sigs.push(r.short("RRSIG")?.to_vec());
                }
                ds_sigs.push((name, sigs));
            }
            let mut chain = Vec::new();
            for _ in 0..r.count(24, "NSEC3 chain")? {
                let h: [u8; 20] = r.take(20, "NSEC3 hash")?.try_into().expect("20 octets");
                let at = r.at;
                let n3 =
                    Nsec3::from_bytes(r.long("NSEC3")?).ok_or(CodecError { at, what: "NSEC3" })?;
                chain.push((h, n3));
            }
            Some(Dnssec {
                dnskeys,
                cds,
                cdnskey,
                nsec3param: Nsec3Param {
                    iterations,
                    salt,
                    opt_out,
                },
                apex_sigs,
                ds_sigs: sorted_map(ds_sigs, &r, "RRSIGs over DS out of order")?,
                nsec3: sorted_map(chain, &r, "NSEC3 chain out of order")?,
            })
        }
        _ => return Err(r.err("DNSSEC flag")),
    };
    r.end()?;
    Ok(SignedZone {
        zone: Zone {
            origin,
            soa,
            apex_ns,
            ttl,
            content: Content {
                delegations: sorted_map(delegations, &r, "delegations out of order")?,
                glue: sorted_map(glue, &r, "glue out of order")?,
            },
        },
        dnssec,
    })
}

/// A map from entries written in its order; entries out of order (or
/// twice) are damage.
fn sorted_map<K: Ord + Clone, V: Clone>(
    v: Vec<(K, V)>,
    r: &R<'_>,
    what: &'static str,
) -> Result<Map<K, V>, CodecError> {
    if v.windows(2).any(|p| p[0].0 >= p[1].0) {
        return Err(r.err(what));
    }
    Ok(v.into_iter().collect())
}

/// The octets of a step.
pub fn encode_diff(d: &Diff) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(
        64 * (2 + d.removed.len() + d.added.len()),
    ));
    w.record(&d.old_soa);
    w.record(&d.new_soa);
    for part in [&d.removed, &d.added] {
        w.len(part.len());
        for rec in part {
            w.record(rec);
        }
    }
    w.0
}

/// The step `b` holds ([`encode_diff`]'s octets).
pub fn decode_diff(b: &[u8]) -> Result<Diff, CodecError> {
    let mut r = R { b, at: 0 };
    let old_soa = r.record()?;
    let new_soa = r.record()?;
    let mut parts = [Vec::new(), Vec::new()];
    for part in &mut parts {
        for _ in 0..r.count(11, "records")? {
            part.push(r.record()?);
        }
    }
    r.end()?;
    let [removed, added] = parts;
    Ok(Diff {
        old_soa,
        new_soa,
        removed,
        added,
    })
}
