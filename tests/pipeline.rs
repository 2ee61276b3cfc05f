//! The daemon driven without signals or a process: an SQLite SRS in a
//! temporary directory, commands over a channel, the published version
//! read from the store as the server reads it.
//!
//! The test of a failed build, which plants a fault through a process-wide
//! environment variable, is its own test binary (tests/pipeline_fault.rs).

mod common;

use common::TempDir;
use common::daemon::{daemon, has, run, serial, shutdown, wait_for};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tldns::pipeline::Pipeline;
use tldns::pipeline::daemon::{Command, Outcome};
use tldns::pipeline::state::StateFile;
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srs_change_is_published_and_its_state_stored() {
    let dir = TempDir::new("daemon-change");
    let (d, _) = daemon(dir.path(), false).await;
    let current = d.current();
    let srs = d.pipeline().srs.clone();
    let origin = d.pipeline().config.origin.clone();
    let state_dir = d
        .pipeline()
        .config
        .resolve(&d.pipeline().config.zone.state_dir);
    let first = serial(&current);
    let (tx, task) = run(d);

    srs.add_domain("fresh-one.mobile", &["ns1.hoster.net".to_string()])
        .await
        .unwrap();
    wait_for("the new domain", &current, |c| has(c, "fresh-one.mobile.")).await;
    assert!(tldns::serial::serial_gt(serial(&current), first));

    let d = shutdown(tx, task).await;
    // The state file holds what is served, journal position included, and
    // a new pipeline reads it on start.
    let stored = StateFile::new(&state_dir, &origin).load().unwrap().unwrap();
    assert_eq!(stored.serial, serial(&current));
    assert_eq!(stored.journal_seq, Some(srs.journal_seq().await.unwrap()));
    let again = Pipeline::new(d.pipeline().config.clone(), srs)
        .await
        .unwrap();
    assert_eq!(again.last_serial(), Some(stored.serial));
    assert_eq!(again.last_journal_seq(), stored.journal_seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_a_new_config_and_refuses_a_bad_one() {
    let dir = TempDir::new("daemon-reload");
    let (d, cfg) = daemon(dir.path(), false).await;
    let current = d.current();
    assert_eq!(current.load().zone.zone.soa.refresh, 1800);
    let (tx, task) = run(d);

    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("refresh = 1800", "refresh = 1801")).unwrap();
    tx.send(Command::Reload).await.unwrap();
    wait_for("the new SOA refresh", &current, |c| {
        c.load().zone.zone.soa.refresh == 1801
    })
    .await;

    // A file that does not load is refused: the reload still builds in
    // full, with the configuration in effect.
    std::fs::write(&cfg, "version = 1\norigin = \"mobile.\"\nno-such-key = 1\n").unwrap();
    let before = serial(&current);
    tx.send(Command::Reload).await.unwrap();
    wait_for("the rebuilt version", &current, |c| serial(c) != before).await;
    assert_eq!(current.load().zone.zone.soa.refresh, 1801);
    let d = shutdown(tx, task).await;
    assert_eq!(d.pipeline().config.zone.soa.refresh, 1801);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_is_refused_when_the_config_cannot_make_a_pipeline() {
    let dir = TempDir::new("daemon-reload-lists");
    let (mut d, cfg) = daemon(dir.path(), false).await;
    // It parses, but names a reserved list that does not exist.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let missing = dir.path().join("no-such-list.txt");
    let reserved = text
        .lines()
        .find(|l| l.starts_with("reserved-list"))
        .unwrap()
        .to_string();
    std::fs::write(
        &cfg,
        text.replace(&reserved, &format!("reserved-list = {missing:?}")),
    )
    .unwrap();
    assert!(d.reload().await.is_err());
    assert!(matches!(d.step(true).await, Outcome::Published { .. }));
    assert_eq!(d.pipeline().config.zone.soa.refresh, 1800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_a_closed_channel_end_the_loop() {
    let dir = TempDir::new("daemon-stop");
    let (d, _) = daemon(dir.path(), false).await;
    let (tx, task) = run(d);
    let d = shutdown(tx, task).await;
    // Dropping every sender is a shutdown too.
    let (tx, task) = run(d);
    drop(tx);
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the loop ends when the channel closes")
        .unwrap();
}

/// SIGHUPs that queue up while the daemon is busy are one reload (one full
/// build), and a shutdown queued behind reloads ends the loop before any.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_reloads_are_one_and_shutdown_goes_first() {
    let dir = TempDir::new("daemon-reloads");
    let (mut d, _) = daemon(dir.path(), false).await;
    let published = Arc::new(AtomicUsize::new(0));
    let n = published.clone();
    d.on_published(Box::new(move |_, _, _| {
        n.fetch_add(1, Ordering::SeqCst);
    }));
    let current = d.current();
    let before = serial(&current);

    // Three reloads wait in the channel before the loop reads any.
    let (tx, rx) = mpsc::channel(4);
    for _ in 0..3 {
        tx.send(Command::Reload).await.unwrap();
    }
    let task = tokio::spawn(async move {
        d.run(rx).await;
        d
    });
    wait_for("the reload's version", &current, |c| serial(c) != before).await;
    // Give queued reloads, were they run one by one, time to publish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut d = shutdown(tx, task).await;
    assert_eq!(published.load(Ordering::SeqCst), 1);

    // Reloads with a shutdown behind them: the loop ends, nothing is built.
    let (tx, rx) = mpsc::channel(4);
    for c in [Command::Reload, Command::Reload, Command::Shutdown] {
        tx.send(c).await.unwrap();
    }
    let serial_now = serial(&current);
    tokio::time::timeout(Duration::from_secs(30), d.run(rx))
        .await
        .expect("the loop ends on the queued shutdown");
    assert_eq!(published.load(Ordering::SeqCst), 1);
    assert_eq!(serial(&current), serial_now);
}
