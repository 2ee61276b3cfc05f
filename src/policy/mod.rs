//! Policy: from SRS rows to what the registry agreement allows in the zone.
//!
//! Owns the decision of what may be published below the apex: which domain
//! rows become delegations (Exhibit A §1, Spec 5, Spec 6 §1.1, §2.2, §6,
//! RFC 5731 statuses), which host addresses become glue, which DS records
//! are published (Spec 6 §1.3). A bad row never stops the zone: it is
//! refused and reported with its table, row id, rule and contract section.
//! Only a missing `nic` delegation (Spec 5 §3.1) or apex glue that cannot be
//! placed is a build error. Does no I/O except reading the lists and
//! writing the report; knows no SQL and no zone layout beyond [`Content`].
//!
//! Decisions where the agreement leaves room, so operators can predict them:
//! - Names are compared case-insensitively (RFC 4343), trailing dot optional;
//!   names must be stored as A-labels (a raw U-label is an invalid label).
//! - `example` (§1) and every two-character label (§2) are reserved in code;
//!   releases of two-character labels are not supported yet. `nic` is never
//!   refused by a list, and a list that names it does not load.
//! - Duplicate domain rows: the first in snapshot order is judged normally,
//!   every later one is refused as a duplicate.
//! - `inactive` (RFC 5731 §2.3: no name servers) holds a name like
//!   clientHold, serverHold, redemptionPeriod and pendingDelete do.
//! - A name server with an invalid host name is refused on its own; the
//!   delegation is published with the rest, or refused (no name servers)
//!   when none is left. NS sets are sorted in canonical order, deduplicated
//!   and shared between delegations.
//! - Hosts without addresses are nothing to judge. An out-of-zone host with
//!   addresses is silently not glue, unless a published delegation (or the
//!   apex) uses it: then the addresses are refused as out-of-bailiwick glue.
//!   An in-zone host is judged: apex name (dotless), unpublished parent,
//!   unused (orphan), then each address. For the apex name servers the
//!   configuration's addresses are the glue; SRS rows for those hosts are
//!   ignored.
//! - DS: algorithms 8, 10, 13, 14, 15, 16; digest types 2 and 4, and also 1
//!   (SHA-1): RFC 8624 §3.3 says MUST NOT *generate* it, but validators still
//!   accept it, and refusing a registrant's only DS would turn a signed
//!   domain insecure. Exact duplicate DS rows are refused as duplicates.
//! - Not enforced here: the first-120-days rule of Spec 6 §6 (only `nic`
//!   activated) and emergency removals; those are SRS or operator actions.

pub mod label;
mod lists;
mod report;

pub use lists::{Lists, parse_list};
pub use report::{Counts, Report};
// The refusal vocabulary lives below policy, in srs, because the zone-file
// import refuses records by the same rules; policy decides, srs only names.
pub use crate::srs::{Refusal, Rule};

use crate::config::Config;
use crate::name::Name;
use crate::rr::{Ds, ds_digest_len};
use crate::srs::{DomainRow, Snapshot};
use crate::zone::{Content, Delegation, Glue};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Why policy could not produce publishable content, or its files could not
/// be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A reserved-name or collision list could not be read.
    #[error("{path}: cannot read: {error}")]
    ListRead {
        /// The list file, resolved against the configuration's directory.
        path: PathBuf,
        /// The read error.
        error: std::io::Error,
    },
    /// A list entry is not a usable label, or is one that must stay in
    /// the DNS (`nic`, Spec 5 §3.1).
    #[error("{path}:{line}: {entry:?}: {reason}")]
    ListEntry {
        /// The list file.
        path: PathBuf,
        /// 1-based line of the entry.
        line: usize,
        /// The entry, comment and blanks removed.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Spec 5 §3.1: the registry operator must activate NIC in the DNS.
    #[error("{name} must be published (Spec 5 §3.1) but is not: {reason}")]
    NicMissing {
        /// `nic.<tld>`.
        name: Name,
        /// Why it is not published: its refusal, or that there is no row.
        reason: String,
    },
    /// An in-zone apex name server below a name that is not delegated: its
    /// glue would be data the zone may not hold (Exhibit A §1).
    #[error(
        "apex name server {ns}: {parent} is not published, so its glue cannot be (Exhibit A §1)"
    )]
    ApexGlueWithoutDelegation {
        /// The apex name server (from `[[apex-ns]]`).
        ns: Name,
        /// The second-level name above it, which is not published.
        parent: Name,
    },
    /// The JSON report could not be written.
    #[error("{path}: cannot write report: {error}")]
    ReportWrite {
        /// Where the report was to go.
        path: PathBuf,
        /// The write error.
        error: std::io::Error,
    },
}

/// EPP statuses that keep a name out of the DNS (RFC 5731 §2.3, RFC 3915
/// §3.1, Spec 6 §2.2), compared case-insensitively.
pub const HELD_STATUSES: &[&str] = &[
    "clientHold",
    "serverHold",
    "redemptionPeriod",
    "pendingDelete",
    "inactive",
];

/// DS algorithms accepted (RFC 8624 §3.1: RSASHA256, RSASHA512, ECDSA P-256
/// and P-384, Ed25519, Ed448).
pub const DS_ALGORITHMS: &[u8] = &[8, 10, 13, 14, 15, 16];

/// DS digest types accepted: SHA-256, SHA-384, and SHA-1 (see module docs).
pub const DS_DIGEST_TYPES: &[u8] = &[1, 2, 4];

/// A delegation that passed, before DS and ordering.
struct Pending {
    name: Name,
    ns: Arc<[Name]>,
    /// Checked DS with their row ids.
    ds: Vec<(Ds, i64)>,
}

/// Judge a snapshot: the delegations, glue and DS that may be published,
/// and a report of every refused row.
///
/// Linear in the number of rows (hash lookups only), plus one sort of the
/// published names.
pub fn apply(
    snapshot: &Snapshot,
    config: &Config,
    lists: &Lists,
) -> Result<(Content, Report), PolicyError> {
    let origin = &config.origin;
    let origin_text = origin.to_string();
    let origin_text = origin_text.strip_suffix('.').unwrap_or(&origin_text);
    let mut report = Report::default();

    // Domains.
    let n = snapshot.domains.len();
    let mut pass = DomainPass {
        origin: origin_text,
        lists,
        max_ns: config.zone.policy.max_ns_per_domain,
        seen: HashMap::with_capacity(n),
        raw_ns: HashMap::new(),
        ns_sets: HashSet::new(),
    };
    // Domain row id -> (name as stored, index in `pending` if published), for DS.
    let mut by_id: HashMap<i64, (&str, Option<usize>)> = HashMap::with_capacity(n);
    let mut pending: Vec<Pending> = Vec::with_capacity(n);
    let mut nic_refusal: Option<String> = None;
    for row in &snapshot.domains {
        report.counts.domains_seen += 1;
        let verdict = pass.judge(row, &mut report).and_then(|(label, ns)| {
            match origin.prepend(label.as_bytes()) {
                Ok(name) => Ok((label, name, ns)),
                // A checked label is 1-63 LDH octets and the origin one label.
                Err(_) => Err((Some(label), Rule::InvalidLabel, "name too long".to_string())),
            }
        });
        match verdict {
            Ok((label, name, ns)) => {
                let idx = pending.len();
                pending.push(Pending {
                    name,
                    ns,
                    ds: Vec::new(),
                });
                pass.seen.insert(label, (row.id, Some(idx)));
                by_id.entry(row.id).or_insert((&row.name, Some(idx)));
            }
            Err((label, rule, detail)) => {
                if let Some(label) = label {
                    if label == "nic" && nic_refusal.is_none() {
                        nic_refusal = Some(format!(
                            "domain row {} refused: {}: {detail}",
                            row.id,
                            rule.id()
                        ));
                    }
                    pass.seen.entry(label).or_insert((row.id, None));
                }
                by_id.entry(row.id).or_insert((&row.name, None));
                report.counts.domains_refused += 1;
                report.refuse(Refusal::new("domain", row.id, &row.name, rule, detail));
            }
        }
    }
    let DomainPass { seen, ns_sets, .. } = pass;
    let published = |label: &[u8]| -> Option<usize> {
        std::str::from_utf8(label)
            .ok()
            .and_then(|l| seen.get(l))
            .and_then(|e| e.1)
    };

    // Spec 5 §3.1: nic must be activated.
    if published(b"nic").is_none() {
        let name = origin.prepend(b"nic").unwrap_or_else(|_| origin.clone());
        let reason = nic_refusal.unwrap_or_else(|| "no domain row for it".to_string());
        return Err(PolicyError::NicMissing { name, reason });
    }

    // Apex glue from the configuration.
    let mut glue: BTreeMap<Name, Glue> = BTreeMap::new();
    let mut apex_in_zone: HashSet<&Name> = HashSet::new();
    for (ns, addrs) in &config.apex_ns {
        if !ns.is_subdomain_of(origin) || ns == origin {
            continue;
        }
        apex_in_zone.insert(ns);
        let Some(parent) = ns.second_level(origin) else {
            continue;
        };
        if parent.first_label().and_then(published).is_none() {
            return Err(PolicyError::ApexGlueWithoutDelegation {
                ns: ns.clone(),
                parent,
            });
        }
        let g = glue.entry(ns.clone()).or_default();
        for ip in addrs {
            g.push(*ip);
        }
    }

    // Host addresses.
    let used: HashSet<&Name> = ns_sets
        .iter()
        .flat_map(|s| s.iter())
        .chain(config.apex_ns.iter().map(|(n, _)| n))
        .collect();
    let mut seen_hosts: HashMap<Name, i64> = HashMap::new();
    for h in &snapshot.hosts {
        report.counts.hosts_seen += 1;
        if h.addrs.is_empty() {
            continue;
        }
        let mut refuse = |rule: Rule, detail: String| {
            report.refuse(Refusal::new("host", h.id, &h.name, rule, detail))
        };
        if Name::parse(&h.name).is_ok_and(|n| n == *origin) {
            refuse(
                Rule::ApexRecord,
                "addresses at the apex (dotless domain)".to_string(),
            );
            continue;
        }
        let name = match label::host_name(&h.name) {
            Ok(n) => n,
            Err(why) => {
                refuse(Rule::InvalidNameServer, why.to_string());
                continue;
            }
        };
        if let Some(first) = seen_hosts.get(&name) {
            refuse(Rule::Duplicate, format!("same host as host row {first}"));
            continue;
        }
        seen_hosts.insert(name.clone(), h.id);
        if !name.is_subdomain_of(origin) {
            if used.contains(&name) {
                refuse(
                    Rule::OutOfBailiwickGlue,
                    format!("{name} is outside {origin}; its addresses are not glue"),
                );
            }
            continue;
        }
        if apex_in_zone.contains(&name) {
            // The configuration's addresses are the apex glue.
            continue;
        }
        let Some(parent) = name.second_level(origin) else {
            continue;
        };
        if parent.first_label().and_then(published).is_none() {
            refuse(
                Rule::GlueWithoutDelegation,
                format!("{parent} is not published"),
            );
            continue;
        }
        if !used.contains(&name) {
            refuse(
                Rule::OrphanGlue,
                "no published delegation uses this host".to_string(),
            );
            continue;
        }
        let mut g = Glue::default();
        for a in &h.addrs {
            match a.trim().parse::<IpAddr>() {
                Ok(ip) => g.push(ip),
                Err(_) => refuse(
                    Rule::InvalidAddress,
                    format!("{a:?} is not an IPv4 or IPv6 address"),
                ),
            }
        }
        if !g.is_empty() {
            glue.insert(name, g);
        }
    }

    // DS.
    for d in &snapshot.ds {
        report.counts.ds_seen += 1;
        let (name, idx) = match by_id.get(&d.domain_id) {
            Some(&(name, idx)) => (name.to_string(), idx),
            None => (format!("(domain row {})", d.domain_id), None),
        };
        let mut refuse = |rule: Rule, detail: String| {
            report.counts.ds_refused += 1;
            report.refuse(Refusal::new("ds", d.id, name.clone(), rule, detail));
        };
        let Some(idx) = idx else {
            refuse(
                Rule::DsWithoutDelegation,
                format!("domain row {} is not published", d.domain_id),
            );
            continue;
        };
        match check_ds(d) {
            Ok(ds) => pending[idx].ds.push((ds, d.id)),
            Err((rule, detail)) => refuse(rule, detail),
        }
    }

    // Canonical order: siblings below one origin compare by their label's
    // octets (RFC 4034 §6.1), so sorting by label is cheap and exact; the
    // map then builds from sorted input in linear time.
    pending.sort_unstable_by(|a, b| a.name.first_label().cmp(&b.name.first_label()));
    let mut sorted = Vec::with_capacity(pending.len());
    for mut p in pending {
        p.ds.sort();
        let mut ds: Vec<Ds> = Vec::with_capacity(p.ds.len());
        for (rec, row) in p.ds {
            if ds.last() == Some(&rec) {
                report.counts.ds_refused += 1;
                report.refuse(Refusal::new(
                    "ds",
                    row,
                    p.name.to_string(),
                    Rule::Duplicate,
                    "same DS as another row",
                ));
            } else {
                ds.push(rec);
            }
        }
        report.counts.ds_published += ds.len();
        sorted.push((p.name, Delegation { ns: p.ns, ds }));
    }
    report.counts.domains_published = sorted.len();
    // `collect` bulk-builds from sorted input; `extend` would insert one by one.
    let delegations: BTreeMap<Name, Delegation> = sorted.into_iter().collect();

    report.counts.ns_sets = ns_sets.len();
    report.counts.glue_hosts = glue.len();
    report.counts.glue_a = glue.values().map(|g| g.a.len()).sum();
    report.counts.glue_aaaa = glue.values().map(|g| g.aaaa.len()).sum();
    Ok((
        Content {
            delegations: delegations.into_iter().collect(),
            glue: glue.into_iter().collect(),
        },
        report,
    ))
}

/// A refused domain: its label if it got that far, the rule, the detail.
type DomainRefusal = (Option<String>, Rule, String);

/// State of the domain pass.
struct DomainPass<'a> {
    /// The origin in lower case without the trailing dot.
    origin: &'a str,
    lists: &'a Lists,
    /// `max-ns-per-domain`: a domain with more name servers is refused.
    max_ns: usize,
    /// Label -> (first row id, index in `pending` if published).
    seen: HashMap<String, (i64, Option<usize>)>,
    /// Valid NS sets by their text as stored: rows repeat a few sets (a
    /// registrar's defaults), so most rows parse no host name at all.
    raw_ns: HashMap<&'a [String], Arc<[Name]>>,
    /// Every distinct NS set once, shared by the delegations using it.
    ns_sets: HashSet<Arc<[Name]>>,
}

impl<'a> DomainPass<'a> {
    /// Everything about one domain row but DS: name, duplicates, Spec 5,
    /// Spec 6 §6, status, name servers. Returns the label and the shared,
    /// sorted, deduplicated NS set. Refusals of single name servers go to
    /// `report` directly.
    fn judge(
        &mut self,
        row: &'a DomainRow,
        report: &mut Report,
    ) -> Result<(String, Arc<[Name]>), DomainRefusal> {
        let label =
            second_level_label(&row.name, self.origin).map_err(|(rule, why)| (None, rule, why))?;
        if let Some((first, _)) = self.seen.get(&label) {
            let detail = format!("same name as domain row {first}");
            return Err((Some(label), Rule::Duplicate, detail));
        }
        match self.check(&label, row, report) {
            Ok(ns) => Ok((label, ns)),
            Err((rule, detail)) => Err((Some(label), rule, detail)),
        }
    }

    fn check(
        &mut self,
        label: &str,
        row: &'a DomainRow,
        report: &mut Report,
    ) -> Result<Arc<[Name]>, (Rule, String)> {
        if label != "nic" {
            if label == "example" {
                return Err((
                    Rule::Reserved,
                    "example is reserved at all levels (Spec 5 §1)".into(),
                ));
            }
            if label.len() == 2 {
                return Err((Rule::Reserved, "two-character label (Spec 5 §2)".into()));
            }
            if self.lists.reserved.contains(label) {
                return Err((Rule::Reserved, "on the reserved-name list".into()));
            }
            if self.lists.collision.contains(label) {
                return Err((Rule::Collision, "on the name-collision block list".into()));
            }
        }
        let held = |s: &&String| {
            HELD_STATUSES
                .iter()
                .any(|h| h.eq_ignore_ascii_case(s.trim()))
        };
        if let Some(s) = row.statuses.iter().find(held) {
            return Err((Rule::Held, format!("status {s}")));
        }
        if row.ns.is_empty() {
            return Err((Rule::NoNameServers, "no name servers".into()));
        }
        if row.ns.len() > self.max_ns {
            return Err((
                Rule::TooManyNameServers,
                format!(
                    "{} name servers, more than max-ns-per-domain ({})",
                    row.ns.len(),
                    self.max_ns
                ),
            ));
        }
        if let Some(shared) = self.raw_ns.get(row.ns.as_slice()) {
            return Ok(shared.clone());
        }
        let mut ns = Vec::with_capacity(row.ns.len());
        for h in &row.ns {
            match label::host_name(h) {
                Ok(n) => ns.push(n),
                Err(why) => report.refuse(Refusal::new(
                    "domain",
                    row.id,
                    &row.name,
                    Rule::InvalidNameServer,
                    format!("name server {h:?}: {why}"),
                )),
            }
        }
        if ns.is_empty() {
            return Err((
                Rule::NoNameServers,
                format!("none of its {} name servers is valid", row.ns.len()),
            ));
        }
        let all_valid = ns.len() == row.ns.len();
        ns.sort();
        ns.dedup();
        let shared = match self.ns_sets.get(ns.as_slice()) {
            Some(shared) => shared.clone(),
            None => {
                let shared: Arc<[Name]> = ns.into();
                self.ns_sets.insert(shared.clone());
                shared
            }
        };
        // Only sets without refusals are cached: those must be reported per row.
        if all_valid {
            self.raw_ns.insert(&row.ns, shared.clone());
        }
        Ok(shared)
    }
}

/// The one label of `raw` below `origin` (lower case, no trailing dot), as
/// lower-case text that passed [`label::check_label`].
fn second_level_label(raw: &str, origin: &str) -> Result<String, (Rule, String)> {
    if !raw.is_ascii() {
        return Err((
            Rule::InvalidLabel,
            "not ASCII: IDNs are stored as A-labels (RFC 5891 §5)".into(),
        ));
    }
    let mut t = raw.to_ascii_lowercase();
    if t.ends_with('.') {
        t.pop();
    }
    if t.split('.').any(str::is_empty) {
        return Err((Rule::InvalidLabel, "empty label (RFC 1035 §2.3.1)".into()));
    }
    if t.split('.').any(|l| l == "*") {
        return Err((Rule::Wildcard, "wildcard label (Spec 6 §2.2)".into()));
    }
    let Some(label) = t.strip_suffix(origin).and_then(|r| r.strip_suffix('.')) else {
        return Err((Rule::NotSecondLevel, format!("not below {origin}.")));
    };
    if label.contains('.') {
        return Err((
            Rule::NotSecondLevel,
            format!("more than one label below {origin}."),
        ));
    }
    label::check_label(label).map_err(|(rule, why)| (rule, why.to_string()))?;
    let len = label.len();
    t.truncate(len);
    Ok(t)
}

/// RFC 4034 §5.1 fields, RFC 8624 algorithm and digest choices.
fn check_ds(d: &crate::srs::DsRow) -> Result<Ds, (Rule, String)> {
    let key_tag =
        u16::try_from(d.key_tag).map_err(|_| (Rule::DsKeyTag, format!("key tag {}", d.key_tag)))?;
    let algorithm = u8::try_from(d.algorithm)
        .ok()
        .filter(|a| DS_ALGORITHMS.contains(a))
        .ok_or_else(|| {
            (
                Rule::DsAlgorithm,
                format!("algorithm {} (accepted: {DS_ALGORITHMS:?})", d.algorithm),
            )
        })?;
    let digest_type = u8::try_from(d.digest_type)
        .ok()
        .filter(|t| DS_DIGEST_TYPES.contains(t))
        .ok_or_else(|| {
            (
                Rule::DsDigestType,
                format!(
                    "digest type {} (accepted: {DS_DIGEST_TYPES:?})",
                    d.digest_type
                ),
            )
        })?;
    let hex: String = d
        .digest
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let digest = data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .map_err(|_| (Rule::DsDigest, "digest is not hex".to_string()))?;
    let want = ds_digest_len(digest_type).unwrap_or(0);
    if digest.len() != want {
        return Err((
            Rule::DsDigest,
            format!(
                "digest type {digest_type} needs {want} octets, got {}",
                digest.len()
            ),
        ));
    }
    Ok(Ds {
        key_tag,
        algorithm,
        digest_type,
        digest,
    })
}

#[cfg(test)]
mod tests;
