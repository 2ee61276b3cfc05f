//! One DNS exchange with one address, timed the way Spec 10 times it.
//!
//! Owns the sockets and the clock. UDP RTT (Spec 10 §3.3): from sending the
//! query to receiving the response. TCP RTT (§3.4): from the start of the
//! connection to its end, including the response, one query per connection;
//! the clock stops once the whole response is read and the connection is
//! closed on our side (the close is local: it does not wait for the
//! server's FIN). Sockets are blocking with deadlines; nothing else runs on
//! the thread while the clock runs.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// The transport protocol of a test: UDP or TCP (Spec 10 §3.3, §3.4).
/// Named apart from the server's `Transport`; reports and JSON still say
/// "transport", as Spec 10 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// UDP: one datagram each way (Spec 10 §3.3).
    Udp,
    /// TCP: one query on a connection of its own (Spec 10 §3.4).
    Tcp,
}

impl Protocol {
    /// `"udp"` or `"tcp"`, as reports and JSON lines name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        }
    }

    /// The SLR (Spec 10 §2): 500 ms for UDP, 1500 ms for TCP.
    pub fn slr(self) -> Duration {
        match self {
            Protocol::Udp => Duration::from_millis(500),
            Protocol::Tcp => Duration::from_millis(1500),
        }
    }

    /// Spec 10 §3.3/§3.4/§3.7: an RTT over 5 times the SLR is unanswered.
    pub fn limit(self) -> Duration {
        self.slr() * 5
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A response and how long it took.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The RTT as Spec 10 §3.3 (UDP) or §3.4 (TCP) measures it.
    pub rtt: Duration,
    /// The response message, without the TCP length prefix.
    pub response: Vec<u8>,
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// No matching, complete response within the limit (the `Duration`).
    #[error("no response within {}ms (5 x SLR, Spec 10 §3.7)", .0.as_millis())]
    Timeout(Duration),
    /// The server refused the connection (TCP), or ICMP said so (UDP).
    #[error("connection refused")]
    Refused,
    /// The connection ended (EOF, reset) before the whole response was read.
    #[error("connection closed before the whole response (Spec 10 §1.7)")]
    Closed,
    /// Any other socket error, as text.
    #[error("I/O error: {0}")]
    Io(String),
}

fn io_err(e: std::io::Error, limit: Duration) -> ExchangeError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => ExchangeError::Timeout(limit),
        ErrorKind::ConnectionRefused => ExchangeError::Refused,
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => {
            ExchangeError::Closed
        }
        _ => ExchangeError::Io(e.to_string()),
    }
}

/// Does `resp` answer `query` (same ID and question, RFC 5452 §9.1)?
pub fn matches(query: &[u8], resp: &[u8]) -> bool {
    if resp.len() < 12 || query.len() < 12 || resp[..2] != query[..2] || resp[2] & 0x80 == 0 {
        return false;
    }
    // The question of our query ends 11 octets before the end (the OPT RR).
    let q = &query[12..query.len() - 11];
    resp.get(12..12 + q.len())
        .is_some_and(|r| r.eq_ignore_ascii_case(q))
}

/// One query over UDP. Datagrams that do not match the query are ignored
/// (they may be late answers to an earlier test).
pub fn udp(addr: SocketAddr, query: &[u8], limit: Duration) -> Result<Exchange, ExchangeError> {
    let bind: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).map_err(|e| io_err(e, limit))?;
    sock.connect(addr).map_err(|e| io_err(e, limit))?;
    let mut buf = vec![0u8; 65535];
    let start = Instant::now();
    sock.send(query).map_err(|e| io_err(e, limit))?;
    loop {
        let left = limit
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or(ExchangeError::Timeout(limit))?;
        sock.set_read_timeout(Some(left))
            .map_err(|e| io_err(e, limit))?;
        let n = sock.recv(&mut buf).map_err(|e| io_err(e, limit))?;
        if matches(query, &buf[..n]) {
            let rtt = start.elapsed();
            buf.truncate(n);
            return Ok(Exchange { rtt, response: buf });
        }
    }
}

/// One query over TCP on a connection of its own (RFC 7766 §8 framing).
pub fn tcp(addr: SocketAddr, query: &[u8], limit: Duration) -> Result<Exchange, ExchangeError> {
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
    framed.extend_from_slice(query);
    let start = Instant::now();
    let left = |start: Instant| {
        limit
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or(ExchangeError::Timeout(limit))
    };
    let mut s = TcpStream::connect_timeout(&addr, limit).map_err(|e| io_err(e, limit))?;
    s.set_nodelay(true).map_err(|e| io_err(e, limit))?;
    s.set_write_timeout(Some(left(start)?))
        .map_err(|e| io_err(e, limit))?;
    s.write_all(&framed).map_err(|e| io_err(e, limit))?;
    let mut read_exact = |buf: &mut [u8]| -> Result<(), ExchangeError> {
        let mut got = 0;
        while got < buf.len() {
            s.set_read_timeout(Some(left(start)?))
                .map_err(|e| io_err(e, limit))?;
            match s.read(&mut buf[got..]) {
                Ok(0) => return Err(ExchangeError::Closed),
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e, limit)),
            }
        }
        Ok(())
    };
    let mut len = [0u8; 2];
    read_exact(&mut len)?;
    let mut resp = vec![0u8; u16::from_be_bytes(len) as usize];
    read_exact(&mut resp)?;
    let _ = s.shutdown(Shutdown::Both);
    drop(s);
    let rtt = start.elapsed();
    if rtt > limit {
        return Err(ExchangeError::Timeout(limit));
    }
    Ok(Exchange {
        rtt,
        response: resp,
    })
}

/// One exchange over `t`.
pub fn exchange(
    t: Protocol,
    addr: SocketAddr,
    query: &[u8],
    limit: Duration,
) -> Result<Exchange, ExchangeError> {
    match t {
        Protocol::Udp => udp(addr, query, limit),
        Protocol::Tcp => tcp(addr, query, limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec10_section_3_7_limits_are_five_times_the_slr() {
        assert_eq!(Protocol::Udp.limit(), Duration::from_millis(2500));
        assert_eq!(Protocol::Tcp.limit(), Duration::from_millis(7500));
    }

    #[test]
    fn nothing_listening_is_refused_or_times_out() {
        // A bound UDP socket we never read from: no ICMP, so a timeout.
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let q = super::super::query::query(1, &crate::name::Name::root(), 2);
        let e = udp(addr, &q, Duration::from_millis(50)).unwrap_err();
        assert_eq!(e, ExchangeError::Timeout(Duration::from_millis(50)));
        drop(silent);
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        assert_eq!(
            tcp(addr, &q, Duration::from_millis(200)).unwrap_err(),
            ExchangeError::Refused
        );
    }
}
