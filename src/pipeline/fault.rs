//! Fault injection for the tests that prove a bad version is never
//! published. Compiled only with the `fault-injection` cargo feature
//! (which the test suite enables); in a normal build [`inject`] returns
//! the version untouched and the release binary holds no trace of it.
//!
//! When `TLDNS_FAULT_FILE` names a file that holds `corrupt-rrsig` (flip a
//! bit in one signature), `drop-nsec3` (remove one NSEC3 record) or
//! `sig-expires-now` (re-sign the SOA, correctly, with an expiration of
//! exactly now: what the signer's own check accepts and the acceptance
//! policy refuses, RFC 4034 §3.1.5), `sig-wrong-labels` (the same with a
//! labels field one above the owner's count, RFC 4034 §3.1.3) or
//! `sig-wrong-signer` (the same with a signer name other than the origin,
//! RFC 4035 §5.3.1), `sig-short-life` (the same, expiring one second before
//! the SOA expire from now: a secondary could serve it expired),
//! `sig-unknown-tag` (the same, with a key tag one above its key's: a tag
//! no DNSKEY has) or `dnskey-tag-twin` (a second DNSKEY with the key tag of
//! the first, RFC 4034 Appendix B), the
//! fault is applied after signing and before verification, in full and
//! incremental builds alike. The file is read at every build, so a test
//! can make a running server produce one bad version.

use crate::dnssec::keys::SigningKey;
use crate::name::Name;
use crate::zone::SignedZone;

/// `z` with the fault the test asked for, if any. `changed`: the names an
/// incremental version re-signed (empty for a full build).
#[cfg(feature = "fault-injection")]
pub(super) fn inject(
    mut z: SignedZone,
    changed: &[Name],
    keys: &[SigningKey],
    now: u32,
) -> SignedZone {
    let Some(path) = std::env::var_os("TLDNS_FAULT_FILE") else {
        return z;
    };
    let Ok(fault) = std::fs::read_to_string(path) else {
        return z;
    };
    let fault = fault.trim();
    let Some(sec) = z.dnssec.as_mut() else {
        return z;
    };
    match fault {
        "corrupt-rrsig" => {
            if let Some(sig) = sec.apex_sigs.values_mut().flatten().next() {
                let last = sig.len() - 1;
                sig[last] ^= 0x01;
            }
        }
        "drop-nsec3" => {
            // An incremental version: one of the changed names' records
            // (the rest was verified before). A full build: any record.
            let p = &sec.nsec3param;
            let victim = changed
                .iter()
                .map(|n| crate::dnssec::nsec3::nsec3_hash(n, &p.salt, p.iterations))
                .find(|h| sec.nsec3.contains_key(h))
                .or_else(|| sec.nsec3.keys().nth(sec.nsec3.len() / 2).copied());
            if let Some(h) = victim {
                sec.nsec3.remove(&h);
            }
        }
        "dnskey-tag-twin" => {
            if let Some(first) = sec.dnskeys.first() {
                let twin = tag_twin(first);
                sec.dnskeys.push(twin);
                sec.dnskeys.sort();
            }
        }
        "sig-expires-now" | "sig-wrong-labels" | "sig-wrong-signer" | "sig-short-life"
        | "sig-unknown-tag" => {
            let expire = z.zone.soa.expire;
            let soa = z.zone.soa.to_rdata();
            let origin = &z.zone.origin;
            let wrong_signer = Name::parse("wrong-signer.invalid.").expect("a valid name");
            if let Some(sigs) = sec.apex_sigs.get_mut(&crate::rr::rtype::SOA) {
                for sig in sigs.iter_mut() {
                    let Some(mut f) = crate::dnssec::rrsig::RrsigFields::parse(sig).ok() else {
                        continue;
                    };
                    let mut signer = origin;
                    let key = keys
                        .iter()
                        .find(|k| k.key_tag == f.key_tag && k.algorithm == f.algorithm);
                    match fault {
                        "sig-expires-now" => f.expiration = now,
                        "sig-wrong-labels" => f.labels += 1,
                        "sig-short-life" => f.expiration = now.wrapping_add(expire - 1),
                        "sig-unknown-tag" => f.key_tag = f.key_tag.wrapping_add(1),
                        _ => signer = &wrong_signer,
                    }
                    let (mut rdata, data) =
                        crate::dnssec::rrsig::signature_data(&f, signer, origin, &[&soa]);
                    if let Some(k) = key
                        && let Ok(s) = k.sign(&data)
                    {
                        rdata.extend_from_slice(&s);
                        *sig = rdata;
                    }
                }
            }
        }
        _ => {}
    }
    tracing::warn!(fault, "TLDNS_FAULT: injected a fault for testing");
    z
}

/// DNSKEY RDATA other than `rdata` with the same key tag: RFC 4034
/// Appendix B sums the RDATA as 16-bit words, so one less in one odd octet
/// of the public key and one more in another keeps the tag.
#[cfg(feature = "fault-injection")]
fn tag_twin(rdata: &[u8]) -> Vec<u8> {
    let mut twin = rdata.to_vec();
    if let Some(i) = (5..twin.len())
        .step_by(2)
        .find(|&i| twin[i] > 0 && twin[i] < 255)
        && let Some(j) = (i + 2..twin.len()).step_by(2).find(|&j| twin[j] < 255)
    {
        twin[i] -= 1;
        twin[j] += 1;
    }
    twin
}

/// Without the feature: the version as it is.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(super) fn inject(
    z: SignedZone,
    _changed: &[Name],
    _keys: &[SigningKey],
    _now: u32,
) -> SignedZone {
    z
}
