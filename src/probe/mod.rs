//! The SLA probe: "DNS tests" as Specification 10 of the registry agreement
//! defines and measures them.
//!
//! A test (Spec 10 §3.7) is one non-recursive query to one address over UDP
//! or TCP. It is answered only if the response carries the zone's data and
//! its signatures validate against the trust anchor, and only if its RTT
//! (§3.3 UDP, §3.4 TCP: connection start to end, one query per connection)
//! is at most 5 times the SLR: 2500 ms over UDP, 7500 ms over TCP.
//! Otherwise it is unanswered, with a reason.
//!
//! - [`query`]: the query a test sends (responses are read with the base
//!   layer's message reader, [`tldns_base::message`]);
//! - [`client`]: one timed exchange over UDP or TCP;
//! - [`validate`]: trust anchor, DNSKEY, RRSIGs, and the shape of positive,
//!   referral, name-error and no-data answers; [`nsec3`]: denial proofs;
//! - [`stats`]: per address and transport, percentiles, availability, SLRs;
//! - [`report`]: human tables, JSON lines, Prometheus metrics; [`chart`]: PNG;
//! - [`load`]: a bounded load run; [`update_time`]: DNS update time (§3.6),
//!   the one mode that writes, through [`update_time::Committer`].
//!
//! The probe shares no code with the signer (`crate::dnssec`) or the server:
//! it uses the base layer's names, record types, typed RDATA, message
//! reader and builder, key tag, NSEC3 hash and clock, and validates with
//! code of its own. Queries are chosen as probes
//! choose them: the apex (SOA, NS, DNSKEY, and a type it lacks), delegated
//! names (referrals) and names that do not exist.

pub mod chart;
pub mod client;
pub mod load;
pub mod nsec3;
pub mod query;
pub mod report;
pub mod stats;
pub mod update_time;
pub mod validate;

use crate::name::Name;
use crate::rr::rtype;
pub use client::Protocol;
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tldns_base::message::{Message, flag};
use validate::{Expect, Reason, TestQuery, TrustAnchor, ZoneKeys};

/// `tldns probe` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// The zone under test.
    #[arg(long)]
    pub zone: String,
    /// A name server address to test (repeatable), ADDR:PORT.
    #[arg(long = "server")]
    pub servers: Vec<SocketAddr>,
    /// Also test every address of the apex NS (from glue), asked of the
    /// first --server, on this port.
    #[arg(long)]
    pub discover_port: Option<u16>,
    /// Trust anchor: DS or DNSKEY records in presentation format, a BIND
    /// K-file, or a keys directory.
    #[arg(long)]
    pub trust_anchor: PathBuf,
    /// Delegated names to query (one a line, absolute or relative to the zone).
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// Zone file to take delegated names from.
    #[arg(long)]
    pub zone_file: Option<PathBuf>,
    /// Delegated names per round (referral tests).
    #[arg(long, default_value_t = 3)]
    pub referrals: usize,
    /// Non-existent names per round (name-error tests).
    #[arg(long, default_value_t = 2)]
    pub nxdomains: usize,
    /// One round: every address, UDP and TCP, every query kind.
    #[arg(long)]
    pub once: bool,
    /// Spec 10 §3.8: a test to every address every INTERVAL (e.g. 60s).
    #[arg(long, value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// How long an --interval, --load or --update-time run lasts (e.g. 10m).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Spec 10 §3.6: measure the DNS update time.
    #[arg(long)]
    pub update_time: bool,
    /// --update-time: wait for this delegated name instead of committing one.
    #[arg(long)]
    pub watch_name: Option<String>,
    /// --update-time: wait for this SOA serial (RFC 1982) instead of committing.
    #[arg(long)]
    pub watch_serial: Option<u32>,
    /// --update-time: name servers of the committed test domain (default:
    /// the apex name servers).
    #[arg(long = "update-ns")]
    pub update_ns: Vec<String>,
    /// --update-time: how often each address is asked.
    #[arg(long, value_parser = parse_duration, default_value = "500ms")]
    pub poll: Duration,
    /// A load run at QPS queries per second for --duration.
    #[arg(long)]
    pub load: Option<u32>,
    /// Transports to test (default both; --load uses the first).
    #[arg(long = "transport", value_enum)]
    pub transports: Vec<ProtocolArg>,
    /// JSON lines on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write a PNG chart of the RTT distribution here.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Serve Prometheus metrics here while running.
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
}

/// `--transport udp|tcp`: a [`Protocol`] as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    /// `udp`: [`Protocol::Udp`].
    Udp,
    /// `tcp`: [`Protocol::Tcp`].
    Tcp,
}

/// Why a probe run could not be carried out (unanswered tests are results,
/// not errors).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// `--zone` is not a domain name.
    #[error("bad zone name {0:?}: {1}")]
    Zone(String, crate::name::NameError),
    /// `--trust-anchor` cannot be read or holds no DS or DNSKEY for the zone.
    #[error(transparent)]
    Anchor(#[from] validate::AnchorError),
    /// The `--names` or `--zone-file` list of delegated names cannot be read.
    #[error("{path}: {error}")]
    Names {
        /// The file given.
        path: PathBuf,
        /// The read or parse error.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No `--server` was given.
    #[error("no server to test: give --server")]
    NoServer,
    /// Not exactly one of the modes was chosen.
    #[error("choose one mode: --once, --interval, --load or --update-time")]
    Mode,
    /// This mode (the option named) runs for a `--duration`, which is missing.
    #[error("{0} needs --duration")]
    NeedsDuration(&'static str),
    /// A `--once` round had unanswered tests (the results are printed first).
    #[error("{failed} of {total} tests unanswered")]
    Unanswered {
        /// Tests unanswered.
        failed: usize,
        /// Tests run.
        total: usize,
    },
    /// A load run could not get the validated keys it needs before it starts.
    #[error("cannot fetch a trusted DNSKEY RRset from {server} over {transport}: {reason}")]
    Keys {
        /// The address asked.
        server: SocketAddr,
        /// The transport used.
        transport: Protocol,
        /// Why the DNSKEY RRset was not trusted or did not arrive.
        reason: Reason,
    },
    /// The update time could not be measured.
    #[error(transparent)]
    UpdateTime(#[from] update_time::UpdateTimeError),
    /// Writing to stdout failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// The `--chart` PNG could not be written.
    #[error("chart: {0}")]
    Chart(#[from] chart::ChartError),
    /// The Prometheus listener of `--metrics-listen` could not be installed.
    #[error("metrics listener on {addr}: {error}")]
    Metrics {
        /// The address to listen on.
        addr: SocketAddr,
        /// The exporter's error, as text.
        error: String,
    },
}

/// Durations as `500ms`, `60s`, `10m`, `2h`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "" | "s" => v,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        "d" => v * 86400.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m, h, d)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// An address under test, with the name server it belongs to (for service
/// availability, Spec 10 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address and port queried.
    pub addr: SocketAddr,
    /// The name server's name, or the address itself when given by `--server`
    /// and not found in the apex glue.
    pub ns: String,
}

/// One DNS test's result: an RTT, or unanswered with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// Unix time of the test, milliseconds.
    pub time_ms: u64,
    /// The address tested.
    pub server: SocketAddr,
    /// The name server the address belongs to.
    pub ns: String,
    /// `"udp"` or `"tcp"`.
    pub transport: &'static str,
    /// The query name, in presentation form.
    pub qname: String,
    /// The query type's mnemonic (`SOA`, `A`, ...).
    pub qtype: String,
    /// positive, referral, nxdomain, nodata.
    pub expect: &'static str,
    /// The RTT measured when a response came back, even if unanswered.
    pub rtt_ms: Option<f64>,
    /// Answered in the sense of Spec 10 §3.7: in time, right, and validated.
    pub answered: bool,
    /// When unanswered, the short code of the reason ([`Reason::code`]).
    pub reason: Option<&'static str>,
    /// When unanswered, the reason in full.
    pub detail: Option<String>,
    /// The SOA serial the response carried, if it carried the SOA.
    pub serial: Option<u32>,
}

/// Unix time now as RRSIG times hold it: seconds modulo 2^32, compared by
/// RFC 1982 (RFC 4034 §3.1.5).
fn rrsig_now() -> u32 {
    tldns_base::time::unix_now() as u32
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A small random source for query IDs and non-existent labels: neither
/// needs to be secret, only unpredictable enough not to collide.
pub struct Rand(u64);

impl Rand {
    /// Seeded from the clock and the process ID.
    pub fn new() -> Rand {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ (std::process::id() as u64) << 32;
        Rand(seed | 1)
    }
    /// The next value (xorshift64*).
    pub fn next_u64(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Default for Rand {
    fn default() -> Self {
        Rand::new()
    }
}

/// The queries of one round, as probes choose them.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The zone under test.
    pub zone: Name,
    /// Delegated names to sample referral tests from.
    pub delegations: Vec<Name>,
    /// Referral tests per round (at most one per delegation).
    pub referrals: usize,
    /// Name-error tests per round, each with a fresh random name.
    pub nxdomains: usize,
}

impl Plan {
    /// The apex SOA, NS and DNSKEY, a type the apex lacks (no data),
    /// `referrals` delegated names and `nxdomains` names that do not exist.
    pub fn round(&self, rng: &mut Rand) -> Vec<TestQuery> {
        let z = &self.zone;
        let mut v = vec![
            TestQuery {
                qname: z.clone(),
                qtype: rtype::SOA,
                expect: Expect::Positive,
            },
            TestQuery {
                qname: z.clone(),
                qtype: rtype::NS,
                expect: Expect::Positive,
            },
            TestQuery {
                qname: z.clone(),
                qtype: rtype::DNSKEY,
                expect: Expect::Positive,
            },
            TestQuery {
                qname: z.clone(),
                qtype: rtype::A,
                expect: Expect::NoData,
            },
        ];
        // A sample without replacement (a partial Fisher-Yates shuffle).
        let mut idx: Vec<usize> = (0..self.delegations.len()).collect();
        for i in 0..self.referrals.min(idx.len()) {
            let j = i + (rng.next_u64() as usize) % (idx.len() - i);
            idx.swap(i, j);
            let d = &self.delegations[idx[i]];
            v.push(TestQuery {
                qname: d.clone(),
                qtype: rtype::A,
                expect: Expect::Referral(d.clone()),
            });
        }
        for _ in 0..self.nxdomains {
            v.push(self.nonexistent(rng));
        }
        v
    }

    /// A name that does not exist: a random label no registry allows
    /// (two hyphens at positions 3 and 4 without `xn`, Spec 6 §1.1).
    pub fn nonexistent(&self, rng: &mut Rand) -> TestQuery {
        let label = format!("tp--{:016x}", rng.next_u64());
        TestQuery {
            qname: self
                .zone
                .prepend(label.as_bytes())
                .unwrap_or_else(|_| self.zone.clone()),
            qtype: rtype::A,
            expect: Expect::NameError,
        }
    }
}

/// Validated keys per address and transport, refetched when their TTL ends
/// (as a validating resolver would keep them).
#[derive(Default)]
pub struct KeyCache {
    map: HashMap<(SocketAddr, Protocol), (std::sync::Arc<ZoneKeys>, Instant)>,
}

impl KeyCache {
    /// The keys for `addr` over `t`: the cached ones while their TTL (clamped
    /// to 1 s..1 h) lasts, else fetched and validated anew.
    pub fn get(
        &mut self,
        anchor: &TrustAnchor,
        addr: SocketAddr,
        t: Protocol,
        rng: &mut Rand,
    ) -> Result<std::sync::Arc<ZoneKeys>, Reason> {
        if let Some((k, until)) = self.map.get(&(addr, t))
            && Instant::now() < *until
        {
            return Ok(k.clone());
        }
        let keys = std::sync::Arc::new(fetch_keys(anchor, addr, t, rng)?);
        let ttl = Duration::from_secs(keys.ttl.clamp(1, 3600) as u64);
        self.map
            .insert((addr, t), (keys.clone(), Instant::now() + ttl));
        Ok(keys)
    }

    /// Drop the keys for `addr` over `t`, so the next [`KeyCache::get`]
    /// fetches them (after a failure that a rolled key may explain).
    pub fn forget(&mut self, addr: SocketAddr, t: Protocol) {
        self.map.remove(&(addr, t));
    }
}

/// Fetch and validate the DNSKEY RRset over `t` (RFC 4035 §5.2).
pub fn fetch_keys(
    anchor: &TrustAnchor,
    addr: SocketAddr,
    t: Protocol,
    rng: &mut Rand,
) -> Result<ZoneKeys, Reason> {
    let q = query::query(rng.next_u64() as u16, &anchor.zone, rtype::DNSKEY);
    let ex = client::exchange(t, addr, &q, t.limit())?;
    let m = Message::parse(&ex.response)?;
    if m.has(flag::TC) {
        return Err(Reason::Truncated);
    }
    validate::trust_dnskeys(anchor, &m, rrsig_now())
}

/// A response to a test, before validation.
pub struct Raw {
    /// The address tested.
    pub target: Target,
    /// The transport used.
    pub transport: Protocol,
    /// The test's question and expected answer.
    pub query: TestQuery,
    /// Unix time the query was sent, milliseconds.
    pub time_ms: u64,
    /// The response and its RTT, or why none came back.
    pub outcome: Result<client::Exchange, client::ExchangeError>,
}

/// Send one test query and time it.
pub fn exchange(target: &Target, t: Protocol, q: &TestQuery, id: u16) -> Raw {
    let wire = query::query(id, &q.qname, q.qtype);
    let time_ms = unix_ms();
    Raw {
        target: target.clone(),
        transport: t,
        query: q.clone(),
        time_ms,
        outcome: client::exchange(t, target.addr, &wire, t.limit()),
    }
}

/// Judge a test (Spec 10 §3.7). `keys` is the outcome of the DNSKEY fetch
/// for this address and transport. For a DNSKEY query the response itself
/// is checked against the trust anchor.
pub fn judge(
    raw: &Raw,
    anchor: &TrustAnchor,
    keys: Result<&ZoneKeys, &Reason>,
    min_serial: Option<u32>,
) -> TestResult {
    let q = &raw.query;
    let mut r = TestResult {
        time_ms: raw.time_ms,
        server: raw.target.addr,
        ns: raw.target.ns.clone(),
        transport: raw.transport.as_str(),
        qname: q.qname.to_string(),
        qtype: crate::rr::type_name(q.qtype),
        expect: q.expect.as_str(),
        rtt_ms: None,
        answered: false,
        reason: None,
        detail: None,
        serial: None,
    };
    let verdict = (|| -> Result<Option<u32>, Reason> {
        let ex = raw.outcome.as_ref().map_err(|e| Reason::from(e.clone()))?;
        r.rtt_ms = Some(ex.rtt.as_secs_f64() * 1000.0);
        let m = Message::parse(&ex.response)?;
        if m.has(flag::TC) {
            return Err(Reason::Truncated);
        }
        let now = rrsig_now();
        if q.qtype == rtype::DNSKEY && q.qname == anchor.zone {
            validate::trust_dnskeys(anchor, &m, now)?;
            return Ok(None);
        }
        let keys = keys.map_err(|e| Reason::KeyFetch(Box::new(e.clone())))?;
        Ok(validate::validate(&anchor.zone, q, &m, keys, now, min_serial)?.serial)
    })();
    match verdict {
        Ok(serial) => {
            r.answered = true;
            r.serial = serial;
        }
        Err(e) => {
            r.reason = Some(e.code());
            r.detail = Some(e.to_string());
        }
    }
    r
}

/// Delegated names: from --names, --zone-file, or the apex NS names' own
/// delegations (a.nic.mobile. -> nic.mobile.).
fn delegations(args: &ProbeArgs, zone: &Name, apex_ns: &[Name]) -> Result<Vec<Name>, ProbeError> {
    let mut out = Vec::new();
    if let Some(p) = &args.names {
        let text = std::fs::read_to_string(p).map_err(|e| ProbeError::Names {
            path: p.clone(),
            error: Box::new(e),
        })?;
        for l in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            // `srs list` prints `example.mobile`: absolute if it is below
            // the zone, else relative to it (`example`).
            let bad = |e| ProbeError::Names {
                path: p.clone(),
                error: Box::new(e),
            };
            let mut n = Name::parse(l).map_err(bad)?;
            if !n.is_subdomain_of(zone) && !l.ends_with('.') {
                n = Name::parse(&format!("{l}.{zone}")).map_err(bad)?;
            }
            out.push(n);
        }
    }
    if let Some(p) = &args.zone_file {
        let entries = crate::zonefile::read_file(p, Some(zone)).map_err(|e| ProbeError::Names {
            path: p.clone(),
            error: Box::new(e),
        })?;
        for e in entries {
            if e.rtype == rtype::NS && &e.owner != zone && e.owner.is_subdomain_of(zone) {
                out.push(e.owner);
            }
        }
    }
    if out.is_empty() {
        for ns in apex_ns {
            let mut n = ns.clone();
            while let Some(p) = n.parent() {
                if &p == zone {
                    out.push(n);
                    break;
                }
                n = p;
            }
        }
    }
    out.retain(|n| n != zone && n.is_subdomain_of(zone));
    out.sort();
    out.dedup();
    Ok(out)
}

/// Ask `addr` for the apex NS RRset and its glue (unvalidated: only used to
/// choose what to test; every test validates what it gets).
fn apex_ns(
    zone: &Name,
    addr: SocketAddr,
    rng: &mut Rand,
) -> (Vec<Name>, Vec<(Name, std::net::IpAddr)>) {
    let q = query::query(rng.next_u64() as u16, zone, rtype::NS);
    let Ok(ex) = client::udp(addr, &q, Protocol::Udp.limit()) else {
        return (vec![], vec![]);
    };
    let Ok(m) = Message::parse(&ex.response) else {
        return (vec![], vec![]);
    };
    let ns: Vec<Name> = m
        .answers
        .iter()
        .filter(|r| r.rtype == rtype::NS && &r.owner == zone)
        .filter_map(|r| Name::from_wire(&r.rdata).ok())
        .collect();
    let mut glue = Vec::new();
    for r in &m.additional {
        let ip: Option<std::net::IpAddr> = match (r.rtype, r.rdata.len()) {
            (rtype::A, 4) => Some(
                <[u8; 4]>::try_from(&r.rdata[..])
                    .ok()
                    .map(std::net::IpAddr::from),
            )
            .flatten(),
            (rtype::AAAA, 16) => Some(
                <[u8; 16]>::try_from(&r.rdata[..])
                    .ok()
                    .map(std::net::IpAddr::from),
            )
            .flatten(),
            _ => None,
        };
        if let Some(ip) = ip
            && ns.contains(&r.owner)
        {
            glue.push((r.owner.clone(), ip));
        }
    }
    (ns, glue)
}

/// Everything a run needs, resolved from the arguments.
pub struct Setup {
    /// The trust anchor from `--trust-anchor`.
    pub anchor: TrustAnchor,
    /// The `--server` addresses, then those of `--discover-port`.
    pub targets: Vec<Target>,
    /// The transports to test (UDP and TCP unless `--transport` says).
    pub transports: Vec<Protocol>,
    /// The queries of a round.
    pub plan: Plan,
    /// The apex NS names the first server gave (unvalidated; may be empty).
    pub apex_ns: Vec<Name>,
}

/// Resolve the arguments: read the trust anchor, ask the first `--server`
/// for the apex NS and glue, choose the targets, transports and delegated
/// names. Sends queries, but no test.
pub fn setup(args: &ProbeArgs) -> Result<Setup, ProbeError> {
    let zone = Name::parse(&args.zone).map_err(|e| ProbeError::Zone(args.zone.clone(), e))?;
    let anchor = TrustAnchor::read(&args.trust_anchor, &zone)?;
    let first = *args.servers.first().ok_or(ProbeError::NoServer)?;
    let mut rng = Rand::new();
    let (ns, glue) = apex_ns(&zone, first, &mut rng);
    let mut targets: Vec<Target> = args
        .servers
        .iter()
        .map(|&addr| Target {
            addr,
            ns: addr.to_string(),
        })
        .collect();
    if let Some(port) = args.discover_port {
        for (n, ip) in &glue {
            let addr = SocketAddr::new(*ip, port);
            if let Some(t) = targets.iter_mut().find(|t| t.addr == addr) {
                t.ns = n.to_string();
            } else {
                targets.push(Target {
                    addr,
                    ns: n.to_string(),
                });
            }
        }
    }
    let transports = if args.transports.is_empty() {
        vec![Protocol::Udp, Protocol::Tcp]
    } else {
        let mut v: Vec<Protocol> = args
            .transports
            .iter()
            .map(|t| match t {
                ProtocolArg::Udp => Protocol::Udp,
                ProtocolArg::Tcp => Protocol::Tcp,
            })
            .collect();
        v.dedup();
        v
    };
    let plan = Plan {
        delegations: delegations(args, &zone, &ns)?,
        zone,
        referrals: args.referrals,
        nxdomains: args.nxdomains,
    };
    Ok(Setup {
        anchor,
        targets,
        transports,
        plan,
        apex_ns: ns,
    })
}

/// One round: for every target and transport, fetch the keys and run the
/// tests. Targets run concurrently (one thread each); the tests of one
/// target run one after the other, UDP then TCP, so that no test's RTT is
/// measured while another query to the same server is in flight.
pub fn round(
    s: &Setup,
    queries: &[TestQuery],
    rng: &mut Rand,
    cache: &mut KeyCache,
) -> Vec<TestResult> {
    let mut keys = Vec::new();
    for t in &s.targets {
        for &tr in &s.transports {
            keys.push(((t.addr, tr), cache.get(&s.anchor, t.addr, tr, rng)));
        }
    }
    let jobs: Vec<Vec<(Protocol, &TestQuery, u16)>> = s
        .targets
        .iter()
        .map(|_| {
            s.transports
                .iter()
                .flat_map(|&tr| queries.iter().map(move |q| (tr, q)))
                .map(|(tr, q)| (tr, q, rng.next_u64() as u16))
                .collect()
        })
        .collect();
    let raws: Vec<Raw> = std::thread::scope(|sc| {
        let hs: Vec<_> = s
            .targets
            .iter()
            .zip(&jobs)
            .map(|(t, js)| {
                sc.spawn(move || {
                    js.iter()
                        .map(|(tr, q, id)| exchange(t, *tr, q, *id))
                        .collect::<Vec<Raw>>()
                })
            })
            .collect();
        hs.into_iter()
            .filter_map(|h| h.join().ok())
            .flatten()
            .collect()
    });
    let mut out = Vec::with_capacity(raws.len());
    for raw in &raws {
        let Some((_, k)) = keys
            .iter()
            .find(|(key, _)| *key == (raw.target.addr, raw.transport))
        else {
            continue;
        };
        out.push(judge(raw, &s.anchor, k.as_deref(), None));
    }
    // A failure may come from a rolled key: refetch next time.
    for ((addr, tr), k) in &keys {
        if k.is_err()
            || out
                .iter()
                .any(|r| !r.answered && r.server == *addr && r.transport == tr.as_str())
        {
            cache.forget(*addr, *tr);
        }
    }
    out
}

/// Run `tldns probe`. `committer` writes the change of `--update-time`
/// (and is not used by the other modes).
pub fn run(args: &ProbeArgs, committer: &mut dyn update_time::Committer) -> Result<(), ProbeError> {
    let modes = [
        args.once,
        args.interval.is_some(),
        args.load.is_some(),
        args.update_time,
    ];
    if modes.iter().filter(|m| **m).count() != 1 {
        return Err(ProbeError::Mode);
    }
    let s = setup(args)?;
    let mut out = report::Output::new(args.json);
    if let Some(addr) = args.metrics_listen {
        report::install_metrics(addr)?;
    }
    if args.once {
        let mut rng = Rand::new();
        let queries = s.plan.round(&mut rng);
        let results = round(&s, &queries, &mut rng, &mut KeyCache::default());
        let mut summary = stats::Summary::default();
        summary.add_round(&results);
        out.tests(&results)?;
        out.summary(&summary, None)?;
        report::export(&summary);
        if let Some(p) = &args.chart {
            chart::draw(p, &summary)?;
        }
        let failed = results.iter().filter(|r| !r.answered).count();
        if failed > 0 {
            return Err(ProbeError::Unanswered {
                failed,
                total: results.len(),
            });
        }
        return Ok(());
    }
    if let Some(interval) = args.interval {
        let duration = args
            .duration
            .ok_or(ProbeError::NeedsDuration("--interval"))?;
        let mut rng = Rand::new();
        let mut cache = KeyCache::default();
        let mut summary = stats::Summary::default();
        let start = Instant::now();
        let mut n = 0u32;
        loop {
            // §3.8: one test per address (and transport) per interval,
            // the query kind rotating over the plan.
            let all = s.plan.round(&mut rng);
            let q = all[n as usize % all.len()].clone();
            let results = round(&s, std::slice::from_ref(&q), &mut rng, &mut cache);
            summary.add_round(&results);
            out.tests(&results)?;
            out.summary(&summary, Some(interval))?;
            report::export(&summary);
            n += 1;
            let next = start + interval * n;
            if next.duration_since(start) >= duration {
                break;
            }
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        if let Some(p) = &args.chart {
            chart::draw(p, &summary)?;
        }
        return Ok(());
    }
    if let Some(qps) = args.load {
        let duration = args.duration.ok_or(ProbeError::NeedsDuration("--load"))?;
        let summary = load::run(&s, qps, duration, &mut out)?;
        out.summary(&summary, None)?;
        report::export(&summary);
        if let Some(p) = &args.chart {
            chart::draw(p, &summary)?;
        }
        return Ok(());
    }
    update_time::run(args, &s, committer, &mut out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("3 fortnights").is_err());
    }

    #[test]
    fn plan_has_every_answer_kind() {
        let z = Name::parse("mobile.").unwrap();
        let p = Plan {
            zone: z.clone(),
            delegations: vec![Name::parse("nic.mobile.").unwrap()],
            referrals: 2,
            nxdomains: 2,
        };
        let r = p.round(&mut Rand::new());
        for kind in ["positive", "referral", "nxdomain", "nodata"] {
            assert!(r.iter().any(|q| q.expect.as_str() == kind), "{kind}");
        }
        let nx: Vec<_> = r.iter().filter(|q| q.expect == Expect::NameError).collect();
        assert_ne!(nx[0].qname, nx[1].qname);
        assert!(nx[0].qname.is_subdomain_of(&z));
    }
}
