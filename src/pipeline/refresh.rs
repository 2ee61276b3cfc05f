//! The signature refresh between full builds: every hour (`[dnssec]
//! refresh-interval`) the daemon makes the signatures that have come due
//! again on the published version, and nothing else: the SOA serial goes
//! up, every other record stays. A signature is due when it has less than
//! the refresh window left or its signer is not the key that should sign
//! now ([`crate::dnssec::refresh`]). Because first signatures are spread
//! over the whole cycle ([`crate::dnssec::signer`]), an hour's version
//! carries about 1/(validity − refresh window, in hours) of them, and the
//! IXFR to a secondary is that small. The version is checked by
//! [`verify_refreshed`] (every signature that differs, the gate, the
//! minimum life) before it is published; the full builds every few hours
//! and at start verify everything.
//!
//! Not for key events: a key published, activated or withdrawn calls for
//! a full build, and the refresh leaves it to one.

use super::incremental::{self, Applied};
use super::{BuildError, Built, Pipeline, Timings};
use crate::dnssec::signer::{UpdateStats, refresh};
use crate::policy::Report;
use crate::rr::rtype;
use crate::serial::next_serial;
use crate::verify::verify_refreshed;
use crate::zone::SignedZone;
use std::sync::Arc;
use std::time::Instant;

impl Pipeline {
    /// The next version of `current` (the last published one) with the
    /// signatures that are due made again, verified; `Ok(None)` when none
    /// is due but the SOA's, when signing is off, when the keys call for a
    /// full build, or when `current` is not the last published version.
    pub async fn refresh_signatures(
        &mut self,
        current: &Arc<SignedZone>,
    ) -> Result<Option<Built>, BuildError> {
        let d = &self.config.zone.dnssec;
        let (Some(sec), Some(journal_seq)) = (&current.dnssec, self.last_journal_seq) else {
            return Ok(None);
        };
        if !d.enabled
            || self.keys.is_empty()
            || self.last_serial != Some(current.serial())
            || !self.keys_match(current)
        {
            return Ok(None);
        }
        let t0 = Instant::now();
        let now = self.now();
        let params = self.sign_params(now);
        let mut zone = current.zone.clone();
        zone.soa.serial = next_serial(self.last_serial, self.config.zone.serial.scheme, now);
        let mut sec = sec.clone();
        // The SOA changed (its serial): its signatures are made again.
        sec.apex_sigs.remove(&rtype::SOA);
        let keys = self.keys.clone();
        let (zone, sec, stats) = tokio::task::spawn_blocking(move || {
            refresh(&mut sec, &zone, &keys, &params, now as u32).map(|st| (zone, sec, st))
        })
        .await??;
        let t_sign = t0.elapsed();
        if stats.dnskeys_changed || stats.rrsets_signed <= 1 {
            return Ok(None);
        }
        let new = SignedZone {
            zone,
            dnssec: Some(sec),
        };
        let t1 = Instant::now();
        let opts = self.verify_options(now, true);
        let checked = verify_refreshed(current, &new, &opts)?;
        let t_verify = t1.elapsed();
        metrics::counter!("tldns_signatures_refreshed_total").increment(stats.rrsets_signed as u64);
        tracing::info!(
            serial = new.zone.soa.serial,
            rrsets = stats.rrsets_signed,
            rrsigs_checked = checked.rrsigs_checked,
            "signatures due made again"
        );
        incremental::carry(&mut self.incremental, current.serial(), new.zone.soa.serial);
        Ok(Some(Built {
            zone: Arc::new(new),
            report: Report::default(),
            journal_seq,
            timings: Timings {
                sign: t_sign,
                verify: t_verify,
                total: t0.elapsed(),
                ..Timings::default()
            },
            incremental: Some(Applied {
                changes: 0,
                delegations: 0,
                hosts: 0,
                dnssec: UpdateStats::default(),
                touched: Vec::new(),
            }),
        }))
    }
}
