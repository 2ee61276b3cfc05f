//! Shared test support: temporary directories, a running `tldns serve`,
//! and the rule for external tools (required in CI, skipped locally).
#![allow(dead_code)]

pub mod daemon;
pub mod testdb;
pub mod unbound;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("tldns-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True if `tool` is on PATH. When it is not: in CI (CI=true) the test
/// fails; elsewhere it prints why it is skipped and returns false.
pub fn have_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required in CI but is not installed");
        }
        eprintln!("SKIPPED: {tool} is not installed");
    }
    found
}

/// A port free for both UDP and TCP on 127.0.0.1, below the kernel's
/// ephemeral range (so no client socket of a parallel test takes it
/// between this check and the server's bind), and never the same twice in
/// one test process.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // 20000..32000, starting where this process's id puts it, so the test
    // binaries (run one after another) use different ports too.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let span = 12_000u16;
    let start = (std::process::id() % u32::from(span)) as u16;
    loop {
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (start.wrapping_add(i.wrapping_mul(7)) % span);
        let Ok(t) = TcpListener::bind(("127.0.0.1", port)) else {
            continue;
        };
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            drop(t);
            return port;
        }
    }
}

/// The DS lines `tldns keys list` gives for the parent (presentation
/// format), for a validating resolver's trust anchor.
#[allow(dead_code)]
pub fn parent_ds(config: &str) -> Vec<String> {
    run_ok(&["--config", config, "keys", "list"])
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("DS for the parent: ")
                .map(String::from)
        })
        .collect()
}

/// NSD serving the root zone from `<dir>/<zonefile>` on 127.0.0.1:`port`
/// (a parent for the zone under test), once it answers for the root's SOA.
#[allow(dead_code)]
pub fn nsd_root(dir: &Path, port: u16, zonefile: &str) -> Child {
    let d = dir.display();
    std::fs::write(
        dir.join("nsd.conf"),
        format!(
            "server:\n    ip-address: 127.0.0.1@{port}\n    port: {port}\n    zonesdir: \"{d}\"\n    pidfile: \"{d}/nsd.pid\"\n    xfrdfile: \"{d}/xfrd.state\"\n    zonelistfile: \"{d}/zone.list\"\n    database: \"\"\n    username: \"\"\n    chroot: \"\"\n    logfile: \"{d}/nsd.log\"\nremote-control:\n    control-enable: no\nzone:\n    name: \".\"\n    zonefile: \"{zonefile}\"\n"
        ),
    )
    .unwrap();
    let child = Command::new("nsd")
        .args(["-d", "-c"])
        .arg(dir.join("nsd.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dig(port, &[".", "SOA"]).contains("status: NOERROR") {
        assert!(Instant::now() < deadline, "NSD did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// The demo configuration with test paths and port.
pub fn write_config(dir: &Path, port: u16, dnssec: bool, extra: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("zones/mobile.toml")).unwrap();
    let zones = repo.join("zones");
    let text = text
        .replace(
            "\"mobile.reserved.txt\"",
            &format!("{:?}", zones.join("mobile.reserved.txt")),
        )
        .replace(
            "\"mobile.collision.txt\"",
            &format!("{:?}", zones.join("mobile.collision.txt")),
        )
        .replace(
            "state-dir = \"../var\"",
            &format!("state-dir = {:?}", dir.join("var")),
        )
        .replace(
            "keys-dir = \"../keys\"",
            &format!("keys-dir = {:?}", dir.join("keys")),
        )
        .replace(
            "listen = [\"127.0.0.1:5353\"]",
            &format!("listen = [\"127.0.0.1:{port}\"]"),
        )
        .replace("metrics-listen = \"127.0.0.1:9153\"\n", "")
        .replace("enabled = true", &format!("enabled = {dnssec}"))
        // The test keys are dated 2023 (so simulated clocks can start in
        // the past): with the demo's ZSK lifetime every daemon would start
        // by rolling them. Rolls are tests/roll.rs's, which sets its own.
        .replace("zsk-lifetime = \"90d\"", "zsk-lifetime = \"0\"")
        // The daily CZDS export is off in tests unless a test turns it on.
        .replace("[export]\n", "[export]\nenabled = false\n");
    let path = dir.join("mobile.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    if dnssec {
        first_keys(&path);
    }
    path
}

/// The zone's first keys, made as `tldns keys generate` makes them (tldns
/// never makes keys on its own): the operator's first step for a new zone.
pub fn first_keys(config: &Path) {
    let c = tldns::config::Config::load(config).unwrap();
    let dir = c.resolve(&c.zone.dnssec.keys_dir);
    if tldns::dnssec::keys::KeyDir::load(&dir, &c.origin).is_ok_and(|k| !k.is_empty()) {
        return;
    }
    tldns::dnssec::keys::KeyDir::generate(&dir, &c.origin, &c.zone.dnssec, 1_700_000_000).unwrap();
}

/// `tldns serve` on `domains` seeded delegations of a SQLite SRS in a new
/// temporary directory, its configuration the demo's (signed when
/// `dnssec`) with `edit` applied; `None` (skipped) without dig.
#[allow(dead_code)]
pub fn seeded_server(
    name: &str,
    dnssec: bool,
    domains: usize,
    edit: impl Fn(String) -> String,
) -> Option<(TempDir, Server)> {
    if !have_tool("dig") {
        return None;
    }
    let dir = TempDir::new(name);
    let port = free_port();
    let cfg = write_config(dir.path(), port, dnssec, "");
    std::fs::write(&cfg, edit(std::fs::read_to_string(&cfg).unwrap())).unwrap();
    let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
    let c = cfg.to_str().unwrap();
    let n = domains.to_string();
    run_ok(&["--config", c, "--db", &db, "srs", "seed", "--domains", &n]);
    let s = Server::start(&cfg, &db, port);
    Some((dir, s))
}

/// A name in wire form (lower-case as given, no compression).
#[allow(dead_code)]
pub fn wire(name: &str) -> Vec<u8> {
    let mut w = Vec::new();
    for l in name.split('.').filter(|l| !l.is_empty()) {
        w.push(l.len() as u8);
        w.extend_from_slice(l.as_bytes());
    }
    w.push(0);
    w
}

pub fn tldns() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tldns"))
}

/// Run `tldns ARGS` to completion; panics with its output on failure.
pub fn run_ok(args: &[&str]) -> String {
    let out = tldns().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tldns {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `tldns serve` process, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub config: PathBuf,
    pub db: String,
}

impl Server {
    pub fn start(config: &Path, db: &str, port: u16) -> Server {
        let log = config.with_extension("log");
        let child = tldns()
            .args(["--config", config.to_str().unwrap(), "--db", db, "serve"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let s = Server {
            child,
            port,
            log,
            config: config.to_path_buf(),
            db: db.to_string(),
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let q = b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06mobile\x00\x00\x06\x00\x01";
        while Instant::now() < deadline {
            let _ = sock.send_to(q, SocketAddr::from(([127, 0, 0, 1], self.port)));
            let mut b = [0u8; 512];
            if sock.recv_from(&mut b).is_ok() {
                return;
            }
        }
        panic!(
            "server did not start: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    pub fn child_config(&self) -> &str {
        self.config.to_str().unwrap()
    }

    pub fn db(&self) -> String {
        self.db.clone()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `dig @127.0.0.1 -p PORT ARGS`, output as text.
pub fn dig(port: u16, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg("@127.0.0.1")
        .arg("-p")
        .arg(port.to_string())
        .args(["+norec", "+time=3", "+tries=2"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The flags dig printed (`;; flags: qr aa; QUERY...`).
pub fn flags(dig_out: &str) -> Vec<String> {
    dig_out
        .lines()
        .find_map(|l| l.strip_prefix(";; flags: "))
        .map(|l| {
            l.split(';')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The status dig printed (NOERROR, NXDOMAIN, ...).
pub fn status(dig_out: &str) -> String {
    dig_out
        .lines()
        .find_map(|l| l.split("status: ").nth(1))
        .map(|s| s.split(',').next().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// Records of one section of dig's output, as (owner, type, rdata).
pub fn section(dig_out: &str, name: &str) -> Vec<(String, String, String)> {
    let header = format!(";; {name} SECTION:");
    let mut inside = false;
    let mut out = Vec::new();
    for l in dig_out.lines() {
        if l.starts_with(&header) {
            inside = true;
            continue;
        }
        if inside {
            if l.trim().is_empty() || l.starts_with(";;") {
                break;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() >= 4 {
                out.push((f[0].to_string(), f[3].to_string(), f[4..].join(" ")));
            }
        }
    }
    out
}

/// The test-only Ed25519 key (keys/test/ed25519) into `dir/keys`, so
/// signatures are byte-stable across runs.
#[allow(dead_code)]
pub fn copy_test_key(dir: &Path) {
    let keys = dir.join("keys");
    // It replaces the keys the configuration's first step made.
    let _ = std::fs::remove_dir_all(&keys);
    std::fs::create_dir_all(&keys).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/test/ed25519");
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), keys.join(e.file_name())).unwrap();
    }
}
