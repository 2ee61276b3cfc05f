//! The incremental path is checked by the verifier, under the acceptance
//! policy the whole-version check applies (RFC 4034 §3.1.5, RFC 8624 §3.1).
//! A signature that the signer's own check accepts but the policy refuses
//! (one expiring exactly now) is planted into an incremental version: it
//! is refused, and nothing is published (the .de 2026 and .zm 2015
//! incidents in docs/architecture.md: incremental versions never properly
//! verified; expired signatures).
//!
//! Its own test binary: the planted fault travels in an environment
//! variable, which must not reach any other test.

mod common;

use common::{TempDir, copy_test_key, free_port, write_config};
use tldns::config::Config;
use tldns::pipeline::daemon::{Daemon, Outcome};
use tldns::pipeline::incremental::{IncrementalError, apply_changes};
use tldns::pipeline::{BuildError, Pipeline};
use tldns::serial::serial_gt;
use tldns::srs::Srs;
use tldns::verify::ChangedError;
use tldns::verify::policy::FieldProblem;

const NOW: u64 = 1_750_000_000;

#[test]
fn rfc4034_section_3_1_5_incremental_signature_expiring_now_is_not_published() {
    let dir = TempDir::new("acceptance-policy");
    let fault = dir.path().join("fault");
    // SAFETY: set before any thread of this test binary's runtime exists,
    // and this binary holds this one test.
    unsafe { std::env::set_var("TLDNS_FAULT_FILE", &fault) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cfg = write_config(dir.path(), free_port(), true, "");
        copy_test_key(dir.path());
        let config = Config::load(&cfg).unwrap();
        let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
        let srs = Srs::connect(&db).await.unwrap();
        srs.init().await.unwrap();
        let mut p = Pipeline::new(config, srs).await.unwrap();
        p.set_clock(Some(NOW));
        let (origin, apex_ns) = (p.config.origin.clone(), p.config.apex_ns.clone());
        tldns::srs::seed(&p.srs, &origin, &apex_ns, 30, 7, false)
            .await
            .unwrap();
        let first = p.build().await.unwrap();
        p.publish(&first, None).unwrap();
        let current = first.zone.clone();

        // A change, and the plant: the new SOA RRSIG expires exactly now.
        p.srs
            .add_domain("planted.mobile", &["ns1.example.net".to_string()])
            .await
            .unwrap();
        std::fs::write(&fault, "sig-expires-now").unwrap();

        // The incremental path refuses it, naming the validity rule.
        let e = apply_changes(&mut p, &current).await.unwrap_err();
        assert!(
            matches!(
                e,
                IncrementalError::Verify(ChangedError::SignatureTime { now, .. }) if now == NOW as u32
            ),
            "{e}"
        );
        // The planted signature is one the signer's own check accepts:
        // cryptographically valid, and by the signer's old rule
        // (expired only after expiration) still valid.
        let sig = plant_and_read(&p, &current);
        let f = tldns::dnssec::rrsig::RrsigFields::parse(&sig).unwrap();
        assert_eq!(f.expiration, NOW as u32);
        assert!(!serial_gt(NOW as u32, f.expiration));
        let soa = current.zone.soa.to_rdata();
        let key = p.keys().iter().find(|k| k.key_tag == f.key_tag).unwrap();
        assert!(tldns::dnssec::rrsig::verify_rrsig(
            &key.dnskey_rdata(),
            &current.zone.origin,
            current.zone.ttl.soa,
            &[&soa],
            &sig
        ));

        // The full build (the daemon's fallback) is refused too.
        match p.build().await {
            Err(BuildError::Verify(e)) => {
                assert!(e.to_string().contains("expired"), "{e}")
            }
            other => panic!("a version with an expiring signature was built: {other:?}"),
        }

        // The other fields of the policy's RRSIG rule, planted the same way
        // (re-signed correctly over the changed SOA): the changed-part check
        // refuses a labels field that is not the owner's count and a signer
        // other than the origin, as the whole-version check does.
        for (plant, want) in [
            ("sig-wrong-labels", FieldProblem::Labels { expected: 1 }),
            ("sig-wrong-signer", FieldProblem::Signer),
        ] {
            std::fs::write(&fault, plant).unwrap();
            let e = apply_changes(&mut p, &current).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    IncrementalError::Verify(ChangedError::RrsigField { problem, .. }) if problem == want
                ),
                "{plant}: {e}"
            );
            assert!(
                matches!(p.build().await, Err(BuildError::Verify(_))),
                "{plant}: a full build with it was accepted"
            );
        }

        // What the chain of trust and the secondaries need, planted the
        // same way: a signature that expires before the SOA expire from now
        // (a secondary could serve it expired, .zm 2015), one by a key tag
        // no DNSKEY has, and two DNSKEYs with one tag (.de 2026). Each is
        // refused on both paths, by its own rule.
        let expire = p.config.zone.soa.expire;
        for plant in ["sig-short-life", "sig-unknown-tag", "dnskey-tag-twin"] {
            std::fs::write(&fault, plant).unwrap();
            let inc = apply_changes(&mut p, &current).await.unwrap_err();
            let full = match p.build().await {
                Err(BuildError::Verify(e)) => e,
                other => panic!("{plant}: a full build with it was accepted: {other:?}"),
            };
            use tldns::verify::VerifyError as V;
            let ok = match plant {
                "sig-short-life" => {
                    matches!(&inc, IncrementalError::Verify(ChangedError::Full(V::SignatureTooShort { needed, .. })) if *needed == expire)
                        && matches!(&full, V::SignatureTooShort { needed, expiration, now, .. } if *needed == expire && *expiration == now + expire - 1)
                }
                "sig-unknown-tag" => {
                    matches!(
                        &inc,
                        IncrementalError::Verify(ChangedError::Full(V::UnknownKey { .. }))
                    ) && matches!(&full, V::UnknownKey { .. })
                }
                _ => {
                    matches!(
                        &inc,
                        IncrementalError::Verify(ChangedError::KeyTagCollision { count: 2, .. })
                    ) && matches!(&full, V::KeyTagCollision { count: 2, .. })
                }
            };
            assert!(ok, "{plant}: incremental: {inc}; full: {full}");
        }

        // Without the plant the same change goes through.
        std::fs::write(&fault, "").unwrap();
        let inc = apply_changes(&mut p, &current).await.unwrap().unwrap();
        assert!(serial_gt(inc.zone.serial(), current.serial()));

        // Through the daemon, as the server runs it: with the plant, the
        // next change is refused (incremental, then full) and nothing is
        // published: neither the store nor the state file on disk moves.
        let mut d = Daemon::start(p).await.unwrap();
        let store = d.current();
        let published = store.load().zone.serial();
        assert!(serial_gt(published, current.serial()));
        std::fs::write(&fault, "sig-expires-now").unwrap();
        d.pipeline()
            .srs
            .add_domain("planted-too.mobile", &["ns1.example.net".to_string()])
            .await
            .unwrap();
        assert_eq!(d.step(false).await, Outcome::Failed);
        assert_eq!(store.load().zone.serial(), published);
        let reopened = Pipeline::new(d.pipeline().config.clone(), Srs::connect(&db).await.unwrap())
            .await
            .unwrap();
        assert_eq!(reopened.last_serial(), Some(published));
    });
}

/// A signature made as the plant makes its own: the same key, SOA, fields
/// and expiration (exactly now), so what holds of this one holds of the
/// planted one; ECDSA signatures differ from run to run, so the planted
/// one itself is not at hand.
fn plant_and_read(p: &Pipeline, current: &tldns::zone::SignedZone) -> Vec<u8> {
    let sec = current.dnssec.as_ref().unwrap();
    let old = &sec.apex_sigs[&tldns::rr::rtype::SOA][0];
    let f = tldns::dnssec::rrsig::RrsigFields::parse(old).unwrap();
    let key = p.keys().iter().find(|k| k.key_tag == f.key_tag).unwrap();
    let soa = current.zone.soa.to_rdata();
    tldns::dnssec::rrsig::sign_rrset(
        key,
        &current.zone.origin,
        tldns::rr::rtype::SOA,
        current.zone.ttl.soa,
        &[&soa],
        f.inception,
        NOW as u32,
    )
    .unwrap()
}
