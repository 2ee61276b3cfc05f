//! Micro-benchmarks of the query path: `answer()` for each kind of query,
//! a receive batch answered with and without the warm pass, the NSEC3 hash
//! of a next-closer name, and the delegation lookup, on an
//! in-memory TLD of 100,000 delegations (about 15% with DS) signed with
//! NSEC3 by the test keys in `keys/test/ecdsa`.
//!
//! `cargo bench --bench answer`; `TLDNS_BENCH_DELEGATIONS=N` changes the size.
//! Each iteration asks the next of 4,096 different names, so the numbers
//! include the cache misses a large zone causes, not one hot entry.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use tldns::config::DnssecConfig;
use tldns::dnssec::keys::KeyDir;
use tldns::dnssec::signer::{SignParams, sign_zone};
use tldns::index::{Index, Options, nsec3_hash_wire};
use tldns::name::Name;
use tldns::rr::{Ds, Soa, rtype};
use tldns::server::answer::{Transport, answer};
use tldns::zone::{Content, Delegation, Glue, Ttls, Zone};

const NAMES: usize = 4096;

/// xorshift64: the same zone and queries every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn label(&mut self, min: usize, max: usize) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let len = min + (self.next() as usize) % (max - min + 1);
        (0..len)
            .map(|_| A[(self.next() as usize) % A.len()] as char)
            .collect()
    }
}

fn n(s: &str) -> Name {
    Name::parse(s).expect("benchmark names are valid")
}

/// A TLD like the seeded one: most delegations share a few hosting
/// providers' NS sets, some have in-zone name servers with glue, ~15% DS.
fn zone(delegations: usize) -> (Zone, Vec<String>, Vec<String>) {
    let mut rng = Rng(0x5eed);
    let mut c = Content::default();
    let providers: Vec<Arc<[Name]>> = (0..50)
        .map(|i| {
            vec![
                n(&format!("ns1.host{i}.net.")),
                n(&format!("ns2.host{i}.net.")),
            ]
            .into()
        })
        .collect();
    c.delegations.insert(
        n("nic.mobile."),
        Delegation {
            ns: vec![n("a.nic.mobile."), n("b.nic.mobile.")].into(),
            ds: vec![],
        },
    );
    for (h, ip) in [
        ("a.nic.mobile.", "192.0.2.1"),
        ("b.nic.mobile.", "192.0.2.2"),
    ] {
        c.glue
            .entry(n(h))
            .or_insert_with(Glue::default)
            .push(ip.parse().unwrap());
    }
    let (mut plain, mut with_ds) = (Vec::new(), Vec::new());
    while c.delegations.len() < delegations {
        let label = rng.label(3, 16);
        let name = format!("{label}.mobile.");
        let owner = n(&name);
        if c.delegations.contains_key(&owner) {
            continue;
        }
        let r = rng.next() % 100;
        let ns: Arc<[Name]> = if r < 20 {
            let (a, b) = (format!("ns1.{name}"), format!("ns2.{name}"));
            let mut g = Glue::default();
            g.push(format!("192.0.2.{}", r + 1).parse().unwrap());
            c.glue.insert(n(&a), g.clone());
            g.push(format!("2001:db8::{r:x}").parse().unwrap());
            c.glue.insert(n(&b), g);
            vec![n(&a), n(&b)].into()
        } else {
            providers[(rng.next() as usize) % providers.len()].clone()
        };
        let ds = if rng.next() % 100 < 15 {
            with_ds.push(name.clone());
            let digest = (0..32).map(|_| rng.next() as u8).collect();
            vec![Ds {
                key_tag: rng.next() as u16,
                algorithm: 13,
                digest_type: 2,
                digest,
            }]
        } else {
            plain.push(name.clone());
            vec![]
        };
        c.delegations.insert(owner, Delegation { ns, ds });
    }
    let z = Zone {
        origin: n("mobile."),
        soa: Soa {
            mname: n("a.nic.mobile."),
            rname: n("hostmaster.nic.mobile."),
            serial: 1,
            refresh: 1800,
            retry: 900,
            expire: 1_209_600,
            minimum: 900,
        },
        apex_ns: vec![n("a.nic.mobile."), n("b.nic.mobile.")],
        ttl: Ttls {
            soa: 3600,
            ns: 172_800,
            ds: 86_400,
            glue: 172_800,
            dnskey: 3600,
            nsec3: 900,
        },
        content: c,
    };
    (z, plain, with_ds)
}

/// A query as a resolver sends it: RD clear, EDNS(0) with 1232 octets.
fn query(name: &str, qtype: u16, dnssec_ok: bool) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
    for l in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q.extend_from_slice(&[
        0,
        0,
        41,
        0x04,
        0xD0,
        0,
        0,
        if dnssec_ok { 0x80 } else { 0 },
        0,
        0,
        0,
    ]);
    q
}

fn index(delegations: usize) -> (Index, Vec<String>, Vec<String>) {
    let (z, plain, with_ds) = zone(delegations);
    let keys = KeyDir::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/test/ecdsa"),
        &z.origin,
    )
    .expect("test keys load");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as u32;
    let params = SignParams::from_config(&DnssecConfig::default(), &[]);
    let t = std::time::Instant::now();
    let signed = sign_zone(&z, &keys, &params, now).expect("zone signs");
    let ix = Index::build(
        &signed,
        Options {
            edns_max_payload: 1232,
            nsid: None,
            identity: None,
        },
    );
    eprintln!(
        "{} delegations ({} with DS) signed and indexed in {:.1} s",
        ix.len(),
        with_ds.len(),
        t.elapsed().as_secs_f64()
    );
    (ix, plain, with_ds)
}

fn benches(c: &mut Criterion) {
    let size = std::env::var("TLDNS_BENCH_DELEGATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let (ix, plain, with_ds) = index(size);
    let mut rng = Rng(42);
    let pick = |v: &[String], rng: &mut Rng| v[(rng.next() as usize) % v.len()].clone();
    let mut kinds: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    let mut all = Vec::new();
    all.extend(plain.iter().cloned());
    all.extend(with_ds.iter().cloned());
    let set = |f: &mut dyn FnMut(&mut Rng) -> Vec<u8>, rng: &mut Rng| {
        (0..NAMES).map(|_| f(rng)).collect::<Vec<_>>()
    };
    kinds.push((
        "referral, DO clear",
        set(&mut |r| query(&pick(&all, r), rtype::A, false), &mut rng),
    ));
    kinds.push((
        "referral, DO set",
        set(&mut |r| query(&pick(&all, r), rtype::A, true), &mut rng),
    ));
    kinds.push((
        "NXDOMAIN, DO set",
        set(
            &mut |r| query(&format!("{}-nx.mobile.", r.label(4, 14)), rtype::A, true),
            &mut rng,
        ),
    ));
    kinds.push(("apex SOA, DO set", vec![query("mobile.", rtype::SOA, true)]));
    kinds.push((
        "DS (signed delegation), DO set",
        set(
            &mut |r| query(&pick(&with_ds, r), rtype::DS, true),
            &mut rng,
        ),
    ));
    let mut out = vec![0u8; 65_535];
    let mut g = c.benchmark_group("answer");
    g.throughput(Throughput::Elements(1));
    for (kind, qs) in &kinds {
        // Every query gets an answer; a panic here means the bench is wrong.
        for q in qs {
            answer(&ix, q, Transport::Udp, &mut out).expect("every query is answered");
        }
        let mut i = 0;
        g.bench_function(*kind, |b| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                black_box(answer(&ix, black_box(&qs[i]), Transport::Udp, &mut out))
            })
        });
    }
    g.finish();

    // A receive batch of 32 referrals with DO, as a UDP worker answers it:
    // with the warm pass first (what the server does) and without.
    let referrals = &kinds[1].1;
    let mut g = c.benchmark_group("batch of 32 referrals, DO set");
    g.throughput(Throughput::Elements(32));
    for warmed in [false, true] {
        let mut i = 0;
        let label = if warmed {
            "warmed (server::warm)"
        } else {
            "not warmed"
        };
        g.bench_function(label, |b| {
            b.iter(|| {
                i = (i + 32) % (referrals.len() - 32);
                let batch: Vec<&[u8]> = referrals[i..i + 32].iter().map(Vec::as_slice).collect();
                if warmed {
                    tldns::server::warm::batch(&ix, &batch);
                }
                for q in &batch {
                    black_box(answer(&ix, q, Transport::Udp, &mut out));
                }
            })
        });
    }
    g.finish();

    let nsec3 = ix.nsec3.as_ref().expect("signed with NSEC3");
    let names: Vec<Vec<u8>> = (0..NAMES)
        .map(|_| n(&format!("{}.mobile.", rng.label(4, 14))).wire().to_vec())
        .collect();
    let mut g = c.benchmark_group("nsec3");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("nsec3_hash_wire (0 iterations, no salt)", |b| {
        b.iter(|| {
            i = (i + 1) % names.len();
            black_box(nsec3_hash_wire(
                black_box(&names[i]),
                &nsec3.salt,
                nsec3.iterations,
            ))
        })
    });
    let hashes: Vec<[u8; 20]> = names.iter().map(|w| nsec3_hash_wire(w, &[], 0)).collect();
    g.bench_function("chain search (Nsec3Index::find)", |b| {
        b.iter(|| {
            i = (i + 1) % hashes.len();
            black_box(nsec3.find(black_box(&hashes[i])))
        })
    });
    g.finish();

    let labels: Vec<Vec<u8>> = (0..NAMES)
        .map(|_| {
            pick(&all, &mut rng)
                .split('.')
                .next()
                .unwrap()
                .as_bytes()
                .to_vec()
        })
        .collect();
    let missing: Vec<Vec<u8>> = (0..NAMES)
        .map(|_| format!("{}-nx", rng.label(4, 14)).into_bytes())
        .collect();
    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(1));
    g.bench_function("Index::delegation, present", |b| {
        b.iter(|| {
            i = (i + 1) % labels.len();
            black_box(ix.delegation(black_box(&labels[i])).is_some())
        })
    });
    g.bench_function("Index::delegation, absent", |b| {
        b.iter(|| {
            i = (i + 1) % missing.len();
            black_box(ix.delegation(black_box(&missing[i])).is_some())
        })
    });
    g.finish();
}

criterion_group! {
    name = answer_benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(answer_benches);
