//! BIND's K-file format: `K<zone>+<alg>+<tag>.key` (the DNSKEY record,
//! timing in comments) and `.private` (format v1.3: the private fields and
//! the timing metadata Created/Publish/Activate/Inactive/Delete), read and
//! written.
//!
//! Owns the two files' syntax and the file names; it does no cryptography
//! but ring's key-pair checks on what it reads. Times are
//! `tldns_base::time`'s `YYYYMMDDHHMMSS`.
//!
//! Decisions:
//! - An ECDSA `.private` holds only the scalar and ring cannot derive the
//!   public point from it through its public API, so algorithm 13 needs the
//!   `.key` file as well; ring checks the pair is consistent.
//! - BIND keeps timing in `.private`; older tools only in `.key` comments:
//!   `.private` wins when it has any.
//! - Writing never replaces a key file's key: a key's files are written
//!   once, and afterwards only their timing metadata is rewritten
//!   ([`SigningKey::write_timing`], a rollover scheduling the key), each
//!   file replaced atomically with the same key material.

use super::{KeyError, KeyTiming, RsaFields, Secret, SigningKey, ZSK, dnskey_rdata, key_tag};
use crate::name::Name;
use crate::rr::alg;
use data_encoding::BASE64;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tldns_base::fs::write_new_durably;
use tldns_base::time::{civil_from_days, format_timestamp, parse_timestamp};

impl SigningKey {
    /// The `.key` file text.
    pub fn key_file_text(&self) -> String {
        let kind = if self.is_sep() {
            "key-signing"
        } else {
            "zone-signing"
        };
        let mut s = format!(
            "; This is a {kind} key, keyid {}, for {}\n",
            self.key_tag, self.owner
        );
        for (label, t) in timing_fields(&self.timing) {
            s.push_str(&format!(
                "; {label}: {} ({})\n",
                time_text(t),
                time_human(t)
            ));
        }
        s.push_str(&format!(
            "{} IN DNSKEY {} 3 {} {}\n",
            self.owner,
            self.flags,
            self.algorithm,
            BASE64.encode(&self.public_key)
        ));
        s
    }

    /// The `.private` file text (BIND format v1.3).
    pub fn private_file_text(&self) -> String {
        let mut s = String::from("Private-key-format: v1.3\n");
        let b = |v: &[u8]| BASE64.encode(v);
        match &*self.secret {
            Secret::External(k) => {
                s.push_str(&format!("Algorithm: {}\n", self.algorithm));
                s.push_str(&k.private_fields());
            }
            Secret::EcdsaP256 { scalar, .. } => {
                s.push_str("Algorithm: 13 (ECDSAP256SHA256)\n");
                s.push_str(&format!("PrivateKey: {}\n", b(scalar)));
            }
            Secret::Ed25519 { seed, .. } => {
                s.push_str("Algorithm: 15 (ED25519)\n");
                s.push_str(&format!("PrivateKey: {}\n", b(seed)));
            }
            Secret::Rsa { fields: f, .. } => {
                s.push_str("Algorithm: 8 (RSASHA256)\n");
                for (k, v) in [
                    ("Modulus", &f.modulus),
                    ("PublicExponent", &f.public_exponent),
                    ("PrivateExponent", &f.private_exponent),
                    ("Prime1", &f.prime1),
                    ("Prime2", &f.prime2),
                    ("Exponent1", &f.exponent1),
                    ("Exponent2", &f.exponent2),
                    ("Coefficient", &f.coefficient),
                ] {
                    s.push_str(&format!("{k}: {}\n", b(v)));
                }
            }
        }
        for (label, t) in timing_fields(&self.timing) {
            s.push_str(&format!("{label}: {}\n", time_text(t)));
        }
        s
    }

    /// Write `.key` (0644) and `.private` (0600) into `dir`; refuses to
    /// overwrite existing files.
    pub fn write(&mut self, dir: &Path) -> Result<PathBuf, KeyError> {
        let base = dir.join(self.base_name());
        let key_path = with_ext(&base, "key");
        let private_path = with_ext(&base, "private");
        write_new(&private_path, self.private_file_text().as_bytes(), 0o600)?;
        write_new(&key_path, self.key_file_text().as_bytes(), 0o644)?;
        self.file = Some(base.clone());
        Ok(base)
    }

    /// Rewrite the key's two files with its timing as it is now (a
    /// rollover set Inactive/Delete, or Publish/Activate of a successor),
    /// each replaced atomically (temporary file, fsync, rename; the
    /// `.private` with mode 0600 before anything is written to it). The
    /// key material is what was read, so the files still hold this key.
    pub fn write_timing(&self) -> Result<(), KeyError> {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let Some(base) = &self.file else {
            return Err(KeyError::Io {
                path: PathBuf::from(self.base_name()),
                error: std::io::Error::other("the key was not read from a file"),
            });
        };
        let io = |e: tldns_base::fs::WriteError| KeyError::Io {
            path: e.path,
            error: e.error,
        };
        let private = self.private_file_text();
        tldns_base::fs::write_atomic_with(&with_ext(base, "private"), |f| {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            f.write_all(private.as_bytes())
        })
        .map_err(io)?;
        let public = self.key_file_text();
        tldns_base::fs::write_atomic_with(&with_ext(base, "key"), |f| {
            f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            f.write_all(public.as_bytes())
        })
        .map_err(io)
    }

    /// Read a key from its base path (`dir/Kmobile.+013+12345`), or from
    /// either of its two files.
    pub fn read(path: &Path) -> Result<SigningKey, KeyError> {
        let s = path.to_string_lossy();
        let base = PathBuf::from(
            s.strip_suffix(".private")
                .or_else(|| s.strip_suffix(".key"))
                .unwrap_or(&s)
                .to_string(),
        );
        let private_path = with_ext(&base, "private");
        let key_path = with_ext(&base, "key");
        let private_text = read_text(&private_path)?;
        let public = match std::fs::read_to_string(&key_path) {
            Ok(t) => Some(parse_key_file(&key_path, &t)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(KeyError::Io {
                    path: key_path,
                    error,
                });
            }
        };
        let p = parse_private_file(&private_path, &private_text)?;
        let algorithm = p.algorithm;
        // ECDSA P-256 scalar and Ed25519 seed: both 32 octets (RFC 6605, RFC 8080).
        let private_key_32 = || -> Result<[u8; 32], KeyError> {
            p.field("PrivateKey")?
                .try_into()
                .map_err(|_| KeyError::Syntax {
                    path: private_path.clone(),
                    line: 0,
                    what: "PrivateKey is not 32 octets",
                })
        };
        let (secret, public_key) = match algorithm {
            alg::ECDSAP256SHA256 => {
                let scalar = private_key_32()?;
                let Some(pk) = &public else {
                    return Err(KeyError::MissingPublicKey { path: key_path });
                };
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&pk.public_key);
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &scalar,
                    &point,
                    &SystemRandom::new(),
                )
                .map_err(|e| match e.to_string().as_str() {
                    "InconsistentComponents" => KeyError::PublicKeyMismatch {
                        public: key_path.clone(),
                        private: private_path.clone(),
                    },
                    _ => KeyError::Rejected {
                        path: private_path.clone(),
                        reason: e.to_string(),
                    },
                })?;
                (Secret::EcdsaP256 { scalar, pair }, pk.public_key.clone())
            }
            alg::ED25519 => {
                let seed = private_key_32()?;
                let pair =
                    Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|e| KeyError::Rejected {
                        path: private_path.clone(),
                        reason: e.to_string(),
                    })?;
                let pk = pair.public_key().as_ref().to_vec();
                (Secret::Ed25519 { seed, pair }, pk)
            }
            alg::RSASHA256 => {
                let f = RsaFields {
                    modulus: p.field("Modulus")?,
                    public_exponent: p.field("PublicExponent")?,
                    private_exponent: p.field("PrivateExponent")?,
                    prime1: p.field("Prime1")?,
                    prime2: p.field("Prime2")?,
                    exponent1: p.field("Exponent1")?,
                    exponent2: p.field("Exponent2")?,
                    coefficient: p.field("Coefficient")?,
                };
                let pair = rsa_pair(&f).map_err(|e| KeyError::Rejected {
                    path: private_path.clone(),
                    reason: e.to_string(),
                })?;
                let pk = rsa_dnskey_public(&f.public_exponent, &f.modulus);
                (
                    Secret::Rsa {
                        fields: Box::new(f),
                        pair,
                    },
                    pk,
                )
            }
            other => {
                return Err(KeyError::UnsupportedAlgorithm {
                    path: private_path,
                    algorithm: other,
                });
            }
        };
        let (owner, flags, key_timing) = match public {
            Some(pk) => {
                if pk.algorithm != algorithm || pk.public_key != public_key {
                    return Err(KeyError::PublicKeyMismatch {
                        public: key_path,
                        private: private_path,
                    });
                }
                (pk.owner, pk.flags, pk.timing)
            }
            None => {
                // Without the .key file, owner and flags come from the file name (owner) and
                // default to a ZSK; a missing .key file is unusual, so say so.
                let owner = owner_from_base(&base).ok_or(KeyError::Syntax {
                    path: private_path.clone(),
                    line: 0,
                    what: "no .key file and the file name is not K<zone>+<alg>+<tag>",
                })?;
                tracing::warn!(path = %key_path.display(), "no .key file: taking flags 256 (ZSK)");
                (owner, ZSK, KeyTiming::default())
            }
        };
        // BIND keeps timing in .private; older tools only in .key comments.
        let timing = if p.timing == KeyTiming::default() {
            key_timing
        } else {
            p.timing
        };
        let rdata = dnskey_rdata(flags, algorithm, &public_key);
        Ok(SigningKey {
            owner,
            flags,
            algorithm,
            key_tag: key_tag(&rdata),
            public_key,
            timing,
            file: Some(base),
            secret: Arc::new(secret),
        })
    }
}

pub(super) fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn owner_from_base(base: &Path) -> Option<Name> {
    let f = base.file_name()?.to_str()?;
    let rest = f.strip_prefix('K')?;
    let mut parts = rest.rsplitn(3, '+');
    let (_tag, _alg, owner) = (parts.next()?, parts.next()?, parts.next()?);
    Name::parse(owner).ok()
}

fn read_text(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|error| KeyError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Write a new key file durably with permission `mode` (0600 for the
/// private half) from its creation; refuses to replace an existing file, as
/// a key's files are written once.
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), KeyError> {
    write_new_durably(path, mode, data).map_err(|e| KeyError::Io {
        path: e.path,
        error: e.error,
    })
}

/// A parsed `.key` file.
struct PublicFile {
    owner: Name,
    flags: u16,
    algorithm: u8,
    public_key: Vec<u8>,
    timing: KeyTiming,
}

fn parse_key_file(path: &Path, text: &str) -> Result<PublicFile, KeyError> {
    let syntax = |line, what| KeyError::Syntax {
        path: path.to_path_buf(),
        line,
        what,
    };
    let mut timing = KeyTiming::default();
    let mut found = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim_start();
        if let Some(c) = trimmed.strip_prefix(';') {
            // BIND: "; Publish: 20240101000000 (Mon Jan  1 00:00:00 2024)"
            if let Some((k, v)) = c.trim().split_once(':') {
                let t = v.split_whitespace().next().and_then(parse_time);
                set_timing(&mut timing, k.trim(), t);
            }
            continue;
        }
        let body = raw.split(';').next().unwrap_or("").replace(['(', ')'], " ");
        let tokens: Vec<&str> = body.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        let Some(pos) = tokens.iter().position(|t| t.eq_ignore_ascii_case("DNSKEY")) else {
            return Err(syntax(line_no, "expected a DNSKEY record"));
        };
        if pos == 0 || tokens.len() < pos + 5 {
            return Err(syntax(
                line_no,
                "DNSKEY record needs owner, flags, protocol, algorithm, key",
            ));
        }
        let owner = Name::parse(tokens[0]).map_err(|_| syntax(line_no, "bad owner name"))?;
        let flags = tokens[pos + 1]
            .parse()
            .map_err(|_| syntax(line_no, "bad flags"))?;
        if tokens[pos + 2] != "3" {
            return Err(syntax(line_no, "protocol must be 3 (RFC 4034 §2.1.2)"));
        }
        let algorithm = tokens[pos + 3]
            .parse()
            .map_err(|_| syntax(line_no, "bad algorithm"))?;
        let b64: String = tokens[pos + 4..].concat();
        let public_key = BASE64
            .decode(b64.as_bytes())
            .map_err(|_| syntax(line_no, "bad base64 key"))?;
        found = Some(PublicFile {
            owner,
            flags,
            algorithm,
            public_key,
            timing: KeyTiming::default(),
        });
    }
    let mut pf = found.ok_or_else(|| syntax(0, "no DNSKEY record"))?;
    pf.timing = timing;
    Ok(pf)
}

fn set_timing(t: &mut KeyTiming, key: &str, v: Option<u64>) {
    match key {
        "Created" => t.created = v,
        "Publish" => t.publish = v,
        "Activate" => t.activate = v,
        "Inactive" => t.inactive = v,
        "Delete" => t.delete = v,
        _ => {}
    }
}

fn timing_fields(t: &KeyTiming) -> Vec<(&'static str, u64)> {
    [
        ("Created", t.created),
        ("Publish", t.publish),
        ("Activate", t.activate),
        ("Inactive", t.inactive),
        ("Delete", t.delete),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

struct PrivateFile {
    path: PathBuf,
    algorithm: u8,
    fields: Vec<(String, String)>,
    timing: KeyTiming,
}

impl PrivateFile {
    fn field(&self, name: &'static str) -> Result<Vec<u8>, KeyError> {
        let (_, v) = self
            .fields
            .iter()
            .find(|(k, _)| k == name)
            .ok_or(KeyError::Syntax {
                path: self.path.clone(),
                line: 0,
                what: "a field the algorithm needs is missing",
            })?;
        BASE64.decode(v.as_bytes()).map_err(|_| KeyError::Syntax {
            path: self.path.clone(),
            line: 0,
            what: "a key field is not base64",
        })
    }
}

fn parse_private_file(path: &Path, text: &str) -> Result<PrivateFile, KeyError> {
    let mut algorithm = None;
    let mut fields = Vec::new();
    let mut timing = KeyTiming::default();
    for (i, line) in text.lines().enumerate() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "Private-key-format" => {
                if !v.starts_with("v1.") {
                    return Err(KeyError::Syntax {
                        path: path.into(),
                        line: i + 1,
                        what: "unknown private key format",
                    });
                }
            }
            "Algorithm" => {
                let n = v.split_whitespace().next().and_then(|n| n.parse().ok());
                algorithm = Some(n.ok_or(KeyError::Syntax {
                    path: path.into(),
                    line: i + 1,
                    what: "bad algorithm",
                })?);
            }
            "Created" | "Publish" | "Activate" | "Inactive" | "Delete" => {
                let t = parse_time(v).ok_or(KeyError::Syntax {
                    path: path.into(),
                    line: i + 1,
                    what: "bad time (YYYYMMDDHHMMSS)",
                })?;
                set_timing(&mut timing, k, Some(t));
            }
            _ => fields.push((k.to_string(), v.to_string())),
        }
    }
    let algorithm = algorithm.ok_or(KeyError::Syntax {
        path: path.into(),
        line: 0,
        what: "no Algorithm line",
    })?;
    Ok(PrivateFile {
        path: path.to_path_buf(),
        algorithm,
        fields,
        timing,
    })
}

/// `YYYYMMDDHHMMSS` (UTC) to seconds since the epoch; times before 1970
/// are not key times.
pub(super) fn parse_time(s: &str) -> Option<u64> {
    parse_timestamp(s).and_then(|t| u64::try_from(t).ok())
}

/// Seconds since the epoch to `YYYYMMDDHHMMSS`.
pub(super) fn time_text(t: u64) -> String {
    // Key times come from parse_time or the clock: far below i64::MAX.
    format_timestamp(t as i64)
}

/// `Sun Nov 29 19:06:41 2026`, as BIND writes in `.key` comments.
pub(super) fn time_human(t: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = t / 86_400;
    let rem = t % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{} {} {d:>2} {:02}:{:02}:{:02} {y}",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn strip_zeros(v: &[u8]) -> &[u8] {
    let i = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    &v[i..]
}

fn rsa_pair(f: &RsaFields) -> Result<RsaKeyPair, ring::error::KeyRejected> {
    use ring::rsa::{KeyPairComponents, PublicKeyComponents};
    RsaKeyPair::from_components(&KeyPairComponents {
        public_key: PublicKeyComponents {
            n: strip_zeros(&f.modulus),
            e: strip_zeros(&f.public_exponent),
        },
        d: strip_zeros(&f.private_exponent),
        p: strip_zeros(&f.prime1),
        q: strip_zeros(&f.prime2),
        dP: strip_zeros(&f.exponent1),
        dQ: strip_zeros(&f.exponent2),
        qInv: strip_zeros(&f.coefficient),
    })
}

/// RSA public key in DNSKEY form (RFC 3110 §2): exponent length, exponent, modulus.
fn rsa_dnskey_public(e: &[u8], n: &[u8]) -> Vec<u8> {
    let (e, n) = (strip_zeros(e), strip_zeros(n));
    let mut v = Vec::with_capacity(3 + e.len() + n.len());
    if e.len() < 256 {
        v.push(e.len() as u8);
    } else {
        v.push(0);
        v.extend_from_slice(&(e.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(e);
    v.extend_from_slice(n);
    v
}
