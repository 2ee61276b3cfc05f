//! Planted bad rows, each refused by its rule; the rest published exactly.

use super::*;
use crate::srs::{DsRow, HostRow};
use std::path::Path;

const CONFIG: &str = r#"
version = 1
origin = "mobile."
[soa]
mname = "a.nic.mobile."
rname = "hostmaster.nic.mobile."
refresh = 7200
retry = 3600
expire = 1209600
minimum = 3600
[[apex-ns]]
name = "a.nic.mobile."
addresses = ["192.0.2.53", "2001:db8::53"]
[[apex-ns]]
name = "b.ns.example.net."
"#;

fn config() -> Config {
    Config::parse(Path::new("tldns.toml"), CONFIG).unwrap()
}

fn lists() -> Lists {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Lists {
        reserved: set(&["www", "rdds", "whois"]),
        collision: set(&["corp", "home"]),
    }
}

fn dom(id: i64, name: &str, statuses: &[&str], ns: &[&str]) -> DomainRow {
    DomainRow {
        id,
        name: name.to_string(),
        statuses: statuses.iter().map(|s| s.to_string()).collect(),
        ns: ns.iter().map(|s| s.to_string()).collect(),
    }
}

fn host(id: i64, name: &str, addrs: &[&str]) -> HostRow {
    HostRow {
        id,
        name: name.to_string(),
        addrs: addrs.iter().map(|s| s.to_string()).collect(),
    }
}

fn ds(
    id: i64,
    domain_id: i64,
    key_tag: i64,
    algorithm: i64,
    digest_type: i64,
    len: usize,
) -> DsRow {
    DsRow {
        id,
        domain_id,
        key_tag,
        algorithm,
        digest_type,
        digest: "ab".repeat(len),
    }
}

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

const EXT: &[&str] = &["ns1.example.net", "ns2.example.net"];

fn planted() -> Snapshot {
    Snapshot {
        domains: vec![
            dom(1, "nic.mobile.", &["ok"], &["a.nic.mobile", "b.nic.mobile"]),
            dom(2, "ab.mobile", &[], EXT),
            dom(3, "corp.mobile", &[], EXT),
            dom(4, "example.mobile", &[], EXT),
            dom(5, "*.mobile", &[], EXT),
            dom(6, "held1.mobile", &["clientHold"], EXT),
            dom(7, "held2.mobile", &["SERVERHOLD"], EXT),
            dom(8, "ab--cd.mobile", &[], EXT),
            dom(9, "xn--abc-.mobile", &[], EXT),
            dom(10, "xn--ecole-6ed.mobile", &[], EXT),
            dom(
                11,
                "xn--bcher-kva.mobile",
                &[],
                &["ns2.example.net", "ns1.example.net"],
            ),
            dom(12, "empty.mobile", &[], &[]),
            dom(
                13,
                "shop.mobile",
                &[],
                &["ns.shop.mobile", "ns2.example.net", "ns1.example.net"],
            ),
            dom(
                14,
                "Books.Mobile.",
                &[],
                &["NS1.example.net.", "ns2.example.net", "ns1.EXAMPLE.net"],
            ),
            dom(15, "books.mobile", &[], EXT),
            dom(16, "foo.bar.mobile", &[], EXT),
            dom(17, "other.tld", &[], EXT),
            dom(18, "www.mobile", &[], EXT),
            dom(
                19,
                "badns.mobile",
                &[],
                &["bad_host.example.net", "ns1.example.net"],
            ),
            dom(20, "allbad.mobile", &[], &["-x.example.net"]),
            dom(21, "gone.mobile", &["pendingDelete"], &["ns.gone.mobile"]),
            dom(22, "quiet.mobile", &["inactive"], EXT),
            dom(
                23,
                "a-b.mobile",
                &["clientTransferProhibited"],
                &["ns2.shop.mobile"],
            ),
        ],
        hosts: vec![
            host(1, "a.nic.mobile", &["192.0.2.99"]),
            host(2, "ns.shop.mobile", &["192.0.2.1", "2001:db8::1"]),
            host(3, "ns1.example.net", &["198.51.100.1"]),
            host(4, "ns9.example.org", &["198.51.100.9"]),
            host(5, "orphan.shop.mobile", &["192.0.2.7"]),
            host(6, "ns.gone.mobile", &["192.0.2.8"]),
            host(7, "ns2.shop.mobile", &["192.0.2.300", " 192.0.2.2"]),
            host(8, "mobile.", &["192.0.2.10"]),
            host(9, "b.nic.mobile", &[]),
        ],
        ds: vec![
            ds(1, 13, 12345, 13, 2, 32),
            ds(2, 13, 12345, 13, 2, 31),
            ds(3, 6, 1, 13, 2, 32),
            ds(4, 13, 2, 5, 2, 32),
            ds(5, 13, 3, 13, 3, 32),
            ds(6, 13, 12345, 13, 2, 32),
            ds(7, 11, 70000, 13, 4, 48),
            ds(8, 11, 4, 8, 1, 20),
            ds(9, 999, 5, 13, 2, 32),
            DsRow {
                id: 10,
                domain_id: 13,
                key_tag: 6,
                algorithm: 13,
                digest_type: 2,
                digest: "zz".into(),
            },
            DsRow {
                id: 11,
                domain_id: 11,
                key_tag: 7,
                algorithm: 15,
                digest_type: 4,
                digest: "AB ".repeat(48),
            },
        ],
        journal_seq: 42,
    }
}

#[test]
fn planted_rows_refused_by_rule_rest_published_exactly() {
    let (content, report) = apply(&planted(), &config(), &lists()).unwrap();

    let got: Vec<(&str, i64, Rule)> = report
        .refused
        .iter()
        .map(|r| (r.table, r.row, r.rule))
        .collect();
    let want = vec![
        ("domain", 2, Rule::Reserved),
        ("domain", 3, Rule::Collision),
        ("domain", 4, Rule::Reserved),
        ("domain", 5, Rule::Wildcard),
        ("domain", 6, Rule::Held),
        ("domain", 7, Rule::Held),
        ("domain", 8, Rule::HyphenPosition),
        ("domain", 9, Rule::InvalidIdn),
        ("domain", 10, Rule::InvalidIdn),
        ("domain", 12, Rule::NoNameServers),
        ("domain", 15, Rule::Duplicate),
        ("domain", 16, Rule::NotSecondLevel),
        ("domain", 17, Rule::NotSecondLevel),
        ("domain", 18, Rule::Reserved),
        ("domain", 19, Rule::InvalidNameServer),
        ("domain", 20, Rule::InvalidNameServer),
        ("domain", 20, Rule::NoNameServers),
        ("domain", 21, Rule::Held),
        ("domain", 22, Rule::Held),
        ("host", 3, Rule::OutOfBailiwickGlue),
        ("host", 5, Rule::OrphanGlue),
        ("host", 6, Rule::GlueWithoutDelegation),
        ("host", 7, Rule::InvalidAddress),
        ("host", 8, Rule::ApexRecord),
        ("ds", 2, Rule::DsDigest),
        ("ds", 3, Rule::DsWithoutDelegation),
        ("ds", 4, Rule::DsAlgorithm),
        ("ds", 5, Rule::DsDigestType),
        ("ds", 7, Rule::DsKeyTag),
        ("ds", 9, Rule::DsWithoutDelegation),
        ("ds", 10, Rule::DsDigest),
        ("ds", 6, Rule::Duplicate),
    ];
    assert_eq!(got, want, "{}", report.to_json());
    for r in &report.refused {
        assert_eq!(r.section, r.rule.section());
        assert!(!r.detail.is_empty());
    }
    assert_eq!(report.refused[0].name, "ab.mobile");
    assert_eq!(
        report
            .refused_by(Rule::DsWithoutDelegation)
            .next()
            .unwrap()
            .name,
        "held1.mobile"
    );

    // Published delegations, in canonical order, with their NS sets.
    let ext = vec![n("ns1.example.net"), n("ns2.example.net")];
    let want_ns: Vec<(Name, Vec<Name>)> = vec![
        (n("a-b.mobile"), vec![n("ns2.shop.mobile")]),
        (n("badns.mobile"), vec![n("ns1.example.net")]),
        (n("books.mobile"), ext.clone()),
        (n("nic.mobile"), vec![n("a.nic.mobile"), n("b.nic.mobile")]),
        // Canonical order: "mobile" sorts before "net".
        (
            n("shop.mobile"),
            vec![
                n("ns.shop.mobile"),
                n("ns1.example.net"),
                n("ns2.example.net"),
            ],
        ),
        (n("xn--bcher-kva.mobile"), ext.clone()),
    ];
    let got_ns: Vec<(Name, Vec<Name>)> = content
        .delegations
        .iter()
        .map(|(k, d)| (k.clone(), d.ns.to_vec()))
        .collect();
    assert_eq!(got_ns, want_ns);

    // DS: only shop and bücher, sorted, the SHA-1 one accepted.
    let shop = &content.delegations[&n("shop.mobile")];
    assert_eq!(
        shop.ds,
        vec![Ds {
            key_tag: 12345,
            algorithm: 13,
            digest_type: 2,
            digest: vec![0xab; 32]
        }]
    );
    let idn = &content.delegations[&n("xn--bcher-kva.mobile")];
    assert_eq!(
        idn.ds,
        vec![
            Ds {
                key_tag: 4,
                algorithm: 8,
                digest_type: 1,
                digest: vec![0xab; 20]
            },
            Ds {
                key_tag: 7,
                algorithm: 15,
                digest_type: 4,
                digest: vec![0xab; 48]
            },
        ]
    );
    let ds_count: usize = content.delegations.values().map(|d| d.ds.len()).sum();
    assert_eq!(ds_count, 3);

    // Glue: the apex's from the configuration, the rest from host rows.
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let glue = |addrs: &[&str]| {
        let mut g = Glue::default();
        for a in addrs {
            g.push(ip(a));
        }
        g
    };
    let want_glue: crate::zone::Map<Name, Glue> = [
        (n("a.nic.mobile"), glue(&["192.0.2.53", "2001:db8::53"])),
        (n("ns.shop.mobile"), glue(&["192.0.2.1", "2001:db8::1"])),
        (n("ns2.shop.mobile"), glue(&["192.0.2.2"])),
    ]
    .into_iter()
    .collect();
    assert_eq!(content.glue, want_glue);

    let c = &report.counts;
    assert_eq!(
        (c.domains_seen, c.domains_published, c.domains_refused),
        (23, 6, 17)
    );
    assert_eq!((c.ds_seen, c.ds_published, c.ds_refused), (11, 3, 8));
    assert_eq!(
        (c.hosts_seen, c.glue_hosts, c.glue_a, c.glue_aaaa),
        (9, 3, 3, 2)
    );
    assert_eq!(c.ns_sets, 5);
    assert_eq!(c.by_rule["held"], 4);
    assert_eq!(c.by_rule.values().sum::<usize>(), report.refused.len());
}

#[test]
fn identical_ns_sets_are_shared() {
    let (content, _) = apply(&planted(), &config(), &lists()).unwrap();
    let books = &content.delegations[&n("books.mobile")].ns;
    let idn = &content.delegations[&n("xn--bcher-kva.mobile")].ns;
    assert!(Arc::ptr_eq(books, idn));
    let shop = &content.delegations[&n("shop.mobile")].ns;
    assert!(!Arc::ptr_eq(books, shop));
}

#[test]
fn spec5_section_3_1_nic_missing_is_a_build_error() {
    let mut s = planted();
    s.domains.retain(|d| d.id != 1);
    let e = apply(&s, &config(), &lists()).unwrap_err();
    assert!(
        matches!(&e, PolicyError::NicMissing { name, .. } if *name == n("nic.mobile")),
        "{e}"
    );

    let mut s = planted();
    s.domains[0].statuses = vec!["serverHold".into()];
    let e = apply(&s, &config(), &lists()).unwrap_err().to_string();
    assert!(e.contains("held") && e.contains("serverHold"), "{e}");
}

#[test]
fn spec5_section_3_1_nic_beats_the_lists() {
    let mut l = lists();
    l.reserved.insert("nic".into());
    l.collision.insert("nic".into());
    let (content, _) = apply(&planted(), &config(), &l).unwrap();
    assert!(content.delegations.contains_key(&n("nic.mobile")));
}

#[test]
fn apex_glue_below_an_unpublished_name_is_a_build_error() {
    let text = CONFIG
        .replace("b.ns.example.net.", "ns.other.mobile.")
        .replace(
            "[[apex-ns]]\nname = \"ns.other.mobile.\"",
            "[[apex-ns]]\nname = \"ns.other.mobile.\"\naddresses = [\"192.0.2.54\"]",
        );
    let c = Config::parse(Path::new("tldns.toml"), &text).unwrap();
    let e = apply(&planted(), &c, &lists()).unwrap_err();
    assert!(
        matches!(e, PolicyError::ApexGlueWithoutDelegation { .. }),
        "{e}"
    );
}

#[test]
fn report_json() {
    let (_, report) = apply(&planted(), &config(), &lists()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(v["counts"]["domains_published"], 6);
    assert_eq!(v["counts"]["by_rule"]["invalid-idn"], 2);
    assert_eq!(v["refused"][0]["rule"], "reserved");
    assert_eq!(v["refused"][0]["section"], "Spec 5");
    assert_eq!(v["refused"][0]["table"], "domain");
    let path =
        std::env::temp_dir().join(format!("tldns-policy-report-{}.json", std::process::id()));
    report.write_json(&path).unwrap();
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(back, v);
}

/// Scale check: `cargo test --release --lib policy -- --ignored --nocapture`.
#[test]
#[ignore]
fn one_million_domains() {
    let count = 1_000_000;
    let mut s = Snapshot::default();
    s.domains.push(dom(0, "nic.mobile", &[], &["a.nic.mobile"]));
    for i in 1..=count {
        let ns = [
            format!("ns1.dns{}.example.net", i % 5000),
            format!("ns2.dns{}.example.net", i % 5000),
        ];
        s.domains.push(DomainRow {
            id: i,
            name: format!("name{i}.mobile"),
            statuses: if i % 50 == 0 {
                vec!["clientHold".into()]
            } else {
                vec![]
            },
            ns: ns.to_vec(),
        });
        if i % 10 == 0 {
            s.ds.push(ds(i, i, 1, 13, 2, 32));
        }
        if i % 100 == 1 {
            // Orphans: no delegation uses them.
            s.hosts
                .push(host(i, &format!("ns.name{i}.mobile"), &["192.0.2.1"]));
        }
    }
    let t = std::time::Instant::now();
    let (content, report) = apply(&s, &config(), &lists()).unwrap();
    let took = t.elapsed();
    eprintln!("{count} domains in {took:?}: {:?}", report.counts);
    assert_eq!(
        content.delegations.len(),
        count as usize + 1 - count as usize / 50
    );
    assert_eq!(report.counts.by_rule["orphan-glue"], count as usize / 100);
    assert!(took.as_secs() < 10, "{took:?}");
}

/// `max-ns-per-domain` (default 13): a domain with more name servers is
/// refused and reported by row, name and rule (a referral of thousands of
/// names would not fit a DNS message with working compression); one at
/// the limit is published; the limit is configurable, within 1..=60.
#[test]
fn a_domain_with_more_name_servers_than_the_limit_is_refused() {
    let hosts =
        |k: usize| -> Vec<String> { (0..k).map(|i| format!("ns{i}.example.net")).collect() };
    let (thirteen, fourteen) = (hosts(13), hosts(14));
    let refs = |v: &[String]| -> Vec<String> { v.to_vec() };
    let snap = Snapshot {
        domains: vec![
            dom(1, "nic.mobile.", &["ok"], &["a.nic.mobile", "b.nic.mobile"]),
            DomainRow {
                ns: refs(&thirteen),
                ..dom(2, "thirteen.mobile", &[], &[])
            },
            DomainRow {
                ns: refs(&fourteen),
                ..dom(3, "fourteen.mobile", &[], &[])
            },
        ],
        hosts: vec![
            host(1, "a.nic.mobile", &["192.0.2.1"]),
            host(2, "b.nic.mobile", &["192.0.2.2"]),
        ],
        ds: vec![],
        journal_seq: 1,
    };
    let (content, report) = apply(&snap, &config(), &lists()).unwrap();
    assert!(content.delegations.contains_key(&n("thirteen.mobile")));
    assert!(!content.delegations.contains_key(&n("fourteen.mobile")));
    let r: Vec<_> = report
        .refused
        .iter()
        .map(|r| (r.row, r.rule, r.detail.clone()))
        .collect();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].0, r[0].1), (3, Rule::TooManyNameServers));
    assert!(r[0].2.contains("14 name servers"), "{r:?}");

    let more = format!("{CONFIG}\n[policy]\nmax-ns-per-domain = 20\n");
    let c = Config::parse(Path::new("tldns.toml"), &more).unwrap();
    let (content, _) = apply(&snap, &c, &lists()).unwrap();
    assert!(content.delegations.contains_key(&n("fourteen.mobile")));
    for bad in ["0", "61"] {
        let text = format!("{CONFIG}\n[policy]\nmax-ns-per-domain = {bad}\n");
        let e = Config::parse(Path::new("tldns.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("max-ns-per-domain"), "{e}");
    }
}
