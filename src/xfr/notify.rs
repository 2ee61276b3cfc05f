//! NOTIFY (RFC 1996): telling secondaries that a new serial is out, and
//! accepting the primaries' NOTIFY in secondary mode.
//!
//! Out: over UDP, opcode NOTIFY, AA set, the zone's SOA as question and the
//! new SOA in the answer section (§3.7 hint), TSIG-signed when the
//! secondary has a key; retried with a doubling interval until a matching
//! NOTIFY response comes back (§3.6). In: only from configured primaries,
//! TSIG-checked when a key is configured, answered with a NOTIFY response
//! (§4.7) echoing the question.

use super::msg::{self, Builder, Message, flag, opcode};
use super::tsig::{self, Keyring, ResponseVerifier, TsigKey};
use crate::name::Name;
use crate::rr::{Record, class, rtype};
use crate::server::answer::rcode;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tldns_base::iana::Opcode;

/// Attempts per NOTIFY before giving up (the next serial notifies again).
pub const TRIES: u32 = 5;
/// Wait for the first answer; doubled after each try.
pub const FIRST_WAIT: Duration = Duration::from_secs(1);

/// Why a NOTIFY was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Binding, sending or receiving on the UDP socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// No matching answer after this many tries ([`TRIES`] for a new serial).
    #[error("no answer after {0} tries (RFC 1996 §3.6)")]
    NoAnswer(u32),
    /// The secondary answered with an RCODE other than NOERROR.
    #[error("answered with RCODE {0}")]
    Rcode(tldns_base::iana::Rcode),
    /// The answer to our signed NOTIFY is unsigned or does not verify.
    #[error("answer signature: {0}")]
    Tsig(#[from] tsig::TsigError),
}

fn random_id() -> u16 {
    let mut b = [0u8; 2];
    // A failing system RNG leaves ID 0: still a valid message.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u16::from_be_bytes(b)
}

/// The NOTIFY message for `soa` (the zone's new SOA record).
pub fn message(soa: &Record, id: u16) -> Vec<u8> {
    let mut b = Builder::new(id, ((opcode::NOTIFY as u16) << 11) | flag::AA, 512);
    b.question(&soa.owner, rtype::SOA, class::IN);
    b.rec(1, soa);
    b.finish()
}

/// Send one NOTIFY and wait for its answer, retrying (§3.6).
pub async fn send(
    to: SocketAddr,
    soa: &Record,
    key: Option<&TsigKey>,
    tries: u32,
    first_wait: Duration,
) -> Result<(), NotifyError> {
    let bind: SocketAddr = if to.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let sock = tokio::net::UdpSocket::bind(bind).await?;
    sock.connect(to).await?;
    let mut wait = first_wait;
    let mut buf = vec![0u8; 4096];
    for _ in 0..tries {
        let id = random_id();
        let mut m = message(soa, id);
        let mac = key.map(|k| tsig::sign_request(&mut m, k, tldns_base::time::unix_now()));
        sock.send(&m).await?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let got = tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await;
            let Ok(Ok(n)) = got else { break };
            let Ok(r) = msg::parse(&buf[..n]) else {
                continue;
            };
            if r.id != id || !r.is_response() || r.opcode() != Opcode::NOTIFY {
                continue;
            }
            if let (Some(k), Some(mac)) = (key, &mac) {
                let mut v = ResponseVerifier::new(k, mac.clone());
                v.check(&buf[..n], &r, tldns_base::time::unix_now())?;
            }
            if r.rcode() != tldns_base::iana::Rcode::NOERROR {
                return Err(NotifyError::Rcode(r.rcode()));
            }
            return Ok(());
        }
        wait *= 2;
    }
    Err(NotifyError::NoAnswer(tries))
}

/// A primary we accept NOTIFY from.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// The primary's address; NOTIFY from any other is refused.
    pub ip: IpAddr,
    /// The key its NOTIFY must be signed with, if any.
    pub key: Option<TsigKey>,
}

/// The answer to an incoming NOTIFY, and whether it should trigger a
/// refresh. `None`: not a NOTIFY request, or not answerable (dropped).
pub fn answer(
    raw: &[u8],
    peer: SocketAddr,
    origin: &Name,
    allowed: &[Allowed],
    ring: &Keyring,
) -> Option<(Vec<u8>, bool)> {
    let m = msg::parse(raw).ok()?;
    if m.is_response() || m.opcode() != Opcode::NOTIFY {
        return None;
    }
    let now = tldns_base::time::unix_now();
    let reply = |rc: u8| msg::bare_response(&m, rc);
    let verified = match tsig::verify_request(raw, &m, ring, now) {
        Ok(v) => v,
        Err(refused) => {
            let mut r = reply(rcode::NOTAUTH).finish();
            refused.append_to(&mut r, now);
            return Some((r, false));
        }
    };
    let sign = |mut r: Vec<u8>| {
        if let Some(v) = &verified {
            tsig::ResponseSigner::new(v).sign(&mut r, now);
        }
        r
    };
    let q = m.question();
    if q.is_none_or(|q| &q.name != origin || q.qtype != rtype::SOA) {
        return Some((sign(reply(rcode::NOTAUTH).finish()), false));
    }
    // §3.10 and RFC 8945: only our primaries, with their key if they have one.
    let ok = allowed.iter().any(|a| {
        a.ip == peer.ip()
            && match (&a.key, &verified) {
                (Some(k), Some(v)) => k.name == v.key.name,
                (None, _) => true,
                (Some(_), None) => false,
            }
    });
    if !ok {
        return Some((sign(reply(rcode::REFUSED).finish()), false));
    }
    let mut r = Builder::new(
        m.id,
        msg::response_flags(m.flags, true, rcode::NOERROR),
        512,
    );
    if let Some(q) = q {
        r.question(&q.name, q.qtype, q.qclass);
    }
    Some((sign(r.finish()), true))
}

/// Parse helper for callers holding only the raw message.
pub fn is_notify(raw: &[u8]) -> bool {
    raw.len() >= 12 && (raw[2] >> 3) & 0x0F == opcode::NOTIFY && raw[2] & 0x80 == 0
}

/// Whether a message is an answer to a NOTIFY (for tests).
pub fn is_notify_response(m: &Message) -> bool {
    m.is_response() && m.opcode() == Opcode::NOTIFY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1996_section_4_7_notify_answered_only_for_allowed_primary() {
        let o = Name::parse("mobile.").unwrap();
        let soa = crate::xfr::ixfr::soa_record(&crate::xfr::diff::tests::zone(5, &[]));
        let k = TsigKey::new(
            Name::parse("k.").unwrap(),
            tsig::Algorithm::HmacSha256,
            b"secret-secret-secret",
        );
        let ring = Keyring::default();
        let peer: SocketAddr = "127.0.0.1:999".parse().unwrap();
        let allowed = [Allowed {
            ip: peer.ip(),
            key: None,
        }];
        let (r, go) = answer(&message(&soa, 77), peer, &o, &allowed, &ring).unwrap();
        assert!(go);
        let p = msg::parse(&r).unwrap();
        assert!(is_notify_response(&p));
        assert_eq!(p.id, 77);
        // A stranger is refused.
        let other: SocketAddr = "192.0.2.1:999".parse().unwrap();
        let (r, go) = answer(&message(&soa, 78), other, &o, &allowed, &ring).unwrap();
        assert!(!go);
        assert_eq!(
            msg::parse(&r).unwrap().rcode(),
            tldns_base::iana::Rcode::REFUSED
        );
        // A primary with a key must sign.
        let keyed = [Allowed {
            ip: peer.ip(),
            key: Some(k),
        }];
        let (_, go) = answer(&message(&soa, 79), peer, &o, &keyed, &ring).unwrap();
        assert!(!go);
    }
}
