//! A failed build keeps the old version, driven through the daemon. Its own
//! test binary: the planted fault travels in a process-wide environment
//! variable, which must be set before any thread exists and must not reach
//! any other test.

mod common;

use common::TempDir;
use common::daemon::{daemon, has, serial};
use tldns::pipeline::daemon::Outcome;

#[test]
fn failed_build_keeps_the_old_version() {
    let dir = TempDir::new("daemon-fault");
    let fault = dir.path().join("fault");
    // SAFETY: set before this binary's runtime (and any thread of it)
    // exists, and this binary holds this one test.
    unsafe { std::env::set_var("TLDNS_FAULT_FILE", &fault) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
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
    });
}
