//! The incremental strategy: the SRS journal since the published version
//! in, the next version out, made by editing the published one instead of
//! rebuilding it (the full strategy is [`super::full`]).
//!
//! One batch (every journal entry after the published version's position):
//! 1. the affected names: changed domains; changed hosts; for a changed
//!    domain the hosts it named, the glue below it and the in-zone hosts
//!    below it that some delegation names but that are not glue (its
//!    publication decides theirs); the partial read then adds every domain
//!    that names an affected host and every domain above one (module docs
//!    of [`crate::srs::partial`]), plus `nic` and the parents of the apex
//!    name servers, which policy requires;
//! 2. [`policy::apply`] on those rows alone, which decides for them what a
//!    full run decides: a delegation depends on its own rows, glue on its
//!    host row, its parent and its users, and all of those were read;
//! 3. exactly the affected delegations and glue entries of the published
//!    content are replaced; the SOA serial goes up (RFC 1982);
//! 4. [`update_delegations`] edits the NSEC3 chain and re-signs the touched
//!    NSEC3 RRs, the changed DS RRsets and the SOA;
//! 5. [`verify_changed`] checks the changed part independently of the
//!    signer; the full verifier runs on every full build, which the daemon
//!    ([`super::daemon`]) makes on a schedule, at start and on reload.
//!
//! The result is identical to a full build from the same SRS state at the
//! same time (tests/update.rs checks it over a thousand random batches).
//! Anything out of the ordinary (no published position, a burst larger
//! than [`MAX_CHANGES`], changed keys or NSEC3 parameters, signatures due
//! for refresh) is an [`IncrementalError`], and the caller builds in full.
//!
//! Restart safety: the published serial and journal position are written
//! together ([`super::state`]: temp file, fsync, rename) before a version
//! is swapped in. A restarted server builds in full from the SRS, which
//! holds every committed change (nothing lost) as state, not as deltas to
//! replay (nothing applied twice), with a serial above the stored one.

use super::{Built, Pipeline, Timings, fault};
use crate::dnssec::signer::{SignError, UpdateStats, update_delegations};
use crate::name::Name;
use crate::policy::{self, PolicyError};
use crate::serial::next_serial;
use crate::srs::{ChangeObject, SrsError, name_to_stored};
use crate::verify::{ChangedError, verify_changed};
use crate::zone::SignedZone;
use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

/// Journal entries one batch takes; a larger backlog is built in full.
pub const MAX_CHANGES: usize = 20_000;

/// Why no incremental version was made. The caller builds in full.
#[derive(Debug, thiserror::Error)]
pub enum IncrementalError {
    /// The pipeline knows no journal position of a published version.
    #[error("no published version with a known journal position")]
    NoBase,
    /// The version given to edit is not the one the pipeline last published.
    #[error("serial {current} is not the last published version ({published:?})")]
    NotLatest {
        /// The serial of the version given.
        current: u32,
        /// The serial the pipeline last published, if any.
        published: Option<u32>,
    },
    /// More than [`MAX_CHANGES`] journal entries wait.
    #[error("more than {MAX_CHANGES} journal entries pending")]
    TooManyChanges,
    /// Signing was turned on or off since the published version.
    #[error("signing is {configured} in the configuration, the published version is {published}")]
    SigningChanged {
        /// `"on"` or `"off"`, as configured now.
        configured: &'static str,
        /// `"on"` or `"off"`, as the published version was made.
        published: &'static str,
    },
    /// A signature of the published version has less life left than the
    /// SOA expire: an incremental version keeps it, and the verifier would
    /// refuse it; a full build renews it (RFC 6781 §4.4.2).
    #[error(
        "a kept signature expires at {earliest_expiration}, within the SOA expire: due for refresh (RFC 6781 §4.4.2)"
    )]
    RefreshDue {
        /// Unix time of the first expiration in the published version.
        earliest_expiration: u32,
    },
    /// The journal or the affected rows could not be read.
    #[error("reading the SRS: {0}")]
    Srs(#[from] SrsError),
    /// Policy could not produce publishable content from the affected rows.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The signer could not update the NSEC3 chain or the signatures.
    #[error("signing: {0}")]
    Sign(#[from] SignError),
    /// The changed-part verifier refused the version.
    #[error("verification refused the changed part: {0}")]
    Verify(#[from] ChangedError),
}

/// What one incremental version changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Journal entries applied.
    pub changes: usize,
    /// Delegations re-read (changed or depending on a changed host).
    pub delegations: usize,
    /// Glue hosts whose published addresses changed (added, removed or
    /// different).
    pub hosts: usize,
    /// What the signer added, removed and re-signed.
    pub dnssec: UpdateStats,
    /// The delegations re-read: whatever else changed, their referrals
    /// are made again (a glue host they name may have changed).
    pub touched: Vec<Name>,
}

/// Get ready for incremental updates on top of `current`, a version just
/// published from a full build: the one pass over its delegations that
/// the first update would otherwise make while a change waits.
pub fn prepare(pipeline: &mut Pipeline, current: &SignedZone) {
    let Some(seq) = pipeline.last_journal_seq else {
        return;
    };
    if pipeline.last_serial != Some(current.serial()) {
        return;
    }
    pipeline.incremental.base = Some(Tracked::scan(current, seq));
}

/// What incremental updates keep between versions: the in-zone hosts that
/// a published delegation names but that are not glue (no addresses, or
/// the domain above them is not published). When that domain becomes
/// published their glue may appear; nothing else in the zone says so.
#[derive(Debug, Clone, Default)]
pub struct State {
    base: Option<Tracked>,
    /// Made by the last [`apply_changes`], adopted once it is published.
    pending: Option<Tracked>,
}

/// A refresh made version `to` from `from` with the same content: what
/// is tracked of `from` describes `to` (no new scan of the delegations).
pub(super) fn carry(state: &mut State, from: u32, to: u32) {
    for t in [&mut state.base, &mut state.pending].into_iter().flatten() {
        if t.serial == from {
            t.serial = to;
        }
    }
}

#[derive(Debug, Clone)]
struct Tracked {
    /// The version this describes: serial and journal position.
    serial: u32,
    journal_seq: i64,
    unglued: BTreeSet<Name>,
}

impl Tracked {
    /// From a version built in full: one pass over its delegations.
    fn scan(z: &SignedZone, journal_seq: i64) -> Tracked {
        let c = &z.zone.content;
        let origin = &z.zone.origin;
        let mut seen: HashSet<*const [Name]> = HashSet::new();
        let mut unglued = BTreeSet::new();
        for d in c.delegations.values() {
            // NS sets are shared: look at each once.
            if !seen.insert(std::sync::Arc::as_ptr(&d.ns)) {
                continue;
            }
            for h in d.ns.iter() {
                if h.is_subdomain_of(origin) && !c.glue.contains_key(h) {
                    unglued.insert(h.clone());
                }
            }
        }
        Tracked {
            serial: z.serial(),
            journal_seq,
            unglued,
        }
    }
}

/// Names strictly below `name` in a map in canonical order: they follow it
/// directly (RFC 4034 §6.1).
fn below<'a, V: Clone>(
    map: &'a crate::zone::Map<Name, V>,
    name: &'a Name,
) -> impl Iterator<Item = &'a Name> {
    map.range::<_, Name>((Bound::Excluded(name), Bound::Unbounded))
        .map(|(k, _)| k)
        .take_while(move |k| k.is_subdomain_of(name))
}

fn below_set<'a>(set: &'a BTreeSet<Name>, name: &'a Name) -> impl Iterator<Item = &'a Name> {
    set.range::<Name, _>((Bound::Excluded(name), Bound::Unbounded))
        .take_while(move |k| k.is_subdomain_of(name))
}

/// Make the next version from `current` (the last published one) and the
/// journal since it. `Ok(None)`: nothing changed.
pub async fn apply_changes(
    pipeline: &mut Pipeline,
    current: &SignedZone,
) -> Result<Option<Built>, IncrementalError> {
    let t0 = Instant::now();
    let since = pipeline.last_journal_seq.ok_or(IncrementalError::NoBase)?;
    if pipeline.last_serial != Some(current.serial()) {
        return Err(IncrementalError::NotLatest {
            current: current.serial(),
            published: pipeline.last_serial,
        });
    }
    let signing = pipeline.config.zone.dnssec.enabled;
    let onoff = |b: bool| if b { "on" } else { "off" };
    if signing != current.dnssec.is_some() {
        return Err(IncrementalError::SigningChanged {
            configured: onoff(signing),
            published: onoff(current.dnssec.is_some()),
        });
    }
    let changes = pipeline.srs.changes_since(since, MAX_CHANGES + 1).await?;
    let Some(last) = changes.last() else {
        return Ok(None);
    };
    if changes.len() > MAX_CHANGES {
        return Err(IncrementalError::TooManyChanges);
    }
    // Rows read below may already show later commits; those are read again
    // with the next batch (state, not deltas), so only this far is claimed.
    let journal_seq = last.seq;
    let now = pipeline.now();
    let params = pipeline.sign_params(now);

    // The tracked hosts are a function of the content, so the same serial
    // at the same journal position is the same version.
    let state = &mut pipeline.incremental;
    let this = |t: &Tracked| t.serial == current.serial() && t.journal_seq == since;
    let base = match (state.pending.take(), state.base.take()) {
        (Some(p), _) if this(&p) => p,
        (_, Some(b)) if this(&b) => b,
        _ => Tracked::scan(current, since),
    };
    // The full builds renew what is due (every few hours); an incremental
    // version keeps every signature it does not touch, so one that has
    // come within the SOA expire (builds failing for long) needs a full one.
    if signing
        && let Some(e) = pipeline.earliest_expiration
        && (e.wrapping_sub(now as u32) as i32) < pipeline.config.zone.soa.expire as i32
    {
        return Err(IncrementalError::RefreshDue {
            earliest_expiration: e,
        });
    }
    pipeline.incremental.base = Some(base.clone());

    // 1. The affected names.
    let origin = pipeline.config.origin.clone();
    let content = &current.zone.content;
    let mut domains: BTreeSet<String> = BTreeSet::new();
    let mut hosts: BTreeSet<String> = BTreeSet::new();
    for c in &changes {
        match c.object {
            ChangeObject::Domain => {
                domains.insert(c.name.clone());
                let Ok(n) = Name::parse(&c.name) else {
                    continue;
                };
                if let Some(d) = content.delegations.get(&n) {
                    hosts.extend(d.ns.iter().map(name_to_stored));
                }
                hosts.extend(below(&content.glue, &n).map(name_to_stored));
                hosts.extend(below_set(&base.unglued, &n).map(name_to_stored));
            }
            ChangeObject::Host => {
                hosts.insert(c.name.clone());
            }
        }
    }
    if let Ok(nic) = origin.prepend(b"nic") {
        domains.insert(name_to_stored(&nic));
    }
    for (ns, _) in &pipeline.config.apex_ns {
        if let Some(p) = ns.second_level(&origin) {
            domains.insert(name_to_stored(&p));
        }
    }
    let domains: Vec<String> = domains.into_iter().collect();
    let hosts: Vec<String> = hosts.into_iter().collect();
    let partial = pipeline.srs.snapshot_of(&domains, &hosts).await?;
    let t_snap = t0.elapsed();

    // 2. Policy on those rows.
    let (part, report) = policy::apply(&partial.snapshot, &pipeline.config, &pipeline.lists)?;
    let t_policy = t0.elapsed() - t_snap;

    // 3. Replace exactly the affected entries.
    let d_names: BTreeSet<Name> = partial
        .domains
        .iter()
        .filter_map(|d| Name::parse(d).ok())
        .chain(part.delegations.keys().cloned())
        .collect();
    let h_names: BTreeSet<Name> = partial
        .hosts
        .iter()
        .filter_map(|h| Name::parse(h).ok())
        .chain(part.glue.keys().cloned())
        .collect();
    let mut zone = current.zone.clone();
    let c = &mut zone.content;
    for n in &d_names {
        c.delegations.remove(n);
    }
    for n in &h_names {
        c.glue.remove(n);
    }
    c.delegations
        .extend(part.delegations.iter().map(|(k, v)| (k.clone(), v.clone())));
    c.glue
        .extend(part.glue.iter().map(|(k, v)| (k.clone(), v.clone())));
    zone.soa.serial = next_serial(
        pipeline.last_serial,
        pipeline.config.zone.serial.scheme,
        now,
    );
    // Every user of an affected host was read, so this is exact for them.
    let used: HashSet<&Name> = part
        .delegations
        .values()
        .flat_map(|d| d.ns.iter())
        .collect();
    let mut tracked = Tracked {
        serial: zone.soa.serial,
        journal_seq,
        ..base
    };
    for h in &h_names {
        if h.is_subdomain_of(&origin) && used.contains(h) && !zone.content.glue.contains_key(h) {
            tracked.unglued.insert(h.clone());
        } else {
            tracked.unglued.remove(h);
        }
    }
    // What really differs: only that is signed again and verified.
    let changed: Vec<Name> = d_names
        .iter()
        .filter(|n| content.delegations.get(*n) != zone.content.delegations.get(*n))
        .cloned()
        .collect();
    let hosts_changed: Vec<Name> = h_names
        .iter()
        .filter(|n| content.glue.get(*n) != zone.content.glue.get(*n))
        .cloned()
        .collect();

    // 4. DNSSEC: a few signatures, made on the caller's thread.
    let t1 = Instant::now();
    let mut new = SignedZone { zone, dnssec: None };
    let mut stats = UpdateStats::default();
    if let Some(sec) = &current.dnssec {
        let mut sec = sec.clone();
        stats = update_delegations(
            &mut sec,
            &new.zone,
            &changed,
            &pipeline.keys,
            &params,
            now as u32,
        )?;
        new.dnssec = Some(sec);
    }
    let new = fault::inject(new, &changed, &pipeline.keys, now as u32);
    let t_sign = t1.elapsed();

    // 5. Verify what changed.
    let t2 = Instant::now();
    let opts = pipeline.verify_options(now, signing);
    let readers: Vec<Name> = d_names.iter().cloned().collect();
    verify_changed(current, &new, &changed, &hosts_changed, &readers, &opts)?;

    let t_verify = t2.elapsed();
    pipeline.incremental.pending = Some(tracked);
    let applied = Applied {
        changes: changes.len(),
        delegations: d_names.len(),
        hosts: hosts_changed.len(),
        dnssec: stats,
        touched: readers,
    };
    Ok(Some(Built {
        zone: Arc::new(new),
        report,
        journal_seq,
        timings: Timings {
            snapshot: t_snap,
            policy: t_policy,
            sign: t_sign,
            verify: t_verify,
            total: t0.elapsed(),
        },
        incremental: Some(applied),
    }))
}
