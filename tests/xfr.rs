//! Transfers for real: a tldns primary following an SRS (PostgreSQL, and
//! SQLite), with NSD, Knot and a tldns secondary pulling over TSIG on
//! loopback. After a change committed in the SRS every secondary answers
//! the new data, having used IXFR; an AXFR from each passes
//! `ldns-verify-zone`; a transfer without the key is refused.
//! Across a restart of the primary (killed, restarted), an NSD secondary at
//! the old serial gets an IXFR, and the signatures are the ones it had.
//! Also: the docker-compose topology parses and is wired the same way.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(what: &'static str, cmd: &mut Command, log: PathBuf) -> Proc {
        let f = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}"));
        Proc { child, log }
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ALG: &str = "hmac-sha256";
// Test-only secrets (32 random octets, base64).
const NSD_KEY: (&str, &str) = ("nsd-key.", "n0DpkQ4s3Xb5p3cR0+H7C8N8vY2mZ5h6uYH5b8tQm3Y=");
const KNOT_KEY: (&str, &str) = ("knot-key.", "q2vY6mQ0J1Jf3rj6g9Hk2o7m4eZb6v4W1Xw2o9pQ0aE=");
const TLDNS_KEY: (&str, &str) = ("tldns-key.", "Wm9V3sC9c6u4zN2gC1kP7yJm8T5eR0bQ3hX6vA1nL2s=");
const DIG_KEY: (&str, &str) = ("dig-key.", "c3VwZXItc2VjcmV0LWtleS1mb3ItZGlnLXRlc3RzISE=");

fn tsig_toml(keys: &[(&str, &str)]) -> String {
    keys.iter()
        .map(|(n, s)| {
            format!("[[tsig-key]]\nname = \"{n}\"\nalgorithm = \"{ALG}\"\nsecret = \"{s}\"\n")
        })
        .collect()
}

fn secondary_toml(port: u16, key: &str, notify: bool) -> String {
    format!(
        "[[transfer.secondaries]]\naddress = \"127.0.0.1:{port}\"\nnotify = {notify}\ntsig-key = \"{key}\"\n"
    )
}

fn tldns_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let cfg = write_config(dir, port, true, extra);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("reload-interval-secs = 5", "reload-interval-secs = 1");
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// Log text without ANSI colours.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// SOA serial at `port` (UDP), if it answers.
fn serial(port: u16) -> Option<u32> {
    let out = dig(port, &["mobile.", "SOA", "+short"]);
    out.split_whitespace().nth(2)?.parse().ok()
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool, logs: &dyn Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for {what}\n{}", logs());
}

/// AXFR with TSIG into a file of zone records, then ldns-verify-zone.
fn axfr_verifies(port: u16, key: (&str, &str), dir: &Path, tag: &str) -> usize {
    let out = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+onesoa",
            "+nocmd",
            "+nostats",
        ])
        .args(["-y", &format!("{ALG}:{}:{}", key.0, key.1)])
        .args(["mobile.", "AXFR"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Transfer failed"), "{tag}: {text}");
    let records: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .filter(|l| l.split_whitespace().nth(3) != Some("TSIG"))
        .collect();
    let file = dir.join(format!("{tag}.axfr"));
    std::fs::write(&file, records.join("\n") + "\n").unwrap();
    let v = Command::new("ldns-verify-zone")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "{tag}: ldns-verify-zone failed:\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    records.len()
}

fn nsd_conf(dir: &Path, port: u16, primary: u16) -> PathBuf {
    let d = dir.display();
    let (kn, ks) = NSD_KEY;
    let (dn, ds) = DIG_KEY;
    let conf = format!(
        r#"server:
    ip-address: 127.0.0.1@{port}
    port: {port}
    zonesdir: "{d}"
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    zonelistfile: "{d}/zone.list"
    database: ""
    username: ""
    chroot: ""
    logfile: "{d}/nsd.log"
    verbosity: 2
remote-control:
    control-enable: no
key:
    name: "{kn}"
    algorithm: {ALG}
    secret: "{ks}"
key:
    name: "{dn}"
    algorithm: {ALG}
    secret: "{ds}"
zone:
    name: "mobile."
    zonefile: "mobile.zone"
    allow-notify: 127.0.0.1 {kn}
    request-xfr: 127.0.0.1@{primary} {kn}
    provide-xfr: 127.0.0.1 {dn}
"#
    );
    let p = dir.join("nsd.conf");
    std::fs::write(&p, conf).unwrap();
    p
}

/// NSD as a secondary of the primary at `primary`, in `<dir>/nsd`.
fn spawn_nsd(dir: &Path, port: u16, primary: u16) -> (Proc, PathBuf) {
    let nsd_dir = dir.join("nsd");
    std::fs::create_dir_all(&nsd_dir).unwrap();
    let nconf = nsd_conf(&nsd_dir, port, primary);
    let nsd = Proc::spawn(
        "nsd",
        Command::new("nsd").arg("-c").arg(&nconf).arg("-d"),
        nsd_dir.join("nsd.stderr"),
    );
    (nsd, nsd_dir)
}

fn knot_conf(dir: &Path, port: u16, primary: u16) -> PathBuf {
    let d = dir.display();
    let (kn, ks) = KNOT_KEY;
    let (dn, ds) = DIG_KEY;
    let conf = format!(
        r#"server:
    listen: 127.0.0.1@{port}
    rundir: "{d}"
log:
  - target: "{d}/knot.log"
    any: info
database:
    storage: "{d}"
key:
  - id: {kn}
    algorithm: {ALG}
    secret: {ks}
  - id: {dn}
    algorithm: {ALG}
    secret: {ds}
remote:
  - id: primary
    address: 127.0.0.1@{primary}
    key: {kn}
acl:
  - id: from_primary
    address: 127.0.0.1
    key: {kn}
    action: notify
  - id: to_dig
    address: 127.0.0.1
    key: {dn}
    action: transfer
template:
  - id: default
    storage: "{d}"
    journal-content: changes
zone:
  - domain: mobile.
    master: primary
    acl: [from_primary, to_dig]
    zonefile-sync: -1
    zonefile-load: none
"#
    );
    let p = dir.join("knot.conf");
    std::fs::write(&p, conf).unwrap();
    p
}

fn interop(db: &str) {
    for t in ["dig", "nsd", "knotd", "ldns-verify-zone"] {
        if !have_tool(t) {
            return;
        }
    }
    let dir = TempDir::new("xfr");
    let (p_port, nsd_port, knot_port, sec_port, sec_notify) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );

    // The primary: signed, following the SRS every second, three secondaries.
    let mut extra = tsig_toml(&[NSD_KEY, KNOT_KEY, TLDNS_KEY, DIG_KEY]);
    extra.push_str("[transfer]\nixfr-history = 8\n");
    extra.push_str(&secondary_toml(nsd_port, NSD_KEY.0, true));
    extra.push_str(&secondary_toml(knot_port, KNOT_KEY.0, true));
    extra.push_str(&secondary_toml(sec_notify, TLDNS_KEY.0, true));
    extra.push_str(&secondary_toml(1, DIG_KEY.0, false));
    let pcfg = tldns_config(&dir.path().join("primary"), p_port, &extra);
    let c = pcfg.to_str().unwrap();
    run_ok(&["--config", c, "--db", db, "srs", "init"]);
    run_ok(&["--config", c, "--db", db, "srs", "seed", "--domains", "200"]);
    let primary = Server::start(&pcfg, db, p_port);
    let first = serial(p_port).expect("primary answers SOA");

    // A transfer without the key is refused.
    let out = Command::new("dig")
        .args(["@127.0.0.1", "-p", &p_port.to_string(), "mobile.", "AXFR"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Transfer failed"), "{text}");
    assert!(!text.contains("\tNS\t"), "{text}");
    // And with a key the primary does not know: NOTAUTH/BADKEY.
    let out = Command::new("dig")
        .args(["@127.0.0.1", "-p", &p_port.to_string(), "mobile.", "AXFR"])
        .args(["-y", &format!("{ALG}:stranger.:{}", DIG_KEY.1)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("\tNS\t"), "{text}");

    // The secondaries.
    let (nsd, nsd_dir) = spawn_nsd(dir.path(), nsd_port, p_port);
    let knot_dir = dir.path().join("knot");
    std::fs::create_dir_all(&knot_dir).unwrap();
    let kconf = knot_conf(&knot_dir, knot_port, p_port);
    let knot = Proc::spawn(
        "knotd",
        Command::new("knotd").arg("-c").arg(&kconf),
        knot_dir.join("knotd.stderr"),
    );
    let mut sextra = tsig_toml(&[TLDNS_KEY, DIG_KEY]);
    sextra.push_str(&format!(
        "[secondary]\nnotify-listen = \"127.0.0.1:{sec_notify}\"\nprimaries = [{{ address = \"127.0.0.1:{p_port}\", tsig-key = \"{}\" }}]\n",
        TLDNS_KEY.0
    ));
    sextra.push_str(&secondary_toml(1, DIG_KEY.0, false));
    let scfg = tldns_config(&dir.path().join("secondary"), sec_port, &sextra);
    let sec = Proc::spawn(
        "tldns secondary",
        tldns().args(["--config", scfg.to_str().unwrap(), "secondary"]),
        dir.path().join("secondary.log"),
    );
    let logs = || {
        format!(
            "--- primary\n{}\n--- nsd\n{}{}\n--- knot\n{}{}\n--- tldns secondary\n{}",
            primary.log(),
            nsd.log(),
            std::fs::read_to_string(nsd_dir.join("nsd.log")).unwrap_or_default(),
            knot.log(),
            std::fs::read_to_string(knot_dir.join("knot.log")).unwrap_or_default(),
            sec.log()
        )
    };
    let ports = [("nsd", nsd_port), ("knot", knot_port), ("tldns", sec_port)];
    for (name, port) in ports {
        wait_for(
            &format!("{name} to load serial {first}"),
            60,
            || serial(port) == Some(first),
            &logs,
        );
    }

    // Spec 10 §3.6: the probe's update time, through the SRS, until the
    // primary and the NSD secondary both answer with the change.
    let keys = dir.path().join("primary").join("keys");
    let out = tldns()
        .args([
            "--config", c, "--db", db, "probe", "--zone", "mobile", "--json",
        ])
        .args(["--server", &format!("127.0.0.1:{p_port}")])
        .args(["--server", &format!("127.0.0.1:{nsd_port}")])
        .args(["--trust-anchor", keys.to_str().unwrap()])
        .args(["--update-time", "--poll", "100ms", "--duration", "120s"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        logs()
    );
    let updates: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "update")
        .collect();
    for port in [p_port, nsd_port] {
        let server = format!("127.0.0.1:{port}");
        let times: Vec<f64> = updates
            .iter()
            .filter(|u| u["server"] == server.as_str())
            .filter_map(|u| u["update_time_s"].as_f64())
            .collect();
        assert!(!times.is_empty(), "no update time for {server}: {text}");
        eprintln!("update time on {server}: {times:?} s");
    }
    let first = serial(p_port).expect("primary answers SOA");
    for (name, port) in ports {
        wait_for(
            &format!("{name} to load serial {first} after the probe's change"),
            60,
            || serial(port) == Some(first),
            &logs,
        );
    }

    // A change committed in the SRS reaches every secondary, by IXFR.
    run_ok(&[
        "--config",
        c,
        "--db",
        db,
        "srs",
        "add-domain",
        "xfr-test-new.mobile",
        "--ns",
        "ns1.example.net",
        "--ns",
        "ns2.example.net",
    ]);
    wait_for(
        "the primary to publish a new serial",
        60,
        || serial(p_port).is_some_and(|s| s != first),
        &logs,
    );
    let second = serial(p_port).unwrap();
    for (name, port) in ports {
        wait_for(
            &format!("{name} to serve serial {second} with the new delegation"),
            60,
            || {
                serial(port) == Some(second)
                    && section(&dig(port, &["xfr-test-new.mobile.", "NS"]), "AUTHORITY")
                        .iter()
                        .any(|r| r.1 == "NS" && r.2 == "ns1.example.net.")
            },
            &logs,
        );
    }
    // Which transfer each secondary used: its own log, and the primary's
    // (one line per transfer, with the secondary's TSIG key).
    let nsd_log = || std::fs::read_to_string(nsd_dir.join("nsd.log")).unwrap_or_default();
    let knot_log = || std::fs::read_to_string(knot_dir.join("knot.log")).unwrap_or_default();
    let ixfr_out = |key: &str| {
        plain(&primary.log())
            .lines()
            .any(|l| l.contains("IXFR out: incremental") && l.contains(&format!("key={key}")))
    };
    wait_for(
        "every secondary's IXFR to be logged",
        10,
        || {
            knot_log()
                .lines()
                .any(|l| l.contains("IXFR, incoming") && l.contains("finished"))
                // NSD 4.6 does not name the transfer type in its log: the
                // primary's line for NSD's key says it was incremental.
                && nsd_log().contains(&format!("is updated to {second}"))
                && plain(&sec.log()).contains("IXFR in: incremental")
                && [NSD_KEY.0, KNOT_KEY.0, TLDNS_KEY.0].iter().all(|k| ixfr_out(k))
        },
        &logs,
    );
    eprintln!(
        "transfers seen by the primary:\n{}",
        plain(&primary.log())
            .lines()
            .filter(|l| l.contains("XFR out") || l.contains("NOTIFY"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // AXFR from each secondary, verified by ldns.
    for (name, port) in ports {
        let n = axfr_verifies(port, DIG_KEY, dir.path(), name);
        assert!(n > 200, "{name}: {n} records");
    }
    drop(sec);
    drop(knot);
    drop(nsd);
    drop(primary);
}

/// The first RRSIG over `owner`'s `t` RRset at `port` (RDATA text).
fn rrsig(port: u16, owner: &str, t: &str) -> String {
    section(&dig(port, &[owner, t, "+dnssec"]), "ANSWER")
        .into_iter()
        .chain(section(&dig(port, &[owner, t, "+dnssec"]), "AUTHORITY"))
        .find(|r| r.1 == "RRSIG" && r.2.starts_with(t))
        .map(|r| r.2)
        .unwrap_or_default()
}

#[test]
fn nsd_gets_an_ixfr_after_the_primary_restarts() {
    for t in ["dig", "nsd"] {
        if !have_tool(t) {
            return;
        }
    }
    let dir = TempDir::new("xfr-restart");
    let (p_port, nsd_port) = (free_port(), free_port());
    let mut extra = tsig_toml(&[NSD_KEY, DIG_KEY]);
    extra.push_str("[transfer]\nixfr-history = 8\n");
    extra.push_str(&secondary_toml(nsd_port, NSD_KEY.0, true));
    extra.push_str(&secondary_toml(1, DIG_KEY.0, false));
    let pdir = dir.path().join("primary");
    let pcfg = tldns_config(&pdir, p_port, &extra);
    let c = pcfg.to_str().unwrap();
    let db = format!("sqlite://{}", pdir.join("srs.sqlite").display());
    run_ok(&["--config", c, "--db", &db, "srs", "init"]);
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "seed",
        "--domains",
        "120",
    ]);
    let primary = Server::start(&pcfg, &db, p_port);
    let first = serial(p_port).expect("primary answers SOA");

    let (nsd, nsd_dir) = spawn_nsd(dir.path(), nsd_port, p_port);
    let nsd_log = || std::fs::read_to_string(nsd_dir.join("nsd.log")).unwrap_or_default();
    wait_for(
        &format!("nsd to load serial {first}"),
        60,
        || serial(nsd_port) == Some(first),
        &|| format!("{}\n{}{}", primary.log(), nsd.log(), nsd_log()),
    );

    // A delegation with a DS, and the signature over it before the restart.
    let axfr = Command::new("dig")
        .args(["@127.0.0.1", "-p", &p_port.to_string(), "+onesoa"])
        .args(["-y", &format!("{ALG}:{}:{}", DIG_KEY.0, DIG_KEY.1)])
        .args(["mobile.", "AXFR"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&axfr.stdout).into_owned();
    let ds_owner = text
        .lines()
        .find(|l| l.split_whitespace().nth(3) == Some("DS"))
        .and_then(|l| l.split_whitespace().next())
        .expect("a delegation with a DS")
        .to_string();
    let before = rrsig(p_port, &ds_owner, "DS");
    assert!(!before.is_empty(), "{ds_owner}: no RRSIG over DS");

    // The primary dies (SIGKILL); a domain is registered meanwhile.
    drop(primary);
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "add-domain",
        "while-down.mobile",
        "--ns",
        "ns1.example.net",
    ]);
    let primary = Server::start(&pcfg, &db, p_port);
    let logs = || {
        format!(
            "--- primary\n{}\n--- nsd\n{}{}",
            primary.log(),
            nsd.log(),
            nsd_log()
        )
    };
    assert!(
        plain(&primary.log()).contains("serving the stored version"),
        "{}",
        logs()
    );
    wait_for(
        "the primary to publish the change",
        60,
        || serial(p_port).is_some_and(|s| s != first),
        &logs,
    );
    let second = serial(p_port).unwrap();
    wait_for(
        &format!("nsd to serve serial {second}"),
        60,
        || serial(nsd_port) == Some(second),
        &logs,
    );
    // NSD asked from the serial it had, and the restarted primary answered
    // incrementally (NSD 4.6 does not name the transfer type in its log).
    wait_for(
        "the primary's IXFR line for NSD",
        10,
        || {
            plain(&primary.log()).lines().any(|l| {
                l.contains("IXFR out: incremental") && l.contains(&format!("key={}", NSD_KEY.0))
            })
        },
        &logs,
    );
    assert!(
        !plain(&primary.log())
            .lines()
            .any(|l| l.contains("AXFR") && l.contains(&format!("key={}", NSD_KEY.0))),
        "{}",
        logs()
    );
    // The signature over the DS is the one served before the restart.
    assert_eq!(rrsig(p_port, &ds_owner, "DS"), before, "{}", logs());
    assert_eq!(rrsig(nsd_port, &ds_owner, "DS"), before, "{}", logs());
}

#[test]
fn interop_nsd_knot_tldns_secondaries_sqlite() {
    let db = common::testdb::TestDb::sqlite();
    interop(db.url());
}

#[test]
fn interop_nsd_knot_tldns_secondaries_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = rt.block_on(common::testdb::TestDb::postgres()) else {
        return;
    };
    interop(db.url());
}

/// docker-compose.yml: PostgreSQL, a tldns primary, a tldns secondary and
/// an NSD secondary, wired with TSIG.
#[test]
fn docker_compose_topology() {
    let ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 with PyYAML is required in CI");
        }
        eprintln!("SKIPPED: python3 with PyYAML is not installed");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = r#"
import json, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
print(json.dumps(d))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(repo.join("docker-compose.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let services = v["services"].as_object().expect("services");
    for s in ["postgres", "primary", "secondary", "nsd"] {
        assert!(services.contains_key(s), "service {s} missing");
    }
    let deps = |s: &str| v["services"][s]["depends_on"].clone();
    assert!(deps("primary").to_string().contains("postgres"));
    assert!(deps("secondary").to_string().contains("primary"));
    assert!(deps("nsd").to_string().contains("primary"));
    // Every config the services mount exists and the tldns ones parse, with
    // the TSIG wiring consistent across primary, secondary and NSD.
    let primary = tldns::config::Config::load(&repo.join("docker/primary.toml")).unwrap();
    let secondary = tldns::config::Config::load(&repo.join("docker/secondary.toml")).unwrap();
    let nsd = std::fs::read_to_string(repo.join("docker/nsd.conf")).unwrap();
    let keys: Vec<&str> = primary
        .zone
        .transfer
        .secondaries
        .iter()
        .map(|s| s.tsig_key.as_str())
        .collect();
    let sec = secondary.zone.secondary.as_ref().expect("[secondary]");
    let sk = sec.primaries[0].tsig_key.as_deref().unwrap();
    assert!(keys.contains(&sk));
    let secret = |c: &tldns::config::Config, k: &str| {
        c.zone
            .tsig_key
            .iter()
            .find(|t| t.name == k)
            .map(|t| t.secret.clone())
            .unwrap()
    };
    assert_eq!(secret(&primary, sk), secret(&secondary, sk));
    let nsd_key = keys.iter().find(|k| **k != sk).expect("a key for NSD");
    assert!(nsd.contains(&format!("name: \"{nsd_key}\"")), "{nsd}");
    assert!(nsd.contains(&secret(&primary, nsd_key)), "{nsd}");
    assert!(
        primary
            .zone
            .db
            .as_deref()
            .unwrap_or("")
            .starts_with("postgres://")
    );
    tldns::xfr::Primary::new(&primary).unwrap();
}
