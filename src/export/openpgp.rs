//! OpenPGP detached signatures for the CZDS files (Spec 4 §2.1.3:
//! `<zone>.zone.gz.sig` "to verify downloads"), made with rPGP.
//!
//! Owns the signing key file: an armored, unprotected OpenPGP secret key
//! (the registry's zone-file key, whose public half ICANN holds). When the
//! configured file does not exist a key is generated, as the DNSSEC keys
//! are: Ed25519, OpenPGP v4 (what GnuPG 2.2 verifies), the public key
//! written beside it as `<file>.pub`. Signatures are binary (the `.sig`
//! convention of `gpg --detach-sign`), SHA-256, over the `.zone.gz` bytes.

use pgp::composed::{
    Deserializable, DetachedSignature, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, Password};
use std::io::Read;
use std::path::{Path, PathBuf};
use tldns_base::fs::{WriteError, write_atomic, write_new_durably};

/// Why no signature was made.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key or the file to sign could not be read, or the key or the
    /// signature could not be written.
    #[error("{path}: {error}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The key file does not parse as an armored OpenPGP secret key.
    #[error("{path}: not an armored OpenPGP secret key: {error}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// The parser's error.
        error: pgp::errors::Error,
    },
    /// Neither the primary key nor any subkey may sign.
    #[error("{path}: no key in it may sign (no primary key or subkey with the signing flag)")]
    NoSigningKey {
        /// The key file.
        path: PathBuf,
    },
    /// Making a new key ([`generate`]) failed; holds the reason.
    #[error("generating an OpenPGP key: {0}")]
    Generate(String),
    /// Signing failed, as it does with a passphrase-protected key.
    #[error("signing {path} (is the key passphrase-protected? it must not be): {error}")]
    Sign {
        /// The file being signed.
        path: PathBuf,
        /// The OpenPGP library's error.
        error: pgp::errors::Error,
    },
}

/// A loaded signing key.
pub struct Signer {
    key: SignedSecretKey,
    /// Index into `key.secret_subkeys`, or `None` for the primary key.
    subkey: Option<usize>,
    path: PathBuf,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, {})", self.path.display(), self.fingerprint())
    }
}

impl Signer {
    /// Load `path`; generate a key there first if there is none.
    pub fn load_or_generate(path: &Path, user_id: &str) -> Result<Signer, SignError> {
        if !path.exists() {
            generate(path, user_id)?;
            tracing::info!(
                key = %path.display(),
                public = %public_path(path).display(),
                "generated an OpenPGP key for the CZDS signatures (there was none)"
            );
        }
        Signer::load(path)
    }

    /// Load an armored secret key and pick the key that signs: the primary
    /// if its self-signature allows signing, else the first signing subkey.
    pub fn load(path: &Path) -> Result<Signer, SignError> {
        let io = |error| SignError::Io {
            path: path.to_path_buf(),
            error,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let (key, _) =
            SignedSecretKey::from_armor_single(std::io::BufReader::new(f)).map_err(|error| {
                SignError::Key {
                    path: path.to_path_buf(),
                    error,
                }
            })?;
        let primary_signs = key
            .details
            .users
            .iter()
            .flat_map(|u| u.signatures.iter())
            .chain(key.details.direct_signatures.iter())
            .any(|s| s.key_flags().sign());
        let subkey = if primary_signs {
            None
        } else {
            let i = key
                .secret_subkeys
                .iter()
                .position(|s| s.signatures.iter().any(|sig| sig.key_flags().sign()))
                .ok_or_else(|| SignError::NoSigningKey {
                    path: path.to_path_buf(),
                })?;
            Some(i)
        };
        Ok(Signer {
            key,
            subkey,
            path: path.to_path_buf(),
        })
    }

    /// Fingerprint of the key that signs, in hex.
    pub fn fingerprint(&self) -> String {
        match self.subkey {
            None => self.key.primary_key.fingerprint().to_string(),
            Some(i) => self.key.secret_subkeys[i].key.fingerprint().to_string(),
        }
    }

    /// A binary detached signature over the bytes of `file`, read as a stream.
    pub fn sign_file(&self, file: &Path) -> Result<Vec<u8>, SignError> {
        let f = std::fs::File::open(file).map_err(|error| SignError::Io {
            path: file.to_path_buf(),
            error,
        })?;
        self.sign_reader(std::io::BufReader::with_capacity(1 << 16, f), file)
    }

    fn sign_reader<R: Read>(&self, data: R, what: &Path) -> Result<Vec<u8>, SignError> {
        let err = |error| SignError::Sign {
            path: what.to_path_buf(),
            error,
        };
        let rng = rand::thread_rng();
        let pw = Password::empty();
        let sig = match self.subkey {
            None => DetachedSignature::sign_binary_data(
                rng,
                &self.key.primary_key,
                &pw,
                HashAlgorithm::Sha256,
                data,
            ),
            Some(i) => DetachedSignature::sign_binary_data(
                rng,
                &self.key.secret_subkeys[i].key,
                &pw,
                HashAlgorithm::Sha256,
                data,
            ),
        }
        .map_err(err)?;
        sig.to_bytes().map_err(err)
    }
}

/// Where the public half of a generated key goes.
pub fn public_path(secret: &Path) -> PathBuf {
    let mut p = secret.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// Generate an Ed25519 signing key at `path` (mode 0600) and its public key
/// at [`public_path`].
pub fn generate(path: &Path, user_id: &str) -> Result<(), SignError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |error| SignError::Io { path: p, error }
    };
    let gen_err = |e: &dyn std::fmt::Display| SignError::Generate(e.to_string());
    let mut params = SecretKeyParamsBuilder::default();
    params
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(user_id.to_string());
    let params = params.build().map_err(|e| gen_err(&e))?;
    let mut rng = rand::thread_rng();
    let secret = params.generate(&mut rng).map_err(|e| gen_err(&e))?;
    let signed = secret
        .sign(&mut rng, &Password::empty())
        .map_err(|e| gen_err(&e))?;
    let armored = signed
        .to_armored_string(Default::default())
        .map_err(|e| gen_err(&e))?;
    let public = SignedPublicKey::from(signed)
        .to_armored_string(Default::default())
        .map_err(|e| gen_err(&e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    write_private(path, armored.as_bytes())?;
    let pubp = public_path(path);
    write_atomic(&pubp, public.as_bytes()).map_err(written)?;
    Ok(())
}

fn written(e: WriteError) -> SignError {
    SignError::Io {
        path: e.path,
        error: e.error,
    }
}

/// The secret key, durably, mode 0600 from its creation; never over an
/// existing key.
fn write_private(path: &Path, data: &[u8]) -> Result<(), SignError> {
    write_new_durably(path, 0o600, data).map_err(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_signs_and_verifies() {
        let dir = std::env::temp_dir().join(format!("tldns-openpgp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let key = dir.join("czds.asc");
        let s = Signer::load_or_generate(&key, "test <zone@example>").unwrap();
        let data = dir.join("data");
        std::fs::write(&data, b"mobile.\t3600\tin\tsoa\t...\n").unwrap();
        let sig = s.sign_file(&data).unwrap();
        let sig = DetachedSignature::from_bytes(&sig[..]).unwrap();
        let (public, _) =
            SignedPublicKey::from_armor_single(std::fs::File::open(public_path(&key)).unwrap())
                .unwrap();
        sig.verify(&public, b"mobile.\t3600\tin\tsoa\t...\n")
            .unwrap();
        assert!(sig.verify(&public, b"tampered").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
