//! The changed part of an incremental version (RFC 4035 §5.3, RFC 5155
//! §7.1, Exhibit A §1), checked against the last verified version.
//!
//! Between full builds every version is made by editing the previous one;
//! this is its verification, and it is this crate's, not the signer's: the
//! keys are decoded by [`crate::dnskey`], the signed data rebuilt by
//! [`crate::rrsig`], and the algorithms, key sizes and validity boundary
//! come from [`crate::policy`], exactly as for a whole version. (.de 2026:
//! incremental versions that were never properly verified.)

use crate::VerifyOptions;
use crate::delegation::implausible_change;
use crate::dnskey::{self, PublicKey, ZoneKey};
use crate::name::Name;
use crate::nsec3::nsec3_hash;
use crate::policy::{self, Validity};
use crate::rr::{Dnskey, Rrsig, RrsigFields, bitmap_from_types, rtype, type_name};
use crate::rrsig::rrset_signed_data;
use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use tldns_base::serial::serial_gt;
use tldns_zone::{SignedZone, nsec3_owner, nsec3_rdata};

/// Why [`verify_changed`] refused a version. Each message cites the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangedError {
    /// The new SOA serial is not greater than the old one in RFC 1982
    /// arithmetic.
    #[error("serial {new} is not greater than {old} (RFC 1982 §3.2, RFC 1996 §2)")]
    Serial {
        /// The last verified version's serial.
        old: u32,
        /// The new version's serial.
        new: u32,
    },
    /// The origin, the SOA beyond its serial, the TTLs, or the apex NS,
    /// DNSKEY or NSEC3PARAM RRset changed; an incremental version may not.
    #[error("the apex {what} changed in an incremental version; only the SOA may")]
    Apex {
        /// What changed (`"SOA or TTLs"`, `"NS RRset"`,
        /// `"DNSKEY or NSEC3PARAM RRset"`).
        what: &'static str,
    },
    /// A changed delegation's name is not exactly one label below the origin.
    #[error("{name} is not one label below the zone (Exhibit A §1)")]
    NotSecondLevel {
        /// The delegation's name.
        name: Name,
    },
    /// A changed delegation with an empty NS set.
    #[error("{name}: delegation without name servers (Exhibit A §1)")]
    NoNameServers {
        /// The delegation's name.
        name: Name,
    },
    /// A changed glue host that is not strictly below a delegation of the
    /// new version.
    #[error("glue {name} is not below a published delegation (Exhibit A §1)")]
    GlueWithoutDelegation {
        /// The glue host.
        name: Name,
    },
    /// A changed glue host that neither the apex NS set nor any of the
    /// `users` delegations names.
    #[error("glue {name} is used by no delegation (Exhibit A §1)")]
    OrphanGlue {
        /// The glue host.
        name: Name,
    },
    /// The delegation count changed by more than
    /// [`VerifyOptions::max_delegation_change`] of the previous count.
    #[error(
        "delegation count changed from {previous} to {current}, more than the limit {limit} (incident .se 2009, docs/architecture.md)"
    )]
    DelegationChange {
        /// The previous version's count
        /// ([`VerifyOptions::previous_delegations`], else the old version's).
        previous: usize,
        /// The new version's count.
        current: usize,
        /// The largest accepted relative change (0.1 = 10%).
        limit: f64,
    },
    /// A changed delegation that needs an NSEC3 record has none (a secure
    /// one always needs one; an insecure one unless the chain is Opt-Out).
    #[error("{name} has no NSEC3 (RFC 5155 §7.1)")]
    Nsec3Missing {
        /// The delegation's name.
        name: Name,
    },
    /// An NSEC3 record for a changed name that needs none: one that is no
    /// delegation of the new version, or an insecure one in an Opt-Out chain.
    #[error("{name} has an NSEC3 but needs none (RFC 5155 §6, §7.1)")]
    Nsec3Stray {
        /// The name whose hash the record has.
        name: Name,
    },
    /// A changed delegation's NSEC3 record has the wrong type bitmap (NS,
    /// plus DS and RRSIG when secure) or flags (the chain's Opt-Out).
    #[error(
        "{name} NSEC3: type bitmap or flags do not match the delegation (RFC 5155 §3.2, §3.1.2)"
    )]
    Nsec3Types {
        /// The delegation's name.
        name: Name,
    },
    /// An NSEC3 record next to a change whose next hashed owner is not the
    /// following hash of the chain.
    #[error("{owner} NSEC3: next hashed owner does not continue the chain (RFC 5155 §7.1)")]
    Nsec3Chain {
        /// The NSEC3 record's owner.
        owner: Name,
    },
    /// The chain gained or lost records the changed names do not account for.
    #[error("NSEC3 chain has {found} records, the changes explain {expected} (RFC 5155 §7.1)")]
    Nsec3Count {
        /// The old chain's length plus the NSEC3 records added, less those
        /// removed.
        expected: usize,
        /// The new chain's length.
        found: usize,
    },
    /// An RRset checked (the SOA, and every RRset signed again) lacks a
    /// signature by one of the zone keys' algorithms (RFC 6840 §5.11).
    #[error("{owner} {}: no valid RRSIG of algorithm {algorithm} (RFC 4035 §2.2, §5.3)", type_name(*.rtype))]
    MissingSignature {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The algorithm without a signature.
        algorithm: u8,
    },
    /// An RRSIG that is malformed, does not match its RRset's type or TTL,
    /// or that no zone key with its tag and algorithm validates.
    #[error("{owner} RRSIG over {} by key {key_tag} does not validate (RFC 4035 §5.3.3)", type_name(*.rtype))]
    BadSignature {
        /// The RRset's owner.
        owner: Name,
        /// The type of the RRset it should cover.
        rtype: u16,
        /// The RRSIG's key tag (0 when the RDATA is too short to hold one).
        key_tag: u16,
    },
    /// An RRSIG whose signer, labels or original TTL do not fit the RRset
    /// it covers ([`policy::check_fields`]).
    #[error("{owner} RRSIG over {} by key {key_tag}: {problem:?} does not fit the RRset (RFC 4034 §3.1, RFC 4035 §5.3.1)", type_name(*.rtype))]
    RrsigField {
        /// The RRset's owner.
        owner: Name,
        /// The type of the RRset it covers.
        rtype: u16,
        /// The RRSIG's key tag.
        key_tag: u16,
        /// Which field is wrong.
        problem: policy::FieldProblem,
    },
    /// An RRSIG outside its validity period at [`VerifyOptions::now`]
    /// ([`policy::validity`]).
    #[error("{owner} RRSIG over {} by key {key_tag}: outside its validity period at {now} (RFC 4034 §3.1.5, incident .zm 2015, docs/architecture.md)", type_name(*.rtype))]
    SignatureTime {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The RRSIG's key tag.
        key_tag: u16,
        /// The time checked against, unix seconds.
        now: u32,
    },
    /// A changed delegation's DS RRset and the RRSIGs over it do not come
    /// together.
    #[error("{name}: DS RRSIG without DS, or DS without RRSIG (RFC 4035 §2.2)")]
    DsSignature {
        /// The delegation's name.
        name: Name,
    },
    /// An RRSIG by a zone key whose algorithm the acceptance [`policy`]
    /// refuses.
    #[error("{owner} RRSIG over {}: algorithm {algorithm} is outside the acceptance policy (RFC 8624 §3.1)", type_name(*.rtype))]
    UnsupportedAlgorithm {
        /// The RRset's owner.
        owner: Name,
        /// The RRset's type.
        rtype: u16,
        /// The RRSIG's algorithm.
        algorithm: u8,
    },
    /// A zone key whose public key cannot be used: malformed, or an RSA
    /// modulus below [`policy::MIN_RSA_MODULUS_BITS`].
    #[error("DNSKEY {key_tag}: {problem}")]
    Key {
        /// The key's tag (RFC 4034 Appendix B).
        key_tag: u16,
        /// What is wrong with it.
        problem: String,
    },
    /// Two DNSKEYs share a key tag (RFC 4034 Appendix B): a signature by
    /// that tag names no one key.
    #[error(
        "{count} DNSKEYs share key tag {key_tag}: key tags must be unique (RFC 4034 App. B, incident .de 2026)"
    )]
    KeyTagCollision {
        /// The shared key tag.
        key_tag: u16,
        /// How many DNSKEYs have it.
        count: usize,
    },
    /// The chain-of-trust gate or the signature-life rule refused the
    /// version (the same checks as the full verifier's).
    #[error("{0}")]
    Full(#[from] crate::VerifyError),
}

/// What [`verify_changed`] checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangedReport {
    /// Named delegations present in the new version and checked.
    pub delegations: usize,
    /// Named glue hosts present in the new version and checked.
    pub glue: usize,
    /// NSEC3 records whose link to the next hash was checked.
    pub nsec3_checked: usize,
    /// RRSIG records verified.
    pub rrsigs_checked: usize,
}

/// Check the part of `new` that differs from `old` (the last verified
/// version) for the delegations and glue hosts named (`users`: every
/// delegation that may name one of those hosts): content rules, the
/// NSEC3 records of those names and their neighbours' links, the RRSIGs
/// over everything that was signed again and over the SOA, the serial and
/// the delegation count. Signatures are checked with this crate's own key
/// decoding and signed-data reconstruction, under the one acceptance
/// [`policy`] the whole-version check applies. What did not change was
/// verified with `old`; the full verifier runs on every full build.
pub fn verify_changed(
    old: &SignedZone,
    new: &SignedZone,
    delegations: &[Name],
    glue: &[Name],
    users: &[Name],
    opts: &VerifyOptions,
) -> Result<ChangedReport, ChangedError> {
    let (oz, nz) = (&old.zone, &new.zone);
    let origin = &nz.origin;
    let mut report = ChangedReport::default();
    next_apex(oz, nz)?;
    let (prev, cur) = (
        opts.previous_delegations
            .unwrap_or(oz.content.delegations.len()),
        nz.content.delegations.len(),
    );
    if implausible_change(prev, cur, opts.max_delegation_change).is_some() {
        return Err(ChangedError::DelegationChange {
            previous: prev,
            current: cur,
            limit: opts.max_delegation_change,
        });
    }

    // Content (Exhibit A §1).
    let users: HashSet<&Name> = users
        .iter()
        .filter_map(|n| nz.content.delegations.get(n))
        .flat_map(|d| d.ns.iter())
        .chain(nz.apex_ns.iter())
        .collect();
    for n in delegations {
        if n.label_count() != origin.label_count() + 1 || !n.is_subdomain_of(origin) {
            return Err(ChangedError::NotSecondLevel { name: n.clone() });
        }
        if let Some(d) = nz.content.delegations.get(n) {
            report.delegations += 1;
            if d.ns.is_empty() {
                return Err(ChangedError::NoNameServers { name: n.clone() });
            }
        }
    }
    for h in glue {
        if !nz.content.glue.contains_key(h) {
            continue;
        }
        report.glue += 1;
        let parent = h.second_level(origin);
        if parent.as_ref() == Some(h)
            || !parent.is_some_and(|p| nz.content.delegations.contains_key(&p))
        {
            return Err(ChangedError::GlueWithoutDelegation { name: h.clone() });
        }
        if !users.contains(h) {
            return Err(ChangedError::OrphanGlue { name: h.clone() });
        }
    }

    let (Some(os), Some(ns)) = (&old.dnssec, &new.dnssec) else {
        return Ok(report);
    };
    let sigs = apex(old, new, opts, &mut report)?;

    // DS RRsets.
    for n in delegations {
        let ds = nz.content.delegations.get(n).map(|d| &d.ds);
        match (ds, ns.ds_sigs.get(n)) {
            (Some(ds), Some(s)) if !ds.is_empty() => {
                let rd: Vec<Vec<u8>> = ds.iter().map(|d| d.to_rdata()).collect();
                report.rrsigs_checked +=
                    sigs.check(n, rtype::DS, nz.ttl.ds, &rd, s.iter().map(Vec::as_slice))?;
            }
            (Some(ds), None) if ds.is_empty() => {}
            (None, None) => {}
            _ => return Err(ChangedError::DsSignature { name: n.clone() }),
        }
    }

    // NSEC3 (RFC 5155 §7.1): the records of the changed names, the links
    // into and out of them, and the count.
    let p = &ns.nsec3param;
    let opt_out = p.opt_out;
    let flags = u8::from(opt_out);
    let secure = bitmap_from_types(&[rtype::NS, rtype::DS, rtype::RRSIG]);
    let insecure = bitmap_from_types(&[rtype::NS]);
    let chain = &ns.nsec3;
    let next_of = |h: &[u8; 20]| -> Option<[u8; 20]> {
        chain
            .range::<_, [u8; 20]>((Bound::Excluded(h), Bound::Unbounded))
            .next()
            .or_else(|| chain.iter().next())
            .map(|(k, _)| *k)
    };
    let prev_of = |h: &[u8; 20]| -> Option<[u8; 20]> {
        chain
            .range::<_, [u8; 20]>(..h)
            .next_back()
            .or_else(|| chain.iter().next_back())
            .map(|(k, _)| *k)
    };
    let mut window: BTreeSet<[u8; 20]> = BTreeSet::new();
    let mut hashed: BTreeSet<[u8; 20]> = BTreeSet::new();
    let (mut added, mut removed) = (0usize, 0usize);
    for n in delegations {
        let h = nsec3_hash(n, &p.salt, p.iterations);
        if !hashed.insert(h) {
            continue;
        }
        let want = nz
            .content
            .delegations
            .get(n)
            .and_then(|d| match (d.ds.is_empty(), opt_out) {
                (false, _) => Some(&secure),
                (true, false) => Some(&insecure),
                (true, true) => None,
            });
        match (chain.get(&h), want) {
            (None, Some(_)) => return Err(ChangedError::Nsec3Missing { name: n.clone() }),
            (Some(_), None) => return Err(ChangedError::Nsec3Stray { name: n.clone() }),
            (Some(r), Some(types)) => {
                if r.types() != &types[..] || r.flags() != flags {
                    return Err(ChangedError::Nsec3Types { name: n.clone() });
                }
                window.insert(h);
            }
            (None, None) => {}
        }
        match (os.nsec3.contains_key(&h), chain.contains_key(&h)) {
            (false, true) => added += 1,
            (true, false) => removed += 1,
            _ => {}
        }
        if let Some(pr) = prev_of(&h) {
            window.insert(pr);
        }
    }
    let expected = (os.nsec3.len() + added).saturating_sub(removed);
    if chain.len() != expected {
        return Err(ChangedError::Nsec3Count {
            expected,
            found: chain.len(),
        });
    }
    for h in &window {
        let Some(r) = chain.get(h) else { continue };
        let owner = nsec3_owner(h, origin);
        if next_of(h) != Some(*r.next()) {
            return Err(ChangedError::Nsec3Chain { owner });
        }
        report.nsec3_checked += 1;
        if os.nsec3.get(h) != Some(r) {
            let rd = vec![nsec3_rdata(p, r)];
            report.rrsigs_checked +=
                sigs.check(&owner, rtype::NSEC3, nz.ttl.nsec3, &rd, r.sigs())?;
        }
    }
    Ok(report)
}

/// `nz` follows `oz`: a greater serial (RFC 1982), and the same origin,
/// TTLs, SOA fields but the serial, and apex NS RRset.
fn next_apex(oz: &tldns_zone::Zone, nz: &tldns_zone::Zone) -> Result<(), ChangedError> {
    if !serial_gt(nz.soa.serial, oz.soa.serial) {
        return Err(ChangedError::Serial {
            old: oz.soa.serial,
            new: nz.soa.serial,
        });
    }
    let mut soa = oz.soa.clone();
    soa.serial = nz.soa.serial;
    if soa != nz.soa || oz.origin != nz.origin || oz.ttl != nz.ttl {
        return Err(ChangedError::Apex {
            what: "SOA or TTLs",
        });
    }
    if oz.apex_ns != nz.apex_ns {
        return Err(ChangedError::Apex { what: "NS RRset" });
    }
    Ok(())
}

/// The apex of `new` against `old`'s (both signed): the DNSKEY,
/// NSEC3PARAM, CDS and CDNSKEY RRsets unchanged, the chain-of-trust gate,
/// and every apex signature that differs (and the SOA's) verified. The
/// keys are read first: a key tag two DNSKEYs share is named as such, not
/// as a changed RRset. Returns the signature checker for the rest.
fn apex(
    old: &SignedZone,
    new: &SignedZone,
    opts: &VerifyOptions,
    report: &mut ChangedReport,
) -> Result<Signatures, ChangedError> {
    let (Some(os), Some(ns)) = (&old.dnssec, &new.dnssec) else {
        return Err(ChangedError::Apex { what: "signing" });
    };
    let nz = &new.zone;
    let origin = &nz.origin;
    let sigs = Signatures::new(&ns.dnskeys, origin, opts)?;
    if os.dnskeys != ns.dnskeys
        || os.nsec3param != ns.nsec3param
        || os.cds != ns.cds
        || os.cdnskey != ns.cdnskey
    {
        return Err(ChangedError::Apex {
            what: "DNSKEY, NSEC3PARAM, CDS or CDNSKEY RRset",
        });
    }
    if let Some(anchors) = &opts.trust_anchors {
        // The DNSKEY RRSIGs were verified: now if they changed (below), or
        // when the version they come from was.
        let by: Vec<usize> = ns
            .apex_sigs
            .get(&rtype::DNSKEY)
            .into_iter()
            .flatten()
            .filter_map(|r| RrsigFields::parse(r).ok())
            .filter_map(|f| {
                sigs.keys[..sigs.published]
                    .iter()
                    .position(|k| k.tag == f.key_tag && k.algorithm == f.algorithm)
            })
            .collect();
        dnskey::trusted(origin, &sigs.keys, &by, anchors)?;
    }
    for (t, s) in &ns.apex_sigs {
        if *t == rtype::SOA || os.apex_sigs.get(t) != Some(s) {
            let rd = match *t {
                rtype::SOA => vec![nz.soa.to_rdata()],
                rtype::NS => nz.apex_ns.iter().map(|n| n.wire().to_vec()).collect(),
                rtype::DNSKEY => ns.dnskeys.clone(),
                rtype::CDS => ns.cds.clone(),
                rtype::CDNSKEY => ns.cdnskey.clone(),
                _ => vec![ns.nsec3param.to_rdata()],
            };
            report.rrsigs_checked += sigs.check(
                origin,
                *t,
                nz.ttl.apex(*t),
                &rd,
                s.iter().map(Vec::as_slice),
            )?;
        }
    }
    Ok(sigs)
}

/// Check `new`, a refresh of `old` (the last verified version): the same
/// zone but for the SOA serial, which went up; the same DNSKEY and
/// NSEC3PARAM RRsets and NSEC3 chain; only signatures made again. Every
/// signature that differs from `old`'s, and the SOA's, is verified, under
/// the acceptance policy, the minimum life and the chain-of-trust gate of
/// `opts`. What is the same was verified with `old`.
pub fn verify_refreshed(
    old: &SignedZone,
    new: &SignedZone,
    opts: &VerifyOptions,
) -> Result<ChangedReport, ChangedError> {
    use tldns_zone::DiffItem;
    let (oz, nz) = (&old.zone, &new.zone);
    let origin = &nz.origin;
    let mut report = ChangedReport::default();
    next_apex(oz, nz)?;
    let same = |a: &tldns_zone::Content, b: &tldns_zone::Content| {
        a.delegations.diff(&b.delegations).next().is_none() && a.glue.diff(&b.glue).next().is_none()
    };
    if !same(&oz.content, &nz.content) {
        return Err(ChangedError::Apex {
            what: "content (a refresh changes signatures only)",
        });
    }
    let (Some(os), Some(ns)) = (&old.dnssec, &new.dnssec) else {
        return Err(ChangedError::Apex {
            what: "signing (a refresh is of a signed version)",
        });
    };
    if os.apex_sigs.keys().ne(ns.apex_sigs.keys()) {
        return Err(ChangedError::Apex {
            what: "set of signed apex RRsets",
        });
    }
    let sigs = apex(old, new, opts, &mut report)?;
    for d in os.ds_sigs.diff(&ns.ds_sigs) {
        let (n, s) = match d {
            DiffItem::Update { new: (n, s), .. } => (n, s),
            DiffItem::Add(n, _) | DiffItem::Remove(n, _) => {
                return Err(ChangedError::DsSignature { name: n.clone() });
            }
        };
        let ds = nz
            .content
            .delegations
            .get(n)
            .map(|d| &d.ds)
            .filter(|ds| !ds.is_empty())
            .ok_or_else(|| ChangedError::DsSignature { name: n.clone() })?;
        let rd: Vec<Vec<u8>> = ds.iter().map(|d| d.to_rdata()).collect();
        report.delegations += 1;
        report.rrsigs_checked +=
            sigs.check(n, rtype::DS, nz.ttl.ds, &rd, s.iter().map(Vec::as_slice))?;
    }
    let p = &ns.nsec3param;
    for d in os.nsec3.diff(&ns.nsec3) {
        let (h, was, r) = match d {
            DiffItem::Update {
                old: (_, was),
                new: (h, r),
            } => (h, was, r),
            DiffItem::Add(h, _) | DiffItem::Remove(h, _) => {
                return Err(ChangedError::Nsec3Chain {
                    owner: nsec3_owner(h, origin),
                });
            }
        };
        let owner = nsec3_owner(h, origin);
        if r.next() != was.next() || r.flags() != was.flags() || r.types() != was.types() {
            return Err(ChangedError::Nsec3Chain { owner });
        }
        report.nsec3_checked += 1;
        let rd = vec![nsec3_rdata(p, r)];
        report.rrsigs_checked += sigs.check(&owner, rtype::NSEC3, nz.ttl.nsec3, &rd, r.sigs())?;
    }
    Ok(report)
}

/// RRSIG checks against one DNSKEY RRset at one time.
struct Signatures {
    /// The zone keys (RFC 4035 §5.3.1: Zone Key flag set), decoded under
    /// the acceptance policy.
    keys: Vec<ZoneKey>,
    /// How many of `keys` are in the DNSKEY RRset; the rest sign unpublished
    /// ([`VerifyOptions::unpublished_keys`]).
    published: usize,
    /// Every algorithm of the published zone keys: each signs every RRset
    /// (RFC 6840 §5.11).
    algorithms: Vec<u8>,
    /// The zone's origin, every signature's signer.
    origin: Name,
    now: u32,
    /// [`VerifyOptions::min_signature_life`].
    min_life: u32,
    /// [`VerifyOptions::skip_unknown_algorithms`].
    skip_unknown_algorithms: bool,
}

impl Signatures {
    fn new(
        dnskeys: &[Vec<u8>],
        origin: &Name,
        opts: &VerifyOptions,
    ) -> Result<Signatures, ChangedError> {
        let mut tags: Vec<u16> = dnskeys.iter().map(|rd| dnskey::key_tag(rd)).collect();
        tags.sort_unstable();
        if let Some(w) = tags.windows(2).find(|w| w[0] == w[1]) {
            return Err(ChangedError::KeyTagCollision {
                key_tag: w[0],
                count: tags.iter().filter(|t| **t == w[0]).count(),
            });
        }
        let mut keys = Vec::new();
        // The DNSKEY RRset is the last verified version's (checked by the
        // caller), so a key that does not parse was refused then; only the
        // zone keys validate RRsets (RFC 4035 §5.3.1).
        for rd in dnskeys {
            let Ok(k) = Dnskey::from_rdata(rd) else {
                continue;
            };
            if !k.is_zone_key() {
                continue;
            }
            let tag = dnskey::key_tag(rd);
            keys.push(ZoneKey::new(&k, tag).map_err(|e| ChangedError::Key {
                key_tag: tag,
                problem: e.to_string(),
            })?);
        }
        let algorithms = dnskey::zone_algorithms(&keys);
        let published = keys.len();
        keys.extend(dnskey::unpublished(&keys, &opts.unpublished_keys)?);
        Ok(Signatures {
            keys,
            published,
            algorithms,
            origin: origin.clone(),
            now: opts.now,
            min_life: opts.min_signature_life,
            skip_unknown_algorithms: opts.skip_unknown_algorithms,
        })
    }

    /// Every RRSIG in `sigs` validates over the RRset and is in its
    /// validity period; every algorithm signs it. Returns how many.
    fn check<'s>(
        &self,
        owner: &Name,
        rt: u16,
        ttl: u32,
        rdatas: &[Vec<u8>],
        sigs: impl IntoIterator<Item = &'s [u8]>,
    ) -> Result<usize, ChangedError> {
        let mut algs = Vec::new();
        let mut checked = 0;
        let mut msg = Vec::with_capacity(512);
        for s in sigs {
            checked += 1;
            let bad = |key_tag| ChangedError::BadSignature {
                owner: owner.clone(),
                rtype: rt,
                key_tag,
            };
            // An RRSIG too short for its key tag names none (0).
            let sig = Rrsig::from_rdata(s)
                .map_err(|_| bad(RrsigFields::parse(s).map_or(0, |f| f.key_tag)))?;
            let f = &sig.fields;
            let (key_tag, algorithm) = (f.key_tag, f.algorithm);
            if f.type_covered != rt {
                return Err(bad(key_tag));
            }
            if let Err(problem) = policy::check_fields(f, &sig.signer, owner, &self.origin, ttl) {
                return Err(ChangedError::RrsigField {
                    owner: owner.clone(),
                    rtype: rt,
                    key_tag,
                    problem,
                });
            }
            if policy::validity(f.inception, f.expiration, self.now) != Validity::Valid {
                return Err(ChangedError::SignatureTime {
                    owner: owner.clone(),
                    rtype: rt,
                    key_tag,
                    now: self.now,
                });
            }
            if !policy::lasts(f.expiration, self.now, self.min_life) {
                return Err(crate::VerifyError::SignatureTooShort {
                    owner: owner.clone(),
                    rtype: rt,
                    key_tag,
                    expiration: f.expiration,
                    now: self.now,
                    needed: self.min_life,
                }
                .into());
            }
            let candidates: Vec<&ZoneKey> = self
                .keys
                .iter()
                .filter(|k| k.tag == key_tag && k.algorithm == algorithm)
                .collect();
            if candidates.is_empty() {
                if self.skip_unknown_algorithms
                    && !self.keys.iter().any(|k| k.algorithm == algorithm)
                {
                    continue;
                }
                return Err(crate::VerifyError::UnknownKey {
                    owner: owner.clone(),
                    rtype: rt,
                    key_tag,
                    algorithm,
                }
                .into());
            }
            if candidates
                .iter()
                .any(|k| matches!(k.public, PublicKey::Unsupported))
            {
                return Err(ChangedError::UnsupportedAlgorithm {
                    owner: owner.clone(),
                    rtype: rt,
                    algorithm,
                });
            }
            msg.clear();
            rrset_signed_data(
                owner,
                rt,
                rdatas.iter().map(Vec::as_slice),
                f,
                &sig.signer,
                &mut msg,
            );
            if !candidates.iter().any(|k| k.verify(&msg, &sig.signature)) {
                return Err(bad(key_tag));
            }
            algs.push(algorithm);
        }
        if let Some(&a) = self.algorithms.iter().find(|a| !algs.contains(a)) {
            return Err(ChangedError::MissingSignature {
                owner: owner.clone(),
                rtype: rt,
                algorithm: a,
            });
        }
        Ok(checked)
    }
}
