//! The daemon driven without signals or a process: an SQLite SRS in a
//! temporary directory, commands over a channel, the published version
//! read from the store as the server reads it.
//!
//! Only `failed_build_keeps_the_old_version` signs: fault injection is
//! switched by a process-wide environment variable and applies to signed
//! versions alone, so the other tests here cannot be hit by its fault.

mod common;

use common::{TempDir, free_port, write_config};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tldns::config::Config;
use tldns::name::Name;
use tldns::pipeline::Pipeline;
use tldns::pipeline::daemon::{Command, Daemon, Outcome};
use tldns::pipeline::state::StateFile;
use tldns::srs::Srs;
use tldns::store::Current;
use tokio::sync::mpsc;

/// A daemon that published its first version of a seeded SRS in `dir`.
async fn daemon(dir: &Path, dnssec: bool) -> (Daemon, PathBuf) {
    let cfg = write_config(dir, free_port(), dnssec, "");
    let config = Config::load(&cfg).unwrap();
    let db = format!("sqlite://{}", dir.join("srs.sqlite").display());
    let srs = Srs::connect(&db).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &config.origin, &config.apex_ns, 40, 1, false)
        .await
        .unwrap();
    let p = Pipeline::new(config, srs).await.unwrap();
    (Daemon::start(p).await.unwrap(), cfg)
}

/// The daemon running in a task; the task hands it back when it ends.
fn run(mut d: Daemon) -> (mpsc::Sender<Command>, tokio::task::JoinHandle<Daemon>) {
    let (tx, rx) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        d.run(rx).await;
        d
    });
    (tx, task)
}

async fn wait_for(what: &str, current: &Current, f: impl Fn(&Current) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f(current) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn has(current: &Current, name: &str) -> bool {
    let n = Name::parse(name).unwrap();
    current
        .load()
        .zone
        .zone
        .content
        .delegations
        .contains_key(&n)
}

fn serial(current: &Current) -> u32 {
    current.load().zone.serial()
}

async fn shutdown(tx: mpsc::Sender<Command>, task: tokio::task::JoinHandle<Daemon>) -> Daemon {
    tx.send(Command::Shutdown).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the loop ends on Shutdown")
        .unwrap()
}

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
async fn failed_build_keeps_the_old_version() {
    let dir = TempDir::new("daemon-fault");
    let fault = dir.path().join("fault");
    // SAFETY: set once, before any build reads it; no other test in this
    // binary signs, so none of them is affected by the fault.
    unsafe { std::env::set_var("TLDNS_FAULT_FILE", &fault) };
    let (mut d, _) = daemon(dir.path(), true).await;
    let current = d.current();
    let srs = d.pipeline().srs.clone();
    let before = serial(&current);

    std::fs::write(&fault, "corrupt-rrsig").unwrap();
    srs.add_domain("broken.mobile", &["ns1.hoster.net".to_string()])
        .await
        .unwrap();
    // Incremental refused by its verification, then the full build too.
    assert_eq!(d.step(false).await, Outcome::Failed);
    assert_eq!(serial(&current), before);
    assert!(!has(&current, "broken.mobile."));
    // The same SRS state is not tried again at once.
    std::fs::remove_file(&fault).unwrap();
    assert_eq!(d.step(false).await, Outcome::Unchanged);
    assert_eq!(serial(&current), before);

    // A new commit is: both domains go out.
    srs.add_domain("mended.mobile", &["ns1.hoster.net".to_string()])
        .await
        .unwrap();
    assert!(matches!(d.step(false).await, Outcome::Published { .. }));
    assert!(has(&current, "broken.mobile.") && has(&current, "mended.mobile."));
    assert!(tldns::serial::serial_gt(serial(&current), before));
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
