//! The daemon: when to make the next version, and publishing it into the
//! [`crate::store`].
//!
//! Owns the serve loop's policy: a full build at start, on
//! [`Command::Reload`] and on a schedule ([`FULL_REBUILD_EVERY`]), which
//! renews the signatures that are due and keeps every other one of the
//! published version (so its IXFR is the SOA and what was due); in between, only what the SRS journal says
//! changed ([`Strategy::Incremental`]). It wakes when the SRS commits
//! (PostgreSQL LISTEN), on a journal poll (SQLite, which cannot notify) and
//! on the configured reload timer; a build that failed is not retried on
//! the same SRS state for [`RETRY_FAILED_AFTER`]. A version that fails any
//! step is never published: the previous one keeps serving.
//!
//! It takes commands from a channel, not signals, so tests drive it
//! without a process; main.rs maps SIGHUP and SIGTERM onto them. It does
//! not own sockets: the server and transfers read the store it publishes
//! into, and [`Daemon::on_published`] tells transfers out (NOTIFY, the
//! IXFR history) of each new version.

use super::{BuildError, Built, Pipeline, Strategy, incremental};
use crate::config::Config;
use crate::store::{Current, Served};
use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tldns_zone::diff::Diff;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

/// How often the daemon polls an SRS that cannot notify (SQLite).
pub const JOURNAL_POLL: Duration = Duration::from_millis(50);

/// How long a build that failed waits before the same SRS state is tried
/// again (a new commit retries at once).
pub const RETRY_FAILED_AFTER: Duration = Duration::from_secs(60);

/// How often the daemon builds and verifies in full although incremental
/// updates could go on, renewing what is due (a small fraction of the
/// signature refresh window, which is at least the SOA expire).
pub const FULL_REBUILD_EVERY: Duration = Duration::from_secs(6 * 3600);

/// What the daemon is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Read the configuration file again (a refused one keeps the old) and
    /// build in full.
    Reload,
    /// End the loop. A closed channel does the same.
    Shutdown,
}

/// What one wake-up ([`Daemon::step`]) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing new (or a failed state not yet due for another try).
    Unchanged,
    /// A new version is served.
    Published {
        /// The new version's SOA serial.
        serial: u32,
        /// Made by the incremental strategy rather than built in full.
        incremental: bool,
    },
    /// A version failed a step; the previous one keeps serving.
    Failed,
}

/// Why a reload was refused (the old configuration stays in effect).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The configuration file does not load.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// No pipeline can be made from it (lists, state file or keys).
    #[error("{0}")]
    Pipeline(#[from] BuildError),
}

/// Told of each published version: the one it replaced, the new one and
/// the step between them (`None` when the pipeline has none to give).
pub type OnPublished = Box<dyn Fn(&Served, &Served, Option<&Arc<Diff>>) + Send + Sync>;

/// The published version and the pipeline that makes the next ones.
pub struct Daemon {
    pipeline: Pipeline,
    current: Current,
    on_published: Option<OnPublished>,
    last_full: Instant,
    /// After a failed build: the journal position it was made from, and
    /// when. The same state is not tried again before the retry time.
    failed: Option<(i64, Instant)>,
    /// When the signature-expiry alarm was last logged (once an hour).
    alarmed: Option<Instant>,
    /// The stored steps that end at the version served at start, when it
    /// was read back rather than built (for the IXFR history).
    restored_history: Vec<Arc<Diff>>,
    /// When the signatures were last refreshed or the zone built in full
    /// (the pipeline's clock); `None`: not since start, so the first idle
    /// wake-up refreshes a version read back from the state directory.
    refreshed_at: Option<u64>,
}

impl Daemon {
    /// Serve the last published version, read back from the state
    /// directory ([`Pipeline::restore`]: same signatures, no build), or
    /// else build and publish the first version in full: nothing is served
    /// that was not shown to have passed every step. The first
    /// [`Daemon::step`] then catches up with the SRS journal.
    pub async fn start(mut pipeline: Pipeline) -> Result<Daemon, BuildError> {
        let (served, restored_history) = match pipeline.restore() {
            Some(r) => {
                let served = pipeline.adopt(&r);
                info!(
                    serial = r.zone.serial(),
                    delegations = r.zone.zone.content.delegations.len(),
                    "serving the stored version"
                );
                (served, r.history)
            }
            None => {
                let built = pipeline.build().await?;
                info!(
                    serial = built.zone.serial(),
                    delegations = built.zone.zone.content.delegations.len(),
                    refused = built.report.refused.len(),
                    seconds = built.timings.total.as_secs_f64(),
                    "built"
                );
                let (served, _) = pipeline.publish(&built, None)?;
                (served, Vec::new())
            }
        };
        let current: Current = Arc::new(ArcSwap::new(served));
        Ok(Daemon {
            pipeline,
            current,
            on_published: None,
            last_full: Instant::now(),
            failed: None,
            alarmed: None,
            restored_history,
            refreshed_at: None,
        })
    }

    /// The stored steps that end at the version served at start, oldest
    /// first: empty unless it was read back ([`Daemon::start`]).
    pub fn restored_history(&self) -> &[Arc<Diff>] {
        &self.restored_history
    }

    /// The store the daemon publishes into; readers share it.
    pub fn current(&self) -> Current {
        self.current.clone()
    }

    /// The pipeline (and through it the configuration in effect).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The pipeline, to change (tests: its clock).
    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }

    /// The signature-expiry alarm, checked at every wake-up: whether the
    /// first signature of the served zone to expire has less left than
    /// the refresh window less two full-build periods. The full builds
    /// renew what is due, so in a healthy daemon none ever gets there; it
    /// does when builds keep failing (the .zm 2015 incident: the zone went
    /// on being served until its signatures expired). Logged as an error
    /// once an hour while it lasts; gauges
    /// `tldns_signature_expiration_seconds_left` and
    /// `tldns_signature_refresh_overdue` (0 or 1).
    pub fn expiry_alarm(&mut self) -> bool {
        let Some(e) = self.pipeline.earliest_expiration() else {
            return false;
        };
        let now = self.pipeline.now() as u32;
        let left = i64::from(e.wrapping_sub(now) as i32);
        let refresh = i64::from(self.pipeline.config.zone.dnssec.refresh_secs());
        let alarm = left < refresh - 2 * FULL_REBUILD_EVERY.as_secs() as i64;
        metrics::gauge!("tldns_signature_expiration_seconds_left").set(left as f64);
        metrics::gauge!("tldns_signature_refresh_overdue").set(f64::from(u8::from(alarm)));
        if alarm
            && self
                .alarmed
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(3600))
        {
            error!(
                earliest_expiration = e,
                seconds_left = left,
                "a signature in the served zone should have been renewed and was not (are builds failing?): it expires in {left} s"
            );
            self.alarmed = Some(Instant::now());
        }
        alarm
    }

    /// Call `f` after each version is swapped in.
    pub fn on_published(&mut self, f: OnPublished) {
        self.on_published = Some(f);
    }

    /// Run until [`Command::Shutdown`] or until `commands` closes.
    pub async fn run(&mut self, mut commands: mpsc::Receiver<Command>) {
        let interval = self.pipeline.config.zone.server.reload_interval_secs;
        let mut timer = tokio::time::interval(Duration::from_secs(interval.max(1)));
        timer.tick().await;
        // PostgreSQL wakes us as soon as the SRS commits; the timer is the
        // fallback (and the only way for SQLite).
        let mut listener = match self.pipeline.srs.listen().await {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "no LISTEN wake-ups; polling the journal");
                None
            }
        };
        // SQLite has no wake-ups: poll the journal counter (one indexed
        // row), so a commit is applied within this and an incremental update.
        let mut poll = tokio::time::interval(JOURNAL_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let polling = listener.is_none();
            let journal = async {
                match listener.as_mut() {
                    Some(l) => l.wait().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            let reload = tokio::select! {
                c = commands.recv() => match c {
                    Some(Command::Reload) => {
                        // Reloads queued behind this one are this reload
                        // (one full build serves them all); a shutdown
                        // queued behind it ends the loop first.
                        let mut shutdown = false;
                        while let Ok(c) = commands.try_recv() {
                            shutdown |= c == Command::Shutdown;
                        }
                        if shutdown {
                            break;
                        }
                        true
                    }
                    Some(Command::Shutdown) | None => break,
                },
                _ = timer.tick(), if interval > 0 => false,
                _ = poll.tick(), if polling => false,
                r = journal => {
                    if let Err(e) = r {
                        warn!(error = %e, "LISTEN failed; polling the journal");
                        listener = None;
                    }
                    false
                }
            };
            if reload && let Err(e) = self.reload().await {
                warn!(error = %e, "new configuration refused; keeping the old one");
            }
            self.step(reload).await;
        }
        info!("shutting down");
    }

    /// Replace the pipeline by one made from the configuration file as it
    /// is now. A file that does not load, or a pipeline that cannot be made
    /// from it, is refused and the old configuration stays in effect.
    pub async fn reload(&mut self) -> Result<(), ReloadError> {
        tracing::debug!("reloading configuration and zone");
        let path: PathBuf = self.pipeline.config.path.clone();
        let config = Config::load(&path)?;
        let mut p = Pipeline::new(config, self.pipeline.srs.clone()).await?;
        p.inherit(&self.pipeline);
        self.pipeline = p;
        Ok(())
    }

    /// One wake-up: make and publish the next version if there is one.
    /// `forced`: a reload, built in full whatever the journal says.
    pub async fn step(&mut self, forced: bool) -> Outcome {
        self.expiry_alarm();
        let cur = self.current.load_full();
        let periodic = self.last_full.elapsed() >= FULL_REBUILD_EVERY;
        // A key roll's step, or a key's timing reached (published,
        // activated, retired, deleted): the zone is signed again in full.
        let key_event = !forced && self.key_event(&cur.zone).await;
        if !forced && !periodic {
            if !key_event {
                match self.pipeline.srs_changed().await {
                    Ok(false) => return self.refresh_if_due(&cur.zone).await,
                    Ok(true) => {}
                    Err(e) => {
                        warn!(error = %e, "cannot read the SRS journal");
                        return Outcome::Unchanged;
                    }
                }
            }
            if let Some((seq, at)) = self.failed
                && at.elapsed() < RETRY_FAILED_AFTER
                && self.pipeline.srs.journal_seq().await.ok() == Some(seq)
            {
                return Outcome::Unchanged;
            }
        }
        let strategy = if forced || periodic || key_event {
            Strategy::Full
        } else {
            Strategy::Incremental
        };
        match self.pipeline.next(strategy, Some(&cur.zone)).await {
            Ok(None) => Outcome::Unchanged,
            Ok(Some(built)) => {
                if built.incremental.is_none() {
                    self.last_full = Instant::now();
                    self.refreshed_at = Some(self.pipeline.now());
                }
                let outcome = self.publish(built);
                if outcome == Outcome::Failed {
                    // Not tried again at every poll either.
                    self.note_failure().await;
                }
                outcome
            }
            Err(e) => {
                metrics::counter!("tldns_build_failures_total").increment(1);
                error!(error = %e, "build failed; the previous version keeps serving");
                self.note_failure().await;
                Outcome::Failed
            }
        }
    }

    /// Whether the keys call for a full signing now: the key policy took a
    /// step ([`Pipeline::roll_keys`]), or the served version is not signed
    /// as the keys' timing says it should be.
    async fn key_event(&mut self, served: &crate::zone::SignedZone) -> bool {
        match self.pipeline.roll_keys().await {
            Ok(true) => return true,
            Ok(false) => {}
            Err(e) => error!(error = %e, "key rollover step failed; the keys stay as they are"),
        }
        !self.pipeline.keys_match(served)
    }

    /// The signature refresh between full builds
    /// ([`Pipeline::refresh_signatures`]), once `refresh-interval` has
    /// passed since the last one (or the last full build).
    async fn refresh_if_due(&mut self, cur: &Arc<crate::zone::SignedZone>) -> Outcome {
        let every = u64::from(self.pipeline.config.zone.dnssec.refresh_interval_secs());
        let now = self.pipeline.now();
        if every == 0 || self.refreshed_at.is_some_and(|t| now < t + every) {
            return Outcome::Unchanged;
        }
        self.refreshed_at = Some(now);
        match self.pipeline.refresh_signatures(cur).await {
            Ok(None) => Outcome::Unchanged,
            Ok(Some(built)) => self.publish(built),
            Err(e) => {
                metrics::counter!("tldns_refresh_failures_total").increment(1);
                error!(error = %e, "signature refresh failed; the previous version keeps serving, the next full build renews what is due");
                Outcome::Failed
            }
        }
    }

    /// Remember the SRS state that failed, so it is retried only after
    /// `RETRY_FAILED_AFTER` or a new commit.
    async fn note_failure(&mut self) {
        if let Ok(seq) = self.pipeline.srs.journal_seq().await {
            self.failed = Some((seq, Instant::now()));
        }
    }

    fn publish(&mut self, built: Built) -> Outcome {
        let old = self.current.load_full();
        let (new, step) = match self.pipeline.publish(&built, Some(&self.current)) {
            Ok(p) => p,
            Err(e) => {
                error!(error = %e, "not published; the previous version keeps serving");
                return Outcome::Failed;
            }
        };
        if let Some(f) = &self.on_published {
            f(&old, &new, step.as_ref());
        }
        drop(old);
        if built.incremental.is_none() {
            incremental::prepare(&mut self.pipeline, &built.zone);
            // Once the workers have let the old version go, hand what it
            // and the build freed back to the OS.
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                tokio::task::spawn_blocking(crate::server::trim::release_free_memory);
            });
        }
        info!(
            serial = built.zone.serial(),
            refused = built.report.refused.len(),
            incremental = built.incremental.as_ref().map(|a| a.changes),
            ms = built.timings.total.as_millis() as u64,
            "published"
        );
        Outcome::Published {
            serial: built.zone.serial(),
            incremental: built.incremental.is_some(),
        }
    }
}
