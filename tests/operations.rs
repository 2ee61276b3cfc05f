//! Operations basics: Prometheus metrics, reload on SIGHUP and on the
//! timer, clean shutdown on SIGTERM.

mod common;
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn scrape(port: u16) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn signal(s: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn metrics_reload_and_shutdown() {
    if !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("ops");
    let port = free_port();
    let mport = free_port();
    let cfg = write_config(dir.path(), port, false, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("reload-interval-secs = 5", "reload-interval-secs = 0")
        .replace(
            "[server]\n",
            &format!("[server]\nmetrics-listen = \"127.0.0.1:{mport}\"\n"),
        );
    std::fs::write(&cfg, text).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap();
    run_ok(&["--config", c, "--db", &db, "srs", "seed", "--domains", "50"]);
    let mut s = Server::start(&cfg, &db, port);

    // Metrics: queries by transport and rcode, the zone serial.
    for _ in 0..3 {
        dig(port, &["nothing-here.mobile", "A"]);
    }
    dig(port, &["+tcp", "mobile", "SOA"]);
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let m = scrape(mport);
        let ok = m.contains("tldns_queries_total{transport=\"udp\",rcode=\"NXDOMAIN\"} 3")
            && m.contains("tldns_queries_total{transport=\"tcp\",rcode=\"NOERROR\"} 1")
            && m.contains("tldns_zone_serial");
        last = m;
        if ok {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(last.contains("tldns_zone_serial"), "{last}");
    assert!(last.contains("rcode=\"NXDOMAIN\"} 3"), "{last}");

    // The SRS is followed without any signal (the journal is polled).
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "add-domain",
        "fresh-by-journal.mobile",
        "--ns",
        "ns1.elsewhere.net",
    ]);
    wait_for("the journal", || {
        status(&dig(port, &["fresh-by-journal.mobile", "A"])) == "NOERROR"
    });
    let out = dig(port, &["fresh-by-journal.mobile", "A"]);
    assert_eq!(
        section(&out, "AUTHORITY")[0].2,
        "ns1.elsewhere.net.",
        "{out}"
    );

    // SIGHUP reloads the configuration: a new NSID (RFC 5001) is served.
    let nsid = |p: u16| dig(p, &["+nsid", "mobile", "SOA"]);
    assert!(nsid(port).contains("tldns-demo"), "{}", nsid(port));
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("nsid = \"tldns-demo\"", "nsid = \"reloaded-by-hup\"");
    std::fs::write(&cfg, text).unwrap();
    signal(&s, "-HUP");
    wait_for("the SIGHUP reload", || {
        nsid(port).contains("reloaded-by-hup")
    });

    // SIGTERM: a clean exit.
    signal(&s, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            assert!(st.success(), "exit status {st}: {}", s.log());
            break;
        }
        assert!(Instant::now() < deadline, "did not stop: {}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(s.log().contains("shutting down"), "{}", s.log());
}

#[test]
fn timer_reload_follows_the_srs() {
    if !have_tool("dig") {
        return;
    }
    let dir = TempDir::new("timer");
    let port = free_port();
    let cfg = write_config(dir.path(), port, false, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("reload-interval-secs = 5", "reload-interval-secs = 1");
    std::fs::write(&cfg, text).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap();
    run_ok(&["--config", c, "--db", &db, "srs", "seed", "--domains", "20"]);
    let s = Server::start(&cfg, &db, port);
    let serial = |out: &str| {
        section(out, "ANSWER")[0]
            .2
            .split_whitespace()
            .nth(2)
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    let s1 = serial(&dig(port, &["mobile", "SOA"]));
    run_ok(&[
        "--config",
        c,
        "--db",
        &db,
        "srs",
        "add-domain",
        "fresh-by-timer.mobile",
        "--ns",
        "ns1.elsewhere.net",
    ]);
    wait_for("the timer reload", || {
        status(&dig(port, &["fresh-by-timer.mobile", "A"])) == "NOERROR"
    });
    let s2 = serial(&dig(port, &["mobile", "SOA"]));
    assert!(s2 > s1, "serial {s1} -> {s2}");
    drop(s);
    // Restart: the serial does not go backwards; with nothing new in the
    // SRS it is the very version published last, read back from the state
    // directory (tests/restart.rs).
    let s = Server::start(&cfg, &db, port);
    let s3 = serial(&dig(port, &["mobile", "SOA"]));
    assert_eq!(s3, s2, "serial after restart {s2} -> {s3}");
    assert!(
        s.log().contains("serving the stored version"),
        "{}",
        s.log()
    );
    drop(s);
}
