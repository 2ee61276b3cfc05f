//! Deterministic synthetic registrations, for tests, benchmarks and demos.
//!
//! The same `n` and `seed` give the same rows, on any machine and either
//! database: the generator is a local splitmix64, not a crate whose stream
//! may change between versions. The mix imitates a real gTLD: pseudo-word
//! LDH labels (some with digits or a hyphen, a few IDNs), about 60% of the
//! domains on in-bailiwick name servers with IPv4 and IPv6 glue, the rest
//! on shared hosting name servers, about 15% signed (DS, algorithm 13,
//! SHA-256), about 1% on hold, some pending deletion, some inactive.

use super::batch::{Batch, Inserted, NewDomain, NewDs, NewHost};
use super::{Srs, SrsError, name_to_stored};
use crate::name::Name;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Domains per transaction.
const CHUNK: usize = 10_000;

/// Spec 5 names never generated (nic is registered on purpose).
const RESERVED: &[&str] = &["example", "www", "whois", "rdds", "nic"];

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed forever.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: usize) -> bool {
        self.below(1000) < per_mille
    }
}

const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
    "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sh", "sk", "sl", "sp", "st", "str",
    "th", "tr", "ch", "qu",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ee", "oo", "ou", "y",
];
const CODAS: &[&str] = &[
    "", "", "", "", "n", "r", "s", "t", "l", "m", "x", "ck", "nd", "st", "ng",
];
const COMMON: &[&str] = &[
    "shop", "app", "cloud", "net", "tech", "web", "go", "my", "get", "best", "pro", "hub", "lab",
    "mobile", "store", "life", "home", "data", "smart", "fit", "travel", "media", "games", "photo",
    "music", "news", "food", "art",
];
/// Letters with diacritics for IDN labels; the A-label comes from the idna crate.
const ACCENTED: &[&str] = &["ä", "ö", "ü", "é", "è", "ñ", "ç", "å", "ø"];

fn word(rng: &mut SplitMix64) -> String {
    let syllables = 1 + rng.below(3);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(rng.pick(ONSETS));
        w.push_str(rng.pick(VOWELS));
        w.push_str(rng.pick(CODAS));
    }
    w
}

fn digits(rng: &mut SplitMix64) -> String {
    let n = rng.below(3) + 1;
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

/// A valid IDNA2008 A-label made from a pseudo-word with one accented letter.
fn idn_label(rng: &mut SplitMix64) -> Option<String> {
    let w = word(rng);
    let pos = w.find(['a', 'e', 'o', 'u'])?;
    let u = format!("{}{}{}", &w[..pos], rng.pick(ACCENTED), &w[pos + 1..]);
    let a = idna::domain_to_ascii(&u).ok()?;
    (a.starts_with("xn--") && a.len() <= 63 && !a.contains('.')).then_some(a)
}

/// LDH, 3 to 20 octets, no hyphen at either end or in positions 3 and 4.
fn plausible(l: &str) -> bool {
    let b = l.as_bytes();
    (3..=20).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !(b[2] == b'-' && b[3] == b'-')
        && !RESERVED.contains(&l)
}

fn label(rng: &mut SplitMix64) -> String {
    loop {
        let r = rng.below(1000);
        let l = match r {
            0..=449 => word(rng),
            450..=699 => {
                if rng.chance(500) {
                    format!("{}{}", rng.pick(COMMON), word(rng))
                } else {
                    format!("{}{}", word(rng), rng.pick(COMMON))
                }
            }
            700..=799 => {
                let a = word(rng);
                let b = if rng.chance(500) {
                    word(rng)
                } else {
                    rng.pick(COMMON).to_string()
                };
                format!("{a}-{b}")
            }
            800..=899 => format!(
                "{}{}",
                if rng.chance(700) {
                    word(rng)
                } else {
                    rng.pick(COMMON).to_string()
                },
                digits(rng)
            ),
            900..=949 => format!("{}{}", digits(rng), rng.pick(COMMON)),
            950..=994 => format!("{}{}", word(rng), word(rng)),
            _ => match idn_label(rng) {
                Some(a) => return a,
                None => continue,
            },
        };
        if plausible(&l) {
            return l;
        }
    }
}

const V4_FIRST: &[u8] = &[
    23, 31, 37, 45, 46, 62, 77, 80, 81, 85, 88, 91, 93, 94, 95, 104, 109, 128, 130, 136, 141, 145,
    146, 151, 176, 178, 185, 188, 193, 194, 195, 198, 199, 203, 212, 213, 217,
];

fn v4(rng: &mut SplitMix64) -> String {
    let x = rng.next();
    Ipv4Addr::new(
        rng.pick(V4_FIRST),
        (x >> 8) as u8,
        (x >> 16) as u8,
        1 + (x % 254) as u8,
    )
    .to_string()
}

fn v6(rng: &mut SplitMix64) -> String {
    let x = rng.next();
    Ipv6Addr::new(
        0x2a00 + (x % 16) as u16,
        (x >> 8) as u16,
        (x >> 24) as u16,
        (x >> 40) as u16,
        0,
        0,
        0,
        0x53,
    )
    .to_string()
}

/// A shared hosting operator's name-server set (outside the TLD).
fn providers(rng: &mut SplitMix64, count: usize) -> Vec<Vec<String>> {
    const SUFFIX: &[&str] = &["-dns", "dns", "host", "hosting", "", "-ns", "net", "-cloud"];
    const TLD: &[&str] = &["net", "com", "org", "io", "de", "eu"];
    const SETS: &[&[&str]] = &[
        &["ns1", "ns2"],
        &["ns1", "ns2"],
        &["dns1", "dns2", "dns3"],
        &["a.ns", "b.ns"],
        &["ns1", "ns2", "ns3", "ns4"],
    ];
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let d = format!("{}{}.{}", word(rng), rng.pick(SUFFIX), rng.pick(TLD));
        if !seen.insert(d.clone()) {
            continue;
        }
        out.push(rng.pick(SETS).iter().map(|h| format!("{h}.{d}")).collect());
    }
    out
}

/// Register `nic.<tld>` (delegated to the in-zone apex name servers, with
/// their glue) and `n` synthetic domains, deterministically from `seed`.
/// Rows that already exist are left alone, so seeding twice is harmless.
pub async fn seed(
    srs: &Srs,
    origin: &Name,
    apex_ns: &[(Name, Vec<IpAddr>)],
    n: usize,
    seed: u64,
    progress: bool,
) -> Result<Inserted, SrsError> {
    let tld = name_to_stored(origin);
    let mut rng = SplitMix64(seed);
    let mut labels: HashSet<String> = HashSet::with_capacity(n + 16);
    let mut total = Inserted::default();

    // nic.<tld>, and the registered names the in-zone apex hosts sit below.
    let in_zone: Vec<&(Name, Vec<IpAddr>)> = apex_ns
        .iter()
        .filter(|(h, _)| h.is_subdomain_of(origin) && h != origin)
        .collect();
    let nic_ns: Vec<String> = if in_zone.is_empty() {
        apex_ns.iter().map(|(h, _)| name_to_stored(h)).collect()
    } else {
        in_zone.iter().map(|(h, _)| name_to_stored(h)).collect()
    };
    let mut first = Batch::default();
    let mut registry_domains = vec![format!("nic.{tld}")];
    for (h, addrs) in &in_zone {
        let mut d = h.clone();
        while d.label_count() > origin.label_count() + 1 {
            d = d.parent().unwrap_or_else(Name::root);
        }
        registry_domains.push(name_to_stored(&d));
        first.hosts.push(NewHost {
            name: name_to_stored(h),
            addrs: addrs.iter().map(IpAddr::to_string).collect(),
        });
    }
    registry_domains.sort();
    registry_domains.dedup();
    for d in registry_domains {
        if let Some(l) = d.split('.').next() {
            labels.insert(l.to_string());
        }
        first.domains.push(NewDomain {
            name: d,
            statuses: vec![
                "serverDeleteProhibited",
                "serverTransferProhibited",
                "serverUpdateProhibited",
            ],
            ns: nic_ns.clone(),
            ds: Vec::new(),
        });
    }
    let hosting = providers(&mut rng, (n / 250).clamp(8, 5000));
    for set in &hosting {
        first.hosts.extend(set.iter().map(|h| NewHost {
            name: h.clone(),
            addrs: Vec::new(),
        }));
    }
    total += srs.write_batch(&first).await?;

    let bar = if progress {
        indicatif::ProgressBar::new(n as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "seeding {wide_bar} {human_pos}/{human_len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // Domains with their own name servers, for the few that borrow a sibling's.
    let mut glued: Vec<String> = Vec::new();
    let mut done = 0;
    while done < n {
        let m = CHUNK.min(n - done);
        let mut b = Batch::default();
        b.domains.reserve(m);
        for _ in 0..m {
            let l = loop {
                let l = label(&mut rng);
                if labels.insert(l.clone()) {
                    break l;
                }
            };
            let name = format!("{l}.{tld}");
            let mut d = NewDomain {
                name,
                ..NewDomain::default()
            };
            match rng.below(1000) {
                0..=4 => d.statuses.push("clientHold"),
                5..=9 => d.statuses.push("serverHold"),
                10..=14 => d.statuses.push("pendingDelete"),
                _ => {}
            }
            if rng.chance(200) {
                d.statuses.push("clientTransferProhibited");
            }
            match rng.below(1000) {
                // Inactive: registered, no name servers.
                0..=4 => {}
                5..=604 => {
                    for h in ["ns1", "ns2"] {
                        let host = format!("{h}.{}", d.name);
                        b.hosts.push(NewHost {
                            name: host.clone(),
                            addrs: vec![v4(&mut rng), v6(&mut rng)],
                        });
                        d.ns.push(host);
                    }
                    glued.push(d.name.clone());
                }
                605..=644 if !glued.is_empty() => {
                    let sibling = &glued[rng.below(glued.len())];
                    d.ns = vec![format!("ns1.{sibling}"), format!("ns2.{sibling}")];
                }
                _ => {
                    // Few providers host most domains.
                    let u = rng.below(1 << 20) as f64 / f64::from(1 << 20);
                    let k = ((u * u) * hosting.len() as f64) as usize;
                    d.ns = hosting[k.min(hosting.len() - 1)].clone();
                }
            }
            if rng.chance(150) {
                let key_tag = rng.below(65_536) as i64;
                let digest: Vec<u8> = (0..4).flat_map(|_| rng.next().to_be_bytes()).collect();
                d.ds.push(NewDs {
                    key_tag,
                    algorithm: 13,
                    digest_type: 2,
                    digest: data_encoding::HEXLOWER.encode(&digest),
                });
            }
            b.domains.push(d);
        }
        total += srs.write_batch(&b).await?;
        done += m;
        bar.inc(m as u64);
    }
    bar.finish_and_clear();
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for seed 1234567 from the reference implementation.
        let mut r = SplitMix64(1234567);
        assert_eq!(r.next(), 6457827717110365317);
        assert_eq!(r.next(), 3203168211198807973);
    }

    #[test]
    fn labels_are_plausible_and_some_are_idn() {
        let mut r = SplitMix64(7);
        let ls: Vec<String> = (0..20_000).map(|_| label(&mut r)).collect();
        let mut idn = 0;
        for l in &ls {
            if l.starts_with("xn--") {
                idn += 1;
                let (u, e) = idna::domain_to_unicode(l);
                assert!(e.is_ok() && u != *l, "{l}");
            } else {
                assert!(plausible(l), "{l}");
            }
        }
        assert!(idn > 20, "{idn}");
        assert!(ls.iter().any(|l| l.contains('-') && !l.starts_with("xn--")));
        assert!(ls.iter().any(|l| l.bytes().any(|b| b.is_ascii_digit())));
    }
}
