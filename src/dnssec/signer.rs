//! The zone signer: a [`Zone`] and keys in, the [`Dnssec`] half of a
//! [`SignedZone`] out (RFC 4035 §2, RFC 5155 §7.1).
//!
//! What gets signed, and with what:
//! - DNSKEY RRset: every published key, signed by the active SEP keys
//!   (KSK or CSK).
//! - SOA, apex NS, NSEC3PARAM, each delegation's DS RRset and every NSEC3
//!   RR: signed by the active zone-signing keys. Per algorithm that is the
//!   active ZSKs (flags 256) or, when the algorithm has none, its active
//!   SEP keys: a CSK is simply a SEP key without a ZSK beside it.
//! - Never delegation NS RRsets nor glue (RFC 4035 §2.2).
//!
//! Signature times: inception = now − backdate. A signature renewed
//! because it was due expires at now + validity ± jitter; one made for an
//! RRset that had none (a first signing, a changed delegation) at a point
//! spread over the whole refresh cycle, from the refresh window plus an
//! hour to validity + jitter (as BIND's `sig-validity-interval` spreads
//! new signatures), so refreshes come a few at a time rather than all at
//! once. Each offset is a fixed function of owner and type, so signing
//! twice at the same `now` gives the same times (and, with Ed25519, the
//! same bytes).
//!
//! Three entry points: [`sign_zone`] (everything, on all cores),
//! [`update_delegations`] (edit a signed version in place for changed
//! delegations: their NSEC3 RRs, the neighbours whose "next" changes, their
//! DS signatures, the SOA signature) and [`refresh`] (re-sign only what
//! expires within the refresh window or was signed by keys no longer in use).

use super::keys::SigningKey;
use super::nsec3::{Bitmaps, ancestors_below, chain_types, nsec3_hash, occluded};
use super::rrsig::{RrsigFields, sign_rrset};
use crate::config::DnssecConfig;
use crate::name::Name;
use crate::rr::rtype;
use crate::zone::{Dnssec, Map, Nsec3, Nsec3Param, SignedZone, Zone, nsec3_rdata};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use tldns_base::nsec3::nsec3_owner;

/// How to sign: NSEC3 parameters and signature times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignParams {
    /// Extra NSEC3 hash iterations (RFC 5155 §5; RFC 9276 asks for 0).
    pub nsec3_iterations: u16,
    /// The NSEC3 salt, decoded; empty for none.
    pub nsec3_salt: Vec<u8>,
    /// RFC 5155 §6: unsigned delegations get no NSEC3 RR.
    pub opt_out: bool,
    /// Signature lifetime (seconds), before jitter.
    pub validity_secs: u32,
    /// Inception is this far in the past, for clocks that run behind.
    pub inception_backdate_secs: u32,
    /// Expirations spread over ± this many seconds.
    pub jitter_secs: u32,
    /// [`refresh`] re-signs what has less than this left.
    pub refresh_secs: u32,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// CDS RDATA to publish at the apex (RFC 7344), sorted; empty: none.
    /// Set by the pipeline from `cds-cdnskey` and the roll's phase.
    pub cds: Vec<Vec<u8>>,
    /// CDNSKEY RDATA to publish with it, sorted.
    pub cdnskey: Vec<Vec<u8>>,
}

impl SignParams {
    /// From the zone configuration; `salt` is the decoded `nsec3-salt`
    /// ([`crate::config::Config::nsec3_salt`]).
    pub fn from_config(cfg: &DnssecConfig, salt: &[u8]) -> SignParams {
        SignParams {
            nsec3_iterations: cfg.nsec3_iterations,
            nsec3_salt: salt.to_vec(),
            opt_out: cfg.nsec3_opt_out,
            validity_secs: cfg.validity_secs(),
            inception_backdate_secs: cfg.inception_backdate_secs,
            jitter_secs: cfg.jitter_secs(),
            refresh_secs: cfg.refresh_secs(),
            threads: 0,
            cds: Vec::new(),
            cdnskey: Vec::new(),
        }
    }

    /// The NSEC3PARAM these parameters make (RFC 5155 §4): iterations,
    /// salt and the opt-out flag of the chain.
    pub fn nsec3param(&self) -> Nsec3Param {
        Nsec3Param {
            iterations: self.nsec3_iterations,
            salt: self.nsec3_salt.clone(),
            opt_out: self.opt_out,
        }
    }

    /// The apex RRsets that are signed: SOA, NS, DNSKEY, NSEC3PARAM, and
    /// CDS and CDNSKEY when published.
    fn apex_types(cds: bool) -> &'static [u16] {
        if cds {
            &[
                rtype::SOA,
                rtype::NS,
                rtype::DNSKEY,
                rtype::NSEC3PARAM,
                rtype::CDS,
                rtype::CDNSKEY,
            ]
        } else {
            &[rtype::SOA, rtype::NS, rtype::DNSKEY, rtype::NSEC3PARAM]
        }
    }

    fn threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }
    }
}

impl Default for SignParams {
    fn default() -> Self {
        SignParams::from_config(&DnssecConfig::default(), &[])
    }
}

/// Why a zone could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// No published, active SEP key to sign the DNSKEY RRset with.
    #[error(
        "{zone}: no active key-signing key (flags 257) to sign the DNSKEY RRset (RFC 4035 §2.1)"
    )]
    NoActiveKsk {
        /// The zone.
        zone: Name,
    },
    /// An algorithm of the published keys has no active key to sign the
    /// zone's data with (neither a ZSK nor a SEP key of it).
    #[error(
        "{zone}: algorithm {algorithm} is in the DNSKEY RRset but no active key of it signs the zone (RFC 4035 §2.2)"
    )]
    NoActiveZsk {
        /// The zone.
        zone: Name,
        /// The algorithm without an active signer.
        algorithm: u8,
    },
    /// A key given is for another zone.
    #[error("key {key} is for {owner}, not for {zone}")]
    KeyOwner {
        /// The key's BIND base name, `K<zone>+<alg>+<tag>`.
        key: String,
        /// The key's owner.
        owner: Name,
        /// The zone being signed.
        zone: Name,
    },
    /// Two names of the chain hash alike with this salt and iteration count.
    #[error("RFC 5155 §7.1: {first} and {second} have the same NSEC3 hash; choose another salt")]
    HashCollision {
        /// One of the names.
        first: Name,
        /// The other.
        second: Name,
    },
    /// A delegation (or a changed name) is the apex or not below it.
    #[error("{name} is not below the zone {zone}")]
    OutOfZone {
        /// The name.
        name: Name,
        /// The zone.
        zone: Name,
    },
    /// A delegation lies below another delegation.
    #[error("delegation {name} is below delegation {parent}: it is occluded")]
    NestedDelegation {
        /// The lower delegation.
        name: Name,
        /// The delegation above it.
        parent: Name,
    },
    /// An in-zone glue name is below no delegation.
    #[error(
        "glue {name} is not below any delegation: it would be authoritative data, which a TLD zone may not hold"
    )]
    GlueNotOccluded {
        /// The glue host's name.
        name: Name,
    },
    /// The crypto library failed to make a signature.
    #[error("signing with key {key} failed")]
    Crypto {
        /// The key's BIND base name.
        key: String,
    },
    /// The keys published now are not those of the signed version (an
    /// incremental update needs the same DNSKEY RRset).
    #[error(
        "the DNSKEY RRset differs from the signed version's: run refresh (or a full sign) first"
    )]
    KeySetChanged,
    /// The NSEC3 parameters are not those of the signed version's chain.
    #[error(
        "NSEC3 parameters differ from the signed version's: a full sign is needed (RFC 5155 §7.3)"
    )]
    ParamsChanged,
    /// A DS signature due for refresh belongs to no delegation with DS.
    #[error("{name} has a DS signature but no delegation with DS in the zone")]
    StaleDsSignature {
        /// The owner of the DS signature.
        name: Name,
    },
}

/// What [`update_delegations`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateStats {
    /// NSEC3 RRs added to the chain.
    pub nsec3_added: usize,
    /// NSEC3 RRs removed from the chain.
    pub nsec3_removed: usize,
    /// NSEC3 RRs signed again (added, changed, or whose next hash changed).
    pub nsec3_signed: usize,
    /// DS RRsets signed again (of changed delegations that have DS).
    pub ds_signed: usize,
    /// DS signatures dropped (the delegation is gone or has no DS now).
    pub ds_removed: usize,
}

/// What [`refresh`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// RRsets signed again.
    pub rrsets_signed: usize,
    /// The DNSKEY RRset changed (keys published or withdrawn).
    pub dnskeys_changed: bool,
}

/// The keys' roles at `now`.
struct Signers<'a> {
    /// DNSKEY RDATA of the published keys, sorted.
    dnskeys: Vec<Vec<u8>>,
    ksk: Vec<&'a SigningKey>,
    zsk: Vec<&'a SigningKey>,
}

impl Signers<'_> {
    /// (algorithm, key tag) of the keys that sign the zone's data, sorted.
    fn zsk_tags(&self) -> Vec<(u8, u16)> {
        tags(&self.zsk)
    }

    /// (algorithm, key tag) of the keys that sign the DNSKEY RRset, sorted.
    fn ksk_tags(&self) -> Vec<(u8, u16)> {
        tags(&self.ksk)
    }
}

fn tags(ks: &[&SigningKey]) -> Vec<(u8, u16)> {
    let mut t: Vec<(u8, u16)> = ks.iter().map(|k| (k.algorithm, k.key_tag)).collect();
    t.sort_unstable();
    t
}

/// Whether an RRset's signatures `sigs` must be made again at `now`: one
/// does not parse, one has less than `refresh_secs` left, or their
/// (algorithm, key tag)s are not exactly `want` (a key became active or
/// inactive).
fn due(
    sigs: &mut dyn Iterator<Item = &[u8]>,
    want: &[(u8, u16)],
    now: u32,
    refresh_secs: u32,
) -> bool {
    let mut have = Vec::with_capacity(want.len());
    for r in sigs {
        let Some(f) = RrsigFields::parse(r).ok() else {
            return true;
        };
        if (f.expiration.wrapping_sub(now) as i32) < refresh_secs as i32 {
            return true;
        }
        have.push((f.algorithm, f.key_tag));
    }
    have.sort_unstable();
    have != want
}

fn signers<'a>(origin: &Name, keys: &'a [SigningKey], now: u32) -> Result<Signers<'a>, SignError> {
    let now64 = now as u64;
    for k in keys {
        if &k.owner != origin {
            return Err(SignError::KeyOwner {
                key: k.base_name(),
                owner: k.owner.clone(),
                zone: origin.clone(),
            });
        }
    }
    let published: Vec<&SigningKey> = keys.iter().filter(|k| k.state(now64).published).collect();
    // Active keys sign whether published or not: an algorithm roll signs
    // with the new algorithm's keys before they are published and with the
    // old one's after they are withdrawn (RFC 6781 §4.1.4); the verifier
    // is told of them ([`unpublished_signers`]).
    let active: Vec<&SigningKey> = keys.iter().filter(|k| k.state(now64).active).collect();
    let mut dnskeys: Vec<Vec<u8>> = published.iter().map(|k| k.dnskey_rdata()).collect();
    dnskeys.sort();
    dnskeys.dedup();
    let ksk: Vec<&SigningKey> = active.iter().copied().filter(|k| k.is_sep()).collect();
    if ksk.is_empty() {
        return Err(SignError::NoActiveKsk {
            zone: origin.clone(),
        });
    }
    let mut algs: Vec<u8> = published
        .iter()
        .chain(&active)
        .map(|k| k.algorithm)
        .collect();
    algs.sort_unstable();
    algs.dedup();
    let mut zsk = Vec::new();
    for a in algs {
        let z: Vec<&SigningKey> = active
            .iter()
            .copied()
            .filter(|k| k.algorithm == a && !k.is_sep())
            .collect();
        let z = if z.is_empty() {
            ksk.iter().copied().filter(|k| k.algorithm == a).collect()
        } else {
            z
        };
        if z.is_empty() {
            return Err(SignError::NoActiveZsk {
                zone: origin.clone(),
                algorithm: a,
            });
        }
        zsk.extend(z);
    }
    Ok(Signers { dnskeys, ksk, zsk })
}

/// DNSKEY RDATA of the keys that sign at `now` without being in the
/// DNSKEY RRset (an algorithm roll, RFC 6781 §4.1.4): what the verifier's
/// `unpublished_keys` is told.
pub fn unpublished_signers(keys: &[SigningKey], now: u64) -> Vec<Vec<u8>> {
    keys.iter()
        .filter(|k| {
            let s = k.state(now);
            s.active && !s.published
        })
        .map(|k| k.dnskey_rdata())
        .collect()
}

/// Whether `zone` is signed as `keys` say it should be at `now`: its
/// DNSKEY RRset holds exactly the published keys, its SOA is signed by
/// exactly the active zone-signing keys and its DNSKEY RRset by exactly the
/// active key-signing keys. A key event (a key published, activated,
/// retired or deleted by its timing) makes it false until a full build
/// signs again; so does a key set the signer refuses (the build then says
/// why).
pub fn keys_current(zone: &SignedZone, keys: &[SigningKey], now: u32) -> bool {
    let Some(sec) = &zone.dnssec else {
        return keys.is_empty();
    };
    let Ok(s) = signers(&zone.zone.origin, keys, now) else {
        return false;
    };
    let mut have = sec.dnskeys.clone();
    have.sort();
    let signed_by = |t: u16| {
        let mut v: Vec<(u8, u16)> = sec
            .apex_sigs
            .get(&t)
            .into_iter()
            .flatten()
            .filter_map(|r| RrsigFields::parse(r).ok())
            .map(|f| (f.algorithm, f.key_tag))
            .collect();
        v.sort_unstable();
        v
    };
    have == s.dnskeys
        && signed_by(rtype::SOA) == s.zsk_tags()
        && signed_by(rtype::DNSKEY) == s.ksk_tags()
}

/// Signature times for one run.
#[derive(Clone, Copy)]
struct Clock {
    now: u32,
    inception: u32,
    validity: u32,
    jitter: u32,
    refresh: u32,
    /// A first signing: expirations over the whole refresh cycle.
    spread: bool,
}

/// The shortest life a spread-out first signature gets beyond the refresh
/// window: it is not due for an hour.
const SPREAD_MARGIN_SECS: u32 = 3600;

impl Clock {
    fn new(params: &SignParams, now: u32) -> Clock {
        Clock {
            now,
            inception: now.wrapping_sub(params.inception_backdate_secs),
            validity: params.validity_secs,
            jitter: params.jitter_secs,
            refresh: params.refresh_secs,
            spread: false,
        }
    }

    fn spread(self, spread: bool) -> Clock {
        Clock { spread, ..self }
    }

    /// The expiration of a signature made now over (owner, type): the
    /// spread one for a first signing ([`Clock::fresh_expiration`]), else
    /// now + validity ± jitter ([`Clock::renewed_expiration`]).
    fn expiration(&self, owner: &[u8], rtype: u16) -> u32 {
        if self.spread && rtype != rtype::SOA {
            self.fresh_expiration(owner, rtype)
        } else {
            self.renewed_expiration(owner, rtype)
        }
    }

    /// A first signing's: now + refresh window + [`SPREAD_MARGIN_SECS`] up
    /// to now + validity + jitter, fixed per (owner, type). Signatures all
    /// made at once would all come due within the jitter of each other;
    /// spread over the cycle, about 1/(validity − refresh) of them come due
    /// in each hour, and each keeps its place in the cycle when renewed. The
    /// SOA, signed again in every version, is never spread.
    fn fresh_expiration(&self, owner: &[u8], rtype: u16) -> u32 {
        let lo = self.refresh.saturating_add(SPREAD_MARGIN_SECS) as u64;
        let hi = self.validity as u64 + self.jitter as u64;
        if hi <= lo {
            return self.renewed_expiration(owner, rtype);
        }
        let life = lo + fnv1a(owner, rtype) % (hi - lo + 1);
        self.now.wrapping_add(life as u32)
    }

    /// now + validity + offset, offset in [−min(jitter, validity/2), +jitter],
    /// fixed per (owner, type). RRSIG times are serial numbers (RFC 4034 §3.1.5).
    fn renewed_expiration(&self, owner: &[u8], rtype: u16) -> u32 {
        let down = self.jitter.min(self.validity / 2) as u64;
        let span = down + self.jitter as u64 + 1;
        let offset = (fnv1a(owner, rtype) % span) as i64 - down as i64;
        self.now
            .wrapping_add(self.validity)
            .wrapping_add(offset as i32 as u32)
    }
}

fn fnv1a(owner: &[u8], rtype: u16) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in owner.iter().chain(rtype.to_be_bytes().iter()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn sign_set(
    keys: &[&SigningKey],
    owner: &Name,
    rtype: u16,
    ttl: u32,
    rdatas: &[&[u8]],
    clock: &Clock,
) -> Result<Vec<Vec<u8>>, SignError> {
    let exp = clock.expiration(owner.wire(), rtype);
    keys.iter()
        .map(|k| {
            sign_rrset(k, owner, rtype, ttl, rdatas, clock.inception, exp)
                .map_err(|_| SignError::Crypto { key: k.base_name() })
        })
        .collect()
}

/// Map `f` over `items` on `threads` scoped threads, keeping order.
fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<R, SignError> + Sync,
) -> Result<Vec<R>, SignError> {
    if threads <= 1 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    let parts: Vec<Result<Vec<R>, SignError>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Result<Vec<R>, _>>()))
            .collect();
        // A panicking worker is a bug in this module; carry it on.
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// The apex RRsets besides the SOA and NS that a version holds.
struct ApexSets<'a> {
    param: &'a Nsec3Param,
    dnskeys: &'a [Vec<u8>],
    cds: &'a [Vec<u8>],
    cdnskey: &'a [Vec<u8>],
}

fn apex_rdatas(zone: &Zone, rt: u16, a: &ApexSets) -> (u32, Vec<Vec<u8>>) {
    let rdatas = match rt {
        rtype::SOA => vec![zone.soa.to_rdata()],
        rtype::NS => zone.apex_ns.iter().map(|n| n.wire().to_vec()).collect(),
        rtype::NSEC3PARAM => vec![a.param.to_rdata()],
        rtype::CDS => a.cds.to_vec(),
        rtype::CDNSKEY => a.cdnskey.to_vec(),
        _ => a.dnskeys.to_vec(),
    };
    (zone.ttl.apex(rt), rdatas)
}

/// Whether the key-signing keys sign apex RRset `rt`: the DNSKEY RRset,
/// and CDS and CDNSKEY, which must be signed by a key the parent's DS
/// names (RFC 7344 §4.1).
fn by_ksk(rt: u16) -> bool {
    matches!(rt, rtype::DNSKEY | rtype::CDS | rtype::CDNSKEY)
}

fn sign_apex(
    zone: &Zone,
    rt: u16,
    a: &ApexSets,
    s: &Signers,
    clock: &Clock,
) -> Result<Vec<Vec<u8>>, SignError> {
    let (ttl, rd) = apex_rdatas(zone, rt, a);
    let refs: Vec<&[u8]> = rd.iter().map(|r| r.as_slice()).collect();
    let keys = if by_ksk(rt) { &s.ksk } else { &s.zsk };
    sign_set(keys, &zone.origin, rt, ttl, &refs, clock)
}

fn sign_ds(
    zone: &Zone,
    name: &Name,
    ds: &[crate::rr::Ds],
    s: &Signers,
    clock: &Clock,
) -> Result<Vec<Vec<u8>>, SignError> {
    let rd: Vec<Vec<u8>> = ds.iter().map(|d| d.to_rdata()).collect();
    let refs: Vec<&[u8]> = rd.iter().map(|r| r.as_slice()).collect();
    sign_set(&s.zsk, name, rtype::DS, zone.ttl.ds, &refs, clock)
}

fn sign_nsec3(
    zone: &Zone,
    hash: &[u8; 20],
    n3: &Nsec3,
    param: &Nsec3Param,
    s: &Signers,
    clock: &Clock,
) -> Result<Vec<Vec<u8>>, SignError> {
    let owner = nsec3_owner(hash, &zone.origin);
    let rd = nsec3_rdata(param, n3);
    sign_set(&s.zsk, &owner, rtype::NSEC3, zone.ttl.nsec3, &[&rd], clock)
}

/// What a TLD zone may hold below the apex, checked before signing.
fn check_zone(zone: &Zone) -> Result<(), SignError> {
    let o = &zone.origin;
    let depth = o.label_count();
    for name in zone.content.delegations.keys() {
        if name.label_count() <= depth || !name.is_subdomain_of(o) {
            return Err(SignError::OutOfZone {
                name: name.clone(),
                zone: o.clone(),
            });
        }
        if name.label_count() > depth + 1
            && let Some(p) = ancestors_below(name, o)
                .into_iter()
                .find(|p| zone.content.delegations.contains_key(p))
        {
            return Err(SignError::NestedDelegation {
                name: name.clone(),
                parent: p,
            });
        }
    }
    for name in zone.content.glue.keys() {
        if name.is_subdomain_of(o) && !occluded(zone, name) {
            return Err(SignError::GlueNotOccluded { name: name.clone() });
        }
    }
    Ok(())
}

/// Sign `zone` with `keys` at time `now` (seconds since the epoch).
pub fn sign_zone(
    zone: &Zone,
    keys: &[SigningKey],
    params: &SignParams,
    now: u32,
) -> Result<SignedZone, SignError> {
    let dnssec = sign_dnssec(zone, keys, params, now)?;
    Ok(SignedZone {
        zone: zone.clone(),
        dnssec: Some(dnssec),
    })
}

/// [`sign_zone`] without copying the zone: only the DNSSEC data.
pub fn sign_dnssec(
    zone: &Zone,
    keys: &[SigningKey],
    params: &SignParams,
    now: u32,
) -> Result<Dnssec, SignError> {
    sign_dnssec_reusing(zone, keys, params, now, None).map(|(d, _)| d)
}

/// What [`sign_dnssec_reusing`] made and kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReuseStats {
    /// RRsets whose signatures were taken over from the previous version.
    pub reused: usize,
    /// RRsets signed now (new, changed, or due).
    pub signed: usize,
}

/// The signatures of the previous version an RRset may keep: the same
/// RRset (RDATA and TTL), signed by exactly the keys that sign now, and
/// none due for refresh ([`due`]).
struct Reuse<'p> {
    prev: &'p SignedZone,
    dnssec: &'p Dnssec,
    /// The NSEC3 chain has the same parameters and TTL: its RRs may keep theirs.
    nsec3: bool,
    zsk: Vec<(u8, u16)>,
    ksk: Vec<(u8, u16)>,
    now: u32,
    refresh: u32,
}

impl<'p> Reuse<'p> {
    fn new(
        prev: &'p SignedZone,
        zone: &Zone,
        s: &Signers,
        param: &Nsec3Param,
        params: &SignParams,
        now: u32,
    ) -> Option<Reuse<'p>> {
        let dnssec = prev.dnssec.as_ref()?;
        (prev.zone.origin == zone.origin).then(|| Reuse {
            prev,
            dnssec,
            nsec3: dnssec.nsec3param == *param && prev.zone.ttl.nsec3 == zone.ttl.nsec3,
            zsk: s.zsk_tags(),
            ksk: s.ksk_tags(),
            now,
            refresh: params.refresh_secs,
        })
    }

    fn keep(&self, sigs: &mut dyn Iterator<Item = &[u8]>, want: &[(u8, u16)]) -> bool {
        !due(sigs, want, self.now, self.refresh)
    }

    /// The previous NSEC3 RR at `hash`, if it equals `n3` (unsigned) and its
    /// signatures may stay.
    fn nsec3(&self, hash: &[u8; 20], n3: &Nsec3) -> Option<Nsec3> {
        let p = self.dnssec.nsec3.get(hash).filter(|_| self.nsec3)?;
        (p.next() == n3.next()
            && p.flags() == n3.flags()
            && p.types() == n3.types()
            && self.keep(&mut p.sigs(), &self.zsk))
        .then(|| p.clone())
    }

    /// The previous signatures over the DS RRset of `name`, if it was `ds`.
    fn ds(&self, zone: &Zone, name: &Name, ds: &[crate::rr::Ds]) -> Option<Vec<Vec<u8>>> {
        let same = self.prev.zone.ttl.ds == zone.ttl.ds
            && self
                .prev
                .zone
                .content
                .delegations
                .get(name)
                .is_some_and(|d| d.ds == ds);
        let sigs = self.dnssec.ds_sigs.get(name).filter(|_| same)?;
        self.keep(&mut sigs.iter().map(Vec::as_slice), &self.zsk)
            .then(|| sigs.clone())
    }

    /// The previous signatures over the apex RRset `rt`, if it is unchanged.
    /// The SOA never is (its serial moves with every version).
    fn apex(&self, zone: &Zone, rt: u16, a: &ApexSets) -> Option<Vec<Vec<u8>>> {
        let (p, d) = (&self.prev.zone, self.dnssec);
        let same = p.ttl.apex(rt) == zone.ttl.apex(rt)
            && match rt {
                rtype::NS => p.apex_ns == zone.apex_ns,
                rtype::DNSKEY => d.dnskeys == a.dnskeys,
                rtype::NSEC3PARAM => d.nsec3param == *a.param,
                rtype::CDS => d.cds == a.cds,
                rtype::CDNSKEY => d.cdnskey == a.cdnskey,
                _ => false,
            };
        let sigs = d.apex_sigs.get(&rt).filter(|_| same)?;
        let want = if by_ksk(rt) { &self.ksk } else { &self.zsk };
        self.keep(&mut sigs.iter().map(Vec::as_slice), want)
            .then(|| sigs.clone())
    }
}

/// [`sign_dnssec`], keeping every signature of `previous` (the published
/// version) that is still good for its RRset: the same RDATA and TTL, made
/// by exactly the keys that sign now, and not due for refresh. So a full
/// build of an unchanged SRS changes only the SOA and what was due, and a
/// secondary's IXFR carries only that. Signatures made with no previous
/// one to keep get an expiration spread over the whole refresh cycle
/// ([`Clock::fresh_expiration`]), so their refreshes spread out too.
pub fn sign_dnssec_reusing(
    zone: &Zone,
    keys: &[SigningKey],
    params: &SignParams,
    now: u32,
    previous: Option<&SignedZone>,
) -> Result<(Dnssec, ReuseStats), SignError> {
    let s = signers(&zone.origin, keys, now)?;
    check_zone(zone)?;
    let param0 = params.nsec3param();
    let reuse = previous.and_then(|p| Reuse::new(p, zone, &s, &param0, params, now));
    // A first signing spreads expirations over the refresh cycle.
    let clock = Clock::new(params, now).spread(reuse.is_none());
    let threads = params.threads();
    let param = param0;
    let bm = Bitmaps::with_cds(!params.cds.is_empty());

    // RFC 5155 §7.1: the names the chain holds, with their type bitmaps.
    let ents = empty_non_terminals(zone, params.opt_out, &bm);
    let mut owners: Vec<(&Name, &[u8])> =
        Vec::with_capacity(zone.content.delegations.len() + 1 + ents.len());
    owners.push((&zone.origin, &bm.apex));
    for (name, d) in &zone.content.delegations {
        if !d.ds.is_empty() {
            owners.push((name, &bm.secure));
        } else if !params.opt_out {
            owners.push((name, &bm.insecure));
        }
    }
    owners.extend(ents.iter().map(|n| (n, &[][..])));

    let mut hashed: Vec<([u8; 20], u32)> = par_map(&owners, threads, |(n, _)| {
        Ok(nsec3_hash(n, &params.nsec3_salt, params.nsec3_iterations))
    })?
    .into_iter()
    .zip(0u32..)
    .collect();
    hashed.sort_unstable_by_key(|e| e.0);
    if let Some(w) = hashed.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SignError::HashCollision {
            first: owners[w[0].1 as usize].0.clone(),
            second: owners[w[1].1 as usize].0.clone(),
        });
    }
    let flags = u8::from(params.opt_out);
    let n = hashed.len();
    let mut chain: Vec<([u8; 20], Nsec3)> = (0..n)
        .map(|i| {
            let (h, idx) = hashed[i];
            let next = hashed[(i + 1) % n].0;
            (h, Nsec3::unsigned(next, flags, owners[idx as usize].1))
        })
        .collect();
    drop(hashed);
    let signed = par_map(&chain, threads, |(h, n3)| {
        if let Some(kept) = reuse.as_ref().and_then(|r| r.nsec3(h, n3)) {
            return Ok((kept, true));
        }
        Ok((
            n3.with_sigs(&sign_nsec3(zone, h, n3, &param, &s, &clock)?),
            false,
        ))
    })?;
    let mut stats = ReuseStats::default();
    for ((_, n3), (sig, kept)) in chain.iter_mut().zip(signed) {
        *n3 = sig;
        stats.count(kept);
    }

    let secure: Vec<(&Name, &[crate::rr::Ds])> = zone
        .content
        .delegations
        .iter()
        .filter(|(_, d)| !d.ds.is_empty())
        .map(|(n, d)| (n, d.ds.as_slice()))
        .collect();
    let ds_sigs = par_map(&secure, threads, |(name, ds)| {
        if let Some(kept) = reuse.as_ref().and_then(|r| r.ds(zone, name, ds)) {
            return Ok((kept, true));
        }
        Ok((sign_ds(zone, name, ds, &s, &clock)?, false))
    })?;
    let ds_sigs: BTreeMap<Name, Vec<Vec<u8>>> = secure
        .iter()
        .zip(ds_sigs)
        .map(|((n, _), (sig, kept))| {
            stats.count(kept);
            ((*n).clone(), sig)
        })
        .collect();

    let mut apex_sigs = BTreeMap::new();
    let sets = ApexSets {
        param: &param,
        dnskeys: &s.dnskeys,
        cds: &params.cds,
        cdnskey: &params.cdnskey,
    };
    for &rt in SignParams::apex_types(!params.cds.is_empty()) {
        let kept = reuse.as_ref().and_then(|r| r.apex(zone, rt, &sets));
        stats.count(kept.is_some());
        let sigs = match kept {
            Some(k) => k,
            None => sign_apex(zone, rt, &sets, &s, &clock)?,
        };
        apex_sigs.insert(rt, sigs);
    }
    Ok((
        Dnssec {
            dnskeys: s.dnskeys,
            cds: params.cds.clone(),
            cdnskey: params.cdnskey.clone(),
            nsec3param: param,
            apex_sigs,
            ds_sigs: ds_sigs.into_iter().collect(),
            nsec3: chain.into_iter().collect(),
        },
        stats,
    ))
}

impl ReuseStats {
    fn count(&mut self, kept: bool) {
        if kept {
            self.reused += 1;
        } else {
            self.signed += 1;
        }
    }
}

/// Empty non-terminals that need an NSEC3 RR: ancestors of chained
/// delegations deeper than the second level (none in a usual TLD).
fn empty_non_terminals(zone: &Zone, opt_out: bool, bm: &Bitmaps) -> BTreeSet<Name> {
    let depth = zone.origin.label_count() + 1;
    let mut out = BTreeSet::new();
    for (name, d) in &zone.content.delegations {
        if name.label_count() > depth && (!opt_out || !d.ds.is_empty()) {
            for a in ancestors_below(name, &zone.origin) {
                if chain_types(zone, &a, opt_out, bm).is_some() {
                    out.insert(a);
                }
            }
        }
    }
    out
}

fn successor(chain: &Map<[u8; 20], Nsec3>, h: &[u8; 20]) -> Option<[u8; 20]> {
    chain
        .range::<_, [u8; 20]>((Bound::Excluded(h), Bound::Unbounded))
        .next()
        .or_else(|| chain.get_min().map(|(k, v)| (k, v)))
        .map(|(k, _)| *k)
}

fn predecessor(chain: &Map<[u8; 20], Nsec3>, h: &[u8; 20]) -> Option<[u8; 20]> {
    chain
        .range::<_, [u8; 20]>((Bound::Unbounded, Bound::Excluded(h)))
        .next_back()
        .or_else(|| chain.get_max().map(|(k, v)| (k, v)))
        .map(|(k, _)| *k)
}

/// Bring `signed` up to date with `zone` for the delegations in `changed`
/// (added, removed, NS or DS changed, or glue host names): their NSEC3 RRs
/// and those of empty non-terminals above them are inserted, removed or
/// retyped, predecessors relinked, the touched RRs and the changed DS
/// RRsets signed again, and the SOA signed again (its serial changed).
/// The result equals [`sign_zone`] of `zone` at the same `now` for
/// everything touched. Keys and NSEC3 parameters must be those `signed`
/// was made with ([`refresh`] handles key changes).
pub fn update_delegations(
    signed: &mut Dnssec,
    zone: &Zone,
    changed: &[Name],
    keys: &[SigningKey],
    params: &SignParams,
    now: u32,
) -> Result<UpdateStats, SignError> {
    let s = signers(&zone.origin, keys, now)?;
    if s.dnskeys != signed.dnskeys {
        return Err(SignError::KeySetChanged);
    }
    let param = params.nsec3param();
    if param != signed.nsec3param || params.cds != signed.cds || params.cdnskey != signed.cdnskey {
        return Err(SignError::ParamsChanged);
    }
    // What changed is signed as a first signing is: at a place of its own
    // in the refresh cycle.
    let clock = Clock::new(params, now).spread(true);
    let bm = Bitmaps::with_cds(!signed.cds.is_empty());
    let o = &zone.origin;
    let mut stats = UpdateStats::default();

    let mut names: BTreeSet<Name> = BTreeSet::new();
    for c in changed {
        if c.label_count() <= o.label_count() || !c.is_subdomain_of(o) {
            return Err(SignError::OutOfZone {
                name: c.clone(),
                zone: o.clone(),
            });
        }
        if zone.content.delegations.contains_key(c) {
            if let Some(p) = ancestors_below(c, o)
                .into_iter()
                .find(|p| zone.content.delegations.contains_key(p))
            {
                return Err(SignError::NestedDelegation {
                    name: c.clone(),
                    parent: p,
                });
            }
        } else if zone.content.glue.contains_key(c) && !occluded(zone, c) {
            return Err(SignError::GlueNotOccluded { name: c.clone() });
        }
        names.extend(ancestors_below(c, o));
        names.insert(c.clone());
    }

    let flags = u8::from(params.opt_out);
    let mut content_changed: BTreeSet<[u8; 20]> = BTreeSet::new();
    let mut relink: Vec<[u8; 20]> = Vec::new();
    for name in &names {
        let want = chain_types(zone, name, params.opt_out, &bm);
        let h = nsec3_hash(name, &params.nsec3_salt, params.nsec3_iterations);
        match (signed.nsec3.get_mut(&h), want) {
            (None, Some(types)) => {
                signed.nsec3.insert(h, Nsec3::unsigned(h, flags, &types));
                content_changed.insert(h);
                relink.push(h);
                stats.nsec3_added += 1;
            }
            (Some(_), None) => {
                signed.nsec3.remove(&h);
                relink.push(h);
                stats.nsec3_removed += 1;
            }
            (Some(cur), Some(types)) if cur.types() != types => {
                // Re-signed below, with its next hashed owner.
                *cur = Nsec3::unsigned(*cur.next(), cur.flags(), &types);
                content_changed.insert(h);
            }
            _ => {}
        }
    }
    // Each insertion or removal changes its predecessor's next hashed owner.
    let mut touched = content_changed.clone();
    for h in &relink {
        if let Some(p) = predecessor(&signed.nsec3, h) {
            touched.insert(p);
        }
    }
    let mut to_sign: Vec<([u8; 20], Nsec3)> = Vec::new();
    for h in &touched {
        let Some(next) = successor(&signed.nsec3, h) else {
            continue;
        };
        let Some(cur) = signed.nsec3.get_mut(h) else {
            continue;
        };
        if *cur.next() != next || content_changed.contains(h) {
            to_sign.push((*h, Nsec3::unsigned(next, cur.flags(), cur.types())));
        }
    }
    let sigs = par_map(&to_sign, params.threads(), |(h, n3)| {
        sign_nsec3(zone, h, n3, &param, &s, &clock)
    })?;
    for ((h, n3), sig) in to_sign.iter().zip(sigs) {
        signed.nsec3.insert(*h, n3.with_sigs(&sig));
    }
    stats.nsec3_signed = to_sign.len();

    for c in changed {
        match zone.content.delegations.get(c) {
            Some(d) if !d.ds.is_empty() => {
                signed
                    .ds_sigs
                    .insert(c.clone(), sign_ds(zone, c, &d.ds, &s, &clock)?);
                stats.ds_signed += 1;
            }
            _ => {
                if signed.ds_sigs.remove(c).is_some() {
                    stats.ds_removed += 1;
                }
            }
        }
    }
    let sets = ApexSets {
        param: &param,
        dnskeys: &s.dnskeys,
        cds: &params.cds,
        cdnskey: &params.cdnskey,
    };
    signed
        .apex_sigs
        .insert(rtype::SOA, sign_apex(zone, rtype::SOA, &sets, &s, &clock)?);
    Ok(stats)
}

/// Re-sign what needs it at `now`: signatures with less than
/// `refresh_secs` left, RRsets whose signers are not the keys that should
/// sign now (a key became active or inactive), and the DNSKEY RRset when
/// keys were published or withdrawn. Everything else is left alone.
pub fn refresh(
    signed: &mut Dnssec,
    zone: &Zone,
    keys: &[SigningKey],
    params: &SignParams,
    now: u32,
) -> Result<RefreshStats, SignError> {
    let s = signers(&zone.origin, keys, now)?;
    let param = params.nsec3param();
    if param != signed.nsec3param || params.cds != signed.cds || params.cdnskey != signed.cdnskey {
        return Err(SignError::ParamsChanged);
    }
    let clock = Clock::new(params, now);
    let mut stats = RefreshStats::default();
    let (zsk_tags, ksk_tags) = (s.zsk_tags(), s.ksk_tags());
    let due = |sigs: &mut dyn Iterator<Item = &[u8]>, want: &[(u8, u16)]| -> bool {
        due(sigs, want, now, params.refresh_secs)
    };

    if s.dnskeys != signed.dnskeys {
        signed.dnskeys = s.dnskeys.clone();
        signed.apex_sigs.remove(&rtype::DNSKEY);
        stats.dnskeys_changed = true;
    }
    let dnskeys = signed.dnskeys.clone();
    let sets = ApexSets {
        param: &param,
        dnskeys: &dnskeys,
        cds: &params.cds,
        cdnskey: &params.cdnskey,
    };
    for &rt in SignParams::apex_types(!params.cds.is_empty()) {
        let want = if by_ksk(rt) { &ksk_tags } else { &zsk_tags };
        if signed
            .apex_sigs
            .get(&rt)
            .is_none_or(|sigs| due(&mut sigs.iter().map(Vec::as_slice), want))
        {
            signed
                .apex_sigs
                .insert(rt, sign_apex(zone, rt, &sets, &s, &clock)?);
            stats.rrsets_signed += 1;
        }
    }

    let mut ds_due = Vec::new();
    for (name, sigs) in &signed.ds_sigs {
        if due(&mut sigs.iter().map(Vec::as_slice), &zsk_tags) {
            match zone.content.delegations.get(name) {
                Some(d) if !d.ds.is_empty() => ds_due.push((name.clone(), d.ds.as_slice())),
                _ => return Err(SignError::StaleDsSignature { name: name.clone() }),
            }
        }
    }
    let threads = params.threads();
    let ds_new = par_map(&ds_due, threads, |(name, ds)| {
        sign_ds(zone, name, ds, &s, &clock)
    })?;
    stats.rrsets_signed += ds_due.len();
    for ((name, _), sig) in ds_due.into_iter().zip(ds_new) {
        signed.ds_sigs.insert(name, sig);
    }

    let n3_due: Vec<([u8; 20], Nsec3)> = signed
        .nsec3
        .iter()
        .filter(|(_, n3)| due(&mut n3.sigs(), &zsk_tags))
        .map(|(h, n3)| (*h, Nsec3::unsigned(*n3.next(), n3.flags(), n3.types())))
        .collect();
    let n3_new = par_map(&n3_due, threads, |(h, n3)| {
        sign_nsec3(zone, h, n3, &param, &s, &clock)
    })?;
    stats.rrsets_signed += n3_due.len();
    for ((h, n3), sig) in n3_due.iter().zip(n3_new) {
        signed.nsec3.insert(*h, n3.with_sigs(&sig));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests;
