//! The difference between two versions of the zone, as IXFR carries it
//! (RFC 1995 §4): the zone model's [`tldns_zone::diff`], which the durable
//! journal of published versions uses too.

pub use tldns_zone::diff::*;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::name::Name;
    use crate::rr::Soa;
    use crate::rr::rtype;
    use crate::zone::SignedZone;
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
