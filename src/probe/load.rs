//! A bounded load run: the resolution RTT under a steady query rate, every
//! response validated as a DNS test (Spec 10 §3.7). A benchmark, not an SLA
//! measurement: probes send one test a minute.
//!
//! Open loop, so a slow server does not slow the sender: over UDP one
//! thread sends on schedule and another timestamps responses as they
//! arrive (validation runs on a third thread, off the clock); over TCP a
//! pool of threads each runs whole connections (§3.4) at their scheduled
//! times. Bounded in count (rate x duration) and in time (duration plus the
//! 5 x SLR limit).

use super::client::{self, Exchange, ExchangeError, Protocol};
use super::report::Output;
use super::stats::Summary;
use super::validate::TestQuery;
use super::{ProbeError, Rand, Raw, Setup, Target, judge, query};
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// TCP connections in flight at most.
const TCP_WORKERS: usize = 32;

/// Sleep until `t` (the last stretch spun, for sub-millisecond schedules).
fn wait_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        let left = t - now;
        if left > Duration::from_micros(200) {
            std::thread::sleep(left - Duration::from_micros(150));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Run `qps` queries a second for `duration` against every target and
/// transport in turn.
pub fn run(
    s: &Setup,
    qps: u32,
    duration: Duration,
    out: &mut Output,
) -> Result<Summary, ProbeError> {
    let mut summary = Summary::default();
    let mut rng = Rand::new();
    let total = ((qps as f64) * duration.as_secs_f64()).round().max(1.0) as u64;
    // A pool of queries: every round of the plan, fresh non-existent names.
    let mut pool = Vec::new();
    while pool.len() < 4096 && (pool.len() as u64) < total {
        pool.extend(s.plan.round(&mut rng));
    }
    for target in &s.targets {
        for &t in &s.transports {
            let keys =
                super::fetch_keys(&s.anchor, target.addr, t, &mut rng).map_err(|reason| {
                    ProbeError::Keys {
                        server: target.addr,
                        transport: t,
                        reason,
                    }
                })?;
            let (tx, rx) = mpsc::channel::<Raw>();
            let started = Instant::now();
            let validator = {
                let anchor = s.anchor.clone();
                let json = out.json();
                std::thread::spawn(move || -> Result<Summary, std::io::Error> {
                    let mut sum = Summary::default();
                    let mut o = Output::new(json);
                    for raw in rx {
                        let r = judge(&raw, &anchor, Ok(&keys), None);
                        if json {
                            o.tests(std::slice::from_ref(&r))
                                .map_err(std::io::Error::other)?;
                        }
                        sum.add(&r);
                    }
                    Ok(sum)
                })
            };
            match t {
                Protocol::Udp => udp(target, &pool, total, qps, tx)?,
                Protocol::Tcp => tcp(target, &pool, total, qps, tx),
            }
            let elapsed = started.elapsed();
            let part = validator
                .join()
                .map_err(|_| std::io::Error::other("validator thread panicked"))??;
            for (k, v) in part.series {
                let e = summary.series.entry(k).or_default();
                e.ns = v.ns;
                e.tests += v.tests;
                e.unanswered += v.unanswered;
                e.within_slr += v.within_slr;
                e.rtts_ms.extend(v.rtts_ms);
                for (r, n) in v.reasons {
                    *e.reasons.entry(r).or_default() += n;
                }
            }
            let line = serde_json::json!({
                "kind": "load",
                "server": target.addr,
                "transport": t.as_str(),
                "target_qps": qps,
                "queries": total,
                "seconds": elapsed.as_secs_f64(),
                "achieved_qps": total as f64 / elapsed.as_secs_f64().max(1e-9),
            });
            if out.json() {
                println!("{line}");
            } else {
                println!(
                    "load {} {}: {} queries at {} q/s in {:.2}s",
                    target.addr,
                    t,
                    total,
                    qps,
                    elapsed.as_secs_f64()
                );
            }
        }
    }
    summary.rounds = 1;
    Ok(summary)
}

struct Pending {
    sent: Instant,
    time_ms: u64,
    q: usize,
    wire: Vec<u8>,
}

fn udp(
    target: &Target,
    pool: &[TestQuery],
    total: u64,
    qps: u32,
    tx: mpsc::Sender<Raw>,
) -> Result<(), ProbeError> {
    let bind: SocketAddr = if target.addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind)?;
    sock.connect(target.addr)?;
    let rsock = sock.try_clone()?;
    rsock.set_read_timeout(Some(Duration::from_millis(50)))?;
    let pending: Arc<Mutex<HashMap<u16, Pending>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let limit = Protocol::Udp.limit();
    let raw = |p: &Pending, outcome| Raw {
        target: target.clone(),
        transport: Protocol::Udp,
        query: pool[p.q].clone(),
        time_ms: p.time_ms,
        outcome,
    };
    std::thread::scope(|sc| {
        let receiver = {
            let (pending, done, tx) = (pending.clone(), done.clone(), tx.clone());
            sc.spawn(move || {
                let mut buf = vec![0u8; 65535];
                let mut last_sweep = Instant::now();
                loop {
                    match rsock.recv(&mut buf) {
                        Ok(n) => {
                            let now = Instant::now();
                            if n >= 2 {
                                let id = u16::from_be_bytes([buf[0], buf[1]]);
                                let mut map = pending.lock().unwrap_or_else(|e| e.into_inner());
                                if let Some(p) = map.get(&id)
                                    && client::matches(&p.wire, &buf[..n])
                                {
                                    let p = map.remove(&id).expect("present: just looked up");
                                    drop(map);
                                    let ex = Exchange {
                                        rtt: now - p.sent,
                                        response: buf[..n].to_vec(),
                                    };
                                    let _ = tx.send(raw(&p, Ok(ex)));
                                }
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                        Err(_) => {}
                    }
                    if last_sweep.elapsed() > Duration::from_millis(50) {
                        last_sweep = Instant::now();
                        let mut map = pending.lock().unwrap_or_else(|e| e.into_inner());
                        let old: Vec<u16> = map
                            .iter()
                            .filter(|(_, p)| p.sent.elapsed() > limit)
                            .map(|(k, _)| *k)
                            .collect();
                        for k in old {
                            if let Some(p) = map.remove(&k) {
                                let _ = tx.send(raw(&p, Err(ExchangeError::Timeout(limit))));
                            }
                        }
                        if done.load(Ordering::Relaxed) && map.is_empty() {
                            return;
                        }
                    }
                }
            })
        };
        let start = Instant::now();
        let step = Duration::from_secs_f64(1.0 / qps.max(1) as f64);
        let mut rng = Rand::new();
        let base = rng.next_u64() as u16;
        for k in 0..total {
            wait_until(start + step.mul_f64(k as f64));
            let id = base.wrapping_add(k as u16);
            let q = (k as usize) % pool.len();
            let wire = query::query(id, &pool[q].qname, pool[q].qtype);
            let mut map = pending.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(old) = map.remove(&id) {
                // The ID came round again before an answer: unanswered.
                let _ = tx.send(raw(&old, Err(ExchangeError::Timeout(limit))));
            }
            let time_ms = super::unix_ms();
            let sent = Instant::now();
            let r = sock.send(&wire);
            match r {
                Ok(_) => {
                    map.insert(
                        id,
                        Pending {
                            sent,
                            time_ms,
                            q,
                            wire,
                        },
                    );
                }
                Err(e) => {
                    let p = Pending {
                        sent,
                        time_ms,
                        q,
                        wire,
                    };
                    let err = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                        ExchangeError::Refused
                    } else {
                        ExchangeError::Io(e.to_string())
                    };
                    let _ = tx.send(raw(&p, Err(err)));
                }
            }
        }
        done.store(true, Ordering::Relaxed);
        let _ = receiver.join();
    });
    Ok(())
}

fn tcp(target: &Target, pool: &[TestQuery], total: u64, qps: u32, tx: mpsc::Sender<Raw>) {
    let next = AtomicU64::new(0);
    let start = Instant::now();
    let step = Duration::from_secs_f64(1.0 / qps.max(1) as f64);
    let workers = TCP_WORKERS.min(total as usize).max(1);
    std::thread::scope(|sc| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            sc.spawn(move || {
                let mut rng = Rand::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= total {
                        return;
                    }
                    wait_until(start + step.mul_f64(k as f64));
                    let q = &pool[(k as usize) % pool.len()];
                    let raw = super::exchange(target, Protocol::Tcp, q, rng.next_u64() as u16);
                    if tx.send(raw).is_err() {
                        return;
                    }
                }
            });
        }
    });
}
