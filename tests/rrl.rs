//! Response rate limiting (issue: hardened for the public Internet): a
//! spoofed-source style flood of NXDOMAIN+DO queries from one address gets
//! at most the rate's worth of answers (plus the slipped TC answers); a
//! client on another address asking at a normal rate in the same seconds
//! gets every answer; referrals are counted apart from NXDOMAINs; an
//! exempt address is not limited. The amplification factor towards the
//! flooded source is printed with RRL on and off.

mod common;
use common::*;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A query for `name` (`qtype`) with EDNS(0) 4096 and DO.
fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    q.extend_from_slice(&wire(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0]);
    q
}

fn server(name: &str, rrl: &str) -> Option<(TempDir, Server)> {
    // The demo's own rrl-* lines out, the test's in.
    seeded_server(name, true, 300, |t| {
        let t: String = t
            .lines()
            .filter(|l| !l.starts_with("rrl-"))
            .map(|l| format!("{l}\n"))
            .collect();
        t.replace("[server]\n", &format!("[server]\n{rrl}"))
    })
}

/// What a flood of `n` NXDOMAIN+DO queries from `from` got back: full
/// answers, TC answers, octets sent and received, seconds it took.
struct Flood {
    full: usize,
    tc: usize,
    out: usize,
    back: usize,
    secs: f64,
}

fn flood(port: u16, from: &str, n: usize, per_ms: usize) -> Flood {
    let sock = Arc::new(UdpSocket::bind((from, 0)).unwrap());
    sock.connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let (full, tc, back) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let rx = {
        let (sock, done, full, tc, back) = (
            sock.clone(),
            done.clone(),
            full.clone(),
            tc.clone(),
            back.clone(),
        );
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            loop {
                match sock.recv(&mut b) {
                    Ok(len) => {
                        back.fetch_add(len, Ordering::Relaxed);
                        if b[2] & 0x02 != 0 {
                            tc.fetch_add(1, Ordering::Relaxed);
                        } else {
                            full.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) if done.load(Ordering::Relaxed) => return,
                    Err(_) => {}
                }
            }
        })
    };
    let start = Instant::now();
    let mut out = 0;
    for i in 0..n {
        let q = query(i as u16, &format!("nx{i}.mobile"), 1);
        out += q.len();
        let _ = sock.send(&q);
        // `per_ms` queries a millisecond, so that what is lost is what
        // the server did not send, not what the receive buffer overran.
        if i % per_ms == per_ms - 1 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, Ordering::Relaxed);
    rx.join().unwrap();
    Flood {
        full: full.load(Ordering::Relaxed),
        tc: tc.load(Ordering::Relaxed),
        out,
        back: back.load(Ordering::Relaxed),
        secs,
    }
}

/// One question on `sock`, waiting up to 1 s: (TC set, RCODE).
fn ask(sock: &UdpSocket, port: u16, id: u16, name: &str, qtype: u16) -> Option<(bool, u8)> {
    sock.send_to(&query(id, name, qtype), ("127.0.0.1", port))
        .unwrap();
    let mut b = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if let Ok(len) = sock.recv(&mut b)
            && len >= 12
            && u16::from_be_bytes([b[0], b[1]]) == id
        {
            return Some((b[2] & 0x02 != 0, b[3] & 0x0f));
        }
    }
    None
}

#[test]
fn a_flood_from_one_source_is_limited_and_others_are_answered() {
    let rate = 100;
    let Some((_dir, s)) = server(
        "rrl-flood",
        &format!(
            "rrl-responses-per-second = {rate}\nrrl-slip = 2\nrrl-window = 5\nrrl-exempt = [\"127.0.0.3\"]\n"
        ),
    ) else {
        return;
    };
    let port = s.port;
    // A resolver in another /24 (127.0.1.0/24; the flood comes from
    // 127.0.0.0/24), asking ten times a second for the length of the flood.
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.1.2:0").unwrap();
            sock.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let (mut asked, mut full) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                asked += 1;
                if let Some((false, 3)) = ask(&sock, port, 40_000 + asked, "nothere.mobile", 1) {
                    full += 1;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (asked, full)
        })
    };
    let f = flood(port, "127.0.0.1", 50_000, 25);
    // During the same window, a referral from the flooded address: a class
    // of its own, answered.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let referral = ask(&sock, port, 7, "nic.mobile", 1);
    stop.store(true, Ordering::Relaxed);
    let (asked, answered) = other.join().unwrap();
    let allowed = (rate as f64 * (f.secs + 2.0)) as usize;
    eprintln!(
        "flood: 50000 queries in {:.1} s: {} full answers, {} TC; amplification {:.2} ({} octets out for {} in); other source: {answered}/{asked}",
        f.secs,
        f.full,
        f.tc,
        f.back as f64 / f.out as f64,
        f.back,
        f.out
    );
    assert!(
        f.full <= allowed,
        "{} full answers, at most {allowed} allowed",
        f.full
    );
    assert!(
        f.tc > 1000,
        "slip 2: about every other limited answer is TC: {}",
        f.tc
    );
    assert!(f.back < f.out, "no amplification with RRL on");
    assert_eq!(answered, asked, "another source is answered every time");
    assert_eq!(referral, Some((false, 0)), "a referral is counted apart");

    // The exempt address is not limited.
    let e = flood(port, "127.0.0.3", 3_000, 3);
    assert!(
        e.full >= 2_900 && e.tc == 0,
        "exempt: {} full, {} TC",
        e.full,
        e.tc
    );
}

#[test]
fn without_rrl_a_flood_is_answered_in_full() {
    let Some((_dir, s)) = server("rrl-off", "rrl-responses-per-second = 0\n") else {
        return;
    };
    let f = flood(s.port, "127.0.0.1", 5_000, 3);
    eprintln!(
        "RRL off: 5000 queries: {} full answers, amplification {:.2}",
        f.full,
        f.back as f64 / f.out as f64
    );
    assert!(f.full >= 4_900, "{}", f.full);
    assert!(
        f.back > 5 * f.out,
        "NXDOMAIN+DO amplifies: {}/{}",
        f.back,
        f.out
    );
}
