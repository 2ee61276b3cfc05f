//! The pipeline, end to end: SRS snapshot → policy → zone → DNSSEC →
//! verify → publish.
//!
//! Owns the order of the steps and the rule that a version which fails any
//! step is never published: the caller keeps serving the previous one. It
//! also owns the last published serial (RFC 1982, persisted before a version
//! goes out, so a restart never goes backwards). It does not know SQL, DNS
//! wire format or crypto; those live in the modules it calls.

use crate::config::Config;
use crate::dnssec::keys::{Key, KeyStore};
use crate::dnssec::signer::{SignParams, sign_zone};
use crate::policy::{self, Lists, PolicyError, Report};
use crate::serial::{SerialError, SerialState, next_serial};
use crate::server::index::{Index, Options};
use crate::server::{Current, Served};
use crate::srs::{Srs, SrsError};
use crate::verify::{VerifyOptions, verify};
use crate::zone::{SignedZone, assemble};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Why a version was not built or not published.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("reading the SRS: {0}")]
    Srs(#[from] SrsError),
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("serial: {0}")]
    Serial(#[from] SerialError),
    #[error("keys: {0}")]
    Keys(#[from] crate::dnssec::keys::KeyError),
    #[error("signing: {0}")]
    Sign(#[from] crate::dnssec::signer::SignError),
    #[error("verification refused the new version: {0}")]
    Verify(#[from] crate::verify::VerifyError),
    #[error("signing task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A built (and, when configured, signed and verified) version.
#[derive(Debug)]
pub struct Built {
    /// Shared with the published [`Served`] version: never copied.
    pub zone: Arc<SignedZone>,
    pub report: Report,
    /// Journal sequence number the version includes.
    pub journal_seq: i64,
    pub timings: Timings,
    /// Set when [`crate::update`] made the version from the previous one;
    /// `report` then covers only the rows it re-read.
    pub incremental: Option<crate::update::Applied>,
}

/// How long each step took.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub snapshot: Duration,
    pub policy: Duration,
    pub sign: Duration,
    pub verify: Duration,
    pub total: Duration,
}

/// Unix time now, in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Builds versions of one zone from one SRS.
pub struct Pipeline {
    pub config: Config,
    pub srs: Srs,
    pub(crate) lists: Lists,
    serial: SerialState,
    pub(crate) last_serial: Option<u32>,
    pub(crate) last_delegations: Option<usize>,
    pub(crate) last_journal_seq: Option<i64>,
    pub(crate) keys: Vec<Key>,
    /// Fixed "now" for tests (signature times, serials); `None`: the clock.
    clock: Option<u64>,
    /// What [`crate::update`] keeps between incremental versions.
    pub(crate) update: crate::update::State,
}

impl Pipeline {
    pub async fn new(config: Config, srs: Srs) -> Result<Pipeline, BuildError> {
        let lists = Lists::load(&config)?;
        let serial = SerialState::new(&config.resolve(&config.zone.state_dir), &config.origin);
        let last_serial = serial.load()?;
        let keys = if config.zone.dnssec.enabled {
            load_or_generate_keys(&config)?
        } else {
            Vec::new()
        };
        Ok(Pipeline {
            config,
            srs,
            lists,
            serial,
            last_serial,
            last_delegations: None,
            last_journal_seq: None,
            keys,
            clock: None,
            update: Default::default(),
        })
    }

    /// Take over what the previous pipeline knew of the published version
    /// (after a configuration reload).
    pub fn inherit(&mut self, old: &Pipeline) {
        self.last_delegations = old.last_delegations;
        self.last_journal_seq = old.last_journal_seq;
        if let Some(s) = old.last_serial
            && self
                .last_serial
                .is_none_or(|mine| crate::serial::serial_gt(s, mine))
        {
            self.last_serial = Some(s);
        }
    }

    /// The signing keys in use (empty when signing is off).
    pub fn keys(&self) -> &[Key] {
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

    /// Build a new version from the SRS as it is now.
    pub async fn build(&mut self) -> Result<Built, BuildError> {
        let t0 = Instant::now();
        let snapshot = self.srs.snapshot().await?;
        let t_snap = t0.elapsed();
        let (content, report) = policy::apply(&snapshot, &self.config, &self.lists)?;
        let t_policy = t0.elapsed() - t_snap;
        let serial = next_serial(self.last_serial, self.config.zone.serial.scheme, self.now());
        let zone = assemble(&self.config, content, serial);
        let t1 = Instant::now();
        let dcfg = &self.config.zone.dnssec;
        let now = self.now();
        let signed = if dcfg.enabled {
            let keys = self.keys.clone();
            let params = SignParams::from_config(dcfg, &self.config.nsec3_salt);
            tokio::task::spawn_blocking(move || sign_zone(&zone, &keys, &params, now as u32))
                .await??
        } else {
            SignedZone { zone, dnssec: None }
        };
        let signed = inject_fault(signed, &[]);
        let t_sign = t1.elapsed();
        let t2 = Instant::now();
        let opts = VerifyOptions {
            now: now as u32,
            previous_delegations: self.last_delegations,
            max_delegation_change: self.config.zone.policy.max_delegation_change,
            allowed_extra_types: self
                .config
                .zone
                .policy
                .allowed_extra_types
                .iter()
                .filter_map(|t| crate::rr::type_from_str(t))
                .collect(),
            require_signed: dcfg.enabled,
        };
        let signed = tokio::task::spawn_blocking(move || {
            verify(&signed.records(), &signed.zone.origin, &opts).map(|_| signed)
        })
        .await??;
        let t_verify = t2.elapsed();
        Ok(Built {
            zone: Arc::new(signed),
            report,
            journal_seq: snapshot.journal_seq,
            timings: Timings {
                snapshot: t_snap,
                policy: t_policy,
                sign: t_sign,
                verify: t_verify,
                total: t0.elapsed(),
            },
            incremental: None,
        })
    }

    /// Record `built` as published: persist its serial first (so a crash
    /// after this never re-uses it), then swap it in.
    pub fn publish(
        &mut self,
        built: &Built,
        current: Option<&Current>,
    ) -> Result<Arc<Served>, BuildError> {
        let serial = built.zone.serial();
        self.serial.store(serial)?;
        crate::update::Position {
            serial,
            journal_seq: built.journal_seq,
        }
        .store(&self.config)?;
        self.last_serial = Some(serial);
        self.last_delegations = Some(built.zone.zone.content.delegations.len());
        self.last_journal_seq = Some(built.journal_seq);
        // An incremental version's index is the previous one with what
        // changed made again; a full build's is made from scratch.
        let previous = current.map(|c| c.load_full());
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
        Ok(served)
    }

    /// Whether the SRS moved since the last published version.
    pub async fn srs_changed(&self) -> Result<bool, BuildError> {
        let seq = self.srs.journal_seq().await?;
        Ok(self.last_journal_seq != Some(seq))
    }
}

/// The zone's keys; when there are none, generate them by the configured
/// policy (as Knot DNS does) and say so in the log.
pub fn load_or_generate_keys(config: &Config) -> Result<Vec<Key>, BuildError> {
    let dir = config.resolve(&config.zone.dnssec.keys_dir);
    let keys = if dir.exists() {
        KeyStore::load(&dir, &config.origin)?
    } else {
        Vec::new()
    };
    if !keys.is_empty() {
        return Ok(keys);
    }
    let keys = KeyStore::generate(&dir, &config.origin, &config.zone.dnssec, unix_now())?;
    for k in &keys {
        tracing::info!(
            tag = k.key_tag,
            algorithm = k.algorithm,
            sep = k.is_sep(),
            dir = %dir.display(),
            "generated a signing key (the zone had none)"
        );
    }
    Ok(keys)
}

/// Fault injection for the tests that prove a bad version is never
/// published. When `TLDNS_FAULT_FILE` names a file that holds
/// `corrupt-rrsig` (flip a bit in one signature) or `drop-nsec3` (remove one
/// NSEC3 record), the fault is applied after signing and before
/// verification, in full and incremental builds alike. The file is read
/// at every build, so a test can make a
/// running server produce one bad version. Unset in production.
pub(crate) fn inject_fault(mut z: SignedZone, changed: &[crate::name::Name]) -> SignedZone {
    let Some(path) = std::env::var_os("TLDNS_FAULT_FILE") else {
        return z;
    };
    let Ok(fault) = std::fs::read_to_string(path) else {
        return z;
    };
    let fault = fault.trim();
    let Some(sec) = z.dnssec.as_mut() else {
        return z;
    };
    match fault {
        "corrupt-rrsig" => {
            if let Some(sig) = sec.apex_sigs.values_mut().flatten().next() {
                let last = sig.len() - 1;
                sig[last] ^= 0x01;
            }
        }
        "drop-nsec3" => {
            // An incremental version: one of the changed names' records
            // (the rest was verified before). A full build: any record.
            let p = &sec.nsec3param;
            let victim = changed
                .iter()
                .map(|n| crate::dnssec::nsec3::nsec3_hash(n, &p.salt, p.iterations))
                .find(|h| sec.nsec3.contains_key(h))
                .or_else(|| sec.nsec3.keys().nth(sec.nsec3.len() / 2).copied());
            if let Some(h) = victim {
                sec.nsec3.remove(&h);
            }
        }
        _ => {}
    }
    tracing::warn!(fault, "TLDNS_FAULT: injected a fault for testing");
    z
}
