//! The same SRS content in SQLite and in PostgreSQL yields identical answers.

mod common;
use common::testdb::TestDb;
use common::*;
use tldns::config::Config;
use tldns::index::{Index, Options};
use tldns::policy::{self, Lists};
use tldns::server::answer::{Transport, answer};
use tldns::srs::Srs;
use tldns::zone::{SignedZone, assemble};

async fn build(url: &str, cfg: &Config) -> (SignedZone, Vec<String>) {
    let srs = Srs::connect(url).await.unwrap();
    srs.init().await.unwrap();
    tldns::srs::seed(&srs, &cfg.origin, &cfg.apex_ns, 2_000, 7, false)
        .await
        .unwrap();
    // A few changes through the journal as well, so both paths are covered.
    srs.add_host(
        "ns1.zz-backend-test.mobile",
        &["192.0.2.99".parse().unwrap()],
    )
    .await
    .unwrap();
    srs.add_domain(
        "zz-backend-test.mobile",
        &["ns1.zz-backend-test.mobile".into()],
    )
    .await
    .unwrap();
    srs.add_ds("zz-backend-test.mobile", 4242, 13, 2, &"ab".repeat(32))
        .await
        .unwrap();
    let snap = srs.snapshot().await.unwrap();
    let (content, _report) = policy::apply(&snap, cfg, &Lists::load(cfg).unwrap()).unwrap();
    let names = srs.list(false, None).await.unwrap();
    (
        SignedZone {
            zone: assemble(cfg, content, 1),
            dnssec: None,
        },
        names,
    )
}

fn query(id: u16, name: &str, qtype: u16, dnssec: bool) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    for l in name.split('.').filter(|l| !l.is_empty()) {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[
        0,
        1,
        0,
        0,
        41,
        4,
        0xd0,
        0,
        0,
        if dnssec { 0x80 } else { 0 },
        0,
        0,
        0,
    ]);
    q
}

#[tokio::test]
async fn sqlite_and_postgresql_give_identical_answers() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let lite = TestDb::sqlite();
    let dir = TempDir::new("backends");
    let cfg = Config::load(&write_config(dir.path(), 5353, false, "")).unwrap();
    let (a, names_a) = build(lite.url(), &cfg).await;
    let (b, names_b) = build(pg.url(), &cfg).await;
    assert_eq!(names_a, names_b);
    assert!(a.zone.content.delegations.len() > 1_500);
    assert_eq!(a, b, "zone models differ");

    let ia = Index::build(
        &a,
        Options {
            edns_max_payload: 1232,
            ..Default::default()
        },
    );
    let ib = Index::build(
        &b,
        Options {
            edns_max_payload: 1232,
            ..Default::default()
        },
    );
    let (mut oa, mut ob) = (vec![0u8; 65535], vec![0u8; 65535]);
    let mut asked = 0;
    let extra = [
        "mobile",
        "nope-not-there.mobile",
        "www.nic.mobile",
        "example.com",
    ];
    for (i, name) in names_a.iter().map(String::as_str).chain(extra).enumerate() {
        for qtype in [1u16, 2, 6, 28, 43, 48] {
            for dnssec in [false, true] {
                let q = query(i as u16, name, qtype, dnssec);
                let ra = answer(&ia, &q, Transport::Udp, &mut oa).unwrap();
                let rb = answer(&ib, &q, Transport::Udp, &mut ob).unwrap();
                assert_eq!(&oa[..ra.len], &ob[..rb.len], "{name} type {qtype}");
                asked += 1;
            }
        }
    }
    assert!(asked > 20_000);
}
