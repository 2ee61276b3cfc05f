//! A seeded SRS with planted bad rows: `tldns build --report` refuses each
//! with its rule and publishes the rest, on SQLite and on PostgreSQL.

mod common;
use common::testdb::TestDb;
use common::*;
use tldns::srs::Srs;

async fn plant(srs: &Srs) {
    let ns = |h: &str| vec![h.to_string()];
    srs.add_domain("ab.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_domain("corp.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_domain("example.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_domain("*.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_domain("held-client.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_status("held-client.mobile", "clientHold")
        .await
        .unwrap();
    srs.add_domain("held-server.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.hold("held-server.mobile").await.unwrap();
    srs.add_domain("ab--cd.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_domain("xn--abc-.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_domain("no-ns-at-all.mobile", &[]).await.unwrap();
    // Orphan glue: an in-zone host under a published domain that nobody uses.
    srs.add_domain("good-one.mobile", &ns("ns1.host.example.net"))
        .await
        .unwrap();
    srs.add_host("unused.good-one.mobile", &["192.0.2.77".parse().unwrap()])
        .await
        .unwrap();
    // Out-of-bailiwick glue: an address for an outside host a delegation uses.
    srs.add_host("ns1.host.example.net", &["192.0.2.78".parse().unwrap()])
        .await
        .unwrap();
    // A DS with a SHA-256 digest of 20 octets.
    srs.add_ds("good-one.mobile", 12345, 13, 2, &"ab".repeat(20))
        .await
        .unwrap();
}

#[tokio::test]
async fn planted_bad_rows_are_refused_and_reported() {
    let mut dbs = vec![TestDb::sqlite()];
    if let Some(pg) = TestDb::postgres().await {
        dbs.push(pg);
    }
    for db in &dbs {
        let dir = TempDir::new("planted");
        let cfg = write_config(dir.path(), 5353, false, "");
        let c = cfg.to_str().unwrap();
        run_ok(&[
            "--config",
            c,
            "--db",
            db.url(),
            "srs",
            "seed",
            "--domains",
            "500",
        ]);
        let srs = Srs::connect(db.url()).await.unwrap();
        plant(&srs).await;
        let report = dir.path().join("report.json");
        let out = run_ok(&[
            "--config",
            c,
            "--db",
            db.url(),
            "build",
            "--report",
            report.to_str().unwrap(),
        ]);
        assert!(out.contains("built serial"), "{out}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let refused = r["refused"].as_array().unwrap();
        let rule_of = |name: &str| -> Vec<String> {
            refused
                .iter()
                .filter(|x| x["name"].as_str().unwrap_or("").trim_end_matches('.') == name)
                .map(|x| x["rule"].as_str().unwrap().to_string())
                .collect()
        };
        for (name, rule) in [
            ("ab.mobile", "reserved"),
            ("corp.mobile", "collision"),
            ("example.mobile", "reserved"),
            ("*.mobile", "wildcard"),
            ("held-client.mobile", "held"),
            ("held-server.mobile", "held"),
            ("ab--cd.mobile", "hyphen-position"),
            ("xn--abc-.mobile", "invalid-idn"),
            ("no-ns-at-all.mobile", "no-name-servers"),
            ("unused.good-one.mobile", "orphan-glue"),
            ("ns1.host.example.net", "out-of-bailiwick-glue"),
            ("good-one.mobile", "ds-digest"),
        ] {
            assert_eq!(
                rule_of(name),
                vec![rule.to_string()],
                "{name} in {}: {refused:#?}",
                db.url()
            );
            assert!(
                refused
                    .iter()
                    .any(|x| x["section"].as_str().is_some_and(|s| !s.is_empty()))
            );
        }
        // The rest is published: every seeded, non-held domain plus good-one.
        let published = r["counts"]["domains_published"].as_u64().unwrap();
        let seen = r["counts"]["domains_seen"].as_u64().unwrap();
        let refused_domains = r["counts"]["domains_refused"].as_u64().unwrap();
        assert_eq!(published + refused_domains, seen);
        assert!(published > 480, "{published} of {seen}");
    }
}
