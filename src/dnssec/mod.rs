//! DNSSEC signing: keys, NSEC3, RRSIGs, and the zone signer.
//!
//! Owns turning a [`Zone`](crate::zone::Zone) into the DNSSEC half of a
//! [`SignedZone`](crate::zone::SignedZone) ([`Dnssec`](crate::zone::Dnssec)),
//! fully ([`sign_zone`]) or in place for live updates
//! ([`update_delegations`], [`refresh`]); and the keys in BIND's K-file
//! format ([`keys`]). It does no I/O except in [`keys`] (the key directory
//! and, for RSA key generation, an external keygen tool).
//!
//! - [`keys`]: the key model (timing, state, DS), K-files, generation, and
//!   the [`keys::Keystore`] interface the rolls go through (a key directory
//!   today, an HSM later).
//! - [`parent`]: what the parent vouches for (its DS RRset), the gate's anchors.
//! - [`roll`]: key rollovers by policy (ZSK, KSK, CSK, algorithm, emergency),
//!   as key timing.
//! - [`nsec3`]: the NSEC3 hash (RFC 5155 §5) and which names the chain holds.
//! - [`rrsig`]: the signed data (RFC 4034 §3.1.8.1, §6) and signing/checking.
//! - [`signer`]: the zone signer, the incremental updater, the refresher.
//!
//! It must not touch the query path or the verifier: the verifier
//! (tldns-verify) reads the signed zone independently and shares only the
//! base layer's primitives (names, RDATA, NSEC3 hash, key tag) with it.
//! [`rrsig::verify_rrsig`] is the signer's own check of a signature, for its
//! tests; nothing that decides what is published calls it.

pub mod keys;
pub mod nsec3;
pub mod parent;
pub mod roll;
pub mod rrsig;
pub mod signer;

pub use keys::{KeyDir, KeyError, KeyState, KeyTiming, SigningKey};
pub use nsec3::{nsec3_hash, nsec3_hash_text};
pub use signer::{
    RefreshStats, SignError, SignParams, UpdateStats, keys_current, refresh, sign_dnssec,
    sign_zone, update_delegations,
};

/// Tests that run external tools (ldns, BIND) skip with a printed reason
/// when the tool is missing, and fail instead when `CI=true`.
#[cfg(test)]
pub(crate) fn tool_available(tool: &str) -> bool {
    match std::process::Command::new(tool).arg("-h").output() {
        Ok(_) => true,
        Err(_) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{tool} is required when CI=true");
            }
            eprintln!("skipped: {tool} is not installed");
            false
        }
    }
}
