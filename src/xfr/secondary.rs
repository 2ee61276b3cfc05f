//! Secondary mode (`tldns secondary`): pull the zone from primaries (any
//! implementation: tldns, NSD, Knot, BIND), check it, serve it.
//!
//! - Timers from the SOA (RFC 1035 §3.3.13, RFC 1996 §2): refresh after
//!   `refresh` seconds, after a failure retry every `retry` seconds, and
//!   stop serving once `expire` seconds pass without a successful check.
//! - NOTIFY (RFC 1996) from a configured primary (with its TSIG key, when
//!   one is configured) starts a check at once; over UDP and TCP on the
//!   serving addresses, and over UDP on `notify-listen` if configured.
//! - The check is an IXFR (RFC 1995) with our SOA; an AXFR-style answer is
//!   taken whole; an error, or a diff that does not apply, falls back to
//!   AXFR (RFC 5936).
//! - A received version is read into the model
//!   ([`SignedZone::from_records`]), verified by [`crate::verify`] (DNSSEC
//!   included unless `verify-dnssec = false`), indexed, and swapped into
//!   the same [`Current`] the server reads. A version that fails any step
//!   is not served; the previous one stays.
//!
//! The received zone lives in memory only: after a restart the secondary
//! transfers it again before it answers.

use super::diff::{self, ApplyError};
use super::ixfr::{Reader, Received, soa_record};
use super::msg::{self, Builder, WireError};
use super::notify::{self, Allowed};
use super::tsig::{self, Keyring, ResponseVerifier, TsigError, TsigKey};
use super::{Primary, XfrConfigError};
use crate::config::Config;
use crate::index::{Index, Options};
use crate::name::Name;
use crate::rr::{Record, class, rtype};
use crate::server::stats::Stats;
use crate::server::{self, ServeError, TcpHook};
use crate::store::{Current, Served};
use crate::verify::{VerifyError, VerifyOptions, verify};
use crate::zone::SignedZone;
use crate::zone::records::RecordsError;
use arc_swap::ArcSwap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tracing::{error, info, warn};

/// Why one transfer failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Connecting to the primary, or reading or writing the TCP stream.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// Connecting or a read took too long (10 s and 30 s); also what a
    /// refresh reports when no primary was tried.
    #[error("timed out")]
    Timeout,
    /// A response message could not be read.
    #[error("message: {0}")]
    Wire(#[from] WireError),
    /// A response's TSIG did not verify, or one that should be signed is not.
    #[error("TSIG: {0}")]
    Tsig(#[from] TsigError),
    /// The primary answered with an RCODE other than NOERROR.
    #[error("the primary answered RCODE {0}")]
    Rcode(tldns_base::iana::Rcode),
    /// The answer is not a well-formed AXFR or IXFR.
    #[error("transfer: {0}")]
    Read(#[from] super::ixfr::ReadError),
    /// An IXFR step deletes a record the version we hold does not have.
    #[error("IXFR: {0}")]
    Apply(#[from] ApplyError),
    /// An IXFR step does not start at the serial we hold (both 0 when we
    /// hold no version at all).
    #[error("IXFR step from serial {got}, but we hold {want} (RFC 1995 §4)")]
    Sequence {
        /// The serial we hold.
        want: u32,
        /// The serial the step starts from.
        got: u32,
    },
    /// The received records do not make a zone (see `RecordsError`).
    #[error("received zone: {0}")]
    Records(#[from] RecordsError),
    /// `[secondary] verify-dnssec`: the received version fails verification.
    #[error("received zone refused by verification: {0}")]
    Verify(#[from] VerifyError),
    /// The blocking task that builds and verifies the version panicked or
    /// was cancelled.
    #[error("verification task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Why secondary mode stopped.
#[derive(Debug, thiserror::Error)]
pub enum SecondaryError {
    /// `tldns secondary` with a configuration without `[secondary]`.
    #[error("the configuration has no [secondary] section")]
    NotConfigured,
    /// A TSIG key is unusable or not defined.
    #[error("[secondary]: {0}")]
    Config(#[from] XfrConfigError),
    /// `[secondary] primaries` is empty.
    #[error("[secondary]: no primaries")]
    NoPrimaries,
    /// The serving sockets could not be opened.
    #[error("{0}")]
    Serve(#[from] ServeError),
    /// Another I/O error, such as the NOTIFY socket.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No refresh succeeded within the SOA's `expire` (seconds), so the zone
    /// is no longer served (RFC 1035 §3.3.13); holds `expire`.
    #[error("zone expired: no successful refresh for {0} s (RFC 1035 §3.3.13)")]
    Expired(u32),
}

/// One primary: where and with which key.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The primary's address and port.
    pub address: SocketAddr,
    /// The TSIG key requests are signed with, if any.
    pub key: Option<TsigKey>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

async fn read_msg(s: &mut tokio::net::TcpStream) -> Result<Vec<u8>, TransferError> {
    let mut len = [0u8; 2];
    tokio::time::timeout(READ_TIMEOUT, s.read_exact(&mut len))
        .await
        .map_err(|_| TransferError::Timeout)??;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    tokio::time::timeout(READ_TIMEOUT, s.read_exact(&mut buf))
        .await
        .map_err(|_| TransferError::Timeout)??;
    Ok(buf)
}

/// Ask `up` for the zone: IXFR from `have` when we hold a version, else
/// AXFR. Returns what came back, checked for form and TSIG.
pub async fn fetch(
    up: &Upstream,
    origin: &Name,
    have: Option<&SignedZone>,
) -> Result<Received, TransferError> {
    let mut s = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(up.address))
        .await
        .map_err(|_| TransferError::Timeout)??;
    let id = {
        let mut b = [0u8; 2];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        u16::from_be_bytes(b)
    };
    let mut q = Builder::new(id, 0, 65_535);
    let qtype = if have.is_some() {
        rtype::IXFR
    } else {
        rtype::AXFR
    };
    q.question(origin, qtype, class::IN);
    if let Some(z) = have {
        q.rec(2, &soa_record(z));
    }
    let mut q = q.finish();
    let mut verifier = up.key.as_ref().map(|k| {
        let mac = tsig::sign_request(&mut q, k, tldns_base::time::unix_now());
        ResponseVerifier::new(k, mac)
    });
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    s.write_all(&framed).await?;
    let mut reader = Reader::new(origin, have.map(|z| z.serial()));
    loop {
        let raw = read_msg(&mut s).await?;
        let m = msg::parse(&raw)?;
        if m.id != id || !m.is_response() {
            continue;
        }
        if let Some(v) = &mut verifier {
            v.check(&raw, &m, tldns_base::time::unix_now())?;
        }
        if m.rcode() != tldns_base::iana::Rcode::NOERROR {
            return Err(TransferError::Rcode(m.rcode()));
        }
        if reader.feed(m.answers)? {
            break;
        }
    }
    if let Some(v) = &verifier {
        v.finish()?;
    }
    Ok(reader.finish()?)
}

/// The full record list of the new version, or `None` when we are current.
pub fn new_records(
    have: Option<&SignedZone>,
    got: Received,
) -> Result<Option<Vec<Record>>, TransferError> {
    match got {
        Received::UpToDate(_) => Ok(None),
        Received::Full(recs) => Ok(Some(recs)),
        Received::Incremental(steps, _) => {
            let Some(z) = have else {
                return Err(TransferError::Sequence { want: 0, got: 0 });
            };
            let mut serial = z.serial();
            let mut recs = diff::sorted_records(z);
            recs.retain(|r| r.rtype != rtype::SOA || r.owner != z.zone.origin);
            let mut soa = None;
            for st in steps {
                let from = msg::soa_serial(&st.old_soa.rdata).unwrap_or(0);
                if from != serial {
                    return Err(TransferError::Sequence {
                        want: serial,
                        got: from,
                    });
                }
                let strip = |v: Vec<Record>| -> Vec<Record> {
                    v.into_iter()
                        .filter(|r| r.rtype != rtype::SOA || r.owner != z.zone.origin)
                        .collect()
                };
                recs = diff::apply(recs, &strip(st.removed), &strip(st.added))?;
                serial = msg::soa_serial(&st.new_soa.rdata).unwrap_or(0);
                soa = Some(st.new_soa);
            }
            recs.extend(soa);
            Ok(Some(recs))
        }
    }
}

/// Model and verify a received version.
pub fn accept(
    origin: &Name,
    records: &[Record],
    opts: Option<&VerifyOptions>,
) -> Result<SignedZone, TransferError> {
    let z = SignedZone::from_records(origin, records)?;
    if let Some(o) = opts {
        verify(records, origin, o)?;
    }
    Ok(z)
}

struct State {
    config: Config,
    origin: Name,
    upstreams: Vec<Upstream>,
    verify_dnssec: bool,
}

impl State {
    fn verify_options(&self, previous: Option<&SignedZone>) -> Option<VerifyOptions> {
        if !self.verify_dnssec {
            return None;
        }
        Some(VerifyOptions {
            // The primary's algorithm roll signs with keys it has not
            // published (yet, or any more): their signatures cannot be
            // checked here and are skipped, as a validator skips them.
            skip_unknown_algorithms: true,
            ..crate::zone::verify_options(
                &self.config.zone.policy,
                tldns_base::time::unix_now() as u32,
                previous.map(|z| z.zone.content.delegations.len()),
                true,
            )
        })
    }

    /// One check against each primary in turn; `Ok(None)`: already current.
    async fn refresh(
        &self,
        have: Option<&Arc<SignedZone>>,
    ) -> Result<Option<SignedZone>, TransferError> {
        let mut last = None;
        for up in &self.upstreams {
            match self.refresh_from(up, have).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    warn!(primary = %up.address, error = %e, "transfer failed");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(TransferError::Timeout))
    }

    async fn refresh_from(
        &self,
        up: &Upstream,
        have: Option<&Arc<SignedZone>>,
    ) -> Result<Option<SignedZone>, TransferError> {
        let prim = up.address;
        let attempt =
            async |have: Option<&Arc<SignedZone>>| -> Result<Option<SignedZone>, TransferError> {
                let got = fetch(up, &self.origin, have.map(|z| &**z)).await?;
                let kind = match (&got, have.is_some()) {
                    (Received::UpToDate(s), _) => {
                        info!(primary = %prim, serial = s, "IXFR in: up to date");
                        return Ok(None);
                    }
                    (Received::Incremental(steps, to), _) => {
                        info!(primary = %prim, from = have.map(|z| z.serial()), to, steps = steps.len(), "IXFR in: incremental");
                        "IXFR"
                    }
                    (Received::Full(r), true) => {
                        info!(primary = %prim, records = r.len(), "IXFR in: AXFR-style answer");
                        "IXFR (AXFR-style)"
                    }
                    (Received::Full(r), false) => {
                        info!(primary = %prim, records = r.len(), "AXFR in");
                        "AXFR"
                    }
                };
                let Some(recs) = new_records(have.map(|z| &**z), got)? else {
                    return Ok(None);
                };
                let origin = self.origin.clone();
                let opts = self.verify_options(have.map(|z| &**z));
                let z = tokio::task::spawn_blocking(move || accept(&origin, &recs, opts.as_ref()))
                    .await??;
                if let Some(h) = have
                    && !crate::serial::serial_gt(z.serial(), h.serial())
                {
                    info!(primary = %prim, serial = z.serial(), "primary is not newer; keeping ours");
                    return Ok(None);
                }
                info!(primary = %prim, serial = z.serial(), delegations = z.zone.content.delegations.len(), transfer = kind, "received and verified");
                Ok(Some(z))
            };
        match attempt(have).await {
            Err(e) if have.is_some() => {
                // RFC 1995 §4 / RFC 5936: fall back to a full transfer.
                warn!(primary = %prim, error = %e, "IXFR failed; trying AXFR");
                attempt(None).await
            }
            r => r,
        }
    }
}

fn publish(current: &Current, z: SignedZone, opts: Options) -> Arc<Served> {
    let served = Arc::new(Served {
        index: Index::build(&z, opts),
        zone: Arc::new(z),
    });
    current.store(served.clone());
    metrics::gauge!("tldns_zone_serial").set(served.zone.serial() as f64);
    served
}

/// Run secondary mode until SIGTERM/SIGINT, or until the zone expires.
pub async fn run(config: Config) -> Result<(), SecondaryError> {
    let sec = config
        .zone
        .secondary
        .clone()
        .ok_or(SecondaryError::NotConfigured)?;
    if sec.primaries.is_empty() {
        return Err(SecondaryError::NoPrimaries);
    }
    let ring = Keyring::from_config(&config.zone.tsig_key).map_err(XfrConfigError::from)?;
    let mut upstreams = Vec::new();
    let mut allowed = Vec::new();
    for p in &sec.primaries {
        let key = match &p.tsig_key {
            Some(k) => Some(ring.by_text(k).map_err(XfrConfigError::from)?.clone()),
            None => None,
        };
        allowed.push(Allowed {
            ip: p.address.ip(),
            key: key.clone(),
        });
        upstreams.push(Upstream {
            address: p.address,
            key,
        });
    }
    let out = if config.zone.transfer.secondaries.is_empty() {
        None
    } else {
        Some(Primary::new(&config)?)
    };
    let index_opts = Options::from_config(&config.zone.server);
    let server_cfg = config.zone.server.clone();
    let state = State {
        origin: config.origin.clone(),
        config,
        upstreams,
        verify_dnssec: sec.verify_dnssec,
    };

    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;

    // The first version: nothing is served before it.
    let first = loop {
        match state.refresh(None).await {
            Ok(Some(z)) => break z,
            Ok(None) => {}
            Err(e) => warn!(error = %e, "no primary gave us the zone yet; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    };
    let current: Current = Arc::new(ArcSwap::new(Arc::new(Served {
        index: Index::build(&first, index_opts.clone()),
        zone: Arc::new(first),
    })));
    info!(
        serial = current.load().zone.serial(),
        "serving the transferred zone"
    );

    let wake = Arc::new(Notify::new());
    let origin = state.origin.clone();
    let hook: TcpHook = {
        let (wake, allowed, ring, origin, out) = (
            wake.clone(),
            allowed.clone(),
            ring.clone(),
            origin.clone(),
            out.clone(),
        );
        Arc::new(move |raw: &[u8], peer: SocketAddr, served: &Served| {
            if notify::is_notify(raw) {
                let (resp, go) = notify::answer(raw, peer, &origin, &allowed, &ring)?;
                if go {
                    info!(%peer, "NOTIFY in (TCP)");
                    wake.notify_one();
                }
                return Some(vec![resp]);
            }
            out.as_ref()?.handle(raw, peer, served)
        })
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    // NOTIFY over UDP on the serving addresses (RFC 1996 §3.5).
    let udp_hook: server::UdpHook = {
        let (wake, allowed, ring, origin) =
            (wake.clone(), allowed.clone(), ring.clone(), origin.clone());
        Arc::new(move |raw: &[u8], peer: SocketAddr| {
            let (resp, go) = notify::answer(raw, peer, &origin, &allowed, &ring)?;
            if go {
                info!(%peer, "NOTIFY in (UDP)");
                wake.notify_one();
            }
            Some(resp)
        })
    };
    let (threads, tasks) = server::listen(
        &server_cfg,
        &current,
        &stats,
        Some(hook),
        Some(udp_hook),
        &stop,
    )?;

    if let Some(addr) = sec.notify_listen {
        let sock = tokio::net::UdpSocket::bind(addr).await?;
        info!(%addr, "NOTIFY listener");
        let (wake, allowed, ring, origin) =
            (wake.clone(), allowed.clone(), ring.clone(), origin.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_535];
            loop {
                let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                    continue;
                };
                if let Some((resp, go)) = notify::answer(&buf[..n], peer, &origin, &allowed, &ring)
                {
                    let _ = sock.send_to(&resp, peer).await;
                    if go {
                        info!(%peer, "NOTIFY in");
                        wake.notify_one();
                    } else {
                        warn!(%peer, "NOTIFY refused");
                    }
                }
            }
        });
    }

    let mut last_ok = Instant::now();
    let mut failing = false;
    let result = loop {
        let z = current.load_full().zone.clone();
        let soa = &z.zone.soa;
        let wait = Duration::from_secs(if failing { soa.retry } else { soa.refresh }.max(1) as u64);
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = term.recv() => break Ok(()),
            _ = int.recv() => break Ok(()),
        }
        match state.refresh(Some(&z)).await {
            Ok(Some(new)) => {
                let served = publish(&current, new, index_opts.clone());
                info!(serial = served.zone.serial(), "published");
                if let Some(p) = &out {
                    p.published(&z, &served.zone);
                }
                last_ok = Instant::now();
                failing = false;
            }
            Ok(None) => {
                last_ok = Instant::now();
                failing = false;
            }
            Err(e) => {
                failing = true;
                error!(error = %e, "refresh failed; the current version keeps serving");
                if last_ok.elapsed() > Duration::from_secs(soa.expire as u64) {
                    break Err(SecondaryError::Expired(soa.expire));
                }
            }
        }
    };
    info!("shutting down");
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    for t in threads {
        let _ = t.join();
    }
    result
}
