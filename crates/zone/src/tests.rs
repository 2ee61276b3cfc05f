//! The codec and the step applier against versions made by hand: a
//! version round-trips through its octets, damage is an error, and
//! `patch(a, diff(a, b)) == b` for the kinds of change a TLD sees.

use super::codec::{decode_diff, decode_zone, encode_diff, encode_zone};
use super::diff::{PatchError, diff, patch};
use super::*;
use tldns_base::nsec3::nsec3_hash;

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// RRSIG RDATA over `covered` with readable fixed fields (RFC 4034 §3.1)
/// and `mark` as its signature octets.
fn sig(covered: u16, mark: u8) -> Vec<u8> {
    let mut v = covered.to_be_bytes().to_vec();
    v.extend_from_slice(&[13, 2]);
    v.extend_from_slice(&3600u32.to_be_bytes());
    v.extend_from_slice(&2_000_000_000u32.to_be_bytes());
    v.extend_from_slice(&1_900_000_000u32.to_be_bytes());
    v.extend_from_slice(&4242u16.to_be_bytes());
    v.extend_from_slice(n("mobile.").wire());
    v.extend_from_slice(&[mark; 64]);
    v
}

/// A signed version: `names` delegated (every third with a DS), one
/// in-zone host with glue, an NSEC3 record per name with a signature
/// marked `mark`.
fn signed(serial: u32, names: &[&str], mark: u8) -> SignedZone {
    let shared: Arc<[Name]> = vec![n("ns1.example.net."), n("ns2.example.net.")].into();
    let own: Arc<[Name]> = vec![n("ns.a.mobile.")].into();
    let mut content = Content::default();
    let mut ds_sigs = Map::new();
    let mut nsec3 = Map::new();
    for (i, d) in names.iter().enumerate() {
        let ds = if i % 3 == 0 {
            vec![Ds {
                key_tag: i as u16,
                algorithm: 13,
                digest_type: 2,
                digest: vec![i as u8; 32],
            }]
        } else {
            vec![]
        };
        if !ds.is_empty() {
            ds_sigs.insert(n(d), vec![sig(rtype::DS, mark)]);
        }
        let ns = if *d == "a.mobile." {
            own.clone()
        } else {
            shared.clone()
        };
        content.delegations.insert(n(d), Delegation { ns, ds });
        let h = nsec3_hash(&n(d), b"", 0);
        nsec3.insert(
            h,
            Nsec3::new([i as u8; 20], 1, &[0, 1, 0x20], &[sig(rtype::NSEC3, mark)]),
        );
    }
    content.glue.insert(
        n("ns.a.mobile."),
        Glue {
            a: vec![Ipv4Addr::new(192, 0, 2, 1)],
            aaaa: vec!["2001:db8::1".parse().unwrap()],
        },
    );
    let mut apex_sigs = BTreeMap::new();
    for t in [rtype::SOA, rtype::NS, rtype::DNSKEY, rtype::NSEC3PARAM] {
        apex_sigs.insert(t, vec![sig(t, mark.wrapping_add(serial as u8))]);
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
            apex_ns: vec![n("a.nic.example."), n("b.nic.example.")],
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
        dnssec: Some(Dnssec {
            dnskeys: vec![vec![1, 1, 3, 13, 7, 7, 7], vec![1, 0, 3, 13, 8, 8, 8]],
            cds: Vec::new(),
            cdnskey: Vec::new(),
            nsec3param: Nsec3Param {
                iterations: 0,
                salt: vec![],
                opt_out: true,
            },
            apex_sigs,
            ds_sigs,
            nsec3,
        }),
    }
}

#[test]
fn a_version_round_trips_through_its_octets() {
    let z = signed(7, &["a.mobile.", "b.mobile.", "c.mobile.", "d.mobile."], 9);
    let b = encode_zone(&z);
    let back = decode_zone(&b).unwrap();
    assert_eq!(back, z);
    // Shared NS sets are shared again after reading.
    let d = &back.zone.content.delegations;
    assert!(Arc::ptr_eq(&d[&n("b.mobile.")].ns, &d[&n("c.mobile.")].ns));
    assert_eq!(encode_zone(&back), b, "one version, one encoding");
    let mut unsigned = z.clone();
    unsigned.dnssec = None;
    assert_eq!(decode_zone(&encode_zone(&unsigned)).unwrap(), unsigned);
    // With CDS and CDNSKEY (written only then, so older files still read).
    let mut cds = z.clone();
    let sec = cds.dnssec.as_mut().unwrap();
    sec.cds = vec![vec![0x12, 0x34, 13, 2, 9, 9]];
    sec.cdnskey = vec![sec.dnskeys[0].clone()];
    let b2 = encode_zone(&cds);
    assert_ne!(b2.len(), b.len());
    assert_eq!(decode_zone(&b2).unwrap(), cds);
}

#[test]
fn damaged_octets_are_an_error_never_a_panic() {
    let b = encode_zone(&signed(7, &["a.mobile.", "b.mobile.", "c.mobile."], 9));
    for cut in [0, 1, 5, b.len() / 3, b.len() / 2, b.len() - 1] {
        assert!(decode_zone(&b[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = b.clone();
    longer.push(0);
    assert!(decode_zone(&longer).is_err());
    // Flipping any one octet either fails or gives some other valid model;
    // it never panics.
    for i in 0..b.len() {
        let mut x = b.clone();
        x[i] ^= 0xff;
        let _ = decode_zone(&x);
    }
    let d = encode_diff(&diff(
        &signed(1, &["a.mobile."], 1),
        &signed(2, &["b.mobile."], 1),
    ));
    assert!(decode_diff(&d[..d.len() - 1]).is_err());
    for i in 0..d.len() {
        let mut x = d.clone();
        x[i] ^= 0xff;
        let _ = decode_diff(&x);
    }
}

#[test]
fn patch_of_a_diff_gives_the_new_version() {
    let a = signed(1, &["a.mobile.", "b.mobile.", "c.mobile.", "d.mobile."], 1);
    let cases = [
        // A delegation removed, one added, signatures of one owner renewed.
        {
            let mut b = signed(2, &["a.mobile.", "c.mobile.", "d.mobile.", "e.mobile."], 1);
            let h = nsec3_hash(&n("c.mobile."), b"", 0);
            let sec = b.dnssec.as_mut().unwrap();
            let renewed = sec.nsec3[&h].with_sigs(&[sig(rtype::NSEC3, 77)]);
            sec.nsec3.insert(h, renewed);
            b
        },
        // Glue changed, a DS added, apex NS and DNSKEY changed.
        {
            let mut b = a.clone();
            b.zone.soa.serial = 2;
            b.zone.content.glue.insert(
                n("ns.a.mobile."),
                Glue {
                    a: vec![Ipv4Addr::new(192, 0, 2, 9)],
                    aaaa: vec![],
                },
            );
            let b_name = n("b.mobile.");
            let mut d = b.zone.content.delegations[&b_name].clone();
            d.ds.push(Ds {
                key_tag: 1,
                algorithm: 8,
                digest_type: 2,
                digest: vec![5; 32],
            });
            b.zone.content.delegations.insert(b_name.clone(), d);
            let sec = b.dnssec.as_mut().unwrap();
            sec.ds_sigs.insert(b_name, vec![sig(rtype::DS, 3)]);
            sec.dnskeys.push(vec![1, 0, 3, 13, 9, 9, 9]);
            b.zone.apex_ns.push(n("c.nic.example."));
            b
        },
        // Only the SOA (and its signature) moved.
        signed(2, &["a.mobile.", "b.mobile.", "c.mobile.", "d.mobile."], 1),
        // Everything removed but one delegation.
        signed(2, &["a.mobile."], 1),
    ];
    for b in cases {
        let d = diff(&a, &b);
        let got = patch(&a, &d).unwrap();
        assert_eq!(got, b);
        // And through the journal's octets.
        assert_eq!(
            patch(&a, &decode_diff(&encode_diff(&d)).unwrap()).unwrap(),
            b
        );
    }
}

#[test]
fn patch_refuses_a_step_that_does_not_fit() {
    let a = signed(1, &["a.mobile.", "b.mobile."], 1);
    let b = signed(2, &["a.mobile."], 1);
    let d = diff(&a, &b);
    // From another serial.
    assert!(matches!(
        patch(&b, &d),
        Err(PatchError::Serial {
            step: 1,
            version: 2
        })
    ));
    // Deleting what is not there.
    let mut other = a.clone();
    other.zone.content.delegations.remove(&n("b.mobile."));
    assert!(matches!(patch(&other, &d), Err(PatchError::Apply(_))));
    // A TTL change is not a step between versions of one configuration.
    let mut c = b.clone();
    c.zone.ttl.ns = 3600;
    let d = super::diff::full_diff(&a, &c);
    assert!(matches!(patch(&a, &d), Err(PatchError::Shape { .. })));
}
