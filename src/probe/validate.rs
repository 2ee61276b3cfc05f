//! Is a response "answered" in the sense of Spec 10 §3.7? The chain of
//! trust from the anchor to every RRset the answer relies on, and the
//! registry's data in it.
//!
//! Owns, independently of `crate::dnssec` (the signer) and of the server:
//! the trust anchor (DS or DNSKEY, RFC 4034 §5 and §2), the DNSKEY RRset
//! check (RFC 4035 §5.2), RRSIG verification (RFC 4034 §3.1.8.1, RFC 4035
//! §5.3) and the shape of the four answers a TLD gives: positive at the
//! apex, referral, name error, no data (RFC 1034 §4.3.2, RFC 4035 §3.1).
//! It does no I/O. Denial proofs are in [`super::nsec3`].

use super::nsec3::{Denial, ProofError};
use crate::keytag::key_tag;
use crate::name::Name;
use crate::rdata::{Dnskey, Ds, Rrsig, Soa};
use crate::rr::{rtype, type_name};
use ring::digest;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use std::path::{Path, PathBuf};
use tldns_base::iana::{DigestAlg, Rcode, SecAlg};
use tldns_base::message::{Message, Rr, WireError, flag};
use tldns_base::serial::Serial;

/// What the probe trusts: the parent's DS records, or DNSKEYs configured
/// statically (Spec 10 §3.7: "against a corresponding DS record published
/// in the parent zone or ... a statically configured Trust Anchor").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The zone the anchor is for; every record read must be owned by it.
    pub zone: Name,
    /// DS records: a DNSKEY is trusted if one of them matches its digest.
    pub ds: Vec<Ds>,
    /// Static DNSKEYs, as RDATA: a DNSKEY is trusted if it is one of them.
    pub dnskeys: Vec<Vec<u8>>,
}

/// A trust anchor that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// A file or the keys directory cannot be read.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// A file is not in presentation format.
    #[error(transparent)]
    Syntax(#[from] crate::zonefile::ZoneFileError),
    /// A DS or DNSKEY record's RDATA does not parse.
    #[error("{path}:{line}: {error}")]
    Rdata {
        /// The file.
        path: PathBuf,
        /// The record's line in the file.
        line: usize,
        /// What is wrong with the RDATA.
        error: crate::zonefile::RdataError,
    },
    /// A DS or DNSKEY record is owned by another name than the zone.
    #[error("{path}:{line}: {owner} is not the zone {zone}")]
    Owner {
        /// The file.
        path: PathBuf,
        /// The record's line in the file.
        line: usize,
        /// The record's owner.
        owner: Name,
        /// The zone under test.
        zone: Name,
    },
    /// Nothing read holds a DS or DNSKEY record for the zone.
    #[error("{path}: no DS or DNSKEY record for {zone}")]
    Empty {
        /// The path given.
        path: PathBuf,
        /// The zone under test.
        zone: Name,
    },
}

impl TrustAnchor {
    /// Read DS and DNSKEY records in presentation format from a file (a
    /// `.ds` file, a BIND `K*.key` file, or a zone file), or from every
    /// `K*.key` and `*.ds` file of a keys directory. Other types are ignored.
    pub fn read(path: &Path, zone: &Name) -> Result<TrustAnchor, AnchorError> {
        let mut files = Vec::new();
        if path.is_dir() {
            let rd = std::fs::read_dir(path).map_err(|error| AnchorError::Read {
                path: path.to_path_buf(),
                error,
            })?;
            for e in rd.flatten() {
                let p = e.path();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.ends_with(".ds") || (name.starts_with('K') && name.ends_with(".key")) {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        let mut ta = TrustAnchor {
            zone: zone.clone(),
            ds: Vec::new(),
            dnskeys: Vec::new(),
        };
        for f in &files {
            let text = std::fs::read_to_string(f).map_err(|error| AnchorError::Read {
                path: f.clone(),
                error,
            })?;
            ta.add_text(&text, f)?;
        }
        if ta.ds.is_empty() && ta.dnskeys.is_empty() {
            return Err(AnchorError::Empty {
                path: path.to_path_buf(),
                zone: zone.clone(),
            });
        }
        Ok(ta)
    }

    /// Add the DS and DNSKEY records of `text`; `path` is for messages.
    pub fn add_text(&mut self, text: &str, path: &Path) -> Result<(), AnchorError> {
        // K-files carry no TTL; a TTL means nothing in an anchor.
        let text = format!("$TTL 0\n{text}");
        for e in crate::zonefile::parse_str(&text, path, Some(&self.zone))? {
            if e.rtype != rtype::DS && e.rtype != rtype::DNSKEY {
                continue;
            }
            let line = e.line.saturating_sub(1);
            if e.owner != self.zone {
                return Err(AnchorError::Owner {
                    path: path.to_path_buf(),
                    line,
                    owner: e.owner,
                    zone: self.zone.clone(),
                });
            }
            let rd = e.rdata_wire().map_err(|error| AnchorError::Rdata {
                path: path.to_path_buf(),
                line,
                error,
            })?;
            if e.rtype == rtype::DS {
                if let Ok(ds) = Ds::from_rdata(&rd) {
                    self.ds.push(ds);
                }
            } else {
                self.dnskeys.push(rd);
            }
        }
        Ok(())
    }
}

/// A signature that does not validate (RFC 4035 §5.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The RRset came without an RRSIG covering it.
    #[error("{owner} {}: no RRSIG (RFC 4035 §3.1.1)", type_name(*.rtype))]
    Missing {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
    },
    /// The signature does not verify with the key it names.
    #[error("{owner} {}: signature by key {key_tag} does not verify (RFC 4035 §5.3.3)", type_name(*.rtype))]
    Bogus {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The RRSIG's key tag.
        key_tag: u16,
    },
    /// No trusted zone key has the RRSIG's key tag and algorithm.
    #[error("{owner} {}: no zone key with tag {key_tag} algorithm {algorithm} (RFC 4035 §5.3.1)", type_name(*.rtype))]
    UnknownKey {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The RRSIG's key tag.
        key_tag: u16,
        /// The RRSIG's algorithm.
        algorithm: u8,
    },
    /// Now is before the inception or after the expiration (RFC 1982
    /// arithmetic on 32-bit seconds).
    #[error("{owner} {}: signature not valid now (inception {inception}, expiration {expiration}, now {now}; RFC 4034 §3.1.5)", type_name(*.rtype))]
    Time {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The RRSIG's inception, seconds modulo 2^32.
        inception: u32,
        /// The RRSIG's expiration, seconds modulo 2^32.
        expiration: u32,
        /// The probe's clock, seconds modulo 2^32.
        now: u32,
    },
    /// The RRSIG's signer name is not the zone.
    #[error("{owner} {}: signer {signer} is not the zone (RFC 4035 §5.3.1)", type_name(*.rtype))]
    Signer {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The signer name the RRSIG gives.
        signer: Name,
    },
    /// The labels field is not the owner's label count (a wildcard
    /// expansion, which a TLD does not have).
    #[error("{owner} {}: labels field {labels} (no wildcards in a TLD; RFC 4034 §3.1.3)", type_name(*.rtype))]
    Labels {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The RRSIG's labels field.
        labels: u8,
    },
    /// The RRSIG's RDATA does not parse.
    #[error("{owner} {}: malformed RRSIG", type_name(*.rtype))]
    Malformed {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
    },
}

impl SigError {
    fn code(&self) -> &'static str {
        match self {
            SigError::Missing { .. } => "missing-signature",
            SigError::Time { .. } => "signature-time",
            _ => "bogus-signature",
        }
    }
}

/// Why the DNSKEY RRset is not trusted (RFC 4035 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnskeyError {
    /// The answer has no DNSKEY RRset at the zone's apex.
    #[error("no DNSKEY RRset for the zone")]
    Missing,
    /// No key of the RRset is an anchor DNSKEY or matches an anchor DS.
    #[error("no DNSKEY matches the trust anchor (RFC 4035 §5.2)")]
    NoAnchorMatch,
    /// No RRSIG over the RRset by a trusted key verifies.
    #[error("DNSKEY RRset not signed by a trust-anchor key: {0}")]
    NotSigned(SigError),
}

/// What the response got wrong about the registry's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WrongAnswer {
    /// The question section is not the query's name and type.
    #[error("not a response to the query")]
    Question,
    /// The RCODE is not the one the expected answer has.
    #[error("RCODE {got}, expected {expected}")]
    Rcode {
        /// The response's RCODE.
        got: u16,
        /// NOERROR or NXDOMAIN, as expected.
        expected: u16,
    },
    /// AA is clear on an authoritative answer, or set on a referral.
    #[error("AA is {}, expected {}", if *.got { "set" } else { "clear" }, if *.got { "clear" } else { "set" })]
    Aa {
        /// Whether the response had AA set.
        got: bool,
    },
    /// A positive answer lacks the RRset asked for.
    #[error("no {owner} {} in the answer", type_name(*.rtype))]
    NoAnswer {
        /// The query name.
        owner: Name,
        /// The query type.
        rtype: u16,
    },
    /// The answer section has records it should not: any in a referral or
    /// negative answer, or other owners in a positive one.
    #[error("unexpected records in the answer section")]
    UnexpectedAnswer,
    /// A record of the answer or authority section is owned outside the zone.
    #[error("{0} is outside the zone")]
    OutOfZone(Name),
    /// No NS RRset for the delegation in the authority section (or the
    /// "delegation" is the apex).
    #[error("no referral to {0} (NS RRset in the authority section)")]
    NoReferral(Name),
    /// A negative answer has no single SOA for the zone, or an SOA's RDATA
    /// does not parse.
    #[error("no SOA for the zone in the authority section (RFC 2308 §3)")]
    NoSoa,
    /// The SOA serial is older than the one waited for.
    #[error("SOA serial {got} is older than {want} (RFC 1982)")]
    Serial {
        /// The serial in the response.
        got: u32,
        /// The oldest serial accepted.
        want: u32,
    },
}

/// Why a test is unanswered: the `reason` of a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// No response in time, or the connection failed.
    #[error(transparent)]
    Exchange(#[from] super::client::ExchangeError),
    /// The response is not a well-formed DNS message.
    #[error("malformed response: {0}")]
    Malformed(#[from] WireError),
    /// The response has TC set: its data is not all there.
    #[error("truncated response over UDP")]
    Truncated,
    /// The response does not carry the registry's data as expected.
    #[error("wrong answer: {0}")]
    Wrong(#[from] WrongAnswer),
    /// The zone's DNSKEY RRset is not trusted (RFC 4035 §5.2).
    #[error("DNSKEY: {0}")]
    Dnskey(#[from] DnskeyError),
    /// An RRset the answer relies on does not validate.
    #[error("{0}")]
    Signature(#[from] SigError),
    /// The NSEC3 records do not prove the denial or the insecure referral.
    #[error("denial: {0}")]
    Denial(#[from] ProofError),
    /// The keys to validate with could not be fetched from this address over
    /// this transport, for the reason inside.
    #[error("DNSKEY fetch failed: {0}")]
    KeyFetch(Box<Reason>),
}

impl Reason {
    /// Short machine-readable code.
    pub fn code(&self) -> &'static str {
        use super::client::ExchangeError as E;
        match self {
            Reason::Exchange(E::Timeout(_)) => "timeout",
            Reason::Exchange(E::Refused) => "refused",
            Reason::Exchange(_) => "no-response",
            Reason::Malformed(_) => "malformed",
            Reason::Truncated => "truncated",
            Reason::Wrong(_) => "wrong-answer",
            Reason::Dnskey(_) => "dnskey-untrusted",
            Reason::Signature(s) => s.code(),
            Reason::Denial(ProofError::Missing) => "missing-nsec3",
            Reason::Denial(_) => "nsec3-proof",
            Reason::KeyFetch(inner) => inner.code(),
        }
    }
}

enum PublicKey {
    /// RFC 3110 §2: modulus and exponent, big-endian.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        params: &'static signature::RsaParameters,
    },
    Other(UnparsedPublicKey<Vec<u8>>),
    Unsupported,
}

/// A zone's DNSKEY as the probe validates signatures with it. Named apart
/// from the signer's keys and the TSIG key: this one holds only what a
/// validator has, the public key.
pub struct ValidatingKey {
    /// Its key tag (RFC 4034 Appendix B).
    pub tag: u16,
    /// The DNSKEY RDATA.
    pub dnskey: Dnskey,
    public: PublicKey,
}

impl std::fmt::Debug for ValidatingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ValidatingKey(tag {}, alg {}, flags {})",
            self.tag, self.dnskey.algorithm, self.dnskey.flags
        )
    }
}

impl ValidatingKey {
    /// From DNSKEY RDATA; `None` if it is malformed or its protocol is not
    /// 3 (RFC 4034 §2.1.2). A key of an algorithm the probe cannot verify
    /// is kept: its signatures do not verify.
    pub fn from_rdata(rd: &[u8]) -> Option<ValidatingKey> {
        let dnskey = Dnskey::from_rdata(rd).ok().filter(|k| k.protocol == 3)?;
        Some(ValidatingKey {
            tag: key_tag(rd),
            public: decode(dnskey.algorithm, &dnskey.public_key),
            dnskey,
        })
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.public {
            PublicKey::Rsa { n, e, params } => RsaPublicKeyComponents { n, e }
                .verify(params, msg, sig)
                .is_ok(),
            PublicKey::Other(k) => k.verify(msg, sig).is_ok(),
            PublicKey::Unsupported => false,
        }
    }
}

fn decode(algorithm: u8, key: &[u8]) -> PublicKey {
    const RSASHA256: u8 = SecAlg::RSASHA256.to_int();
    const RSASHA512: u8 = SecAlg::RSASHA512.to_int();
    const ECDSAP256SHA256: u8 = SecAlg::ECDSAP256SHA256.to_int();
    const ECDSAP384SHA384: u8 = SecAlg::ECDSAP384SHA384.to_int();
    const ED25519: u8 = SecAlg::ED25519.to_int();
    let point = |len: usize, a: &'static signature::EcdsaVerificationAlgorithm| {
        if key.len() != len {
            return PublicKey::Unsupported;
        }
        let mut p = Vec::with_capacity(len + 1);
        p.push(4);
        p.extend_from_slice(key);
        PublicKey::Other(UnparsedPublicKey::new(a, p))
    };
    match algorithm {
        RSASHA256 | RSASHA512 => {
            let (elen, rest) = match key.first() {
                Some(0) if key.len() > 3 => {
                    (u16::from_be_bytes([key[1], key[2]]) as usize, &key[3..])
                }
                Some(&l) => (l as usize, &key[1..]),
                None => return PublicKey::Unsupported,
            };
            if elen == 0 || rest.len() <= elen {
                return PublicKey::Unsupported;
            }
            let (e, n) = rest.split_at(elen);
            let strip = |b: &[u8]| b[b.iter().take_while(|&&x| x == 0).count()..].to_vec();
            PublicKey::Rsa {
                n: strip(n),
                e: strip(e),
                params: if algorithm == RSASHA256 {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA512
                },
            }
        }
        ECDSAP256SHA256 => point(64, &signature::ECDSA_P256_SHA256_FIXED),
        ECDSAP384SHA384 => point(96, &signature::ECDSA_P384_SHA384_FIXED),
        ED25519 if key.len() == 32 => {
            PublicKey::Other(UnparsedPublicKey::new(&signature::ED25519, key.to_vec()))
        }
        _ => PublicKey::Unsupported,
    }
}

/// RFC 4034 §5.1.4: digest = hash(owner name | DNSKEY RDATA).
pub fn ds_matches(ds: &Ds, owner: &Name, dnskey: &[u8]) -> bool {
    let a = match DigestAlg::new(ds.digest_type) {
        DigestAlg::SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        DigestAlg::SHA256 => &digest::SHA256,
        DigestAlg::SHA384 => &digest::SHA384,
        _ => return false,
    };
    let Ok(key) = Dnskey::from_rdata(dnskey) else {
        return false;
    };
    let mut ctx = digest::Context::new(a);
    ctx.update(owner.wire());
    ctx.update(dnskey);
    ds.key_tag == key_tag(dnskey)
        && key.algorithm == ds.algorithm
        && ctx.finish().as_ref() == ds.digest.as_slice()
}

/// The records of `section` with this owner and type.
fn rrset<'a>(section: &'a [Rr], owner: &Name, t: u16) -> Vec<&'a Rr> {
    section
        .iter()
        .filter(|r| r.rtype == t && &r.owner == owner)
        .collect()
}

/// The RRSIGs of `section` at `owner` covering `t`.
fn sigs<'a>(section: &'a [Rr], owner: &Name, t: u16) -> Vec<&'a Rr> {
    section
        .iter()
        .filter(|r| r.covered() == Some(t) && &r.owner == owner)
        .collect()
}

/// RFC 4035 §5.3: the RRset is valid if one of its RRSIGs, by one of
/// `keys`, verifies. On failure, the first RRSIG's problem is reported.
pub fn verify_rrset(
    zone: &Name,
    keys: &[ValidatingKey],
    rrs: &[&Rr],
    sigs: &[&Rr],
    now: u32,
) -> Result<(), SigError> {
    let Some(first) = rrs.first() else {
        return Ok(());
    };
    let (owner, t) = (&first.owner, first.rtype);
    let mut err = None;
    for s in sigs {
        match verify_one(zone, keys, rrs, s, now) {
            Ok(()) => return Ok(()),
            Err(e) => {
                err.get_or_insert(e);
            }
        }
    }
    Err(err.unwrap_or(SigError::Missing {
        owner: owner.clone(),
        rtype: t,
    }))
}

fn verify_one(
    zone: &Name,
    keys: &[ValidatingKey],
    rrs: &[&Rr],
    sig: &Rr,
    now: u32,
) -> Result<(), SigError> {
    let owner = &rrs[0].owner;
    let t = rrs[0].rtype;
    // The message reader keeps RRSIG RDATA as sent (RFC 4034 §3.1.7: the
    // signer is never compressed); reading it gives the signer as a
    // lower-cased name, its canonical form for the signed data (§6.2).
    let rrsig = Rrsig::from_rdata(&sig.rdata).map_err(|_| SigError::Malformed {
        owner: owner.clone(),
        rtype: t,
    })?;
    let f = &rrsig.fields;
    if rrsig.signer != *zone {
        return Err(SigError::Signer {
            owner: owner.clone(),
            rtype: t,
            signer: rrsig.signer,
        });
    }
    if f.labels as usize != owner.label_count() {
        return Err(SigError::Labels {
            owner: owner.clone(),
            rtype: t,
            labels: f.labels,
        });
    }
    // RFC 4034 §3.1.5: serial arithmetic on 32-bit times.
    if Serial(now).since(Serial(f.inception)) < 0 || Serial(f.expiration).since(Serial(now)) < 0 {
        return Err(SigError::Time {
            owner: owner.clone(),
            rtype: t,
            inception: f.inception,
            expiration: f.expiration,
            now,
        });
    }
    let Some(key) = keys.iter().find(|k| {
        k.tag == f.key_tag && k.dnskey.algorithm == f.algorithm && k.dnskey.is_zone_key()
    }) else {
        return Err(SigError::UnknownKey {
            owner: owner.clone(),
            rtype: t,
            key_tag: f.key_tag,
            algorithm: f.algorithm,
        });
    };
    // RFC 4034 §3.1.8.1: RRSIG RDATA without the signature, then the RRs
    // in canonical order (§6.3) with the original TTL. Owner names and the
    // names in the RDATA of these types are lower-cased by the reader
    // (§6.2).
    let mut msg = rrsig.signed_prefix();
    let mut rdatas: Vec<&[u8]> = rrs.iter().map(|r| r.rdata.as_slice()).collect();
    rdatas.sort_unstable();
    rdatas.dedup();
    for r in rdatas {
        msg.extend_from_slice(owner.wire());
        msg.extend_from_slice(&t.to_be_bytes());
        msg.extend_from_slice(&crate::rr::class::IN.to_be_bytes());
        msg.extend_from_slice(&f.original_ttl.to_be_bytes());
        msg.extend_from_slice(&(r.len() as u16).to_be_bytes());
        msg.extend_from_slice(r);
    }
    if key.verify(&msg, &rrsig.signature) {
        Ok(())
    } else {
        Err(SigError::Bogus {
            owner: owner.clone(),
            rtype: t,
            key_tag: f.key_tag,
        })
    }
}

/// The zone's keys, validated from the trust anchor.
#[derive(Debug)]
pub struct ZoneKeys {
    /// Every usable key of the DNSKEY RRset (protocol 3), trusted because a
    /// trust-anchor key signed the RRset.
    pub keys: Vec<ValidatingKey>,
    /// TTL of the DNSKEY RRset: how long a validator may keep it.
    pub ttl: u32,
}

/// RFC 4035 §5.2: the DNSKEY RRset of a response to `zone DNSKEY` is
/// trusted if an anchor matches one of its keys (by DS digest or as the
/// same DNSKEY) and that key's signature over the RRset verifies.
pub fn trust_dnskeys(anchor: &TrustAnchor, m: &Message, now: u32) -> Result<ZoneKeys, Reason> {
    let zone = &anchor.zone;
    check_question(m, zone, rtype::DNSKEY)?;
    check_rcode(m, Rcode::NOERROR)?;
    let set = rrset(&m.answers, zone, rtype::DNSKEY);
    if set.is_empty() {
        return Err(DnskeyError::Missing.into());
    }
    let keys: Vec<ValidatingKey> = set
        .iter()
        .filter_map(|r| ValidatingKey::from_rdata(&r.rdata))
        .collect();
    let trusted: Vec<ValidatingKey> = set
        .iter()
        .filter(|r| {
            anchor.dnskeys.iter().any(|k| k == &r.rdata)
                || anchor.ds.iter().any(|d| ds_matches(d, zone, &r.rdata))
        })
        .filter_map(|r| ValidatingKey::from_rdata(&r.rdata))
        .collect();
    if trusted.is_empty() {
        return Err(DnskeyError::NoAnchorMatch.into());
    }
    verify_rrset(
        zone,
        &trusted,
        &set,
        &sigs(&m.answers, zone, rtype::DNSKEY),
        now,
    )
    .map_err(DnskeyError::NotSigned)?;
    Ok(ZoneKeys {
        keys,
        ttl: set[0].ttl,
    })
}

/// What a test query should get back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// An authoritative answer at the apex (SOA, NS, DNSKEY).
    Positive,
    /// A referral to this delegation (RFC 1034 §4.3.2 step 3b).
    Referral(Name),
    /// NXDOMAIN with the NSEC3 proof (RFC 5155 §7.2.2).
    NameError,
    /// NOERROR, no data, with the NSEC3 proof (RFC 5155 §7.2.3).
    NoData,
}

impl Expect {
    /// `positive`, `referral`, `nxdomain` or `nodata`, as results name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Expect::Positive => "positive",
            Expect::Referral(_) => "referral",
            Expect::NameError => "nxdomain",
            Expect::NoData => "nodata",
        }
    }
}

/// One test's question and what it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestQuery {
    /// The query name.
    pub qname: Name,
    /// The query type.
    pub qtype: u16,
    /// The answer a correct server gives.
    pub expect: Expect,
}

fn check_question(m: &Message, qname: &Name, qtype: u16) -> Result<(), WrongAnswer> {
    match m.question() {
        Some(q) if &q.name == qname && q.qtype == qtype => Ok(()),
        _ => Err(WrongAnswer::Question),
    }
}

fn check_rcode(m: &Message, expected: Rcode) -> Result<(), WrongAnswer> {
    if m.rcode() != expected {
        return Err(WrongAnswer::Rcode {
            got: m.rcode().to_int(),
            expected: expected.to_int(),
        });
    }
    Ok(())
}

fn check_aa(m: &Message, want: bool) -> Result<(), WrongAnswer> {
    let got = m.has(flag::AA);
    if got != want {
        return Err(WrongAnswer::Aa { got });
    }
    Ok(())
}

/// Every NSEC3 in the authority section validates; returns the proof set.
fn signed_denial<'a>(
    zone: &'a Name,
    keys: &ZoneKeys,
    m: &Message,
    now: u32,
) -> Result<Denial<'a>, Reason> {
    for r in m.authority.iter().filter(|r| r.rtype == rtype::NSEC3) {
        verify_rrset(
            zone,
            &keys.keys,
            &[r],
            &sigs(&m.authority, &r.owner, rtype::NSEC3),
            now,
        )?;
    }
    Ok(Denial::new(zone, &m.authority)?)
}

/// The SOA of a negative answer (RFC 2308 §3), signed.
fn signed_soa(
    zone: &Name,
    keys: &ZoneKeys,
    m: &Message,
    now: u32,
    min_serial: Option<u32>,
) -> Result<u32, Reason> {
    let soa = rrset(&m.authority, zone, rtype::SOA);
    if soa.len() != 1 {
        return Err(WrongAnswer::NoSoa.into());
    }
    verify_rrset(
        zone,
        &keys.keys,
        &soa,
        &sigs(&m.authority, zone, rtype::SOA),
        now,
    )?;
    serial_of(&soa[0].rdata, min_serial)
}

/// The serial of SOA RDATA, refused if older (RFC 1982) than `min_serial`.
fn serial_of(rd: &[u8], min_serial: Option<u32>) -> Result<u32, Reason> {
    let serial = Soa::serial_of(rd).map_err(|_| WrongAnswer::NoSoa)?;
    if let Some(want) = min_serial
        && Serial(serial) < Serial(want)
    {
        return Err(WrongAnswer::Serial { got: serial, want }.into());
    }
    Ok(serial)
}

/// What a validated response showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validated {
    /// The SOA serial, when the response carried the SOA.
    pub serial: Option<u32>,
}

/// Spec 10 §3.7: the response carries the registry's data and every RRset
/// it relies on validates with `keys`. `min_serial`, when given, is the
/// oldest acceptable SOA serial (an update being waited for).
pub fn validate(
    zone: &Name,
    q: &TestQuery,
    m: &Message,
    keys: &ZoneKeys,
    now: u32,
    min_serial: Option<u32>,
) -> Result<Validated, Reason> {
    check_question(m, &q.qname, q.qtype)?;
    for r in m.answers.iter().chain(&m.authority) {
        if !r.owner.is_subdomain_of(zone) {
            return Err(WrongAnswer::OutOfZone(r.owner.clone()).into());
        }
    }
    let mut out = Validated::default();
    match &q.expect {
        Expect::Positive => {
            check_rcode(m, Rcode::NOERROR)?;
            check_aa(m, true)?;
            let set = rrset(&m.answers, &q.qname, q.qtype);
            if set.is_empty() {
                return Err(WrongAnswer::NoAnswer {
                    owner: q.qname.clone(),
                    rtype: q.qtype,
                }
                .into());
            }
            if m.answers.iter().any(|r| r.owner != q.qname) {
                return Err(WrongAnswer::UnexpectedAnswer.into());
            }
            verify_rrset(
                zone,
                &keys.keys,
                &set,
                &sigs(&m.answers, &q.qname, q.qtype),
                now,
            )?;
            if q.qtype == rtype::SOA {
                out.serial = Some(serial_of(&set[0].rdata, min_serial)?);
            }
        }
        Expect::Referral(delegation) => {
            check_rcode(m, Rcode::NOERROR)?;
            check_aa(m, false)?;
            if !m.answers.is_empty() {
                return Err(WrongAnswer::UnexpectedAnswer.into());
            }
            if rrset(&m.authority, delegation, rtype::NS).is_empty() || delegation == zone {
                return Err(WrongAnswer::NoReferral(delegation.clone()).into());
            }
            let ds = rrset(&m.authority, delegation, rtype::DS);
            if ds.is_empty() {
                signed_denial(zone, keys, m, now)?.insecure_referral(delegation)?;
            } else {
                verify_rrset(
                    zone,
                    &keys.keys,
                    &ds,
                    &sigs(&m.authority, delegation, rtype::DS),
                    now,
                )?;
            }
        }
        Expect::NameError => {
            check_rcode(m, Rcode::NXDOMAIN)?;
            check_aa(m, true)?;
            if !m.answers.is_empty() {
                return Err(WrongAnswer::UnexpectedAnswer.into());
            }
            out.serial = Some(signed_soa(zone, keys, m, now, min_serial)?);
            signed_denial(zone, keys, m, now)?.name_error(&q.qname)?;
        }
        Expect::NoData => {
            check_rcode(m, Rcode::NOERROR)?;
            check_aa(m, true)?;
            if !m.answers.is_empty() {
                return Err(WrongAnswer::UnexpectedAnswer.into());
            }
            out.serial = Some(signed_soa(zone, keys, m, now, min_serial)?);
            signed_denial(zone, keys, m, now)?.no_data(&q.qname, q.qtype)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4034 §5.4: the DS example for dskey.example.com.
    #[test]
    fn rfc4034_section_5_4_ds_example() {
        let owner = Name::parse("dskey.example.com.").unwrap();
        let key = data_encoding::BASE64
            .decode(
                b"AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
            )
            .unwrap();
        let mut rd = vec![1, 0, 3, 5];
        rd.extend_from_slice(&key);
        assert_eq!(key_tag(&rd), 60485);
        let ds = Ds {
            key_tag: 60485,
            algorithm: 5,
            digest_type: 1,
            digest: data_encoding::HEXUPPER
                .decode(b"2BB183AF5F22588179A53B0A98631FAD1A292118")
                .unwrap(),
        };
        assert!(ds_matches(&ds, &owner, &rd));
        let mut bad = ds.clone();
        bad.digest[0] ^= 1;
        assert!(!ds_matches(&bad, &owner, &rd));
    }

    #[test]
    fn anchor_from_key_file_text() {
        let zone = Name::parse("mobile.").unwrap();
        let mut ta = TrustAnchor {
            zone: zone.clone(),
            ds: vec![],
            dnskeys: vec![],
        };
        ta.add_text(
            "; key-signing key\nmobile. IN DNSKEY 257 3 13 DWA2EFqpRytC9voI4Y77UmHhZYO6j9J9LCjnHk5dYBvGQj0A73oJ8PBKhy4meFC4vqgLIFHUblXU9tUTEXoiAQ==\nmobile.\t86400\tIN\tDS\t27702 13 2 619c334d20602d4474f2a918d63feea33da32e881d5d69d3ebc644eee77da03b\n",
            Path::new("anchor"),
        )
        .unwrap();
        assert_eq!(ta.dnskeys.len(), 1);
        assert_eq!(ta.ds.len(), 1);
        assert_eq!(ta.ds[0].key_tag, 27702);
        assert_eq!(key_tag(&ta.dnskeys[0]), 27702);
        assert!(ds_matches(&ta.ds[0], &zone, &ta.dnskeys[0]));
        let wrong = ta.add_text("other. IN DS 1 13 2 00", Path::new("x"));
        assert!(matches!(wrong, Err(AnchorError::Owner { .. })));
    }
}
