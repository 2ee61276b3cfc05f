//! The SRS against real databases: SQLite always, PostgreSQL when the
//! local server is reachable (required when CI=true). No mocks.

mod common;

use common::testdb::TestDb;
use std::collections::BTreeSet;
use std::net::IpAddr;
use tldns::name::Name;
use tldns::policy::Rule;
use tldns::srs::{ChangeObject, Snapshot, Srs, SrsError};

/// A SQLite database and, if reachable, a PostgreSQL one.
async fn databases() -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite()];
    if let Some(pg) = TestDb::postgres().await {
        v.push(pg);
    }
    v
}

fn origin() -> Name {
    Name::parse("mobile.").unwrap()
}

fn apex_ns() -> Vec<(Name, Vec<IpAddr>)> {
    vec![
        (
            Name::parse("a.nic.mobile.").unwrap(),
            vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()],
        ),
        (
            Name::parse("b.nic.mobile.").unwrap(),
            vec!["192.0.2.2".parse().unwrap()],
        ),
        (Name::parse("ns.registry-backend.example.").unwrap(), vec![]),
    ]
}

/// The snapshot's content without database ids: (domains, hosts).
type Content = (
    Vec<(
        String,
        Vec<String>,
        Vec<String>,
        Vec<(i64, i64, i64, String)>,
    )>,
    Vec<(String, Vec<String>)>,
);

fn content(s: &Snapshot) -> Content {
    let mut domains: Vec<_> = s
        .domains
        .iter()
        .map(|d| {
            let mut ds: Vec<_> =
                s.ds.iter()
                    .filter(|x| x.domain_id == d.id)
                    .map(|x| (x.key_tag, x.algorithm, x.digest_type, x.digest.clone()))
                    .collect();
            ds.sort();
            (d.name.clone(), d.statuses.clone(), d.ns.clone(), ds)
        })
        .collect();
    domains.sort();
    let mut hosts: Vec<_> = s
        .hosts
        .iter()
        .map(|h| (h.name.clone(), h.addrs.clone()))
        .collect();
    hosts.sort();
    (domains, hosts)
}

#[tokio::test]
async fn init_twice_is_idempotent() {
    for db in databases().await {
        let srs = db.srs().await.unwrap();
        srs.init().await.unwrap();
        let again = Srs::connect(db.url()).await.unwrap();
        again.init().await.unwrap();
        let s = again.snapshot().await.unwrap();
        assert_eq!(s, Snapshot::default(), "{}", db.url());
        assert_eq!(again.journal_seq().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn seed_is_deterministic_and_the_same_in_sqlite_and_postgresql() {
    let mut contents = Vec::new();
    for db in databases().await {
        let a = db.srs().await.unwrap();
        let first = tldns::srs::seed(&a, &origin(), &apex_ns(), 2000, 42, false)
            .await
            .unwrap();
        assert_eq!(first.domains, 2001, "{}", db.url());
        let sa = a.snapshot().await.unwrap();

        // Seeding again with the same seed adds and journals nothing.
        let again = tldns::srs::seed(&a, &origin(), &apex_ns(), 2000, 42, false)
            .await
            .unwrap();
        assert_eq!(again, Default::default());
        assert_eq!(a.snapshot().await.unwrap(), sa);

        // A second database seeded alike holds identical rows, ids included.
        let other = if db.url().starts_with("sqlite") {
            TestDb::sqlite()
        } else {
            TestDb::postgres().await.unwrap()
        };
        let b = other.srs().await.unwrap();
        tldns::srs::seed(&b, &origin(), &apex_ns(), 2000, 42, false)
            .await
            .unwrap();
        assert_eq!(b.snapshot().await.unwrap(), sa, "{}", db.url());

        // A different seed gives different names.
        let third = if db.url().starts_with("sqlite") {
            TestDb::sqlite()
        } else {
            TestDb::postgres().await.unwrap()
        };
        let c = third.srs().await.unwrap();
        tldns::srs::seed(&c, &origin(), &apex_ns(), 2000, 43, false)
            .await
            .unwrap();
        assert_ne!(content(&c.snapshot().await.unwrap()).0, content(&sa).0);

        check_seed_mix(&sa);
        contents.push(content(&sa));
    }
    if contents.len() == 2 {
        assert!(
            contents[0] == contents[1],
            "SQLite and PostgreSQL seeds differ"
        );
    }
}

fn check_seed_mix(s: &Snapshot) {
    let nic = s
        .domains
        .iter()
        .find(|d| d.name == "nic.mobile")
        .expect("nic.mobile");
    assert_eq!(nic.ns, vec!["a.nic.mobile", "b.nic.mobile"]);
    let a = s
        .hosts
        .iter()
        .find(|h| h.name == "a.nic.mobile")
        .expect("a.nic.mobile host");
    assert_eq!(a.addrs, vec!["192.0.2.1", "2001:db8::1"]);
    let n = s.domains.len() as f64;
    let share = |f: &dyn Fn(&tldns::srs::DomainRow) -> bool| {
        s.domains.iter().filter(|d| f(d)).count() as f64 / n
    };
    let in_bailiwick =
        share(&|d| !d.ns.is_empty() && d.ns.iter().all(|h| h.ends_with(&format!(".{}", d.name))));
    assert!(
        (0.55..0.65).contains(&in_bailiwick),
        "in-bailiwick {in_bailiwick}"
    );
    let signed = s.ds.len() as f64 / n;
    assert!((0.12..0.18).contains(&signed), "signed {signed}");
    let held = share(&|d| d.statuses.iter().any(|s| s.ends_with("Hold")));
    assert!(held > 0.003 && held < 0.02, "held {held}");
    assert!(
        s.domains
            .iter()
            .any(|d| d.statuses.iter().any(|s| s == "pendingDelete"))
    );
    assert!(s.domains.iter().any(|d| d.name.starts_with("xn--")));
    for d in &s.domains {
        let label = d.name.strip_suffix(".mobile").unwrap();
        assert!(!label.contains('.') && label.len() >= 3, "{}", d.name);
        assert!(!["example", "www", "whois", "rdds"].contains(&label));
    }
    for x in &s.ds {
        assert_eq!((x.algorithm, x.digest_type, x.digest.len()), (13, 2, 64));
    }
}

#[tokio::test]
async fn every_mutation_is_journalled_in_order() {
    for db in databases().await {
        let srs = db.srs().await.unwrap();
        let mut listener = srs.listen().await.unwrap();
        assert_eq!(listener.is_some(), db.url().starts_with("postgres"));
        let mut seen = srs.journal_seq().await.unwrap();
        let ns = vec![
            "ns1.shop.mobile".to_string(),
            "NS.Provider.NET.".to_string(),
        ];
        let digest = "2BB183AF5F22588179A53B0A98631FAD1A292118A0B1C2D3E4F5061728394A5B";

        macro_rules! step {
            ($what:expr, $name:expr, $object:expr) => {{
                $what.await.unwrap();
                let changes = srs.changes_since(seen, 1000).await.unwrap();
                assert!(
                    !changes.is_empty(),
                    "{}: {} wrote no journal entry",
                    db.url(),
                    stringify!($what)
                );
                for w in changes.windows(2) {
                    assert!(w[0].seq < w[1].seq);
                }
                assert!(changes[0].seq > seen);
                assert!(
                    changes
                        .iter()
                        .all(|c| c.name == $name && c.object == $object),
                    "{changes:?}"
                );
                seen = changes.last().unwrap().seq;
                assert_eq!(srs.journal_seq().await.unwrap(), seen);
                assert_eq!(srs.snapshot().await.unwrap().journal_seq, seen);
            }};
        }
        step!(
            srs.add_domain("Shop.Mobile.", &ns),
            "shop.mobile",
            ChangeObject::Domain
        );
        if let Some(l) = listener.as_mut() {
            let announced = tokio::time::timeout(std::time::Duration::from_secs(5), l.wait())
                .await
                .unwrap()
                .unwrap();
            assert!(announced >= 1 && announced <= seen, "{announced} {seen}");
        }
        let addrs: Vec<IpAddr> = vec![
            "198.51.100.7".parse().unwrap(),
            "2001:db8::7".parse().unwrap(),
        ];
        step!(
            srs.add_host("ns1.shop.mobile", &addrs),
            "ns1.shop.mobile",
            ChangeObject::Host
        );
        step!(
            srs.add_ds("shop.mobile", 12345, 13, 2, digest),
            "shop.mobile",
            ChangeObject::Domain
        );
        step!(srs.hold("shop.mobile"), "shop.mobile", ChangeObject::Domain);
        step!(
            srs.unhold("shop.mobile"),
            "shop.mobile",
            ChangeObject::Domain
        );
        step!(
            srs.set_ns("shop.mobile", &["ns2.shop.mobile".to_string()]),
            "shop.mobile",
            ChangeObject::Domain
        );

        let s = srs.snapshot().await.unwrap();
        let d = &s.domains[0];
        assert_eq!(
            (d.name.as_str(), &d.ns, &d.statuses),
            ("shop.mobile", &vec!["ns2.shop.mobile".to_string()], &vec![])
        );
        assert_eq!(s.ds[0].digest, digest.to_ascii_lowercase());
        assert_eq!(s.hosts[0].addrs, vec!["198.51.100.7", "2001:db8::7"]);
        assert_eq!(srs.list(true, None).await.unwrap(), vec!["shop.mobile"]);

        step!(
            srs.remove_ds("shop.mobile", 12345),
            "shop.mobile",
            ChangeObject::Domain
        );
        assert_eq!(srs.remove_ds("shop.mobile", 12345).await.unwrap(), 0);
        assert!(srs.list(true, None).await.unwrap().is_empty());
        step!(
            srs.remove_domain("shop.mobile"),
            "shop.mobile",
            ChangeObject::Domain
        );
        step!(
            srs.remove_host("ns1.shop.mobile"),
            "ns1.shop.mobile",
            ChangeObject::Host
        );
        assert_eq!(srs.snapshot().await.unwrap().domains, vec![]);

        // The whole history, in order, from the start.
        let all = srs.changes_since(0, 10_000).await.unwrap();
        assert_eq!(all.last().unwrap().seq, seen);
        assert_eq!(
            srs.prune_journal(seen - 1).await.unwrap() as usize,
            all.len() - 1
        );
        assert_eq!(srs.changes_since(0, 10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn mutation_errors_name_the_object() {
    for db in databases().await {
        let srs = db.srs().await.unwrap();
        srs.add_domain("a-b.mobile", &[]).await.unwrap();
        let e = srs.add_domain("A-B.mobile.", &[]).await.unwrap_err();
        assert!(
            matches!(
                e,
                SrsError::Exists {
                    table: "domain",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("a-b.mobile"), "{e}");
        let e = srs.remove_domain("nope.mobile").await.unwrap_err();
        assert!(
            matches!(
                e,
                SrsError::NotFound {
                    table: "domain",
                    ..
                }
            ) && e.to_string().contains("nope.mobile"),
            "{e}"
        );
        let e = srs.add_ds("a-b.mobile", 1, 13, 2, "xyz").await.unwrap_err();
        assert!(matches!(e, SrsError::InvalidDigest { .. }), "{e}");
        let e = srs.set_ns("a..b", &[]).await.unwrap_err();
        assert!(matches!(e, SrsError::InvalidName { .. }), "{e}");
    }
}

#[tokio::test]
async fn connect_refuses_unknown_urls() {
    let e = Srs::connect("mysql://localhost/x").await.unwrap_err();
    assert!(matches!(e, SrsError::UnsupportedUrl { .. }), "{e}");
}

const ZONE: &str = "\
$ORIGIN mobile.
$TTL 3600
@ IN SOA a.nic.mobile. hostmaster.nic.mobile. 1 7200 3600 1209600 3600
@ NS a.nic.mobile.
@ NS ns.registry-backend.example.
@ A 192.0.2.53
@ MX 10 mail.mobile.
@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
@ NSEC3PARAM 1 0 0 -
a.nic A 192.0.2.1
*.mobile. 300 A 192.0.2.2
nic NS a.nic
shop NS ns1.shop
shop NS ns.provider.net.
ns1.shop A 198.51.100.7
ns1.shop AAAA 2001:db8::7
shop TXT \"v=spf1 -all\"
shop DS 12345 13 2 2bb183af5f22588179a53b0a98631fad1a292118a0b1c2d3e4f5061728394a5b
shop RRSIG DS 13 2 3600 20300101000000 20240101000000 1 mobile. AAAA
other ( NS
        ns.provider.net. )
";

fn line_of(needle: &str) -> i64 {
    ZONE.lines().position(|l| l.contains(needle)).unwrap() as i64 + 1
}

#[tokio::test]
async fn import_refuses_exhibit_a_violations_and_imports_the_rest() {
    let dir = std::env::temp_dir().join(format!("tldns_import_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mobile.zone");
    std::fs::write(&file, ZONE).unwrap();
    for db in databases().await {
        let srs = db.srs().await.unwrap();
        let r = tldns::srs::import(&srs, &origin(), &file).await.unwrap();
        let refused: BTreeSet<(i64, Rule)> = r.refusals.iter().map(|f| (f.row, f.rule)).collect();
        let want: BTreeSet<(i64, Rule)> = [
            (line_of("@ A 192.0.2.53"), Rule::ApexRecord),
            (line_of("@ MX"), Rule::ApexRecord),
            (line_of("*.mobile."), Rule::Wildcard),
            (line_of("shop TXT"), Rule::ExhibitAType),
        ]
        .into();
        assert_eq!(refused, want, "{:#?}", r.refusals);
        assert!(r.refusals.iter().all(|f| f.table == "zonefile"));
        assert_eq!(r.records, 18);
        assert_eq!(r.dnssec_skipped, 3);
        assert_eq!(r.apex_skipped, 3);
        assert_eq!(r.delegations, 3);

        let s = srs.snapshot().await.unwrap();
        let (domains, hosts) = content(&s);
        assert_eq!(
            domains,
            vec![
                (
                    "nic.mobile".to_string(),
                    vec![],
                    vec!["a.nic.mobile".to_string()],
                    vec![]
                ),
                (
                    "other.mobile".to_string(),
                    vec![],
                    vec!["ns.provider.net".to_string()],
                    vec![]
                ),
                (
                    "shop.mobile".to_string(),
                    vec![],
                    vec!["ns.provider.net".to_string(), "ns1.shop.mobile".to_string()],
                    vec![(
                        12345,
                        13,
                        2,
                        "2bb183af5f22588179a53b0a98631fad1a292118a0b1c2d3e4f5061728394a5b"
                            .to_string()
                    )]
                ),
            ]
        );
        assert_eq!(
            hosts,
            vec![
                ("a.nic.mobile".to_string(), vec!["192.0.2.1".to_string()]),
                (
                    "ns1.shop.mobile".to_string(),
                    vec!["198.51.100.7".to_string(), "2001:db8::7".to_string()]
                ),
            ]
        );
        let seq = s.journal_seq;
        assert!(seq > 0);

        // Importing again adds nothing and journals nothing.
        let again = tldns::srs::import(&srs, &origin(), &file).await.unwrap();
        assert_eq!(again.inserted, Default::default());
        assert_eq!(srs.journal_seq().await.unwrap(), seq);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn import_errors_name_file_and_line() {
    let dir = std::env::temp_dir().join(format!("tldns_import_err_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.zone");
    std::fs::write(&file, "$TTL 60\nshop NS ns1.shop\nns1.shop A 300.1.1.1\n").unwrap();
    let db = TestDb::sqlite();
    let srs = db.srs().await.unwrap();
    let e = tldns::srs::import(&srs, &origin(), &file)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.zone:3:") && e.contains("300.1.1.1"), "{e}");
    assert!(
        srs.snapshot().await.unwrap().domains.is_empty(),
        "nothing is written on error"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// PostgreSQL hands out journal sequence numbers under the counter row's
/// lock, so concurrent writers commit them in order: a reader polling
/// meanwhile never sees N+1 before N (no rollbacks here, so no gaps).
#[tokio::test]
async fn concurrent_writers_commit_journal_in_order() {
    for db in databases().await {
        let srs = db.srs().await.unwrap();
        let writers: Vec<_> = (0..6)
            .map(|w| {
                let srs = srs.clone();
                tokio::spawn(async move {
                    for i in 0..25 {
                        let name = format!("w{w}-d{i}.mobile");
                        srs.add_domain(&name, &[format!("ns1.{name}"), "ns.provider.net".into()])
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        let reader = {
            let srs = srs.clone();
            tokio::spawn(async move {
                let mut last = 0;
                while last < 6 * 25 * 3 {
                    for c in srs.changes_since(last, 1000).await.unwrap() {
                        assert_eq!(c.seq, last + 1, "journal seen out of order");
                        last = c.seq;
                    }
                    tokio::task::yield_now().await;
                }
            })
        };
        for w in writers {
            w.await.unwrap();
        }
        tokio::time::timeout(std::time::Duration::from_secs(30), reader)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            srs.snapshot().await.unwrap().domains.len(),
            150,
            "{}",
            db.url()
        );
    }
}

/// Scale check (not part of the normal run): 1,000,000 seeded domains in
/// SQLite. `cargo test --release --test srs -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn seed_and_snapshot_one_million_sqlite() {
    let db = TestDb::sqlite();
    let srs = db.srs().await.unwrap();
    let t = std::time::Instant::now();
    let n = tldns::srs::seed(&srs, &origin(), &apex_ns(), 1_000_000, 1, false)
        .await
        .unwrap();
    eprintln!("seed: {:?} for {n:?}", t.elapsed());
    let t = std::time::Instant::now();
    let s = srs.snapshot().await.unwrap();
    eprintln!(
        "snapshot: {:?} for {} domains, {} hosts, {} DS, journal seq {}",
        t.elapsed(),
        s.domains.len(),
        s.hosts.len(),
        s.ds.len(),
        s.journal_seq
    );
    let t = std::time::Instant::now();
    let l = srs.list(true, None).await.unwrap();
    eprintln!("list --with-ds: {:?} for {}", t.elapsed(), l.len());
}
