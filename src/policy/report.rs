//! The build report: every refused row with its rule, and counts, as JSON
//! for operators and monitoring.

use super::{PolicyError, Refusal, Rule};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use tldns_base::fs::write_atomic_with;

/// What [`super::apply`] refused and how much it published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// In row order: domains, then hosts, then DS.
    pub refused: Vec<Refusal>,
    /// The totals of the run.
    pub counts: Counts,
}

/// Totals of one policy run. For domains and DS every row is either
/// published or refused (`seen = published + refused`); refusals of single
/// name servers or addresses do not refuse their row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Domain rows read.
    pub domains_seen: usize,
    /// Domains delegated in the version.
    pub domains_published: usize,
    /// Domain rows refused.
    pub domains_refused: usize,
    /// Distinct NS sets among published delegations (shared in memory).
    pub ns_sets: usize,
    /// Host rows read.
    pub hosts_seen: usize,
    /// Host names with published glue, the apex name servers' included.
    pub glue_hosts: usize,
    /// Published glue A records (IPv4 addresses).
    pub glue_a: usize,
    /// Published glue AAAA records (IPv6 addresses).
    pub glue_aaaa: usize,
    /// DS rows read.
    pub ds_seen: usize,
    /// DS records published.
    pub ds_published: usize,
    /// DS rows refused.
    pub ds_refused: usize,
    /// Refusals per rule id (`Rule::id`).
    pub by_rule: BTreeMap<&'static str, usize>,
}

impl Report {
    pub(crate) fn refuse(&mut self, r: Refusal) {
        *self.counts.by_rule.entry(r.rule.id()).or_default() += 1;
        self.refused.push(r);
    }

    /// Refusals for one rule, in report order.
    pub fn refused_by(&self, rule: Rule) -> impl Iterator<Item = &Refusal> {
        self.refused.iter().filter(move |r| r.rule == rule)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Plain structs, string keys: serialising to memory cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Write the report as JSON; readers never see a half-written file
    /// (one durable atomic write, `tldns_base::fs`).
    pub fn write_json(&self, path: &Path) -> Result<(), PolicyError> {
        write_atomic_with(path, |f| {
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer_pretty(&mut w, self)?;
            w.write_all(b"\n")?;
            w.flush()
        })
        .map_err(|e| PolicyError::ReportWrite {
            path: e.path,
            error: e.error,
        })
    }
}
