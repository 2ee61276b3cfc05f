//! The pipeline, end to end: SRS snapshot → policy → zone → DNSSEC →
//! verify → publish, and the life of a version from the SRS to the store.
//!
//! Owns the order of the steps and the rule that a version which fails any
//! step is never published: the caller keeps serving the previous one. A
//! version is made by one of two strategies of the one builder,
//! [`Pipeline`]: [`full`] (everything from one snapshot) or
//! [`incremental`] (the published version edited by what the SRS journal
//! says changed); [`Pipeline::next`] tries the one asked for and falls
//! back to a full build. It owns the zone's durable [`state`] (the last
//! published serial, RFC 1982, and journal position, written before a
//! version goes out and read on start, so a restart never goes backwards),
//! and [`daemon`], the loop that decides when to build and publishes into
//! the [`crate::store`]. It does not know SQL, DNS wire format or crypto;
//! those live in the modules it calls.
//!
//! ```text
//!   daemon ── Strategy ──► full ────────┐
//!     │                   incremental ──┴─► Built ── publish ──► state file, then store
//!     └── commands (Reload, Shutdown), SRS wake-ups (LISTEN, polling, timer)
//! ```

pub mod daemon;
pub mod durable;
mod fault;
pub mod full;
pub mod incremental;
pub mod refresh;
pub mod state;

use crate::config::Config;
use crate::dnssec::keys::SigningKey;
use crate::dnssec::parent::{read_ds_file, signing_ksks};
use crate::index::{Index, Options};
use crate::policy::{Lists, PolicyError, Report};
use crate::rr::Ds;
use crate::srs::{Srs, SrsError};
use crate::store::{Current, Served};
use crate::verify::VerifyOptions;
use crate::zone::SignedZone;
use durable::{Durable, DurableError, Restored};
use state::{StateError, StateFile, ZoneState};
use std::sync::Arc;
use std::time::Duration;
use tldns_base::time::unix_now;
use tldns_zone::diff::Diff;

/// Why a version was not built or not published.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The SRS could not be read (snapshot or journal position).
    #[error("reading the SRS: {0}")]
    Srs(#[from] SrsError),
    /// A policy list could not be read, or policy could not produce publishable
    /// content (`nic` unpublished, apex glue without its delegation).
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The zone's state file could not be read or written.
    #[error("zone state: {0}")]
    State(#[from] StateError),
    /// The signing keys could not be loaded.
    #[error("keys: {0}")]
    Keys(#[from] crate::dnssec::keys::KeyError),
    /// Signing is on and the keys directory holds no key of the zone.
    /// tldns makes keys only when told to (`tldns keys generate`): keys
    /// made on their own for a zone a parent already vouches for would
    /// break its chain of trust (.fj 2022, .ru 2024).
    #[error(
        "keys: {dir} holds no key of {zone}; make the first ones with `tldns keys generate`, or restore the zone's keys (new keys would match no DS at the parent)"
    )]
    NoKeys {
        /// The keys directory.
        dir: std::path::PathBuf,
        /// The zone.
        zone: crate::name::Name,
    },
    /// The parent's DS RRset (`parent-ds-file`) could not be read.
    #[error("{0}")]
    Parent(#[from] crate::dnssec::parent::ParentError),
    /// The signer refused the zone or its keys.
    #[error("signing: {0}")]
    Sign(#[from] crate::dnssec::signer::SignError),
    /// The independent verifier refused the version; the previous one stays.
    #[error("verification refused the new version: {0}")]
    Verify(#[from] crate::verify::VerifyError),
    /// The independent check of a refreshed version refused it.
    #[error("verification refused the refreshed version: {0}")]
    Refresh(#[from] crate::verify::ChangedError),
    /// The blocking task that signed or verified panicked or was cancelled.
    #[error("signing task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A built (and, when configured, signed and verified) version.
#[derive(Debug)]
pub struct Built {
    /// Shared with the published [`Served`] version: never copied.
    pub zone: Arc<SignedZone>,
    /// The rows policy refused, with their rules.
    pub report: Report,
    /// Journal sequence number the version includes.
    pub journal_seq: i64,
    /// How long its steps took.
    pub timings: Timings,
    /// Set when [`incremental`] made the version from the previous one;
    /// `report` then covers only the rows it re-read.
    pub incremental: Option<incremental::Applied>,
}

/// How long each step took.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Reading the SRS: the whole snapshot, or the rows a batch affects.
    pub snapshot: Duration,
    /// Policy on the rows read.
    pub policy: Duration,
    /// Signing, fault injection included (next to nothing when signing is off).
    pub sign: Duration,
    /// The verifier: the whole version, or the changed part.
    pub verify: Duration,
    /// From the start of the read to the end of verification.
    pub total: Duration,
}

/// How the next version is to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// From a full snapshot, fully verified ([`full`]).
    Full,
    /// By editing the published version ([`incremental`]); a full build
    /// when that is not possible.
    Incremental,
}

/// Builds versions of one zone from one SRS.
pub struct Pipeline {
    /// The zone's configuration, as loaded when the pipeline was made.
    pub config: Config,
    /// The SRS the versions are read from.
    pub srs: Srs,
    lists: Lists,
    /// Where the published serial and journal position are kept.
    state: StateFile,
    /// What the state file said when the pipeline was made.
    stored: Option<ZoneState>,
    /// The published versions on disk: snapshot and journal.
    durable: Durable,
    last_serial: Option<u32>,
    last_delegations: Option<usize>,
    last_journal_seq: Option<i64>,
    keys: Vec<SigningKey>,
    /// What the DNSKEY RRset of each version must be signed by a key of
    /// ([`crate::dnssec::parent`]); `None`: not checked.
    trust_anchors: Option<Vec<Ds>>,
    /// Whether the anchors are the parent's (configured), not the last
    /// published version's keys.
    anchors_from_parent: bool,
    /// Fixed "now" for tests (signature times, serials); `None`: the clock.
    clock: Option<u64>,
    /// The first expiration among the published version's signatures
    /// (RFC 1982 order): all of them after a full build, the SOA's and the
    /// earlier value after an incremental one.
    earliest_expiration: Option<u32>,
    /// What [`incremental`] keeps between incremental versions.
    incremental: incremental::State,
    /// When the parent servers were last asked about a KSK roll's DS.
    parent_checked_at: Option<u64>,
}

impl Pipeline {
    /// A pipeline for `config`: its lists and keys loaded, and the zone
    /// state of the last published version read from the state directory.
    /// Keys that cannot be loaded (none, unreadable) are an error.
    pub async fn new(config: Config, srs: Srs) -> Result<Pipeline, BuildError> {
        Pipeline::make(config, srs, false).await
    }

    /// [`Pipeline::new`] for a server that is starting: when the zone has
    /// been published before, keys that cannot be loaded are not an error
    /// here, so the stored version can still be served
    /// ([`Pipeline::restore`]); every build then fails with why (the
    /// previous version keeps serving, as after any failed build) until
    /// the keys are put back and the server reloaded.
    pub async fn starting(config: Config, srs: Srs) -> Result<Pipeline, BuildError> {
        Pipeline::make(config, srs, true).await
    }

    async fn make(config: Config, srs: Srs, starting: bool) -> Result<Pipeline, BuildError> {
        let lists = Lists::load(&config)?;
        let state = StateFile::new(&config.resolve(&config.zone.state_dir), &config.origin);
        let stored = state.load()?;
        let dnssec = &config.zone.dnssec;
        let keys = match (dnssec.enabled, load_keys(&config)) {
            (false, _) => Vec::new(),
            (true, Ok(k)) => k,
            (true, Err(e)) if starting && stored.is_some() => {
                tracing::error!(error = %e, "no usable keys: the stored version is served, and no new version is signed until the keys are back (then reload)");
                Vec::new()
            }
            (true, Err(e)) => return Err(e),
        };
        let parent = match (&dnssec.parent_ds_file, dnssec.enabled) {
            (Some(f), true) => Some(read_ds_file(&config.resolve(f), &config.origin)?),
            _ => None,
        };
        let anchors_from_parent = parent.is_some();
        let trust_anchors = parent.or_else(|| {
            stored
                .as_ref()
                .map(|s| s.ksk_ds.clone())
                .filter(|ds| dnssec.enabled && !ds.is_empty())
        });
        let durable = Durable::new(
            &config.resolve(&config.zone.state_dir),
            &config.origin,
            config.zone.transfer.ixfr_history,
        );
        Ok(Pipeline {
            config,
            srs,
            lists,
            state,
            durable,
            stored: stored.clone(),
            last_serial: stored.as_ref().map(|s| s.serial),
            last_delegations: None,
            last_journal_seq: stored.as_ref().and_then(|s| s.journal_seq),
            keys,
            trust_anchors,
            anchors_from_parent,
            clock: None,
            earliest_expiration: None,
            incremental: Default::default(),
            parent_checked_at: None,
        })
    }

    /// Take over what the previous pipeline knew of the published version
    /// (after a configuration reload).
    pub fn inherit(&mut self, old: &Pipeline) {
        self.durable.inherit(&old.durable);
        self.last_delegations = old.last_delegations;
        self.earliest_expiration = old.earliest_expiration;
        if !self.anchors_from_parent && old.trust_anchors.is_some() {
            self.trust_anchors = old.trust_anchors.clone();
        }
        self.last_journal_seq = old.last_journal_seq;
        if let Some(s) = old.last_serial
            && self
                .last_serial
                .is_none_or(|mine| crate::serial::serial_gt(s, mine))
        {
            self.last_serial = Some(s);
        }
    }

    /// Ask the parent's servers (`[dnssec] parent-servers`) for the DS
    /// RRset they serve now and hold the next versions to it (with
    /// `parent-ds-file` as well, to the DS both name). A server that does
    /// not answer, or a parent that holds no DS, leaves the anchors in
    /// force, and says so. Gauge `tldns_parent_ds_observed`: the DS records
    /// all parent servers serve.
    pub(crate) async fn refresh_parent_anchors(&mut self) {
        let d = &self.config.zone.dnssec;
        if !d.enabled || d.parent_servers.is_empty() {
            return;
        }
        match crate::dnssec::parent::query_ds(&d.parent_servers, &self.config.origin).await {
            Ok(ds) if ds.is_empty() => {
                tracing::info!(
                    "the parent servers hold no DS for the zone; the anchors in force stay"
                );
            }
            Ok(mut ds) => {
                metrics::gauge!("tldns_parent_ds_observed").set(ds.len() as f64);
                if let Some(f) = &d.parent_ds_file {
                    match read_ds_file(&self.config.resolve(f), &self.config.origin) {
                        Ok(file) => ds.retain(|x| file.contains(x)),
                        Err(e) => {
                            tracing::warn!(error = %e, "parent DS file; the anchors in force stay");
                            return;
                        }
                    }
                }
                if self.trust_anchors.as_ref() != Some(&ds) {
                    tracing::info!(ds = ds.len(), tags = ?ds.iter().map(|d| d.key_tag).collect::<Vec<_>>(), "the parent's DS RRset, as its servers serve it, is the trust anchor");
                }
                self.trust_anchors = Some(ds);
                self.anchors_from_parent = true;
            }
            Err(e) => {
                metrics::counter!("tldns_parent_query_failures_total").increment(1);
                tracing::warn!(error = %e, "cannot ask the parent servers for the DS RRset; the anchors in force stay");
            }
        }
    }

    /// Signing is on and no key is loaded ([`Pipeline::starting`]): the
    /// error a build gives, [`BuildError::NoKeys`].
    pub(crate) fn require_keys(&self) -> Result<(), BuildError> {
        if self.config.zone.dnssec.enabled && self.keys.is_empty() {
            return Err(BuildError::NoKeys {
                dir: self.config.resolve(&self.config.zone.dnssec.keys_dir),
                zone: self.config.origin.clone(),
            });
        }
        Ok(())
    }

    /// The signing keys in use (empty when signing is off).
    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// Fix the time used for signatures and serials (tests: identical
    /// versions from identical input); `None` goes back to the clock.
    pub fn set_clock(&mut self, now: Option<u64>) {
        self.clock = now;
    }

    /// Unix time for the next version: the fixed clock or now.
    pub fn now(&self) -> u64 {
        self.clock.unwrap_or_else(unix_now)
    }

    /// The journal position of the last published version.
    pub fn last_journal_seq(&self) -> Option<i64> {
        self.last_journal_seq
    }

    /// What the verifier is told that the records do not say, for a
    /// version checked at `now`: one definition for both strategies.
    pub(crate) fn verify_options(&self, now: u64, require_signed: bool) -> VerifyOptions {
        let signed = self.config.zone.dnssec.enabled;
        VerifyOptions {
            trust_anchors: self.trust_anchors.clone().filter(|_| signed),
            unpublished_keys: if signed {
                crate::dnssec::signer::unpublished_signers(&self.keys, now)
            } else {
                Vec::new()
            },
            // A secondary that lost us serves each signature up to the SOA
            // expire after its last refresh.
            min_signature_life: if signed {
                self.config.zone.soa.expire
            } else {
                0
            },
            ..crate::zone::verify_options(
                &self.config.zone.policy,
                now as u32,
                self.last_delegations,
                require_signed,
            )
        }
    }

    /// The first expiration among the published version's signatures
    /// (unix seconds), once this pipeline has published a signed version.
    pub fn earliest_expiration(&self) -> Option<u32> {
        self.earliest_expiration
    }

    /// The trust anchors the next version is held to (see [`VerifyOptions::trust_anchors`]).
    pub fn trust_anchors(&self) -> Option<&[Ds]> {
        self.trust_anchors.as_deref()
    }

    /// The serial of the last published version (from the state file
    /// until this pipeline publishes one).
    pub fn last_serial(&self) -> Option<u32> {
        self.last_serial
    }

    /// The next version by `strategy`, on top of `current` (the published
    /// version, needed for [`Strategy::Incremental`]). `Ok(None)`: the
    /// journal holds nothing new. An incremental version that cannot be
    /// made is built in full instead, keeping the signatures of `current`
    /// that are still good ([`Pipeline::build_on`]); a version that fails
    /// any step is an error and is not published.
    pub async fn next(
        &mut self,
        strategy: Strategy,
        current: Option<&Arc<SignedZone>>,
    ) -> Result<Option<Built>, BuildError> {
        self.require_keys()?;
        if let (Strategy::Incremental, Some(cur)) = (strategy, current) {
            match incremental::apply_changes(self, cur).await {
                Ok(Some(b)) => return Ok(Some(b)),
                Ok(None) => return Ok(None),
                // A refusal by the verifier is a version that was wrong,
                // not an ordinary reason to build in full: say so louder.
                Err(e @ incremental::IncrementalError::Verify(_)) => {
                    metrics::counter!("tldns_incremental_refused_total").increment(1);
                    tracing::warn!(reason = %e, "incremental version refused; building in full");
                }
                Err(e) => tracing::info!(reason = %e, "no incremental update; building in full"),
            }
        }
        self.build_on(current.cloned()).await.map(Some)
    }

    /// Record `built` as the last published version without serving it
    /// (`tldns export`): [`Pipeline::commit_after`] with no version
    /// before it, so the stored chain of versions starts again at it.
    pub fn commit(&mut self, built: &Built) -> Result<(), BuildError> {
        self.commit_after(built, None).map(|_| ())
    }

    /// Record `built` as the last published version, the one after
    /// `previous` (the version it replaces, if at hand): its serial,
    /// journal position and KSK digests go to the state file first, so a
    /// crash after this never re-uses the serial; then the step from
    /// `previous` to it goes to the durable journal (and, after a full
    /// build, the version itself to the snapshot), so a restart can serve
    /// it as it is. Returns that step, for the IXFR history.
    ///
    /// A journal or snapshot that cannot be written does not stop the
    /// version (the SRS's changes go out): it is logged and counted, and a
    /// restart then builds in full, as without them.
    pub fn commit_after(
        &mut self,
        built: &Built,
        previous: Option<&Arc<SignedZone>>,
    ) -> Result<Option<Arc<Diff>>, BuildError> {
        let serial = built.zone.serial();
        let ksk_ds = signing_ksks(&built.zone);
        self.state.store(&ZoneState {
            serial,
            journal_seq: Some(built.journal_seq),
            ksk_ds: ksk_ds.clone(),
        })?;
        let step = self.store_version(built, previous);
        if !self.anchors_from_parent && !ksk_ds.is_empty() {
            self.trust_anchors = Some(ksk_ds);
        }
        if let Some(d) = &built.zone.dnssec {
            let now = self.now() as u32;
            // An incremental version made new signatures only, none earlier
            // than the refresh window; the SOA's is made in every version.
            let e = match (&built.incremental, self.earliest_expiration) {
                (Some(_), Some(prev)) => {
                    let soa = d.apex_sigs.values().flatten().map(Vec::as_slice);
                    crate::zone::Dnssec::earliest(soa, now)
                        .into_iter()
                        .chain([prev])
                        .min_by_key(|e| e.wrapping_sub(now) as i32)
                }
                _ => d.earliest_expiration(now),
            };
            self.earliest_expiration = e;
            if let Some(e) = e {
                metrics::gauge!("tldns_signature_expiration_earliest_seconds").set(e as f64);
            }
        }
        self.last_serial = Some(serial);
        self.last_delegations = Some(built.zone.zone.content.delegations.len());
        self.last_journal_seq = Some(built.journal_seq);
        Ok(step)
    }

    /// The durable half of [`Pipeline::commit_after`]: the step to the
    /// journal, the version to the snapshot when one is due.
    fn store_version(
        &mut self,
        built: &Built,
        previous: Option<&Arc<SignedZone>>,
    ) -> Option<Arc<Diff>> {
        let started = std::time::Instant::now();
        let step = previous
            .filter(|p| p.serial() != built.zone.serial())
            .map(|p| Arc::new(crate::xfr::diff::diff(p, &built.zone)));
        let mut result: Result<(), DurableError> = Ok(());
        match &step {
            Some(d) => result = self.durable.append(built.journal_seq, d.clone()),
            None => self.durable.reset_chain(),
        }
        let snapshot = built.incremental.is_none() || self.durable.snapshot_due();
        if result.is_ok() && snapshot {
            result = self.durable.write_snapshot(&built.zone, built.journal_seq);
        }
        match result {
            Ok(()) => {
                tracing::debug!(
                    serial = built.zone.serial(),
                    snapshot,
                    ms = started.elapsed().as_millis() as u64,
                    "version stored"
                );
            }
            Err(e) => {
                metrics::counter!("tldns_state_write_failures_total").increment(1);
                tracing::error!(error = %e, "the published version is not stored: a restart will build in full");
            }
        }
        step
    }

    /// The last published version, read back from the snapshot and the
    /// journal ([`durable`]), if they hold it and it may still be served:
    /// every signature lives at least the SOA expire longer (as the
    /// verifier requires of a new version) and, with a parent DS
    /// configured, the DNSKEY RRset is one the parent vouches for. `None`
    /// (with a log line saying why) when the zone must be built in full.
    pub fn restore(&mut self) -> Option<Restored> {
        let started = std::time::Instant::now();
        let state = self.stored.clone()?;
        let r = match self.durable.restore(&state) {
            Ok(Some(r)) => r,
            Ok(None) => {
                tracing::info!(
                    path = %self.durable.snapshot_path().display(),
                    "no stored version; building in full"
                );
                return None;
            }
            Err(e) => {
                metrics::counter!("tldns_state_restore_failures_total").increment(1);
                tracing::warn!(error = %e, "the stored version cannot be served; building in full");
                return None;
            }
        };
        let now = self.now() as u32;
        if let Some(sec) = &r.zone.dnssec {
            let min = self.config.zone.soa.expire;
            if let Some(e) = sec.earliest_expiration(now)
                && (e.wrapping_sub(now) as i32) < min as i32
            {
                tracing::warn!(
                    earliest_expiration = e,
                    "the stored version holds a signature that expires within the SOA expire; building in full"
                );
                return None;
            }
            if self.anchors_from_parent
                && let Some(anchors) = &self.trust_anchors
                && !signing_ksks(&r.zone).iter().any(|k| anchors.contains(k))
            {
                tracing::warn!(
                    "the stored version's DNSKEY RRset is signed by no key the parent's DS names; building in full"
                );
                return None;
            }
        } else if self.config.zone.dnssec.enabled {
            tracing::info!("the stored version is unsigned and signing is on; building in full");
            return None;
        }
        tracing::info!(
            serial = r.zone.serial(),
            replayed = r.replayed,
            history = r.history.len(),
            ms = started.elapsed().as_millis() as u64,
            "stored version read back"
        );
        Some(r)
    }

    /// Serve `r` (from [`Pipeline::restore`]) as the published version:
    /// nothing is written (it is the state file's), its served form is made.
    pub fn adopt(&mut self, r: &Restored) -> Arc<Served> {
        let z = &r.zone;
        self.last_serial = Some(z.serial());
        self.last_journal_seq = Some(r.journal_seq);
        self.last_delegations = Some(z.zone.content.delegations.len());
        if let Some(d) = &z.dnssec {
            self.earliest_expiration = d.earliest_expiration(self.now() as u32);
        }
        if let Some(e) = self.earliest_expiration {
            metrics::gauge!("tldns_signature_expiration_earliest_seconds").set(e as f64);
        }
        metrics::gauge!("tldns_zone_serial").set(z.serial() as f64);
        metrics::gauge!("tldns_zone_delegations").set(z.zone.content.delegations.len() as f64);
        Arc::new(Served {
            index: Index::build(z, Options::from_config(&self.config.zone.server)),
            zone: z.clone(),
        })
    }

    /// Record `built` as published ([`Pipeline::commit_after`]: the state
    /// file first, then the journal), then make its served form and swap
    /// it in. Returns it and the step to it from `current`.
    pub fn publish(
        &mut self,
        built: &Built,
        current: Option<&Current>,
    ) -> Result<(Arc<Served>, Option<Arc<Diff>>), BuildError> {
        let previous = current.map(|c| c.load_full());
        let step = self.commit_after(built, previous.as_ref().map(|p| &p.zone))?;
        let serial = built.zone.serial();
        // An incremental version's index is the previous one with what
        // changed made again; a full build's is made from scratch.
        let index = match (&built.incremental, &previous) {
            (Some(a), Some(p)) => p.index.update(&p.zone, &built.zone, &a.touched),
            _ => Index::build(&built.zone, Options::from_config(&self.config.zone.server)),
        };
        let served = Arc::new(Served {
            index,
            zone: built.zone.clone(),
        });
        if let Some(c) = current {
            c.store(served.clone());
        }
        metrics::gauge!("tldns_zone_serial").set(serial as f64);
        metrics::gauge!("tldns_zone_delegations")
            .set(built.zone.zone.content.delegations.len() as f64);
        metrics::gauge!("tldns_build_seconds").set(built.timings.total.as_secs_f64());
        // An incremental version's report covers only the rows it re-read.
        if built.incremental.is_none() {
            metrics::gauge!("tldns_refused_rows").set(built.report.refused.len() as f64);
            for (rule, n) in built.report.counts.by_rule.iter() {
                metrics::gauge!("tldns_refused_rows_by_rule", "rule" => rule.to_string())
                    .set(*n as f64);
            }
        }
        Ok((served, step))
    }

    /// Carry out what the key policy asks for now ([`crate::dnssec::roll`]):
    /// a ZSK's successor published and the old key scheduled to retire; a
    /// KSK roll started (`ksk-lifetime`), the parent servers asked whether
    /// they serve the new DS (every `parent-check-interval`) and, once
    /// they do, the old KSK scheduled to go; the DS RRset the parent should
    /// hold written to `<state-dir>/<zone>.ds` (and given to the
    /// `ds-hook`) whenever it changes. Loads the keys again when they
    /// changed. `Ok(true)`: they did. Sets `tldns_key_next_event_seconds`.
    pub async fn roll_keys(&mut self) -> Result<bool, BuildError> {
        use crate::dnssec::roll::{self, KskPhase, RollPolicy};
        if !self.config.zone.dnssec.enabled || self.keys.is_empty() {
            return Ok(false);
        }
        let now = self.now();
        let store = crate::dnssec::keys::keystore(&self.config);
        let store = &*store;
        let mut changed = false;
        if roll::roll_zsk(store, &self.config, &self.keys, now)?.is_some() {
            metrics::counter!("tldns_key_rolls_started_total", "role" => "zsk").increment(1);
            changed = true;
        }
        if roll::start_ksk_roll(store, &self.config, &self.keys, now, false)?.is_some() {
            metrics::counter!("tldns_key_rolls_started_total", "role" => "ksk").increment(1);
            changed = true;
        }
        if changed {
            self.keys = load_keys(&self.config)?;
        }
        let p = RollPolicy::from_config(&self.config);
        let d = &self.config.zone.dnssec;
        let check_due = self
            .parent_checked_at
            .is_none_or(|t| now >= t + u64::from(d.parent_check_secs()));
        // A KSK (or CSK) roll's new DS, or an algorithm roll's.
        let awaited = match roll::ksk_phase(&self.keys, &p, now) {
            Some(KskPhase::AwaitingDs { new, .. }) => Some(new),
            _ => roll::alg_phase(&self.keys, &p, now).and_then(|a| a.awaiting_ds()),
        };
        if let Some(new) = awaited
            && !d.parent_servers.is_empty()
            && check_due
        {
            self.parent_checked_at = Some(now);
            let key = self.keys.iter().find(|k| k.key_tag == new).cloned();
            match crate::dnssec::parent::query_ds(&d.parent_servers, &self.config.origin).await {
                Ok(ds) => {
                    let seen = key.is_some_and(|k| {
                        ds.iter()
                            .any(|x| k.ds(x.digest_type).is_ok_and(|mine| &mine == x))
                    });
                    metrics::gauge!("tldns_parent_ds_observed").set(ds.len() as f64);
                    metrics::gauge!("tldns_ksk_roll_new_ds_seen").set(f64::from(u8::from(seen)));
                    if seen
                        && roll::confirm_ds(store, &self.config, &self.keys, new, now)?.is_some()
                    {
                        self.keys = load_keys(&self.config)?;
                        changed = true;
                    } else if !seen {
                        tracing::info!(new, "key roll: the parent does not serve the new DS yet");
                    }
                }
                Err(e) => {
                    metrics::counter!("tldns_parent_query_failures_total").increment(1);
                    tracing::warn!(error = %e, "key roll: cannot ask the parent servers; asking again later");
                }
            }
        }
        self.write_ds_file(now).await;
        let phases = roll::status(&self.config, &self.keys, now).phases;
        for (r, v) in [
            ("zsk", phases.zsk),
            ("ksk", phases.ksk),
            ("algorithm", phases.algorithm),
        ] {
            metrics::gauge!("tldns_key_roll_phase", "roll" => r).set(f64::from(v));
        }
        if let Some(t) = roll::next_event(&self.keys, &p, now) {
            metrics::gauge!("tldns_key_next_event_seconds").set((t - now) as f64);
        }
        Ok(changed)
    }

    /// `<state-dir>/<zone>.ds`: the DS records (SHA-256) of the KSKs the
    /// parent should hold now ([`crate::dnssec::roll::parent_should_hold`]),
    /// written when they change, then the `ds-hook` run with them. A
    /// failure is logged; the roll waits for the parent either way.
    async fn write_ds_file(&mut self, now: u64) {
        let d = &self.config.zone.dnssec;
        let p = crate::dnssec::roll::RollPolicy::from_config(&self.config);
        let text: String = crate::dnssec::roll::parent_should_hold(&self.keys, &p, now)
            .iter()
            .filter_map(|k| k.ds_text(2, self.config.zone.ttl.ds).ok())
            .map(|l| l + "\n")
            .collect();
        let path = self
            .config
            .resolve(&self.config.zone.state_dir)
            .join(format!("{}.ds", self.config.origin.file_stem()));
        if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
            return;
        }
        if let Err(e) = tldns_base::fs::write_atomic(&path, text.as_bytes()) {
            tracing::error!(error = %e, "the DS records for the parent could not be written");
            return;
        }
        tracing::info!(path = %path.display(), ds = text.lines().count(), "DS records for the parent written");
        let Some(hook) = d.ds_hook.clone() else {
            return;
        };
        let run = async {
            use tokio::io::AsyncWriteExt;
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&hook)
                .env("TLDNS_DS_FILE", &path)
                .env("TLDNS_ZONE", self.config.origin.to_string())
                .stdin(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(text.as_bytes()).await?;
            }
            child.wait().await
        };
        match tokio::time::timeout(std::time::Duration::from_secs(60), run).await {
            Ok(Ok(st)) if st.success() => tracing::info!(hook, "ds-hook ran"),
            Ok(Ok(st)) => tracing::error!(hook, status = %st, "ds-hook failed"),
            Ok(Err(e)) => tracing::error!(hook, error = %e, "ds-hook could not run"),
            Err(_) => tracing::error!(hook, "ds-hook did not finish within 60 s; killed"),
        }
    }

    /// Load the keys again from the keys directory (after `tldns keys`
    /// changed their timing); the same errors as [`Pipeline::new`].
    pub fn reload_keys(&mut self) -> Result<(), BuildError> {
        if self.config.zone.dnssec.enabled {
            self.keys = load_keys(&self.config)?;
        }
        Ok(())
    }

    /// Whether `zone` is signed as the keys say it should be now
    /// ([`crate::dnssec::keys_current`]) and publishes the CDS and CDNSKEY
    /// RRsets it should ([`Pipeline::cds`]); always true when signing is off.
    pub fn keys_match(&self, zone: &SignedZone) -> bool {
        let now = self.now();
        if !self.config.zone.dnssec.enabled {
            return true;
        }
        let (cds, cdnskey) = self.cds(now);
        crate::dnssec::keys_current(zone, &self.keys, now as u32)
            && zone
                .dnssec
                .as_ref()
                .is_none_or(|d| d.cds == cds && d.cdnskey == cdnskey)
    }

    /// The signing parameters of a version made at `now`: the
    /// configuration's, with the CDS and CDNSKEY RRsets to publish.
    pub(crate) fn sign_params(&self, now: u64) -> crate::dnssec::SignParams {
        let mut p = crate::dnssec::SignParams::from_config(
            &self.config.zone.dnssec,
            &self.config.nsec3_salt,
        );
        (p.cds, p.cdnskey) = self.cds(now);
        p
    }

    /// The CDS (SHA-256) and CDNSKEY RDATA the zone publishes at `now`
    /// (RFC 7344, `cds-cdnskey`): the DS RRset the parent should hold
    /// ([`crate::dnssec::roll::parent_should_hold`], what
    /// `<state-dir>/<zone>.ds` says), always, or while a KSK, CSK or
    /// algorithm roll waits for the parent's new DS; none otherwise. Sorted.
    pub fn cds(&self, now: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        use crate::config::CdsPublish;
        use crate::dnssec::roll;
        let d = &self.config.zone.dnssec;
        let p = roll::RollPolicy::from_config(&self.config);
        let on = d.enabled
            && match d.cds_cdnskey {
                CdsPublish::None => false,
                CdsPublish::Always => true,
                CdsPublish::Rollover => {
                    matches!(
                        roll::ksk_phase(&self.keys, &p, now),
                        Some(roll::KskPhase::AwaitingDs { .. })
                    ) || roll::alg_phase(&self.keys, &p, now)
                        .is_some_and(|a| a.awaiting_ds().is_some())
                }
            };
        if !on {
            return (Vec::new(), Vec::new());
        }
        let keys = roll::parent_should_hold(&self.keys, &p, now);
        let mut cds: Vec<Vec<u8>> = keys
            .iter()
            .filter_map(|k| k.ds(2).ok())
            .map(|ds| ds.to_rdata())
            .collect();
        let mut cdnskey: Vec<Vec<u8>> = keys.iter().map(|k| k.dnskey_rdata()).collect();
        cds.sort();
        cds.dedup();
        cdnskey.sort();
        cdnskey.dedup();
        (cds, cdnskey)
    }

    /// Whether the SRS moved since the last published version.
    pub async fn srs_changed(&self) -> Result<bool, BuildError> {
        let seq = self.srs.journal_seq().await?;
        Ok(self.last_journal_seq != Some(seq))
    }
}

/// The zone's keys from its keys directory. None there is an error
/// ([`BuildError::NoKeys`]): keys are made only by `tldns keys generate`.
pub fn load_keys(config: &Config) -> Result<Vec<SigningKey>, BuildError> {
    let dir = config.resolve(&config.zone.dnssec.keys_dir);
    let keys = if dir.exists() {
        crate::dnssec::keys::keystore(config).keys()?
    } else {
        Vec::new()
    };
    if keys.is_empty() {
        return Err(BuildError::NoKeys {
            dir,
            zone: config.origin.clone(),
        });
    }
    Ok(keys)
}
