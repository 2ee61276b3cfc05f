//! Query counters: one set per worker, so the query path bumps a counter no
//! other core writes (no shared cache line, no lock). A reporter sums them
//! into Prometheus metrics now and then.

use super::answer::{Kind, Outcome, Transport};
use crate::rr::rtype;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const RCODES: usize = 17;
const KINDS: usize = 9;
/// Query types counted by name; the rest go to "other".
const QTYPES: [u16; 9] = [
    rtype::A,
    rtype::NS,
    rtype::SOA,
    rtype::AAAA,
    rtype::DS,
    rtype::DNSKEY,
    rtype::ANY,
    rtype::TXT,
    rtype::NSEC3PARAM,
];

/// Counters of one worker (one UDP thread or one TCP connection).
#[derive(Debug)]
pub struct Worker {
    // [transport][rcode]
    rcode: [[AtomicU64; RCODES]; 2],
    kind: [AtomicU64; KINDS],
    qtype: [AtomicU64; QTYPES.len() + 1],
    dropped: AtomicU64,
}

impl Default for Worker {
    fn default() -> Self {
        Worker {
            rcode: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            kind: std::array::from_fn(|_| AtomicU64::new(0)),
            qtype: std::array::from_fn(|_| AtomicU64::new(0)),
            dropped: AtomicU64::new(0),
        }
    }
}

fn bump(c: &AtomicU64) {
    // Only this worker writes: a relaxed load and store is enough and avoids a locked add.
    c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

impl Worker {
    /// Count one answer: by transport and RCODE, by kind, by QTYPE.
    #[inline]
    pub fn count(&self, t: Transport, o: &Outcome) {
        let ti = matches!(t, Transport::Tcp) as usize;
        bump(&self.rcode[ti][(o.rcode as usize).min(RCODES - 1)]);
        bump(&self.kind[o.kind as usize]);
        let qi = QTYPES
            .iter()
            .position(|&q| q == o.qtype)
            .unwrap_or(QTYPES.len());
        bump(&self.qtype[qi]);
    }

    /// Count a query that got no answer (unreadable, or the send failed).
    #[inline]
    pub fn dropped(&self) {
        bump(&self.dropped);
    }
}

/// All workers' counters.
#[derive(Debug, Default)]
pub struct Stats {
    workers: Mutex<Vec<Arc<Worker>>>,
    tcp_refused: AtomicU64,
    /// The response rate limiter, when on: its dropped and slipped counts.
    rrl: std::sync::OnceLock<Arc<super::rrl::Rrl>>,
}

/// Totals summed over workers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// (transport `udp`/`tcp`, RCODE, answers), for RCODEs with answers.
    pub by_rcode: Vec<(&'static str, u16, u64)>,
    /// ([`Kind`] name, answers), every kind.
    pub by_kind: Vec<(&'static str, u64)>,
    /// (QTYPE mnemonic or `other`, answers), every counted type.
    pub by_qtype: Vec<(String, u64)>,
    /// Queries that got no answer.
    pub dropped: u64,
    /// TCP connections closed at once because `tcp-max-connections` were
    /// open (RFC 7766 §6.2.2).
    pub tcp_refused: u64,
}

impl Stats {
    /// A new counter set for a worker (taken once, at worker start).
    pub fn worker(&self) -> Arc<Worker> {
        let w = Arc::new(Worker::default());
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(w.clone());
        w
    }

    /// The rate limiter whose counts [`Stats::export`] reports.
    pub fn set_rrl(&self, r: Arc<super::rrl::Rrl>) {
        let _ = self.rrl.set(r);
    }

    /// Count a TCP connection refused over the connection cap.
    pub fn tcp_refused(&self) {
        self.tcp_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters summed over every worker.
    pub fn totals(&self) -> Totals {
        let ws = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        let mut t = Totals::default();
        for (ti, tname) in ["udp", "tcp"].iter().enumerate() {
            for rc in 0..RCODES {
                let n: u64 = ws
                    .iter()
                    .map(|w| w.rcode[ti][rc].load(Ordering::Relaxed))
                    .sum();
                if n > 0 {
                    t.by_rcode.push((tname, rc as u16, n));
                }
            }
        }
        let kinds = [
            (Kind::Apex, "apex"),
            (Kind::Referral, "referral"),
            (Kind::Ds, "ds"),
            (Kind::NxDomain, "nxdomain"),
            (Kind::NoData, "nodata"),
            (Kind::Refused, "refused"),
            (Kind::Error, "error"),
            (Kind::Chaos, "chaos"),
            (Kind::Truncated, "truncated"),
        ];
        for (k, name) in kinds {
            let n: u64 = ws
                .iter()
                .map(|w| w.kind[k as usize].load(Ordering::Relaxed))
                .sum();
            t.by_kind.push((name, n));
        }
        for i in 0..=QTYPES.len() {
            let n: u64 = ws.iter().map(|w| w.qtype[i].load(Ordering::Relaxed)).sum();
            let name = QTYPES
                .get(i)
                .map(|&q| crate::rr::type_name(q))
                .unwrap_or_else(|| "other".into());
            t.by_qtype.push((name, n));
        }
        t.dropped = ws.iter().map(|w| w.dropped.load(Ordering::Relaxed)).sum();
        t.tcp_refused = self.tcp_refused.load(Ordering::Relaxed);
        t
    }

    /// Copy the totals into the `metrics` registry (called by a timer).
    pub fn export(&self) {
        let t = self.totals();
        for (transport, rc, n) in t.by_rcode {
            metrics::counter!("tldns_queries_total", "transport" => transport, "rcode" => rcode_name(rc)).absolute(n);
        }
        for (kind, n) in t.by_kind {
            metrics::counter!("tldns_answers_total", "kind" => kind).absolute(n);
        }
        for (q, n) in t.by_qtype {
            metrics::counter!("tldns_queries_by_type_total", "qtype" => q).absolute(n);
        }
        metrics::counter!("tldns_queries_dropped_total").absolute(t.dropped);
        metrics::counter!("tldns_tcp_connections_refused_total").absolute(t.tcp_refused);
        if let Some(r) = self.rrl.get() {
            use super::rrl::Class;
            for (i, c) in [
                Class::Answer,
                Class::Referral,
                Class::NxDomain,
                Class::Error,
            ]
            .iter()
            .enumerate()
            {
                let (d, s) = (
                    r.dropped[i].load(Ordering::Relaxed),
                    r.slipped[i].load(Ordering::Relaxed),
                );
                metrics::counter!("tldns_rrl_dropped_total", "class" => c.label()).absolute(d);
                metrics::counter!("tldns_rrl_slipped_total", "class" => c.label()).absolute(s);
            }
        }
    }
}

fn rcode_name(rc: u16) -> &'static str {
    match rc {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        9 => "NOTAUTH",
        16 => "BADVERS",
        _ => "other",
    }
}
