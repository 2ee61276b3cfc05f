//! How results leave the probe: a table for a person, JSON lines for a
//! program (one object per test, `"kind": "summary"` objects for the running
//! summary), and Prometheus metrics for a scraper.

use super::stats::Summary;
use super::{ProbeError, TestResult};
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

/// Where tables or JSON lines go (stdout).
pub struct Output {
    json: bool,
    header_done: bool,
}

fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into())
}

impl Output {
    /// JSON lines if `json`, else tables (whose header is printed once).
    pub fn new(json: bool) -> Output {
        Output {
            json,
            header_done: false,
        }
    }

    /// Whether output is JSON lines rather than tables.
    pub fn json(&self) -> bool {
        self.json
    }

    /// One line per test.
    pub fn tests(&mut self, results: &[TestResult]) -> Result<(), ProbeError> {
        let mut o = std::io::stdout().lock();
        if self.json {
            for r in results {
                serde_json::to_writer(&mut o, r).map_err(std::io::Error::other)?;
                o.write_all(b"\n")?;
            }
            return Ok(o.flush()?);
        }
        if !self.header_done {
            writeln!(
                o,
                "{:<24} {:<4} {:<36} {:<7} {:<9} {:>10} {:<10} REASON",
                "SERVER", "TR", "QNAME", "QTYPE", "EXPECT", "RTT(ms)", "RESULT"
            )?;
            self.header_done = true;
        }
        for r in results {
            writeln!(
                o,
                "{:<24} {:<4} {:<36} {:<7} {:<9} {:>10} {:<10} {}",
                r.server.to_string(),
                r.transport,
                r.qname,
                r.qtype,
                r.expect,
                ms(r.rtt_ms),
                if r.answered { "answered" } else { "UNANSWERED" },
                r.detail.as_deref().unwrap_or("")
            )?;
        }
        Ok(o.flush()?)
    }

    /// The summary so far; `interval` is the test interval of a continuous
    /// run (the downtime an unanswered test stands for, §3.8).
    pub fn summary(&mut self, s: &Summary, interval: Option<Duration>) -> Result<(), ProbeError> {
        let mut o = std::io::stdout().lock();
        let lines = s.lines();
        if self.json {
            for l in &lines {
                serde_json::to_writer(&mut o, l).map_err(std::io::Error::other)?;
                o.write_all(b"\n")?;
            }
            let svc = serde_json::json!({
                "kind": "service",
                "rounds": s.rounds,
                "name_servers": s.name_servers,
                "service_availability": s.service_availability(),
                "service_slr_met": s.service_availability().map(|a| a >= 1.0),
            });
            writeln!(o, "{svc}")?;
            return Ok(o.flush()?);
        }
        writeln!(o)?;
        writeln!(
            o,
            "{:<24} {:<4} {:>7} {:>6} {:>9} {:>9} {:>9} {:>8} {:<22} {:<14}",
            "SERVER",
            "TR",
            "TESTS",
            "UNANS",
            "P50(ms)",
            "P95(ms)",
            "P99(ms)",
            "AVAIL%",
            "RTT SLR",
            "AVAIL SLR"
        )?;
        for l in &lines {
            let rtt_slr = format!(
                "{} ({:.1}%<={}ms)",
                if l.rtt_slr_met { "met" } else { "NOT MET" },
                l.within_rtt_slr * 100.0,
                l.rtt_slr_ms
            );
            let down = interval
                .map(|i| {
                    format!(
                        " {}min down",
                        (l.unanswered as f64 * i.as_secs_f64() / 60.0).round()
                    )
                })
                .unwrap_or_default();
            writeln!(
                o,
                "{:<24} {:<4} {:>7} {:>6} {:>9} {:>9} {:>9} {:>8.3} {:<22} {}{}",
                l.server.to_string(),
                l.transport,
                l.tests,
                l.unanswered,
                ms(l.p50_ms),
                ms(l.p95_ms),
                ms(l.p99_ms),
                l.availability * 100.0,
                rtt_slr,
                if l.availability_slr_met {
                    "met"
                } else {
                    "NOT MET"
                },
                down
            )?;
            if !l.reasons.is_empty() {
                let r: Vec<String> = l.reasons.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                writeln!(o, "{:<29} unanswered: {}", "", r.join(", "))?;
            }
        }
        match s.service_availability() {
            Some(a) => writeln!(
                o,
                "DNS service availability (Spec 10 §3.1): {:.3}% over {} rounds, SLR 100%: {}",
                a * 100.0,
                s.rounds,
                if a >= 1.0 { "met" } else { "NOT MET" }
            )?,
            None => writeln!(
                o,
                "DNS service availability (Spec 10 §3.1): needs at least two name servers; {} tested",
                s.name_servers
            )?,
        }
        Ok(o.flush()?)
    }
}

/// Serve Prometheus metrics on `addr` for the rest of the run.
pub fn install_metrics(addr: SocketAddr) -> Result<(), ProbeError> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| ProbeError::Metrics {
            addr,
            error: e.to_string(),
        })
}

/// Publish the summary as gauges (a no-op without a recorder installed).
pub fn export(s: &Summary) {
    for l in s.lines() {
        let labels = [
            ("server", l.server.to_string()),
            ("transport", l.transport.to_string()),
        ];
        metrics::gauge!("tldns_probe_tests", &labels).set(l.tests as f64);
        metrics::gauge!("tldns_probe_unanswered", &labels).set(l.unanswered as f64);
        metrics::gauge!("tldns_probe_availability_ratio", &labels).set(l.availability);
        for (q, v) in [("0.5", l.p50_ms), ("0.95", l.p95_ms), ("0.99", l.p99_ms)] {
            if let Some(v) = v {
                let mut lq = labels.to_vec();
                lq.push(("quantile", q.to_string()));
                metrics::gauge!("tldns_probe_rtt_seconds", &lq).set(v / 1000.0);
            }
        }
        metrics::gauge!("tldns_probe_rtt_slr_met", &labels).set(l.rtt_slr_met as u8 as f64);
        metrics::gauge!("tldns_probe_availability_slr_met", &labels)
            .set(l.availability_slr_met as u8 as f64);
    }
    if let Some(a) = s.service_availability() {
        metrics::gauge!("tldns_probe_service_availability_ratio").set(a);
    }
}
