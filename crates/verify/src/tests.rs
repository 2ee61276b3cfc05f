//! Zones signed by an independent signer (ldns-signzone, keys from
//! ldns-keygen) must verify; each corruption must be reported by the rule it
//! breaks. Without the ldns tools the tests skip, except under `CI=true`.

use super::text::parse_zone;
use super::*;
use crate::rr::{Dnskey, rtype};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tldns_base::keytag::key_tag;
use tldns_base::nsec3::nsec3_hash;

/// 2026-01-01T00:00:00Z, between the fixed inception and expiration below.
const NOW: u32 = 1_767_225_600;
const INCEPTION: &str = "20250101000000";
const EXPIRATION: &str = "20350101000000";
const DELEGATIONS: usize = 20;

fn origin() -> Name {
    Name::parse("mobile.").unwrap()
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        now: NOW,
        ..VerifyOptions::default()
    }
}

fn tools_present() -> bool {
    let ok = ["ldns-keygen", "ldns-signzone"]
        .iter()
        .all(|t| Command::new(t).arg("-v").output().is_ok());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ldns tools missing and CI=true"
        );
        eprintln!("skipping: ldns-keygen/ldns-signzone not installed");
    }
    ok
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tldns-verify-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small TLD: apex NS with glue under the `nic` delegation, `n`
/// delegations (every other one with DS, every third one with its own glue),
/// and one delegation below an empty non-terminal.
fn unsigned_zone(n: usize) -> String {
    let mut z = String::from(
        "mobile. 3600 IN SOA a.nic.mobile. hostmaster.nic.mobile. 2026010101 1800 900 604800 86400\n\
         mobile. 3600 IN NS a.nic.mobile.\n\
         mobile. 3600 IN NS b.nic.mobile.\n\
         nic.mobile. 3600 IN NS a.nic.mobile.\n\
         nic.mobile. 3600 IN NS b.nic.mobile.\n\
         a.nic.mobile. 3600 IN A 192.0.2.1\n\
         a.nic.mobile. 3600 IN AAAA 2001:db8::1\n\
         b.nic.mobile. 3600 IN A 192.0.2.2\n\
         deep.ent.mobile. 3600 IN NS ns1.example.net.\n",
    );
    for i in 0..n {
        let d = format!("d{i}.mobile.");
        if i % 3 == 0 {
            z += &format!(
                "{d} 3600 IN NS ns1.{d}\nns1.{d} 3600 IN A 198.51.100.{}\n",
                i % 250 + 1
            );
            z += &format!(
                "ns1.{d} 3600 IN AAAA 2001:db8:1::{:x}:{:x}\n",
                i >> 16,
                i & 0xffff
            );
        } else {
            z += &format!("{d} 3600 IN NS ns1.example.net.\n{d} 3600 IN NS ns2.example.net.\n");
        }
        if i % 2 == 0 {
            z += &format!("{d} 3600 IN DS {} 13 2 {:064x}\n", 1 + i % 60_000, i + 1);
        }
    }
    z
}

fn run(dir: &Path, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Keys and a signed copy of `unsigned_zone(n)` made by ldns; returns the
/// records and the key tags ldns-keygen put in the key file names.
fn ldns_signed(algorithm: &str, opt_out: bool, n: usize) -> (Vec<Record>, Vec<u16>) {
    let dir = TempDir::new();
    let mut bases = Vec::new();
    for ksk in [true, false] {
        let mut args = vec!["-a", algorithm];
        if algorithm == "RSASHA256" {
            args.extend(["-b", "2048"]);
        }
        if ksk {
            args.push("-k");
        }
        args.push("mobile.");
        bases.push(run(&dir.0, "ldns-keygen", &args).trim().to_string());
    }
    let tags = bases
        .iter()
        .map(|b| b.rsplit('+').next().unwrap().parse().unwrap())
        .collect();
    std::fs::write(dir.0.join("mobile.zone"), unsigned_zone(n)).unwrap();
    let mut args = vec![
        "-n",
        "-s",
        "",
        "-t",
        "0",
        "-i",
        INCEPTION,
        "-e",
        EXPIRATION,
        "-f",
        "signed.zone",
    ];
    if opt_out {
        args.push("-p");
    }
    args.push("mobile.zone");
    args.extend(bases.iter().map(String::as_str));
    run(&dir.0, "ldns-signzone", &args);
    let text = std::fs::read_to_string(dir.0.join("signed.zone")).unwrap();
    (parse_zone(&text).unwrap_or_else(|e| panic!("{e}")), tags)
}

/// The ECDSA P-256 zone, signed once and shared by the corruption tests.
fn ecdsa_zone() -> Option<&'static [Record]> {
    static Z: OnceLock<Vec<Record>> = OnceLock::new();
    if !tools_present() {
        return None;
    }
    Some(Z.get_or_init(|| ldns_signed("ECDSAP256SHA256", false, DELEGATIONS).0))
}

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

#[test]
fn ldns_signed_ecdsa_zone_verifies() {
    if !tools_present() {
        return;
    }
    let (recs, tags) = ldns_signed("ECDSAP256SHA256", false, DELEGATIONS);
    let r = verify(&recs, &origin(), &opts()).unwrap();
    // d0..d19, nic, deep.ent
    assert_eq!(r.delegations, DELEGATIONS + 2);
    assert_eq!(r.keys, 2);
    // apex, every delegation, the empty non-terminal ent.mobile.
    assert_eq!(r.nsec3_records, DELEGATIONS + 4);
    assert_eq!(
        r.rrsigs_checked,
        recs.iter().filter(|r| r.rtype == rtype::RRSIG).count()
    );
    // Our key tags agree with the ones ldns-keygen computed.
    let mut ours: Vec<u16> = recs
        .iter()
        .filter(|r| r.rtype == rtype::DNSKEY)
        .map(|r| key_tag(&r.rdata))
        .collect();
    let mut theirs = tags;
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
}

#[test]
fn ldns_signed_opt_out_zone_verifies() {
    if !tools_present() {
        return;
    }
    let (recs, _) = ldns_signed("ECDSAP256SHA256", true, DELEGATIONS);
    let r = verify(&recs, &origin(), &opts()).unwrap();
    assert_eq!(r.delegations, DELEGATIONS + 2);
}

#[test]
fn ldns_signed_ed25519_zone_verifies() {
    if !tools_present() {
        return;
    }
    let (recs, _) = ldns_signed("ED25519", false, DELEGATIONS);
    verify(&recs, &origin(), &opts()).unwrap();
}

#[test]
fn ldns_signed_rsasha256_zone_verifies() {
    if !tools_present() {
        return;
    }
    let (recs, _) = ldns_signed("RSASHA256", true, DELEGATIONS);
    verify(&recs, &origin(), &opts()).unwrap();
}

/// Throughput on a larger ldns-signed zone (debug build: the number is a
/// floor; `cargo test --release` for the real figure).
#[test]
fn throughput_on_ldns_signed_zone() {
    if !tools_present() {
        return;
    }
    let size: usize = std::env::var("TLDNS_VERIFY_DELEGATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let (recs, _) = ldns_signed("ECDSAP256SHA256", false, size);
    let r = verify(&recs, &origin(), &opts()).unwrap();
    eprintln!(
        "verify: {} records, {} RRSIGs in {:?} on {} threads: {:.0} signatures/s; whole run {:?}",
        r.records,
        r.rrsigs_checked,
        r.signature_elapsed,
        r.threads,
        r.signatures_per_second(),
        r.elapsed
    );
}

/// The .se 2022 incident (docs/architecture.md): a signer published bad signatures.
#[test]
fn corrupted_rrsig_names_owner_and_type() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    let i = recs
        .iter()
        .position(|r| {
            r.rtype == rtype::RRSIG
                && r.owner == n("d4.mobile.")
                && r.rdata[..2] == rtype::DS.to_be_bytes()
        })
        .unwrap();
    *recs[i].rdata.last_mut().unwrap() ^= 0x01;
    match verify(&recs, &origin(), &opts()) {
        Err(VerifyError::BadSignature { owner, rtype, .. }) => {
            assert_eq!(owner, n("d4.mobile."));
            assert_eq!(rtype, rtype::DS);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn corrupted_signed_rdata_is_caught() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    let i = recs
        .iter()
        .position(|r| r.rtype == rtype::DS && r.owner == n("d2.mobile."))
        .unwrap();
    *recs[i].rdata.last_mut().unwrap() ^= 0x80;
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::BadSignature {
                rtype: rtype::DS,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn deleted_nsec3_breaks_the_chain() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    let victim = recs
        .iter()
        .find(|r| r.rtype == rtype::NSEC3)
        .unwrap()
        .owner
        .clone();
    recs.retain(|r| r.owner != victim);
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(matches!(e, VerifyError::Nsec3Chain { .. }), "{e}");
}

#[test]
fn wrong_nsec3_bitmap_is_caught() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    // d1 is insecure: its NSEC3 says NS only; claim a DS.
    let h = nsec3_hash(&n("d1.mobile."), &[], 0);
    let owner = origin()
        .prepend(crate::rr::base32hex_lower(&h).as_bytes())
        .unwrap();
    let r = recs
        .iter_mut()
        .find(|r| r.rtype == rtype::NSEC3 && r.owner == owner)
        .unwrap();
    let at = r.rdata.len() - crate::rr::bitmap_from_types(&[rtype::NS]).len();
    r.rdata.truncate(at);
    r.rdata
        .extend(crate::rr::bitmap_from_types(&[rtype::NS, rtype::DS]));
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(&e, VerifyError::Nsec3Bitmap { name, .. } if *name == n("d1.mobile.")),
        "{e}"
    );
}

#[test]
fn missing_ds_signature_is_caught() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    recs.retain(|r| !(r.rtype == rtype::RRSIG && r.owner == n("d6.mobile.")));
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(&e, VerifyError::MissingSignature { owner, rtype: rtype::DS } if *owner == n("d6.mobile.")),
        "{e}"
    );
}

/// RFC 4035 §2.2: delegation NS and glue are not signed.
#[test]
fn signature_over_delegation_ns_or_glue_is_refused() {
    let Some(z) = ecdsa_zone() else { return };
    let sig = z
        .iter()
        .find(|r| r.rtype == rtype::RRSIG && r.owner == n("d0.mobile."))
        .unwrap()
        .clone();
    let mut over_ns = sig.clone();
    over_ns.rdata[..2].copy_from_slice(&rtype::NS.to_be_bytes());
    let mut recs = z.to_vec();
    recs.push(over_ns);
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::RrsigOverNonAuthoritative {
                rtype: rtype::NS,
                ..
            }
        ),
        "{e}"
    );

    let mut over_glue = sig;
    over_glue.owner = n("ns1.d0.mobile.");
    over_glue.rdata[..2].copy_from_slice(&rtype::A.to_be_bytes());
    let mut recs = z.to_vec();
    recs.push(over_glue);
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::RrsigOverNonAuthoritative {
                rtype: rtype::A,
                ..
            }
        ),
        "{e}"
    );
}

/// The .de 2026 incident (docs/architecture.md). A second DNSKEY whose RDATA differs but whose tag
/// is the same: the flags gain the SEP bit (+1 on an odd octet) and one odd
/// octet of the key loses 1, so the App. B sum is unchanged.
#[test]
fn key_tag_collision_de_2026() {
    let Some(z) = ecdsa_zone() else { return };
    let zsk = z
        .iter()
        .find(|r| {
            r.rtype == rtype::DNSKEY && Dnskey::from_rdata(&r.rdata).is_ok_and(|k| !k.is_sep())
        })
        .unwrap();
    let mut twin = zsk.clone();
    twin.rdata[1] += 1;
    let odd = (5..twin.rdata.len())
        .step_by(2)
        .find(|&i| twin.rdata[i] > 0)
        .unwrap();
    twin.rdata[odd] -= 1;
    assert_ne!(twin.rdata, zsk.rdata);
    assert_eq!(key_tag(&twin.rdata), key_tag(&zsk.rdata));
    let mut recs = z.to_vec();
    recs.push(twin);
    match verify(&recs, &origin(), &opts()) {
        Err(VerifyError::KeyTagCollision {
            key_tag: t,
            count: 2,
        }) => assert_eq!(t, key_tag(&zsk.rdata)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn apex_a_is_refused_exhibit_a() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    recs.push(Record::new(origin(), 3600, rtype::A, vec![192, 0, 2, 99]));
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(&e, VerifyError::TypeNotAllowed { owner, rtype: rtype::A, .. } if *owner == origin()),
        "{e}"
    );
    // An operator with an RSEP approval may allow it explicitly; it then
    // needs a signature like any authoritative RRset.
    let o = VerifyOptions {
        allowed_extra_types: vec![rtype::A],
        ..opts()
    };
    let e = verify(&recs, &origin(), &o).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::Nsec3Bitmap { .. } | VerifyError::MissingSignature { .. }
        ),
        "{e}"
    );
}

#[test]
fn txt_at_delegation_is_refused_exhibit_a() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    recs.push(Record::new(
        n("d3.mobile."),
        3600,
        rtype::TXT,
        b"\x05hello".to_vec(),
    ));
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(&e, VerifyError::TypeNotAllowed { owner, rtype: rtype::TXT, .. } if *owner == n("d3.mobile.")),
        "{e}"
    );
}

#[test]
fn non_glue_below_delegation_and_wildcards_are_refused() {
    let Some(z) = ecdsa_zone() else { return };
    let mut recs = z.to_vec();
    recs.push(Record::new(
        n("x.d3.mobile."),
        3600,
        rtype::TXT,
        b"\x01x".to_vec(),
    ));
    let e = verify(&recs, &origin(), &opts()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::BelowDelegation {
                rtype: rtype::TXT,
                ..
            }
        ),
        "{e}"
    );
    let mut recs = z.to_vec();
    recs.push(Record::new(
        n("*.mobile."),
        3600,
        rtype::NS,
        n("ns.example.net.").wire().to_vec(),
    ));
    assert!(matches!(
        verify(&recs, &origin(), &opts()),
        Err(VerifyError::Wildcard { .. })
    ));
    let mut recs = z.to_vec();
    recs.push(Record::new(
        n("mobile2."),
        3600,
        rtype::NS,
        n("ns.example.net.").wire().to_vec(),
    ));
    assert!(matches!(
        verify(&recs, &origin(), &opts()),
        Err(VerifyError::OutOfZone { .. })
    ));
}

/// The .se 2009 incident (docs/architecture.md): reject implausible changes.
#[test]
fn delegation_count_change_se_2009() {
    let Some(z) = ecdsa_zone() else { return };
    let count = DELEGATIONS + 2;
    let ok = VerifyOptions {
        previous_delegations: Some(count - 1),
        max_delegation_change: 0.1,
        ..opts()
    };
    verify(z, &origin(), &ok).unwrap();
    let bad = VerifyOptions {
        previous_delegations: Some(count * 2),
        max_delegation_change: 0.1,
        ..opts()
    };
    match verify(z, &origin(), &bad) {
        Err(VerifyError::DelegationChange {
            previous, current, ..
        }) => {
            assert_eq!((previous, current), (count * 2, count));
        }
        other => panic!("{other:?}"),
    }
}

/// The .zm 2015 incident (docs/architecture.md): signatures expired.
#[test]
fn validity_window_uses_serial_arithmetic() {
    let Some(z) = ecdsa_zone() else { return };
    let late = VerifyOptions {
        now: 2_051_222_400,
        ..opts()
    }; // 2035-01-01: expiration itself
    assert!(matches!(
        verify(z, &origin(), &late),
        Err(VerifyError::SignatureExpired { .. })
    ));
    let early = VerifyOptions {
        now: 1_735_689_599,
        ..opts()
    }; // one second before inception
    assert!(matches!(
        verify(z, &origin(), &early),
        Err(VerifyError::SignatureNotYetValid { .. })
    ));
}

#[test]
fn unsigned_zone_needs_permission() {
    let recs = parse_zone(&unsigned_zone(5)).unwrap();
    let o = VerifyOptions {
        require_signed: false,
        ..opts()
    };
    let r = verify(&recs, &origin(), &o).unwrap();
    assert_eq!(r.delegations, 7);
    assert!(matches!(
        verify(&recs, &origin(), &opts()),
        Err(VerifyError::Unsigned { .. })
    ));
    let mut two_soa = recs.clone();
    let mut soa = recs[0].clone();
    let last = soa.rdata.len() - 1;
    soa.rdata[last] ^= 1;
    two_soa.push(soa);
    assert!(matches!(
        verify(&two_soa, &origin(), &o),
        Err(VerifyError::MultipleSoa { count: 2, .. })
    ));
}

/// The DS records (digest types 2 and 4) of the zone's SEP keys, and those
/// of its ZSKs (which sign no DNSKEY RRset).
fn ds_of(z: &[Record], sep: bool) -> Vec<crate::rr::Ds> {
    z.iter()
        .filter(|r| {
            r.rtype == rtype::DNSKEY
                && Dnskey::from_rdata(&r.rdata).is_ok_and(|k| k.is_sep() == sep)
        })
        .flat_map(|r| {
            let k = Dnskey::from_rdata(&r.rdata).unwrap();
            [2u8, 4].map(|digest_type| crate::rr::Ds {
                key_tag: key_tag(&r.rdata),
                algorithm: k.algorithm,
                digest_type,
                digest: tldns_base::keytag::ds_digest(r.owner.wire(), &r.rdata, digest_type)
                    .unwrap(),
            })
        })
        .collect()
}

/// The chain-of-trust gate (.fj 2022, .ru 2024): the DNSKEY RRset must be
/// signed by a key a DS of the parent names, with the right digest.
#[test]
fn dnskey_rrset_must_be_signed_by_a_key_the_parent_vouches_for() {
    let Some(z) = ecdsa_zone() else { return };
    let with = |anchors: Vec<crate::rr::Ds>| {
        verify(
            z,
            &origin(),
            &VerifyOptions {
                trust_anchors: Some(anchors),
                ..opts()
            },
        )
    };
    let ksk = ds_of(z, true);
    for ds in &ksk {
        with(vec![ds.clone()]).unwrap_or_else(|e| panic!("digest {}: {e}", ds.digest_type));
    }
    // A DS of the ZSK: that key signs no DNSKEY RRset.
    assert!(matches!(
        with(ds_of(z, false)),
        Err(VerifyError::Untrusted { .. })
    ));
    // The KSK's tag and algorithm with a digest of another key.
    let mut forged = ksk[0].clone();
    forged.digest[0] ^= 1;
    assert!(matches!(
        with(vec![forged]),
        Err(VerifyError::Untrusted { .. })
    ));
    match with(Vec::new()) {
        Err(e @ VerifyError::Untrusted { .. }) => {
            assert!(e.to_string().contains("DS none"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

/// A signature must outlive the SOA expire, for which a secondary that lost
/// the primary goes on serving it (.zm 2015).
#[test]
fn signature_expiring_before_the_soa_expire_is_refused() {
    let Some(z) = ecdsa_zone() else { return };
    // The fixed expiration, 2035-01-01, less NOW.
    let left = 2_051_222_400 - NOW;
    let with = |life: u32| {
        verify(
            z,
            &origin(),
            &VerifyOptions {
                min_signature_life: life,
                ..opts()
            },
        )
    };
    with(left).unwrap();
    match with(left + 1) {
        Err(VerifyError::SignatureTooShort {
            expiration, needed, ..
        }) => {
            assert_eq!(expiration, 2_051_222_400);
            assert_eq!(needed, left + 1);
        }
        other => panic!("{other:?}"),
    }
}

/// An algorithm roll's steps 2 and 5 (RFC 6781 §4.1.4): every RRset
/// signed by ECDSA (13, published) and Ed25519 (15) keys, the DNSKEY
/// RRset holding the ECDSA keys only (ldns-signzone -d). Refused unless
/// the verifier is told of the unpublished keys (checked with them) or,
/// as a secondary, skips algorithms no key has; an unpublished key of the
/// published algorithm is refused.
#[test]
fn signatures_by_unpublished_keys_of_another_algorithm_rfc6781_4_1_4() {
    if !tools_present() {
        return;
    }
    let dir = TempDir::new();
    let keygen = |alg: &str, ksk: bool| {
        let mut args = vec!["-a", alg];
        if ksk {
            args.push("-k");
        }
        args.push("mobile.");
        run(&dir.0, "ldns-keygen", &args).trim().to_string()
    };
    let published = [
        keygen("ECDSAP256SHA256", true),
        keygen("ECDSAP256SHA256", false),
    ];
    let unpublished = [keygen("ED25519", true), keygen("ED25519", false)];
    let key_rdata = |base: &str| -> Vec<u8> {
        let text = std::fs::read_to_string(dir.0.join(format!("{base}.key"))).unwrap();
        parse_zone(&text).unwrap()[0].rdata.clone()
    };
    let mut zone = unsigned_zone(DELEGATIONS);
    for b in &published {
        zone.push_str(&std::fs::read_to_string(dir.0.join(format!("{b}.key"))).unwrap());
    }
    std::fs::write(dir.0.join("mobile.zone"), zone).unwrap();
    let mut args = vec![
        "-n",
        "-d",
        "-s",
        "",
        "-t",
        "0",
        "-i",
        INCEPTION,
        "-e",
        EXPIRATION,
        "-f",
        "signed.zone",
        "mobile.zone",
    ];
    args.extend(published.iter().chain(&unpublished).map(String::as_str));
    run(&dir.0, "ldns-signzone", &args);
    let text = std::fs::read_to_string(dir.0.join("signed.zone")).unwrap();
    let z = parse_zone(&text).unwrap();
    assert_eq!(z.iter().filter(|r| r.rtype == rtype::DNSKEY).count(), 2);
    assert!(
        z.iter()
            .any(|r| r.rtype == rtype::RRSIG && r.rdata[2] == 15)
    );

    match verify(&z, &origin(), &opts()) {
        Err(VerifyError::UnknownKey { algorithm: 15, .. }) => {}
        other => panic!("unpublished keys unknown: {other:?}"),
    }
    let told = VerifyOptions {
        unpublished_keys: unpublished.iter().map(|b| key_rdata(b)).collect(),
        ..opts()
    };
    verify(&z, &origin(), &told).unwrap();
    let skipping = VerifyOptions {
        skip_unknown_algorithms: true,
        ..opts()
    };
    verify(&z, &origin(), &skipping).unwrap();
    // Told of a key of the published algorithm as unpublished: refused.
    let wrong = VerifyOptions {
        unpublished_keys: vec![key_rdata(&keygen("ECDSAP256SHA256", false))],
        ..opts()
    };
    assert!(matches!(
        verify(&z, &origin(), &wrong),
        Err(VerifyError::UnpublishedKey { algorithm: 13, .. })
    ));
    // Skipping never covers a published algorithm's unknown key: drop the
    // ECDSA ZSK from the DNSKEY RRset's signed copy and its signatures are
    // by an unknown key of algorithm 13.
    let zsk = key_rdata(&published[1]);
    let without: Vec<Record> = z
        .iter()
        .filter(|r| !(r.rtype == rtype::DNSKEY && r.rdata == zsk))
        .cloned()
        .collect();
    assert!(matches!(
        verify(&without, &origin(), &skipping),
        Err(VerifyError::UnknownKey { algorithm: 13, .. })
    ));
}
