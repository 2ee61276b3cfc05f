//! DNSSEC keys (RFC 4034 §2): the key model.
//!
//! Owns what a key is and does: its DNSKEY RDATA, roles (ZSK, KSK/CSK by the
//! SEP flag), timing and the state it implies, signing, DS records for the
//! parent, and the key directory of a zone ([`KeyDir`]). The file format
//! is [`kfile`]'s (BIND's `K<zone>+<alg>+<tag>.key` / `.private`), making
//! keys is [`generate`]'s; the key tag (RFC 4034 Appendix B) is the base
//! layer's, re-exported here. Operators keep their tools: files made by
//! `dnssec-keygen` and `ldns-keygen` load, and ours are read by
//! `dnssec-signzone` and `ldns-signzone` (tested against both).
//!
//! Decisions:
//! - Keys without timing metadata (as `ldns-keygen` writes them) are
//!   published and active from the start and never retire.
//! - Generated keys get Created = Publish = Activate = `now` and no
//!   Inactive/Delete: lifetimes belong to a rollover schedule, and a key that
//!   silently goes inactive would leave the zone unsigned.

mod generate;
mod kfile;
pub mod store;
#[cfg(test)]
mod tests;

pub use store::{DirKeystore, Keystore, keystore};
pub use tldns_base::keytag::key_tag;

use crate::config::{DnssecConfig, KeyScheme};
use crate::name::Name;
use crate::rr::{Dnskey, Ds, Record, rtype};
use kfile::with_ext;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A zone-signing key's flags (RFC 4034 §2.1.1).
pub const ZSK: u16 = Dnskey::ZONE;
/// A key-signing (or combined signing) key's flags: Zone Key and SEP.
pub const KSK: u16 = Dnskey::ZONE | Dnskey::SEP;

/// Why a key could not be read, written or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file or the key directory could not be read, created or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A K-file is not in BIND's format, or lacks what the algorithm needs.
    #[error("{path}:{line}: {what}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line, from 1; 0 when the problem is not on one line.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The key's algorithm is not one tldns signs with.
    #[error("{path}: algorithm {algorithm} is not supported (8, 13 and 15 are)")]
    UnsupportedAlgorithm {
        /// The `.private` file.
        path: PathBuf,
        /// Its algorithm number.
        algorithm: u8,
    },
    /// ring refused the private key material.
    #[error("{path}: key rejected by ring: {reason}")]
    Rejected {
        /// The `.private` file.
        path: PathBuf,
        /// ring's reason.
        reason: String,
    },
    /// An ECDSA key has no `.key` file, from which its public point comes.
    #[error(
        "{path}: the public key file is needed for an ECDSA key (the private file holds only the scalar)"
    )]
    MissingPublicKey {
        /// The `.key` file looked for.
        path: PathBuf,
    },
    /// The `.key` file's algorithm or public key is not the private key's.
    #[error("{public}: public key does not match {private}")]
    PublicKeyMismatch {
        /// The `.key` file.
        public: PathBuf,
        /// The `.private` file.
        private: PathBuf,
    },
    /// A key in the zone's key directory is for another owner.
    #[error("{path}: key is for {found}, not {expected}")]
    WrongOwner {
        /// The `.private` file.
        path: PathBuf,
        /// The key's owner.
        found: Name,
        /// The zone.
        expected: Name,
    },
    /// Two keys of the zone share a key tag (or generation kept drawing
    /// tags already taken, when `first` and `second` are the same).
    #[error(
        "key tag {tag} is used by both {first} and {second}: validators could pick the wrong key (RFC 4034 §5.2 key tags are not unique)"
    )]
    DuplicateTag {
        /// The shared tag.
        tag: u16,
        /// The key that had it first.
        first: PathBuf,
        /// The key that has it too.
        second: PathBuf,
    },
    /// An RSA key was asked for and no external keygen tool is installed.
    #[error(
        "RSA keys are made by dnssec-keygen or ldns-keygen and neither is installed (ring cannot generate RSA keys)"
    )]
    RsaGenerator,
    /// The external keygen tool failed.
    #[error("{tool} failed: {status}: {stderr}")]
    Tool {
        /// `dnssec-keygen` or `ldns-keygen`.
        tool: &'static str,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it wrote to stderr, trimmed.
        stderr: String,
    },
    /// A DS digest type other than SHA-256 (2) or SHA-384 (4) was asked for.
    #[error(
        "DS digest type {0} is not supported (2 = SHA-256 per RFC 4509, 4 = SHA-384 per RFC 6605)"
    )]
    UnsupportedDigest(u8),
    /// Key generation was asked for an algorithm other than 8, 13 or 15.
    #[error("algorithm {0} cannot be generated (8, 13 and 15 can)")]
    CannotGenerate(u8),
    /// The system random number generator (or ring's key generation) failed.
    #[error("random number generator failed")]
    Random,
}

/// Timing metadata, as BIND keeps it (seconds since the epoch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyTiming {
    /// When the key was made (informational: it changes no state).
    pub created: Option<u64>,
    /// In the DNSKEY RRset from then on.
    pub publish: Option<u64>,
    /// Signs from then on.
    pub activate: Option<u64>,
    /// Stops signing then.
    pub inactive: Option<u64>,
    /// Leaves the DNSKEY RRset then.
    pub delete: Option<u64>,
}

/// What a key does at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyState {
    /// In the DNSKEY RRset.
    pub published: bool,
    /// Makes signatures.
    pub active: bool,
    /// Past its Inactive time: signs no more (may still be published).
    pub retired: bool,
}

impl KeyTiming {
    /// A missing time means "always" for Publish/Activate, "never" for
    /// Inactive/Delete; except that a key with a Publish time and no
    /// Activate time is a standby, published and never signing until one
    /// is set (BIND's `dnssec-keygen -P now -A none`).
    pub fn state(&self, now: u64) -> KeyState {
        let reached = |t: Option<u64>| t.is_some_and(|t| t <= now);
        let deleted = reached(self.delete);
        let retired = reached(self.inactive);
        let published = self.publish.is_none_or(|t| t <= now) && !deleted;
        // A key withdrawn from the DNSKEY RRset before its Inactive time
        // goes on signing until then: an algorithm roll's old keys (RFC
        // 6781 §4.1.4, step 5). Without an Inactive time, Delete ends its
        // signing too.
        let activated = match self.activate {
            Some(t) => t <= now,
            None => self.publish.is_none(),
        };
        let active = activated && !retired && (!deleted || self.inactive.is_some());
        KeyState {
            published,
            active,
            retired,
        }
    }
}

/// RSA private key fields as in a BIND `.private` file (big-endian).
#[derive(Clone)]
struct RsaFields {
    modulus: Vec<u8>,
    public_exponent: Vec<u8>,
    private_exponent: Vec<u8>,
    prime1: Vec<u8>,
    prime2: Vec<u8>,
    exponent1: Vec<u8>,
    exponent2: Vec<u8>,
    coefficient: Vec<u8>,
}

/// A private key kept outside this process (a PKCS#11 token): it signs
/// what it is given, where it lives, and names itself in the K-file's
/// `.private` instead of the key material (as BIND's `Label:` does).
pub trait ExternalKey: Send + Sync {
    /// Sign `data` in the algorithm's DNSSEC signature format (RFC 6605 §4:
    /// ECDSA as r|s; RFC 8080 §4; RFC 5702 §3).
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified>;
    /// The `.private` file's lines that name the key, after `Algorithm:`.
    fn private_fields(&self) -> String;
}

enum Secret {
    /// Kept by a [`Keystore`] outside this process.
    External(Arc<dyn ExternalKey>),
    EcdsaP256 {
        scalar: [u8; 32],
        pair: EcdsaKeyPair,
    },
    Ed25519 {
        seed: [u8; 32],
        pair: Ed25519KeyPair,
    },
    Rsa {
        fields: Box<RsaFields>,
        pair: RsaKeyPair,
    },
}

/// A DNSSEC key with its private half.
#[derive(Clone)]
pub struct SigningKey {
    /// The zone the key is for (the DNSKEY owner).
    pub owner: Name,
    /// 256 (ZSK) or 257 (KSK or CSK).
    pub flags: u16,
    /// 8, 13 or 15.
    pub algorithm: u8,
    /// The DNSKEY public key field (RFC 3110, RFC 6605, RFC 8080).
    pub public_key: Vec<u8>,
    /// RFC 4034 Appendix B, computed from the DNSKEY RDATA.
    pub key_tag: u16,
    /// Publish, activate and retire times (BIND's metadata).
    pub timing: KeyTiming,
    /// Where it was read from or written to: `dir/K<zone>+<alg>+<tag>` (no extension).
    pub file: Option<PathBuf>,
    secret: Arc<Secret>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private half.
        f.debug_struct("SigningKey")
            .field("owner", &self.owner)
            .field("flags", &self.flags)
            .field("algorithm", &self.algorithm)
            .field("key_tag", &self.key_tag)
            .field("timing", &self.timing)
            .field("file", &self.file)
            .finish()
    }
}

impl SigningKey {
    /// A key whose private half `secret` is kept outside this process (a
    /// [`Keystore`] on an HSM makes these); `file` is where its K-files are.
    pub fn external(
        owner: &Name,
        flags: u16,
        algorithm: u8,
        public_key: Vec<u8>,
        timing: KeyTiming,
        file: Option<PathBuf>,
        secret: Arc<dyn ExternalKey>,
    ) -> SigningKey {
        let key_tag = key_tag(&dnskey_rdata(flags, algorithm, &public_key));
        SigningKey {
            owner: owner.clone(),
            flags,
            algorithm,
            public_key,
            key_tag,
            timing,
            file,
            secret: Arc::new(Secret::External(secret)),
        }
    }

    /// DNSKEY RDATA (RFC 4034 §2.1): flags, protocol 3, algorithm, key.
    pub fn dnskey_rdata(&self) -> Vec<u8> {
        dnskey_rdata(self.flags, self.algorithm, &self.public_key)
    }

    /// Whether the SEP flag is set: a KSK or CSK (RFC 4034 §2.1.1).
    pub fn is_sep(&self) -> bool {
        self.flags & Dnskey::SEP != 0
    }

    /// What the key does at `now` (Unix seconds), by its timing.
    pub fn state(&self, now: u64) -> KeyState {
        self.timing.state(now)
    }

    /// The key's tag and the tag it would have revoked (RFC 5011 §3): the
    /// two a new key's tags must differ from.
    pub fn tags(&self) -> [u16; 2] {
        let revoked = key_tag(&dnskey_rdata(
            self.flags | Dnskey::REVOKE,
            self.algorithm,
            &self.public_key,
        ));
        [self.key_tag, revoked]
    }

    /// `K<zone>+<alg:03>+<tag:05>`, BIND's base name.
    pub fn base_name(&self) -> String {
        base_name(&self.owner, self.algorithm, self.key_tag)
    }

    /// DS RDATA for the parent (RFC 4034 §5.1.4): digest over owner | DNSKEY RDATA.
    pub fn ds(&self, digest_type: u8) -> Result<Ds, KeyError> {
        let digest =
            tldns_base::keytag::ds_digest(self.owner.wire(), &self.dnskey_rdata(), digest_type)
                .ok_or(KeyError::UnsupportedDigest(digest_type))?;
        Ok(Ds {
            key_tag: self.key_tag,
            algorithm: self.algorithm,
            digest_type,
            digest,
        })
    }

    /// The DS record in presentation format, for the IANA root zone
    /// management request: `mobile.\t86400\tIN\tDS\t<tag> <alg> 2 <hex>`.
    pub fn ds_text(&self, digest_type: u8, ttl: u32) -> Result<String, KeyError> {
        let ds = self.ds(digest_type)?;
        Ok(Record::new(self.owner.clone(), ttl, rtype::DS, ds.to_rdata()).to_text('\t'))
    }

    /// Sign `data` with the algorithm's signature scheme: ECDSA P-256 SHA-256
    /// as fixed 64-octet r|s (RFC 6605 §4), Ed25519 (RFC 8080 §4), RSA
    /// PKCS#1 v1.5 SHA-256 (RFC 5702 §3).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        match &*self.secret {
            Secret::External(k) => k.sign(data),
            Secret::EcdsaP256 { pair, .. } => {
                Ok(pair.sign(&SystemRandom::new(), data)?.as_ref().to_vec())
            }
            Secret::Ed25519 { pair, .. } => Ok(pair.sign(data).as_ref().to_vec()),
            Secret::Rsa { pair, .. } => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    data,
                    &mut sig,
                )?;
                Ok(sig)
            }
        }
    }
}

/// The key directory of a zone: its K-files' operations ([`DirKeystore`]
/// is the [`Keystore`] on it).
pub struct KeyDir;

impl KeyDir {
    /// Every key of `origin` in `dir` (files `K<origin>+*.private`), sorted by
    /// algorithm and tag. Two keys with the same tag are refused.
    pub fn load(dir: &Path, origin: &Name) -> Result<Vec<SigningKey>, KeyError> {
        let prefix = format!("k{origin}+");
        let rd = std::fs::read_dir(dir).map_err(|error| KeyError::Io {
            path: dir.to_path_buf(),
            error,
        })?;
        let mut paths = Vec::new();
        for e in rd {
            let e = e.map_err(|error| KeyError::Io {
                path: dir.to_path_buf(),
                error,
            })?;
            let name = e.file_name().to_string_lossy().to_string();
            if name.to_ascii_lowercase().starts_with(&prefix) && name.ends_with(".private") {
                paths.push(e.path());
            }
        }
        paths.sort();
        let mut keys: Vec<SigningKey> = Vec::with_capacity(paths.len());
        for p in paths {
            let k = SigningKey::read(&p)?;
            if &k.owner != origin {
                return Err(KeyError::WrongOwner {
                    path: p,
                    found: k.owner,
                    expected: origin.clone(),
                });
            }
            if let Some(other) = keys.iter().find(|o| o.key_tag == k.key_tag) {
                return Err(KeyError::DuplicateTag {
                    tag: k.key_tag,
                    first: with_ext(other.file.as_deref().unwrap_or(Path::new("?")), "private"),
                    second: p,
                });
            }
            if let Some(name_tag) = p
                .file_name()
                .and_then(|f| f.to_str())
                .and_then(|f| f.strip_suffix(".private"))
                .and_then(|f| f.rsplit('+').next())
                .and_then(|t| t.parse::<u16>().ok())
                && name_tag != k.key_tag
            {
                tracing::warn!(path = %p.display(), tag = k.key_tag, "file name tag differs from the key's tag");
            }
            keys.push(k);
        }
        keys.sort_by_key(|k| (k.algorithm, k.key_tag));
        Ok(keys)
    }

    /// Bring a key made elsewhere (`dnssec-keygen`, `ldns-keygen`, another
    /// signer's key directory) into `dir`: it is read and checked as any
    /// key is (the private half consistent with the public one, the
    /// algorithm one tldns signs with), it must be `origin`'s, and its tag
    /// (and its revoked tag) must be free among the keys there. Its two
    /// files are copied as they are, timing metadata included, under
    /// BIND's names; nothing is replaced. `path` is either file or the
    /// base path.
    pub fn import(dir: &Path, origin: &Name, path: &Path) -> Result<SigningKey, KeyError> {
        let k = SigningKey::read(path)?;
        let src = k.file.clone().expect("a key read from a file knows it");
        if &k.owner != origin {
            return Err(KeyError::WrongOwner {
                path: src,
                found: k.owner,
                expected: origin.clone(),
            });
        }
        std::fs::create_dir_all(dir).map_err(|error| KeyError::Io {
            path: dir.to_path_buf(),
            error,
        })?;
        let mine = k.tags();
        for other in KeyDir::load(dir, origin)? {
            if other.tags().iter().any(|t| mine.contains(t)) {
                return Err(KeyError::DuplicateTag {
                    tag: k.key_tag,
                    first: with_ext(other.file.as_deref().unwrap_or(Path::new("?")), "private"),
                    second: with_ext(&src, "private"),
                });
            }
        }
        let base = dir.join(k.base_name());
        for (ext, mode) in [("private", 0o600), ("key", 0o644)] {
            let from = with_ext(&src, ext);
            let bytes = match std::fs::read(&from) {
                Ok(b) => b,
                // Ed25519 and RSA keys load from `.private` alone.
                Err(e) if ext == "key" && e.kind() == std::io::ErrorKind::NotFound => {
                    k.key_file_text().into_bytes()
                }
                Err(error) => return Err(KeyError::Io { path: from, error }),
            };
            tldns_base::fs::write_new_durably(&with_ext(&base, ext), mode, &bytes).map_err(
                |e| KeyError::Io {
                    path: e.path,
                    error: e.error,
                },
            )?;
        }
        tracing::info!(key = %k.base_name(), from = %src.display(), "imported key");
        SigningKey::read(&base)
    }

    /// Make the keys the policy asks for (KSK + ZSK, or one CSK) and write
    /// them into `dir` (created if missing). Tags never collide with keys
    /// already in `dir`.
    pub fn generate(
        dir: &Path,
        origin: &Name,
        cfg: &DnssecConfig,
        now: u64,
    ) -> Result<Vec<SigningKey>, KeyError> {
        std::fs::create_dir_all(dir).map_err(|error| KeyError::Io {
            path: dir.to_path_buf(),
            error,
        })?;
        let roles: &[u16] = match cfg.scheme {
            KeyScheme::KskZsk => &[KSK, ZSK],
            KeyScheme::Csk => &[KSK],
        };
        let mut out = Vec::new();
        for &flags in roles {
            out.push(KeyDir::add(dir, origin, flags, cfg, now, None)?);
        }
        Ok(out)
    }

    /// Make one key with `flags` by the policy's algorithm and write it
    /// into `dir`, its tag (and its revoked tag, RFC 5011 §3) free among
    /// the keys there. Created is `now`; Publish and Activate are `now`
    /// too unless `timing` gives them (a rollover's successor).
    pub fn add(
        dir: &Path,
        origin: &Name,
        flags: u16,
        cfg: &DnssecConfig,
        now: u64,
        timing: Option<KeyTiming>,
    ) -> Result<SigningKey, KeyError> {
        let taken: Vec<u16> = KeyDir::load(dir, origin)?
            .iter()
            .flat_map(SigningKey::tags)
            .collect();
        let mut tries = 0;
        let mut key = loop {
            let k = SigningKey::generate(origin, flags, cfg.algorithm, cfg.rsa_bits, now)?;
            if !k.tags().iter().any(|t| taken.contains(t)) {
                break k;
            }
            tries += 1;
            if tries > 32 {
                return Err(KeyError::DuplicateTag {
                    tag: k.key_tag,
                    first: dir.join(k.base_name()),
                    second: dir.join(k.base_name()),
                });
            }
        };
        if let Some(t) = timing {
            key.timing = KeyTiming {
                created: Some(now),
                ..t
            };
        }
        key.write(dir)?;
        tracing::info!(key = %key.base_name(), flags, "generated key");
        Ok(key)
    }
}

/// DNSKEY RDATA (RFC 4034 §2.1), protocol 3 (§2.1.2).
fn dnskey_rdata(flags: u16, algorithm: u8, public_key: &[u8]) -> Vec<u8> {
    Dnskey {
        flags,
        protocol: 3,
        algorithm,
        public_key: public_key.to_vec(),
    }
    .to_rdata()
}

fn base_name(owner: &Name, algorithm: u8, tag: u16) -> String {
    format!("K{owner}+{algorithm:03}+{tag:05}")
}
