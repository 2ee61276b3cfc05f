//! Signer tests: structure, signatures checked with ring, the incremental
//! paths against a full sign, and the signed zone checked by ldns and BIND.

use super::*;
use crate::dnssec::keys::{KSK, KeyDir, ZSK};
use crate::dnssec::rrsig::verify_rrsig;
use crate::dnssec::tool_available;
use crate::rr::{Ds, Soa, base32hex_lower, bitmap_to_text};
use crate::zone::{Content, Delegation, Glue, Ttls};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const NOW: u32 = 1_700_000_000;

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// A tiny deterministic generator, so random tests repeat.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn ds_for(seed: u64) -> Vec<Ds> {
    let mut r = Rng(seed | 1);
    let digest: Vec<u8> = (0..32).map(|_| r.next() as u8).collect();
    vec![Ds {
        key_tag: (seed % 65_536) as u16,
        algorithm: 13,
        digest_type: 2,
        digest,
    }]
}

fn base_zone() -> Zone {
    let origin = n("mobile.");
    let mut content = Content::default();
    let nic_ns: Arc<[Name]> = vec![n("a.nic.mobile."), n("b.nic.mobile.")].into();
    content.delegations.insert(
        n("nic.mobile."),
        Delegation {
            ns: nic_ns,
            ds: ds_for(7),
        },
    );
    let mut g = Glue::default();
    g.push("192.0.2.1".parse().unwrap());
    g.push("2001:db8::1".parse().unwrap());
    content.glue.insert(n("a.nic.mobile."), g);
    let mut g = Glue::default();
    g.push("192.0.2.2".parse().unwrap());
    content.glue.insert(n("b.nic.mobile."), g);
    Zone {
        soa: Soa {
            mname: n("a.nic.mobile."),
            rname: n("hostmaster.nic.mobile."),
            serial: 1,
            refresh: 7200,
            retry: 3600,
            expire: 1_209_600,
            minimum: 3600,
        },
        apex_ns: vec![n("a.nic.mobile."), n("b.nic.mobile.")],
        ttl: Ttls {
            soa: 3600,
            ns: 172_800,
            ds: 86_400,
            glue: 172_800,
            dnskey: 3600,
            nsec3: 3600,
        },
        content,
        origin,
    }
}

/// The hand-made zone of the brief: apex NS in nic (with glue), a few
/// delegations with and without DS, in-zone glue, and one deeper
/// delegation that makes an empty non-terminal.
fn small_zone() -> Zone {
    let mut z = base_zone();
    let ext: Arc<[Name]> = vec![n("ns1.example.net."), n("ns2.example.net.")].into();
    for (i, name) in [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "xn--bcher-kva",
    ]
    .iter()
    .enumerate()
    {
        let ds = if i % 2 == 0 {
            ds_for(i as u64 + 100)
        } else {
            Vec::new()
        };
        z.content.delegations.insert(
            n(&format!("{name}.mobile.")),
            Delegation {
                ns: ext.clone(),
                ds,
            },
        );
    }
    let own: Arc<[Name]> = vec![n("ns1.foxtrot.mobile."), n("ns2.foxtrot.mobile.")].into();
    z.content.delegations.insert(
        n("foxtrot.mobile."),
        Delegation {
            ns: own,
            ds: ds_for(9),
        },
    );
    for (h, ip) in [
        ("ns1.foxtrot.mobile.", "192.0.2.10"),
        ("ns2.foxtrot.mobile.", "2001:db8::10"),
    ] {
        let mut g = Glue::default();
        g.push(ip.parse().unwrap());
        z.content.glue.insert(n(h), g);
    }
    z.content.delegations.insert(
        n("sub.golf.mobile."),
        Delegation {
            ns: ext.clone(),
            ds: ds_for(11),
        },
    );
    z
}

fn keys(alg: u8, csk: bool) -> Vec<SigningKey> {
    let o = n("mobile.");
    let mut k = vec![SigningKey::generate(&o, KSK, alg, 2048, 0).unwrap()];
    if !csk {
        k.push(SigningKey::generate(&o, ZSK, alg, 2048, 0).unwrap());
    }
    k
}

fn params(opt_out: bool) -> SignParams {
    SignParams {
        opt_out,
        threads: 2,
        ..SignParams::default()
    }
}

/// TTL and RDATAs.
type RrSet = (u32, Vec<Vec<u8>>);

/// Every RRSIG checks with ring against the DNSKEY RRset, and the chain is
/// closed and ordered. Returns the number of signatures checked.
fn check_signatures(sz: &SignedZone) -> usize {
    let sec = sz.dnssec.as_ref().unwrap();
    let recs = sz.records();
    let mut sets: BTreeMap<(Name, u16), RrSet> = BTreeMap::new();
    let mut sigs = Vec::new();
    for r in &recs {
        if r.rtype == rtype::RRSIG {
            sigs.push(r.clone());
        } else {
            let e = sets
                .entry((r.owner.clone(), r.rtype))
                .or_insert((r.ttl, Vec::new()));
            e.1.push(r.rdata.clone());
        }
    }
    for s in &sigs {
        let f = RrsigFields::parse(&s.rdata).unwrap();
        let (ttl, rds) = &sets[&(s.owner.clone(), f.type_covered)];
        assert_eq!(*ttl, s.ttl);
        let refs: Vec<&[u8]> = rds.iter().map(|r| r.as_slice()).collect();
        assert!(
            sec.dnskeys
                .iter()
                .any(|k| verify_rrsig(k, &s.owner, *ttl, &refs, &s.rdata)),
            "bad RRSIG {}",
            s.to_text(' ')
        );
        assert!(
            f.type_covered != rtype::NS || s.owner == sz.zone.origin,
            "signed delegation NS"
        );
        assert!(
            f.type_covered != rtype::A && f.type_covered != rtype::AAAA,
            "signed glue"
        );
    }
    let hashes: Vec<&[u8; 20]> = sec.nsec3.keys().collect();
    for (i, (_, n3)) in sec.nsec3.iter().enumerate() {
        assert_eq!(n3.next(), hashes[(i + 1) % hashes.len()]);
    }
    sigs.len()
}

fn hash_of(name: &str, p: &SignParams) -> [u8; 20] {
    nsec3_hash(&n(name), &p.nsec3_salt, p.nsec3_iterations)
}

#[test]
fn rfc5155_section_7_1_chain_contents() {
    let z = small_zone();
    for opt_out in [false, true] {
        let p = params(opt_out);
        let sz = sign_zone(&z, &keys(15, false), &p, NOW).unwrap();
        let sec = sz.dnssec.as_ref().unwrap();
        let types = |name: &str| {
            sec.nsec3
                .get(&hash_of(name, &p))
                .map(|r| bitmap_to_text(r.types()).unwrap())
        };
        assert_eq!(types("mobile.").unwrap(), "NS SOA RRSIG DNSKEY NSEC3PARAM");
        assert_eq!(types("alpha.mobile.").unwrap(), "NS DS RRSIG");
        assert_eq!(
            types("bravo.mobile."),
            if opt_out {
                None
            } else {
                Some("NS".to_string())
            }
        );
        assert_eq!(types("golf.mobile.").unwrap(), "", "empty non-terminal");
        assert_eq!(types("sub.golf.mobile.").unwrap(), "NS DS RRSIG");
        assert_eq!(types("a.nic.mobile."), None, "glue is occluded");
        assert_eq!(types("ns1.foxtrot.mobile."), None, "glue is occluded");
        // apex, nic, alpha, charlie, echo, foxtrot, golf, sub.golf (+ bravo, delta, xn-- without opt-out)
        assert_eq!(sec.nsec3.len(), if opt_out { 8 } else { 11 });
        assert!(sec.nsec3.values().all(|r| r.flags() == u8::from(opt_out)));
        assert_eq!(sec.ds_sigs.len(), 6);
        assert_eq!(sec.apex_sigs.len(), 4);
        // KSK+ZSK: DNSKEY by the KSK only, the rest by the ZSK only.
        assert!(sec.apex_sigs.values().all(|s| s.len() == 1));
        assert!(check_signatures(&sz) > 10);
    }
}

#[test]
fn signature_times_and_jitter() {
    let z = small_zone();
    let p = SignParams {
        jitter_secs: 86_400,
        validity_secs: 14 * 86_400,
        ..params(false)
    };
    let sz = sign_zone(&z, &keys(13, true), &p, NOW).unwrap();
    let sec = sz.dnssec.unwrap();
    let mut exps = BTreeSet::new();
    for r in sec.nsec3.values() {
        let f = RrsigFields::parse(r.sigs().next().unwrap()).unwrap();
        assert_eq!(f.inception, NOW - p.inception_backdate_secs);
        // A first signing: spread over the refresh cycle.
        assert!(f.expiration >= NOW + p.refresh_secs + 3600);
        assert!(f.expiration <= NOW + p.validity_secs + p.jitter_secs);
        exps.insert(f.expiration);
    }
    assert!(exps.len() > 5, "expirations spread: {exps:?}");
    // Renewed (due) ones: validity ± jitter.
    let mut sec = sec;
    let later = NOW + 10 * 86_400;
    refresh(&mut sec, &z, &keys(13, true), &p, later).unwrap();
    for r in sec.nsec3.values() {
        let f = RrsigFields::parse(r.sigs().next().unwrap()).unwrap();
        if f.inception == later - p.inception_backdate_secs {
            assert!(f.expiration >= later + p.validity_secs - p.jitter_secs);
            assert!(f.expiration <= later + p.validity_secs + p.jitter_secs);
        }
    }
    // Same `now`, same times; Ed25519 also gives the same bytes.
    let k = keys(15, false);
    let a = sign_dnssec(&z, &k, &p, NOW).unwrap();
    let b = sign_dnssec(&z, &k, &p, NOW).unwrap();
    assert_eq!(a, b);
}

#[test]
fn refuses_what_a_tld_zone_cannot_hold() {
    let k = keys(13, true);
    let mut z = small_zone();
    z.content.glue.insert(n("host.mobile."), Glue::default());
    assert!(matches!(
        sign_zone(&z, &k, &params(false), NOW),
        Err(SignError::GlueNotOccluded { .. })
    ));
    let mut z = small_zone();
    let ns: Arc<[Name]> = vec![n("ns.example.")].into();
    z.content
        .delegations
        .insert(n("x.alpha.mobile."), Delegation { ns, ds: Vec::new() });
    assert!(matches!(
        sign_zone(&z, &k, &params(false), NOW),
        Err(SignError::NestedDelegation { .. })
    ));
    let zsk_only = vec![SigningKey::generate(&n("mobile."), ZSK, 13, 0, 0).unwrap()];
    assert!(matches!(
        sign_zone(&small_zone(), &zsk_only, &params(false), NOW),
        Err(SignError::NoActiveKsk { .. })
    ));
    let other = vec![SigningKey::generate(&n("other."), KSK, 13, 0, 0).unwrap()];
    assert!(matches!(
        sign_zone(&small_zone(), &other, &params(false), NOW),
        Err(SignError::KeyOwner { .. })
    ));
}

#[test]
fn key_states_choose_signers() {
    let z = small_zone();
    let mut k = keys(13, false);
    // A pre-published second ZSK: in the DNSKEY RRset, signs nothing.
    let mut next = SigningKey::generate(&n("mobile."), ZSK, 13, 0, 0).unwrap();
    next.timing.activate = Some(NOW as u64 + 86_400);
    k.push(next.clone());
    let sz = sign_zone(&z, &k, &params(true), NOW).unwrap();
    let sec = sz.dnssec.as_ref().unwrap();
    assert_eq!(sec.dnskeys.len(), 3);
    let tag = |s: &[u8]| RrsigFields::parse(s).unwrap().key_tag;
    assert!(
        sec.nsec3
            .values()
            .all(|r| r.sig_count() == 1 && tag(r.sigs().next().unwrap()) == k[1].key_tag)
    );
    assert_eq!(tag(&sec.apex_sigs[&rtype::DNSKEY][0]), k[0].key_tag);
    check_signatures(&sz);
    // A day later both ZSKs sign; refresh notices without a full sign.
    let mut sec = sec.clone();
    let st = refresh(&mut sec, &z, &k, &params(true), NOW + 86_400).unwrap();
    assert!(!st.dnskeys_changed);
    assert_eq!(st.rrsets_signed, 3 + sec.ds_sigs.len() + sec.nsec3.len());
    assert!(sec.nsec3.values().all(|r| r.sig_count() == 2));
}

/// Random adds, removals and DS changes applied with `update_delegations`
/// give what a full sign of the final zone gives. With Ed25519 the
/// signatures are deterministic, so the comparison is byte for byte.
#[test]
fn incremental_equals_full_sign() {
    for (alg, opt_out, seed) in [(15u8, true, 1u64), (15, false, 2), (13, true, 3)] {
        let k = keys(alg, alg == 13);
        let p = params(opt_out);
        let mut z = small_zone();
        let ext: Arc<[Name]> = vec![n("ns1.example.net.")].into();
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        for i in 0..300 {
            let ds = if rng.next().is_multiple_of(3) {
                ds_for(i)
            } else {
                Vec::new()
            };
            z.content.delegations.insert(
                n(&format!("d{i}.mobile.")),
                Delegation {
                    ns: ext.clone(),
                    ds,
                },
            );
        }
        let mut sec = sign_dnssec(&z, &k, &p, NOW).unwrap();
        for round in 0..20 {
            let mut changed = Vec::new();
            for _ in 0..(rng.next() % 12 + 1) {
                let name = n(&format!("d{}.mobile.", rng.next() % 400));
                match rng.next() % 4 {
                    0 => {
                        z.content.delegations.remove(&name);
                    }
                    1 => {
                        let ds = ds_for(rng.next());
                        z.content.delegations.insert(
                            name.clone(),
                            Delegation {
                                ns: ext.clone(),
                                ds,
                            },
                        );
                    }
                    2 => {
                        z.content.delegations.insert(
                            name.clone(),
                            Delegation {
                                ns: ext.clone(),
                                ds: Vec::new(),
                            },
                        );
                    }
                    _ => {
                        // A deeper delegation appears or goes: an empty non-terminal follows it.
                        let deep = n(&format!("x.e{}.mobile.", rng.next() % 5));
                        if z.content.delegations.remove(&deep).is_none() {
                            z.content.delegations.insert(
                                deep.clone(),
                                Delegation {
                                    ns: ext.clone(),
                                    ds: ds_for(round),
                                },
                            );
                        }
                        changed.push(deep);
                    }
                }
                changed.push(name);
            }
            z.soa.serial += 1;
            let now = NOW + round as u32 * 60;
            update_delegations(&mut sec, &z, &changed, &k, &p, now).unwrap();
            // What update touched was signed at `now`, the rest earlier: compare
            // against a full sign with everything but the signatures, and check
            // every signature.
            let full = sign_dnssec(&z, &k, &p, now).unwrap();
            assert_eq!(
                strip(&sec),
                strip(&full),
                "alg {alg} opt-out {opt_out} round {round}"
            );
            check_signatures(&SignedZone {
                zone: z.clone(),
                dnssec: Some(sec.clone()),
            });
        }
        // All at one instant: byte-identical for Ed25519.
        if alg == 15 {
            let mut z2 = z.clone();
            let base = sign_dnssec(&small_zone(), &k, &p, NOW).unwrap();
            let mut inc = base.clone();
            let mut changed: Vec<Name> = z2.content.delegations.keys().cloned().collect();
            changed.extend(small_zone().content.delegations.keys().cloned());
            z2.soa.serial += 1;
            update_delegations(&mut inc, &z2, &changed, &k, &p, NOW).unwrap();
            assert_eq!(inc, sign_dnssec(&z2, &k, &p, NOW).unwrap());
        }
    }
}

/// The DNSSEC data with signatures replaced by their covered type and signer tag.
fn strip(d: &Dnssec) -> Dnssec {
    let s = |v: &Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        v.iter()
            .map(|r| {
                let f = RrsigFields::parse(r).unwrap();
                [f.type_covered.to_be_bytes(), f.key_tag.to_be_bytes()].concat()
            })
            .collect()
    };
    Dnssec {
        dnskeys: d.dnskeys.clone(),
        cds: d.cds.clone(),
        cdnskey: d.cdnskey.clone(),
        nsec3param: d.nsec3param.clone(),
        apex_sigs: d.apex_sigs.iter().map(|(k, v)| (*k, s(v))).collect(),
        ds_sigs: d.ds_sigs.iter().map(|(k, v)| (k.clone(), s(v))).collect(),
        nsec3: d
            .nsec3
            .iter()
            .map(|(k, v)| (*k, v.with_sigs(&s(&v.sigs().map(<[u8]>::to_vec).collect()))))
            .collect(),
    }
}

#[test]
fn refresh_resigns_only_what_expires() {
    let z = small_zone();
    let k = keys(15, false);
    let p = SignParams {
        validity_secs: 14 * 86_400,
        jitter_secs: 86_400,
        refresh_secs: 7 * 86_400,
        ..params(false)
    };
    let mut sec = sign_dnssec(&z, &k, &p, NOW).unwrap();
    let before = sec.clone();
    // A first signing's expirations start an hour beyond the refresh
    // window: half an hour on, nothing is due.
    assert_eq!(
        refresh(&mut sec, &z, &k, &p, NOW + 1800)
            .unwrap()
            .rrsets_signed,
        0
    );
    assert_eq!(sec, before);
    // 6.5 days in, expirations spread from 7 days and an hour to 15 days:
    // some (not all) have less than 7 days left.
    let st = refresh(&mut sec, &z, &k, &p, NOW + 6 * 86_400 + 43_200).unwrap();
    let total = 4 + sec.ds_sigs.len() + sec.nsec3.len();
    assert!(
        st.rrsets_signed > 0 && st.rrsets_signed < total,
        "{st:?} of {total}"
    );
    // After refresh nothing is due.
    assert_eq!(
        refresh(&mut sec, &z, &k, &p, NOW + 6 * 86_400 + 43_200)
            .unwrap()
            .rrsets_signed,
        0
    );
    check_signatures(&SignedZone {
        zone: z,
        dnssec: Some(sec),
    });
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tldns-signer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_zone(path: &Path, recs: &[crate::rr::Record]) {
    let mut text = String::new();
    for r in recs {
        text.push_str(&r.to_text('\t'));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{all}");
    all
}

/// The brief's interop check: our signed zone passes ldns-verify-zone and
/// dnssec-verify, with and without opt-out, for each algorithm.
#[test]
fn signed_zone_passes_ldns_and_bind_verifiers() {
    let ldns = tool_available("ldns-verify-zone");
    let bind = tool_available("dnssec-verify");
    if !ldns && !bind {
        return;
    }
    let dir = scratch("verify");
    let now = tldns_base::time::unix_now() as u32;
    let mut algs = vec![(13u8, false), (15, false), (13, true)];
    if tool_available("dnssec-keygen") {
        algs.push((8, false));
    }
    for (alg, csk) in algs {
        let k = keys(alg, csk);
        for opt_out in [false, true] {
            let sz = sign_zone(&small_zone(), &k, &params(opt_out), now).unwrap();
            let path = dir.join(format!("mobile-{alg}-{csk}-{opt_out}.zone"));
            write_zone(&path, &sz.records());
            if ldns {
                run(Command::new("ldns-verify-zone")
                    .arg("-V")
                    .arg("2")
                    .arg(&path));
            }
            if bind {
                // -z: a CSK has the SEP flag and signs everything (no separate ZSK).
                let z: &[&str] = if csk { &["-z"] } else { &[] };
                run(Command::new("dnssec-verify")
                    .args(z)
                    .args(["-o", "mobile."])
                    .arg(&path));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keys we write are used by ldns-signzone and dnssec-signzone, and the
/// zones they sign verify.
#[test]
fn our_key_files_work_in_ldns_and_bind_signers() {
    let dir = scratch("signers");
    let cfg = DnssecConfig::default();
    let made = KeyDir::generate(&dir, &n("mobile."), &cfg, 1_600_000_000).unwrap();
    let mut ed = DnssecConfig {
        algorithm: 15,
        ..DnssecConfig::default()
    };
    ed.scheme = crate::config::KeyScheme::Csk;
    let made_ed = KeyDir::generate(&dir.join("ed"), &n("mobile."), &ed, 1_600_000_000).unwrap();
    let unsigned = dir.join("mobile.zone");
    write_zone(&unsigned, &small_zone().records());
    let bases = |ks: &[SigningKey]| -> Vec<PathBuf> {
        ks.iter().map(|k| k.file.clone().unwrap()).collect()
    };
    for (ks, csk) in [(&made, false), (&made_ed, true)] {
        let out = dir.join("ldns.signed");
        if tool_available("ldns-signzone") {
            run(Command::new("ldns-signzone")
                .arg("-n")
                .arg("-f")
                .arg(&out)
                .arg(&unsigned)
                .args(bases(ks)));
            let text = std::fs::read_to_string(&out).unwrap();
            for k in ks {
                assert!(
                    text.contains(&base64_of(k)),
                    "ldns-signzone published key {}",
                    k.key_tag
                );
            }
            if tool_available("ldns-verify-zone") {
                run(Command::new("ldns-verify-zone").arg(&out));
            }
        }
        if tool_available("dnssec-signzone") {
            let kdir = ks[0].file.as_ref().unwrap().parent().unwrap().to_path_buf();
            let out = dir.join("bind.signed");
            let z: &[&str] = if csk { &["-z"] } else { &[] };
            run(Command::new("dnssec-signzone")
                .args(z)
                // -d: the dsset file goes to the scratch directory, not the working directory.
                .arg("-d")
                .arg(&dir)
                .args(["-S", "-3", "-", "-o", "mobile.", "-K"])
                .arg(&kdir)
                .arg("-f")
                .arg(&out)
                .arg(&unsigned));
            let text = std::fs::read_to_string(&out).unwrap();
            for k in ks {
                assert!(
                    text.contains(&base64_of(k)[..20]),
                    "dnssec-signzone published key {}",
                    k.key_tag
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn base64_of(k: &SigningKey) -> String {
    data_encoding::BASE64.encode(&k.public_key)
}

/// By hand, in release: `cargo test --release --lib sign_million -- --ignored --nocapture`.
/// Prints wall time; no assertion on it (benchmarks are not timed tests).
#[test]
#[ignore]
fn sign_million_delegations() {
    let count: usize = std::env::var("TLDNS_SIGN_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let opt_out = std::env::var("TLDNS_SIGN_OPT_OUT").is_ok();
    let mut z = base_zone();
    let ext: Arc<[Name]> = vec![n("ns1.example.net."), n("ns2.example.net.")].into();
    let t0 = std::time::Instant::now();
    let mut rng = Rng(42);
    for i in 0..count {
        let ds = if rng.next() % 100 < 15 {
            ds_for(i as u64)
        } else {
            Vec::new()
        };
        z.content.delegations.insert(
            n(&format!("domain{i}.mobile.")),
            Delegation {
                ns: ext.clone(),
                ds,
            },
        );
    }
    eprintln!("built {count} delegations in {:?}", t0.elapsed());
    let k = keys(13, false);
    let t1 = std::time::Instant::now();
    let sec = sign_dnssec(
        &z,
        &k,
        &SignParams {
            opt_out,
            ..SignParams::default()
        },
        NOW,
    )
    .unwrap();
    eprintln!(
        "signed: {:?} wall, {} NSEC3, {} DS RRsets, opt-out {opt_out}, first hash {}",
        t1.elapsed(),
        sec.nsec3.len(),
        sec.ds_sigs.len(),
        base32hex_lower(sec.nsec3.keys().next().unwrap())
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for l in status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
    {
        eprintln!("{l}");
    }
}

fn test_keys(sub: &str) -> Vec<SigningKey> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keys/test")
        .join(sub);
    KeyDir::load(&dir, &n("mobile.")).unwrap()
}

fn normalized(line: &str) -> String {
    line.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// Golden comparison with an independent signer: ldns-signzone signs the
/// same zone with the same test-only Ed25519 key and the same times.
/// Ed25519 is deterministic, so every RRSIG must be byte-identical, and so
/// must the NSEC3 chain.
#[test]
fn same_signatures_as_ldns_signzone() {
    if !tool_available("ldns-signzone") {
        return;
    }
    let k = test_keys("ed25519");
    assert_eq!(k.len(), 1);
    let dir = scratch("golden");
    let unsigned = dir.join("mobile.zone");
    write_zone(&unsigned, &small_zone().records());
    let (inc, exp) = (1_700_000_000u32, 1_700_000_000u32 + 14 * 86_400);
    for opt_out in [false, true] {
        let out = dir.join(format!("ldns-{opt_out}.signed"));
        let mut cmd = Command::new("ldns-signzone");
        cmd.args(["-n", "-s", "aabbccdd", "-t", "2"]);
        if opt_out {
            cmd.arg("-p");
        }
        cmd.arg("-i")
            .arg(crate::rr::rrsig_time(inc))
            .arg("-e")
            .arg(crate::rr::rrsig_time(exp))
            .arg("-f")
            .arg(&out)
            .arg(&unsigned)
            .arg(k[0].file.as_ref().unwrap());
        run(&mut cmd);
        let theirs: BTreeSet<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
            .map(normalized)
            .filter(|l| l.contains(" rrsig ") || l.contains(" nsec3 "))
            .collect();
        let p = SignParams {
            nsec3_salt: vec![0xaa, 0xbb, 0xcc, 0xdd],
            nsec3_iterations: 2,
            opt_out,
            validity_secs: exp - inc,
            inception_backdate_secs: 0,
            jitter_secs: 0,
            ..params(opt_out)
        };
        let sz = sign_zone(&small_zone(), &k, &p, inc).unwrap();
        let ours: BTreeSet<String> = sz
            .records()
            .iter()
            .filter(|r| r.rtype == rtype::RRSIG || r.rtype == rtype::NSEC3)
            .map(|r| normalized(&r.to_text(' ')))
            .collect();
        // ldns-signzone -p keeps NSEC3 RRs for unsigned delegations (RFC 5155
        // §7.1 makes leaving them out optional); we leave them out. So with
        // opt-out compare everything else, and our chain's owners are a subset.
        let (ours, theirs) = if opt_out {
            let owners = |s: &BTreeSet<String>| -> BTreeSet<String> {
                s.iter()
                    .filter(|l| l.contains(" in nsec3 "))
                    .map(|l| l.split(' ').next().unwrap().to_string())
                    .collect()
            };
            assert!(owners(&ours).is_subset(&owners(&theirs)));
            let rest = |s: BTreeSet<String>| -> BTreeSet<String> {
                s.into_iter().filter(|l| !l.contains(" nsec3 ")).collect()
            };
            (rest(ours), rest(theirs))
        } else {
            (ours, theirs)
        };
        assert!(ours.len() >= 10, "{ours:#?}");
        let only_ours: Vec<_> = ours.difference(&theirs).collect();
        let only_theirs: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "opt-out {opt_out}\nonly ours:\n{only_ours:#?}\nonly ldns:\n{only_theirs:#?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
