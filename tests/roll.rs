//! Key rollovers by policy (issue: DNSSEC that runs for years): a ZSK
//! rolled by pre-publication (RFC 6781 §4.1.1.1) with RFC 7583's timing,
//! driven through the pipeline on a simulated clock: every minute of four
//! hours the key policy takes its step and, when the keys call for it, a
//! full build is published (verified, the chain-of-trust gate included).
//! A resolver's view is checked at every version: no signature is by a
//! key that has not been published for `Ipub` (the DNSKEY TTL plus the
//! propagation delay), and no key leaves the DNSKEY RRset before `Iret`
//! (the largest signed TTL plus the propagation delay) after it last
//! signed. So a validating resolver never meets a signature whose key it
//! cannot have; tests/trust.rs has unbound for the chain of trust.

mod common;

use common::{TempDir, free_port, write_config};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tldns::config::Config;
use tldns::dnssec::roll::RollPolicy;
use tldns::pipeline::Pipeline;
use tldns::rr::{Dnskey, RrsigFields, rtype};
use tldns::srs::Srs;
use tldns::zone::SignedZone;

const T0: u64 = 1_780_000_000;
const MINUTE: u64 = 60;

/// The `i`th question of a round through unbound (a registered name's DS,
/// a name that does not exist, the apex `apex_type`): `true` for a
/// SERVFAIL (printed), else it must be validated (AD).
fn servfail_at(u: &common::unbound::Unbound, names: &[String], i: usize, apex_type: &str) -> bool {
    let (q, t) = match i % 3 {
        0 => (names[i % names.len()].clone(), "DS"),
        1 => (format!("nx{i}.mobile"), "A"),
        _ => ("mobile".to_string(), apex_type),
    };
    let out = u.ask(&q, t);
    if common::status(&out) == "SERVFAIL" {
        eprintln!("SERVFAIL: {q} {t}\n{out}");
        return true;
    }
    assert!(
        common::flags(&out).contains(&"ad".to_string()),
        "{q} {t} not validated:\n{out}\n{}",
        u.log()
    );
    false
}

/// The demo configuration's TTLs in seconds (2-3 s), and a 1-second
/// reload timer: for rolls that run in real time under `tldns serve`.
fn seconds_scale(config: &str) -> String {
    config
        .replace(
            "soa = 3600\nns = 172800\nds = 86400\nglue = 172800\ndnskey = 3600",
            "soa = 2\nns = 3\nds = 2\nglue = 3\ndnskey = 2",
        )
        .replace("minimum = 900", "minimum = 2")
        .replace("reload-interval-secs = 5", "reload-interval-secs = 1")
}

/// The DNSKEY RDATA (text) with `flags` (256 ZSK, 257 KSK) served at `port`,
/// sorted.
fn served_keys(port: u16, flags: &str) -> Vec<String> {
    let mut k: Vec<String> = common::section(&common::dig(port, &["mobile", "DNSKEY"]), "ANSWER")
        .into_iter()
        .filter(|r| r.2.starts_with(&format!("{flags} ")))
        .map(|r| r.2)
        .collect();
    k.sort();
    k
}

async fn pipeline(dir: &std::path::Path) -> Pipeline {
    let cfg = write_config(dir, free_port(), true, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("zsk-lifetime = \"0\"", "zsk-lifetime = \"1h\"")
        .replace("propagation-delay = \"1h\"", "propagation-delay = \"2m\"")
        .replace(
            "soa = 3600\nns = 172800\nds = 86400",
            "soa = 300\nns = 600\nds = 300",
        )
        .replace("dnskey = 3600", "dnskey = 300")
        .replace("expire = 1209600", "expire = 86400");
    std::fs::write(&cfg, text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 30, 2, false)
        .await
        .unwrap();
    Pipeline::new(config, srs).await.unwrap()
}

/// Key tags of the ZSKs in the DNSKEY RRset, and of the keys whose
/// RRSIGs cover the zone's data (SOA, DS, NSEC3).
fn zsks(z: &SignedZone) -> (Vec<u16>, Vec<u16>) {
    let sec = z.dnssec.as_ref().unwrap();
    let published = sec
        .dnskeys
        .iter()
        .map(|r| Dnskey::from_rdata(r).unwrap())
        .filter(|k| k.flags & Dnskey::SEP == 0)
        .map(|k| tldns::dnssec::keys::key_tag(&k.to_rdata()))
        .collect();
    let mut signing: Vec<u16> = z
        .records()
        .iter()
        .filter(|r| r.rtype == rtype::RRSIG)
        .map(|r| RrsigFields::parse(&r.rdata).unwrap())
        .filter(|f| f.type_covered != rtype::DNSKEY)
        .map(|f| f.key_tag)
        .collect();
    signing.sort_unstable();
    signing.dedup();
    (published, signing)
}

#[tokio::test]
async fn a_zsk_is_rolled_by_prepublication_with_rfc7583_timing() {
    let dir = TempDir::new("roll-zsk");
    let mut p = pipeline(dir.path()).await;
    let policy = RollPolicy::from_config(&p.config);
    assert_eq!((policy.ipub(), policy.iret()), (420, 720));
    p.set_clock(Some(T0));
    let first = p.build().await.unwrap();
    p.commit(&first).unwrap();
    let mut cur = first.zone.clone();
    let mut versions: Vec<(u64, Arc<SignedZone>)> = vec![(T0, cur.clone())];
    for m in 1..=4 * 60 {
        let now = T0 + m * MINUTE;
        p.set_clock(Some(now));
        let stepped = p.roll_keys().await.unwrap();
        if stepped || !p.keys_match(&cur) {
            let built = p.build_on(Some(cur.clone())).await.unwrap();
            p.commit_after(&built, Some(&cur)).unwrap();
            assert!(
                p.keys_match(&built.zone),
                "minute {m}: signed as the keys say"
            );
            cur = built.zone.clone();
            versions.push((now, cur.clone()));
        }
    }

    // When each ZSK was first and last published, and first and last signed.
    let mut published: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
    let mut signed: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
    for (t, z) in &versions {
        let (pubs, signs) = zsks(z);
        assert!(!signs.is_empty());
        for k in pubs {
            published.entry(k).or_insert((*t, *t)).1 = *t;
        }
        for k in signs {
            signed.entry(k).or_insert((*t, *t)).1 = *t;
        }
    }
    for (k, (from, to)) in &signed {
        let (pf, pt) = published[k];
        eprintln!(
            "ZSK {k}: published {}..{} min, signing {}..{} min",
            (pf - T0) / 60,
            (pt - T0) / 60,
            (from - T0) / 60,
            (to - T0) / 60
        );
    }
    // A ZSK lives an hour: four hours make at least three rolls, four keys.
    assert!(signed.len() >= 4, "{signed:?}");
    let first_key = zsks(&versions[0].1).1[0];
    for (k, (from, _)) in &signed {
        let (pub_from, _) = published[k];
        if (pub_from, *from) != (T0, T0) {
            // Pre-published: in the DNSKEY RRset Ipub before it signs.
            assert!(
                from - pub_from >= policy.ipub(),
                "ZSK {k} signs at {from}, published at {pub_from}"
            );
        } else {
            assert_eq!(*k, first_key);
        }
    }
    for (i, (t, z)) in versions.iter().enumerate() {
        let (pubs, signs) = zsks(z);
        // Only one ZSK signs at a time (pre-publication, not double-signing).
        assert_eq!(signs.len(), 1, "at {t}: {signs:?}");
        // A key published before and gone now stopped signing Iret before.
        if let Some((_, prev)) = i.checked_sub(1).map(|j| &versions[j]) {
            for k in zsks(prev).0.iter().filter(|k| !pubs.contains(k)) {
                let (_, last_signed) = signed[k];
                // The switch away from it: the first version after its last.
                let switch = versions
                    .iter()
                    .map(|(t, _)| *t)
                    .find(|t| *t > last_signed)
                    .unwrap();
                assert!(
                    t - switch >= policy.iret(),
                    "ZSK {k} withdrawn at {t}, {} s after it stopped signing at {switch}",
                    t - switch
                );
            }
        }
    }
    // And every version before the end holds at most two ZSKs.
    assert!(versions.iter().all(|(_, z)| zsks(z).0.len() <= 2));
    // The roll is in the K-files: BIND's timing fields say it.
    let keys = tldns::pipeline::load_keys(&p.config).unwrap();
    let retired = keys
        .iter()
        .filter(|k| !k.is_sep() && k.timing.inactive.is_some() && k.timing.delete.is_some())
        .count();
    assert!(retired >= 3, "{keys:?}");
    let base = keys
        .iter()
        .find(|k| k.key_tag == first_key)
        .and_then(|k| k.file.clone())
        .unwrap();
    let text = std::fs::read_to_string(format!("{}.private", base.display())).unwrap();
    assert!(
        text.contains("\nInactive: ") && text.contains("\nDelete: "),
        "{text}"
    );
}

/// The same roll for real: `tldns serve` with a 25-second ZSK lifetime,
/// TTLs of a few seconds and a 2-second propagation delay, unbound
/// validating through the KSK's DS. Twice a second for 40 seconds unbound
/// is asked for a DS, a name that does not exist and the SOA: every answer
/// is validated (AD), none is SERVFAIL, while the server goes through two
/// ZSK rolls (a successor published, signing, the old key withdrawn).
#[test]
fn unbound_validates_every_answer_through_two_zsk_rolls() {
    use common::unbound::Unbound;
    use common::{Server, run_ok};
    use std::time::{Duration, Instant};
    if !common::have_tool("unbound") || !common::have_tool("dig") {
        return;
    }
    let dir = TempDir::new("roll-unbound");
    let port = free_port();
    let cfg = write_config(dir.path(), port, true, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("zsk-lifetime = \"0\"", "zsk-lifetime = \"25s\"")
        .replace("propagation-delay = \"1h\"", "propagation-delay = \"2s\"");
    let text = seconds_scale(&text);
    std::fs::write(&cfg, text).unwrap();
    let c = cfg.to_str().unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    run_ok(&["--config", c, "--db", &db, "srs", "seed", "--domains", "60"]);
    let s = Server::start(&cfg, &db, port);
    let ds = common::parent_ds(c);
    assert_eq!(ds.len(), 1);
    let u = Unbound::start(dir.path(), &ds, "mobile.", port);
    let names: Vec<String> = run_ok(&["--config", c, "--db", &db, "srs", "list", "--limit", "20"])
        .lines()
        .map(String::from)
        .collect();
    let zsks = || served_keys(port, "256");
    let mut seen: Vec<String> = Vec::new();
    let mut two_at_once = false;
    let (mut asked, mut servfail) = (0, 0);
    let end = Instant::now() + Duration::from_secs(40);
    let mut i = 0;
    while Instant::now() < end {
        asked += 1;
        if servfail_at(&u, &names, i, "SOA") {
            servfail += 1;
        }
        let now = zsks();
        two_at_once |= now.len() == 2;
        for k in now {
            if !seen.contains(&k) {
                seen.push(k);
            }
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "{asked} questions, {servfail} SERVFAIL, {} ZSKs seen",
        seen.len()
    );
    assert_eq!(servfail, 0, "{}\n{}", u.log(), s.log());
    assert!(two_at_once, "a successor pre-published beside the old key");
    assert!(seen.len() >= 3, "two rolls: {seen:?}\n{}", s.log());
    assert!(
        s.log().contains("ZSK roll: successor published"),
        "{}",
        s.log()
    );
}

/// `tldns keys roll zsk` starts a roll now and `tldns keys status --json`
/// shows it: the successor published and waiting for Ipub, the old key's
/// Inactive and Delete set; a second `roll` while one runs is refused.
#[test]
fn keys_roll_and_status_show_the_roll() {
    use common::{run_ok, tldns};
    let dir = TempDir::new("roll-cli");
    let cfg = write_config(dir.path(), free_port(), true, "");
    let c = cfg.to_str().unwrap();
    let status = || -> serde_json::Value {
        serde_json::from_str(&run_ok(&["--config", c, "keys", "status", "--json"])).unwrap()
    };
    let before = status();
    let keys = before["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{before}");
    assert!(keys.iter().all(|k| k["state"] == "active"), "{before}");
    assert!(
        before["zsk_roll"].as_str().unwrap().starts_with("none"),
        "{before}"
    );
    let said = run_ok(&["--config", c, "keys", "roll", "zsk"]);
    assert!(said.contains("rolls"), "{said}");
    let after = status();
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "{after}");
    let new = keys
        .iter()
        .find(|k| k["state"] == "published")
        .expect("a successor");
    assert_eq!(new["role"], "zsk");
    assert_eq!(new["next_event"][0], "activate");
    let old = keys
        .iter()
        .find(|k| k["role"] == "zsk" && k["state"] == "active")
        .unwrap();
    assert_eq!(
        old["timing"][3], new["timing"][2],
        "old Inactive = new Activate"
    );
    let ipub = after["ipub"].as_u64().unwrap();
    let now = after["now"].as_u64().unwrap();
    assert!(
        new["timing"][2].as_u64().unwrap() >= now + ipub - 5,
        "{after}"
    );
    assert!(
        after["zsk_roll"].as_str().unwrap().contains("waiting"),
        "{after}"
    );
    let again = tldns()
        .args(["--config", c, "keys", "roll", "zsk"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("under way"));
}

/// `tldns keys import` takes keys made by dnssec-keygen (timing included)
/// and by ldns-keygen into the keys directory, checked: afterwards they
/// load with the zone's keys, timing kept; a second import of the same key, a key of another zone
/// and a file that is not a key are refused, each saying why.
#[test]
fn keys_made_by_bind_and_ldns_are_imported_and_checked() {
    use common::{run_ok, tldns};
    use std::process::Command;
    if !common::have_tool("dnssec-keygen") || !common::have_tool("ldns-keygen") {
        return;
    }
    let dir = TempDir::new("roll-import");
    let cfg = write_config(dir.path(), free_port(), true, "");
    let c = cfg.to_str().unwrap();
    let made = dir.path().join("made");
    std::fs::create_dir_all(&made).unwrap();
    let keygen = |cmd: &mut Command| -> String {
        let out = cmd.current_dir(&made).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // A BIND ZSK with a publication time in the future (a standby key).
    let bind = keygen(Command::new("dnssec-keygen").args([
        "-a",
        "ECDSAP256SHA256",
        "-n",
        "ZONE",
        "-P",
        "+1d",
        "-A",
        "+2d",
        "mobile.",
    ]));
    let ldns = keygen(Command::new("ldns-keygen").args(["-a", "ED25519", "mobile."]));
    let other = keygen(Command::new("ldns-keygen").args(["-a", "ECDSAP256SHA256", "other."]));

    let bind_file = made.join(format!("{bind}.key")).display().to_string();
    let ldns_file = made.join(format!("{ldns}.private")).display().to_string();
    let said = run_ok(&["--config", c, "keys", "import", &bind_file, &ldns_file]);
    assert!(said.contains(&bind) && said.contains(&ldns), "{said}");
    let st: serde_json::Value =
        serde_json::from_str(&run_ok(&["--config", c, "keys", "status", "--json"])).unwrap();
    let keys = st["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 4, "{st}");
    let standby = keys.iter().find(|k| k["name"] == bind.as_str()).unwrap();
    assert_eq!(
        standby["state"], "future",
        "BIND's Publish time is kept: {st}"
    );
    assert_eq!(standby["next_event"][0], "publish");
    let keys_dir = dir.path().join("keys");
    let private = keys_dir.join(format!("{ldns}.private"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let refused = |what: &str, file: std::path::PathBuf, want: &str| {
        let out = tldns()
            .args(["--config", c, "keys", "import"])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: imported");
        assert!(err.contains(want), "{what}: {err}");
    };
    refused("again", made.join(format!("{ldns}.private")), "tag");
    refused(
        "another zone's",
        made.join(format!("{other}.private")),
        "other.",
    );
    let junk = made.join("Kmobile.+013+00001.private");
    std::fs::write(&junk, "not a key\n").unwrap();
    refused("junk", junk, "Kmobile.+013+00001.private");
    assert_eq!(
        std::fs::read_dir(&keys_dir).unwrap().count(),
        8,
        "nothing else was written"
    );
}

/// A KSK rolled by double-DS (RFC 6781 §4.1.2) on a simulated clock: the
/// successor is published and signs the DNSKEY RRset beside the old KSK,
/// both DS go to the parent (the DS file and the ds-hook), and then the
/// roll waits: three hours without the parent's word change nothing. Once
/// the new DS is at the parent (`ds-seen`), the old KSK leaves exactly the
/// parent's DS TTL plus the propagation delay later, and the DS records
/// for the parent drop its DS.
#[tokio::test]
async fn a_ksk_is_rolled_by_double_ds_and_waits_for_the_parent() {
    use tldns::dnssec::roll::{KskPhase, ds_seen, ksk_phase};
    let dir = TempDir::new("roll-ksk");
    let hook_out = dir.path().join("hook.out");
    let cfg = write_config(dir.path(), free_port(), true, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("propagation-delay = \"1h\"", "propagation-delay = \"2m\"")
        .replace("ksk-lifetime = \"0\"", "ksk-lifetime = \"6h\"")
        .replace("parent-ds-ttl = \"1d\"", "parent-ds-ttl = \"10m\"")
        .replace(
            "[dnssec]\n",
            &format!(
                "[dnssec]\nds-hook = \"cat >> {}; echo --- >> {}\"\n",
                hook_out.display(),
                hook_out.display()
            ),
        );
    std::fs::write(&cfg, text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();
    let mut p = Pipeline::new(config, srs).await.unwrap();
    let policy = RollPolicy::from_config(&p.config);
    let ds_file = dir.path().join("var").join("mobile.ds");
    p.set_clock(Some(T0));
    let first = p.build().await.unwrap();
    p.commit(&first).unwrap();
    let ksks = |z: &SignedZone| -> (Vec<u16>, Vec<u16>) {
        let sec = z.dnssec.as_ref().unwrap();
        let mut published: Vec<u16> = sec
            .dnskeys
            .iter()
            .map(|r| Dnskey::from_rdata(r).unwrap())
            .filter(|k| k.flags & Dnskey::SEP != 0)
            .map(|k| tldns::dnssec::keys::key_tag(&k.to_rdata()))
            .collect();
        published.sort_unstable();
        let mut signing: Vec<u16> = sec.apex_sigs[&rtype::DNSKEY]
            .iter()
            .map(|r| RrsigFields::parse(r).unwrap().key_tag)
            .collect();
        signing.sort_unstable();
        (published, signing)
    };
    let old = ksks(&first.zone).0[0];
    let mut cur = first.zone.clone();
    let mut now = T0;
    // Three hours: the roll starts (its successor), then waits.
    for m in 1..=180 {
        now = T0 + m * MINUTE;
        p.set_clock(Some(now));
        if p.roll_keys().await.unwrap() || !p.keys_match(&cur) {
            let built = p.build_on(Some(cur.clone())).await.unwrap();
            p.commit_after(&built, Some(&cur)).unwrap();
            cur = built.zone.clone();
        }
    }
    let (published, signing) = ksks(&cur);
    assert_eq!(published.len(), 2, "old and new KSK published");
    assert_eq!(signing, published, "both sign the DNSKEY RRset");
    assert!(published.contains(&old));
    let new = *published.iter().find(|t| **t != old).unwrap();
    let keys = tldns::pipeline::load_keys(&p.config).unwrap();
    assert_eq!(
        ksk_phase(&keys, &policy, now),
        Some(KskPhase::AwaitingDs { old, new }),
        "the parent never said: the old KSK is never retired"
    );
    assert!(keys.iter().all(|k| k.timing.inactive.is_none()));
    let ds_lines = |f: &std::path::Path| std::fs::read_to_string(f).unwrap().lines().count();
    assert_eq!(ds_lines(&ds_file), 2, "both DS for the parent");
    let hook = std::fs::read_to_string(&hook_out).unwrap();
    assert!(hook.contains(&format!("DS\t{new} ")), "{hook}");

    // The parent has the new DS.
    let seen_at = now;
    let (o, retire) = ds_seen(
        &tldns::dnssec::keys::DirKeystore::of(&p.config),
        &p.config,
        &keys,
        new,
        seen_at,
    )
    .unwrap()
    .unwrap();
    assert_eq!(o, old);
    assert_eq!(retire, seen_at + 600 + 120);
    p.reload_keys().unwrap();
    let mut gone_at = None;
    for m in 181..=240 {
        now = T0 + m * MINUTE;
        p.set_clock(Some(now));
        if p.roll_keys().await.unwrap() || !p.keys_match(&cur) {
            let built = p.build_on(Some(cur.clone())).await.unwrap();
            p.commit_after(&built, Some(&cur)).unwrap();
            cur = built.zone.clone();
            if gone_at.is_none() && !ksks(&cur).0.contains(&old) {
                gone_at = Some(now);
            }
        }
        if now < retire {
            assert!(
                ksks(&cur).0.contains(&old),
                "at {now}: the old KSK left early"
            );
        }
    }
    let gone_at = gone_at.expect("the old KSK left");
    assert!(gone_at >= retire && gone_at < retire + 2 * MINUTE);
    assert_eq!(ksks(&cur), (vec![new], vec![new]));
    assert_eq!(ds_lines(&ds_file), 1, "the old DS is to be removed");
    let hook = std::fs::read_to_string(&hook_out).unwrap();
    assert_eq!(
        hook.matches("---").count(),
        2,
        "both DS, then the new one only:\n{hook}"
    );
}

/// A signed root for the KSK-roll test, served by NSD on 127.0.0.1:`port`:
/// test-only keys made by ldns-keygen in `dir` (never committed), the zone
/// delegating `mobile.` with the DS records given, signed by
/// ldns-signzone (NSEC3) each time they change.
struct Root {
    dir: std::path::PathBuf,
    port: u16,
    ksk: String,
    zsk: String,
    nsd: std::process::Child,
}

impl Root {
    fn start(dir: &std::path::Path, port: u16, ds: &str) -> Root {
        use std::process::Command;
        std::fs::create_dir_all(dir).unwrap();
        let keygen = |args: &[&str]| -> String {
            let out = Command::new("ldns-keygen")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let ksk = keygen(&["-a", "ECDSAP256SHA256", "-k", "."]);
        let zsk = keygen(&["-a", "ECDSAP256SHA256", "."]);
        let mut r = Root {
            dir: dir.to_path_buf(),
            port,
            ksk,
            zsk,
            nsd: Command::new("true").spawn().unwrap(),
        };
        r.sign(ds);
        r.nsd = common::nsd_root(dir, port, "root.zone.signed");
        r
    }

    /// The root's trust anchor: its KSK's DS.
    fn anchor(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.ds", self.ksk)))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The zone with `ds` (DS lines; their TTL set to 2 s), signed.
    fn sign(&self, ds: &str) {
        let ds: String = ds
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() > 4).then(|| format!("mobile. 2 IN DS {}\n", f[4..].join(" ")))
            })
            .collect();
        let serial = tldns::time::unix_now();
        std::fs::write(
            self.dir.join("root.zone"),
            format!(
                ". 2 IN SOA a.root-servers.test. hostmaster.root-servers.test. {serial} 1800 900 604800 2\n. 2 IN NS a.root-servers.test.\nmobile. 3 IN NS a.nic.mobile.\na.nic.mobile. 3 IN A 127.0.0.1\n{ds}"
            ),
        )
        .unwrap();
        let out = std::process::Command::new("ldns-signzone")
            .args(["-n", "-o", ".", "root.zone", &self.zsk, &self.ksk])
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The registry: what tldns asks the parent to hold (`ds_file`) goes
    /// in when it differs from what it holds (`parent_has`).
    fn registry(&self, ds_file: &std::path::Path, parent_has: &mut String) {
        let want = std::fs::read_to_string(ds_file).unwrap_or_default();
        if !want.trim().is_empty() && want.trim() != parent_has.trim() {
            self.update(&want);
            *parent_has = want;
        }
    }

    /// Sign with `ds` and have NSD load it (SIGHUP).
    fn update(&self, ds: &str) {
        self.sign(ds);
        std::process::Command::new("kill")
            .args(["-HUP", &self.nsd.id().to_string()])
            .status()
            .unwrap();
        let want: Vec<String> = ds
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(String::from))
            .collect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let got = common::dig(self.port, &["mobile.", "DS"]);
            let tags: Vec<String> = common::section(&got, "ANSWER")
                .into_iter()
                .filter(|r| r.1 == "DS")
                .filter_map(|r| r.2.split_whitespace().next().map(String::from))
                .collect();
            if want.iter().all(|t| tags.contains(t)) && tags.len() == want.len() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "NSD did not load the new DS: {got}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = self.nsd.kill();
        let _ = self.nsd.wait();
    }
}

/// `tldns serve` on a seeded SRS (40 delegations) under the signed root
/// of [`Root`], with unbound trusting only the root: the demo
/// configuration at seconds scale, a 1-second propagation delay, the root
/// asked for the DS every second (its DS TTL 2 s), and `edit` applied to
/// it; `fresh_keys`: the zone's keys made anew from the edited file.
/// `None` (skipped) when a tool is missing.
struct UnderRoot {
    dir: TempDir,
    port: u16,
    cfg: std::path::PathBuf,
    /// `cfg` as a string, for the command line.
    c: String,
    /// The configuration as written.
    text: String,
    /// The DS records the root starts with.
    first_ds: String,
    root: Root,
    s: common::Server,
    u: common::unbound::Unbound,
    /// Registered names, for the questions.
    names: Vec<String>,
}

impl UnderRoot {
    fn start(name: &str, fresh_keys: bool, edit: impl Fn(String) -> String) -> Option<UnderRoot> {
        for t in ["unbound", "dig", "nsd", "ldns-keygen", "ldns-signzone"] {
            if !common::have_tool(t) {
                return None;
            }
        }
        let dir = TempDir::new(name);
        let (port, root_port) = (free_port(), free_port());
        let cfg = write_config(dir.path(), port, true, "");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("propagation-delay = \"1h\"", "propagation-delay = \"1s\"")
            .replace(
                "[dnssec]\n",
                &format!(
                    "[dnssec]\nparent-servers = [\"127.0.0.1:{root_port}\"]\nparent-check-interval = \"1s\"\n"
                ),
            )
            .replace("parent-ds-ttl = \"1d\"", "parent-ds-ttl = \"2s\"");
        let text = seconds_scale(&edit(text));
        std::fs::write(&cfg, &text).unwrap();
        if fresh_keys {
            std::fs::remove_dir_all(dir.path().join("keys")).unwrap();
            common::first_keys(&cfg);
        }
        let c = cfg.to_str().unwrap().to_string();
        let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
        common::run_ok(&[
            "--config",
            &c,
            "--db",
            &db,
            "srs",
            "seed",
            "--domains",
            "40",
        ]);
        let first_ds = common::parent_ds(&c).join("\n");
        let root = Root::start(&dir.path().join("root"), root_port, &first_ds);
        let s = common::Server::start(&cfg, &db, port);
        let ub = dir.path().join("unbound");
        std::fs::create_dir_all(&ub).unwrap();
        let u = common::unbound::Unbound::start_stubs(
            &ub,
            &[root.anchor()],
            &[(".", root_port), ("mobile.", port)],
        );
        let names = common::run_ok(&["--config", &c, "--db", &db, "srs", "list", "--limit", "20"])
            .lines()
            .map(String::from)
            .collect();
        Some(UnderRoot {
            dir,
            port,
            cfg,
            c,
            text,
            first_ds,
            root,
            s,
            u,
            names,
        })
    }
}

/// A KSK roll for real, through a signed parent: NSD serves a root zone
/// signed by ldns-signzone that delegates `mobile.` to `tldns serve` with
/// its DS; unbound trusts the root's KSK only. The operator starts the roll
/// (`keys roll ksk`, SIGHUP); the test plays the registry, putting what
/// `<state-dir>/mobile.ds` says into the root zone; tldns sees the new DS
/// at the parent, retires the old KSK after the DS TTL, and asks for the
/// old DS's removal. Twice a second throughout, unbound answers with AD:
/// no SERVFAIL over the whole roll. With `cds-cdnskey = "rollover"` the
/// zone serves CDS for both KSKs while it waits (validated), none after.
#[test]
fn unbound_validates_through_the_root_during_a_ksk_roll() {
    use common::{flags, run_ok};
    use std::time::{Duration, Instant};
    let Some(h) = UnderRoot::start("roll-ksk-root", false, |t| {
        t.replace("[dnssec]\n", "[dnssec]\ncds-cdnskey = \"rollover\"\n")
            .replace(
                "allowed-extra-types = []",
                "allowed-extra-types = [\"CDS\", \"CDNSKEY\"]",
            )
    }) else {
        return;
    };
    let UnderRoot {
        dir,
        port,
        c,
        first_ds,
        root,
        s,
        u,
        names,
        ..
    } = &h;
    let port = *port;
    let ksks = || served_keys(port, "257");
    let old_ksk = ksks();
    assert_eq!(old_ksk.len(), 1);
    let out = u.ask("mobile", "SOA");
    assert!(
        flags(&out).contains(&"ad".to_string()),
        "not validated before the roll:\n{out}\n{}",
        s.log()
    );

    run_ok(&["--config", c, "keys", "roll", "ksk"]);
    std::process::Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .unwrap();
    let ds_file = dir.path().join("var").join("mobile.ds");
    let mut parent_has = first_ds.clone();
    let (mut asked, mut servfail, mut i) = (0, 0, 0);
    let mut two_ksks = false;
    let mut max_cds = 0;
    let mut done_at: Option<Instant> = None;
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end && done_at.is_none_or(|t| t.elapsed() < Duration::from_secs(5)) {
        root.registry(&ds_file, &mut parent_has);
        asked += 1;
        if servfail_at(u, names, i, "DNSKEY") {
            servfail += 1;
        }
        let now = ksks();
        two_ksks |= now.len() == 2;
        // While the roll waits for the parent: CDS for both KSKs, served
        // and validated through the root.
        if max_cds < 2 {
            let cds = common::section(&common::dig(port, &["mobile", "CDS"]), "ANSWER")
                .into_iter()
                .filter(|r| r.1 == "CDS")
                .count();
            if cds == 2 {
                let out = u.ask("mobile", "CDS");
                assert!(
                    flags(&out).contains(&"ad".to_string()),
                    "CDS not validated:\n{out}"
                );
            }
            max_cds = max_cds.max(cds);
        }
        if done_at.is_none()
            && two_ksks
            && now.len() == 1
            && now != old_ksk
            && parent_has.lines().count() == 1
        {
            done_at = Some(Instant::now());
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("{asked} questions through the root, {servfail} SERVFAIL");
    assert!(
        two_ksks,
        "the new KSK was published beside the old:\n{}",
        s.log()
    );
    assert!(done_at.is_some(), "the roll did not finish:\n{}", s.log());
    assert_eq!(servfail, 0, "{}\n{}", u.log(), s.log());
    assert_eq!(max_cds, 2, "CDS for both KSKs while waiting:\n{}", s.log());
    let cds_after = common::section(&common::dig(port, &["mobile", "CDS"]), "ANSWER");
    assert!(
        cds_after.iter().all(|r| r.1 != "CDS"),
        "no CDS after the roll: {cds_after:?}"
    );
    assert!(
        s.log().contains("the new DS is at the parent"),
        "{}",
        s.log()
    );
}

/// The algorithms of the DNSKEY RRset served at `port`, and of the RRSIGs
/// over its SOA.
fn apex_algorithms(port: u16) -> (BTreeSet<u8>, BTreeSet<u8>) {
    let alg = |rd: &str, i: usize| rd.split_whitespace().nth(i)?.parse::<u8>().ok();
    let keys = common::section(&common::dig(port, &["mobile", "DNSKEY"]), "ANSWER")
        .into_iter()
        .filter(|r| r.1 == "DNSKEY")
        .filter_map(|r| alg(&r.2, 2))
        .collect();
    let sigs = common::section(&common::dig(port, &["+dnssec", "mobile", "SOA"]), "ANSWER")
        .into_iter()
        .filter(|r| r.1 == "RRSIG" && r.2.starts_with("SOA "))
        .filter_map(|r| alg(&r.2, 1))
        .collect();
    (keys, sigs)
}

/// An algorithm roll from RSA/SHA-256 (8) to ECDSA P-256 (13) for real,
/// through the signed root of the KSK-roll test: the zone starts with
/// RSA keys, the operator sets `algorithm = 13`, runs `keys roll
/// algorithm` and reloads; the test plays the registry from
/// `<state-dir>/mobile.ds`. What tldns serves goes through RFC 6781
/// §4.1.4's steps in order (DNSKEY algorithms / SOA signature algorithms):
/// {8}/{8}, {8}/{8,13} (new signatures), {8,13}/{8,13} (new keys), then,
/// once the new DS is at the root, {13}/{8,13} (old keys out) and
/// {13}/{13} (old signatures out); the parent ends with the new DS only.
/// Twice a second throughout, unbound answers with AD: no SERVFAIL.
#[test]
fn unbound_validates_through_the_root_during_an_algorithm_roll_8_to_13() {
    use common::{flags, run_ok};
    use std::time::{Duration, Instant};
    // The zone's first keys are RSA/SHA-256 ones.
    let Some(h) = UnderRoot::start("roll-alg-root", true, |t| {
        t.replace("algorithm = 13", "algorithm = 8")
    }) else {
        return;
    };
    let UnderRoot {
        dir,
        port,
        cfg,
        c,
        text,
        first_ds,
        root,
        s,
        u,
        names,
    } = &h;
    let port = *port;
    let set = |v: &[u8]| v.iter().copied().collect::<BTreeSet<u8>>();
    assert_eq!(apex_algorithms(port), (set(&[8]), set(&[8])), "{}", s.log());
    let out = u.ask("mobile", "SOA");
    assert!(
        flags(&out).contains(&"ad".to_string()),
        "not validated before the roll:\n{out}\n{}",
        s.log()
    );

    std::fs::write(cfg, text.replace("algorithm = 8", "algorithm = 13")).unwrap();
    let started = run_ok(&["--config", c, "keys", "roll", "algorithm"]);
    assert_eq!(started.matches("signs now").count(), 2, "{started}");
    std::process::Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .unwrap();
    let ds_file = dir.path().join("var").join("mobile.ds");
    let mut parent_has = first_ds.clone();
    let (mut asked, mut servfail, mut i) = (0, 0, 0);
    let mut seen: Vec<(BTreeSet<u8>, BTreeSet<u8>)> = vec![apex_algorithms(port)];
    let last = (set(&[13]), set(&[13]));
    let mut done_at: Option<Instant> = None;
    let end = Instant::now() + Duration::from_secs(90);
    while Instant::now() < end && done_at.is_none_or(|t| t.elapsed() < Duration::from_secs(5)) {
        root.registry(&ds_file, &mut parent_has);
        asked += 1;
        if servfail_at(u, names, i, "DNSKEY") {
            servfail += 1;
        }
        let now = apex_algorithms(port);
        if seen.last() != Some(&now) {
            eprintln!("served: DNSKEY {:?}, SOA RRSIG {:?}", now.0, now.1);
            seen.push(now.clone());
        }
        if done_at.is_none() && now == last && parent_has.lines().count() == 1 {
            done_at = Some(Instant::now());
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("{asked} questions through the root, {servfail} SERVFAIL");
    let want = vec![
        (set(&[8]), set(&[8])),
        (set(&[8]), set(&[8, 13])),
        (set(&[8, 13]), set(&[8, 13])),
        (set(&[13]), set(&[8, 13])),
        last,
    ];
    assert_eq!(seen, want, "RFC 6781 §4.1.4's order:\n{}", s.log());
    assert!(done_at.is_some(), "the roll did not finish:\n{}", s.log());
    assert!(
        parent_has.split_whitespace().nth(5) == Some("13"),
        "the parent ends with the new algorithm's DS: {parent_has}"
    );
    assert_eq!(servfail, 0, "{}\n{}", u.log(), s.log());
    let status = run_ok(&["--config", c, "keys", "status"]);
    assert!(
        status.contains("algorithm roll: none under way"),
        "{status}"
    );
}

/// The tags of the SEP keys in the DNSKEY RRset, and of the keys whose
/// RRSIGs cover the SOA and the DNSKEY RRset, each sorted.
fn apex_keys(z: &SignedZone) -> (Vec<u16>, Vec<u16>, Vec<u16>) {
    let sec = z.dnssec.as_ref().unwrap();
    let mut sep: Vec<u16> = sec
        .dnskeys
        .iter()
        .map(|r| Dnskey::from_rdata(r).unwrap())
        .filter(|k| k.flags & Dnskey::SEP != 0)
        .map(|k| tldns::dnssec::keys::key_tag(&k.to_rdata()))
        .collect();
    sep.sort_unstable();
    let by = |t: u16| -> Vec<u16> {
        let mut v: Vec<u16> = sec.apex_sigs[&t]
            .iter()
            .map(|r| RrsigFields::parse(r).unwrap().key_tag)
            .collect();
        v.sort_unstable();
        v
    };
    (sep, by(rtype::SOA), by(rtype::DNSKEY))
}

/// A pipeline on a seeded SQLite SRS whose configuration is the demo's
/// changed by `edit`, its keys made afresh by `tldns keys generate`'s rules.
async fn pipeline_with(dir: &std::path::Path, edit: impl Fn(String) -> String) -> Pipeline {
    let cfg = write_config(dir, free_port(), true, "");
    std::fs::remove_dir_all(dir.join("keys")).unwrap();
    std::fs::write(&cfg, edit(std::fs::read_to_string(&cfg).unwrap())).unwrap();
    common::first_keys(&cfg);
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();
    Pipeline::new(config, srs).await.unwrap()
}

/// A CSK rolled by double signature (RFC 7583 §3.3.2) on a simulated
/// clock: the successor signs everything beside the old CSK; once the new
/// DS is at the parent, the old CSK leaves no earlier than the parent's DS
/// TTL plus the propagation delay, and no earlier than `Ipub` after the
/// successor was published (the successor then signs the zone's data
/// alone: every cache must have its DNSKEY).
#[tokio::test]
async fn a_csk_is_rolled_by_double_signature() {
    use tldns::dnssec::roll::{ds_seen, start_ksk_roll};
    let dir = TempDir::new("roll-csk");
    let mut p = pipeline_with(dir.path(), |t| {
        t.replace("scheme = \"ksk-zsk\"", "scheme = \"csk\"")
            .replace("propagation-delay = \"1h\"", "propagation-delay = \"2m\"")
            .replace("parent-ds-ttl = \"1d\"", "parent-ds-ttl = \"10m\"")
    })
    .await;
    let policy = RollPolicy::from_config(&p.config);
    assert_eq!(policy.ipub(), 120 + 3600);
    p.set_clock(Some(T0));
    let first = p.build().await.unwrap();
    p.commit(&first).unwrap();
    let (sep, soa, dnskey) = apex_keys(&first.zone);
    assert_eq!((sep.len(), &soa, &dnskey), (1, &sep, &sep), "one CSK");
    let old = sep[0];
    assert_eq!(first.zone.dnssec.as_ref().unwrap().dnskeys.len(), 1);

    let t1 = T0 + MINUTE;
    let keys = tldns::pipeline::load_keys(&p.config).unwrap();
    let new = start_ksk_roll(
        &tldns::dnssec::keys::DirKeystore::of(&p.config),
        &p.config,
        &keys,
        t1,
        true,
    )
    .unwrap()
    .unwrap()
    .key_tag;
    p.reload_keys().unwrap();
    p.set_clock(Some(t1));
    let mut cur = first.zone.clone();
    let b = p.build_on(Some(cur.clone())).await.unwrap();
    p.commit_after(&b, Some(&cur)).unwrap();
    cur = b.zone.clone();
    let mut both = vec![old, new];
    both.sort_unstable();
    assert_eq!(apex_keys(&cur), (both.clone(), both.clone(), both.clone()));

    let keys = tldns::pipeline::load_keys(&p.config).unwrap();
    let seen = t1 + MINUTE;
    let (o, retire) = ds_seen(
        &tldns::dnssec::keys::DirKeystore::of(&p.config),
        &p.config,
        &keys,
        new,
        seen,
    )
    .unwrap()
    .unwrap();
    assert_eq!(o, old);
    assert_eq!(
        retire,
        t1 + policy.ipub(),
        "Ipub, longer than DS TTL + Dprp"
    );
    p.reload_keys().unwrap();
    let mut now = seen;
    while now < retire + 2 * MINUTE {
        now += MINUTE;
        p.set_clock(Some(now));
        if p.roll_keys().await.unwrap() || !p.keys_match(&cur) {
            let b = p.build_on(Some(cur.clone())).await.unwrap();
            p.commit_after(&b, Some(&cur)).unwrap();
            cur = b.zone.clone();
        }
        if now < retire {
            assert_eq!(apex_keys(&cur).1, both, "at {now}: double signature");
        }
    }
    assert_eq!(apex_keys(&cur), (vec![new], vec![new], vec![new]));
}

/// An emergency KSK roll to a standby: `keys standby` publishes a KSK that
/// does not sign, whose DS goes to the parent with the active KSK's. The
/// active KSK is lost: `keys roll ksk --emergency` moves the signing to the
/// standby and withdraws the old KSK at once. The chain-of-trust gate
/// lets that version out only if the parent holds the standby's DS: with
/// the old DS alone in `parent-ds-file`, it is refused and the old version
/// stays; with the standby's there too, it is published.
#[tokio::test]
async fn an_emergency_roll_switches_to_the_standby_if_the_parent_has_its_ds() {
    use tldns::dnssec::roll::{add_standby, emergency_ksk_roll};
    use tldns::pipeline::BuildError;
    use tldns::verify::VerifyError;
    let dir = TempDir::new("roll-emergency");
    let parent = dir.path().join("parent.ds");
    let ds = |keys: &[tldns::dnssec::SigningKey], tags: &[u16]| -> String {
        keys.iter()
            .filter(|k| tags.contains(&k.key_tag))
            .map(|k| k.ds_text(2, 86400).unwrap() + "\n")
            .collect()
    };
    let edit = |t: String| {
        t.replace(
            "[dnssec]\n",
            &format!("[dnssec]\nparent-ds-file = {parent:?}\n"),
        )
    };
    // The parent file must exist for the pipeline: the first KSK's DS.
    let cfg = write_config(dir.path(), free_port(), true, "");
    std::fs::write(&cfg, edit(std::fs::read_to_string(&cfg).unwrap())).unwrap();
    let config = Config::load(&cfg).unwrap();
    let keys_dir = config.resolve(&config.zone.dnssec.keys_dir);
    let store = tldns::dnssec::keys::DirKeystore::of(&config);
    let keys = tldns::dnssec::keys::KeyDir::load(&keys_dir, &config.origin).unwrap();
    let old = keys.iter().find(|k| k.is_sep()).unwrap().key_tag;
    std::fs::write(&parent, ds(&keys, &[old])).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();

    let sb = add_standby(&store, &config, &keys, T0)
        .unwrap()
        .unwrap()
        .key_tag;
    assert!(
        add_standby(
            &store,
            &config,
            &tldns::dnssec::keys::KeyDir::load(&keys_dir, &config.origin).unwrap(),
            T0
        )
        .unwrap()
        .is_none()
    );
    let mut p = Pipeline::new(config.clone(), srs.clone()).await.unwrap();
    p.set_clock(Some(T0 + 1));
    let first = p.build().await.unwrap();
    p.commit(&first).unwrap();
    let mut sep = vec![old, sb];
    sep.sort_unstable();
    let (published, soa, dnskey) = apex_keys(&first.zone);
    assert_eq!(
        (published, dnskey),
        (sep, vec![old]),
        "the standby is published and signs nothing"
    );
    assert!(!soa.contains(&sb));
    p.roll_keys().await.unwrap();
    let for_parent = std::fs::read_to_string(dir.path().join("var").join("mobile.ds")).unwrap();
    assert_eq!(for_parent.lines().count(), 2, "{for_parent}");
    assert!(for_parent.contains(&format!("DS\t{sb} ")), "{for_parent}");

    // The KSK is lost: the emergency roll.
    let t1 = T0 + MINUTE;
    let keys = tldns::dnssec::keys::KeyDir::load(&keys_dir, &config.origin).unwrap();
    let (to, retired) = emergency_ksk_roll(&store, &config, &keys, t1).unwrap();
    assert_eq!((to, retired), (sb, vec![old]));
    p.reload_keys().unwrap();
    p.set_clock(Some(t1));
    assert!(!p.keys_match(&first.zone));
    match p.build_on(Some(first.zone.clone())).await {
        Err(BuildError::Verify(VerifyError::Untrusted { .. })) => {}
        other => panic!(
            "the parent holds only the lost KSK's DS: refused, not {:?}",
            other.map(|b| b.zone.serial())
        ),
    }
    // The parent has the standby's DS (it did all along, or the registry
    // just put it there).
    std::fs::write(&parent, ds(&keys, &[old, sb])).unwrap();
    let mut p = Pipeline::new(config, srs).await.unwrap();
    p.set_clock(Some(t1));
    let b = p.build_on(Some(first.zone.clone())).await.unwrap();
    let (sep, _, dnskey) = apex_keys(&b.zone);
    assert_eq!((sep, dnskey), (vec![sb], vec![sb]));
}

/// CDS and CDNSKEY (RFC 7344) with `cds-cdnskey = "rollover"`: refused in
/// the configuration unless `allowed-extra-types` lists them (Exhibit A
/// does not name them); none published outside a roll; while a KSK roll
/// waits for the parent, the DS RRset the parent should hold (old and new
/// KSK), signed by the KSKs, in the apex NSEC3 bitmap, and verified; gone
/// once the new DS is seen. A CDS that names no key is refused by the
/// verifier.
#[tokio::test]
async fn cds_and_cdnskey_are_published_while_a_ksk_roll_waits_for_the_parent() {
    use tldns::dnssec::roll::{ds_seen, start_ksk_roll};
    let dir = TempDir::new("roll-cds");
    let cfg = write_config(dir.path(), free_port(), true, "");
    let base = std::fs::read_to_string(&cfg).unwrap();
    let cds = base.replace("[dnssec]\n", "[dnssec]\ncds-cdnskey = \"rollover\"\n");
    std::fs::write(&cfg, &cds).unwrap();
    let e = Config::load(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("cds-cdnskey") && e.contains("allowed-extra-types"),
        "{e}"
    );
    assert!(e.contains(":") && e.contains("mobile.toml"), "{e}");
    let text = cds.replace(
        "allowed-extra-types = []",
        "allowed-extra-types = [\"CDS\", \"CDNSKEY\"]",
    );
    std::fs::write(&cfg, &text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();
    let mut p = Pipeline::new(config, srs).await.unwrap();
    // The real time: the external verifiers check validity against it.
    let t0 = tldns::time::unix_now();
    p.set_clock(Some(t0));
    let first = p.build().await.unwrap();
    p.commit(&first).unwrap();
    let sec = |z: &SignedZone| z.dnssec.clone().unwrap();
    assert!(sec(&first.zone).cds.is_empty() && sec(&first.zone).cdnskey.is_empty());
    assert!(p.keys_match(&first.zone));

    let store = tldns::dnssec::keys::DirKeystore::of(&p.config);
    let keys = tldns::pipeline::load_keys(&p.config).unwrap();
    let new = start_ksk_roll(&store, &p.config, &keys, t0 + MINUTE, true)
        .unwrap()
        .unwrap();
    p.reload_keys().unwrap();
    p.set_clock(Some(t0 + MINUTE));
    assert!(!p.keys_match(&first.zone), "the CDS RRset is due");
    let b = p.build_on(Some(first.zone.clone())).await.unwrap();
    p.commit_after(&b, Some(&first.zone)).unwrap();
    let s = sec(&b.zone);
    let keys = tldns::pipeline::load_keys(&p.config).unwrap();
    let mut want_cds: Vec<Vec<u8>> = keys
        .iter()
        .filter(|k| k.is_sep())
        .map(|k| k.ds(2).unwrap().to_rdata())
        .collect();
    want_cds.sort();
    assert_eq!(s.cds, want_cds, "old and new KSK");
    assert_eq!(s.cdnskey.len(), 2);
    assert!(s.cdnskey.iter().all(|k| s.dnskeys.contains(k)));
    let ksks: Vec<u16> = keys
        .iter()
        .filter(|k| k.is_sep())
        .map(|k| k.key_tag)
        .collect();
    for t in [rtype::CDS, rtype::CDNSKEY] {
        let mut by: Vec<u16> = s.apex_sigs[&t]
            .iter()
            .map(|r| RrsigFields::parse(r).unwrap().key_tag)
            .collect();
        by.sort_unstable();
        let mut k = ksks.clone();
        k.sort_unstable();
        assert_eq!(by, k, "signed by the KSKs");
    }
    let records = b.zone.records();
    let apex_hash = tldns::dnssec::nsec3_hash_text("mobile.", "", 0).unwrap();
    let apex_n3 = records
        .iter()
        .find(|r| {
            r.rtype == rtype::NSEC3
                && r.owner
                    .to_string()
                    .to_ascii_lowercase()
                    .starts_with(&apex_hash.to_ascii_lowercase())
        })
        .expect("the apex NSEC3");
    let text = apex_n3.to_text(' ');
    assert!(text.contains("CDS") && text.contains("CDNSKEY"), "{text}");
    assert!(p.keys_match(&b.zone));

    // The independent verifiers agree (CDS and CDNSKEY in the file).
    if common::have_tool("ldns-verify-zone") && common::have_tool("dnssec-verify") {
        let file = dir.path().join("cds.zone");
        let text: String = records.iter().map(|r| r.to_text('\t') + "\n").collect();
        assert!(text.contains("\tCDS\t") && text.contains("\tCDNSKEY\t"));
        std::fs::write(&file, text).unwrap();
        for (tool, args, ok) in [
            ("ldns-verify-zone", vec![], "Zone is verified and complete"),
            ("dnssec-verify", vec!["-o", "mobile."], "Zone fully signed"),
        ] {
            let out = std::process::Command::new(tool)
                .args(args)
                .arg(&file)
                .output()
                .unwrap();
            let all = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && all.contains(ok), "{tool}: {all}");
        }
    }

    // The verifier refuses a CDS for a key the zone does not have.
    let mut bad = records.clone();
    let stray = bad.iter().position(|r| r.rtype == rtype::CDS).unwrap();
    let mut rd = bad[stray].rdata.clone();
    rd[0] ^= 0x55;
    bad[stray].rdata = rd;
    let opts = tldns::verify::VerifyOptions {
        now: (t0 + MINUTE) as u32,
        allowed_extra_types: vec![rtype::CDS, rtype::CDNSKEY],
        ..Default::default()
    };
    tldns::verify::verify(&records, &p.config.origin, &opts).unwrap();
    match tldns::verify::verify(&bad, &p.config.origin, &opts) {
        Err(tldns::verify::VerifyError::CdsWithoutKey { .. }) => {}
        other => panic!("a CDS naming no key: {:?}", other.map(|_| ())),
    }

    // The parent has the new DS: the CDS RRset goes.
    let now = t0 + 2 * MINUTE;
    ds_seen(&store, &p.config, &keys, new.key_tag, now)
        .unwrap()
        .unwrap();
    p.reload_keys().unwrap();
    p.set_clock(Some(now));
    assert!(!p.keys_match(&b.zone));
    let c = p.build_on(Some(b.zone.clone())).await.unwrap();
    assert!(sec(&c.zone).cds.is_empty());
    assert!(!sec(&c.zone).apex_sigs.contains_key(&rtype::CDS));
}
