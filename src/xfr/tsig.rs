//! TSIG (RFC 8945): HMAC-SHA256 (required), HMAC-SHA512 and HMAC-SHA1 keys;
//! signing and checking of requests, of single responses and of the
//! message streams of a zone transfer (§5.3.1).
//!
//! Owns the MAC computation and the key ring built from the `[[tsig-key]]`
//! configuration; no I/O. HMAC-MD5 is not offered (RFC 8945 §6: "MUST NOT
//! use" for new deployments). MACs are compared in constant time; a
//! truncated MAC (§5.2.2.1) is refused as BADSIG. Every message of a
//! transfer we send is signed; on receipt up to 99 unsigned messages between
//! signed ones are accepted (§5.3.1).

use super::msg::Message;
use crate::config::TsigKeyConfig;
use crate::name::Name;
use crate::rr::{class, rtype};
use ring::hmac;

/// TSIG error codes (RFC 8945 §3, IANA "DNS RCODEs").
pub mod error {
    /// The MAC does not verify (RFC 8945 §5.2.2).
    pub const BADSIG: u16 = 16;
    /// The key is unknown or its algorithm does not match (RFC 8945 §5.2.1).
    pub const BADKEY: u16 = 17;
    /// Time signed is outside the fudge (RFC 8945 §5.2.3).
    pub const BADTIME: u16 = 18;
}

/// Allowed clock skew we put in our signatures (RFC 8945 §10: 300 seconds).
pub const FUDGE: u16 = 300;

/// Most unsigned messages allowed between two signed ones (RFC 8945 §5.3.1).
const MAX_UNSIGNED: usize = 99;

/// MAC algorithms (RFC 8945 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `hmac-sha1`; accepted for older peers (RFC 8945 §6: MAY).
    HmacSha1,
    /// `hmac-sha256`, the default and the one every implementation has
    /// (RFC 8945 §6: MUST).
    HmacSha256,
    /// `hmac-sha512`.
    HmacSha512,
}

impl Algorithm {
    /// From the configuration spelling (`hmac-sha256`) or the algorithm's
    /// domain name (`hmac-sha256.`).
    pub fn from_text(s: &str) -> Option<Algorithm> {
        match s.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha1" => Some(Algorithm::HmacSha1),
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            "hmac-sha512" => Some(Algorithm::HmacSha512),
            _ => None,
        }
    }

    /// The configuration spelling, which is also the algorithm's name
    /// without the trailing dot.
    pub fn text(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm's name as it appears in the TSIG RDATA.
    pub fn name(self) -> Name {
        Name::parse(self.text()).expect("algorithm names are valid domain names")
    }

    fn ring(self) -> hmac::Algorithm {
        match self {
            Algorithm::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::HmacSha256 => hmac::HMAC_SHA256,
            Algorithm::HmacSha512 => hmac::HMAC_SHA512,
        }
    }
}

/// A shared secret.
#[derive(Clone)]
pub struct TsigKey {
    /// The key's name, which both ends configure (`xfr.mobile.`).
    pub name: Name,
    /// The MAC algorithm.
    pub algorithm: Algorithm,
    secret: hmac::Key,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TsigKey({} {})", self.name, self.algorithm.text())
    }
}

impl TsigKey {
    /// A key from its name, algorithm and secret octets.
    pub fn new(name: Name, algorithm: Algorithm, secret: &[u8]) -> TsigKey {
        TsigKey {
            name,
            algorithm,
            secret: hmac::Key::new(algorithm.ring(), secret),
        }
    }
}

/// What went wrong with a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsigError {
    /// The key name (or its algorithm) is not one we have; holds the name.
    #[error("unknown TSIG key {0} (RFC 8945 §5.2.1: BADKEY)")]
    BadKey(Name),
    /// The MAC is wrong or truncated; holds the key name.
    #[error("TSIG MAC does not verify with key {0} (RFC 8945 §5.2.2: BADSIG)")]
    BadSig(Name),
    /// The MAC verifies but the time signed is more than the fudge away
    /// from our clock.
    #[error("TSIG time signed is outside the fudge (RFC 8945 §5.2.3: BADTIME)")]
    BadTime,
    /// A response to our signed request is unsigned where it must be
    /// signed: the first message, the last, or after 99 unsigned ones.
    #[error("unsigned response to a signed request (RFC 8945 §5.3)")]
    Unsigned,
    /// The peer's TSIG carries a non-zero error (BADKEY, BADSIG, BADTIME...);
    /// holds the code (see [`error`]).
    #[error("the peer answered with TSIG error {0} (RFC 8945 §3)")]
    Peer(u16),
    /// The TSIG record's RDATA cannot be read.
    #[error("malformed TSIG record (RFC 8945 §4.2)")]
    Malformed,
    /// A `[[tsig-key]]` entry is unusable (bad name, unknown algorithm,
    /// secret not base64 or empty, defined twice), or a key named elsewhere
    /// in the configuration is not defined.
    #[error("tsig-key {name:?}: {reason}")]
    Config {
        /// The key name as written.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// The configured keys.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<TsigKey>,
}

impl Keyring {
    /// The keys of `[[tsig-key]]`, checked.
    pub fn from_config(cfg: &[TsigKeyConfig]) -> Result<Keyring, TsigError> {
        let mut keys = Vec::new();
        for k in cfg {
            let bad = |reason: String| TsigError::Config {
                name: k.name.clone(),
                reason,
            };
            let name = Name::parse(&k.name).map_err(|e| bad(e.to_string()))?;
            let algorithm = Algorithm::from_text(&k.algorithm).ok_or_else(|| {
                bad(format!(
                    "algorithm {:?}: supported are hmac-sha256, hmac-sha512, hmac-sha1",
                    k.algorithm
                ))
            })?;
            let secret = data_encoding::BASE64
                .decode(k.secret.trim().as_bytes())
                .map_err(|e| bad(format!("secret is not base64: {e}")))?;
            if secret.is_empty() {
                return Err(bad("empty secret".into()));
            }
            if keys.iter().any(|x: &TsigKey| x.name == name) {
                return Err(bad("defined twice".into()));
            }
            keys.push(TsigKey::new(name, algorithm, &secret));
        }
        Ok(Keyring { keys })
    }

    /// The key of this name, if configured.
    pub fn get(&self, name: &Name) -> Option<&TsigKey> {
        self.keys.iter().find(|k| &k.name == name)
    }

    /// The key named in configuration text.
    pub fn by_text(&self, name: &str) -> Result<&TsigKey, TsigError> {
        let n = Name::parse(name).map_err(|e| TsigError::Config {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        self.get(&n).ok_or_else(|| TsigError::Config {
            name: name.to_string(),
            reason: "no [[tsig-key]] with this name".into(),
        })
    }
}

/// A parsed TSIG record (RFC 8945 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tsig {
    /// The key name: the record's owner.
    pub key: Name,
    /// Algorithm Name (`hmac-sha256.`).
    pub algorithm: Name,
    /// Time Signed, seconds since the epoch (48 bits on the wire).
    pub time: u64,
    /// Fudge: seconds of clock skew permitted.
    pub fudge: u16,
    /// The MAC.
    pub mac: Vec<u8>,
    /// Original ID: the message ID when it was signed.
    pub original_id: u16,
    /// Error: a TSIG RCODE (see [`error`]), 0 for none.
    pub error: u16,
    /// Other Data; with BADTIME the responder's time (§5.2.3).
    pub other: Vec<u8>,
}

impl Tsig {
    fn parse(owner: &Name, r: &[u8]) -> Option<Tsig> {
        let (algorithm, i) = crate::rr::read_name(r, 0)?;
        let t = r.get(i..i + 6)?;
        let time = t.iter().fold(0u64, |a, &b| (a << 8) | b as u64);
        let u16_at = |j: usize| Some(u16::from_be_bytes([*r.get(j)?, *r.get(j + 1)?]));
        let fudge = u16_at(i + 6)?;
        let mlen = u16_at(i + 8)? as usize;
        let mac = r.get(i + 10..i + 10 + mlen)?.to_vec();
        let j = i + 10 + mlen;
        let original_id = u16_at(j)?;
        let error = u16_at(j + 2)?;
        let olen = u16_at(j + 4)? as usize;
        let other = r.get(j + 6..j + 6 + olen)?.to_vec();
        if j + 6 + olen != r.len() {
            return None;
        }
        Some(Tsig {
            key: owner.clone(),
            algorithm,
            time,
            fudge,
            mac,
            original_id,
            error,
            other,
        })
    }

    /// The TSIG record of a parsed message, if it has one.
    pub fn of(m: &Message) -> Result<Option<Tsig>, TsigError> {
        if m.tsig_at.is_none() {
            return Ok(None);
        }
        let rr = m.additional.last().ok_or(TsigError::Malformed)?;
        if rr.class != class::ANY || rr.ttl != 0 {
            return Err(TsigError::Malformed);
        }
        Tsig::parse(&rr.owner, &rr.rdata)
            .map(Some)
            .ok_or(TsigError::Malformed)
    }
}

fn time48(t: u64) -> [u8; 6] {
    let b = t.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// TSIG variables (RFC 8945 §4.3.3).
fn variables(key: &Name, alg: &Name, time: u64, fudge: u16, error: u16, other: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(key.wire_len() + alg.wire_len() + 24 + other.len());
    v.extend_from_slice(key.wire());
    v.extend_from_slice(&class::ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(alg.wire());
    v.extend_from_slice(&time48(time));
    v.extend_from_slice(&fudge.to_be_bytes());
    v.extend_from_slice(&error.to_be_bytes());
    v.extend_from_slice(&(other.len() as u16).to_be_bytes());
    v.extend_from_slice(other);
    v
}

/// Timers only, for the second and later messages of a stream (§5.3.1).
fn timers(time: u64, fudge: u16) -> Vec<u8> {
    let mut v = time48(time).to_vec();
    v.extend_from_slice(&fudge.to_be_bytes());
    v
}

fn compute(key: &TsigKey, prior: Option<&[u8]>, msgs: &[&[u8]], vars: &[u8]) -> Vec<u8> {
    let mut ctx = hmac::Context::with_key(&key.secret);
    if let Some(p) = prior {
        ctx.update(&(p.len() as u16).to_be_bytes());
        ctx.update(p);
    }
    for m in msgs {
        ctx.update(m);
    }
    ctx.update(vars);
    ctx.sign().as_ref().to_vec()
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The message as it was before its TSIG was added: TSIG cut off, ARCOUNT
/// one less, the original ID back (§4.3.1).
pub fn strip(msg: &[u8], tsig_at: usize, original_id: u16) -> Vec<u8> {
    let mut v = msg[..tsig_at].to_vec();
    v[0..2].copy_from_slice(&original_id.to_be_bytes());
    let ar = u16::from_be_bytes([v[10], v[11]]).saturating_sub(1);
    v[10..12].copy_from_slice(&ar.to_be_bytes());
    v
}

#[allow(clippy::too_many_arguments)]
fn append(
    msg: &mut Vec<u8>,
    key: &Name,
    alg: &Name,
    time: u64,
    fudge: u16,
    mac: &[u8],
    error: u16,
    other: &[u8],
) {
    let original_id = [msg[0], msg[1]];
    let mut rd = Vec::with_capacity(alg.wire_len() + 16 + mac.len() + other.len());
    rd.extend_from_slice(alg.wire());
    rd.extend_from_slice(&time48(time));
    rd.extend_from_slice(&fudge.to_be_bytes());
    rd.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rd.extend_from_slice(mac);
    rd.extend_from_slice(&original_id);
    rd.extend_from_slice(&error.to_be_bytes());
    rd.extend_from_slice(&(other.len() as u16).to_be_bytes());
    rd.extend_from_slice(other);
    msg.extend_from_slice(key.wire());
    msg.extend_from_slice(&rtype::TSIG.to_be_bytes());
    msg.extend_from_slice(&class::ANY.to_be_bytes());
    msg.extend_from_slice(&0u32.to_be_bytes());
    msg.extend_from_slice(&(rd.len() as u16).to_be_bytes());
    msg.extend_from_slice(&rd);
    let ar = u16::from_be_bytes([msg[10], msg[11]]) + 1;
    msg[10..12].copy_from_slice(&ar.to_be_bytes());
}

/// Octets a TSIG record with `key` adds to a message.
pub fn overhead(key: &TsigKey) -> usize {
    key.name.wire_len() + 10 + key.algorithm.name().wire_len() + 16 + 64 + 6
}

/// Sign a request; returns its MAC, which the response is checked against.
pub fn sign_request(msg: &mut Vec<u8>, key: &TsigKey, now: u64) -> Vec<u8> {
    let alg = key.algorithm.name();
    let vars = variables(&key.name, &alg, now, FUDGE, 0, &[]);
    let mac = compute(key, None, &[msg], &vars);
    append(msg, &key.name, &alg, now, FUDGE, &mac, 0, &[]);
    mac
}

/// A request whose TSIG verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The key it was signed with.
    pub key: TsigKey,
    /// Its MAC, which the first response's MAC covers (§5.3.1).
    pub mac: Vec<u8>,
}

/// A request whose TSIG did not verify: what to put in the NOTAUTH answer.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Why it did not verify.
    pub error: TsigError,
    tsig: Tsig,
    /// Known key with a good MAC but a bad time: the answer is signed.
    signed_by: Option<Verified>,
}

/// Check the TSIG of a request (RFC 8945 §5.2). `Ok(None)`: unsigned.
pub fn verify_request(
    raw: &[u8],
    m: &Message,
    ring: &Keyring,
    now: u64,
) -> Result<Option<Verified>, Box<Refused>> {
    let tsig = match Tsig::of(m) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(None),
        Err(error) => {
            // Nothing to echo: answer as if the key were unknown.
            let tsig = Tsig {
                key: Name::root(),
                algorithm: Algorithm::HmacSha256.name(),
                time: now,
                fudge: FUDGE,
                mac: Vec::new(),
                original_id: m.id,
                error: 0,
                other: Vec::new(),
            };
            return Err(Box::new(Refused {
                error,
                tsig,
                signed_by: None,
            }));
        }
    };
    let refuse = |error: TsigError, tsig: Tsig, signed_by: Option<Verified>| {
        Box::new(Refused {
            error,
            tsig,
            signed_by,
        })
    };
    let Some(key) = ring
        .get(&tsig.key)
        .filter(|k| Algorithm::from_text(&tsig.algorithm.to_string()) == Some(k.algorithm))
    else {
        return Err(refuse(TsigError::BadKey(tsig.key.clone()), tsig, None));
    };
    let stripped = strip(raw, m.tsig_at.unwrap_or(raw.len()), tsig.original_id);
    let vars = variables(
        &tsig.key,
        &tsig.algorithm,
        tsig.time,
        tsig.fudge,
        tsig.error,
        &tsig.other,
    );
    let mac = compute(key, None, &[&stripped], &vars);
    if !same(&mac, &tsig.mac) {
        return Err(refuse(TsigError::BadSig(tsig.key.clone()), tsig, None));
    }
    let v = Verified {
        key: key.clone(),
        mac,
    };
    if now.abs_diff(tsig.time) > tsig.fudge as u64 {
        return Err(refuse(TsigError::BadTime, tsig, Some(v)));
    }
    Ok(Some(v))
}

impl Refused {
    /// Add the TSIG record of the NOTAUTH answer (§5.2.1-5.2.3): unsigned
    /// for BADKEY/BADSIG, signed with our time in Other Data for BADTIME.
    pub fn append_to(&self, msg: &mut Vec<u8>, now: u64) {
        let code = match self.error {
            TsigError::BadTime => error::BADTIME,
            TsigError::BadSig(_) => error::BADSIG,
            _ => error::BADKEY,
        };
        match &self.signed_by {
            Some(v) => {
                let other = time48(now);
                let mut s = ResponseSigner::new(v);
                s.sign_with(msg, self.tsig.time, code, &other);
            }
            None => append(
                msg,
                &self.tsig.key,
                &self.tsig.algorithm,
                self.tsig.time,
                self.tsig.fudge,
                &[],
                code,
                &[],
            ),
        }
    }
}

/// Signs the responses to one verified request: the first with the
/// request's MAC, each later one with the MAC before it (§5.3.1).
#[derive(Debug, Clone)]
pub struct ResponseSigner {
    key: TsigKey,
    prior: Vec<u8>,
    first: bool,
}

impl ResponseSigner {
    /// A signer for the responses to the verified request `v`.
    pub fn new(v: &Verified) -> ResponseSigner {
        ResponseSigner {
            key: v.key.clone(),
            prior: v.mac.clone(),
            first: true,
        }
    }

    /// The key responses are signed with.
    pub fn key(&self) -> &TsigKey {
        &self.key
    }

    /// Append a TSIG record to the next response message `msg`, signed at
    /// `now` (seconds since the epoch).
    pub fn sign(&mut self, msg: &mut Vec<u8>, now: u64) {
        self.sign_with(msg, now, 0, &[]);
    }

    fn sign_with(&mut self, msg: &mut Vec<u8>, now: u64, err: u16, other: &[u8]) {
        let alg = self.key.algorithm.name();
        let vars = if self.first {
            variables(&self.key.name, &alg, now, FUDGE, err, other)
        } else {
            timers(now, FUDGE)
        };
        let mac = compute(&self.key, Some(&self.prior), &[msg], &vars);
        append(msg, &self.key.name, &alg, now, FUDGE, &mac, err, other);
        self.prior = mac;
        self.first = false;
    }
}

/// Checks the responses to a request we signed, message by message; up to
/// 99 unsigned messages may sit between two signed ones (§5.3.1).
#[derive(Debug, Clone)]
pub struct ResponseVerifier {
    key: TsigKey,
    prior: Vec<u8>,
    first: bool,
    pending: Vec<u8>,
    unsigned: usize,
}

impl ResponseVerifier {
    /// A verifier for the responses to a request signed with `key` whose
    /// MAC was `request_mac`.
    pub fn new(key: &TsigKey, request_mac: Vec<u8>) -> ResponseVerifier {
        ResponseVerifier {
            key: key.clone(),
            prior: request_mac,
            first: true,
            pending: Vec::new(),
            unsigned: 0,
        }
    }

    /// Check the next response: `raw` as received, `m` parsed from it, at
    /// `now`. An unsigned message is held and covered by the next MAC.
    pub fn check(&mut self, raw: &[u8], m: &Message, now: u64) -> Result<(), TsigError> {
        let Some(t) = Tsig::of(m)? else {
            if self.first || self.unsigned >= MAX_UNSIGNED {
                return Err(TsigError::Unsigned);
            }
            self.pending.extend_from_slice(raw);
            self.unsigned += 1;
            return Ok(());
        };
        if t.error != 0 {
            return Err(TsigError::Peer(t.error));
        }
        if t.key != self.key.name
            || Algorithm::from_text(&t.algorithm.to_string()) != Some(self.key.algorithm)
        {
            return Err(TsigError::BadKey(t.key));
        }
        let stripped = strip(raw, m.tsig_at.unwrap_or(raw.len()), t.original_id);
        let vars = if self.first {
            variables(&t.key, &t.algorithm, t.time, t.fudge, t.error, &t.other)
        } else {
            timers(t.time, t.fudge)
        };
        let mac = compute(
            &self.key,
            Some(&self.prior),
            &[&self.pending, &stripped],
            &vars,
        );
        if !same(&mac, &t.mac) {
            return Err(TsigError::BadSig(t.key));
        }
        if now.abs_diff(t.time) > t.fudge as u64 {
            return Err(TsigError::BadTime);
        }
        self.prior = mac;
        self.first = false;
        self.pending.clear();
        self.unsigned = 0;
        Ok(())
    }

    /// The last message of a stream must be signed (§5.3.1).
    pub fn finish(&self) -> Result<(), TsigError> {
        if self.first || self.unsigned != 0 {
            return Err(TsigError::Unsigned);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::msg::{Builder, parse};
    use super::*;

    fn key() -> TsigKey {
        TsigKey::new(
            Name::parse("xfr.").unwrap(),
            Algorithm::HmacSha256,
            b"0123456789abcdef0123456789abcdef",
        )
    }

    fn query() -> Vec<u8> {
        let mut b = Builder::new(42, 0, 512);
        b.question(&Name::parse("mobile.").unwrap(), rtype::AXFR, 1);
        b.finish()
    }

    #[test]
    fn rfc8945_section_5_request_and_stream() {
        let k = key();
        let ring = Keyring {
            keys: vec![k.clone()],
        };
        let mut q = query();
        let qmac = sign_request(&mut q, &k, 1000);
        let m = parse(&q).unwrap();
        let v = verify_request(&q, &m, &ring, 1010).unwrap().unwrap();
        assert_eq!(v.mac, qmac);
        // A stream of three signed responses checks in order...
        let mut s = ResponseSigner::new(&v);
        let mut client = ResponseVerifier::new(&k, qmac.clone());
        for i in 0..3u64 {
            let mut r = Builder::new(42, 0x8400, 512).finish();
            s.sign(&mut r, 1001 + i);
            client.check(&r, &parse(&r).unwrap(), 1005).unwrap();
        }
        client.finish().unwrap();
        // ...and a message altered on the way does not.
        let mut s = ResponseSigner::new(&v);
        let mut client = ResponseVerifier::new(&k, qmac);
        let mut r = Builder::new(42, 0x8400, 512).finish();
        s.sign(&mut r, 1001);
        r[3] ^= 1;
        assert!(matches!(
            client.check(&r, &parse(&r).unwrap(), 1005),
            Err(TsigError::BadSig(_))
        ));
    }

    #[test]
    fn rfc8945_section_5_2_bad_key_sig_time() {
        let k = key();
        let ring = Keyring {
            keys: vec![k.clone()],
        };
        let other = TsigKey::new(k.name.clone(), Algorithm::HmacSha256, b"another secret!!");
        let mut q = query();
        sign_request(&mut q, &other, 1000);
        let m = parse(&q).unwrap();
        let e = verify_request(&q, &m, &ring, 1000).unwrap_err();
        assert!(matches!(e.error, TsigError::BadSig(_)));
        let mut q = query();
        sign_request(&mut q, &k, 1000);
        let m = parse(&q).unwrap();
        let e = verify_request(&q, &m, &ring, 5000).unwrap_err();
        assert_eq!(e.error, TsigError::BadTime);
        let e = verify_request(&q, &m, &Keyring::default(), 1000).unwrap_err();
        assert!(matches!(e.error, TsigError::BadKey(_)));
        // The NOTAUTH answer carries the error code.
        let mut r = Builder::new(42, 0x8009, 512).finish();
        e.append_to(&mut r, 1000);
        let t = Tsig::of(&parse(&r).unwrap()).unwrap().unwrap();
        assert_eq!(t.error, error::BADKEY);
        assert!(t.mac.is_empty());
    }
}
