//! DNSSEC acceptance: what we sign passes ldns-verify-zone and
//! dnssec-verify, a validating resolver (unbound) accepts our answers, and
//! a version that fails verification is never published.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};
use tldns::config::Config;
use tldns::pipeline::Pipeline;
use tldns::rr::rtype;
use tldns::srs::Srs;
use tldns::zone::SignedZone;

/// The zone as a master file: SOA first (an AXFR-equivalent dump).
fn zone_text(z: &SignedZone) -> String {
    let mut recs = z.records();
    recs.sort_by_key(|r| r.rtype != rtype::SOA);
    let mut s = String::new();
    for r in recs {
        s.push_str(&r.to_text('\t'));
        s.push('\n');
    }
    s
}

fn config(dir: &std::path::Path, port: u16, opt_out: bool) -> std::path::PathBuf {
    let cfg = write_config(dir, port, true, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "nsec3-opt-out = false",
        &format!("nsec3-opt-out = {opt_out}"),
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

async fn build_signed(domains: usize, opt_out: bool) -> (TempDir, SignedZone) {
    let dir = TempDir::new("dnssec");
    let cfg = Config::load(&config(dir.path(), 5353, opt_out)).unwrap();
    let srs = Srs::connect(&format!(
        "sqlite://{}",
        dir.path().join("srs.sqlite").display()
    ))
    .await
    .unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &cfg.origin, &cfg.apex_ns, domains, 3, false)
        .await
        .unwrap();
    let mut p = Pipeline::new(cfg, srs).await.unwrap();
    let built = p.build().await.unwrap();
    (dir, (*built.zone).clone())
}

fn run_tool(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

async fn check_with_tools(domains: usize, opt_out: bool) {
    if !have_tool("ldns-verify-zone") || !have_tool("dnssec-verify") {
        return;
    }
    let (dir, z) = build_signed(domains, opt_out).await;
    let sec = z.dnssec.as_ref().expect("signed");
    if opt_out {
        assert!(
            sec.nsec3.len() < z.zone.content.delegations.len(),
            "opt-out leaves unsigned delegations out"
        );
    } else {
        assert_eq!(sec.nsec3.len(), z.zone.content.delegations.len() + 1);
    }
    let file = dir.path().join("mobile.zone");
    std::fs::write(&file, zone_text(&z)).unwrap();
    let f = file.to_str().unwrap();
    let out = run_tool(Command::new("ldns-verify-zone").arg(f));
    assert!(out.contains("Zone is verified and complete"), "{out}");
    let out = run_tool(Command::new("dnssec-verify").args(["-o", "mobile.", f]));
    assert!(out.contains("Zone fully signed"), "{out}");
}

#[tokio::test]
async fn demo_zone_passes_ldns_and_bind_verifiers() {
    check_with_tools(300, false).await;
}

#[tokio::test]
async fn demo_zone_with_opt_out_passes_ldns_and_bind_verifiers() {
    check_with_tools(300, true).await;
}

#[tokio::test]
async fn zone_of_100k_passes_ldns_and_bind_verifiers() {
    check_with_tools(100_000, false).await;
}

#[tokio::test]
async fn zone_of_100k_with_opt_out_passes_ldns_and_bind_verifiers() {
    check_with_tools(100_000, true).await;
}

fn start_signed_server(
    domains: &str,
    opt_out: bool,
) -> (TempDir, Server, std::path::PathBuf, String) {
    let dir = TempDir::new("dnssec-srv");
    let port = free_port();
    let cfg = config(dir.path(), port, opt_out);
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap().to_string();
    run_ok(&[
        "--config",
        &c,
        "--db",
        &db,
        "srs",
        "seed",
        "--domains",
        domains,
    ]);
    let s = Server::start(&cfg, &db, port);
    (dir, s, cfg, db)
}

/// The DS lines `tldns keys list` prints for the KSK.
fn ds_lines(cfg: &str) -> Vec<String> {
    run_ok(&["--config", cfg, "keys", "list"])
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("DS for the parent: ")
                .map(String::from)
        })
        .collect()
}

/// RFC 4035 end to end: unbound, anchored at our DS, validates every kind
/// of answer, and no name fails over 1,000 random ones.
#[test]
fn unbound_validates_our_answers() {
    if !have_tool("unbound") || !have_tool("dig") {
        return;
    }
    let (dir, s, cfg, db) = start_signed_server("400", false);
    let c = cfg.to_str().unwrap();
    let ds = ds_lines(c);
    assert!(!ds.is_empty());
    let names = run_ok(&["--config", c, "--db", &db, "srs", "list"]);
    let with_ds = run_ok(&["--config", c, "--db", &db, "srs", "list", "--with-ds"]);
    let with_ds: Vec<&str> = with_ds.lines().collect();
    let without_ds: Vec<&str> = names.lines().filter(|n| !with_ds.contains(n)).collect();

    let unbound = common::unbound::Unbound::start(dir.path(), &ds, "mobile.", s.port);
    let ask = |name: &str, t: &str| unbound.ask(name, t);
    let log = || unbound.log();
    let secure = |name: &str, t: &str, want: &str| {
        let out = ask(name, t);
        assert_eq!(status(&out), want, "{name} {t}:\n{out}\n{}", log());
        assert!(
            flags(&out).contains(&"ad".to_string()),
            "{name} {t} not validated:\n{out}\n{}",
            log()
        );
        out
    };
    secure("mobile", "SOA", "NOERROR");
    secure("mobile", "DNSKEY", "NOERROR");
    // Held names are registered but not delegated: pick delegated ones by
    // asking tldns itself.
    let delegated = |n: &&&str| status(&dig(s.port, &[n, "DS"])) == "NOERROR";
    let signed = with_ds
        .iter()
        .find(delegated)
        .expect("a delegation with DS");
    let unsigned = without_ds
        .iter()
        .filter(|n| !n.starts_with("nic."))
        .find(delegated)
        .expect("one without DS");
    let out = secure(signed, "DS", "NOERROR");
    assert!(!section(&out, "ANSWER").is_empty(), "{out}");
    // Insecure delegation: the NSEC3 proof that there is no DS validates.
    let out = secure(unsigned, "DS", "NOERROR");
    assert!(section(&out, "ANSWER").is_empty(), "{out}");
    secure("surely-not-registered-4711.mobile", "A", "NXDOMAIN");
    secure("a.b.surely-not-registered-4711.mobile", "TXT", "NXDOMAIN");

    // 1,000 random existing (DS, answered by us) and non-existing names.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let existing: Vec<&str> = names.lines().collect();
    let mut servfail = Vec::new();
    for i in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (name, t) = if i % 2 == 0 {
            (existing[(x as usize) % existing.len()].to_string(), "DS")
        } else {
            (format!("nx{:x}.mobile", x), "A")
        };
        let out = ask(&name, t);
        let st = status(&out);
        if st == "SERVFAIL" || st.is_empty() {
            servfail.push(format!("{name} {t}: {st}"));
        }
    }
    assert!(
        servfail.is_empty(),
        "{} failures: {:?}\n{}",
        servfail.len(),
        &servfail[..servfail.len().min(10)],
        log()
    );
}

/// A version that fails verification is never published: the server goes
/// on serving the previous one (the .se 2022 and .de 2010 incidents).
#[test]
fn bad_versions_are_refused_and_the_previous_one_keeps_serving() {
    if !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("faults");
    let port = free_port();
    let cfg = config(dir.path(), port, false);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("reload-interval-secs = 5", "reload-interval-secs = 1");
    std::fs::write(&cfg, text).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap();
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
    let fault = dir.path().join("fault");
    let log = dir.path().join("server.log");
    let mut child = tldns()
        .args(["--config", c, "--db", &db, "serve"])
        .env("TLDNS_FAULT_FILE", &fault)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _k = Kill(&mut child);
    let serial = || -> Option<u32> {
        let out = dig(port, &["mobile", "SOA"]);
        section(&out, "ANSWER")
            .first()
            .and_then(|r| r.2.split_whitespace().nth(2)?.parse().ok())
    };
    let wait = |what: &str, f: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(
                Instant::now() < deadline,
                "timed out: {what}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("first version", &|| serial().is_some());
    let first = serial().unwrap();
    let mut n = 0;
    for f in ["corrupt-rrsig", "drop-nsec3"] {
        std::fs::write(&fault, f).unwrap();
        n += 1;
        let name = format!("after-fault-{n}.mobile");
        run_ok(&[
            "--config",
            c,
            "--db",
            &db,
            "srs",
            "add-domain",
            &name,
            "--ns",
            "ns1.elsewhere.net",
        ]);
        let refusals = || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .matches("build failed")
                .count()
        };
        wait("the refusal", &|| refusals() >= n);
        assert_eq!(serial(), Some(first), "{f}: a bad version was published");
        assert_eq!(
            status(&dig(port, &[&name, "DS"])),
            "NXDOMAIN",
            "{f}: new data served from a bad version"
        );
    }
    // Without the fault, the next change is published, with everything
    // committed meanwhile. (The same state is not retried in a loop: a
    // failed state waits for a new commit, SIGHUP or a minute.)
    std::fs::remove_file(&fault).unwrap();
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "add-domain",
        "after-repair.mobile",
        "--ns",
        "ns1.elsewhere.net",
    ]);
    wait("a good version", &|| serial().is_some_and(|s| s != first));
    assert_eq!(
        status(&dig(port, &["after-fault-2.mobile", "DS"])),
        "NOERROR"
    );
    assert_eq!(
        status(&dig(port, &["after-repair.mobile", "DS"])),
        "NOERROR"
    );
}

/// Too large a change in the delegation count is refused (.se 2009).
#[tokio::test]
async fn implausible_delegation_count_change_is_refused() {
    let dir = TempDir::new("count");
    let cfg = Config::load(&config(dir.path(), 5353, false)).unwrap();
    let srs = Srs::connect(&format!(
        "sqlite://{}",
        dir.path().join("srs.sqlite").display()
    ))
    .await
    .unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &cfg.origin, &cfg.apex_ns, 100, 3, false)
        .await
        .unwrap();
    let mut p = Pipeline::new(cfg, srs.clone()).await.unwrap();
    let built = p.build().await.unwrap();
    p.publish(&built, None).unwrap();
    for name in srs.list(false, Some(30)).await.unwrap() {
        if !name.starts_with("nic.") {
            srs.remove_domain(&name).await.unwrap();
        }
    }
    let err = p.build().await.unwrap_err().to_string();
    assert!(err.contains("verification refused"), "{err}");
}

/// Two keys with one tag (the .de 2026 incident) are refused when keys are
/// (re)loaded, and the server goes on serving the version it has. (The
/// verifier refuses a DNSKEY set with a duplicate tag as well: see
/// `verify::tests`.)
#[test]
fn duplicate_key_tag_is_refused_and_the_server_keeps_serving() {
    if !have_tool("dig") {
        return;
    }
    let (dir, s, cfg, _db) = start_signed_server("50", false);
    let serial = || {
        section(&dig(s.port, &["mobile", "SOA"]), "ANSWER")[0]
            .2
            .clone()
    };
    let before = serial();
    let keys = dir.path().join("keys");
    let private = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "private"))
        .unwrap();
    let base = private
        .to_str()
        .unwrap()
        .strip_suffix(".private")
        .unwrap()
        .to_string();
    let tag = base.rsplit('+').next().unwrap().to_string();
    let copy = base.replace(&format!("+{tag}"), "+99999");
    for ext in ["key", "private"] {
        std::fs::copy(format!("{base}.{ext}"), format!("{copy}.{ext}")).unwrap();
    }
    let ok = Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s.log().contains("new configuration refused") {
        assert!(Instant::now() < deadline, "no refusal:\n{}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let refusal = s
        .log()
        .lines()
        .find(|l| l.contains("new configuration refused"))
        .unwrap()
        .to_string();
    assert!(
        refusal.contains(&format!("key tag {}", tag.trim_start_matches('0'))),
        "{refusal}"
    );
    assert!(refusal.contains("99999"), "{refusal}");
    let out = dig(s.port, &["+dnssec", "mobile", "DNSKEY"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert_eq!(
        section(&out, "ANSWER")
            .iter()
            .filter(|r| r.1 == "DNSKEY")
            .count(),
        2,
        "{out}"
    );
    assert!(!serial().is_empty() && !before.is_empty());
    let _ = cfg;
}
