//! The difference between two versions of the zone, as IXFR carries it
//! (RFC 1995 §4): the old SOA, the records deleted, the new SOA, the records
//! added. Computed by a sorted merge of the two versions' records, so it
//! needs nothing from the signer or the SRS: any two `SignedZone` values
//! will do, however they were made.

use crate::rr::{Record, rtype};
use crate::zone::SignedZone;
use std::cmp::Ordering;

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
        super::msg::soa_serial(&self.old_soa.rdata).unwrap_or(0)
    }
    /// Serial of the version it ends at (0 if the SOA is unreadable).
    pub fn to(&self) -> u32 {
        super::msg::soa_serial(&self.new_soa.rdata).unwrap_or(0)
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
    // records() puts the SOA first (zone/mod.rs); search anyway.
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
/// the unchanged parts of their maps ([`crate::zone::Map`]), so only the
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
    om: &crate::zone::Map<K, V>,
    nm: &crate::zone::Map<K, V>,
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::name::Name;
    use crate::rr::Soa;
    use crate::zone::{Content, Delegation, Ttls, Zone};
    use std::sync::Arc;

    pub(crate) fn zone(serial: u32, names: &[&str]) -> SignedZone {
        let n = |s: &str| Name::parse(s).unwrap();
        let ns: Arc<[Name]> = vec![n("ns1.example.net."), n("ns2.example.net.")].into();
        let mut content = Content::default();
        for d in names {
            content.delegations.insert(
                n(d),
                Delegation {
                    ns: ns.clone(),
                    ds: vec![],
                },
            );
        }
        SignedZone {
            zone: Zone {
                origin: n("mobile."),
                soa: Soa {
                    mname: n("a.nic.mobile."),
                    rname: n("hostmaster.nic.mobile."),
                    serial,
                    refresh: 1800,
                    retry: 900,
                    expire: 1_209_600,
                    minimum: 900,
                },
                apex_ns: vec![n("ns1.example.net.")],
                ttl: Ttls {
                    soa: 3600,
                    ns: 172_800,
                    ds: 86_400,
                    glue: 172_800,
                    dnskey: 3600,
                    nsec3: 900,
                },
                content,
            },
            dnssec: None,
        }
    }

    #[test]
    fn rfc1995_section_4_diff_then_apply_gives_new_version() {
        let a = zone(1, &["a.mobile.", "b.mobile.", "c.mobile."]);
        let b = zone(2, &["a.mobile.", "c.mobile.", "d.mobile."]);
        let d = diff(&a, &b);
        assert_eq!((d.from(), d.to()), (1, 2));
        assert_eq!(d.removed.len(), 2);
        assert!(d.removed.iter().all(|r| r.owner.to_string() == "b.mobile."));
        assert_eq!(d.added.len(), 2);
        assert!(d.added.iter().all(|r| r.owner.to_string() == "d.mobile."));
        let mut base = sorted_records(&a);
        base.retain(|r| r.rtype != rtype::SOA);
        let mut got = apply(base, &d.removed, &d.added).unwrap();
        got.push(d.new_soa.clone());
        got.sort_by(canonical);
        assert_eq!(got, sorted_records(&b));
        // Deleting what is not there is an error, not a silent no-op.
        assert!(apply(sorted_records(&b), &d.removed, &[]).is_err());
    }

    #[test]
    fn identical_versions_differ_only_in_soa() {
        let d = diff(&zone(1, &["a.mobile."]), &zone(2, &["a.mobile."]));
        assert!(d.is_empty());
        assert_eq!(d.len(), 2);
    }
}
