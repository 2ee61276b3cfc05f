//! The zone model ([`tldns_zone`], re-exported here), how a version's apex
//! is assembled from the configuration, and the verifier's options from
//! the configuration's policy.
//!
//! The model itself lives in its own crate on the base layer, so the
//! verifier can read it without any path to the signer; what needs the
//! configuration (the apex: SOA, name servers, TTLs) is assembled here.

pub use tldns_zone::*;

use crate::config::{Config, PolicyConfig};
use crate::name::Name;
use crate::rr::Soa;
use crate::verify::VerifyOptions;

/// What the verifier is told of a version from the zone's policy, once for
/// the pipeline and the secondary alike: `now` (unix seconds, as the
/// signatures count it), the delegation count of the version before (for
/// the plausibility limit), and whether the version must be signed.
pub fn verify_options(
    policy: &PolicyConfig,
    now: u32,
    previous_delegations: Option<usize>,
    require_signed: bool,
) -> VerifyOptions {
    VerifyOptions {
        now,
        previous_delegations,
        max_delegation_change: policy.max_delegation_change,
        allowed_extra_types: policy
            .allowed_extra_types
            .iter()
            .filter_map(|t| crate::rr::type_from_str(t))
            .collect(),
        require_signed,
        trust_anchors: None,
        min_signature_life: 0,
        unpublished_keys: Vec::new(),
        skip_unknown_algorithms: false,
    }
}

/// The zone from configuration (apex) and policy output (content).
pub fn assemble(cfg: &Config, mut content: Content, serial: u32) -> Zone {
    let z = &cfg.zone;
    for (name, addrs) in &cfg.apex_ns {
        if name.is_subdomain_of(&cfg.origin) {
            let g = content.glue.entry(name.clone()).or_default();
            for a in addrs {
                g.push(*a);
            }
        }
    }
    let mut apex_ns: Vec<Name> = cfg.apex_ns.iter().map(|(n, _)| n.clone()).collect();
    apex_ns.sort();
    apex_ns.dedup();
    let soa_ttl = z.ttl.soa;
    Zone {
        origin: cfg.origin.clone(),
        soa: Soa {
            mname: cfg.soa_mname.clone(),
            rname: cfg.soa_rname.clone(),
            serial,
            refresh: z.soa.refresh,
            retry: z.soa.retry,
            expire: z.soa.expire,
            minimum: z.soa.minimum,
        },
        apex_ns,
        ttl: Ttls {
            soa: soa_ttl,
            ns: z.ttl.ns,
            ds: z.ttl.ds,
            glue: z.ttl.glue,
            dnskey: z.ttl.dnskey,
            nsec3: z.dnssec.nsec3_ttl.unwrap_or(soa_ttl.min(z.soa.minimum)),
        },
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::{Ds, Record, rtype};
    use std::sync::Arc;
    use tldns_zone::records::RecordsError;

    fn multiset(mut v: Vec<Record>) -> Vec<String> {
        v.sort_by(crate::xfr::diff::canonical);
        v.into_iter().map(|r| r.to_text(' ')).collect()
    }

    fn round_trip(z: &SignedZone) {
        let recs = z.records();
        let back = SignedZone::from_records(&z.zone.origin, &recs).unwrap();
        assert_eq!(multiset(back.records()), multiset(recs));
    }

    /// A zone built and signed by the real pipeline pieces, with DS, glue
    /// and shared NS sets, survives records() → from_records → records().
    #[test]
    fn signed_zone_round_trips_through_records() {
        let dir = std::env::temp_dir().join(format!("tldns-records-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            r#"
version = 1
origin = "mobile."
state-dir = {dir:?}
[soa]
mname = "a.nic.mobile."
rname = "hostmaster.nic.mobile."
refresh = 1800
retry = 900
expire = 1209600
minimum = 900
[[apex-ns]]
name = "a.nic.mobile."
addresses = ["127.0.0.1", "::1"]
[dnssec]
keys-dir = {keys:?}
"#,
            dir = dir.display().to_string(),
            keys = dir.join("keys").display().to_string()
        );
        let cfg = crate::config::Config::parse(&dir.join("z.toml"), &text).unwrap();
        let n = |s: &str| Name::parse(s).unwrap();
        let mut content = Content::default();
        let shared: Arc<[Name]> = vec![n("ns1.example.net."), n("ns2.example.net.")].into();
        for i in 0..40 {
            content.delegations.insert(
                n(&format!("d{i}.mobile.")),
                Delegation {
                    ns: shared.clone(),
                    ds: if i % 3 == 0 {
                        vec![Ds {
                            key_tag: i,
                            algorithm: 13,
                            digest_type: 2,
                            digest: vec![i as u8; 32],
                        }]
                    } else {
                        vec![]
                    },
                },
            );
        }
        content.delegations.insert(
            n("nic.mobile."),
            Delegation {
                ns: vec![n("a.nic.mobile.")].into(),
                ds: vec![],
            },
        );
        let zone = assemble(&cfg, content, 2024);
        round_trip(&SignedZone {
            zone: zone.clone(),
            dnssec: None,
        });
        let keys = crate::dnssec::keys::KeyDir::generate(
            &cfg.resolve(&cfg.zone.dnssec.keys_dir),
            &cfg.origin,
            &cfg.zone.dnssec,
            tldns_base::time::unix_now(),
        )
        .unwrap();
        let params =
            crate::dnssec::signer::SignParams::from_config(&cfg.zone.dnssec, &cfg.nsec3_salt);
        let signed = crate::dnssec::signer::sign_zone(
            &zone,
            &keys,
            &params,
            tldns_base::time::unix_now() as u32,
        )
        .expect("signing");
        assert!(signed.dnssec.is_some());
        round_trip(&signed);
        // The model itself comes back, not just the records.
        let back = SignedZone::from_records(&signed.zone.origin, &signed.records()).unwrap();
        assert_eq!(back.zone.content, signed.zone.content);
        // More RRSIGs over one NSEC3 than the packed model counts (a
        // primary's transfer may hold anything) are refused, not a panic.
        let mut recs = signed.records();
        let over_nsec3 = recs
            .iter()
            .find(|r| {
                r.rtype == rtype::RRSIG
                    && crate::rr::RrsigFields::parse(&r.rdata)
                        .is_ok_and(|f| f.type_covered == rtype::NSEC3)
            })
            .unwrap()
            .clone();
        for i in 0..256u16 {
            let mut s = over_nsec3.clone();
            let l = s.rdata.len();
            s.rdata[l - 2..].copy_from_slice(&i.to_be_bytes());
            recs.push(s);
        }
        let e = SignedZone::from_records(&signed.zone.origin, &recs).unwrap_err();
        assert!(
            matches!(e, RecordsError::TooManySigs { count, .. } if count > 255),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn exhibit_a_section_1_refuses_other_types() {
        let o = Name::parse("mobile.").unwrap();
        let z = crate::xfr::diff::tests::zone(1, &["a.mobile."]);
        let mut recs = z.records();
        recs.push(Record::new(o.clone(), 300, rtype::A, vec![192, 0, 2, 1]));
        let e = SignedZone::from_records(&o, &recs).unwrap_err();
        assert!(matches!(e, RecordsError::NotAllowed { .. }), "{e}");
        let recs: Vec<Record> = z
            .records()
            .into_iter()
            .filter(|r| r.rtype != rtype::SOA)
            .collect();
        assert_eq!(
            SignedZone::from_records(&o, &recs).unwrap_err(),
            RecordsError::NoSoa(o)
        );
    }
}
