//! The chain-of-trust gate (issue: DNSSEC that runs for years): a version
//! is published only if its DNSKEY RRset is signed by a key the parent
//! vouches for, and tldns never makes keys on its own. The incidents: .fj
//! 2022 and .ru 2024 (a new key the parent did not vouch for).
//!
//! The anchors are the parent's DS RRset when the operator configures it
//! (`parent-ds-file`), else the keys that signed the last published
//! version (kept in the zone's state file, so a restart is held to them).

mod common;

use common::daemon::{daemon, serial};
use common::{TempDir, first_keys, free_port, write_config};
use std::path::Path;
use tldns::config::Config;
use tldns::dnssec::keys::KeyDir;
use tldns::pipeline::daemon::{Outcome, ReloadError};
use tldns::pipeline::{BuildError, Pipeline};
use tldns::srs::Srs;
use tldns::verify::VerifyError;

/// The served version's DNSKEY RRset.
fn dnskeys(current: &tldns::store::Current) -> Vec<Vec<u8>> {
    current.load().zone.dnssec.as_ref().unwrap().dnskeys.clone()
}

/// Brand-new keys in the zone's keys directory, the old ones moved to
/// `<keys>.old` (what a wrong or emptied keys directory looks like).
fn replace_keys(cfg: &Path) -> std::path::PathBuf {
    let c = Config::load(cfg).unwrap();
    let dir = c.resolve(&c.zone.dnssec.keys_dir);
    let old = dir.with_extension("old");
    std::fs::rename(&dir, &old).unwrap();
    first_keys(cfg);
    old
}

#[tokio::test]
async fn keys_no_one_vouches_for_are_never_published() {
    let dir = TempDir::new("trust-continuity");
    let (mut d, cfg) = daemon(dir.path(), true).await;
    let current = d.current();
    let keys_before = dnskeys(&current);
    let published = serial(&current);
    let keys_dir = dir.path().join("keys");

    // An empty keys directory: the reload is refused, saying why, and the
    // keys in use go on signing (a forced build publishes with them).
    std::fs::rename(&keys_dir, dir.path().join("keys.away")).unwrap();
    std::fs::create_dir_all(&keys_dir).unwrap();
    match d.reload().await {
        Err(ReloadError::Pipeline(e @ BuildError::NoKeys { .. })) => {
            assert!(e.to_string().contains("tldns keys generate"), "{e}")
        }
        other => panic!("a pipeline without keys was made: {:?}", other.err()),
    }
    assert!(
        KeyDir::load(&keys_dir, &tldns::name::Name::parse("mobile.").unwrap())
            .unwrap()
            .is_empty(),
        "tldns made keys on its own"
    );
    assert!(matches!(d.step(true).await, Outcome::Published { .. }));
    assert_eq!(dnskeys(&current), keys_before);
    let published_again = serial(&current);
    assert!(tldns::serial::serial_gt(published_again, published));

    // Brand-new keys there (a wrong directory): they load, but no version
    // signed by them is published; the last good one keeps serving.
    std::fs::remove_dir_all(&keys_dir).unwrap();
    first_keys(&cfg);
    d.reload().await.unwrap();
    assert_eq!(d.step(true).await, Outcome::Failed);
    assert_eq!(serial(&current), published_again);
    assert_eq!(dnskeys(&current), keys_before);

    // A restart is held to the same anchors: they are in the state file.
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let mut p = Pipeline::new(config.clone(), Srs::connect(&db).await.unwrap())
        .await
        .unwrap();
    assert_eq!(p.trust_anchors().map(<[_]>::len), Some(1));
    match p.build().await {
        Err(BuildError::Verify(e @ VerifyError::Untrusted { .. })) => {
            let ksk = d.pipeline().trust_anchors().unwrap()[0].key_tag;
            assert!(e.to_string().contains(&format!("DS {ksk}/")), "{e}");
        }
        other => panic!("a version signed by unvouched keys was built: {other:?}"),
    }

    // The zone's own keys back: it publishes again.
    std::fs::remove_dir_all(&keys_dir).unwrap();
    std::fs::rename(dir.path().join("keys.away"), &keys_dir).unwrap();
    let mut p = Pipeline::new(config, Srs::connect(&db).await.unwrap())
        .await
        .unwrap();
    let built = p.build().await.unwrap();
    assert_eq!(built.zone.dnssec.as_ref().unwrap().dnskeys, keys_before);
}

/// `parent-ds-file`: what the parent holds decides, not the last version's
/// keys: a DS of another key refuses the version; the DS of the new KSK
/// (the parent updated, as after an emergency roll) lets it out.
#[tokio::test]
async fn the_parent_ds_file_is_the_gate() {
    let dir = TempDir::new("trust-parent");
    let cfg = write_config(dir.path(), free_port(), true, "");
    let ds_file = dir.path().join("parent.ds");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[dnssec]\n",
        &format!("[dnssec]\nparent-ds-file = {:?}\n", ds_file),
    );
    std::fs::write(&cfg, text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();
    let ds_of = |keys_dir: &Path| -> String {
        KeyDir::load(keys_dir, &config.origin)
            .unwrap()
            .iter()
            .filter(|k| k.is_sep())
            .map(|k| k.ds_text(2, 86400).unwrap() + "\n")
            .collect()
    };

    // No file yet: the configured gate cannot be passed without it.
    match Pipeline::new(config.clone(), srs.clone()).await {
        Err(BuildError::Parent(e)) => assert!(e.to_string().contains("parent.ds"), "{e}"),
        other => panic!("no parent DS file, yet: {:?}", other.err()),
    }

    // Another zone key's DS (the parent holds someone else's key).
    let other = TempDir::new("trust-parent-other");
    let other_cfg = write_config(other.path(), free_port(), true, "");
    let other_keys = Config::load(&other_cfg).unwrap();
    std::fs::write(
        &ds_file,
        ds_of(&other_keys.resolve(&other_keys.zone.dnssec.keys_dir)),
    )
    .unwrap();
    let mut p = Pipeline::new(config.clone(), srs.clone()).await.unwrap();
    assert!(matches!(
        p.build().await,
        Err(BuildError::Verify(VerifyError::Untrusted { .. }))
    ));

    // The zone's own KSK: published.
    let keys_dir = config.resolve(&config.zone.dnssec.keys_dir);
    std::fs::write(&ds_file, ds_of(&keys_dir)).unwrap();
    let mut p = Pipeline::new(config.clone(), srs.clone()).await.unwrap();
    let built = p.build().await.unwrap();
    p.commit(&built).unwrap();

    // New keys, and the parent already holds the new KSK's DS: the state
    // file's anchors (the old KSK) do not stand in the way of the parent's.
    replace_keys(&cfg);
    std::fs::write(&ds_file, ds_of(&keys_dir)).unwrap();
    let mut p = Pipeline::new(config, srs).await.unwrap();
    p.build().await.unwrap();
}

/// NSD serving the root zone that delegates `mobile.` with `ds` (DS lines
/// in presentation format), on 127.0.0.1:`port`; killed on drop.
struct Parent {
    child: std::process::Child,
}

impl Parent {
    fn start(dir: &Path, port: u16, ds: &str) -> Parent {
        std::fs::create_dir_all(dir).unwrap();
        let zone = format!(
            ". 3600 IN SOA a.root-servers.test. hostmaster.root-servers.test. 1 1800 900 604800 300\n\
             . 3600 IN NS a.root-servers.test.\n\
             mobile. 172800 IN NS a.nic.mobile.\n\
             a.nic.mobile. 172800 IN A 127.0.0.1\n{ds}"
        );
        std::fs::write(dir.join("root.zone"), zone).unwrap();
        let child = common::nsd_root(dir, port, "root.zone");
        Parent { child }
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `parent-servers`: the DS RRset the parent's servers serve is the gate.
/// The parent (NSD serving a root zone) holds the KSK's DS: published.
/// New keys: refused while the parent holds only the old DS, published
/// once it serves the new one (the registry's change went through).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parent_servers_are_the_gate() {
    if !common::have_tool("nsd") || !common::have_tool("dig") {
        return;
    }
    let dir = TempDir::new("trust-parent-servers");
    let parent_port = free_port();
    let cfg = write_config(dir.path(), free_port(), true, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[dnssec]\n",
        &format!("[dnssec]\nparent-servers = [\"127.0.0.1:{parent_port}\"]\n"),
    );
    std::fs::write(&cfg, text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();
    let keys_dir = config.resolve(&config.zone.dnssec.keys_dir);
    let ds_of = || -> String {
        KeyDir::load(&keys_dir, &config.origin)
            .unwrap()
            .iter()
            .filter(|k| k.is_sep())
            .map(|k| k.ds_text(2, 86400).unwrap() + "\n")
            .collect()
    };
    let old_ds = ds_of();
    let pdir = dir.path().join("parent");
    let parent = Parent::start(&pdir, parent_port, &old_ds);
    let mut p = Pipeline::new(config.clone(), srs.clone()).await.unwrap();
    let built = p.build().await.unwrap();
    p.commit(&built).unwrap();
    let tags = |p: &Pipeline| -> Vec<u16> {
        p.trust_anchors()
            .unwrap()
            .iter()
            .map(|d| d.key_tag)
            .collect()
    };
    let ksk = KeyDir::load(&keys_dir, &config.origin)
        .unwrap()
        .into_iter()
        .find(|k| k.is_sep())
        .unwrap();
    assert_eq!(tags(&p), [ksk.key_tag], "the parent's DS is the anchor");

    // New keys; the parent still serves the old DS: refused.
    replace_keys(&cfg);
    let mut p = Pipeline::new(config.clone(), srs.clone()).await.unwrap();
    match p.build().await {
        Err(BuildError::Verify(VerifyError::Untrusted { .. })) => {}
        other => panic!(
            "new keys, old DS at the parent: {:?}",
            other.map(|b| b.zone.serial())
        ),
    }

    // The parent now serves the new DS: published.
    drop(parent);
    let _parent = Parent::start(&pdir, parent_port, &ds_of());
    let built = p.build().await.unwrap();
    p.commit(&built).unwrap();
    assert_ne!(tags(&p), [ksk.key_tag]);

    // A parent that does not answer leaves the anchors in force.
    drop(_parent);
    let mut p = Pipeline::new(config, srs).await.unwrap();
    p.build().await.unwrap();
}

/// A KSK roll waits for the parent's servers: the successor's DS goes
/// to the DS file, and while NSD (the parent) serves only the old DS the
/// old KSK stays; once the test, playing the registry, puts the DS file's
/// records into the parent zone, the roll sees them and retires the old
/// KSK the parent's DS TTL plus the propagation delay later; the version
/// without it passes the gate (the parent serves the new DS).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ksk_roll_waits_for_the_new_ds_at_the_parent_servers() {
    use tldns::dnssec::roll::{KskPhase, RollPolicy, ksk_phase, start_ksk_roll};
    if !common::have_tool("nsd") || !common::have_tool("dig") {
        return;
    }
    let dir = TempDir::new("trust-ksk-roll");
    let parent_port = free_port();
    let cfg = write_config(dir.path(), free_port(), true, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("propagation-delay = \"1h\"", "propagation-delay = \"1s\"")
        .replace(
            "[dnssec]\n",
            &format!(
                "[dnssec]\nparent-servers = [\"127.0.0.1:{parent_port}\"]\nparent-check-interval = \"1s\"\n"
            ),
        )
        .replace("parent-ds-ttl = \"1d\"", "parent-ds-ttl = \"2s\"");
    std::fs::write(&cfg, text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 20, 1, false)
        .await
        .unwrap();
    let keys_dir = config.resolve(&config.zone.dnssec.keys_dir);
    let ds_file = config.resolve(&config.zone.state_dir).join("mobile.ds");
    let old = KeyDir::load(&keys_dir, &config.origin)
        .unwrap()
        .into_iter()
        .find(|k| k.is_sep())
        .unwrap();
    let pdir = dir.path().join("parent");
    let parent = Parent::start(&pdir, parent_port, &(old.ds_text(2, 86400).unwrap() + "\n"));
    let mut p = Pipeline::new(config.clone(), srs).await.unwrap();
    let built = p.build().await.unwrap();
    p.commit(&built).unwrap();
    let mut cur = built.zone.clone();

    // The operator starts the roll.
    let keys = KeyDir::load(&keys_dir, &config.origin).unwrap();
    let now = tldns::time::unix_now();
    let store = tldns::dnssec::keys::DirKeystore::of(&config);
    let new = start_ksk_roll(&store, &config, &keys, now, true)
        .unwrap()
        .unwrap();
    p.reload_keys().unwrap();
    let policy = RollPolicy::from_config(&config);
    let phase = || {
        let keys = KeyDir::load(&keys_dir, &config.origin).unwrap();
        ksk_phase(&keys, &policy, tldns::time::unix_now())
    };
    // The parent serves the old DS only: asked, and the roll waits.
    for _ in 0..3 {
        p.roll_keys().await.unwrap();
        let b = p.build_on(Some(cur.clone())).await.unwrap();
        p.commit_after(&b, Some(&cur)).unwrap();
        cur = b.zone.clone();
        assert_eq!(
            phase(),
            Some(KskPhase::AwaitingDs {
                old: old.key_tag,
                new: new.key_tag
            })
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let want = std::fs::read_to_string(&ds_file).unwrap();
    assert_eq!(want.lines().count(), 2, "{want}");
    assert_eq!(
        cur.dnssec.as_ref().unwrap().dnskeys.len(),
        3,
        "both KSKs and the ZSK"
    );

    // The registry puts both DS into the parent zone.
    drop(parent);
    let _parent = Parent::start(&pdir, parent_port, &want);
    let asked_at = tldns::time::unix_now();
    assert!(p.roll_keys().await.unwrap(), "the new DS is seen");
    let Some(KskPhase::Retiring { old: o, at }) = phase() else {
        panic!("not retiring: {:?}", phase());
    };
    assert_eq!(o, old.key_tag);
    assert!(
        at >= asked_at + 3 && at <= asked_at + 4,
        "{at} vs {asked_at}"
    );
    // After that time the version without the old KSK passes the gate.
    while tldns::time::unix_now() <= at {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    p.roll_keys().await.unwrap();
    assert!(!p.keys_match(&cur));
    let b = p.build_on(Some(cur.clone())).await.unwrap();
    let tags: Vec<u16> = b
        .zone
        .dnssec
        .as_ref()
        .unwrap()
        .dnskeys
        .iter()
        .map(|r| tldns::dnssec::keys::key_tag(r))
        .collect();
    assert!(
        !tags.contains(&old.key_tag) && tags.contains(&new.key_tag),
        "{tags:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&ds_file).unwrap().lines().count(),
        1
    );
}

/// The same through a running `tldns serve`, with unbound validating
/// through our DS: an emptied keys directory and then brand-new keys, each
/// followed by SIGHUP, publish no new DNSKEY RRset, the log says why, and
/// unbound goes on validating every answer (no SERVFAIL). Then the server
/// is restarted with the brand-new keys and with an emptied keys
/// directory: each time it serves the stored version, says why it signs
/// nothing new, and unbound goes on validating.
#[test]
fn a_wrong_keys_directory_never_reaches_a_validating_resolver() {
    use common::unbound::Unbound;
    use common::{Server, dig, flags, run_ok, section, status};
    use std::process::Command;
    use std::time::{Duration, Instant};
    if !common::have_tool("unbound") || !common::have_tool("dig") {
        return;
    }
    let dir = TempDir::new("trust-serve");
    let port = free_port();
    let cfg = write_config(dir.path(), port, true, "");
    let c = cfg.to_str().unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "seed",
        "--domains",
        "200",
    ]);
    let s = Server::start(&cfg, &db, port);
    let ds = common::parent_ds(c);
    assert_eq!(ds.len(), 1);
    let u = Unbound::start(dir.path(), &ds, "mobile.", port);
    let names: Vec<String> = run_ok(&["--config", c, "--db", &db, "srs", "list", "--limit", "40"])
        .lines()
        .map(String::from)
        .collect();
    let dnskeys = || {
        let mut k: Vec<(String, String, String)> =
            section(&dig(port, &["mobile", "DNSKEY"]), "ANSWER");
        k.sort();
        k
    };
    let before = dnskeys();
    assert!(before.len() >= 2, "{before:?}");
    let all_validate = |when: &str| {
        for (i, name) in names.iter().enumerate() {
            let (q, t) = if i % 2 == 0 {
                (name.clone(), "DS")
            } else {
                (format!("nx{i}.mobile"), "A")
            };
            let out = u.ask(&q, t);
            assert!(
                status(&out) == "NOERROR" || status(&out) == "NXDOMAIN",
                "{when}: {q} {t}:\n{out}\n{}",
                u.log()
            );
            assert!(
                flags(&out).contains(&"ad".to_string()),
                "{when}: {q} {t} not validated:\n{out}"
            );
        }
    };
    all_validate("before");
    let hup = |want: &str| {
        let from = s.log().len();
        Command::new("kill")
            .args(["-HUP", &s.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !s.log()[from..].contains(want) {
            assert!(
                Instant::now() < deadline,
                "no {want:?} in the log:\n{}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    // Emptied: the reload is refused, saying why.
    let keys = dir.path().join("keys");
    std::fs::rename(&keys, dir.path().join("keys.away")).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    hup("tldns keys generate");
    assert_eq!(dnskeys(), before);
    all_validate("keys directory emptied");

    // Brand-new keys: they load, and the gate refuses every version
    // signed by them.
    std::fs::remove_dir_all(&keys).unwrap();
    first_keys(&cfg);
    hup("vouches for");
    assert_eq!(dnskeys(), before);
    all_validate("new keys");

    // Restarts: the stored version is served as it was, whatever the keys
    // directory holds, and nothing new is signed with what is there.
    let restart = |s: Server, want: &str, when: &str| -> Server {
        drop(s);
        let s = Server::start(&cfg, &db, port);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !s.log().contains(want) {
            assert!(
                Instant::now() < deadline,
                "{when}: no {want:?} in the log:\n{}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            s.log().contains("serving the stored version"),
            "{when}:\n{}",
            s.log()
        );
        assert_eq!(dnskeys(), before, "{when}");
        all_validate(when);
        s
    };
    // With the brand-new keys: served, and the gate refuses what they sign.
    let s = restart(s, "vouches for", "restart with new keys");
    // With an emptied keys directory: served, and the build says why not.
    std::fs::remove_dir_all(&keys).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    let s = restart(s, "tldns keys generate", "restart with no keys");
    drop(s);
    assert!(
        !u.log().contains("SERVFAIL") && !u.log().contains("validation failure"),
        "{}",
        u.log()
    );
}
