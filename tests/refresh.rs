//! Signatures refreshed, not replaced (issue: DNSSEC that runs for years):
//! a full build keeps every signature of the published version that is
//! still good, so an unchanged SRS gives an IXFR of the SOA and what was
//! due; and over a simulated week of hourly refreshes no signature in the
//! served zone comes within the refresh window, with the refreshes spread
//! over the cycle rather than all at once.

mod common;

use common::{TempDir, free_port, write_config};
use tldns::config::Config;
use tldns::pipeline::Pipeline;
use tldns::rr::{RrsigFields, rtype};
use tldns::srs::Srs;
use tldns::xfr::diff::diff;
use tldns::zone::SignedZone;

const T0: u64 = 1_780_000_000;
const HOUR: u64 = 3600;

/// A pipeline on a seeded SQLite SRS; `dnssec` replaces the `[dnssec]`
/// timing lines of the demo configuration, `expire` the SOA expire.
async fn pipeline(dir: &std::path::Path, timing: &str, expire: u32) -> Pipeline {
    let cfg = write_config(dir, free_port(), true, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("expire = 1209600", &format!("expire = {expire}"))
        .replace("signature-validity = \"21d\"\n", &format!("{timing}\n"))
        .replace("signature-refresh = \"14d\"\n", "")
        .replace("signature-jitter = \"24h\"\n", "");
    std::fs::write(&cfg, text).unwrap();
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 60, 3, false)
        .await
        .unwrap();
    Pipeline::new(config, srs).await.unwrap()
}

/// Every RRSIG of the version: (covered type, owner text, expiration).
fn expirations(z: &SignedZone) -> Vec<(u16, String, u32)> {
    z.records()
        .iter()
        .filter(|r| r.rtype == rtype::RRSIG)
        .map(|r| {
            let f = RrsigFields::parse(&r.rdata).unwrap();
            (f.type_covered, r.owner.to_string(), f.expiration)
        })
        .collect()
}

#[tokio::test]
async fn a_full_build_of_an_unchanged_srs_changes_only_the_soa_and_what_was_due() {
    let dir = TempDir::new("refresh-steady");
    let mut p = pipeline(
        dir.path(),
        "signature-validity = \"21d\"\nsignature-refresh = \"14d\"\nsignature-jitter = \"24h\"",
        1_209_600,
    )
    .await;
    p.set_clock(Some(T0));
    let first = p.build().await.unwrap();
    p.commit(&first).unwrap();
    let sigs = expirations(&first.zone).len();
    assert!(sigs > 50, "{sigs}");

    // An hour later, nothing changed in the SRS: the IXFR is the SOA and
    // its signature, nothing else.
    p.set_clock(Some(T0 + HOUR));
    let second = p.build_on(Some(first.zone.clone())).await.unwrap();
    p.commit(&second).unwrap();
    let d = diff(&first.zone, &second.zone);
    let types = |rs: &[tldns::rr::Record]| -> Vec<(u16, u16)> {
        rs.iter()
            .map(|r| {
                let covered = if r.rtype == rtype::RRSIG {
                    RrsigFields::parse(&r.rdata).unwrap().type_covered
                } else {
                    0
                };
                (r.rtype, covered)
            })
            .collect()
    };
    assert_eq!(types(&d.removed), vec![(rtype::RRSIG, rtype::SOA)], "{d:?}");
    assert_eq!(types(&d.added), vec![(rtype::RRSIG, rtype::SOA)], "{d:?}");

    // Two days on, the signatures with less than the refresh window left
    // (and only those) are made again: the IXFR carries them. The first
    // signing spread its expirations from 14 days and an hour to 22 days,
    // so about a quarter are due.
    let now = T0 + 2 * 24 * HOUR;
    let refresh = 14 * 24 * 3600;
    let due: Vec<_> = expirations(&second.zone)
        .into_iter()
        .filter(|(t, _, e)| *t != rtype::SOA && (*e as u64) < now + refresh)
        .collect();
    assert!(
        !due.is_empty() && due.len() < sigs / 2,
        "{} of {sigs}",
        due.len()
    );
    p.set_clock(Some(now));
    let third = p.build_on(Some(second.zone.clone())).await.unwrap();
    let d = diff(&second.zone, &third.zone);
    let removed_sigs = d.removed.iter().filter(|r| r.rtype == rtype::RRSIG).count();
    assert_eq!(removed_sigs, due.len() + 1, "the due ones and the SOA's");
    assert_eq!(d.added.len(), d.removed.len());
    assert!(d.removed.iter().all(|r| r.rtype == rtype::RRSIG));
}

/// A week of hourly refreshes (3 days of validity; refresh at 1 day left; SOA
/// expire 1 hour), refreshed by a full build every hour over 7 days: after
/// every build no signature has less than the refresh window left, and the
/// refreshes spread out: no hour makes more than a few times the average.
#[tokio::test]
async fn a_simulated_week_of_hourly_refreshes_never_comes_within_the_window() {
    let dir = TempDir::new("refresh-week");
    let mut p = pipeline(
        dir.path(),
        "signature-validity = \"3d\"\nsignature-refresh = \"1d\"\nsignature-jitter = \"2h\"",
        3600,
    )
    .await;
    let refresh = 24 * HOUR;
    p.set_clock(Some(T0));
    let mut cur = std::sync::Arc::new(p.build().await.unwrap().zone.as_ref().clone());
    let total = expirations(&cur).len();
    let mut per_hour = Vec::new();
    for h in 1..=7 * 24 {
        let now = T0 + h * HOUR;
        p.set_clock(Some(now));
        let next = p.build_on(Some(cur.clone())).await.unwrap();
        p.commit(&next).unwrap();
        for (t, owner, e) in expirations(&next.zone) {
            assert!(
                e as u64 >= now + refresh,
                "hour {h}: {owner} RRSIG over type {t} expires at {e}, within the refresh window"
            );
        }
        let d = diff(&cur, &next.zone);
        let resigned = d.added.iter().filter(|r| r.rtype == rtype::RRSIG).count() - 1;
        per_hour.push(resigned);
        cur = next.zone.clone();
    }
    assert_spread(&per_hour, per_hour.len(), total);
}

/// Over a week of 3-day validity and a 1-day refresh window, each of
/// `total` signatures lives about 2 days between renewals, so is renewed
/// about 3 times; and no one of the `hours` makes more than a few times
/// the average (`renewals`: per refresh made).
fn assert_spread(renewals: &[usize], hours: usize, total: usize) {
    let sum: usize = renewals.iter().sum();
    assert!(
        sum >= 2 * total && sum <= 5 * total,
        "{sum} renewals of {total}"
    );
    let average = sum as f64 / hours as f64;
    let worst = *renewals.iter().max().unwrap();
    assert!(
        (worst as f64) <= 4.0 * average + 2.0,
        "refreshes bunch up: {worst} in one hour, {average:.1} on average: {renewals:?}"
    );
}

/// The expiry alarm (.zm 2015: a zone served on until its signatures
/// expired): quiet while the daemon renews, sounding once the first
/// signature to expire is well inside the refresh window (renewals
/// stopped), quiet again once a build renews what is due.
#[tokio::test]
async fn the_expiry_alarm_sounds_when_renewals_stop() {
    use common::daemon::daemon;
    use tldns::pipeline::daemon::Outcome;
    let dir = TempDir::new("refresh-alarm");
    let (mut d, _) = daemon(dir.path(), true).await;
    assert!(!d.expiry_alarm());
    let e = d.pipeline().earliest_expiration().unwrap();
    let now = tldns::time::unix_now();
    // A first signing spreads from the 14-day window and an hour.
    assert!(e as u64 >= now + 14 * 24 * HOUR, "{e}");
    // Eight days without a renewal: 6 days left, inside the window.
    d.pipeline_mut().set_clock(Some(now + 8 * 24 * HOUR));
    assert!(d.expiry_alarm());
    // A full build then renews what is due.
    assert!(matches!(d.step(true).await, Outcome::Published { .. }));
    assert!(!d.expiry_alarm());
    let e = d.pipeline().earliest_expiration().unwrap() as u64;
    assert!(e >= now + 8 * 24 * HOUR + 14 * 24 * HOUR, "{e}");
}

/// The daemon's hourly refresh between full builds: a week on a simulated
/// clock (3 days of validity, refresh at 1 day left), every hour one
/// wake-up with no SRS change. Each wake-up either publishes a refresh
/// version, made by editing the served one (incremental, verified), or
/// has nothing due; none fails. Each refresh changes only signatures and
/// the SOA, so the IXFR carries just those; after every one no signature
/// in the served zone has less than the refresh window left; and the
/// renewals spread out over the hours as with full builds.
#[tokio::test]
async fn the_daemon_refreshes_due_signatures_hourly_without_a_full_build() {
    use tldns::pipeline::daemon::{Daemon, Outcome};
    let dir = TempDir::new("refresh-daemon");
    let mut p = pipeline(
        dir.path(),
        "signature-validity = \"3d\"\nsignature-refresh = \"1d\"\nsignature-jitter = \"2h\"",
        3600,
    )
    .await;
    p.set_clock(Some(T0));
    let mut d = Daemon::start(p).await.unwrap();
    let refresh = 24 * HOUR;
    let mut cur = d.current().load_full().zone.clone();
    let total = expirations(&cur).len();
    let (mut refreshed, mut idle, mut renewals) = (0, 0, Vec::new());
    for h in 1..=7 * 24 {
        let now = T0 + h * HOUR;
        d.pipeline_mut().set_clock(Some(now));
        match d.step(false).await {
            Outcome::Published {
                incremental: true, ..
            } => refreshed += 1,
            Outcome::Unchanged => idle += 1,
            other => panic!("hour {h}: {other:?}"),
        }
        let next = d.current().load_full().zone.clone();
        for (t, owner, e) in expirations(&next) {
            assert!(
                e as u64 >= now + refresh,
                "hour {h}: {owner} RRSIG over type {t} expires at {e}, within the refresh window"
            );
        }
        if next.serial() != cur.serial() {
            let dd = diff(&cur, &next);
            assert!(
                dd.added
                    .iter()
                    .chain(&dd.removed)
                    .all(|r| r.rtype == rtype::RRSIG || r.rtype == rtype::SOA),
                "hour {h}: a refresh changes signatures and the SOA only"
            );
            assert_eq!(dd.added.len(), dd.removed.len());
            renewals.push(dd.added.iter().filter(|r| r.rtype == rtype::RRSIG).count() - 1);
        }
        cur = next;
    }
    assert!(refreshed > 24, "{refreshed} refreshes, {idle} idle hours");
    assert_spread(&renewals, 7 * 24, total);
}

/// What the refresh's check refuses: a version whose SOA serial went up
/// but whose SOA signature was not made again, one whose content changed,
/// and a refresh made by the pipeline with one NSEC3 signature broken
/// (the same refresh unbroken passes).
#[tokio::test]
async fn a_refresh_that_changes_more_than_signatures_or_breaks_one_is_refused() {
    use tldns::verify::{VerifyOptions, verify_refreshed};
    let dir = TempDir::new("refresh-refused");
    let mut p = pipeline(
        dir.path(),
        "signature-validity = \"21d\"\nsignature-refresh = \"14d\"\nsignature-jitter = \"24h\"",
        1_209_600,
    )
    .await;
    p.set_clock(Some(T0));
    let built = p.build().await.unwrap();
    p.commit(&built).unwrap();
    let v1 = built.zone.clone();
    let at = |now: u64| VerifyOptions {
        now: now as u32,
        ..VerifyOptions::default()
    };
    let bumped = |z: &SignedZone| {
        let mut z = z.clone();
        z.zone.soa.serial += 1;
        z
    };
    // The SOA's signature is over the old serial.
    let e = verify_refreshed(&v1, &bumped(&v1), &at(T0)).unwrap_err();
    assert!(e.to_string().contains("SOA"), "{e}");
    // A delegation removed: content, not signatures.
    let mut fewer = bumped(&v1);
    let first = fewer
        .zone
        .content
        .delegations
        .keys()
        .next()
        .unwrap()
        .clone();
    fewer.zone.content.delegations.remove(&first);
    let e = verify_refreshed(&v1, &fewer, &at(T0)).unwrap_err();
    assert!(e.to_string().contains("content"), "{e}");

    // Eight days on, some signatures are due: the pipeline's refresh.
    let now = T0 + 8 * 24 * HOUR;
    p.set_clock(Some(now));
    let v2 = p
        .refresh_signatures(&v1)
        .await
        .unwrap()
        .expect("some are due");
    verify_refreshed(&v1, &v2.zone, &at(now)).unwrap();
    let mut broken = v2.zone.as_ref().clone();
    let sec = broken.dnssec.as_mut().unwrap();
    let (h, n3) = sec
        .nsec3
        .iter()
        .next()
        .map(|(h, n)| (*h, n.clone()))
        .unwrap();
    let mut sigs: Vec<Vec<u8>> = n3.sigs().map(<[u8]>::to_vec).collect();
    *sigs[0].last_mut().unwrap() ^= 1;
    sec.nsec3.insert(h, n3.with_sigs(&sigs));
    let e = verify_refreshed(&v1, &broken, &at(now)).unwrap_err();
    assert!(e.to_string().contains("NSEC3"), "{e}");
}
