//! The keystore interface: where a zone's keys are kept, made and
//! changed. The roll logic ([`crate::dnssec::roll`]) and the daemon go
//! through [`Keystore`] only, so a PKCS#11 token (keys made and kept in
//! the HSM, the K-files holding the public half, the timing and the
//! token's label) plugs in beside the key directory without touching them.
//! Signing goes through [`SigningKey::sign`], whose private half is either
//! in memory (the key directory's `.private` files) or an
//! [`ExternalKey`] that signs where it lives.

use super::{KeyDir, KeyError, KeyTiming, SigningKey};
use crate::config::{Config, DnssecConfig};
use crate::name::Name;
use std::path::{Path, PathBuf};

/// Where a zone's keys are kept.
pub trait Keystore: Send + Sync {
    /// Every key of the zone, able to sign, with its timing.
    fn keys(&self) -> Result<Vec<SigningKey>, KeyError>;
    /// Make a key with `flags` (KSK/CSK or ZSK) by the policy's algorithm,
    /// its tag and revoked tag (RFC 5011 §3) free among the zone's keys,
    /// and keep it. Created is `now`; Publish and Activate are `now` too
    /// unless `timing` gives them.
    fn make(&self, flags: u16, now: u64, timing: Option<KeyTiming>)
    -> Result<SigningKey, KeyError>;
    /// Keep `key`'s changed timing (a roll's step), durably, before the
    /// step is acted on.
    fn store_timing(&self, key: &SigningKey) -> Result<(), KeyError>;
}

/// The key directory: BIND's K-files, the private key in `.private`.
#[derive(Debug, Clone)]
pub struct DirKeystore {
    dir: PathBuf,
    origin: Name,
    policy: DnssecConfig,
}

impl DirKeystore {
    /// The keys of `origin` in `dir`, made by `policy` (algorithm, size).
    pub fn new(dir: &Path, origin: &Name, policy: &DnssecConfig) -> DirKeystore {
        DirKeystore {
            dir: dir.to_path_buf(),
            origin: origin.clone(),
            policy: policy.clone(),
        }
    }

    /// The zone's key directory (`[dnssec] keys-dir`).
    pub fn of(config: &Config) -> DirKeystore {
        DirKeystore::new(
            &config.resolve(&config.zone.dnssec.keys_dir),
            &config.origin,
            &config.zone.dnssec,
        )
    }
}

impl Keystore for DirKeystore {
    fn keys(&self) -> Result<Vec<SigningKey>, KeyError> {
        KeyDir::load(&self.dir, &self.origin)
    }

    fn make(
        &self,
        flags: u16,
        now: u64,
        timing: Option<KeyTiming>,
    ) -> Result<SigningKey, KeyError> {
        KeyDir::add(&self.dir, &self.origin, flags, &self.policy, now, timing)
    }

    fn store_timing(&self, key: &SigningKey) -> Result<(), KeyError> {
        key.write_timing()
    }
}

/// The zone's keystore, as its configuration says: the key directory (the
/// only kind so far; the HSM's issue adds a PKCS#11 one).
pub fn keystore(config: &Config) -> Box<dyn Keystore> {
    Box::new(DirKeystore::of(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnssec::keys::ExternalKey;
    use crate::dnssec::roll;
    use std::sync::{Arc, Mutex};

    /// A token stand-in: the private half lives here, out of the
    /// `SigningKey`, which only asks it to sign.
    struct Token {
        inner: SigningKey,
        label: String,
    }

    impl ExternalKey for Token {
        fn sign(&self, data: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
            self.inner.sign(data)
        }
        fn private_fields(&self) -> String {
            format!("Label: {}\n", self.label)
        }
    }

    /// A keystore with no key directory: keys made in the "token", timing
    /// kept in memory.
    struct Memory {
        origin: Name,
        keys: Mutex<Vec<SigningKey>>,
        timing_writes: Mutex<usize>,
    }

    impl Keystore for Memory {
        fn keys(&self) -> Result<Vec<SigningKey>, KeyError> {
            Ok(self.keys.lock().unwrap().clone())
        }
        fn make(
            &self,
            flags: u16,
            now: u64,
            timing: Option<KeyTiming>,
        ) -> Result<SigningKey, KeyError> {
            let inner = SigningKey::generate(&self.origin, flags, 13, 2048, now)?;
            let k = SigningKey::external(
                &self.origin,
                flags,
                13,
                inner.public_key.clone(),
                timing.unwrap_or(inner.timing),
                None,
                Arc::new(Token {
                    label: format!("pkcs11:object=tldns-{}", inner.key_tag),
                    inner,
                }),
            );
            self.keys.lock().unwrap().push(k.clone());
            Ok(k)
        }
        fn store_timing(&self, key: &SigningKey) -> Result<(), KeyError> {
            *self.timing_writes.lock().unwrap() += 1;
            for k in self.keys.lock().unwrap().iter_mut() {
                if k.key_tag == key.key_tag {
                    k.timing = key.timing;
                }
            }
            Ok(())
        }
    }

    /// The roll logic runs on any keystore: a ZSK roll on the memory one,
    /// its keys signing through the "token", their `.private` naming it.
    #[test]
    fn the_roll_logic_runs_on_a_keystore_without_a_key_directory() {
        let text = include_str!("../../../zones/mobile.toml")
            .replace("zsk-lifetime = \"90d\"", "zsk-lifetime = \"10h\"");
        let config = Config::parse(Path::new("zones/mobile.toml"), &text).unwrap();
        let store = Memory {
            origin: config.origin.clone(),
            keys: Mutex::new(Vec::new()),
            timing_writes: Mutex::new(0),
        };
        let t0 = 1_780_000_000;
        let ksk = store.make(super::super::KSK, t0, None).unwrap();
        let zsk = store.make(super::super::ZSK, t0, None).unwrap();
        let keys = store.keys().unwrap();
        let p = roll::RollPolicy::from_config(&config);
        let at = t0 + 36_000 - p.ipub();
        assert!(
            roll::roll_zsk(&store, &config, &keys, at - 1)
                .unwrap()
                .is_none()
        );
        let step = roll::roll_zsk(&store, &config, &keys, at).unwrap().unwrap();
        assert_eq!(step.old, zsk.key_tag);
        let keys = store.keys().unwrap();
        assert_eq!(keys.len(), 3, "the successor was made in the store");
        assert_eq!(*store.timing_writes.lock().unwrap(), 1, "the old ZSK's");
        let old = keys.iter().find(|k| k.key_tag == zsk.key_tag).unwrap();
        assert_eq!(old.timing.inactive, Some(step.inactive));

        // Every key signs through its token.
        let owner = config.origin.clone();
        let soa: &[u8] = b"\x01a\x00\x01b\x00\0\0\0\x01\0\0\0\x02\0\0\0\x03\0\0\0\x04\0\0\0\x05";
        for k in [&ksk, &keys[2]] {
            let sig = crate::dnssec::rrsig::sign_rrset(
                k,
                &owner,
                6,
                300,
                &[soa],
                t0 as u32,
                t0 as u32 + 86400,
            )
            .unwrap();
            assert!(crate::dnssec::rrsig::verify_rrsig(
                &k.dnskey_rdata(),
                &owner,
                300,
                &[soa],
                &sig
            ));
            let private = k.private_file_text();
            assert!(private.contains("Label: pkcs11:object=tldns-"), "{private}");
            assert!(!private.contains("PrivateKey:"), "{private}");
        }
    }
}
