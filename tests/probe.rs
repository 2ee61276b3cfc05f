//! The SLA probe (Spec 10 §3) end to end: against tldns serving the signed
//! demo zone, against NSD serving a copy and a zone signed by
//! `ldns-signzone`, and against servers that fail in the ways a probe must
//! notice: a bad signature, a missing NSEC3 proof, a wrong answer, no answer.

mod common;
use common::*;
use serde_json::Value;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tldns_base::iana::Rcode;
use tldns_base::message::{Builder, Message, flag, section};

/// An `nsd -d` process, killed on drop.
struct Nsd {
    child: Child,
    port: u16,
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nsd(dir: &Path, zone: &str, zonefile: &Path) -> Nsd {
    let port = free_port();
    let d = dir.display();
    let conf = dir.join("nsd.conf");
    std::fs::write(
        &conf,
        format!(
            "server:\n  port: {port}\n  ip-address: 127.0.0.1@{port}\n  username: \"\"\n  chroot: \"\"\n  database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  xfrdir: \"{d}\"\n  rrl-ratelimit: 0\n  verbosity: 1\nremote-control:\n  control-enable: no\nzone:\n  name: {zone}\n  zonefile: \"{}\"\n",
            zonefile.display()
        ),
    )
    .unwrap();
    let log = dir.join("nsd.log");
    let child = Command::new("nsd")
        .args(["-d", "-c", conf.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let n = Nsd { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let out = dig(port, &[zone, "SOA", "+short"]);
        if out.contains("hostmaster") {
            return n;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "nsd did not start: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// A small TLD zone signed by ldns-signzone (NSEC3, 0 iterations, no salt):
/// an in-bailiwick delegation with glue, an insecure one, a secure one.
/// Returns (signed zone file, DS file).
fn ldns_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let zone = dir.join("mobile.zone");
    std::fs::write(
        &zone,
        "$ORIGIN mobile.\n$TTL 3600\n\
         @ IN SOA a.nic.mobile. hostmaster.nic.mobile. 1 1800 900 1209600 900\n\
         @ 172800 IN NS a.nic.mobile.\n@ 172800 IN NS b.nic.mobile.\n\
         nic 172800 IN NS a.nic.mobile.\nnic 172800 IN NS b.nic.mobile.\n\
         a.nic 172800 IN A 127.0.0.1\nb.nic 172800 IN A 127.0.0.1\n\
         example 172800 IN NS ns1.host.net.\n\
         secure 172800 IN NS ns1.host.net.\n\
         secure 86400 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let keygen = |ksk: bool| {
        let mut c = Command::new("ldns-keygen");
        c.current_dir(dir).args(["-a", "ECDSAP256SHA256"]);
        if ksk {
            c.arg("-k");
        }
        let out = c.arg("mobile").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (ksk, zsk) = (keygen(true), keygen(false));
    let out = Command::new("ldns-signzone")
        .current_dir(dir)
        .args(["-n", "-t", "0", "-o", "mobile.", "mobile.zone", &zsk, &ksk])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        dir.join("mobile.zone.signed"),
        dir.join(format!("{ksk}.ds")),
    )
}

/// `tldns probe ARGS --json`: (exit success, test objects, other objects).
fn probe(args: &[&str]) -> (bool, Vec<Value>, Vec<Value>) {
    let out = tldns()
        .arg("probe")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut tests, mut other) = (Vec::new(), Vec::new());
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| {
            panic!(
                "not JSON: {l:?}: {e}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        if v.get("kind").is_some() {
            other.push(v);
        } else {
            tests.push(v);
        }
    }
    (out.status.success(), tests, other)
}

fn names_file(dir: &Path, names: &[&str]) -> PathBuf {
    let p = dir.join("names.txt");
    std::fs::write(&p, names.join("\n")).unwrap();
    p
}

/// Every test answered, over UDP and TCP, and every answer kind seen.
fn assert_all_answered(ok: bool, tests: &[Value]) {
    for t in tests {
        assert_eq!(t["answered"], true, "{t}");
        assert!(t["rtt_ms"].as_f64().unwrap() >= 0.0);
        assert!(t["reason"].is_null());
        for k in ["server", "transport", "qname", "qtype"] {
            assert!(t[k].is_string(), "{k} in {t}");
        }
    }
    for tr in ["udp", "tcp"] {
        for kind in ["positive", "referral", "nxdomain", "nodata"] {
            assert!(
                tests
                    .iter()
                    .any(|t| t["transport"] == tr && t["expect"] == kind),
                "{tr} {kind}: {tests:?}"
            );
        }
    }
    assert!(ok);
}

/// tldns serving the seeded, signed demo zone.
fn tldns_signed(dir: &TempDir) -> (Server, String, String) {
    let port = free_port();
    let cfg = write_config(dir.path(), port, true, "");
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap().to_string();
    run_ok(&["--config", &c, "--db", &db, "srs", "init"]);
    run_ok(&[
        "--config",
        &c,
        "--db",
        &db,
        "srs",
        "seed",
        "--domains",
        "300",
    ]);
    let s = Server::start(&cfg, &db, port);
    (s, c, db)
}

#[test]
fn spec10_section_3_7_tldns_signed_demo_all_answered() {
    if !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("probe-tldns");
    let (s, c, db) = tldns_signed(&dir);
    // Names as the SRS lists them, some with DS (secure referrals).
    let mut names = run_ok(&["--config", &c, "--db", &db, "srs", "list", "--limit", "20"]);
    names.push_str(&run_ok(&[
        "--config",
        &c,
        "--db",
        &db,
        "srs",
        "list",
        "--with-ds",
        "--limit",
        "5",
    ]));
    // Only delegated names: some registrations are held or refused by policy.
    let names: String = names
        .lines()
        .filter(|n| status(&dig(s.port, &[n, "A"])) == "NOERROR")
        .map(|n| format!("{n}\n"))
        .collect();
    let names_path = dir.path().join("names.txt");
    std::fs::write(&names_path, names).unwrap();
    // The trust anchor as the parent has it: the DS `keys list` prints.
    let keys = run_ok(&["--config", &c, "keys", "list"]);
    let ds: String = keys
        .lines()
        .filter_map(|l| l.split("DS for the parent: ").nth(1))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!ds.is_empty(), "{keys}");
    let anchor = dir.path().join("mobile.ds");
    std::fs::write(&anchor, ds).unwrap();
    let server = format!("127.0.0.1:{}", s.port);
    let (ok, tests, other) = probe(&[
        "--zone",
        "mobile",
        "--server",
        &server,
        "--trust-anchor",
        anchor.to_str().unwrap(),
        "--names",
        names_path.to_str().unwrap(),
        "--referrals",
        "10",
        "--once",
    ]);
    assert_eq!(tests.len(), 2 * (4 + 10 + 2), "{tests:?}");
    assert_all_answered(ok, &tests);
    assert!(
        other
            .iter()
            .any(|o| o["kind"] == "summary" && o["transport"] == "tcp")
    );
    // The keys directory works as an anchor too (the zone's own keys).
    let keys_dir = dir.path().join("keys");
    let (ok, tests, _) = probe(&[
        "--zone",
        "mobile.",
        "--server",
        &server,
        "--trust-anchor",
        keys_dir.to_str().unwrap(),
        "--once",
    ]);
    assert_all_answered(ok, &tests);
}

#[test]
fn interop_nsd_serving_a_copy_of_the_demo_zone() {
    if !have_tool("dig") || !have_tool("nsd") {
        return;
    }
    let help = run_ok(&["--help"]);
    if !help.contains("export") {
        eprintln!("SKIPPED: this build has no `tldns export` to copy the zone with");
        return;
    }
    let dir = TempDir::new("probe-nsd-copy");
    let (_s, c, db) = tldns_signed(&dir);
    let out = dir.path().join("export");
    run_ok(&[
        "--config",
        &c,
        "--db",
        &db,
        "export",
        "--out",
        out.to_str().unwrap(),
    ]);
    let gz = std::fs::File::open(out.join("mobile.zone.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text).unwrap();
    // Spec 4 §2.1.4 repeats the SOA as the last record; a zone file has it once.
    let mut soa_seen = false;
    let text: String = text
        .lines()
        .filter(|l| {
            let soa = l.split('\t').nth(3) == Some("soa");
            let dup = soa && soa_seen;
            soa_seen |= soa;
            !dup
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let copy = dir.path().join("copy.zone");
    std::fs::write(&copy, &text).unwrap();
    let n = nsd(dir.path(), "mobile.", &copy);
    let names = run_ok(&[
        "--config",
        &c,
        "--db",
        &db,
        "srs",
        "list",
        "--with-ds",
        "--limit",
        "5",
    ]);
    let names: String = names
        .lines()
        .filter(|name| status(&dig(n.port, &[name, "A"])) == "NOERROR")
        .map(|name| format!("{name}\n"))
        .collect();
    let names_path = dir.path().join("names.txt");
    std::fs::write(&names_path, names).unwrap();
    let (ok, tests, _) = probe(&[
        "--zone",
        "mobile",
        "--server",
        &format!("127.0.0.1:{}", n.port),
        "--trust-anchor",
        dir.path().join("keys").to_str().unwrap(),
        "--names",
        names_path.to_str().unwrap(),
        "--referrals",
        "5",
        "--once",
    ]);
    assert_all_answered(ok, &tests);
}

#[test]
fn interop_nsd_ldns_signed_zone_and_a_corrupted_rrsig() {
    if !have_tool("nsd") || !have_tool("ldns-signzone") || !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("probe-nsd-ldns");
    let (signed, ds) = ldns_signed(dir.path());
    let good = nsd(dir.path(), "mobile.", &signed);
    let names = names_file(dir.path(), &["nic", "example", "secure"]);
    let base = |port: u16| {
        vec![
            "--zone".to_string(),
            "mobile".into(),
            "--server".into(),
            format!("127.0.0.1:{port}"),
            "--trust-anchor".into(),
            ds.to_str().unwrap().into(),
            "--names".into(),
            names.to_str().unwrap().into(),
            "--referrals".into(),
            "3".into(),
            "--once".into(),
        ]
    };
    let args = base(good.port);
    let (ok, tests, _) = probe(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_all_answered(ok, &tests);

    // One RRSIG corrupted (the SOA's) and the DS RRset's too, served by NSD.
    let bad_dir = TempDir::new("probe-nsd-bad");
    let text = std::fs::read_to_string(&signed).unwrap();
    let corrupt = |line: &str| -> String {
        // Flip one character in the middle of the signature field.
        let cut = line.rfind(|c: char| c.is_whitespace()).unwrap() + 10;
        let mut b = line.as_bytes().to_vec();
        b[cut] = if b[cut] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let mut hit = 0;
    let bad: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() > 4 && f[3] == "RRSIG" && (f[4] == "SOA" || f[4] == "DS") {
                hit += 1;
                corrupt(l)
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    assert_eq!(hit, 2, "{text}");
    let bad_zone = bad_dir.path().join("mobile.zone.bad");
    std::fs::write(&bad_zone, bad).unwrap();
    let badns = nsd(bad_dir.path(), "mobile.", &bad_zone);
    let args = base(badns.port);
    let (ok, tests, _) = probe(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!ok, "unanswered tests make the run fail");
    for t in &tests {
        let carries_soa =
            t["qtype"] == "SOA" || t["expect"] == "nxdomain" || t["expect"] == "nodata";
        let secure = t["qname"] == "secure.mobile.";
        if carries_soa || secure {
            assert_eq!(t["answered"], false, "{t}");
            assert_eq!(t["reason"], "bogus-signature", "{t}");
            assert!(
                t["detail"].as_str().unwrap().contains("does not verify"),
                "{t}"
            );
        } else {
            assert_eq!(t["answered"], true, "{t}");
        }
    }
}

/// `m` in wire form again, uncompressed, with its OPT record if it had one.
fn to_wire(m: &Message) -> Vec<u8> {
    let mut b = Builder::new(m.id, m.flags, 65_535);
    for q in &m.questions {
        b.question(&q.name, q.qtype, q.qclass);
    }
    for (s, rrs) in [
        (section::ANSWER, &m.answers),
        (section::AUTHORITY, &m.authority),
        (section::ADDITIONAL, &m.additional),
    ] {
        for r in rrs {
            assert!(b.record(s, &r.owner, r.rtype, r.class, r.ttl, &r.rdata));
        }
    }
    if let Some(e) = &m.edns {
        assert!(b.edns(e.payload, m.rcode(), e.dnssec_ok, &e.options));
    }
    b.finish()
}

/// Set the RCODE of `m` (header bits and the OPT record's upper bits).
fn set_rcode(m: &mut Message, rcode: Rcode) {
    m.flags = (m.flags & !0x000F) | rcode.header_bits() as u16;
    if let Some(e) = &mut m.edns {
        e.ext_rcode = rcode.extended_bits();
    }
}

/// A UDP proxy in front of `upstream` that rewrites responses with `f`.
fn proxy(upstream: SocketAddr, f: fn(&mut Message)) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let up = UdpSocket::bind("127.0.0.1:0").unwrap();
        up.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = vec![0u8; 65535];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                return;
            };
            up.send_to(&buf[..n], upstream).unwrap();
            let Ok(m) = up.recv(&mut buf) else { continue };
            let mut msg = Message::parse(&buf[..m]).unwrap();
            f(&mut msg);
            let _ = sock.send_to(&to_wire(&msg), from);
        }
    });
    addr
}

#[test]
fn missing_nsec3_proof_and_wrong_answer_are_unanswered() {
    if !have_tool("nsd") || !have_tool("ldns-signzone") || !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("probe-faults");
    let (signed, ds) = ldns_signed(dir.path());
    let n = nsd(dir.path(), "mobile.", &signed);
    let names = names_file(dir.path(), &["nic", "example"]);
    // NXDOMAIN without its NSEC3 records; referrals turned into NXDOMAIN.
    let p = proxy(SocketAddr::from(([127, 0, 0, 1], n.port)), |m| {
        if m.rcode() == Rcode::NXDOMAIN {
            m.authority
                .retain(|r| r.rtype != 50 && r.covered() != Some(50));
        } else if !m.has(flag::AA) && m.answers.is_empty() {
            set_rcode(m, Rcode::NXDOMAIN);
        }
    });
    let (ok, tests, _) = probe(&[
        "--zone",
        "mobile",
        "--server",
        &p.to_string(),
        "--trust-anchor",
        ds.to_str().unwrap(),
        "--names",
        names.to_str().unwrap(),
        "--referrals",
        "2",
        "--transport",
        "udp",
        "--once",
    ]);
    assert!(!ok);
    for t in &tests {
        match t["expect"].as_str().unwrap() {
            "nxdomain" => assert_eq!(t["reason"], "missing-nsec3", "{t}"),
            "referral" => {
                assert_eq!(t["reason"], "wrong-answer", "{t}");
                assert!(t["detail"].as_str().unwrap().contains("RCODE 3"), "{t}");
            }
            _ => assert_eq!(t["answered"], true, "{t}"),
        }
    }
}

#[test]
fn no_answer_refused_port_and_a_server_that_drops() {
    if !have_tool("nsd") || !have_tool("ldns-signzone") {
        return;
    }
    let dir = TempDir::new("probe-silent");
    let (_, ds) = ldns_signed(dir.path());
    let nothing = free_port();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let started = Instant::now();
    let (ok, tests, other) = probe(&[
        "--zone",
        "mobile",
        "--server",
        &format!("127.0.0.1:{nothing}"),
        "--server",
        &silent_addr.to_string(),
        "--trust-anchor",
        ds.to_str().unwrap(),
        "--referrals",
        "0",
        "--nxdomains",
        "1",
        "--transport",
        "udp",
        "--once",
    ]);
    assert!(!ok);
    assert_eq!(tests.len(), 2 * 5);
    for t in &tests {
        assert_eq!(t["answered"], false, "{t}");
        let want = if t["server"] == silent_addr.to_string() {
            "timeout"
        } else {
            "refused"
        };
        assert_eq!(t["reason"], want, "{t}");
        if want == "timeout" {
            assert!(t["rtt_ms"].is_null(), "no RTT without a response: {t}");
        }
    }
    // Spec 10 §3.7: 5 x 500 ms; one timeout per test, tests in sequence.
    assert!(started.elapsed() >= Duration::from_millis(2500));
    assert!(
        other
            .iter()
            .any(|o| o["kind"] == "summary" && o["availability"] == 0.0)
    );
    drop(silent);
}

#[test]
fn interval_summary_load_run_and_chart() {
    if !have_tool("nsd") || !have_tool("ldns-signzone") || !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("probe-interval");
    let (signed, ds) = ldns_signed(dir.path());
    let n = nsd(dir.path(), "mobile.", &signed);
    let server = format!("127.0.0.1:{}", n.port);
    let (ok, tests, other) = probe(&[
        "--zone",
        "mobile",
        "--server",
        &server,
        "--trust-anchor",
        ds.to_str().unwrap(),
        "--interval",
        "300ms",
        "--duration",
        "900ms",
    ]);
    assert!(ok);
    // One test per address and transport per interval (Spec 10 §3.8).
    assert_eq!(tests.len(), 3 * 2, "{tests:?}");
    let last: Vec<&Value> = other.iter().filter(|o| o["kind"] == "summary").collect();
    assert_eq!(last.len(), 3 * 2, "a running summary each round");
    assert_eq!(last[last.len() - 1]["tests"], 3);
    assert_eq!(last[last.len() - 1]["rtt_slr_met"], true);

    let chart = dir.path().join("rtt.png");
    let (ok, tests, other) = probe(&[
        "--zone",
        "mobile",
        "--server",
        &server,
        "--trust-anchor",
        ds.to_str().unwrap(),
        "--load",
        "400",
        "--duration",
        "1s",
        "--transport",
        "udp",
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert!(ok);
    assert_eq!(tests.len(), 400);
    assert!(tests.iter().all(|t| t["answered"] == true));
    let s = other.iter().find(|o| o["kind"] == "summary").unwrap();
    assert_eq!(s["unanswered"], 0);
    assert!(s["p50_ms"].as_f64().unwrap() > 0.0);
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn spec10_section_3_6_update_time_through_the_srs() {
    if !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("probe-update");
    let (s, c, db) = tldns_signed(&dir);
    let (ok, _, other) = probe(&[
        "--config",
        &c,
        "--db",
        &db,
        "--zone",
        "mobile",
        "--server",
        &format!("127.0.0.1:{}", s.port),
        "--trust-anchor",
        dir.path().join("keys").to_str().unwrap(),
        "--update-time",
        "--poll",
        "200ms",
        "--duration",
        "120s",
    ]);
    assert!(ok, "{other:?}\n{}", s.log());
    let sums: Vec<&Value> = other
        .iter()
        .filter(|o| o["kind"] == "update-summary")
        .collect();
    assert_eq!(sums.len(), 2, "add, then remove: {other:?}");
    for u in sums {
        let t = u["update_time_s"].as_f64().unwrap();
        assert!(t > 0.0 && t < 60.0, "{u}");
        assert_eq!(u["slr_met"], true);
    }
    let per: Vec<&Value> = other.iter().filter(|o| o["kind"] == "update").collect();
    assert_eq!(per.len(), 4, "2 changes x UDP and TCP: {per:?}");
    // The probe removed its test domain again.
    let left = run_ok(&["--config", &c, "--db", &db, "srs", "list"]);
    assert!(!left.contains("tldns-probe-"), "{left}");
}
