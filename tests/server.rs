//! The foundation's acceptance, end to end: a seeded SQLite SRS, `tldns
//! serve`, and real `dig` queries over UDP and TCP.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn setup(dnssec: bool) -> Option<(TempDir, Server)> {
    if !have_tool("dig") {
        return None;
    }
    let dir = TempDir::new("server");
    let port = free_port();
    let cfg = write_config(dir.path(), port, dnssec, "");
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap();
    run_ok(&["--config", c, "--db", &db, "srs", "init"]);
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "seed",
        "--domains",
        "300",
    ]);
    let server = Server::start(&cfg, &db, port);
    Some((dir, server))
}

#[test]
fn rfc1034_answers_over_udp_and_tcp() {
    let Some((_dir, s)) = setup(false) else {
        return;
    };
    let p = s.port;

    // Apex SOA: authoritative.
    let out = dig(p, &["mobile", "SOA"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert!(flags(&out).contains(&"aa".to_string()), "{out}");
    let ans = section(&out, "ANSWER");
    assert_eq!(ans.len(), 1, "{out}");
    assert_eq!(ans[0].1, "SOA");
    assert!(
        ans[0].2.starts_with("a.nic.mobile. hostmaster.nic.mobile."),
        "{out}"
    );

    // A delegated name: referral, AA clear, NS in authority, glue in additional.
    let out = dig(p, &["www.nic.mobile", "A"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert!(!flags(&out).contains(&"aa".to_string()), "{out}");
    assert!(section(&out, "ANSWER").is_empty(), "{out}");
    let auth = section(&out, "AUTHORITY");
    assert!(
        auth.iter().all(|r| r.0 == "nic.mobile." && r.1 == "NS"),
        "{out}"
    );
    assert_eq!(auth.len(), 2, "{out}");
    let add = section(&out, "ADDITIONAL");
    assert!(
        add.iter()
            .any(|r| r.0 == "a.nic.mobile." && r.1 == "A" && r.2 == "127.0.0.1"),
        "{out}"
    );
    assert!(
        add.iter()
            .any(|r| r.0 == "a.nic.mobile." && r.1 == "AAAA" && r.2 == "::1"),
        "{out}"
    );

    // A seeded registration with in-bailiwick name servers gets its glue too.
    let seeded = run_ok(&[
        "--config",
        s.child_config(),
        "--db",
        &s.db(),
        "srs",
        "list",
        "--limit",
        "50",
    ]);
    let mut glue_seen = false;
    for name in seeded.lines().filter(|n| !n.starts_with("nic.")) {
        let out = dig(p, &[name, "A"]);
        if status(&out) != "NOERROR" {
            continue; // held or refused names are not delegated
        }
        assert!(!flags(&out).contains(&"aa".to_string()), "{out}");
        if section(&out, "ADDITIONAL")
            .iter()
            .any(|r| r.0.ends_with(&format!(".{name}.")))
        {
            glue_seen = true;
            break;
        }
    }
    assert!(
        glue_seen,
        "no seeded delegation with in-bailiwick glue answered"
    );

    // Unregistered: NXDOMAIN with the SOA, negative TTL per RFC 2308.
    let out = dig(p, &["surely-not-registered-zz9.mobile", "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    assert!(flags(&out).contains(&"aa".to_string()), "{out}");
    let auth = section(&out, "AUTHORITY");
    assert_eq!(auth.len(), 1, "{out}");
    assert_eq!(auth[0].1, "SOA");
    assert!(
        out.contains("mobile.\t\t900\tIN\tSOA") || out.contains("\t900\tIN\tSOA"),
        "{out}"
    );

    // NODATA at the apex.
    let out = dig(p, &["mobile", "A"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert!(section(&out, "ANSWER").is_empty(), "{out}");
    assert_eq!(section(&out, "AUTHORITY")[0].1, "SOA", "{out}");

    // Outside the zone.
    let out = dig(p, &["example.com", "A"]);
    assert_eq!(status(&out), "REFUSED", "{out}");

    // TCP.
    let out = dig(p, &["+tcp", "mobile", "SOA"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert_eq!(section(&out, "ANSWER").len(), 1, "{out}");

    // Two queries on one TCP connection, with dig's keepopen.
    let out = dig(p, &["+tcp", "+keepopen", "mobile", "SOA", "mobile", "NS"]);
    assert_eq!(out.matches("status: NOERROR").count(), 2, "{out}");

    // Case of the query name is preserved.
    let out = dig(p, &["MoBiLe", "SOA"]);
    assert_eq!(section(&out, "ANSWER")[0].0, "MoBiLe.", "{out}");
}

fn raw_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for l in name.split('.').filter(|l| !l.is_empty()) {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.extend_from_slice(&[0]);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q
}

/// RFC 7766 §6.2.1.1: pipelined queries on one connection are all answered.
#[test]
fn rfc7766_pipelined_tcp_queries() {
    let Some((_dir, s)) = setup(false) else {
        return;
    };
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut both = Vec::new();
    for (id, name, t) in [(0x1111u16, "mobile", 6u16), (0x2222, "nic.mobile", 1)] {
        let q = raw_query(id, name, t);
        both.extend_from_slice(&(q.len() as u16).to_be_bytes());
        both.extend_from_slice(&q);
    }
    c.write_all(&both).unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut len = [0u8; 2];
        c.read_exact(&mut len).unwrap();
        let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
        c.read_exact(&mut m).unwrap();
        ids.push(u16::from_be_bytes([m[0], m[1]]));
        assert_eq!(m[3] & 0x0F, 0, "NOERROR");
    }
    ids.sort();
    assert_eq!(ids, vec![0x1111, 0x2222]);
}

/// A listen address in use is a one-line error, not a panic.
#[test]
fn listen_address_in_use_is_one_line() {
    let dir = TempDir::new("inuse");
    let blocker = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = blocker.local_addr().unwrap().port();
    let _tcp_blocker = std::net::TcpListener::bind(("127.0.0.1", port));
    let cfg = write_config(dir.path(), port, false, "");
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap();
    run_ok(&["--config", c, "--db", &db, "srs", "seed", "--domains", "5"]);
    let out = tldns()
        .args(["--config", c, "--db", &db, "serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("tldns: cannot listen on 127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// The README's run command on a fresh tree: `tldns demo` creates the SRS
/// (and its folder), seeds it, generates keys, serves a signed zone and
/// prints the dig lines and the DS.
#[test]
fn readme_demo_command_on_a_fresh_tree() {
    if !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("demo");
    let zones = dir.path().join("zones");
    std::fs::create_dir_all(&zones).unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in ["mobile.toml", "mobile.reserved.txt", "mobile.collision.txt"] {
        std::fs::copy(repo.join("zones").join(f), zones.join(f)).unwrap();
    }
    // Only the metrics address may clash with another test; the port is ours.
    let cfg = zones.join("mobile.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("metrics-listen = \"127.0.0.1:9153\"\n", "");
    std::fs::write(&cfg, text).unwrap();
    let port = free_port();
    let out_path = dir.path().join("demo.out");
    let mut child = tldns()
        .current_dir(dir.path())
        .args(["demo", "--domains", "300", "--port", &port.to_string()])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(dir.path().join("demo.err")).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut printed = String::new();
    while std::time::Instant::now() < deadline {
        printed = std::fs::read_to_string(&out_path).unwrap_or_default();
        if printed.contains("DS for a validator") {
            break;
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!(
                "demo exited {st}: {}",
                std::fs::read_to_string(dir.path().join("demo.err")).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        printed.contains(&format!("dig @127.0.0.1 -p {port} mobile. SOA")),
        "{printed}"
    );
    let ds = printed
        .lines()
        .find(|l| l.contains("\tDS\t"))
        .expect("a DS line");
    let fields: Vec<&str> = ds.split('\t').next_back().unwrap().split(' ').collect();
    assert_eq!(
        (fields[1], fields[2], fields[3].len()),
        ("13", "2", 64),
        "{ds}"
    );
    // And the zone it serves is signed with that key.
    let out = dig(port, &["+dnssec", "mobile", "DNSKEY"]);
    assert!(
        section(&out, "ANSWER").iter().any(|r| r.1 == "RRSIG"),
        "{out}"
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(dir.path().join("var/mobile.sqlite").exists());
}
