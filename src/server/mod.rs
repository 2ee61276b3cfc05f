//! The server: UDP workers and the TCP listener around the pure
//! [`answer::answer`] function.
//!
//! UDP: one thread per worker, each with its own `SO_REUSEPORT` socket and
//! preallocated buffers; per query it loads the current version (a lock-free
//! `ArcSwap` read), answers, sends, and bumps its own counters. No
//! allocation, lock, log line or task per query. TCP (RFC 7766): tokio, a
//! semaphore caps connections, an idle timeout closes quiet ones, and several
//! queries on one connection are answered in turn.
//! Owns sockets; does not touch the SRS or the zone model.

pub mod answer;
mod mmsg;
pub mod rrl;
pub mod stats;
pub mod trim;
pub mod warm;

use crate::config::ServerConfig;
use crate::store::{Current, Served};
use answer::{Transport, answer};
use stats::Stats;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listening socket could not be opened or bound.
    #[error("cannot listen on {addr} ({proto}): {error}")]
    Listen {
        /// The address from `[server] listen`.
        addr: SocketAddr,
        /// `udp` or `tcp`.
        proto: &'static str,
        /// The socket error.
        error: io::Error,
    },
}

fn udp_socket(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_port(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.bind(&addr.into())?;
    // Wake up now and then to see whether we are asked to stop.
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(s.into())
}

/// Hook for UDP messages whose opcode is not QUERY (NOTIFY to a
/// secondary): the response, if any. Rare, so it may allocate.
pub type UdpHook = Arc<dyn Fn(&[u8], SocketAddr) -> Option<Vec<u8>> + Send + Sync>;

/// Start `workers` UDP threads on `addr`. Binding errors are returned before
/// any thread starts.
pub fn spawn_udp(
    addr: SocketAddr,
    workers: usize,
    current: Current,
    stats: Arc<Stats>,
    hook: Option<UdpHook>,
    rrl: Option<Arc<rrl::Rrl>>,
    stop: Arc<AtomicBool>,
) -> Result<Vec<std::thread::JoinHandle<()>>, ServeError> {
    let workers = workers.max(1);
    let mut sockets = Vec::with_capacity(workers);
    for _ in 0..workers {
        sockets.push(udp_socket(addr).map_err(|error| ServeError::Listen {
            addr,
            proto: "udp",
            error,
        })?);
    }
    let mut handles = Vec::new();
    for (i, sock) in sockets.into_iter().enumerate() {
        let current = current.clone();
        let stats = stats.clone();
        let stop = stop.clone();
        let hook = hook.clone();
        let rrl = rrl.clone();
        let h = std::thread::Builder::new()
            .name(format!("udp-{i}"))
            .spawn(move || udp_worker(sock, current, &stats, hook, rrl.as_deref(), &stop))
            .map_err(|error| ServeError::Listen {
                addr,
                proto: "udp",
                error,
            })?;
        handles.push(h);
    }
    Ok(handles)
}

fn udp_worker(
    sock: std::net::UdpSocket,
    current: Current,
    stats: &Stats,
    hook: Option<UdpHook>,
    rrl: Option<&rrl::Rrl>,
    stop: &AtomicBool,
) {
    let worker = stats.worker();
    let mut slips = 0u32;
    let start = std::time::Instant::now();
    // Queries are small; responses are at most the EDNS payload we allow.
    let mut batch = mmsg::Batch::new(
        4096,
        65_535usize.min(current.load().index.opts.edns_max_payload.max(512) as usize),
    );
    while !stop.load(Ordering::Relaxed) {
        let n = match batch.recv(&sock) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(_) => {
                worker.dropped();
                continue;
            }
        };
        // One load per batch: a batch is answered from one version, and
        // rate-limited at one second of the clock.
        let served = current.load();
        let now = start.elapsed().as_secs() as u32 + 1;
        let origin_len = served.index.origin.wire().len();
        if n > 1 {
            let mut qs: [&[u8]; warm::MAX] = [&[]; warm::MAX];
            for (i, q) in qs.iter_mut().enumerate().take(n) {
                *q = batch.query(i);
            }
            warm::batch(&served.index, &qs[..n.min(warm::MAX)]);
        }
        for i in 0..n {
            if let Some(h) = &hook
                && let Some(peer) = batch.peer(i)
            {
                let (q, out) = batch.slot(i);
                if q.len() > 2 && q[2] & 0x78 != 0 {
                    if let Some(r) = h(q, peer).filter(|r| r.len() <= out.len()) {
                        out[..r.len()].copy_from_slice(&r);
                        batch.respond(i, r.len());
                    }
                    continue;
                }
            }
            let peer = if rrl.is_some() { batch.peer(i) } else { None };
            let (q, out) = batch.slot(i);
            match answer(&served.index, q, Transport::Udp, out) {
                Some(o) => {
                    let len = match (rrl, peer) {
                        (Some(r), Some(p)) => {
                            limit(r, origin_len, out, &o, p.ip(), now, &mut slips)
                        }
                        _ => Some(o.len),
                    };
                    match len {
                        Some(n) => {
                            worker.count(Transport::Udp, &o);
                            batch.respond(i, n);
                        }
                        None => worker.dropped(),
                    }
                }
                None => worker.dropped(),
            }
        }
        drop(served);
        if batch.send(&sock).is_err() {
            worker.dropped();
        }
    }
}

/// Response rate limiting of one UDP answer ([`rrl`]): the length to send
/// (the answer, or an empty TC answer for a slip), or `None` to drop it.
/// `origin_len`: the zone's origin in wire form, in octets.
#[inline]
fn limit(
    r: &rrl::Rrl,
    origin_len: usize,
    out: &mut [u8],
    o: &answer::Outcome,
    peer: std::net::IpAddr,
    now: u32,
    slips: &mut u32,
) -> Option<usize> {
    use answer::Kind;
    let class = match o.kind {
        Kind::Referral => rrl::Class::Referral,
        Kind::NxDomain => rrl::Class::NxDomain,
        Kind::Refused | Kind::Error => rrl::Class::Error,
        Kind::Truncated if o.rcode == answer::rcode::NXDOMAIN as u16 => rrl::Class::NxDomain,
        _ => rrl::Class::Answer,
    };
    // The question name as the response echoes it (before QTYPE, QCLASS).
    let qname = out.get(12..o.qend.saturating_sub(4)).unwrap_or(&[]);
    let name = rrl::name_key(class, qname, o.qtype, origin_len);
    match r.check(peer, class, name, now, slips) {
        rrl::Verdict::Send => Some(o.len),
        rrl::Verdict::Drop => None,
        rrl::Verdict::Slip => {
            // Header and question only, TC set (RFC 2181 §9).
            out[2] |= 0x02;
            out[6..12].fill(0);
            Some(o.qend)
        }
    }
}

/// The running listeners: UDP worker threads and TCP tasks.
pub type Listeners = (
    Vec<std::thread::JoinHandle<()>>,
    Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
);

/// Start UDP workers and a TCP listener on every configured address: the
/// one start-up of the serving sockets, for the primary and for secondary
/// mode. Every address's sockets are bound before it is served, so an
/// address in use is one clear error, not a half-started server.
pub fn listen(
    cfg: &ServerConfig,
    current: &Current,
    stats: &Arc<Stats>,
    hook: Option<TcpHook>,
    udp_hook: Option<UdpHook>,
    stop: &Arc<AtomicBool>,
) -> Result<Listeners, ServeError> {
    let workers = if cfg.udp_workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        cfg.udp_workers
    };
    let (mut threads, mut tasks) = (Vec::new(), Vec::new());
    // One limiter for every address and worker: one source is one account.
    let rrl = rrl::Rrl::from_config(cfg).map(Arc::new);
    if let Some(r) = &rrl {
        stats.set_rrl(r.clone());
    }
    for &addr in &cfg.listen {
        let listener = tcp_listener(addr)?;
        threads.extend(spawn_udp(
            addr,
            workers,
            current.clone(),
            stats.clone(),
            udp_hook.clone(),
            rrl.clone(),
            stop.clone(),
        )?);
        tasks.push(tokio::spawn(serve_tcp(
            listener,
            cfg.clone(),
            current.clone(),
            stats.clone(),
            hook.clone(),
            stop.clone(),
        )));
        tracing::info!(%addr, udp_workers = workers, "listening");
    }
    Ok((threads, tasks))
}

/// Bind a TCP listener (SO_REUSEADDR, so a restart does not wait for TIME_WAIT).
pub fn tcp_listener(addr: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let err = |error| ServeError::Listen {
        addr,
        proto: "tcp",
        error,
    };
    let s =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(err)?;
    s.set_reuse_address(true).map_err(err)?;
    if addr.is_ipv6() {
        s.set_only_v6(true).map_err(err)?;
    }
    s.bind(&addr.into()).map_err(err)?;
    s.listen(1024).map_err(err)?;
    s.set_nonblocking(true).map_err(err)?;
    Ok(s.into())
}

/// Hook for TCP messages that are not plain queries (zone transfers).
/// Returns the response messages if it handled the message itself.
pub type TcpHook = Arc<dyn Fn(&[u8], SocketAddr, &Served) -> Option<Vec<Vec<u8>>> + Send + Sync>;

/// Serve TCP on `listener` until `stop` is set.
pub async fn serve_tcp(
    listener: std::net::TcpListener,
    cfg: ServerConfig,
    current: Current,
    stats: Arc<Stats>,
    hook: Option<TcpHook>,
    stop: Arc<AtomicBool>,
) -> io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let cap = Arc::new(Semaphore::new(cfg.tcp_max_connections.max(1)));
    let per_source = Arc::new(PerSource::new(cfg.tcp_max_connections_per_source.max(1)));
    let limits = TcpLimits {
        idle: Duration::from_millis(cfg.tcp_idle_timeout_ms.max(1)),
        write: Duration::from_millis(cfg.tcp_write_timeout_ms.max(1)),
        max_queries: cfg.tcp_max_queries,
    };
    while !stop.load(Ordering::Relaxed) {
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        let Ok(accepted) = accepted else { continue };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(_) => continue,
        };
        // RFC 7766 §6.2.2: over the cap, close at once rather than queue;
        // so too over one source's share of it.
        let Some(slot) = per_source.take(peer.ip()) else {
            stats.tcp_refused();
            drop(stream);
            continue;
        };
        let Ok(permit) = cap.clone().try_acquire_owned() else {
            stats.tcp_refused();
            drop(stream);
            continue;
        };
        let current = current.clone();
        let stats = stats.clone();
        let hook = hook.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _slot = slot;
            let _ = tcp_conn(stream, peer, current, stats, hook, limits).await;
        });
    }
    Ok(())
}

/// The per-connection limits of the TCP listener.
#[derive(Debug, Clone, Copy)]
struct TcpLimits {
    /// RFC 7766 §6.2.3: a connection with nothing answered this long is closed.
    idle: Duration,
    /// An answer not written within this (the client does not read) closes it.
    write: Duration,
    /// Answers per connection; 0: no limit.
    max_queries: u32,
}

/// Open TCP connections per source address, each at most `max`: a lock
/// and a map entry per connection accepted, nothing per query.
struct PerSource {
    max: usize,
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One source's connection, counted until dropped.
struct SourceSlot {
    of: Arc<PerSource>,
    ip: std::net::IpAddr,
}

impl PerSource {
    fn new(max: usize) -> PerSource {
        PerSource {
            max,
            open: Default::default(),
        }
    }

    /// A slot for one more connection from `ip`, or `None` at its limit.
    fn take(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<SourceSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(SourceSlot {
            of: self.clone(),
            ip,
        })
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Write `buf` within `limit`; a client that does not read in that time
/// loses the connection (its slot goes to someone else).
async fn write_within(
    stream: &mut tokio::net::TcpStream,
    buf: &[u8],
    limit: Duration,
) -> io::Result<()> {
    match tokio::time::timeout(limit, stream.write_all(buf)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client does not read its answers",
        )),
    }
}

async fn tcp_conn(
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
    current: Current,
    stats: Arc<Stats>,
    hook: Option<TcpHook>,
    limits: TcpLimits,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let worker = stats.worker();
    let mut msg = vec![0u8; 65_535];
    let mut out = vec![0u8; 65_537];
    let mut answered = 0u32;
    // RFC 7766 §6.2.3: the idle time runs from the last answer; messages
    // that get none (junk) do not keep the connection open.
    let mut deadline = tokio::time::Instant::now() + limits.idle;
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout_at(deadline, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let n = u16::from_be_bytes(len) as usize;
        match tokio::time::timeout_at(deadline, stream.read_exact(&mut msg[..n])).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let served = current.load_full();
        if let Some(h) = &hook
            && let Some(msgs) = h(&msg[..n], peer, &served)
        {
            for m in msgs {
                write_within(&mut stream, &(m.len() as u16).to_be_bytes(), limits.write).await?;
                write_within(&mut stream, &m, limits.write).await?;
            }
            deadline = tokio::time::Instant::now() + limits.idle;
            continue;
        }
        let Some(o) = answer(&served.index, &msg[..n], Transport::Tcp, &mut out[2..]) else {
            worker.dropped();
            continue;
        };
        worker.count(Transport::Tcp, &o);
        out[..2].copy_from_slice(&(o.len as u16).to_be_bytes());
        write_within(&mut stream, &out[..o.len + 2], limits.write).await?;
        deadline = tokio::time::Instant::now() + limits.idle;
        answered += 1;
        if limits.max_queries != 0 && answered >= limits.max_queries {
            return Ok(());
        }
    }
}
