//! Signed state that survives restarts (issue: DNSSEC that runs for
//! years): a restart serves the last published version as it was, read
//! back from the snapshot and the journal, with the same signatures and
//! its IXFR history, then catches up with the SRS incrementally; a
//! damaged or stale stored version is never served, the zone is built in
//! full instead. (The NSD secondary's IXFR across a restart is in
//! tests/xfr.rs, next to the other transfer tests.)

mod common;

use common::TempDir;
use common::daemon::{daemon, has, run, serial, shutdown, wait_for};
use std::sync::Arc;
use tldns::pipeline::Pipeline;
use tldns::pipeline::daemon::{Daemon, Outcome};
use tldns::rr::rtype;
use tldns::zone::SignedZone;

/// The daemon of `d`'s configuration and SRS, started again.
async fn restart(d: &Daemon) -> Daemon {
    let p = Pipeline::new(d.pipeline().config.clone(), d.pipeline().srs.clone())
        .await
        .unwrap();
    Daemon::start(p).await.unwrap()
}

/// A served version after one SRS change published incrementally: the
/// daemon (stopped), the first and the second version.
async fn published_twice(tag: &str) -> (TempDir, Daemon, Arc<SignedZone>, Arc<SignedZone>) {
    let dir = TempDir::new(tag);
    let (d, _) = daemon(dir.path(), true).await;
    let current = d.current();
    let first = current.load().zone.clone();
    let srs = d.pipeline().srs.clone();
    let (tx, task) = run(d);
    srs.add_domain("after-first.mobile", &["ns1.hoster.net".to_string()])
        .await
        .unwrap();
    wait_for("the new domain", &current, |c| {
        has(c, "after-first.mobile.")
    })
    .await;
    let d = shutdown(tx, task).await;
    let second = current.load().zone.clone();
    (dir, d, first, second)
}

fn state_file(d: &Daemon, ext: &str) -> std::path::PathBuf {
    let c = &d.pipeline().config;
    c.resolve(&c.zone.state_dir)
        .join(format!("{}.{ext}", c.origin.file_stem()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_serves_the_stored_version_as_it_was_then_catches_up() {
    let (_dir, d, first, second) = published_twice("restart-same").await;
    assert!(tldns::serial::serial_gt(second.serial(), first.serial()));

    let again = restart(&d).await;
    let served = again.current().load().zone.clone();
    // The very version: every record and every signature the same.
    assert_eq!(*served, *second);
    let rrsig_of = |z: &SignedZone, t: u16| {
        z.records()
            .into_iter()
            .filter(|r| r.rtype == rtype::RRSIG && r.rdata[..2] == t.to_be_bytes())
            .take(3)
            .collect::<Vec<_>>()
    };
    for t in [rtype::DS, rtype::NSEC3, rtype::SOA] {
        let sigs = rrsig_of(&served, t);
        assert!(!sigs.is_empty(), "an RRSIG over type {t}");
        assert_eq!(sigs, rrsig_of(&second, t), "RRSIGs over type {t}");
    }
    // With the step that led to it, for IXFR.
    let h: Vec<(u32, u32)> = again
        .restored_history()
        .iter()
        .map(|s| (s.from(), s.to()))
        .collect();
    assert_eq!(h, [(first.serial(), second.serial())]);

    // It then follows the SRS incrementally, as before the restart.
    let mut again = again;
    let srs = again.pipeline().srs.clone();
    srs.add_domain("after-restart.mobile", &["ns1.hoster.net".to_string()])
        .await
        .unwrap();
    let outcome = again.step(false).await;
    assert!(
        matches!(outcome, Outcome::Published { incremental: true, serial } if tldns::serial::serial_gt(serial, second.serial())),
        "{outcome:?}"
    );
    assert!(has(&again.current(), "after-restart.mobile."));

    // And a restart after that serves the newest version, its history
    // holding both steps.
    let third = again.current().load().zone.clone();
    let once_more = restart(&again).await;
    assert_eq!(*once_more.current().load().zone, *third);
    assert_eq!(once_more.restored_history().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_stopped_are_caught_up_incrementally() {
    let (_dir, d, _, second) = published_twice("restart-catch-up").await;
    d.pipeline()
        .srs
        .add_domain("while-down.mobile", &["ns1.hoster.net".to_string()])
        .await
        .unwrap();
    let mut again = restart(&d).await;
    assert_eq!(serial(&again.current()), second.serial());
    assert!(!has(&again.current(), "while-down.mobile."));
    let outcome = again.step(false).await;
    assert!(
        matches!(
            outcome,
            Outcome::Published {
                incremental: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(has(&again.current(), "while-down.mobile."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_is_never_served_the_zone_is_built_in_full() {
    let (_dir, d, _, second) = published_twice("restart-damaged").await;
    let snap = state_file(&d, "snapshot");
    let mut b = std::fs::read(&snap).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x40;
    std::fs::write(&snap, &b).unwrap();

    let again = restart(&d).await;
    let served = again.current().load().zone.clone();
    // A new build: a new serial, after the one published last, and no
    // history from before it.
    assert!(tldns::serial::serial_gt(served.serial(), second.serial()));
    assert!(again.restored_history().is_empty());
    assert!(has(&again.current(), "after-first.mobile."));
    // The full build wrote a good snapshot: the next restart reads it.
    let third = restart(&again).await;
    assert_eq!(*third.current().load().zone, *served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_does_not_reach_the_published_serial_means_a_full_build() {
    let (_dir, d, first, second) = published_twice("restart-stale").await;
    // The step to the second version is lost: snapshot and journal reach
    // only the first, which is not what was published last.
    std::fs::remove_file(state_file(&d, "journal")).unwrap();
    let again = restart(&d).await;
    let served = again.current().load().zone.clone();
    assert_ne!(served.serial(), first.serial());
    assert!(tldns::serial::serial_gt(served.serial(), second.serial()));
    assert!(has(&again.current(), "after-first.mobile."));
}
