//! RRSIG records (RFC 4034 §3): the data that is signed (§3.1.8.1, §6),
//! making the signature with a [`SigningKey`], and checking one.
//!
//! Owns the canonical RRset form for signing. Knows nothing of zones: the
//! signer decides what to sign, this module only how.

use super::keys::SigningKey;
use crate::name::Name;
use crate::rdata::RRSIG_FIXED_LEN;
use crate::rr::{Dnskey, Rrsig, alg, class};
use ring::signature;

pub use crate::rr::RrsigFields;

/// RFC 4034 §3.1.3: labels of the owner, not counting the root label nor a
/// leading wildcard label.
pub fn label_count(owner: &Name) -> u8 {
    let n = owner.label_count();
    let wild = owner.first_label() == Some(b"*");
    (n - usize::from(wild)) as u8
}

/// RFC 4034 §3.1.8.1: signature = sign(RRSIG_RDATA | RR(1) | RR(2)...), with
/// RRSIG_RDATA lacking the signature, each RR as owner | type | class | TTL |
/// RDLENGTH | RDATA in canonical form (§6.2: lower-case names, original TTL),
/// and the RRs in canonical order (§6.3: by RDATA as octet strings, without
/// duplicates). Returns the RRSIG RDATA without the signature, and the data
/// to sign.
pub fn signature_data(
    fields: &RrsigFields,
    signer: &Name,
    owner: &Name,
    rdatas: &[&[u8]],
) -> (Vec<u8>, Vec<u8>) {
    let mut sorted: Vec<&[u8]> = rdatas.to_vec();
    if sorted.len() > 1 {
        sorted.sort_unstable();
        sorted.dedup();
    }
    let mut head = Vec::with_capacity(RRSIG_FIXED_LEN + signer.wire_len() + 96);
    fields.write(&mut head);
    head.extend_from_slice(signer.wire());
    let rr_len: usize = sorted.iter().map(|r| owner.wire_len() + 10 + r.len()).sum();
    let mut data = Vec::with_capacity(head.len() + rr_len);
    data.extend_from_slice(&head);
    // The owner is a Name, so already lower case; a wildcard-expanded owner
    // would need rewriting (§3.1.8.1), but nothing in a TLD zone is one.
    for r in sorted {
        data.extend_from_slice(owner.wire());
        data.extend_from_slice(&fields.type_covered.to_be_bytes());
        data.extend_from_slice(&class::IN.to_be_bytes());
        data.extend_from_slice(&fields.original_ttl.to_be_bytes());
        data.extend_from_slice(&(r.len() as u16).to_be_bytes());
        data.extend_from_slice(r);
    }
    (head, data)
}

/// Sign an RRset with `key`; returns the RRSIG RDATA (signer = the key's owner).
#[allow(clippy::too_many_arguments)]
pub fn sign_rrset(
    key: &SigningKey,
    owner: &Name,
    rtype: u16,
    ttl: u32,
    rdatas: &[&[u8]],
    inception: u32,
    expiration: u32,
) -> Result<Vec<u8>, ring::error::Unspecified> {
    let fields = RrsigFields {
        type_covered: rtype,
        algorithm: key.algorithm,
        labels: label_count(owner),
        original_ttl: ttl,
        expiration,
        inception,
        key_tag: key.key_tag,
    };
    let (mut rdata, data) = signature_data(&fields, &key.owner, owner, rdatas);
    let sig = key.sign(&data)?;
    rdata.extend_from_slice(&sig);
    Ok(rdata)
}

/// Check an RRSIG over an RRset against one DNSKEY (RDATA). Checks the
/// cryptography, the key tag and algorithm, and the labels field; not the
/// validity period (the caller knows what "now" is).
pub fn verify_rrsig(dnskey: &[u8], owner: &Name, ttl: u32, rdatas: &[&[u8]], rrsig: &[u8]) -> bool {
    let (Ok(s), Ok(k)) = (Rrsig::from_rdata(rrsig), Dnskey::from_rdata(dnskey)) else {
        return false;
    };
    let f = &s.fields;
    if k.algorithm != f.algorithm || super::keys::key_tag(dnskey) != f.key_tag {
        return false;
    }
    if f.labels != label_count(owner) || f.original_ttl != ttl {
        return false;
    }
    let (_, data) = signature_data(f, &s.signer, owner, rdatas);
    let sig = s.signature.as_slice();
    let pk = k.public_key.as_slice();
    match f.algorithm {
        alg::ECDSAP256SHA256 => {
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(pk);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(&data, sig)
                .is_ok()
        }
        alg::ED25519 => signature::UnparsedPublicKey::new(&signature::ED25519, pk)
            .verify(&data, sig)
            .is_ok(),
        alg::RSASHA256 => {
            // RFC 3110 §2: exponent length (1 or 3 octets), exponent, modulus.
            let (elen, off) = match pk.first() {
                Some(0) if pk.len() > 3 => (u16::from_be_bytes([pk[1], pk[2]]) as usize, 3),
                Some(&n) => (n as usize, 1),
                None => return false,
            };
            let Some(e) = pk.get(off..off + elen) else {
                return false;
            };
            let n = &pk[off + elen..];
            signature::RsaPublicKeyComponents { n, e }
                .verify(
                    &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                    &data,
                    sig,
                )
                .is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DnssecConfig, KeyScheme};
    use crate::rr::rtype;

    #[test]
    fn rfc4034_section_3_1_3_labels() {
        assert_eq!(label_count(&Name::parse("www.example.com.").unwrap()), 3);
        assert_eq!(label_count(&Name::parse("*.example.com.").unwrap()), 2);
        assert_eq!(label_count(&Name::root()), 0);
    }

    /// RFC 4034 §6.3: RRs sort by RDATA; duplicates are dropped.
    #[test]
    fn rfc4034_section_6_3_canonical_rrset() {
        let f = RrsigFields {
            type_covered: rtype::A,
            algorithm: 13,
            labels: 2,
            original_ttl: 60,
            expiration: 2,
            inception: 1,
            key_tag: 7,
        };
        let o = Name::parse("a.mobile.").unwrap();
        let (_, one) = signature_data(&f, &o, &o, &[&[2, 0, 0, 0], &[1, 0, 0, 0], &[2, 0, 0, 0]]);
        let (_, two) = signature_data(&f, &o, &o, &[&[1, 0, 0, 0], &[2, 0, 0, 0]]);
        assert_eq!(one, two);
        let first_rr = RRSIG_FIXED_LEN + o.wire_len();
        assert_eq!(one[first_rr + o.wire_len() + 10], 1);
    }

    #[test]
    fn sign_and_verify_each_algorithm() {
        let origin = Name::parse("mobile.").unwrap();
        let mut algs = vec![13u8, 15];
        if std::process::Command::new("dnssec-keygen")
            .arg("-h")
            .output()
            .is_ok()
        {
            algs.push(8);
        }
        for a in algs {
            let cfg = DnssecConfig {
                algorithm: a,
                rsa_bits: 2048,
                scheme: KeyScheme::Csk,
                ..Default::default()
            };
            let k =
                super::super::keys::SigningKey::generate(&origin, 257, a, cfg.rsa_bits, 0).unwrap();
            let rrs: [&[u8]; 2] = [b"\x01a\x00", b"\x01b\x00"];
            let sig = sign_rrset(&k, &origin, rtype::NS, 3600, &rrs, 10, 20).unwrap();
            let dk = k.dnskey_rdata();
            assert!(verify_rrsig(&dk, &origin, 3600, &rrs, &sig), "alg {a}");
            assert!(
                !verify_rrsig(&dk, &origin, 3600, &rrs[..1], &sig),
                "alg {a}"
            );
            assert!(!verify_rrsig(&dk, &origin, 7200, &rrs, &sig), "alg {a}");
            let f = RrsigFields::parse(&sig).unwrap();
            assert_eq!(
                (f.inception, f.expiration, f.key_tag, f.labels),
                (10, 20, k.key_tag, 1)
            );
        }
    }
}
