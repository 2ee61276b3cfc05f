//! DNS update time (Spec 10 §3.6): "from the reception of an EPP
//! confirmation to a transform command on a domain name, until the name
//! servers of the parent domain name answer DNS queries with data
//! consistent with the change made".
//!
//! Owns the clock of an update: either it commits a change itself (a test
//! domain added, then removed: the commit's return is the EPP
//! confirmation) or it waits for a name or a serial someone else
//! committed. Every address is asked over every transport until a
//! validated DNS test shows the change; the update time is the slowest.
//!
//! The one place the probe writes is behind [`Committer`]: the probe knows
//! neither the SRS nor the configuration that locates it. The binary's
//! `probe` command implements it over the SRS.

use super::report::Output;
use super::validate::{Expect, TestQuery};
use super::{KeyCache, ProbeArgs, ProbeError, Protocol, Rand, Setup, judge};
use crate::name::Name;
use crate::rr::rtype;
use std::time::{Duration, Instant};

/// SLR (Spec 10 §2): at most 60 minutes.
pub const UPDATE_SLR: Duration = Duration::from_secs(3600);

/// What a [`Committer`] failed with, as its store said it.
pub type CommitError = Box<dyn std::error::Error + Send + Sync>;

/// How the update-time mode commits a change of its own, as the registry
/// commits an EPP transform: the return of [`Committer::add_domain`] and
/// [`Committer::remove_domain`] is the confirmation the clock starts from.
pub trait Committer {
    /// Get ready to commit (open the SRS). Called once, first, and only
    /// when the probe commits a change itself (not for `--watch-name` or
    /// `--watch-serial`).
    fn connect(&mut self) -> Result<(), CommitError>;
    /// Commit the delegation of `name` to the name servers `ns`.
    fn add_domain(&mut self, name: &Name, ns: &[String]) -> Result<(), CommitError>;
    /// Commit the removal of `name`.
    fn remove_domain(&mut self, name: &Name) -> Result<(), CommitError>;
}

/// Why the update time could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum UpdateTimeError {
    /// The change could not be committed (or the SRS not reached).
    #[error(transparent)]
    Commit(CommitError),
    /// A name given on the command line (or made up) is not a name.
    #[error("bad name {0:?}: {1}")]
    Name(String, crate::name::NameError),
    /// The committed test domain would have no name servers.
    #[error("no name servers for the test domain: give --update-ns")]
    NoNs,
    /// Some address and transport never showed the change.
    #[error("change {change} not seen within {}s by: {}", .waited.as_secs(), .pending.join(", "))]
    NotSeen {
        /// The change waited for.
        change: String,
        /// How long it was waited for.
        waited: Duration,
        /// The addresses and transports that did not show it.
        pending: Vec<String>,
    },
}

/// When one address, over one transport, first showed the change.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seen {
    /// Always `"update"`, which tells these JSON lines apart from the others.
    pub kind: &'static str,
    /// The change waited for: `serial N`, `add NAME` or `remove NAME`.
    pub change: String,
    /// The address that showed it.
    pub server: std::net::SocketAddr,
    /// `"udp"` or `"tcp"`.
    pub transport: &'static str,
    /// Seconds from the confirmation (or the start of the wait) to the
    /// validated answer that showed the change.
    pub update_time_s: f64,
    /// Queries sent to this address over this transport, the last included.
    pub polls: u32,
}

/// Poll every address and transport with `q` until each answers it
/// validated (with `min_serial` if given), or `max` passes.
pub fn wait(
    s: &Setup,
    change: &str,
    q: &TestQuery,
    min_serial: Option<u32>,
    t0: Instant,
    poll: Duration,
    max: Duration,
) -> Result<Vec<Seen>, UpdateTimeError> {
    let mut rng = Rand::new();
    let mut cache = KeyCache::default();
    let mut pending: Vec<(super::Target, Protocol, u32)> = s
        .targets
        .iter()
        .flat_map(|t| s.transports.iter().map(move |&tr| (t.clone(), tr, 0)))
        .collect();
    let mut seen = Vec::new();
    while !pending.is_empty() {
        if t0.elapsed() > max {
            return Err(UpdateTimeError::NotSeen {
                change: change.to_string(),
                waited: t0.elapsed(),
                pending: pending
                    .iter()
                    .map(|(t, tr, _)| format!("{} {}", t.addr, tr))
                    .collect(),
            });
        }
        let tick = Instant::now();
        let mut still = Vec::new();
        for (target, tr, polls) in pending {
            let keys = cache.get(&s.anchor, target.addr, tr, &mut rng);
            let raw = super::exchange(&target, tr, q, rng.next_u64() as u16);
            let at = Instant::now();
            let r = judge(&raw, &s.anchor, keys.as_deref(), min_serial);
            if r.answered {
                seen.push(Seen {
                    kind: "update",
                    change: change.to_string(),
                    server: target.addr,
                    transport: tr.as_str(),
                    update_time_s: at.duration_since(t0).as_secs_f64(),
                    polls: polls + 1,
                });
            } else {
                if keys.is_err() {
                    cache.forget(target.addr, tr);
                }
                still.push((target, tr, polls + 1));
            }
        }
        pending = still;
        if !pending.is_empty()
            && let Some(left) = poll.checked_sub(tick.elapsed())
        {
            std::thread::sleep(left);
        }
    }
    Ok(seen)
}

fn print(out: &Output, seen: &[Seen]) -> Result<(), ProbeError> {
    let worst = seen.iter().map(|s| s.update_time_s).fold(0.0, f64::max);
    if out.json() {
        for s in seen {
            println!(
                "{}",
                serde_json::to_string(s).map_err(std::io::Error::other)?
            );
        }
        println!(
            "{}",
            serde_json::json!({
                "kind": "update-summary",
                "change": seen.first().map(|s| s.change.clone()),
                "update_time_s": worst,
                "slr_s": UPDATE_SLR.as_secs(),
                "slr_met": worst <= UPDATE_SLR.as_secs_f64(),
            })
        );
        return Ok(());
    }
    for s in seen {
        println!(
            "{:<40} {:<24} {:<4} {:>9.3}s ({} polls)",
            s.change,
            s.server.to_string(),
            s.transport,
            s.update_time_s,
            s.polls
        );
    }
    println!(
        "DNS update time (Spec 10 §3.6): {:.3}s; SLR 60 min: {}",
        worst,
        if worst <= UPDATE_SLR.as_secs_f64() {
            "met"
        } else {
            "NOT MET"
        }
    );
    Ok(())
}

/// Run `tldns probe --update-time`: wait for `--watch-serial` or
/// `--watch-name`, or else commit a test domain through `committer`, wait
/// for it, remove it and wait for that.
pub fn run(
    args: &ProbeArgs,
    s: &Setup,
    committer: &mut dyn Committer,
    out: &mut Output,
) -> Result<(), ProbeError> {
    let max = args.duration.unwrap_or(UPDATE_SLR * 2);
    let zone = &s.plan.zone;
    if let Some(serial) = args.watch_serial {
        let q = TestQuery {
            qname: zone.clone(),
            qtype: rtype::SOA,
            expect: Expect::Positive,
        };
        let seen = wait(
            s,
            &format!("serial {serial}"),
            &q,
            Some(serial),
            Instant::now(),
            args.poll,
            max,
        )?;
        return print(out, &seen);
    }
    if let Some(name) = &args.watch_name {
        let n = Name::parse(name).map_err(|e| UpdateTimeError::Name(name.clone(), e))?;
        let q = referral(&n);
        let seen = wait(
            s,
            &format!("add {n}"),
            &q,
            None,
            Instant::now(),
            args.poll,
            max,
        )?;
        return print(out, &seen);
    }
    // Commit a change: add a test domain, wait, remove it, wait.
    committer.connect().map_err(UpdateTimeError::Commit)?;
    let ns: Vec<String> = if args.update_ns.is_empty() {
        s.apex_ns.iter().map(|n| n.to_string()).collect()
    } else {
        args.update_ns.clone()
    };
    if ns.is_empty() {
        return Err(UpdateTimeError::NoNs.into());
    }
    let label = format!("tldns-probe-{}", tldns_base::time::unix_now());
    let name = zone
        .prepend(label.as_bytes())
        .map_err(|e| UpdateTimeError::Name(label.clone(), e))?;
    committer
        .add_domain(&name, &ns)
        .map_err(UpdateTimeError::Commit)?;
    let t0 = Instant::now();
    let added = wait(
        s,
        &format!("add {name}"),
        &referral(&name),
        None,
        t0,
        args.poll,
        max,
    );
    // Remove it whatever happened: the probe leaves the SRS as it found it.
    committer
        .remove_domain(&name)
        .map_err(UpdateTimeError::Commit)?;
    let t1 = Instant::now();
    let mut seen = added?;
    print(out, &seen)?;
    let gone = TestQuery {
        qname: name.clone(),
        qtype: rtype::A,
        expect: Expect::NameError,
    };
    seen = wait(
        s,
        &format!("remove {name}"),
        &gone,
        None,
        t1,
        args.poll,
        max,
    )?;
    print(out, &seen)
}

fn referral(n: &Name) -> TestQuery {
    TestQuery {
        qname: n.clone(),
        qtype: rtype::A,
        expect: Expect::Referral(n.clone()),
    }
}
