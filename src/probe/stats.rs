//! Test results collated per address and transport, against the SLRs of
//! Spec 10 §2.
//!
//! Owns the arithmetic: nearest-rank percentiles of the RTTs of answered
//! tests, availability, and whether each SLR holds over what was measured.
//! The contract's levels are monthly; a shorter run is judged pro rata:
//! - UDP/TCP resolution RTT: at most 500 / 1500 ms for at least 95% of the
//!   queries (an unanswered query counts against it);
//! - name server availability: at most 432 minutes down a month, i.e. at
//!   least 99% of tests answered (§3.2, §3.8: an address is down from a
//!   failed test until the next one);
//! - DNS service availability: 100%, where a round counts as up when at
//!   least two name servers answered on every address tested (§3.1).

use super::TestResult;
use super::client::Protocol;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Name server availability SLR: 432 minutes of a 30-day month.
pub const NS_AVAILABILITY_SLR: f64 = 1.0 - 432.0 / 43_200.0;
/// RTT SLRs hold for at least this share of queries.
pub const RTT_SLR_SHARE: f64 = 0.95;

/// Results of one address over one transport.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The name server the address belongs to.
    pub ns: String,
    /// Tests run, answered or not.
    pub tests: u64,
    /// Tests counted as unanswered (Spec 10 §3.7).
    pub unanswered: u64,
    /// RTTs of answered tests, milliseconds.
    pub rtts_ms: Vec<f64>,
    /// Answered tests within the SLR.
    pub within_slr: u64,
    /// Unanswered tests by reason code.
    pub reasons: BTreeMap<&'static str, u64>,
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

fn transport_of(s: &str) -> Protocol {
    if s == "tcp" {
        Protocol::Tcp
    } else {
        Protocol::Udp
    }
}

/// One line of a summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Line {
    /// Always `"summary"`, which tells these JSON lines apart from per-test ones.
    pub kind: &'static str,
    /// The address tested.
    pub server: SocketAddr,
    /// The name server the address belongs to.
    pub ns: String,
    /// `"udp"` or `"tcp"`.
    pub transport: &'static str,
    /// Tests run, answered or not.
    pub tests: u64,
    /// Tests counted as unanswered (Spec 10 §3.7).
    pub unanswered: u64,
    /// Median RTT of answered tests, milliseconds; `None` when none was answered.
    pub p50_ms: Option<f64>,
    /// 95th-percentile (nearest rank) RTT of answered tests, milliseconds.
    pub p95_ms: Option<f64>,
    /// 99th-percentile (nearest rank) RTT of answered tests, milliseconds.
    pub p99_ms: Option<f64>,
    /// Mean RTT of answered tests, milliseconds.
    pub mean_ms: Option<f64>,
    /// Share of tests answered.
    pub availability: f64,
    /// Share of tests answered within the RTT SLR.
    pub within_rtt_slr: f64,
    /// The transport's RTT SLR, milliseconds (500 UDP, 1500 TCP).
    pub rtt_slr_ms: u64,
    /// At least [`RTT_SLR_SHARE`] of the tests were answered within the RTT SLR.
    pub rtt_slr_met: bool,
    /// At least [`NS_AVAILABILITY_SLR`] of the tests were answered.
    pub availability_slr_met: bool,
    /// Unanswered tests by reason code.
    pub reasons: BTreeMap<&'static str, u64>,
}

impl Series {
    /// The summary line of this series for `server` over `transport`, judged
    /// against the SLRs; no SLR is met by a series without tests.
    pub fn line(&self, server: SocketAddr, transport: &'static str) -> Line {
        let mut v = self.rtts_ms.clone();
        v.sort_by(f64::total_cmp);
        let t = self.tests.max(1) as f64;
        let availability = (self.tests - self.unanswered) as f64 / t;
        let within = self.within_slr as f64 / t;
        Line {
            kind: "summary",
            server,
            ns: self.ns.clone(),
            transport,
            tests: self.tests,
            unanswered: self.unanswered,
            p50_ms: percentile(&v, 50.0),
            p95_ms: percentile(&v, 95.0),
            p99_ms: percentile(&v, 99.0),
            mean_ms: (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64),
            availability,
            within_rtt_slr: within,
            rtt_slr_ms: transport_of(transport).slr().as_millis() as u64,
            rtt_slr_met: self.tests > 0 && within >= RTT_SLR_SHARE,
            availability_slr_met: self.tests > 0 && availability >= NS_AVAILABILITY_SLR,
            reasons: self.reasons.clone(),
        }
    }
}

/// Everything measured so far.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// One series per address and transport (`"udp"` or `"tcp"`).
    pub series: BTreeMap<(SocketAddr, &'static str), Series>,
    /// Rounds added with [`Summary::add_round`].
    pub rounds: u64,
    /// Rounds in which the DNS service was available (§3.1).
    pub service_up: u64,
    /// Name servers seen (service availability needs two).
    pub name_servers: usize,
}

impl Summary {
    /// Counts one test in its series: the RTT if answered, the reason if not.
    /// Rounds and service availability are left to [`Summary::add_round`].
    pub fn add(&mut self, r: &TestResult) {
        let s = self.series.entry((r.server, r.transport)).or_default();
        s.ns.clone_from(&r.ns);
        s.tests += 1;
        if r.answered {
            let rtt = r.rtt_ms.unwrap_or(0.0);
            s.rtts_ms.push(rtt);
            if rtt <= transport_of(r.transport).slr().as_secs_f64() * 1000.0 {
                s.within_slr += 1;
            }
        } else {
            s.unanswered += 1;
            *s.reasons.entry(r.reason.unwrap_or("unknown")).or_default() += 1;
        }
    }

    /// A round's results: per-series counts and service availability.
    pub fn add_round(&mut self, results: &[TestResult]) {
        let mut ns_up: BTreeMap<&str, bool> = BTreeMap::new();
        for r in results {
            self.add(r);
            let up = ns_up.entry(r.ns.as_str()).or_insert(true);
            *up &= r.answered;
        }
        self.rounds += 1;
        self.name_servers = self.name_servers.max(ns_up.len());
        if ns_up.values().filter(|u| **u).count() >= 2 {
            self.service_up += 1;
        }
    }

    /// One summary line per series, in address and transport order.
    pub fn lines(&self) -> Vec<Line> {
        self.series
            .iter()
            .map(|((a, t), s)| s.line(*a, t))
            .collect()
    }

    /// DNS service availability (§3.1), when at least two name servers are
    /// tested; with fewer it cannot be judged here.
    pub fn service_availability(&self) -> Option<f64> {
        (self.name_servers >= 2 && self.rounds > 0)
            .then(|| self.service_up as f64 / self.rounds as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    fn result(ns: &str, port: u16, answered: bool, rtt: f64) -> TestResult {
        TestResult {
            time_ms: 0,
            server: SocketAddr::from(([127, 0, 0, 1], port)),
            ns: ns.into(),
            transport: "udp",
            qname: "mobile.".into(),
            qtype: "SOA".into(),
            expect: "positive",
            rtt_ms: Some(rtt),
            answered,
            reason: (!answered).then_some("timeout"),
            detail: None,
            serial: None,
        }
    }

    /// Spec 10 §2: 95% of UDP queries within 500 ms; an unanswered query
    /// counts against it, and availability below 99% breaks §3.2's SLR.
    #[test]
    fn spec10_section_2_slrs() {
        let mut s = Summary::default();
        for i in 0..100 {
            let slow = if i < 5 { 600.0 } else { 1.0 };
            s.add_round(&[result("a", 1, true, slow), result("b", 2, i != 0, 1.0)]);
        }
        let lines = s.lines();
        assert!(lines[0].rtt_slr_met, "95 of 100 within the SLR");
        assert!(lines[0].availability_slr_met);
        assert_eq!(lines[1].unanswered, 1);
        assert!(lines[1].availability_slr_met, "99% is enough");
        assert_eq!(s.service_availability(), Some(0.99));
        s.add_round(&[result("a", 1, true, 600.0), result("b", 2, false, 1.0)]);
        let lines = s.lines();
        assert!(!lines[0].rtt_slr_met);
        assert!(!lines[1].availability_slr_met);
        assert_eq!(lines[1].reasons.get("timeout"), Some(&2));
    }
}
