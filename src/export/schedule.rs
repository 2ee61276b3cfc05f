//! When the CZDS file is written (Spec 4 §2.3: "at least daily", with "SRS
//! data committed as close as possible to 00:00:00 UTC").
//!
//! Owns the daily timer of `tldns serve`: at the configured UTC time of day
//! it exports the version being served at that instant, with that version's
//! SOA serial, so the file is always a zone that was actually published.
//! The server rebuilds whenever the SRS journal moves (every
//! `reload-interval-secs`), so the file holds the SRS as committed at most
//! one reload interval plus one build before the export time. At start, if
//! the file of the last scheduled day is missing (first run, or the server
//! was down at that time), it exports at once and says it is late.

use super::{ExportError, ExportReport, Names, export_configured, out_dir, utc_date};
use crate::config::Config;
use crate::store::Current;
use std::time::Duration;
use tldns_base::time::{TimeOfDay, unix_now};

/// The last scheduled time at or before `now` (unix seconds).
pub fn last_run(now: u64, at: TimeOfDay) -> u64 {
    let today = now - now % 86_400 + u64::from(at.secs);
    if today <= now { today } else { today - 86_400 }
}

/// The first scheduled time after `now`.
pub fn next_run(now: u64, at: TimeOfDay) -> u64 {
    last_run(now, at) + 86_400
}

/// Export the version `current` serves, dated by `when`.
async fn export_now(
    config: &Config,
    current: &Current,
    when: u64,
) -> Result<ExportReport, ExportError> {
    let zone = current.load().zone.clone();
    let config = config.clone();
    tokio::task::spawn_blocking(move || export_configured(&zone, &config, None, when))
        .await
        .unwrap_or_else(|e| {
            Err(ExportError::Io {
                path: "export task".into(),
                error: std::io::Error::other(e.to_string()),
            })
        })
}

/// The daily export of `tldns serve`; does nothing when `[export] enabled`
/// is false. Runs until the runtime stops.
pub async fn run(config: Config, current: Current) {
    let e = &config.zone.export;
    if !e.enabled {
        tracing::info!("CZDS export off ([export] enabled = false)");
        return;
    }
    let out = out_dir(&config);
    let at = e.daily_at;
    let names = Names::new(&config.origin);
    let now = unix_now();
    let last = last_run(now, at);
    let mut due = if out.join(names.historical(utc_date(last))).exists() {
        next_run(now, at)
    } else {
        tracing::warn!(
            scheduled = %at,
            late_secs = now - last,
            "CZDS file of the last scheduled time is missing; exporting now"
        );
        now
    };
    tracing::info!(dir = %out.display(), daily_at = %at, "CZDS export scheduled (UTC)");
    loop {
        // Sleep in short steps against the wall clock, which may jump.
        loop {
            let now = unix_now();
            if now >= due {
                break;
            }
            tokio::time::sleep(Duration::from_secs((due - now).min(30))).await;
        }
        // Dated by the scheduled time it stands for (a late start writes
        // the missed day's file, not tomorrow's).
        let when = last_run(unix_now(), at);
        match export_now(&config, &current, when).await {
            Ok(r) => {
                metrics::gauge!("tldns_czds_serial").set(r.serial as f64);
                metrics::gauge!("tldns_czds_export_unixtime").set(unix_now() as f64);
                tracing::info!(
                    serial = r.serial,
                    lines = r.lines,
                    gz_bytes = r.gz_bytes,
                    md5 = %r.md5,
                    pruned = r.pruned.len(),
                    "CZDS zone file exported"
                );
            }
            Err(err) => {
                metrics::counter!("tldns_czds_export_failures_total").increment(1);
                tracing::error!(error = %err, "CZDS export failed; the previous files stay in place");
            }
        }
        due = next_run(unix_now(), at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs() {
        let midnight = TimeOfDay { secs: 0 };
        let day = 20_000 * 86_400u64;
        assert_eq!(last_run(day, midnight), day);
        assert_eq!(last_run(day + 5, midnight), day);
        assert_eq!(next_run(day, midnight), day + 86_400);
        let late = TimeOfDay { secs: 23 * 3600 };
        assert_eq!(last_run(day + 3600, late), day - 3600);
        assert_eq!(next_run(day + 3600, late), day + 23 * 3600);
    }
}
