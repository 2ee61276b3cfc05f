//! Zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) out over TCP, TSIG
//! (RFC 8945), NOTIFY (RFC 1996) out and in, and secondary mode.
//!
//! Owns who may transfer the zone and what they get; it reads published
//! versions (`Arc<SignedZone>`) and never builds or signs one. The serve
//! loop hands every published pair (old, new) to [`Primary::published`],
//! which computes the diff off the async threads ([`diff::diff`], a sorted
//! merge of the two versions' records), appends it to the IXFR history and
//! then notifies the secondaries, so a secondary asking after the NOTIFY
//! always finds the step it needs. Transfer requests reach
//! [`Primary::tcp_hook`] from the TCP server before the query path.
//!
//! Access: a transfer needs a valid TSIG with the key configured for a
//! secondary at the peer's address (`[[transfer.secondaries]]`); anything
//! else is refused (REFUSED, or NOTAUTH with the TSIG error, RFC 8945 §5.2).
//! TSIG-signed ordinary queries over TCP (the SOA check secondaries make)
//! are answered by the normal query path and signed.
//!
//! Secondary mode ([`secondary`]) pulls from primaries with the same
//! pieces: IXFR with AXFR fallback, TSIG, verification, then one atomic
//! swap into the same `Current` the server reads.

pub mod axfr;
pub mod diff;
pub mod ixfr;
pub mod msg;
pub mod notify;
pub mod secondary;
pub mod tsig;

use crate::config::Config;
use crate::name::Name;
use crate::rr::{class, rtype};
use crate::server::TcpHook;
use crate::server::answer::{Transport, answer, rcode};
use crate::store::Served;
use crate::zone::SignedZone;
use ixfr::History;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tracing::{info, warn};
use tsig::{Keyring, ResponseSigner, TsigKey};

/// Why the transfer configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum XfrConfigError {
    /// A `[[tsig-key]]` is unusable, or a secondary names a key that is not
    /// defined.
    #[error("{0}")]
    Tsig(#[from] tsig::TsigError),
}

/// A secondary we serve.
#[derive(Debug, Clone)]
struct Peer {
    address: SocketAddr,
    notify: bool,
    key: TsigKey,
}

struct Inner {
    origin: Name,
    ring: Keyring,
    peers: Vec<Peer>,
    history: Mutex<History>,
}

/// The primary side: IXFR history, transfer answers, NOTIFY out.
#[derive(Clone)]
pub struct Primary {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Primary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Primary({}, {} secondaries)",
            self.inner.origin,
            self.inner.peers.len()
        )
    }
}

/// Seconds since the epoch.
fn now() -> u64 {
    tldns_base::time::unix_now()
}

/// Offset of the question type, and the type (after an uncompressed qname).
fn peek_qtype(raw: &[u8]) -> Option<u16> {
    let mut i = 12;
    loop {
        let l = *raw.get(i)? as usize;
        if l == 0 {
            break;
        }
        if l > 63 {
            return None;
        }
        i += 1 + l;
    }
    Some(u16::from_be_bytes([*raw.get(i + 1)?, *raw.get(i + 2)?]))
}

impl Primary {
    /// From the `[transfer]` and `[[tsig-key]]` sections.
    pub fn new(config: &Config) -> Result<Primary, XfrConfigError> {
        let ring = Keyring::from_config(&config.zone.tsig_key)?;
        let mut peers = Vec::new();
        for s in &config.zone.transfer.secondaries {
            peers.push(Peer {
                address: s.address,
                notify: s.notify,
                key: ring.by_text(&s.tsig_key)?.clone(),
            });
        }
        Ok(Primary {
            inner: Arc::new(Inner {
                origin: config.origin.clone(),
                ring,
                peers,
                history: Mutex::new(History::new(config.zone.transfer.ixfr_history)),
            }),
        })
    }

    /// A new version went out: record the step for IXFR, then NOTIFY.
    /// Returns at once; the work runs on the blocking pool (diff) and as a
    /// task (NOTIFY). Without a runtime it diffs inline and skips NOTIFY.
    pub fn published(&self, old: &Arc<SignedZone>, new: &Arc<SignedZone>) {
        if old.serial() == new.serial() {
            return;
        }
        let (old, new) = (old.clone(), new.clone());
        let soa = ixfr::soa_record(&new);
        self.then_notify(soa, move || Arc::new(diff::diff(&old, &new)));
    }

    /// A new version went out and the step to it is known (the pipeline
    /// stored it): record it for IXFR, then NOTIFY.
    pub fn record(&self, step: Arc<diff::Diff>, new: &SignedZone) {
        self.then_notify(ixfr::soa_record(new), move || step);
    }

    /// Put steps read back from disk in the history (oldest first), before
    /// any version is published.
    pub fn seed(&self, steps: &[Arc<diff::Diff>]) {
        let mut h = self.inner.history.lock().unwrap_or_else(|p| p.into_inner());
        for d in steps {
            h.push_arc(d.clone());
        }
        if !steps.is_empty() {
            info!(
                steps = steps.len(),
                "IXFR history: read back from the journal"
            );
        }
    }

    /// Add the step `make` gives to the history (on the blocking pool),
    /// then NOTIFY the secondaries with `soa`.
    fn then_notify(
        &self,
        soa: crate::rr::Record,
        make: impl FnOnce() -> Arc<diff::Diff> + Send + 'static,
    ) {
        let inner = self.inner.clone();
        let record = move |inner: &Inner| {
            let d = make();
            info!(
                from = d.from(),
                to = d.to(),
                removed = d.removed.len(),
                added = d.added.len(),
                "IXFR history: new step"
            );
            inner
                .history
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_arc(d);
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            record(&inner);
            return;
        };
        rt.spawn(async move {
            let i2 = inner.clone();
            if tokio::task::spawn_blocking(move || record(&i2))
                .await
                .is_err()
            {
                warn!("IXFR history: diff task failed; transfers fall back to AXFR");
            }
            for p in inner.peers.iter().filter(|p| p.notify) {
                let (soa, key, addr) = (soa.clone(), p.key.clone(), p.address);
                tokio::spawn(async move {
                    let serial = msg::soa_serial(&soa.rdata).unwrap_or(0);
                    match notify::send(addr, &soa, Some(&key), notify::TRIES, notify::FIRST_WAIT)
                        .await
                    {
                        Ok(()) => info!(%addr, serial, "NOTIFY acknowledged"),
                        Err(e) => warn!(%addr, serial, error = %e, "NOTIFY failed"),
                    }
                });
            }
        });
    }

    /// The hook for [`crate::server::serve_tcp`].
    pub fn tcp_hook(&self) -> TcpHook {
        let me = self.clone();
        Arc::new(move |raw: &[u8], peer: SocketAddr, served: &Served| {
            // Building a whole-zone answer takes a while on a large TLD:
            // tell a multi-threaded runtime so other connections move on.
            let multi = tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
            if multi && matches!(peek_qtype(raw), Some(rtype::AXFR | rtype::IXFR)) {
                tokio::task::block_in_place(|| me.handle(raw, peer, served))
            } else {
                me.handle(raw, peer, served)
            }
        })
    }

    fn allowed(&self, ip: IpAddr, key: &Name) -> bool {
        self.inner
            .peers
            .iter()
            .any(|p| p.address.ip() == ip && &p.key.name == key)
    }

    /// Answer a TCP message if it is a transfer or a TSIG-signed query;
    /// `None` leaves it to the query path.
    pub fn handle(&self, raw: &[u8], peer: SocketAddr, served: &Served) -> Option<Vec<Vec<u8>>> {
        if raw.len() < 12 || raw[2] & 0x80 != 0 || (raw[2] >> 3) & 0x0F != msg::opcode::QUERY {
            return None;
        }
        let qtype = peek_qtype(raw);
        let is_xfr = matches!(qtype, Some(rtype::AXFR | rtype::IXFR));
        let arcount = u16::from_be_bytes([raw[10], raw[11]]);
        if !is_xfr && arcount == 0 {
            return None;
        }
        let m = msg::parse(raw).ok()?;
        if !is_xfr && m.tsig_at.is_none() {
            return None;
        }
        let t = now();
        let verified = match tsig::verify_request(raw, &m, &self.inner.ring, t) {
            Ok(v) => v,
            Err(refused) => {
                warn!(%peer, error = %refused.error, "TSIG check failed");
                let mut r = msg::bare_response(&m, rcode::NOTAUTH).finish();
                refused.append_to(&mut r, t);
                return Some(vec![r]);
            }
        };
        let signer = verified.as_ref().map(ResponseSigner::new);
        let finish = |mut r: Vec<u8>, s: Option<ResponseSigner>| {
            if let Some(mut s) = s {
                s.sign(&mut r, t);
            }
            vec![r]
        };
        if !is_xfr {
            // A signed ordinary query (secondaries' SOA checks): answer it
            // without its TSIG, then sign the answer.
            let stripped = tsig::strip(raw, m.tsig_at?, m.id);
            let mut out = vec![0u8; 65_535];
            let o = answer(&served.index, &stripped, Transport::Tcp, &mut out)?;
            out.truncate(o.len);
            return Some(finish(out, signer));
        }
        let q = m.question()?;
        let zone = &served.zone;
        let Some(v) = &verified else {
            warn!(%peer, "transfer refused: no TSIG");
            return Some(finish(
                msg::bare_response(&m, rcode::REFUSED).finish(),
                None,
            ));
        };
        if !self.allowed(peer.ip(), &v.key.name) {
            warn!(%peer, key = %v.key.name, "transfer refused: not a configured secondary");
            return Some(finish(
                msg::bare_response(&m, rcode::REFUSED).finish(),
                signer,
            ));
        }
        if q.name != zone.zone.origin || q.qclass != class::IN {
            return Some(finish(
                msg::bare_response(&m, rcode::NOTAUTH).finish(),
                signer,
            ));
        }
        if q.qtype == rtype::AXFR {
            let msgs = axfr::respond(&m, zone, signer, t);
            info!(%peer, key = %v.key.name, serial = zone.serial(), messages = msgs.len(), "AXFR out");
            return Some(msgs);
        }
        // RFC 1995 §3: the client's SOA is in the authority section.
        let Some(client) = m
            .authority
            .iter()
            .find(|r| r.rtype == rtype::SOA)
            .and_then(|r| msg::soa_serial(&r.rdata))
        else {
            return Some(finish(
                msg::bare_response(&m, rcode::FORMERR).finish(),
                signer,
            ));
        };
        let history = self.inner.history.lock().unwrap_or_else(|p| p.into_inner());
        let (msgs, how) = ixfr::respond(&m, client, zone, &history, signer, t);
        drop(history);
        match how {
            ixfr::Answered::Current => {
                info!(%peer, key = %v.key.name, serial = zone.serial(), "IXFR out: client is current")
            }
            ixfr::Answered::Incremental { steps } => info!(
                %peer, key = %v.key.name, from = client, to = zone.serial(), steps, messages = msgs.len(),
                "IXFR out: incremental"
            ),
            ixfr::Answered::AxfrStyle => info!(
                %peer, key = %v.key.name, from = client, to = zone.serial(), messages = msgs.len(),
                "IXFR out: history too short, AXFR-style (RFC 1995 §4)"
            ),
        }
        Some(msgs)
    }
}

#[cfg(test)]
mod tests {
    use super::msg::{Builder, parse};
    use super::*;
    use crate::index::{Index, Options};

    fn primary() -> Primary {
        let k = TsigKey::new(
            Name::parse("sec.").unwrap(),
            tsig::Algorithm::HmacSha256,
            b"0123456789",
        );
        Primary {
            inner: Arc::new(Inner {
                origin: Name::parse("mobile.").unwrap(),
                ring: ring_with(&k),
                peers: vec![Peer {
                    address: "127.0.0.1:53".parse().unwrap(),
                    notify: false,
                    key: k,
                }],
                history: Mutex::new(History::new(4)),
            }),
        }
    }

    fn ring_with(k: &TsigKey) -> Keyring {
        let cfg = crate::config::TsigKeyConfig {
            name: k.name.to_string(),
            algorithm: "hmac-sha256".into(),
            secret: data_encoding::BASE64.encode(b"0123456789"),
        };
        Keyring::from_config(&[cfg]).unwrap()
    }

    fn axfr_query() -> Vec<u8> {
        let mut b = Builder::new(3, 0, 512);
        b.question(&Name::parse("mobile.").unwrap(), rtype::AXFR, class::IN);
        b.finish()
    }

    /// RFC 5936 §6 and RFC 8945 §5.2: only a configured secondary with its
    /// key gets the zone.
    #[test]
    fn rfc5936_section_6_transfer_access() {
        let p = primary();
        let z = diff::tests::zone(9, &["a.mobile."]);
        let served = Served {
            index: Index::build(&z, Options::default()),
            zone: Arc::new(z),
        };
        let here: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let there: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        // Unsigned: REFUSED.
        let r = p.handle(&axfr_query(), here, &served).unwrap();
        assert_eq!(
            parse(&r[0]).unwrap().rcode(),
            tldns_base::iana::Rcode::REFUSED
        );
        // Signed with an unknown key: NOTAUTH, TSIG error BADKEY.
        let stranger = TsigKey::new(
            Name::parse("x.").unwrap(),
            tsig::Algorithm::HmacSha256,
            b"k",
        );
        let mut q = axfr_query();
        tsig::sign_request(&mut q, &stranger, now());
        let r = parse(&p.handle(&q, here, &served).unwrap()[0]).unwrap();
        assert_eq!(r.rcode(), tldns_base::iana::Rcode::NOTAUTH);
        assert_eq!(
            tsig::Tsig::of(&r).unwrap().unwrap().error,
            tsig::error::BADKEY
        );
        // The right key from the wrong address: REFUSED.
        let key = p.inner.peers[0].key.clone();
        let mut q = axfr_query();
        tsig::sign_request(&mut q, &key, now());
        let r = p.handle(&q, there, &served).unwrap();
        assert_eq!(
            parse(&r[0]).unwrap().rcode(),
            tldns_base::iana::Rcode::REFUSED
        );
        // The right key from the right address: the zone, signed.
        let mut q = axfr_query();
        let mac = tsig::sign_request(&mut q, &key, now());
        let msgs = p.handle(&q, here, &served).unwrap();
        let mut v = tsig::ResponseVerifier::new(&key, mac);
        let mut reader = ixfr::Reader::new(&served.zone.zone.origin, None);
        for m in &msgs {
            let pm = parse(m).unwrap();
            v.check(m, &pm, now()).unwrap();
            reader.feed(pm.answers).unwrap();
        }
        v.finish().unwrap();
        assert!(matches!(reader.finish().unwrap(), ixfr::Received::Full(_)));
        // A plain query is left to the query path.
        let mut b = Builder::new(4, 0, 512);
        b.question(&Name::parse("mobile.").unwrap(), rtype::SOA, class::IN);
        assert!(p.handle(&b.finish(), here, &served).is_none());
    }
}
