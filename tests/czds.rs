//! CZDS zone file (Spec 4 §2.1), end to end: `tldns export` from a seeded
//! SRS, read back by `tldns check-czds` and by independent tools (BIND's
//! named-checkzone, ldns-read-zone, ldns-verify-zone, md5sum, gpg, sort);
//! one small file per rule of §2.1.4 that the checker must catch; a round
//! trip through `srs import`; failed exports that must leave the previous
//! files in place.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    ok(&out, what);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A seeded SRS and a config for it.
struct Setup {
    dir: TempDir,
    cfg: PathBuf,
    db: String,
}

impl Setup {
    fn new(tag: &str, domains: usize, dnssec: bool) -> Setup {
        let dir = TempDir::new(tag);
        let cfg = write_config(dir.path(), free_port(), dnssec, "");
        let db = format!("sqlite://{}", dir.path().join("srs.sqlite").display());
        let s = Setup { dir, cfg, db };
        s.tldns(&["srs", "init"]);
        s.tldns(&["srs", "seed", "--domains", &domains.to_string()]);
        s
    }

    fn args<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["--config", self.cfg.to_str().unwrap(), "--db", &self.db];
        a.extend_from_slice(rest);
        a
    }

    fn tldns(&self, rest: &[&str]) -> String {
        run_ok(&self.args(rest))
    }

    fn export(&self, out: &Path) -> String {
        self.tldns(&["export", "--out", out.to_str().unwrap()])
    }

    /// Where the generated OpenPGP key is (default: state-dir).
    fn public_key(&self) -> PathBuf {
        self.dir.path().join("var/czds-openpgp.asc.pub")
    }
}

/// The dated name `tldns export` gives the historical copy today (UTC).
fn historical(dir: &Path) -> PathBuf {
    let names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with("mobile-") && n.ends_with(".zone.gz")
        })
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names[0].clone()
}

fn gunzip(gz: &Path, to: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    std::fs::write(to, &text).unwrap();
    text
}

fn check_czds(file: &Path) -> Output {
    tldns()
        .args(["check-czds", file.to_str().unwrap()])
        .output()
        .unwrap()
}

fn tools() -> bool {
    [
        "gpg",
        "md5sum",
        "sort",
        "named-checkzone",
        "ldns-read-zone",
        "ldns-verify-zone",
    ]
    .iter()
    .all(|t| have_tool(t))
}

/// `gpg --verify SIG FILE` with only `public` in a throw-away keyring.
fn gpg_verify(public: &Path, sig: &Path, file: &Path) {
    let home = TempDir::new("gnupg");
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--no-tty", "--quiet"])
            .args(args)
            .output()
            .unwrap()
    };
    ok(
        &gpg(&["--import", public.to_str().unwrap()]),
        "gpg --import",
    );
    let out = gpg(&["--verify", sig.to_str().unwrap(), file.to_str().unwrap()]);
    ok(&out, "gpg --verify");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Good signature"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A changed file no longer verifies.
    let bad = home.path().join("tampered");
    let mut bytes = std::fs::read(file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&bad, bytes).unwrap();
    let out = gpg(&["--verify", sig.to_str().unwrap(), bad.to_str().unwrap()]);
    assert!(!out.status.success(), "gpg accepted a tampered file");
}

/// Every acceptance check on one exported directory; returns the zone text.
fn acceptance(s: &Setup, out: &Path, signed: bool) -> String {
    let gz = out.join("mobile.zone.gz");
    let hist = historical(out);
    for f in [&gz, &hist] {
        for ext in ["", ".md5", ".sig"] {
            let p = PathBuf::from(format!("{}{ext}", f.display()));
            assert!(p.exists(), "{} missing", p.display());
        }
    }
    // No temporary files left behind.
    let hidden: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");

    // check-czds on the gzip files.
    for f in [&gz, &hist] {
        let o = check_czds(f);
        ok(&o, "check-czds");
    }
    // md5sum -c, in the directory (each .md5 names its own file).
    for f in [
        "mobile.zone.gz.md5",
        hist.file_name().unwrap().to_str().unwrap(),
    ] {
        let m = if f.ends_with(".md5") {
            f.to_string()
        } else {
            format!("{f}.md5")
        };
        run(
            Command::new("md5sum").current_dir(out).args(["-c", &m]),
            "md5sum -c",
        );
    }
    // gpg --verify with the public key only.
    gpg_verify(&s.public_key(), &out.join("mobile.zone.gz.sig"), &gz);
    gpg_verify(
        &s.public_key(),
        &PathBuf::from(format!("{}.sig", hist.display())),
        &hist,
    );

    let plain = s.dir.path().join("mobile.zone");
    let text = gunzip(&gz, &plain);
    let p = plain.to_str().unwrap();
    // BIND, without network lookups.
    let o = run(
        Command::new("named-checkzone")
            .args(["-i", "none", "-k", "ignore", "-n", "ignore", "mobile", p]),
        "named-checkzone",
    );
    assert!(o.contains("OK"), "{o}");
    // ldns reads it, and validates its signatures.
    run(
        Command::new("ldns-read-zone").arg(p).stdout(Stdio::null()),
        "ldns-read-zone",
    );
    if signed {
        run(Command::new("ldns-verify-zone").arg(p), "ldns-verify-zone");
    }
    // Rule 17 by an independent sort: the lines between the SOA copies.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), lines.last());
    assert!(lines[0].contains("\tin\tsoa\t"));
    let mid = s.dir.path().join("mid");
    std::fs::write(&mid, lines[1..lines.len() - 1].join("\n") + "\n").unwrap();
    run(
        Command::new("sort").env("LC_ALL", "C").arg("-c").arg(&mid),
        "LC_ALL=C sort -c",
    );
    text
}

#[test]
fn demo_zone_exports_and_every_tool_agrees() {
    if !tools() {
        return;
    }
    let s = Setup::new("czds-demo", 10_000, true);
    let out = s.dir.path().join("czds");
    let printed = s.export(&out);
    assert!(printed.starts_with("exported serial "), "{printed}");
    let text = acceptance(&s, &out, true);
    assert!(text.contains("\tin\tnsec3\t"));
    assert!(text.contains("\tin\trrsig\t"));
    assert!(text.contains("\tin\tdnskey\t257 3 13 "));
}

/// Acceptance on a 100,000-domain signed zone, in the debug build CI runs.
#[test]
fn seeded_100k_signed_zone_exports_and_every_tool_agrees() {
    if !tools() {
        return;
    }
    let t = Instant::now();
    let s = Setup::new("czds-100k", 100_000, true);
    let seeded = t.elapsed();
    let out = s.dir.path().join("czds");
    let t = Instant::now();
    s.export(&out);
    let exported = t.elapsed();
    let t = Instant::now();
    acceptance(&s, &out, true);
    eprintln!(
        "100k signed: seed {:.1}s, build+sign+verify+export {:.1}s, tools {:.1}s",
        seeded.as_secs_f64(),
        exported.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

/// Each file in tests/czds/ breaks one rule of Spec 4 §2.1.4; the checker
/// reports that rule, with the line, and no other. `good.zone` passes.
#[test]
fn check_czds_catches_each_of_the_18_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/czds");
    let o = check_czds(&dir.join("good.zone"));
    ok(&o, "check-czds good.zone");
    for rule in 1..=18u8 {
        let f = dir.join(format!("rule{rule:02}.zone"));
        let o = check_czds(&f);
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{}: {text}", f.display());
        let reported: BTreeSet<u8> = text
            .lines()
            .filter_map(|l| l.split(": rule ").nth(1))
            .filter_map(|r| r.split(':').next()?.parse().ok())
            .collect();
        assert_eq!(reported, BTreeSet::from([rule]), "{}: {text}", f.display());
        // Every report names a line of the file.
        let prefix = format!("{}:", f.display());
        for l in text.lines().filter(|l| l.contains(": rule ")) {
            let line: u64 = l
                .strip_prefix(&prefix)
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no line number in {l:?}"));
            assert!(line >= 1, "{l}");
        }
    }
    // gzip input is read the same way.
    let tmp = TempDir::new("czds-gz");
    let gz = tmp.path().join("rule17.zone.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut e, &std::fs::read(dir.join("rule17.zone")).unwrap()).unwrap();
    e.finish().unwrap();
    let o = check_czds(&gz);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains(":3: rule 17:"));
    // A file that cannot be read: exit status 2.
    let o = check_czds(&tmp.path().join("missing.zone"));
    assert_eq!(o.status.code(), Some(2));
}

/// Export, import into a fresh SRS, build and export again: the same
/// delegations (NS), glue (A/AAAA) and DS.
#[test]
fn round_trip_through_srs_import() {
    let s = Setup::new("czds-rt1", 2_000, true);
    let out1 = s.dir.path().join("czds1");
    s.export(&out1);
    let plain = s.dir.path().join("exported.zone");
    let first = gunzip(&out1.join("mobile.zone.gz"), &plain);

    let fresh = format!("sqlite://{}", s.dir.path().join("fresh.sqlite").display());
    let c = s.cfg.to_str().unwrap();
    run_ok(&["--config", c, "--db", &fresh, "srs", "init"]);
    run_ok(&[
        "--config",
        c,
        "--db",
        &fresh,
        "srs",
        "import",
        plain.to_str().unwrap(),
    ]);
    let out2 = s.dir.path().join("czds2");
    run_ok(&[
        "--config",
        c,
        "--db",
        &fresh,
        "export",
        "--out",
        out2.to_str().unwrap(),
    ]);
    let second = gunzip(
        &out2.join("mobile.zone.gz"),
        &s.dir.path().join("again.zone"),
    );
    let delegation_data = |t: &str| -> BTreeSet<String> {
        t.lines()
            .filter(|l| {
                let ty = l.split('\t').nth(3).unwrap_or("");
                matches!(ty, "ns" | "ds" | "a" | "aaaa")
            })
            .map(String::from)
            .collect()
    };
    let (a, b) = (delegation_data(&first), delegation_data(&second));
    assert!(a.len() > 2_000, "{}", a.len());
    assert!(a.iter().any(|l| l.contains("\tin\tds\t")));
    assert_eq!(
        a.symmetric_difference(&b).take(10).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
}

/// A key made by GnuPG itself signs, and GnuPG verifies.
#[test]
fn gpg_generated_key_signs() {
    if !have_tool("gpg") {
        return;
    }
    let s = Setup::new("czds-gpgkey", 50, false);
    let home = TempDir::new("gnupg-gen");
    let gpg = |args: &[&str]| {
        let o = Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--no-tty", "--quiet", "--passphrase", ""])
            .args(args)
            .output()
            .unwrap();
        ok(&o, &format!("gpg {args:?}"));
        o.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "mobile zone file <czds@nic.mobile>",
        "ed25519",
        "sign",
        "never",
    ]);
    let secret = gpg(&[
        "--pinentry-mode",
        "loopback",
        "--armor",
        "--export-secret-keys",
    ]);
    let key = s.dir.path().join("gpg-secret.asc");
    std::fs::write(&key, secret).unwrap();
    let text = std::fs::read_to_string(&s.cfg).unwrap().replace(
        "# signing-key = \"/etc/tldns/czds-openpgp.asc\"",
        &format!("signing-key = {:?}", key.to_str().unwrap()),
    );
    std::fs::write(&s.cfg, text).unwrap();
    let out = s.dir.path().join("czds");
    s.export(&out);
    let gz = out.join("mobile.zone.gz");
    let o = Command::new("gpg")
        .env("GNUPGHOME", home.path())
        .args(["--batch", "--no-tty", "--verify"])
        .arg(out.join("mobile.zone.gz.sig"))
        .arg(&gz)
        .output()
        .unwrap();
    ok(&o, "gpg --verify");
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A failed export (directory not writable; file-size limit as a full disk)
/// reports the error and leaves the previous files exactly as they were.
#[test]
fn failed_export_keeps_previous_files() {
    let s = Setup::new("czds-fail", 2_000, true);
    let out = s.dir.path().join("czds");
    s.export(&out);
    let before = snapshot(&out);
    assert_eq!(before.len(), 6);
    let c = s.cfg.to_str().unwrap();
    let export_cmd = format!(
        "{} --config {c} --db {} export --out {}",
        env!("CARGO_BIN_EXE_tldns"),
        s.db,
        out.display()
    );

    // Disk full: a file-size limit of a quarter to a half of the zone file
    // (ulimit -f counts 512- or 1024-byte blocks, by shell), above what
    // SQLite writes to read; SIGXFSZ is ignored so the write fails with
    // EFBIG instead of killing the process.
    let gz_len = std::fs::metadata(out.join("mobile.zone.gz")).unwrap().len();
    let blocks = gz_len / 2048;
    assert!(
        blocks * 512 > 64 * 1024,
        "zone too small for the test: {gz_len}"
    );
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec {export_cmd}"
        ))
        .output()
        .unwrap();
    assert!(!o.status.success(), "export succeeded under a size limit");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("File too large"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(snapshot(&out), before, "files changed by a failed export");

    // Not writable: as root, mode bits do not stop writes; the immutable
    // attribute does.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        if !have_tool("chattr") {
            return;
        }
        run(Command::new("chattr").arg("+i").arg(&out), "chattr +i");
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let o = Command::new("sh")
        .arg("-c")
        .arg(&export_cmd)
        .output()
        .unwrap();
    if root {
        let _ = Command::new("chattr").arg("-i").arg(&out).status();
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(
        !o.status.success(),
        "export into a read-only directory succeeded"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&out.display().to_string()), "{err}");
    assert_eq!(snapshot(&out), before, "files changed by a failed export");
}

/// `tldns serve` writes the file at start when the day's file is missing
/// (Spec 4 §2.3: at least daily).
#[test]
fn serve_exports_when_the_days_file_is_missing() {
    if !have_tool("dig") {
        return;
    }
    let s = Setup::new("czds-serve", 200, false);
    let text = std::fs::read_to_string(&s.cfg)
        .unwrap()
        .replace("[export]\nenabled = false\n", "[export]\n");
    std::fs::write(&s.cfg, text).unwrap();
    let port: u16 = std::fs::read_to_string(&s.cfg)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("listen = [\"127.0.0.1:"))
        .and_then(|r| r.split('"').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let _server = Server::start(&s.cfg, &s.db, port);
    let out = s.dir.path().join("var/czds");
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while !out.join("mobile.zone.gz.sig").exists() {
        assert!(Instant::now() < deadline, "no CZDS file from serve");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The signature is the last file renamed into place.
    ok(&check_czds(&out.join("mobile.zone.gz")), "check-czds");
    let h = historical(&out);
    ok(&check_czds(&h), "check-czds historical");
}
