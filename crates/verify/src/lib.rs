//! Independent verification of a signed zone before it is published.
//!
//! A second reading of a version before it is published, written against
//! the RFCs and the registry agreement, not against the signer (.se 2022:
//! "verify every signed version independently before it goes out").
//!
//! Independence is built, not stated: this crate depends on the base layer
//! (`tldns-base`), the zone model (`tldns-zone`) and `ring`, and on nothing
//! else of tldns, so it has no path to the signer. Two entry points:
//! - [`verify`]: a whole version, from its records
//!   (`SignedZone::records`), after every full build;
//! - [`verify_changed`]: the part of an incremental version that differs
//!   from the last verified one.
//!
//! Both apply one acceptance policy ([`policy`]: algorithms, minimum RSA
//! size, the validity-boundary rule).
//!
//! What it checks, cheapest first, stopping at the first failure:
//! - [`content`]: one SOA at the apex, Exhibit A types only, no wildcards,
//!   nothing outside the origin, nothing below a delegation but glue;
//! - [`delegation`]: the number of delegations did not change implausibly
//!   (.se 2009);
//! - [`dnskey`]: unique key tags (.de 2026), a SEP key, keys that parse;
//! - [`nsec3`]: the NSEC3 chain (RFC 5155), recomputing every hash;
//! - [`rrsig`]: every RRSIG validates and every authoritative RRset is signed
//!   (RFC 4034, 4035), using every core.
//!
//! It does no I/O and never panics on bad input: every failure is a
//! [`VerifyError`] naming the owner, the type and the rule broken.
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
#![warn(missing_docs)]

mod changed;
mod content;
mod delegation;
mod dnskey;
mod nsec3;
pub mod policy;
mod rrsig;
#[cfg(test)]
mod text;

#[cfg(test)]
mod tests;

use tldns_base::{name, rr};

use crate::name::Name;
use crate::rr::{Record, rtype, type_name};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

pub use changed::{ChangedError, ChangedReport, verify_changed, verify_refreshed};

/// What the caller knows that the records do not say.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyOptions {
    /// Current time, seconds since the epoch (RRSIG validity, RFC 4034 §3.1.5).
    pub now: u32,
    /// Delegation count of the last published version, if any.
    pub previous_delegations: Option<usize>,
    /// Largest accepted relative change of the delegation count (0.1 = 10%).
    pub max_delegation_change: f64,
    /// Types an operator allowed beyond Exhibit A (RSEP approval).
    pub allowed_extra_types: Vec<u16>,
    /// Refuse an unsigned zone (Specification 6 §1.3: the zone is signed).
    pub require_signed: bool,
    /// What the parent vouches for: the DS RRset it holds for the zone
    /// (RFC 4034 §5), or, where that is not known, the key-signing keys of
    /// the last published version. The DNSKEY RRset must be signed by a
    /// key one of them names (the chain-of-trust gate).
    /// `None`: no gate (a zone never published, with no parent DS given).
    pub trust_anchors: Option<Vec<rr::Ds>>,
    /// Every RRSIG must stay valid at least this many seconds after `now`:
    /// the SOA expire, for which a secondary that lost the primary goes on
    /// serving what it has (RFC 6781 §4.4.3). 0: not expired is enough.
    pub min_signature_life: u32,
    /// DNSKEY RDATA of keys that sign without being in the DNSKEY RRset:
    /// an algorithm roll's new keys before they are published and its old
    /// keys after they are withdrawn (RFC 6781 §4.1.4, steps 2 and 5). A
    /// signature by one is checked with it; each must be of an algorithm
    /// that no published key has (else a validator could not tell it from
    /// a broken signature of a published one), and none counts for the
    /// chain of trust or for "every algorithm of the DNSKEY RRset signs
    /// every RRset". Empty: every signature is by a published key.
    pub unpublished_keys: Vec<Vec<u8>>,
    /// Skip, rather than refuse, a signature of an algorithm that no key of
    /// the DNSKEY RRset (nor of `unpublished_keys`) has, as a validator
    /// does (RFC 4035 §5.3.1): for a secondary, which cannot know the
    /// unpublished keys of its primary's algorithm roll (RFC 6781 §4.1.4,
    /// steps 2 and 5). A signature of a published algorithm by an unknown
    /// key is refused all the same.
    pub skip_unknown_algorithms: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            now: 0,
            previous_delegations: None,
            max_delegation_change: 0.1,
            allowed_extra_types: Vec::new(),
            require_signed: true,
            trust_anchors: None,
            min_signature_life: 0,
            unpublished_keys: Vec::new(),
            skip_unknown_algorithms: false,
        }
    }
}

/// What was checked, for logs and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// Records given, of every type.
    pub records: usize,
    /// RRSIG records whose signature was verified.
    pub rrsigs_checked: usize,
    /// Delegations: names below the apex with an NS RRset.
    pub delegations: usize,
    /// NSEC3 records in the chain.
    pub nsec3_records: usize,
    /// DNSKEY records at the apex.
    pub keys: usize,
    /// Names whose NSEC3 hash was recomputed.
    pub hashes_computed: usize,
    /// Whole run.
    pub elapsed: Duration,
    /// The signature-checking phase alone.
    pub signature_elapsed: Duration,
    /// Threads used for the signature and hash phases.
    pub threads: usize,
}

impl VerifyReport {
    /// Signatures verified per second in the signature phase.
    pub fn signatures_per_second(&self) -> f64 {
        let s = self.signature_elapsed.as_secs_f64();
        if s > 0.0 {
            self.rrsigs_checked as f64 / s
        } else {
            0.0
        }
    }
}

/// Why a zone must not be published. Each message cites the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    // --- content (Exhibit A, RFC 1034/2181) ---
    /// No SOA record at the apex (or no record there at all).
    #[error("no SOA at the apex {origin} (RFC 1035 §5.2, Exhibit A §1.1)")]
    NoSoa {
        /// The zone's origin.
        origin: Name,
    },
    /// More than one SOA record at the apex.
    #[error("{count} SOA records at the apex {origin}; exactly one allowed (RFC 1035 §5.2)")]
    MultipleSoa {
        /// The zone's origin.
        origin: Name,
        /// How many SOA records it has.
        count: usize,
    },
    /// A record whose owner is not at or below the origin.
    #[error("{owner} is outside the zone {origin} (RFC 1034 §4.2)")]
    OutOfZone {
        /// The record's owner.
        owner: Name,
        /// The zone's origin.
        origin: Name,
    },
    /// A record whose owner's first label is `*`.
    #[error("wildcard owner {owner}: no wildcards in a gTLD (Specification 6 §2.2)")]
    Wildcard {
        /// The record's owner.
        owner: Name,
    },
    /// An RRset of a type Exhibit A (or
    /// [`VerifyOptions::allowed_extra_types`]) does not allow where it is, or an
    /// SOA anywhere but the apex.
    #[error("{owner} {}: type not allowed {place} (Exhibit A §1)", type_name(*.rtype))]
    TypeNotAllowed {
        /// The RRset's owner.
        owner: Name,
        /// Its type.
        rtype: u16,
        /// Where it is (`"at the apex"`, `"at a delegation"`, `"outside the apex"`, ...).
        place: &'static str,
    },
    /// An RRset other than A/AAAA glue below a zone cut (an RRSIG there is
    /// [`VerifyError::RrsigOverNonAuthoritative`]).
    #[error(
        "{owner} {} is below the delegation {delegation}: only A/AAAA glue allowed there (Exhibit A §1, RFC 1034 §4.2.1)",
        type_name(*.rtype)
    )]
    BelowDelegation {
        /// The RRset's owner.
        owner: Name,
        /// Its type.
        rtype: u16,
        /// The delegation it is below.
        delegation: Name,
    },
    /// Two records with the same owner, type and RDATA.
    #[error("{owner} {}: duplicate record (RFC 2181 §5)", type_name(*.rtype))]
    DuplicateRecord {
        /// The records' owner.
        owner: Name,
        /// Their type.
        rtype: u16,
    },
    /// Records of one RRset (RRSIGs aside) with different TTLs.
    #[error("{owner} {}: records of one RRset with different TTLs (RFC 2181 §5.2)", type_name(*.rtype))]
    TtlMismatch {
        /// The RRset's owner.
        owner: Name,
        /// Its type.
        rtype: u16,
    },
    /// DNSKEY, RRSIG, NSEC3PARAM or NSEC3 RDATA that does not parse (an NSEC3
    /// next hashed owner must be 20 octets, SHA-1).
    #[error("{owner} {}: malformed RDATA", type_name(*.rtype))]
    BadRdata {
        /// The record's owner.
        owner: Name,
        /// Its type.
        rtype: u16,
    },

    // --- delegation count (.se 2009) ---
    /// The delegation count moved from
    /// [`VerifyOptions::previous_delegations`] by more than
    /// [`VerifyOptions::max_delegation_change`]: |current - previous| /
    /// max(previous, 1).
    #[error(
        "delegation count changed from {previous} to {current} ({:.2}% > limit {:.2}%): implausible change, refusing (incident .se 2009, docs/architecture.md)",
        .change * 100.0, .limit * 100.0
    )]
    DelegationChange {
        /// The last published version's count.
        previous: usize,
        /// This version's count (names below the apex with NS).
        current: usize,
        /// The relative change (0.1 = 10%).
        change: f64,
        /// The largest accepted relative change.
        limit: f64,
    },

    // --- DNSKEY (RFC 4034 §2, App. B) ---
    /// No DNSKEY at the apex, where [`VerifyOptions::require_signed`] is set or
    /// the zone holds RRSIG, NSEC, NSEC3 or NSEC3PARAM records.
    #[error("zone {origin} is not signed: no DNSKEY at the apex (Specification 6 §1.3)")]
    Unsigned {
        /// The zone's origin.
        origin: Name,
    },
    /// Two or more apex DNSKEYs share a key tag (RFC 4034 Appendix B); the
    /// smallest such tag is reported.
    #[error(
        "{count} DNSKEYs share key tag {key_tag}: key tags must be unique (RFC 4034 App. B, incident .de 2026, docs/architecture.md)"
    )]
    KeyTagCollision {
        /// The shared key tag.
        key_tag: u16,
        /// How many DNSKEYs have it.
        count: usize,
    },
    /// No DNSKEY has both the Zone Key and the SEP flag.
    #[error("no SEP key (flags 257) in the DNSKEY RRset (RFC 4034 §2.1.1, RFC 6781 §3.1)")]
    NoSepKey,
    /// A DNSKEY whose protocol field is not 3.
    #[error("DNSKEY {key_tag}: protocol {protocol}, must be 3 (RFC 4034 §2.1.2)")]
    DnskeyProtocol {
        /// The key's tag.
        key_tag: u16,
        /// Its protocol field.
        protocol: u8,
    },
    /// An RSA key with a modulus below [`policy::MIN_RSA_MODULUS_BITS`].
    #[error(
        "DNSKEY {key_tag}: RSA modulus of {bits} bits, the policy requires at least {min} (RFC 8624 §3.1)"
    )]
    WeakKey {
        /// The key's tag.
        key_tag: u16,
        /// Its modulus size, in bits.
        bits: usize,
        /// The smallest size the policy accepts, in bits.
        min: usize,
    },
    /// A DNSKEY of an accepted algorithm whose public key does not parse
    /// (RSA exponent and modulus, ECDSA point or Ed25519 key of the wrong size).
    #[error(
        "DNSKEY {key_tag} algorithm {algorithm}: malformed public key (RFC 3110, RFC 6605, RFC 8080)"
    )]
    BadPublicKey {
        /// The key's tag.
        key_tag: u16,
        /// Its algorithm.
        algorithm: u8,
    },

    // --- RRSIG (RFC 4034 §3, RFC 4035 §2.2, §5.3) ---
    /// An authoritative RRset with no RRSIG.
    #[error("{owner} {}: no RRSIG (RFC 4035 §2.2)", type_name(*.rtype))]
    MissingSignature {
        /// The RRset's owner.
        owner: Name,
        /// Its type.
        rtype: u16,
    },
    /// An authoritative RRset with RRSIGs, but none by `algorithm`, an algorithm
    /// of the zone keys: each signs every RRset.
    #[error(
        "{owner} {}: not signed with algorithm {algorithm} of the DNSKEY RRset (RFC 4035 §2.2, RFC 6840 §5.11)",
        type_name(*.rtype)
    )]
    MissingAlgorithm {
        /// The RRset's owner.
        owner: Name,
        /// Its type.
        rtype: u16,
        /// The algorithm without a signature.
        algorithm: u8,
    },
    /// A key said to sign unpublished ([`VerifyOptions::unpublished_keys`])
    /// that does not decode, or whose algorithm a published key has.
    #[error(
        "unpublished signing key {key_tag} (algorithm {algorithm}): {problem} (RFC 6781 §4.1.4)"
    )]
    UnpublishedKey {
        /// Its key tag.
        key_tag: u16,
        /// Its algorithm.
        algorithm: u8,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A CDS or CDNSKEY that names no key of the DNSKEY RRset.
    #[error(
        "{} for key {key_tag}: no such key in the DNSKEY RRset; the parent would install a DS that breaks the chain of trust (RFC 7344 §4.1)",
        type_name(*.rtype)
    )]
    CdsWithoutKey {
        /// CDS or CDNSKEY.
        rtype: u16,
        /// The key tag it names.
        key_tag: u16,
    },
    /// No RRSIG over the DNSKEY RRset is by a SEP key.
    #[error("DNSKEY RRset not signed by a SEP key (RFC 6781 §3.1, Specification 6 §1.3)")]
    DnskeyNotSignedBySep,
    /// The chain-of-trust gate: no RRSIG over the DNSKEY RRset is by a key
    /// that a trust anchor ([`VerifyOptions::trust_anchors`]) names.
    #[error(
        "the DNSKEY RRset is signed by no key the parent vouches for (DS {anchors}; signed by {signers}): validating resolvers would find the zone bogus (RFC 4035 §5.2, incidents .fj 2022 and .ru 2024)"
    )]
    Untrusted {
        /// The trust anchors, `tag/algorithm/digest-type` each.
        anchors: String,
        /// The keys that do sign it, `tag/algorithm` each.
        signers: String,
    },
    /// An RRSIG that expires before a secondary could stop serving it.
    #[error(
        "{owner} RRSIG over {} by key {key_tag}: expires at {expiration}, less than {needed} s (the SOA expire) after now {now}: a secondary could serve it expired (RFC 6781 §4.4.3, incident .zm 2015)",
        type_name(*.rtype)
    )]
    SignatureTooShort {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The RRSIG's key tag.
        key_tag: u16,
        /// Its expiration, unix seconds.
        expiration: u32,
        /// The time checked against.
        now: u32,
        /// The life it must have left ([`VerifyOptions::min_signature_life`]).
        needed: u32,
    },
    /// An RRSIG whose signature does not verify with its key over the RRset's
    /// signed data (RFC 4034 §3.1.8.1).
    #[error("{owner} RRSIG over {}: RRSIG by key {key_tag} does not validate (RFC 4035 §5.3.3)", type_name(*.rtype))]
    BadSignature {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The signing key's tag.
        key_tag: u16,
        /// The RRSIG's algorithm.
        algorithm: u8,
    },
    /// An RRSIG whose key tag and algorithm match no zone key (Zone Key flag
    /// set) of the apex DNSKEY RRset.
    #[error(
        "{owner} RRSIG over {}: no zone key with tag {key_tag} algorithm {algorithm} in the DNSKEY RRset (RFC 4035 §5.3.1)",
        type_name(*.rtype)
    )]
    UnknownKey {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The RRSIG's key tag.
        key_tag: u16,
        /// The RRSIG's algorithm.
        algorithm: u8,
    },
    /// An RRSIG by a zone key whose algorithm the acceptance [`policy`]
    /// refuses.
    #[error("{owner} RRSIG over {}: unsupported algorithm {algorithm} (RFC 8624)", type_name(*.rtype))]
    UnsupportedAlgorithm {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The algorithm.
        algorithm: u8,
    },
    /// An RRSIG whose inception is after [`VerifyOptions::now`]
    /// ([`policy::validity`]).
    #[error(
        "{owner} RRSIG over {} by key {key_tag}: not valid before {inception}, now {now} (RFC 4034 §3.1.5)",
        type_name(*.rtype)
    )]
    SignatureNotYetValid {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The signing key's tag.
        key_tag: u16,
        /// The RRSIG's inception, unix seconds (RFC 1982 arithmetic).
        inception: u32,
        /// The time checked against, unix seconds.
        now: u32,
    },
    /// An RRSIG whose expiration is at or before [`VerifyOptions::now`]
    /// ([`policy::validity`]).
    #[error(
        "{owner} RRSIG over {} by key {key_tag}: expired at {expiration}, now {now} (RFC 4034 §3.1.5, incident .zm 2015, docs/architecture.md)",
        type_name(*.rtype)
    )]
    SignatureExpired {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The signing key's tag.
        key_tag: u16,
        /// The RRSIG's expiration, unix seconds (RFC 1982 arithmetic).
        expiration: u32,
        /// The time checked against, unix seconds.
        now: u32,
    },
    /// An RRSIG whose Labels field is not the owner's label count (the zone
    /// has no wildcards, so they must be equal).
    #[error("{owner} RRSIG over {}: labels {labels}, owner has {expected} (RFC 4034 §3.1.3)", type_name(*.rtype))]
    RrsigLabels {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The RRSIG's Labels field.
        labels: u8,
        /// The owner's label count, root excluded.
        expected: usize,
    },
    /// An RRSIG whose Original TTL field, or whose own TTL, is not the
    /// RRset's TTL.
    #[error("{owner} RRSIG over {}: original TTL {original}, RRset TTL {ttl} (RFC 4034 §3.1.4)", type_name(*.rtype))]
    RrsigOriginalTtl {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The TTL that differs: the Original TTL field if it does, else the
        /// RRSIG record's TTL.
        original: u32,
        /// The RRset's TTL.
        ttl: u32,
    },
    /// An RRSIG whose Signer's Name is not the origin.
    #[error("{owner} RRSIG over {}: signer {signer}, must be the zone apex (RFC 4035 §5.3.1)", type_name(*.rtype))]
    RrsigSigner {
        /// The RRset's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
        /// The RRSIG's Signer's Name.
        signer: Name,
    },
    /// An RRSIG over data the zone is not authoritative for: a delegation's
    /// NS RRset, glue, or anything below a zone cut.
    #[error(
        "{owner} RRSIG over {}: delegation NS and glue must not be signed (RFC 4035 §2.2)",
        type_name(*.rtype)
    )]
    RrsigOverNonAuthoritative {
        /// The RRSIG's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
    },
    /// An RRSIG covering a type with no RRset at its owner (or covering RRSIG).
    #[error("{owner} RRSIG over {}: no such RRset at the owner (RFC 4035 §2.2)", type_name(*.rtype))]
    RrsigWithoutRrset {
        /// The RRSIG's owner.
        owner: Name,
        /// The type it covers.
        rtype: u16,
    },

    // --- NSEC3 (RFC 5155) ---
    /// Not exactly one NSEC3PARAM record at the apex.
    #[error(
        "{count} NSEC3PARAM records at the apex, exactly one required (RFC 5155 §4, Specification 6 §1.3)"
    )]
    Nsec3ParamCount {
        /// How many there are.
        count: usize,
    },
    /// An NSEC3PARAM with a hash algorithm other than 1 (SHA-1) or non-zero
    /// flags.
    #[error("NSEC3PARAM hash algorithm {algorithm} flags {flags}: must be 1 and 0 (RFC 5155 §4.1)")]
    Nsec3ParamValue {
        /// Its hash algorithm.
        algorithm: u8,
        /// Its flags.
        flags: u8,
    },
    /// An NSEC3 whose hash algorithm, iterations or salt are not the
    /// NSEC3PARAM's.
    #[error(
        "{owner} NSEC3: hash algorithm, iterations or salt differ from NSEC3PARAM (RFC 5155 §7.1)"
    )]
    Nsec3ParamMismatch {
        /// The NSEC3 record's owner.
        owner: Name,
    },
    /// An NSEC3 with a flag other than Opt-Out set.
    #[error("{owner} NSEC3: flags {flags}, only opt-out (1) is defined (RFC 5155 §3.1.2)")]
    Nsec3Flags {
        /// The NSEC3 record's owner.
        owner: Name,
        /// Its flags.
        flags: u8,
    },
    /// An NSEC3 whose Opt-Out flag differs from that of the first record of
    /// the chain (in hash order).
    #[error("{owner} NSEC3: opt-out flag differs from the rest of the chain (RFC 5155 §6)")]
    Nsec3OptOutMixed {
        /// The NSEC3 record's owner.
        owner: Name,
    },
    /// An NSEC3 whose owner is not one base32hex label of a 20-octet hash
    /// directly below the origin.
    #[error("{owner}: NSEC3 owner is not <base32hex SHA-1 hash>.<origin> (RFC 5155 §3)")]
    Nsec3Owner {
        /// The NSEC3 record's owner.
        owner: Name,
    },
    /// More than one NSEC3 record at one owner.
    #[error("{owner}: more than one NSEC3 for the same hash (RFC 5155 §7.1)")]
    Nsec3Duplicate {
        /// Their owner.
        owner: Name,
    },
    /// An NSEC3 whose next hashed owner is not the hash that follows it in
    /// the chain (the last must point at the first).
    #[error(
        "{owner} NSEC3: next hashed owner {next}, chain continues at {expected} (RFC 5155 §7.1)"
    )]
    Nsec3Chain {
        /// The NSEC3 record's owner.
        owner: Name,
        /// Its next hashed owner, base32hex.
        next: String,
        /// The hash that follows it in the chain, base32hex.
        expected: String,
    },
    /// A name that needs an NSEC3 record has none: the apex, a secure
    /// delegation, another authoritative name or an empty non-terminal.
    #[error("{name} has no NSEC3 (expected owner {hashed}) (RFC 5155 §7.1)")]
    Nsec3Missing {
        /// The name.
        name: Name,
        /// The owner its NSEC3 record would have.
        hashed: Name,
    },
    /// An insecure delegation without an NSEC3 whose covering NSEC3 does not
    /// have the Opt-Out flag.
    #[error(
        "insecure delegation {name} has no NSEC3 and the NSEC3 covering it has no opt-out (RFC 5155 §7.1)"
    )]
    Nsec3OptOutMissing {
        /// The delegation's name.
        name: Name,
    },
    /// An NSEC3 whose hash is that of no name of the zone.
    #[error("{owner} NSEC3 matches no name of the zone (RFC 5155 §7.1)")]
    Nsec3Stray {
        /// The NSEC3 record's owner.
        owner: Name,
    },
    /// An NSEC3 whose type bitmap is not the types at its name (NS and the
    /// authoritative types, plus RRSIG when any are signed).
    #[error(
        "{owner} NSEC3 for {name}: type bitmap [{found}], types at the name [{expected}] (RFC 5155 §3.2, RFC 4035 §2.3)"
    )]
    Nsec3Bitmap {
        /// The NSEC3 record's owner.
        owner: Name,
        /// The name it matches.
        name: Name,
        /// The types in its bitmap, mnemonics separated by spaces.
        found: String,
        /// The types at the name, in the same form.
        expected: String,
    },
}

/// Verify a signed zone (or, with `require_signed: false`, an unsigned one).
pub fn verify(
    records: &[Record],
    origin: &Name,
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let start = Instant::now();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let zone = Index::build(records, origin)?;
    content::check(&zone, &opts.allowed_extra_types)?;
    let delegations = delegation::check_count(&zone, opts)?;
    let mut report = VerifyReport {
        records: records.len(),
        rrsigs_checked: 0,
        delegations,
        nsec3_records: 0,
        keys: 0,
        hashes_computed: 0,
        elapsed: Duration::ZERO,
        signature_elapsed: Duration::ZERO,
        threads,
    };
    let Some(apex_keys) = zone.rrset(zone.apex, rtype::DNSKEY) else {
        let has_dnssec = records.iter().any(|r| {
            matches!(
                r.rtype,
                rtype::RRSIG | rtype::NSEC3 | rtype::NSEC3PARAM | rtype::NSEC
            )
        });
        if opts.require_signed || has_dnssec {
            return Err(VerifyError::Unsigned {
                origin: origin.clone(),
            });
        }
        report.elapsed = start.elapsed();
        return Ok(report);
    };
    let keys = dnskey::check(&zone, apex_keys)?;
    dnskey::check_cds(&zone, origin, &keys)?;
    report.keys = keys.len();
    let n3 = nsec3::check(&zone, threads)?;
    report.nsec3_records = n3.records;
    report.hashes_computed = n3.hashes;
    let t = Instant::now();
    let unpublished = dnskey::unpublished(&keys, &opts.unpublished_keys)?;
    let checked = rrsig::check(&zone, &keys, &unpublished, opts, threads)?;
    report.rrsigs_checked = checked.verified;
    if let Some(anchors) = &opts.trust_anchors {
        dnskey::trusted(origin, &keys, &checked.dnskey_signers, anchors)?;
    }
    report.signature_elapsed = t.elapsed();
    report.elapsed = start.elapsed();
    tracing::info!(
        records = report.records,
        rrsigs = report.rrsigs_checked,
        delegations = report.delegations,
        per_second = report.signatures_per_second() as u64,
        "zone verified"
    );
    Ok(report)
}

/// Where a name sits relative to the zone cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Apex,
    /// Has NS and is below the apex.
    Delegation,
    /// Below the delegation node with this index: only glue belongs here.
    BelowCut(usize),
    /// Any other name the zone is authoritative for (NSEC3 owners, …).
    Authoritative,
}

/// One RRset: a run of `Index::order`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rrset {
    pub rtype: u16,
    pub ttl: u32,
    pub start: usize,
    pub end: usize,
}

/// One owner name and its RRsets (a run of `Index::rrsets`).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub first: usize,
    pub rrsets: std::ops::Range<usize>,
    pub place: Place,
}

/// The records grouped by owner and type, each owner placed relative to the
/// zone cuts. Records are referenced by index, never copied.
pub(crate) struct Index<'a> {
    pub origin: &'a Name,
    pub records: &'a [Record],
    /// Record indices sorted by (owner wire form, type, RDATA).
    pub order: Vec<usize>,
    pub rrsets: Vec<Rrset>,
    pub nodes: Vec<Node>,
    pub by_owner: HashMap<&'a [u8], usize>,
    pub apex: usize,
}

impl<'a> Index<'a> {
    fn build(records: &'a [Record], origin: &'a Name) -> Result<Index<'a>, VerifyError> {
        for r in records {
            if !r.owner.is_subdomain_of(origin) {
                return Err(VerifyError::OutOfZone {
                    owner: r.owner.clone(),
                    origin: origin.clone(),
                });
            }
            if r.owner.first_label() == Some(b"*") {
                return Err(VerifyError::Wildcard {
                    owner: r.owner.clone(),
                });
            }
        }
        let mut order: Vec<usize> = (0..records.len()).collect();
        // Any total order that groups owners and types will do; the canonical
        // order (RFC 4034 §6.1) is not needed here and costs allocations.
        order.sort_unstable_by(|&a, &b| {
            let (x, y) = (&records[a], &records[b]);
            (x.owner.wire(), x.rtype, &x.rdata).cmp(&(y.owner.wire(), y.rtype, &y.rdata))
        });
        let mut rrsets = Vec::new();
        let mut nodes = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let first = &records[order[i]];
            let node_start = rrsets.len();
            while i < order.len() && records[order[i]].owner == first.owner {
                let r = &records[order[i]];
                let start = i;
                while i < order.len()
                    && records[order[i]].owner == r.owner
                    && records[order[i]].rtype == r.rtype
                {
                    let cur = &records[order[i]];
                    if i > start {
                        let prev = &records[order[i - 1]];
                        if prev.rdata == cur.rdata {
                            return Err(VerifyError::DuplicateRecord {
                                owner: cur.owner.clone(),
                                rtype: cur.rtype,
                            });
                        }
                        // RRSIGs are not an RRset: each may carry its own TTL
                        // (RFC 4035 §2.2 ties it to the covered RRset).
                        if prev.ttl != cur.ttl && cur.rtype != rtype::RRSIG {
                            return Err(VerifyError::TtlMismatch {
                                owner: cur.owner.clone(),
                                rtype: cur.rtype,
                            });
                        }
                    }
                    i += 1;
                }
                rrsets.push(Rrset {
                    rtype: r.rtype,
                    ttl: r.ttl,
                    start,
                    end: i,
                });
            }
            nodes.push(Node {
                first: order[rrsets[node_start].start],
                rrsets: node_start..rrsets.len(),
                place: Place::Authoritative,
            });
        }
        let mut by_owner = HashMap::with_capacity(nodes.len());
        for (n, node) in nodes.iter().enumerate() {
            by_owner.insert(records[node.first].owner.wire(), n);
        }
        let mut idx = Index {
            origin,
            records,
            order,
            rrsets,
            nodes,
            by_owner,
            apex: usize::MAX,
        };
        let cuts: HashSet<usize> = (0..idx.nodes.len())
            .filter(|&n| idx.owner(n) != origin && idx.rrset(n, rtype::NS).is_some())
            .collect();
        for n in 0..idx.nodes.len() {
            let owner = idx.owner(n);
            idx.nodes[n].place = if owner == origin {
                idx.apex = n;
                Place::Apex
            } else if let Some(cut) = idx.enclosing_cut(owner, &cuts) {
                Place::BelowCut(cut)
            } else if cuts.contains(&n) {
                Place::Delegation
            } else {
                Place::Authoritative
            };
        }
        if idx.apex == usize::MAX {
            return Err(VerifyError::NoSoa {
                origin: origin.clone(),
            });
        }
        Ok(idx)
    }

    /// The nearest proper ancestor of `owner` strictly below the origin that
    /// is a delegation. Ancestors are suffixes of the wire form: no allocation.
    fn enclosing_cut(&self, owner: &Name, cuts: &HashSet<usize>) -> Option<usize> {
        let w = owner.wire();
        let stop = w.len() - self.origin.wire_len();
        let mut off = 1 + w[0] as usize;
        while off < stop {
            if let Some(&n) = self.by_owner.get(&w[off..])
                && cuts.contains(&n)
            {
                return Some(n);
            }
            off += 1 + w[off] as usize;
        }
        None
    }

    pub(crate) fn owner(&self, node: usize) -> &'a Name {
        &self.records[self.nodes[node].first].owner
    }

    pub(crate) fn node_rrsets(&self, node: usize) -> &[Rrset] {
        &self.rrsets[self.nodes[node].rrsets.clone()]
    }

    pub(crate) fn rrset(&self, node: usize, t: u16) -> Option<&Rrset> {
        self.node_rrsets(node).iter().find(|s| s.rtype == t)
    }

    pub(crate) fn records_of(&self, s: &Rrset) -> impl Iterator<Item = &'a Record> + '_ {
        self.order[s.start..s.end].iter().map(|&i| &self.records[i])
    }

    pub(crate) fn delegations(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&n| self.nodes[n].place == Place::Delegation)
    }

    /// Is this RRset data the zone is authoritative for (and so signed)?
    /// RFC 4035 §2.2: not the delegation NS RRset, not glue.
    pub(crate) fn is_authoritative(&self, node: usize, t: u16) -> bool {
        match self.nodes[node].place {
            Place::Apex | Place::Authoritative => t != rtype::RRSIG,
            Place::Delegation => !matches!(t, rtype::NS | rtype::A | rtype::AAAA | rtype::RRSIG),
            Place::BelowCut(_) => false,
        }
    }
}

/// Run `f` over `items` on `threads` threads, in chunks taken from a shared
/// counter; results come back in item order.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const CHUNK: usize = 512;
    if threads <= 1 || items.len() <= CHUNK {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= items.len() {
                            break;
                        }
                        let end = (start + CHUNK).min(items.len());
                        out.push((start, items[start..end].iter().map(&f).collect::<Vec<R>>()));
                    }
                    out
                })
            })
            .collect();
        // A worker panics only if `f` does; pass the panic on unchanged.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    parts.sort_unstable_by_key(|(start, _)| *start);
    parts.into_iter().flat_map(|(_, v)| v).collect()
}
