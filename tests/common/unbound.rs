//! unbound as a validating resolver for the tests: anchored at the DS lines
//! given, with a stub zone pointing at the server under test, on a port of
//! its own on 127.0.0.1; killed on drop.

use super::{free_port, status};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Unbound {
    child: Child,
    pub port: u16,
    log: std::path::PathBuf,
}

impl Unbound {
    /// unbound in `dir`, trusting `anchors` (DS or DNSKEY lines in zone-file
    /// syntax), with `zone` stubbed to 127.0.0.1@`server_port`; returns once
    /// it answers for the zone's SOA (or after 20 s).
    pub fn start(dir: &Path, anchors: &[String], zone: &str, server_port: u16) -> Unbound {
        Unbound::start_stubs(dir, anchors, &[(zone, server_port)])
    }

    /// unbound trusting `anchors`, with each (zone, port) of `stubs` a
    /// stub zone at 127.0.0.1@port (a parent and its child, say); returns
    /// once it answers for the last zone's SOA (or after 20 s).
    pub fn start_stubs(dir: &Path, anchors: &[String], stubs: &[(&str, u16)]) -> Unbound {
        let port = free_port();
        let conf = dir.join("unbound.conf");
        let log = dir.join("unbound.log");
        let stub: String = stubs
            .iter()
            .map(|(z, p)| format!("stub-zone:\n  name: \"{z}\"\n  stub-addr: 127.0.0.1@{p}\n"))
            .collect();
        let zone = stubs.last().map_or(".", |s| s.0);
        let anchors: String = anchors
            .iter()
            .map(|d| format!("  trust-anchor: \"{}\"\n", d.replace('\t', " ")))
            .collect();
        std::fs::write(
            &conf,
            format!(
                "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-not-query-localhost: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  logfile: \"{l}\"\n  verbosity: 1\n  val-log-level: 2\n  module-config: \"validator iterator\"\n  qname-minimisation: no\n  aggressive-nsec: no\n  harden-referral-path: no\n  target-fetch-policy: \"0 0 0 0 0\"\n  do-ip6: no\n{anchors}{stub}remote-control:\n  control-enable: no\n",
                d = dir.display(),
                l = log.display(),
            ),
        )
        .unwrap();
        let child = Command::new("unbound")
            .args(["-d", "-c", conf.to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let u = Unbound { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && status(&u.ask(zone, "SOA")).is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
        u
    }

    /// `dig +dnssec` through unbound.
    pub fn ask(&self, name: &str, t: &str) -> String {
        let out = Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &self.port.to_string(),
                "+dnssec",
                "+time=5",
                "+tries=1",
                name,
                t,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// unbound's log so far (validation failures are logged at level 2).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
