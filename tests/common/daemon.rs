//! A daemon driven without signals or a process, for the daemon tests
//! (tests/pipeline.rs, tests/pipeline_fault.rs): an SQLite SRS in a
//! temporary directory, commands over a channel, the published version
//! read from the store as the server reads it.

use super::{free_port, write_config};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tldns::config::Config;
use tldns::name::Name;
use tldns::pipeline::Pipeline;
use tldns::pipeline::daemon::{Command, Daemon};
use tldns::srs::Srs;
use tldns::store::Current;
use tokio::sync::mpsc;

/// A daemon that published its first version of a seeded SRS in `dir`.
pub async fn daemon(dir: &Path, dnssec: bool) -> (Daemon, PathBuf) {
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
pub fn run(mut d: Daemon) -> (mpsc::Sender<Command>, tokio::task::JoinHandle<Daemon>) {
    let (tx, rx) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        d.run(rx).await;
        d
    });
    (tx, task)
}

pub async fn wait_for(what: &str, current: &Current, f: impl Fn(&Current) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f(current) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn has(current: &Current, name: &str) -> bool {
    let n = Name::parse(name).unwrap();
    current
        .load()
        .zone
        .zone
        .content
        .delegations
        .contains_key(&n)
}

pub fn serial(current: &Current) -> u32 {
    current.load().zone.serial()
}

pub async fn shutdown(tx: mpsc::Sender<Command>, task: tokio::task::JoinHandle<Daemon>) -> Daemon {
    tx.send(Command::Shutdown).await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the loop ends on Shutdown")
        .unwrap()
}
