//! The DNSKEY key tag (RFC 4034 Appendix B) and the DS digest (RFC 4034
//! §5.1.4), once each: the signer, the verifier and the `keys` command use
//! these.

/// Key tag of DNSKEY RDATA (RFC 4034 Appendix B; B.1 for algorithm 1).
pub fn key_tag(rdata: &[u8]) -> u16 {
    if rdata.get(3) == Some(&1) {
        // RFC 4034 App. B.1: the most significant 16 of the least significant
        // 24 bits of the modulus.
        let n = rdata.len();
        if n < 7 {
            return 0;
        }
        return u16::from_be_bytes([rdata[n - 3], rdata[n - 2]]);
    }
    let mut ac: u32 = 0;
    for (i, &b) in rdata.iter().enumerate() {
        ac += if i & 1 == 1 {
            b as u32
        } else {
            (b as u32) << 8
        };
    }
    ac += (ac >> 16) & 0xffff;
    (ac & 0xffff) as u16
}

/// The DS digest of DNSKEY RDATA `dnskey` owned by the name whose wire form
/// is `owner_wire` (RFC 4034 §5.1.4: digest over owner | RDATA); `None` for
/// a digest type other than SHA-256 (2, RFC 4509) and SHA-384 (4, RFC 6605).
pub fn ds_digest(owner_wire: &[u8], dnskey: &[u8], digest_type: u8) -> Option<Vec<u8>> {
    let alg = match digest_type {
        2 => &ring::digest::SHA256,
        4 => &ring::digest::SHA384,
        _ => return None,
    };
    let mut ctx = ring::digest::Context::new(alg);
    ctx.update(owner_wire);
    ctx.update(dnskey);
    Some(ctx.finish().as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_encoding::BASE64;

    /// RFC 4034 §5.4's DNSKEY (dskey.example.com.), key tag 60485.
    #[test]
    fn rfc4034_section_5_4_key_tag() {
        let key = BASE64
            .decode(
                b"AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
            )
            .unwrap();
        let mut rdata = vec![0x01, 0x00, 3, 5];
        rdata.extend_from_slice(&key);
        assert_eq!(key_tag(&rdata), 60485);
    }
}
