//! Incremental updates (src/update.rs): every incremental version equals a
//! full build from the same SRS state, and a primary killed while applying
//! changes loses nothing, applies nothing twice and never lowers its serial.

mod common;

use common::{Server, TempDir, copy_test_key, dig, free_port, run_ok, status, write_config};
use std::net::IpAddr;
use std::path::Path;
use tldns::config::Config;
use tldns::dnssec::signer::{SignParams, sign_zone};
use tldns::index::{Index, Options};
use tldns::pipeline::Pipeline;
use tldns::pipeline::incremental::apply_changes;
use tldns::policy::{self, Lists};
use tldns::serial::serial_gt;
use tldns::server::answer::{Transport, answer};
use tldns::srs::Srs;
use tldns::xfr::diff::{diff, full_diff};
use tldns::zone::{SignedZone, assemble};

/// A fixed clock: Ed25519 signatures made at the same time are the same bytes.
const NOW: u64 = 1_750_000_000;

/// splitmix64, so a failing seed replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The first difference between two versions, for a readable failure.
fn first_difference(a: &SignedZone, b: &SignedZone) -> String {
    let (za, zb) = (&a.zone, &b.zone);
    if za.soa != zb.soa {
        return format!("SOA {:?} vs {:?}", za.soa, zb.soa);
    }
    for (n, d) in &za.content.delegations {
        if zb.content.delegations.get(n) != Some(d) {
            return format!(
                "delegation {n}: incremental {d:?}, full {:?}",
                zb.content.delegations.get(n)
            );
        }
    }
    for (n, d) in &zb.content.delegations {
        if !za.content.delegations.contains_key(n) {
            return format!("delegation {n} only in the full build: {d:?}");
        }
    }
    for (n, g) in &za.content.glue {
        if zb.content.glue.get(n) != Some(g) {
            return format!(
                "glue {n}: incremental {g:?}, full {:?}",
                zb.content.glue.get(n)
            );
        }
    }
    for (n, g) in &zb.content.glue {
        if !za.content.glue.contains_key(n) {
            return format!("glue {n} only in the full build: {g:?}");
        }
    }
    let (Some(sa), Some(sb)) = (&a.dnssec, &b.dnssec) else {
        return "one version is unsigned".into();
    };
    if sa.nsec3.len() != sb.nsec3.len() {
        return format!("NSEC3 count {} vs {}", sa.nsec3.len(), sb.nsec3.len());
    }
    for ((ha, ra), (hb, rb)) in sa.nsec3.iter().zip(sb.nsec3.iter()) {
        if ha != hb
            || ra.next() != rb.next()
            || ra.types() != rb.types()
            || ra.flags() != rb.flags()
        {
            return format!("NSEC3 chain differs at {ha:02x?} / {hb:02x?}");
        }
        if !ra.sigs().eq(rb.sigs()) {
            return format!("NSEC3 signature differs at {ha:02x?}");
        }
    }
    if sa.ds_sigs != sb.ds_sigs {
        return "DS signatures differ".into();
    }
    if sa.apex_sigs != sb.apex_sigs {
        return "apex signatures differ".into();
    }
    "no difference found field by field".into()
}

/// Labels drawn from a small pool, so that names come back: a host below
/// a name that is registered later, a domain removed and added again.
const POOL: usize = 80;

fn label(rng: &mut Rng) -> String {
    format!("d{}", rng.below(POOL))
}

fn ns_set(rng: &mut Rng, own: &str) -> Vec<String> {
    let mut v = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let h = match rng.below(5) {
            0 | 1 => format!("ns{}.{own}.mobile", 1 + rng.below(2)),
            2 => format!("ns{}.{}.mobile", 1 + rng.below(2), label(rng)),
            3 => format!("ns{}.hoster{}.net", 1 + rng.below(2), rng.below(3)),
            _ => "ns1.shared.mobile".to_string(),
        };
        v.push(h);
    }
    v
}

fn addrs(rng: &mut Rng) -> Vec<IpAddr> {
    let mut v = vec![IpAddr::from([192, 0, 2, rng.below(250) as u8 + 1])];
    if rng.below(2) == 0 {
        v.push(IpAddr::from([
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            0,
            rng.below(99) as u16 + 1,
        ]));
    }
    v
}

/// One random SRS mutation; errors (a name that exists, or does not) are
/// part of the game and ignored.
async fn mutate(srs: &Srs, rng: &mut Rng) {
    let l = label(rng);
    let name = format!("{l}.mobile");
    let _ = match rng.below(12) {
        0 | 1 => srs.add_domain(&name, &ns_set(rng, &l)).await,
        2 => srs.remove_domain(&name).await,
        3 | 4 => srs.set_ns(&name, &ns_set(rng, &l)).await,
        5 => {
            let (alg, len) = match rng.below(8) {
                0 => (5, 32),  // algorithm refused by policy
                1 => (13, 20), // digest of the wrong length
                _ => (13, 32),
            };
            let digest: String = (0..len)
                .map(|i| format!("{:02x}", (i * 7 + rng.below(256)) % 256))
                .collect();
            srs.add_ds(&name, 1 + rng.below(4) as u16, alg, 2, &digest)
                .await
        }
        6 => srs
            .remove_ds(&name, 1 + rng.below(4) as u16)
            .await
            .map(|_| ()),
        7 => srs.hold(&name).await,
        8 => srs.unhold(&name).await,
        9 | 10 => {
            let parent = if rng.below(4) == 0 {
                "shared".to_string()
            } else {
                l
            };
            let host = format!("ns{}.{parent}.mobile", 1 + rng.below(2));
            srs.add_host(&host, &addrs(rng)).await
        }
        _ => {
            let host = format!("ns{}.{l}.mobile", 1 + rng.below(2));
            srs.remove_host(&host).await
        }
    };
}

async fn pipeline(dir: &Path, db: &str, opt_out: bool) -> Pipeline {
    let cfg = write_config(dir, free_port(), true, "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replace(
        "nsec3-opt-out = false",
        &format!("nsec3-opt-out = {opt_out}"),
    );
    std::fs::write(&cfg, text).unwrap();
    copy_test_key(dir);
    let config = Config::load(&cfg).unwrap();
    let srs = Srs::connect(db).await.unwrap();
    srs.init().await.unwrap();
    let mut p = Pipeline::new(config, srs).await.unwrap();
    p.set_clock(Some(NOW));
    p
}

/// A full build of the SRS as it is now, as `Pipeline::build` makes it but
/// without its full verification (other tests cover that; here it would
/// only triple the run time).
async fn full_build(p: &Pipeline, serial: u32) -> (SignedZone, i64) {
    let snap = p.srs.snapshot().await.unwrap();
    let lists = Lists::load(&p.config).unwrap();
    let (content, _) = policy::apply(&snap, &p.config, &lists).unwrap();
    let zone = assemble(&p.config, content, serial);
    let params = SignParams::from_config(&p.config.zone.dnssec, &p.config.nsec3_salt);
    let signed = sign_zone(&zone, p.keys(), &params, NOW as u32).unwrap();
    (signed, snap.journal_seq)
}

/// Random batches of 1 to 6 SRS mutations; after each, the incremental
/// version must equal the full build from the same SRS state, byte for byte
/// (Ed25519 and a fixed clock make the signatures comparable too).
async fn random_batches(tag: &str, opt_out: bool, batches: usize, seed: u64) {
    let dir = TempDir::new(tag);
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let mut p = pipeline(dir.path(), &db, opt_out).await;
    let config = p.config.clone();
    tldns::srs::seed(&p.srs, &config.origin, &config.apex_ns, 120, seed, false)
        .await
        .unwrap();
    p.srs
        .add_domain("shared.mobile", &["ns1.shared.mobile".to_string()])
        .await
        .unwrap();
    p.srs
        .add_host("ns1.shared.mobile", &["192.0.2.53".parse().unwrap()])
        .await
        .unwrap();
    let first = p.build().await.unwrap();
    p.publish(&first, None).unwrap();
    let mut current = first.zone;
    let mut index = Index::build(&current, Options::default());

    let mut rng = Rng(seed);
    let (mut applied, mut glue_seen, mut ds_seen) = (0usize, 0usize, 0usize);
    let scale = std::env::var("TLDNS_UPDATE_BATCHES_PERCENT")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(100);
    let batches = batches * scale / 100;
    // Count only batches that changed the SRS (a mutation may fail: the
    // name exists already, or does not).
    let mut batch = 0;
    while applied < batches {
        batch += 1;
        assert!(batch < batches * 3, "mutations keep failing");
        for _ in 0..1 + rng.below(6) {
            mutate(&p.srs, &mut rng).await;
        }
        let Some(inc) = apply_changes(&mut p, &current)
            .await
            .unwrap_or_else(|e| panic!("batch {batch}: {e}"))
        else {
            continue;
        };
        assert!(serial_gt(inc.zone.serial(), current.serial()));
        let (full, seq) = full_build(&p, inc.zone.serial()).await;
        assert_eq!(inc.journal_seq, seq, "batch {batch}");
        if *inc.zone != full {
            panic!(
                "batch {batch}: incremental differs from the full build: {}",
                first_difference(&inc.zone, &full)
            );
        }
        // The served index, updated in place, answers as one built afresh;
        // the IXFR difference taken from the shared maps is the full one.
        let touched = &inc.incremental.as_ref().expect("incremental").touched;
        let updated = index.update(&current, &inc.zone, touched);
        let fresh = Index::build(&full, Options::default());
        same_answers(&updated, &fresh, &current, &inc.zone, batch);
        assert_eq!(
            diff(&current, &inc.zone),
            full_diff(&current, &inc.zone),
            "batch {batch}: IXFR difference"
        );
        index = updated;
        p.publish(&inc, None).unwrap();
        applied += 1;
        glue_seen += inc.zone.zone.content.glue.len();
        ds_seen += inc.zone.dnssec.as_ref().map_or(0, |d| d.ds_sigs.len());
        current = inc.zone;
    }
    eprintln!("{tag}: {applied} batches applied ({batch} tried)");
    assert!(glue_seen > 0 && ds_seen > 0);
    // And the last incremental version passes the full verifier.
    let opts = tldns::verify::VerifyOptions {
        now: NOW as u32,
        ..Default::default()
    };
    tldns::verify::verify(&current.records(), &current.zone.origin, &opts).unwrap();
}

/// A query for `name`/`qtype` with EDNS and DO set.
fn query(name: &tldns::name::Name, qtype: u16) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
    q.extend_from_slice(name.wire());
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0]);
    q
}

/// Both indexes give the same octets for the apex, every delegation of
/// either version (NS, DS, a name below it) and names that do not exist.
fn same_answers(a: &Index, b: &Index, old: &SignedZone, new: &SignedZone, batch: usize) {
    use tldns::rr::rtype;
    let origin = &new.zone.origin;
    let mut questions = vec![
        (origin.clone(), rtype::SOA),
        (origin.clone(), rtype::NS),
        (origin.clone(), rtype::DNSKEY),
        (origin.clone(), rtype::A),
    ];
    let names = old
        .zone
        .content
        .delegations
        .keys()
        .chain(new.zone.content.delegations.keys());
    for n in names {
        questions.push((n.clone(), rtype::NS));
        questions.push((n.clone(), rtype::DS));
        questions.push((n.prepend(b"www").unwrap(), rtype::A));
    }
    for i in 0..40 {
        questions.push((
            origin.prepend(format!("nx{i}x").as_bytes()).unwrap(),
            rtype::A,
        ));
    }
    let (mut oa, mut ob) = (vec![0u8; 65535], vec![0u8; 65535]);
    for (name, t) in questions {
        let q = query(&name, t);
        let ra = answer(a, &q, Transport::Tcp, &mut oa).map(|o| oa[..o.len].to_vec());
        let rb = answer(b, &q, Transport::Tcp, &mut ob).map(|o| ob[..o.len].to_vec());
        assert_eq!(
            ra, rb,
            "batch {batch}: {name} type {t}: updated index differs"
        );
    }
}

/// Acceptance: 1,000 random batches, 600 without opt-out (every delegation
/// in the NSEC3 chain) and 400 with opt-out (only the signed ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_equals_full_build_random_batches_nsec3() {
    random_batches("update-random", false, 600, 2024).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_equals_full_build_random_batches_opt_out() {
    random_batches("update-random-optout", true, 400, 77).await;
}

/// Acceptance: SIGKILL the primary while it applies a stream of changes;
/// after a restart every committed domain is served, and the serial is
/// above the last one published before the kill.
#[test]
fn sigkill_while_applying_loses_nothing_and_serial_goes_up() {
    if !common::have_tool("dig") {
        return;
    }
    let dir = TempDir::new("update-kill");
    let port = free_port();
    let cfg = write_config(dir.path(), port, true, "");
    let cfg_s = cfg.to_str().unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    run_ok(&["--config", cfg_s, "--db", &db, "srs", "init"]);
    run_ok(&[
        "--config",
        cfg_s,
        "--db",
        &db,
        "srs",
        "seed",
        "--domains",
        "2000",
    ]);
    let soa_serial = |port: u16| -> Option<u32> {
        let out = dig(port, &["mobile.", "SOA", "+short"]);
        out.split_whitespace().nth(2)?.parse().ok()
    };
    let server = Server::start(&cfg, &db, port);
    let before = soa_serial(port).expect("a serial before the changes");

    // A writer commits domains one by one while the server applies them.
    let writer = {
        let (cfg, db) = (cfg_s.to_string(), db.clone());
        std::thread::spawn(move || {
            let mut committed = Vec::new();
            for i in 0..60 {
                let name = format!("killtest{i}.mobile");
                let out = common::tldns()
                    .args(["--config", &cfg, "--db", &db, "srs", "add-domain", &name])
                    .args(["--ns", "ns1.hoster.net"])
                    .output()
                    .unwrap();
                if out.status.success() {
                    committed.push(name);
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            committed
        })
    };
    // Kill once the server has published at least one incremental version.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut last_seen = before;
    while std::time::Instant::now() < deadline {
        if let Some(s) = soa_serial(port)
            && tldns::serial::serial_gt(s, before)
        {
            last_seen = s;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        tldns::serial::serial_gt(last_seen, before),
        "no new version before the kill:\n{}",
        server.log()
    );
    let mut server = server;
    let pid = server.child.id();
    // SIGKILL: no handler runs, nothing is flushed.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = server.child.wait();
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("published") && l.contains(" incremental=")),
        "no incremental version before the kill:\n{log}"
    );
    let committed = writer.join().unwrap();
    assert!(!committed.is_empty());
    let state = std::fs::read_to_string(dir.path().join("var/mobile.state"))
        .expect("the state file was written before publishing");
    let stored: u32 = state
        .lines()
        .find_map(|l| l.strip_prefix("serial "))
        .expect("a serial in the state file")
        .parse()
        .unwrap();
    assert!(
        !tldns::serial::serial_gt(last_seen, stored),
        "served serial {last_seen} above the stored one {stored}"
    );

    let port2 = free_port();
    let cfg2 = write_config(dir.path(), port2, true, "");
    let server2 = Server::start(&cfg2, &db, port2);
    let after = soa_serial(port2).expect("a serial after the restart");
    assert!(
        tldns::serial::serial_gt(after, stored),
        "serial went from {stored} (stored) to {after} after the restart\n{log}"
    );
    for name in &committed {
        let out = dig(port2, &[&format!("{name}."), "NS"]);
        assert_eq!(
            status(&out),
            "NOERROR",
            "{name} lost after the restart:\n{out}"
        );
        assert!(out.contains("ns1.hoster.net"), "{name}:\n{out}");
    }
    drop(server2);
}
