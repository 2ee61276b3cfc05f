//! The apex DNSKEY RRset (RFC 4034 §2): unique key tags (the .de 2026
//! incident in docs/architecture.md), at least one SEP key, protocol 3, public keys in a form ring can verify
//! with. Owns the key-tag computation and the public-key decoding; the
//! signatures themselves are checked in `rrsig`.

use super::{Index, Rrset, VerifyError};
use crate::name::Name;
use crate::policy;
use crate::rr::{Dnskey, Ds, alg};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use std::collections::HashMap;

use tldns_base::keytag::ds_digest;
pub(crate) use tldns_base::keytag::key_tag;

/// A zone key ready to verify with.
pub(crate) struct ZoneKey {
    /// The DNSKEY RDATA, which a DS digests (RFC 4034 §5.1.4).
    pub rdata: Vec<u8>,
    pub tag: u16,
    pub algorithm: u8,
    pub flags: u16,
    pub public: PublicKey,
}

pub(crate) enum PublicKey {
    /// RFC 3110 §2: exponent and modulus, big-endian, no leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// ECDSA (RFC 6605, uncompressed point) or Ed25519 (RFC 8080).
    Other(UnparsedPublicKey<Vec<u8>>),
    /// An algorithm outside the acceptance policy; a signature by it is an error.
    Unsupported,
}

impl ZoneKey {
    /// The key of `dnskey` (whose RDATA has key tag `tag`), its public key
    /// decoded under the acceptance policy ([`decode`]).
    pub(crate) fn new(dnskey: &Dnskey, tag: u16) -> Result<ZoneKey, KeyProblem> {
        Ok(ZoneKey {
            rdata: dnskey.to_rdata(),
            tag,
            algorithm: dnskey.algorithm,
            flags: dnskey.flags,
            public: decode(dnskey.algorithm, &dnskey.public_key)?,
        })
    }

    /// Whether it may validate RRsets: the Zone Key flag (RFC 4035 §5.3.1).
    pub(crate) fn is_zone_key(&self) -> bool {
        self.flags & Dnskey::ZONE != 0
    }

    /// Whether the SEP flag is set (a KSK or CSK, RFC 6781 §3.1).
    pub(crate) fn is_sep(&self) -> bool {
        self.flags & Dnskey::SEP != 0
    }

    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.public {
            PublicKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
                .is_ok(),
            PublicKey::Other(k) => k.verify(msg, sig).is_ok(),
            PublicKey::Unsupported => false,
        }
    }
}

/// The algorithms of the zone keys, sorted, once each: every one of them
/// signs every authoritative RRset (RFC 4035 §2.2, RFC 6840 §5.11).
pub(crate) fn zone_algorithms(keys: &[ZoneKey]) -> Vec<u8> {
    let mut algs: Vec<u8> = keys
        .iter()
        .filter(|k| k.is_zone_key())
        .map(|k| k.algorithm)
        .collect();
    algs.sort_unstable();
    algs.dedup();
    algs
}

/// Check the DNSKEY RRset and decode its keys.
pub(super) fn check(z: &Index<'_>, set: &Rrset) -> Result<Vec<ZoneKey>, VerifyError> {
    let mut tags: HashMap<u16, usize> = HashMap::new();
    let mut keys = Vec::new();
    for r in z.records_of(set) {
        let dnskey = Dnskey::from_rdata(&r.rdata).map_err(|_| VerifyError::BadRdata {
            owner: r.owner.clone(),
            rtype: r.rtype,
        })?;
        let tag = key_tag(&r.rdata);
        *tags.entry(tag).or_default() += 1;
        if dnskey.protocol != 3 {
            return Err(VerifyError::DnskeyProtocol {
                key_tag: tag,
                protocol: dnskey.protocol,
            });
        }
        keys.push(ZoneKey::new(&dnskey, tag).map_err(|e| match e {
            KeyProblem::Malformed => VerifyError::BadPublicKey {
                key_tag: tag,
                algorithm: dnskey.algorithm,
            },
            KeyProblem::WeakRsa { bits } => VerifyError::WeakKey {
                key_tag: tag,
                bits,
                min: policy::MIN_RSA_MODULUS_BITS,
            },
        })?);
    }
    if let Some((&key_tag, &count)) = tags
        .iter()
        .filter(|(_, c)| **c > 1)
        .min_by_key(|(t, _)| **t)
    {
        return Err(VerifyError::KeyTagCollision { key_tag, count });
    }
    if !keys.iter().any(|k| k.is_zone_key() && k.is_sep()) {
        return Err(VerifyError::NoSepKey);
    }
    Ok(keys)
}

/// CDS and CDNSKEY at the apex (RFC 7344 §4.1, RFC 8078): what the
/// parent would install as the zone's DS RRset. Each CDS must be the digest
/// of a zone key of the DNSKEY RRset and each CDNSKEY one of its keys: a
/// CDS naming no published key would have the parent break the chain of
/// trust.
pub(super) fn check_cds(z: &Index<'_>, origin: &Name, keys: &[ZoneKey]) -> Result<(), VerifyError> {
    if let Some(set) = z.rrset(z.apex, crate::rr::rtype::CDS) {
        for r in z.records_of(set) {
            let ds = Ds::from_rdata(&r.rdata).map_err(|_| VerifyError::BadRdata {
                owner: r.owner.clone(),
                rtype: r.rtype,
            })?;
            let named = keys.iter().any(|k| {
                k.is_zone_key()
                    && k.tag == ds.key_tag
                    && k.algorithm == ds.algorithm
                    && ds_digest(origin.wire(), &k.rdata, ds.digest_type)
                        .is_some_and(|d| d == ds.digest)
            });
            if !named {
                return Err(VerifyError::CdsWithoutKey {
                    rtype: r.rtype,
                    key_tag: ds.key_tag,
                });
            }
        }
    }
    if let Some(set) = z.rrset(z.apex, crate::rr::rtype::CDNSKEY) {
        for r in z.records_of(set) {
            if !keys.iter().any(|k| k.rdata == r.rdata) {
                return Err(VerifyError::CdsWithoutKey {
                    rtype: r.rtype,
                    key_tag: key_tag(&r.rdata),
                });
            }
        }
    }
    Ok(())
}

/// The keys of [`crate::VerifyOptions::unpublished_keys`], decoded: an
/// algorithm roll's keys that sign while not in the DNSKEY RRset
/// (`published`). Each must be a zone key of an algorithm no published
/// zone key has.
pub(crate) fn unpublished(
    published: &[ZoneKey],
    rdatas: &[Vec<u8>],
) -> Result<Vec<ZoneKey>, VerifyError> {
    let algs = zone_algorithms(published);
    rdatas
        .iter()
        .map(|rd| {
            let tag = key_tag(rd);
            let bad = |algorithm, problem| VerifyError::UnpublishedKey {
                key_tag: tag,
                algorithm,
                problem,
            };
            let d = Dnskey::from_rdata(rd).map_err(|_| bad(0, "malformed DNSKEY RDATA"))?;
            if algs.contains(&d.algorithm) {
                return Err(bad(
                    d.algorithm,
                    "a published key has its algorithm, so its signatures would be unverifiable ones of that algorithm",
                ));
            }
            let k = ZoneKey::new(&d, tag).map_err(|_| bad(d.algorithm, "its public key does not decode"))?;
            if !k.is_zone_key() {
                return Err(bad(d.algorithm, "not a zone key"));
            }
            Ok(k)
        })
        .collect()
}

/// The chain-of-trust gate: one of `signers` (indices into `keys`, the
/// keys whose RRSIG over the DNSKEY RRset verified) is a zone key that one
/// of `anchors` names: same key tag and algorithm, and a digest of a type
/// this verifier computes (SHA-256, SHA-384) over owner and DNSKEY RDATA
/// that matches (RFC 4034 §5.1.4, RFC 4509, RFC 6605 §4).
pub(crate) fn trusted(
    origin: &Name,
    keys: &[ZoneKey],
    signers: &[usize],
    anchors: &[Ds],
) -> Result<(), VerifyError> {
    let vouched = |k: &ZoneKey| {
        anchors.iter().any(|a| {
            a.key_tag == k.tag
                && a.algorithm == k.algorithm
                && ds_digest(origin.wire(), &k.rdata, a.digest_type).is_some_and(|d| d == a.digest)
        })
    };
    if signers
        .iter()
        .any(|&i| keys[i].is_zone_key() && vouched(&keys[i]))
    {
        return Ok(());
    }
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    Err(VerifyError::Untrusted {
        anchors: list(
            anchors
                .iter()
                .map(|a| format!("{}/{}/{}", a.key_tag, a.algorithm, a.digest_type))
                .collect(),
        ),
        signers: list(
            signers
                .iter()
                .map(|&i| format!("{}/{}", keys[i].tag, keys[i].algorithm))
                .collect(),
        ),
    })
}

/// Why a DNSKEY's public key cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyProblem {
    /// It does not parse for its algorithm.
    #[error("malformed public key (RFC 3110, RFC 6605, RFC 8080)")]
    Malformed,
    /// An RSA modulus below the policy's minimum.
    #[error(
        "RSA modulus of {bits} bits, the policy requires at least {} (RFC 8624 §3.1)",
        policy::MIN_RSA_MODULUS_BITS
    )]
    WeakRsa { bits: usize },
}

/// Decode a DNSKEY's public key under the acceptance policy ([`policy`]).
fn decode(algorithm: u8, key: &[u8]) -> Result<PublicKey, KeyProblem> {
    if !policy::algorithm_accepted(algorithm) {
        return Ok(PublicKey::Unsupported);
    }
    parse(algorithm, key)
        .ok_or(KeyProblem::Malformed)
        .and_then(|k| match &k {
            PublicKey::Rsa { n, .. } if policy::modulus_bits(n) < policy::MIN_RSA_MODULUS_BITS => {
                Err(KeyProblem::WeakRsa {
                    bits: policy::modulus_bits(n),
                })
            }
            _ => Ok(k),
        })
}

fn parse(algorithm: u8, key: &[u8]) -> Option<PublicKey> {
    Some(match algorithm {
        alg::RSASHA256 => {
            // RFC 3110 §2: one octet of exponent length, or zero and two.
            let (elen, rest) = match *key.first()? {
                0 => (
                    u16::from_be_bytes([*key.get(1)?, *key.get(2)?]) as usize,
                    &key[3..],
                ),
                l => (l as usize, &key[1..]),
            };
            if elen == 0 || rest.len() <= elen {
                return None;
            }
            let strip = |b: &[u8]| -> Vec<u8> {
                let z = b.iter().take_while(|&&x| x == 0).count();
                b[z..].to_vec()
            };
            let (e, n) = rest.split_at(elen);
            let (e, n) = (strip(e), strip(n));
            if e.is_empty() || n.is_empty() {
                return None;
            }
            PublicKey::Rsa { n, e }
        }
        alg::ECDSAP256SHA256 => {
            if key.len() != 64 {
                return None;
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(key);
            PublicKey::Other(UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                point,
            ))
        }
        alg::ECDSAP384SHA384 => {
            if key.len() != 96 {
                return None;
            }
            let mut point = Vec::with_capacity(97);
            point.push(4);
            point.extend_from_slice(key);
            PublicKey::Other(UnparsedPublicKey::new(
                &signature::ECDSA_P384_SHA384_FIXED,
                point,
            ))
        }
        alg::ED25519 => {
            if key.len() != 32 {
                return None;
            }
            PublicKey::Other(UnparsedPublicKey::new(&signature::ED25519, key.to_vec()))
        }
        _ => PublicKey::Unsupported,
    })
}
