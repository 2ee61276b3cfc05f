//! TCP under abuse (issue: hardened for the public Internet): clients that
//! pipeline queries and never read their answers must not hold the
//! connection slots; one source gets at most its share of them; messages
//! that get no answer do not keep a connection past the idle timeout; and
//! a configuration that would take no TCP connection at all is refused.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `tldns serve` on 300 signed delegations with the `[server]` TCP lines
/// replaced by `tcp` (each `key = value`).
fn server(name: &str, tcp: &str) -> Option<(TempDir, Server)> {
    seeded_server(name, true, 300, |t| {
        t.replace("tcp-idle-timeout-ms = 10000\n", "")
            .replace("tcp-max-connections-per-source = 100\n", "")
            .replace("tcp-write-timeout-ms = 5000\n", "")
            .replace("tcp-max-connections = 1000\n", tcp)
    })
}

/// A query message of `qtype` for `name`, with its TCP length prefix.
fn framed(id: u16, name: &str, qtype: u16, qr: bool) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[if qr { 0x80 } else { 0 }, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    q.extend_from_slice(&wire(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    let mut f = (q.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(&q);
    f
}

/// One SOA question over a new TCP connection from 127.0.0.1: the answer's
/// RCODE, or `None` if the connection was refused or closed unanswered.
fn tcp_soa(port: u16) -> Option<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    c.write_all(&framed(7, "mobile", 6, false)).ok()?;
    let mut len = [0u8; 2];
    c.read_exact(&mut len).ok()?;
    let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
    c.read_exact(&mut m).ok()?;
    Some(m[3] & 0x0f)
}

/// Whether the server closes `c` (EOF or reset) within `within`.
fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    c.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 4096];
    loop {
        match c.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Twenty clients fill all twenty slots of `tcp-max-connections = 20`,
/// each pipelining 40,000 DNSKEY questions and never reading an answer.
/// The server's writes stall; after `tcp-write-timeout-ms` it closes them,
/// and a new client is answered (before, the slots were held as long as
/// the clients liked, refusing every other TCP client, transfers
/// included).
#[test]
fn slow_readers_lose_their_slots_to_the_write_timeout() {
    let Some((_dir, s)) = server(
        "tcp-slow-readers",
        "tcp-max-connections = 20\ntcp-write-timeout-ms = 500\ntcp-idle-timeout-ms = 30000\n",
    ) else {
        return;
    };
    assert_eq!(tcp_soa(s.port), Some(0), "{}", s.log());
    let flood: Vec<u8> = (0..40_000u32)
        .flat_map(|i| framed(i as u16, "mobile", 48, false))
        .collect();
    let flood = std::sync::Arc::new(flood);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..20)
        .map(|_| {
            let (flood, stop, port) = (flood.clone(), stop.clone(), s.port);
            std::thread::spawn(move || {
                let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                c.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
                let _ = c.write_all(&flood);
                // Never read; hold the socket until told.
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        })
        .collect();
    // The hogs hold every slot, then the write timeout frees them.
    std::thread::sleep(Duration::from_millis(3000));
    let start = Instant::now();
    let mut answered = None;
    while start.elapsed() < Duration::from_secs(5) {
        answered = tcp_soa(s.port);
        if answered.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hogs {
        h.join().unwrap();
    }
    assert_eq!(
        answered,
        Some(0),
        "a new TCP client is answered while 20 non-reading clients hold the cap:\n{}",
        s.log()
    );
}

/// `tcp-max-connections-per-source = 3`: a fourth connection from
/// 127.0.0.1 is closed at once while three are open; one from 127.0.0.2 is
/// served.
#[tokio::test]
async fn one_source_gets_at_most_its_share_of_the_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some((_dir, s)) = server(
        "tcp-per-source",
        "tcp-max-connections = 100\ntcp-max-connections-per-source = 3\n",
    ) else {
        return;
    };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", s.port).parse().unwrap();
    let from = |ip: &str| {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        sock.connect(addr)
    };
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = from("127.0.0.1").await.unwrap();
        // Answered, so the server has taken it.
        c.write_all(&framed(1, "mobile", 6, false)).await.unwrap();
        let mut len = [0u8; 2];
        c.read_exact(&mut len).await.unwrap();
        let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
        c.read_exact(&mut m).await.unwrap();
        held.push(c);
    }
    let mut fourth = from("127.0.0.1").await.unwrap();
    let _ = fourth.write_all(&framed(2, "mobile", 6, false)).await;
    let mut b = [0u8; 512];
    let r = tokio::time::timeout(Duration::from_secs(3), fourth.read(&mut b)).await;
    assert!(
        matches!(r, Ok(Ok(0)) | Ok(Err(_))),
        "the fourth connection from one source is closed unanswered: {r:?}"
    );
    let mut other = from("127.0.0.2").await.unwrap();
    other
        .write_all(&framed(3, "mobile", 6, false))
        .await
        .unwrap();
    let mut len = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(3), other.read_exact(&mut len))
        .await
        .expect("another source is served")
        .unwrap();
    drop(held);
}

/// RFC 7766 §6.2.3: a connection that sends a message every 400 ms which
/// gets no answer (a response, which a server never answers) is idle: it
/// is closed after `tcp-idle-timeout-ms = 1500`, not kept open for ever.
#[test]
fn messages_without_answers_do_not_keep_a_connection_open() {
    let Some((_dir, s)) = server(
        "tcp-junk",
        "tcp-max-connections = 100\ntcp-idle-timeout-ms = 1500\n",
    ) else {
        return;
    };
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let start = Instant::now();
    let mut closed_at = None;
    while start.elapsed() < Duration::from_secs(6) {
        if c.write_all(&framed(9, "mobile", 6, true)).is_err() {
            closed_at = Some(start.elapsed());
            break;
        }
        if closed_within(&mut c, Duration::from_millis(400)) {
            closed_at = Some(start.elapsed());
            break;
        }
    }
    let at = closed_at.expect("closed within 6 s");
    assert!(
        at >= Duration::from_millis(1400) && at < Duration::from_millis(3500),
        "closed after {at:?}"
    );
}

/// `tcp-max-connections = 0` (and the per-source limit at 0) would take no
/// connection: refused, naming the file, the line and the key.
#[test]
fn a_tcp_limit_of_zero_is_a_configuration_error() {
    let dir = TempDir::new("tcp-zero");
    let cfg = write_config(dir.path(), free_port(), false, "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    for (from, to, key) in [
        (
            "tcp-max-connections = 1000",
            "tcp-max-connections = 0",
            "tcp-max-connections",
        ),
        (
            "tcp-max-connections-per-source = 100",
            "tcp-max-connections-per-source = 0",
            "tcp-max-connections-per-source",
        ),
    ] {
        std::fs::write(&cfg, text.replace(from, to)).unwrap();
        let e = tldns::config::Config::load(&cfg).unwrap_err().to_string();
        let line = text
            .replace(from, to)
            .lines()
            .position(|l| l.starts_with(&format!("{key} =")))
            .unwrap()
            + 1;
        assert!(e.contains(&format!("mobile.toml:{line}: {key}:")), "{e}");
    }
}
