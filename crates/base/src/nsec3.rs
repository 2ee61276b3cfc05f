//! The NSEC3 hash (RFC 5155 §5), once: the signer, the query path, the
//! verifier, the probe and `tldns nsec3-hash` all call this one.

use crate::name::Name;
use ring::digest;

/// RFC 5155 §5: IH(salt, x, 0) = H(x || salt); IH(salt, x, k) =
/// H(IH(salt, x, k-1) || salt); the hash is over the owner name in
/// canonical (lower-case wire) form, which [`Name`] always holds.
pub fn nsec3_hash(name: &Name, salt: &[u8], iterations: u16) -> [u8; 20] {
    nsec3_hash_wire(name.wire(), salt, iterations)
}

/// [`nsec3_hash`] of a lower-case wire-format name, without allocating: the
/// query path hashes one next-closer name per NXDOMAIN with it.
#[inline]
pub fn nsec3_hash_wire(wire: &[u8], salt: &[u8], iterations: u16) -> [u8; 20] {
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(wire);
    ctx.update(salt);
    let mut h = [0u8; 20];
    h.copy_from_slice(ctx.finish().as_ref());
    for _ in 0..iterations {
        let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
        ctx.update(&h);
        ctx.update(salt);
        h.copy_from_slice(ctx.finish().as_ref());
    }
    h
}

/// Base32hex without padding, lower case (RFC 4648 §7, RFC 5155 §3.3): the
/// form of a hash in an NSEC3 owner name.
pub fn base32hex_lower(b: &[u8]) -> String {
    data_encoding::BASE32HEX_NOPAD
        .encode(b)
        .to_ascii_lowercase()
}

/// The owner name of the NSEC3 record for `hash` in the zone `origin`.
pub fn nsec3_owner(hash: &[u8; 20], origin: &Name) -> Name {
    origin
        .prepend(base32hex_lower(hash).as_bytes())
        // 32 octets of label below a name that fits: the zone's origin is
        // at most 255 - 33 octets long (checked when the config is read).
        .unwrap_or_else(|_| origin.clone())
}

/// The hash an NSEC3 owner name carries, the inverse of [`nsec3_owner`]:
/// `None` unless `owner` is one base32hex label of a SHA-1 hash (in either
/// case) directly below `origin`.
pub fn nsec3_owner_hash(owner: &Name, origin: &Name) -> Option<[u8; 20]> {
    if owner.parent().as_ref() != Some(origin) {
        return None;
    }
    let label = owner.first_label()?.to_ascii_uppercase();
    let raw = data_encoding::BASE32HEX_NOPAD.decode(&label).ok()?;
    raw.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
    #[test]
    fn rfc5155_appendix_a_hashes() {
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        for (name, want) in [
            ("example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
            ("a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"),
            ("ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"),
            ("ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"),
            ("x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s"),
        ] {
            let h = nsec3_hash(&Name::parse(name).unwrap(), &salt, 12);
            assert_eq!(base32hex_lower(&h), want, "{name}");
            let origin = Name::parse("example.").unwrap();
            let owner = nsec3_owner(&h, &origin);
            assert_eq!(nsec3_owner_hash(&owner, &origin), Some(h));
        }
        let origin = Name::parse("example.").unwrap();
        for not in [
            "example.",
            "a.b.example.",
            "zz.example.",
            "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.other.",
        ] {
            assert_eq!(
                nsec3_owner_hash(&Name::parse(not).unwrap(), &origin),
                None,
                "{not}"
            );
        }
    }
}
