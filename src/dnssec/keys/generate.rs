//! Key generation: ECDSA P-256 (13) and Ed25519 (15) with ring; RSA (8)
//! by `dnssec-keygen`, else `ldns-keygen`, in a scratch directory (ring has
//! no RSA key generation), read back and given our timing metadata; without
//! either tool generation fails with [`KeyError::RsaGenerator`].
//!
//! Owns making key material and running the external tools; it writes no
//! key file of its own (that is [`super::KeyDir::generate`] through
//! [`super::kfile`]).

use super::{KeyError, KeyTiming, Secret, SigningKey, dnskey_rdata, key_tag};
use crate::name::Name;
use crate::rr::{Dnskey, alg};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use std::path::PathBuf;
use std::sync::Arc;

impl SigningKey {
    /// A new key made with ring (13, 15) or an external tool (8).
    pub fn generate(
        owner: &Name,
        flags: u16,
        algorithm: u8,
        rsa_bits: u32,
        now: u64,
    ) -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let (secret, public_key) = match algorithm {
            alg::ECDSAP256SHA256 => {
                let doc =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                        .map_err(|_| KeyError::Random)?;
                let scalar = scalar_from_pkcs8(doc.as_ref()).ok_or(KeyError::Random)?;
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    doc.as_ref(),
                    &rng,
                )
                .map_err(|_| KeyError::Random)?;
                // Uncompressed point 0x04 | x | y; DNSKEY holds x | y (RFC 6605 §4).
                let pk = pair.public_key().as_ref()[1..].to_vec();
                (Secret::EcdsaP256 { scalar, pair }, pk)
            }
            alg::ED25519 => {
                let mut seed = [0u8; 32];
                rng.fill(&mut seed).map_err(|_| KeyError::Random)?;
                let pair =
                    Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| KeyError::Random)?;
                let pk = pair.public_key().as_ref().to_vec();
                (Secret::Ed25519 { seed, pair }, pk)
            }
            alg::RSASHA256 => {
                let mut k = generate_rsa_external(owner, flags, rsa_bits)?;
                k.timing = KeyTiming {
                    created: Some(now),
                    publish: Some(now),
                    activate: Some(now),
                    ..Default::default()
                };
                k.file = None;
                return Ok(k);
            }
            other => return Err(KeyError::CannotGenerate(other)),
        };
        let rdata = dnskey_rdata(flags, algorithm, &public_key);
        Ok(SigningKey {
            owner: owner.clone(),
            flags,
            algorithm,
            key_tag: key_tag(&rdata),
            public_key,
            timing: KeyTiming {
                created: Some(now),
                publish: Some(now),
                activate: Some(now),
                ..Default::default()
            },
            file: None,
            secret: Arc::new(secret),
        })
    }
}

/// The private scalar inside ring's P-256 PKCS#8 document: the
/// ECPrivateKey (RFC 5915) is `SEQUENCE { INTEGER 1, OCTET STRING (32) ... }`.
fn scalar_from_pkcs8(doc: &[u8]) -> Option<[u8; 32]> {
    let pat = [0x02, 0x01, 0x01, 0x04, 0x20];
    let at = doc.windows(pat.len()).position(|w| w == pat)? + pat.len();
    doc.get(at..at + 32)?.try_into().ok()
}

/// Run dnssec-keygen, else ldns-keygen, in a scratch directory and read the key it made.
fn generate_rsa_external(owner: &Name, flags: u16, bits: u32) -> Result<SigningKey, KeyError> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "tldns-keygen-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&scratch).map_err(|error| KeyError::Io {
        path: scratch.clone(),
        error,
    })?;
    let result = (|| {
        let zone = owner.to_string();
        let bits_s = bits.to_string();
        let mut bind = std::process::Command::new("dnssec-keygen");
        bind.args(["-q", "-K"]).arg(&scratch).args([
            "-a",
            "RSASHA256",
            "-b",
            &bits_s,
            "-n",
            "ZONE",
        ]);
        if flags & Dnskey::SEP != 0 {
            bind.args(["-f", "KSK"]);
        }
        bind.arg(&zone);
        let mut ldns = std::process::Command::new("ldns-keygen");
        ldns.current_dir(&scratch)
            .args(["-a", "RSASHA256", "-b", &bits_s]);
        if flags & Dnskey::SEP != 0 {
            ldns.arg("-k");
        }
        ldns.arg(&zone);
        for (tool, mut cmd) in [("dnssec-keygen", bind), ("ldns-keygen", ldns)] {
            let out = match cmd.output() {
                Ok(o) => o,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => {
                    return Err(KeyError::Io {
                        path: PathBuf::from(tool),
                        error,
                    });
                }
            };
            if !out.status.success() {
                return Err(KeyError::Tool {
                    tool,
                    status: out.status,
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
            let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
            return SigningKey::read(&scratch.join(base));
        }
        Err(KeyError::RsaGenerator)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
