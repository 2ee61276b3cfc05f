//! The full strategy: every row of one SRS snapshot through policy, the
//! zone assembled from scratch, all of it signed and all of it verified.
//! The daemon makes one at start, on reload and on a schedule (which
//! renews the signatures that are due and keeps the rest);
//! [`super::incremental`] edits versions between.

use super::{BuildError, Built, Pipeline, Timings, fault};
use crate::dnssec::signer::sign_dnssec_reusing;
use crate::policy;
use crate::serial::next_serial;
use crate::verify::verify;
use crate::zone::{SignedZone, assemble};
use std::sync::Arc;
use std::time::Instant;

impl Pipeline {
    /// Build a new version from the SRS as it is now, every signature made
    /// anew (the first version, `tldns build`/`verify`/`export`).
    pub async fn build(&mut self) -> Result<Built, BuildError> {
        self.build_on(None).await
    }

    /// Build a new version from the SRS as it is now, keeping each
    /// signature of `previous` (the published version) that is still good
    /// for its RRset ([`crate::dnssec::signer::sign_dnssec_reusing`]); the
    /// whole version is verified all the same.
    pub async fn build_on(
        &mut self,
        previous: Option<Arc<SignedZone>>,
    ) -> Result<Built, BuildError> {
        self.require_keys()?;
        self.refresh_parent_anchors().await;
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
            let params = self.sign_params(now);
            let (dnssec, stats) = tokio::task::spawn_blocking(move || {
                sign_dnssec_reusing(&zone, &keys, &params, now as u32, previous.as_deref()).map(
                    |(d, stats)| {
                        (
                            SignedZone {
                                zone,
                                dnssec: Some(d),
                            },
                            stats,
                        )
                    },
                )
            })
            .await??;
            metrics::counter!("tldns_signatures_reused_total").increment(stats.reused as u64);
            metrics::counter!("tldns_rrsets_signed_total").increment(stats.signed as u64);
            tracing::info!(reused = stats.reused, signed = stats.signed, "signed");
            dnssec
        } else {
            SignedZone { zone, dnssec: None }
        };
        let signed = fault::inject(signed, &[], &self.keys, now as u32);
        let t_sign = t1.elapsed();
        let t2 = Instant::now();
        let opts = self.verify_options(now, dcfg.enabled);
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
}
