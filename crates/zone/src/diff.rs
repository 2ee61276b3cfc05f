//! The difference between two versions of the zone, as IXFR carries it
//! (RFC 1995 §4): the old SOA, the records deleted, the new SOA, the records
//! added. Computed by a sorted merge of the two versions' records, so it
//! needs nothing from the signer or the SRS: any two [`SignedZone`] values
//! will do, however they were made. The IXFR history, the secondary's
//! transfers and the durable journal of published versions all use it;
//! [`patch`] applies a step to the model itself (a restart replaying the
//! journal onto the last snapshot).

use crate::SignedZone;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use tldns_base::name::Name;
use tldns_base::nsec3::nsec3_owner_hash;
use tldns_base::rr::{Record, RrsigFields, Soa, rtype};

/// One step of the IXFR history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// SOA of the version the step starts from.
    pub old_soa: Record,
    /// SOA of the version it ends at.
    pub new_soa: Record,
    /// Deleted records, canonical order, SOA excluded.
    pub removed: Vec<Record>,
    /// Added records, canonical order, SOA excluded.
    pub added: Vec<Record>,
}

impl Diff {
    /// Serial of the version the step starts from (0 if the SOA is
    /// unreadable).
    pub fn from(&self) -> u32 {
        Soa::serial_of(&self.old_soa.rdata).unwrap_or(0)
    }
    /// Serial of the version it ends at (0 if the SOA is unreadable).
    pub fn to(&self) -> u32 {
        Soa::serial_of(&self.new_soa.rdata).unwrap_or(0)
    }
    /// Records it carries, both SOAs included.
    pub fn len(&self) -> usize {
        2 + self.removed.len() + self.added.len()
    }
    /// Whether nothing but the SOA changed.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

/// Canonical order of records (RFC 4034 §6.3: owner, then type, then
/// RDATA), TTL last so a TTL change is a delete and an add.
pub fn canonical(a: &Record, b: &Record) -> Ordering {
    a.owner
        .cmp(&b.owner)
        .then(a.rtype.cmp(&b.rtype))
        .then_with(|| a.rdata.cmp(&b.rdata))
        .then(a.ttl.cmp(&b.ttl))
}

fn sorted_without_soa(z: &SignedZone) -> (Record, Vec<Record>) {
    let mut recs = z.records();
    // records() puts the SOA first; search anyway.
    let i = recs
        .iter()
        .position(|r| r.rtype == rtype::SOA && r.owner == z.zone.origin)
        .expect("a zone's records hold its SOA");
    let soa = recs.swap_remove(i);
    recs.sort_unstable_by(canonical);
    recs.dedup();
    (soa, recs)
}

/// What changed from `old` to `new`. Versions made from one another share
/// the unchanged parts of their maps ([`crate::Map`]), so only the
/// owners whose entries differ are compared: the cost is the size of the
/// change, not of the zone. Unrelated versions cost a walk of both.
pub fn diff(old: &SignedZone, new: &SignedZone) -> Diff {
    let (oz, nz) = (&old.zone, &new.zone);
    if oz.origin != nz.origin || oz.ttl != nz.ttl || old.dnssec.is_some() != new.dnssec.is_some() {
        return full_diff(old, new);
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    oz.apex_ns_records(&mut a);
    nz.apex_ns_records(&mut b);
    old.apex_dnssec_records(&mut a);
    new.apex_dnssec_records(&mut b);
    let (oc, nc) = (&oz.content, &nz.content);
    changed(
        (old, new),
        &oc.delegations,
        &nc.delegations,
        &mut a,
        &mut b,
        |z, k, v, out| z.zone.delegation_records(k, v, out),
    );
    changed(
        (old, new),
        &oc.glue,
        &nc.glue,
        &mut a,
        &mut b,
        |z, k, v, out| z.zone.glue_records(k, v, out),
    );
    if let (Some(os), Some(ns)) = (&old.dnssec, &new.dnssec) {
        if os.nsec3param != ns.nsec3param {
            return full_diff(old, new);
        }
        changed(
            (old, new),
            &os.ds_sigs,
            &ns.ds_sigs,
            &mut a,
            &mut b,
            |z, k, v, out| z.ds_sig_records(k, v, out),
        );
        changed(
            (old, new),
            &os.nsec3,
            &ns.nsec3,
            &mut a,
            &mut b,
            |z, k, v, out| z.nsec3_records(k, v, out),
        );
    }
    for v in [&mut a, &mut b] {
        v.sort_unstable_by(canonical);
        v.dedup();
    }
    merge(oz.soa_record(), &a, nz.soa_record(), &b)
}

/// The records of the entries that differ between `old`'s and `new`'s
/// version of one map: `records` writes an entry's records, given the
/// version it belongs to (old ones to `a`, new ones to `b`).
fn changed<K: Ord + Clone, V: PartialEq + Clone>(
    (old, new): (&SignedZone, &SignedZone),
    om: &crate::Map<K, V>,
    nm: &crate::Map<K, V>,
    a: &mut Vec<Record>,
    b: &mut Vec<Record>,
    records: impl Fn(&SignedZone, &K, &V, &mut Vec<Record>),
) {
    use imbl::ordmap::DiffItem;
    for d in om.diff(nm) {
        match d {
            DiffItem::Add(k, v) => records(new, k, v, b),
            DiffItem::Remove(k, v) => records(old, k, v, a),
            DiffItem::Update {
                old: (ko, vo),
                new: (kn, vn),
            } => {
                records(old, ko, vo, a);
                records(new, kn, vn, b);
            }
        }
    }
}

/// The difference by a sorted merge of every record of both versions.
pub fn full_diff(old: &SignedZone, new: &SignedZone) -> Diff {
    let (old_soa, a) = sorted_without_soa(old);
    let (new_soa, b) = sorted_without_soa(new);
    merge(old_soa, &a, new_soa, &b)
}

/// `a` and `b` sorted canonically, without duplicates.
fn merge(old_soa: Record, a: &[Record], new_soa: Record, b: &[Record]) -> Diff {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match canonical(&a[i], &b[j]) {
            Ordering::Less => {
                removed.push(a[i].clone());
                i += 1;
            }
            Ordering::Greater => {
                added.push(b[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    removed.extend_from_slice(&a[i..]);
    added.extend_from_slice(&b[j..]);
    Diff {
        old_soa,
        new_soa,
        removed,
        added,
    }
}

/// Why a received diff does not apply to the version we hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A deletion matches no record; holds the record in presentation form.
    #[error("IXFR deletes {0}, which this version does not hold (RFC 1995 §4)")]
    Missing(String),
}

/// Apply deletions then additions to a sorted, duplicate-free record list
/// (as [`sorted_records`] makes it). Deletions match owner, type and
/// RDATA whatever the TTL; an added record replaces an equal one.
pub fn apply(
    mut recs: Vec<Record>,
    removed: &[Record],
    added: &[Record],
) -> Result<Vec<Record>, ApplyError> {
    let key = |a: &Record, b: &Record| {
        a.owner
            .cmp(&b.owner)
            .then(a.rtype.cmp(&b.rtype))
            .then_with(|| a.rdata.cmp(&b.rdata))
    };
    let mut gone = vec![false; recs.len()];
    for d in removed {
        match recs.binary_search_by(|r| key(r, d)) {
            Ok(k) => gone[k] = true,
            Err(_) => return Err(ApplyError::Missing(d.to_text(' '))),
        }
    }
    let mut k = 0;
    recs.retain(|_| {
        k += 1;
        !gone[k - 1]
    });
    let mut add: Vec<Record> = added.to_vec();
    add.sort_unstable_by(key);
    add.dedup_by(|a, b| key(a, b) == Ordering::Equal);
    // Merge, the added record winning on equal keys (a TTL change).
    let mut out = Vec::with_capacity(recs.len() + add.len());
    let (mut i, mut j) = (0, 0);
    while i < recs.len() && j < add.len() {
        match key(&recs[i], &add[j]) {
            Ordering::Less => {
                out.push(recs[i].clone());
                i += 1;
            }
            Ordering::Greater => {
                out.push(add[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                out.push(add[j].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&recs[i..]);
    out.extend_from_slice(&add[j..]);
    Ok(out)
}

/// A version's records sorted for [`apply`], SOA included.
pub fn sorted_records(z: &SignedZone) -> Vec<Record> {
    let mut recs = z.records();
    recs.sort_unstable_by(canonical);
    recs.dedup();
    recs
}

/// Why a step does not apply to the model ([`patch`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The step starts from another serial than the version's.
    #[error("the step starts at serial {step}, the version is at {version}")]
    Serial {
        /// The serial the step starts from.
        step: u32,
        /// The version's serial.
        version: u32,
    },
    /// A deletion matches no record of the version.
    #[error("{0}")]
    Apply(#[from] ApplyError),
    /// What the step leaves at its owners is not a zone of the model.
    #[error("{0}")]
    Records(#[from] crate::records::RecordsError),
    /// A record of the step has another TTL than the version's records of
    /// its kind, or the step signs an unsigned version (or the reverse):
    /// not a step [`diff`] makes between versions of one configuration.
    #[error("{owner} {rtype}: the step changes what the model keeps once per zone")]
    Shape {
        /// The record's owner.
        owner: Name,
        /// Its type code.
        rtype: u16,
    },
}

/// The TTL the model gives a record of type `t` (the covered type for an
/// RRSIG) at `owner`; `None` for a type it keeps no TTL for.
fn model_ttl(z: &SignedZone, r: &Record) -> Option<u32> {
    let t = if r.rtype == rtype::RRSIG {
        RrsigFields::parse(&r.rdata).ok()?.type_covered
    } else {
        r.rtype
    };
    let ttl = &z.zone.ttl;
    Some(match t {
        rtype::SOA => ttl.soa,
        rtype::NS => ttl.ns,
        rtype::DS => ttl.ds,
        rtype::A | rtype::AAAA => ttl.glue,
        rtype::DNSKEY | rtype::CDS | rtype::CDNSKEY => ttl.dnskey,
        rtype::NSEC3 | rtype::NSEC3PARAM => ttl.nsec3,
        _ => return None,
    })
}

/// `base` with the step `d` applied: the version the step ends at, built
/// by editing only the owners the step names (the rest of the maps is
/// shared with `base`), so replaying a journal of small steps costs the
/// steps, not the zone. Inverse of [`diff`]: `patch(a, &diff(a, b))` is
/// `b` (NS sets equal, not necessarily shared).
pub fn patch(base: &SignedZone, d: &Diff) -> Result<SignedZone, PatchError> {
    if base.serial() != d.from() {
        return Err(PatchError::Serial {
            step: d.from(),
            version: base.serial(),
        });
    }
    for r in d.added.iter().chain([&d.new_soa]) {
        if model_ttl(base, r).is_some_and(|t| t != r.ttl) {
            return Err(PatchError::Shape {
                owner: r.owner.clone(),
                rtype: r.rtype,
            });
        }
    }
    let origin = &base.zone.origin;
    let owners: BTreeSet<&Name> = d
        .removed
        .iter()
        .chain(&d.added)
        .map(|r| &r.owner)
        .filter(|o| *o != origin)
        .collect();
    // What the version holds at those owners, and the apex (always: the
    // NSEC3PARAM the chain's records need, and the SOA is replaced).
    let mut recs = Vec::new();
    base.zone.apex_ns_records(&mut recs);
    base.apex_dnssec_records(&mut recs);
    let hashed = |o: &Name| nsec3_owner_hash(o, origin);
    for o in &owners {
        if let Some(del) = base.zone.content.delegations.get(*o) {
            base.zone.delegation_records(o, del, &mut recs);
        }
        if let Some(g) = base.zone.content.glue.get(*o) {
            base.zone.glue_records(o, g, &mut recs);
        }
        if let Some(sec) = &base.dnssec {
            if let Some(s) = sec.ds_sigs.get(*o) {
                base.ds_sig_records(o, s, &mut recs);
            }
            if let Some(n3) = hashed(o).and_then(|h| sec.nsec3.get(&h).map(|n| (h, n))) {
                base.nsec3_records(&n3.0, n3.1, &mut recs);
            }
        }
    }
    recs.sort_unstable_by(canonical);
    recs.dedup();
    let mut recs = apply(recs, &d.removed, &d.added)?;
    recs.push(d.new_soa.clone());
    let part = SignedZone::from_records(origin, &recs)?;
    if part.dnssec.is_some() != base.dnssec.is_some() {
        return Err(PatchError::Shape {
            owner: origin.clone(),
            rtype: rtype::NSEC3PARAM,
        });
    }

    let mut out = base.clone();
    out.zone.soa = part.zone.soa.clone();
    out.zone.apex_ns = part.zone.apex_ns.clone();
    let content = &mut out.zone.content;
    for o in &owners {
        match part.zone.content.delegations.get(*o) {
            Some(del) => content.delegations.insert((*o).clone(), del.clone()),
            None => content.delegations.remove(*o),
        };
        match part.zone.content.glue.get(*o) {
            Some(g) => content.glue.insert((*o).clone(), g.clone()),
            None => content.glue.remove(*o),
        };
    }
    if let (Some(sec), Some(new)) = (&mut out.dnssec, &part.dnssec) {
        sec.dnskeys = same_order(&sec.dnskeys, &new.dnskeys);
        sec.cds = same_order(&sec.cds, &new.cds);
        sec.cdnskey = same_order(&sec.cdnskey, &new.cdnskey);
        let old_apex = std::mem::take(&mut sec.apex_sigs);
        for (t, sigs) in &new.apex_sigs {
            let kept = old_apex
                .get(t)
                .map_or_else(|| sigs.clone(), |o| same_order(o, sigs));
            sec.apex_sigs.insert(*t, kept);
        }
        // The part's opt-out flag is read from the NSEC3 records it holds;
        // the chain's is the version's unless the parameters changed.
        let p = &new.nsec3param;
        if (p.iterations, &p.salt) != (sec.nsec3param.iterations, &sec.nsec3param.salt) {
            sec.nsec3param = p.clone();
        }
        for o in &owners {
            match new.ds_sigs.get(*o) {
                Some(s) => {
                    let kept = sec
                        .ds_sigs
                        .get(*o)
                        .map_or_else(|| s.clone(), |old| same_order(old, s));
                    sec.ds_sigs.insert((*o).clone(), kept)
                }
                None => sec.ds_sigs.remove(*o),
            };
            if let Some(h) = hashed(o) {
                match new.nsec3.get(&h) {
                    Some(n) => {
                        let kept = match sec.nsec3.get(&h) {
                            Some(old) if same_nsec3(old, n) => old.clone(),
                            _ => n.clone(),
                        };
                        sec.nsec3.insert(h, kept)
                    }
                    None => sec.nsec3.remove(&h),
                };
            }
        }
    }
    Ok(out)
}

/// `new` in `old`'s order: the RDATA `old` holds that are still there,
/// as they were, then the ones the step added. Records carry no order
/// within an RRset; this keeps the version's own where the step left it.
fn same_order(old: &[Vec<u8>], new: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = old.iter().filter(|o| new.contains(o)).cloned().collect();
    out.extend(new.iter().filter(|n| !old.contains(n)).cloned());
    out
}

/// Whether two NSEC3 records are the same but for the order of their
/// signatures.
fn same_nsec3(a: &crate::Nsec3, b: &crate::Nsec3) -> bool {
    fn sigs(n: &crate::Nsec3) -> Vec<&[u8]> {
        let mut v: Vec<&[u8]> = n.sigs().collect();
        v.sort();
        v
    }
    (a.next(), a.flags(), a.types()) == (b.next(), b.flags(), b.types()) && sigs(a) == sigs(b)
}
