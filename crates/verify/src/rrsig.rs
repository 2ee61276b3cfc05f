//! Signatures (RFC 4034 §3, RFC 4035 §2.2 and §5.3).
//!
//! Owns the reconstruction of the signed data (RFC 4034 §3.1.8.1, §6.2,
//! §6.3) and the check of every RRSIG: fields first (cheap, in order, so the
//! first error is deterministic), then the cryptography on every core.
//! Keys come decoded from `dnskey`.

use super::dnskey::{PublicKey, ZoneKey, zone_algorithms};
use super::{Index, VerifyError, VerifyOptions, par_map};
use crate::name::Name;
use crate::policy::{self, FieldProblem, Validity};
use crate::rr::{Rrsig, RrsigFields, Soa, read_name, rtype};
use std::borrow::Cow;
use std::collections::HashMap;

/// An RRSIG whose fields are consistent, waiting for its cryptographic check.
struct Job {
    sig: usize,
    rrset: usize,
    key: usize,
    /// The RRSIG's fixed fields; its signer is the origin (checked).
    fields: RrsigFields,
    /// Where the signature field starts in the RRSIG RDATA.
    sig_at: usize,
}

/// What [`check`] found.
pub(super) struct Checked {
    /// Signatures verified.
    pub verified: usize,
    /// The keys (indices into the key list) whose RRSIG over the DNSKEY
    /// RRset verified.
    pub dnskey_signers: Vec<usize>,
}

/// Check every RRSIG and that every authoritative RRset is signed: by the
/// published `keys` (each algorithm of them signs every RRset) or, in an
/// algorithm roll, by the `unpublished` ones
/// ([`VerifyOptions::unpublished_keys`]).
pub(super) fn check(
    z: &Index<'_>,
    published: &[ZoneKey],
    unpublished: &[ZoneKey],
    opts: &VerifyOptions,
    threads: usize,
) -> Result<Checked, VerifyError> {
    let now = opts.now;
    let keys: Vec<&ZoneKey> = published.iter().chain(unpublished).collect();
    // RFC 4035 §5.3.1: only keys with the Zone Key flag validate RRsets.
    let mut by_tag: HashMap<(u16, u8), usize> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        if k.is_zone_key() {
            by_tag.insert((k.tag, k.algorithm), i);
        }
    }
    let zone_algs = zone_algorithms(published);

    let mut jobs = Vec::with_capacity(z.rrsets.len());
    // Per RRset: bit i set when some RRSIG uses `zone_algs[i]`.
    let mut algs_seen = vec![0u64; z.rrsets.len()];
    for n in 0..z.nodes.len() {
        let Some(sigs) = z.rrset(n, rtype::RRSIG) else {
            continue;
        };
        let owner = z.owner(n);
        for &ri in &z.order[sigs.start..sigs.end] {
            let r = &z.records[ri];
            let sig = Rrsig::from_rdata(&r.rdata).map_err(|_| VerifyError::BadRdata {
                owner: owner.clone(),
                rtype: rtype::RRSIG,
            })?;
            // The signature is the tail of the RDATA (RFC 4034 §3.1); the
            // job keeps where it starts rather than a copy of it.
            let sig_at = r.rdata.len() - sig.signature.len();
            let Rrsig { fields, signer, .. } = sig;
            let RrsigFields {
                type_covered: covered,
                algorithm,
                labels,
                original_ttl: original,
                expiration,
                inception,
                key_tag,
            } = fields;
            let Some(set_i) = z.nodes[n]
                .rrsets
                .clone()
                .find(|&i| z.rrsets[i].rtype == covered && covered != rtype::RRSIG)
            else {
                return Err(VerifyError::RrsigWithoutRrset {
                    owner: owner.clone(),
                    rtype: covered,
                });
            };
            if !z.is_authoritative(n, covered) {
                return Err(VerifyError::RrsigOverNonAuthoritative {
                    owner: owner.clone(),
                    rtype: covered,
                });
            }
            let set = &z.rrsets[set_i];
            match policy::check_fields(&fields, &signer, owner, z.origin, set.ttl) {
                Ok(()) => {}
                Err(FieldProblem::Signer) => {
                    return Err(VerifyError::RrsigSigner {
                        owner: owner.clone(),
                        rtype: covered,
                        signer,
                    });
                }
                Err(FieldProblem::Labels { expected }) => {
                    return Err(VerifyError::RrsigLabels {
                        owner: owner.clone(),
                        rtype: covered,
                        labels,
                        expected,
                    });
                }
                Err(FieldProblem::OriginalTtl) => {
                    return Err(VerifyError::RrsigOriginalTtl {
                        owner: owner.clone(),
                        rtype: covered,
                        original,
                        ttl: set.ttl,
                    });
                }
            }
            // RFC 4034 §3: the RRSIG record's own TTL matches the covered
            // RRset's TTL too.
            if r.ttl != set.ttl {
                return Err(VerifyError::RrsigOriginalTtl {
                    owner: owner.clone(),
                    rtype: covered,
                    original: r.ttl,
                    ttl: set.ttl,
                });
            }
            let Some(&key) = by_tag.get(&(key_tag, algorithm)) else {
                if opts.skip_unknown_algorithms && !keys.iter().any(|k| k.algorithm == algorithm) {
                    continue;
                }
                return Err(VerifyError::UnknownKey {
                    owner: owner.clone(),
                    rtype: covered,
                    key_tag,
                    algorithm,
                });
            };
            if matches!(keys[key].public, PublicKey::Unsupported) {
                return Err(VerifyError::UnsupportedAlgorithm {
                    owner: owner.clone(),
                    rtype: covered,
                    algorithm,
                });
            }
            match policy::validity(inception, expiration, now) {
                Validity::Valid => {}
                Validity::NotYetValid => {
                    return Err(VerifyError::SignatureNotYetValid {
                        owner: owner.clone(),
                        rtype: covered,
                        key_tag,
                        inception,
                        now,
                    });
                }
                Validity::Expired => {
                    return Err(VerifyError::SignatureExpired {
                        owner: owner.clone(),
                        rtype: covered,
                        key_tag,
                        expiration,
                        now,
                    });
                }
            }
            if !policy::lasts(expiration, now, opts.min_signature_life) {
                return Err(VerifyError::SignatureTooShort {
                    owner: owner.clone(),
                    rtype: covered,
                    key_tag,
                    expiration,
                    now,
                    needed: opts.min_signature_life,
                });
            }
            if let Some(bit) = zone_algs.iter().position(|&a| a == algorithm) {
                algs_seen[set_i] |= 1 << (bit % 64);
            }
            jobs.push(Job {
                sig: ri,
                rrset: set_i,
                key,
                fields,
                sig_at,
            });
        }
    }

    // Every authoritative RRset is signed with every algorithm of the
    // DNSKEY RRset (RFC 4035 §2.2, RFC 6840 §5.11).
    for n in 0..z.nodes.len() {
        for i in z.nodes[n].rrsets.clone() {
            let t = z.rrsets[i].rtype;
            if !z.is_authoritative(n, t) {
                continue;
            }
            if algs_seen[i] == 0 {
                return Err(VerifyError::MissingSignature {
                    owner: z.owner(n).clone(),
                    rtype: t,
                });
            }
            for (bit, &algorithm) in zone_algs.iter().enumerate() {
                if algs_seen[i] & (1 << (bit % 64)) == 0 {
                    return Err(VerifyError::MissingAlgorithm {
                        owner: z.owner(n).clone(),
                        rtype: t,
                        algorithm,
                    });
                }
            }
        }
    }
    let dnskey_set = z.nodes[z.apex]
        .rrsets
        .clone()
        .find(|&i| z.rrsets[i].rtype == rtype::DNSKEY);
    if !jobs
        .iter()
        .any(|j| Some(j.rrset) == dnskey_set && j.key < published.len() && keys[j.key].is_sep())
    {
        return Err(VerifyError::DnskeyNotSignedBySep);
    }

    let ok = par_map(&jobs, threads, |j| {
        let mut msg = Vec::with_capacity(512);
        signed_data(z, j, &mut msg);
        keys[j.key].verify(&msg, &z.records[j.sig].rdata[j.sig_at..])
    });
    if let Some(bad) = ok.iter().position(|ok| !ok) {
        let j = &jobs[bad];
        return Err(VerifyError::BadSignature {
            owner: z.records[j.sig].owner.clone(),
            rtype: z.rrsets[j.rrset].rtype,
            key_tag: keys[j.key].tag,
            algorithm: j.fields.algorithm,
        });
    }
    let mut dnskey_signers: Vec<usize> = jobs
        .iter()
        .filter(|j| Some(j.rrset) == dnskey_set && j.key < published.len())
        .map(|j| j.key)
        .collect();
    dnskey_signers.sort_unstable();
    dnskey_signers.dedup();
    Ok(Checked {
        verified: jobs.len(),
        dnskey_signers,
    })
}

/// RFC 4034 §3.1.8.1: signed data = RRSIG RDATA without the signature (signer
/// name canonical) | each RR of the RRset in canonical form and order, with
/// the original TTL.
fn signed_data(z: &Index<'_>, j: &Job, out: &mut Vec<u8>) {
    let sig = &z.records[j.sig];
    let set = &z.rrsets[j.rrset];
    let rdatas = z.records_of(set).map(|r| r.rdata.as_slice());
    rrset_signed_data(&sig.owner, set.rtype, rdatas, &j.fields, z.origin, out);
}

/// The signed data of one RRSIG (its fixed fields and signer) over the
/// RRset of `rtype` at `owner` with these RDATAs.
pub(crate) fn rrset_signed_data<'r>(
    owner: &Name,
    rtype: u16,
    rdatas: impl Iterator<Item = &'r [u8]>,
    fields: &RrsigFields,
    signer: &Name,
    out: &mut Vec<u8>,
) {
    fields.write(out);
    // The signer's name in canonical form (RFC 4034 §6.2 item 3): a
    // `Name` is lower case.
    out.extend_from_slice(signer.wire());
    let original_ttl = fields.original_ttl.to_be_bytes();
    let mut rdatas: Vec<Cow<'_, [u8]>> = rdatas.map(|r| canonical_rdata(rtype, r)).collect();
    // RFC 4034 §6.3: sorted as left-justified octet strings, duplicates removed.
    rdatas.sort_unstable();
    rdatas.dedup();
    let owner = owner.wire();
    for rd in &rdatas {
        out.extend_from_slice(owner);
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&crate::rr::class::IN.to_be_bytes());
        out.extend_from_slice(&original_ttl);
        out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        out.extend_from_slice(rd);
    }
}

/// RFC 4034 §6.2 item 3 (with RFC 6840 §5.1): names embedded in the RDATA of
/// these types are lower-cased. Applied to the types a TLD zone can hold or
/// an operator can allow; the others are already canonical.
pub(crate) fn canonical_rdata(t: u16, rd: &[u8]) -> Cow<'_, [u8]> {
    const DNAME: u16 = 39;
    let lower_name_at = |skip: usize| -> Cow<'_, [u8]> {
        match read_name(rd, skip) {
            Some((_, end)) if rd[skip..end].iter().any(u8::is_ascii_uppercase) => {
                let mut v = rd.to_vec();
                v[skip..end].make_ascii_lowercase();
                Cow::Owned(v)
            }
            _ => Cow::Borrowed(rd),
        }
    };
    match t {
        rtype::NS | rtype::CNAME | rtype::PTR | DNAME => lower_name_at(0),
        rtype::MX => lower_name_at(2),
        rtype::SRV => lower_name_at(6),
        // Read back, the names are lower case ([`Name`] is).
        rtype::SOA => match Soa::from_rdata(rd).map(|soa| soa.to_rdata()) {
            Ok(v) if v != rd => Cow::Owned(v),
            _ => Cow::Borrowed(rd),
        },
        _ => Cow::Borrowed(rd),
    }
}
