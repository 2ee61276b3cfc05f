//! Resource records: type codes, typed RDATA for the types a TLD zone holds,
//! and their wire and presentation forms (RFC 1035 §3.3, RFC 4034, RFC 5155,
//! RFC 3597 for everything else).
//!
//! Owns RDATA encoding. Names inside RDATA are written uncompressed and in
//! lower case, which is also the canonical form for signing (RFC 4034 §6.2).

pub use crate::iana::{Class, DigestAlg, Rtype, SecAlg, type_from_str, type_name};
use crate::name::Name;
pub use crate::nsec3::base32hex_lower;
pub use crate::rdata::{bitmap_from_types, bitmap_is_valid, bitmap_to_text, read_name};
pub use crate::time::{civil_from_days, rrsig_time};
use data_encoding::HEXLOWER_PERMISSIVE;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Type codes as `u16`, the form the whole tree uses; each one is the
/// [`Rtype`] of the one IANA table in [`crate::iana`].
pub mod rtype {
    use crate::iana::Rtype;
    /// IPv4 host address (RFC 1035 §3.4.1).
    pub const A: u16 = Rtype::A.to_int();
    /// Authoritative name server (RFC 1035 §3.3.11).
    pub const NS: u16 = Rtype::NS.to_int();
    /// Canonical name for an alias (RFC 1035 §3.3.1).
    pub const CNAME: u16 = Rtype::CNAME.to_int();
    /// Start of a zone of authority (RFC 1035 §3.3.13).
    pub const SOA: u16 = Rtype::SOA.to_int();
    /// Domain name pointer (RFC 1035 §3.3.12).
    pub const PTR: u16 = Rtype::PTR.to_int();
    /// Host information (RFC 1035 §3.3.2).
    pub const HINFO: u16 = Rtype::HINFO.to_int();
    /// Mail exchange (RFC 1035 §3.3.9).
    pub const MX: u16 = Rtype::MX.to_int();
    /// Text strings (RFC 1035 §3.3.14).
    pub const TXT: u16 = Rtype::TXT.to_int();
    /// IPv6 host address (RFC 3596 §2.1).
    pub const AAAA: u16 = Rtype::AAAA.to_int();
    /// Service location (RFC 2782).
    pub const SRV: u16 = Rtype::SRV.to_int();
    /// EDNS(0) pseudo-record (RFC 6891 §6.1).
    pub const OPT: u16 = Rtype::OPT.to_int();
    /// Delegation signer (RFC 4034 §5).
    pub const DS: u16 = Rtype::DS.to_int();
    /// RRset signature (RFC 4034 §3).
    pub const RRSIG: u16 = Rtype::RRSIG.to_int();
    /// Next secure record (RFC 4034 §4).
    pub const NSEC: u16 = Rtype::NSEC.to_int();
    /// DNSSEC public key (RFC 4034 §2).
    pub const DNSKEY: u16 = Rtype::DNSKEY.to_int();
    /// Hashed next secure record (RFC 5155 §3).
    pub const NSEC3: u16 = Rtype::NSEC3.to_int();
    /// NSEC3 parameters of the zone, at the apex (RFC 5155 §4).
    pub const NSEC3PARAM: u16 = Rtype::NSEC3PARAM.to_int();
    /// Child copy of DS for the parent (RFC 7344 §3.1).
    pub const CDS: u16 = Rtype::CDS.to_int();
    /// Child copy of DNSKEY for the parent (RFC 7344 §3.2).
    pub const CDNSKEY: u16 = Rtype::CDNSKEY.to_int();
    /// Transaction signature meta-record (RFC 8945 §4).
    pub const TSIG: u16 = Rtype::TSIG.to_int();
    /// Incremental zone transfer, question only (RFC 1995).
    pub const IXFR: u16 = Rtype::IXFR.to_int();
    /// Full zone transfer, question only (RFC 5936).
    pub const AXFR: u16 = Rtype::AXFR.to_int();
    /// Any type, question only (RFC 1035 §3.2.3, RFC 8482).
    pub const ANY: u16 = Rtype::ANY.to_int();
}

/// Default TTLs of a TLD zone's records (the configuration's defaults, and
/// what a zone read from records assumes for an RRset it does not hold).
pub mod default_ttl {
    /// Apex SOA RRset, in seconds (1 hour).
    pub const SOA: u32 = 3600;
    /// Apex and delegation NS RRsets, in seconds (2 days).
    pub const NS: u32 = 172_800;
    /// DS RRsets at delegations, in seconds (1 day).
    pub const DS: u32 = 86_400;
    /// Glue A and AAAA records below delegations, in seconds (2 days).
    pub const GLUE: u32 = 172_800;
    /// Apex DNSKEY RRset, in seconds (1 hour).
    pub const DNSKEY: u32 = 3600;
}

/// Class codes as `u16`, from [`Class`].
pub mod class {
    use crate::iana::Class;
    /// Internet (RFC 1035 §3.2.4), the only class a zone holds.
    pub const IN: u16 = Class::IN.to_int();
    /// Chaos (RFC 1035 §3.2.4).
    pub const CH: u16 = Class::CH.to_int();
    /// None: "delete an RR from an RRset" in UPDATE (RFC 2136 §2.4).
    pub const NONE: u16 = Class::NONE.to_int();
    /// Any class, in questions only (RFC 1035 §3.2.5).
    pub const ANY: u16 = Class::ANY.to_int();
}

/// DNSSEC algorithm numbers tldns signs with (those of the RFC 8624 §3.1
/// recommended set that it implements; not Ed448), as `u8`, from [`SecAlg`].
pub mod alg {
    use crate::iana::SecAlg;
    /// RSA/SHA-256 (RFC 5702).
    pub const RSASHA256: u8 = SecAlg::RSASHA256.to_int();
    /// ECDSA P-256 with SHA-256 (RFC 6605).
    pub const ECDSAP256SHA256: u8 = SecAlg::ECDSAP256SHA256.to_int();
    /// ECDSA P-384 with SHA-384 (RFC 6605).
    pub const ECDSAP384SHA384: u8 = SecAlg::ECDSAP384SHA384.to_int();
    /// Ed25519 (RFC 8080).
    pub const ED25519: u8 = SecAlg::ED25519.to_int();
}

/// The digest length in octets of a DS digest type (SHA-1 20, SHA-256 32,
/// SHA-384 48; RFC 4034, 4509, 6605), or `None` for a type without one;
/// [`DigestAlg::digest_len`] on the wire integer.
pub fn ds_digest_len(digest_type: u8) -> Option<usize> {
    DigestAlg::new(digest_type).digest_len()
}

pub use crate::rdata::{Dnskey, Ds, Nsec, Nsec3, Nsec3param, Rrsig, RrsigFields, Soa};

/// A record in uncompressed wire form: the unit the zone model, the
/// verifier, transfers and the CZDS export exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name.
    pub owner: Name,
    /// TTL in seconds.
    pub ttl: u32,
    /// Type code, one of [`rtype`] or any other `u16`; the class is always IN.
    pub rtype: u16,
    /// RDATA in uncompressed wire form (RFC 3597 §4).
    pub rdata: Vec<u8>,
}

impl Record {
    /// A record from its parts, as given (the RDATA is not checked).
    pub fn new(owner: Name, ttl: u32, rtype: u16, rdata: Vec<u8>) -> Record {
        Record {
            owner,
            ttl,
            rtype,
            rdata,
        }
    }

    /// One line of presentation format, fields separated by `sep`.
    pub fn to_text(&self, sep: char) -> String {
        format!(
            "{}{sep}{}{sep}IN{sep}{}{sep}{}",
            self.owner,
            self.ttl,
            type_name(self.rtype),
            rdata_to_text(self.rtype, &self.rdata)
        )
    }
}

/// Presentation form of RDATA; RFC 3597 `\# len hex` where the type is not
/// known or the RDATA does not parse.
pub fn rdata_to_text(t: u16, r: &[u8]) -> String {
    known_rdata_to_text(t, r).unwrap_or_else(|| unknown_rdata_text(r))
}

fn unknown_rdata_text(r: &[u8]) -> String {
    if r.is_empty() {
        "\\# 0".to_string()
    } else {
        format!("\\# {} {}", r.len(), HEXLOWER_PERMISSIVE.encode(r))
    }
}

fn known_rdata_to_text(t: u16, r: &[u8]) -> Option<String> {
    let s = match t {
        rtype::A => {
            let o: [u8; 4] = r.try_into().ok()?;
            Ipv4Addr::from(o).to_string()
        }
        rtype::AAAA => {
            let o: [u8; 16] = r.try_into().ok()?;
            Ipv6Addr::from(o).to_string()
        }
        rtype::NS | rtype::CNAME | rtype::PTR => {
            let (n, end) = read_name(r, 0)?;
            if end != r.len() {
                return None;
            }
            n.to_string()
        }
        rtype::SOA => Soa::from_rdata(r).ok()?.to_string(),
        rtype::DS | rtype::CDS => Ds::from_rdata(r).ok()?.to_string(),
        rtype::DNSKEY | rtype::CDNSKEY => Dnskey::from_rdata(r).ok()?.to_string(),
        rtype::RRSIG => Rrsig::from_rdata(r).ok()?.to_string(),
        rtype::NSEC => Nsec::from_rdata(r).ok()?.to_string(),
        rtype::NSEC3 => Nsec3::from_rdata(r).ok()?.to_string(),
        rtype::NSEC3PARAM => Nsec3param::from_rdata(r).ok()?.to_string(),
        _ => return None,
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_rfc3597() {
        assert_eq!(type_name(rtype::NSEC3PARAM), "NSEC3PARAM");
        assert_eq!(type_name(65534), "TYPE65534");
        assert_eq!(type_from_str("type65534"), Some(65534));
        assert_eq!(type_from_str("aaaa"), Some(rtype::AAAA));
    }

    #[test]
    fn bitmap_round_trip() {
        let bm = bitmap_from_types(&[
            rtype::NS,
            rtype::SOA,
            rtype::RRSIG,
            rtype::DNSKEY,
            rtype::NSEC3PARAM,
        ]);
        assert_eq!(
            bitmap_to_text(&bm).unwrap(),
            "NS SOA RRSIG DNSKEY NSEC3PARAM"
        );
        // RFC 4034 §4.3 example: A MX RRSIG NSEC TYPE1234
        let bm = bitmap_from_types(&[1, 15, 46, 47, 1234]);
        let mut want = vec![0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b];
        want.extend_from_slice(&[0u8; 26]);
        want.push(0x20);
        assert_eq!(bm, want);
        assert!(bitmap_is_valid(&bm) && bitmap_is_valid(&[]));
        assert_eq!(bitmap_to_text(&[]).unwrap(), "");
    }

    #[test]
    fn rfc4034_section_4_1_2_malformed_bitmaps_are_refused() {
        for bad in [
            &[0x00][..],                           // a window without a length
            &[0x00, 0x00],                         // an empty window
            &[0x00, 0x02, 0x40],                   // shorter than its length
            &[0x01, 0x01, 0x40, 0x00, 0x01, 0x40], // windows out of order
            &[0x00, 0x01, 0x40, 0x00, 0x01, 0x40], // a window twice
        ] {
            assert!(!bitmap_is_valid(bad), "{bad:?}");
            assert_eq!(bitmap_to_text(bad), None, "{bad:?}");
        }
        // A last window longer than 32 octets with bits set past the 32nd:
        // refused, where the type number would not fit 16 bits.
        let mut long = vec![0xff, 34];
        long.extend_from_slice(&[0xff; 34]);
        assert!(!bitmap_is_valid(&long));
        assert_eq!(bitmap_to_text(&long), None);
        let mut full = vec![0xff, 32];
        full.extend_from_slice(&[0xff; 32]);
        assert!(bitmap_is_valid(&full));
        assert!(bitmap_to_text(&full).unwrap().ends_with("TYPE65535"));
    }

    #[test]
    fn soa_text() {
        let soa = Soa {
            mname: Name::parse("a.nic.mobile.").unwrap(),
            rname: Name::parse("hostmaster.nic.mobile.").unwrap(),
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5,
        };
        assert_eq!(
            rdata_to_text(rtype::SOA, &soa.to_rdata()),
            "a.nic.mobile. hostmaster.nic.mobile. 1 2 3 4 5"
        );
    }
}
