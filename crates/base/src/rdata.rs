//! Typed RDATA for the types a TLD zone holds and DNSSEC needs: one type per
//! record type, each with its wire form both ways (`from_rdata`,
//! `to_rdata`) and its presentation form (`Display`, RFC 1035 §5.1,
//! RFC 4034 §§2.2, 3.2, 5.3, RFC 5155 §§3.3, 4.3).
//!
//! Every field read by offset lives here, once: the signer, the verifier,
//! the probe and the transfer code read RRSIG, DNSKEY, NSEC3, NSEC3PARAM,
//! SOA and DS through these types. Names in RDATA are uncompressed (the
//! message reader has already decompressed what RFC 3597 §4 allows).

use crate::keytag::key_tag;
use crate::name::Name;
use crate::nsec3::base32hex_lower;
use crate::rr::{bitmap_to_text, type_name};
use crate::time::rrsig_time;
use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};
use std::fmt;

/// RDATA that does not have the form its type requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RdataError {
    /// The RDATA ends before a field.
    #[error("RDATA ends inside the {0} field")]
    Short(&'static str),
    /// Octets follow the last field.
    #[error("{0} octets after the last field")]
    Trailing(usize),
    /// A name field is not a valid uncompressed name.
    #[error("bad name in the {0} field")]
    BadName(&'static str),
    /// The type bitmap is not well formed (RFC 4034 §4.1.2).
    #[error("bad type bitmap")]
    BadBitmap,
}

/// A cursor over RDATA that names the field it fails in.
struct Reader<'a> {
    r: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(r: &'a [u8]) -> Self {
        Reader { r, pos: 0 }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], RdataError> {
        let s = self
            .r
            .get(self.pos..self.pos + n)
            .ok_or(RdataError::Short(field))?;
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, RdataError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, RdataError> {
        let s = self.take(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, RdataError> {
        let s = self.take(4, field)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn name(&mut self, field: &'static str) -> Result<Name, RdataError> {
        let (n, end) =
            crate::rr::read_name(self.r, self.pos).ok_or(if self.pos >= self.r.len() {
                RdataError::Short(field)
            } else {
                RdataError::BadName(field)
            })?;
        self.pos = end;
        Ok(n)
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = &self.r[self.pos..];
        self.pos = self.r.len();
        s
    }

    fn end(&self) -> Result<(), RdataError> {
        match self.r.len() - self.pos {
            0 => Ok(()),
            n => Err(RdataError::Trailing(n)),
        }
    }
}

/// SOA RDATA (RFC 1035 §3.3.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// The primary nameserver.
    pub mname: Name,
    /// The responsible mailbox.
    pub rname: Name,
    /// The zone's serial (RFC 1982 arithmetic, see [`crate::serial`]).
    pub serial: u32,
    /// Secondaries' refresh interval, seconds.
    pub refresh: u32,
    /// Secondaries' retry interval, seconds.
    pub retry: u32,
    /// When secondaries stop answering without a refresh, seconds.
    pub expire: u32,
    /// The negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

impl Soa {
    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.mname.wire_len() + self.rname.wire_len() + 20);
        v.extend_from_slice(self.mname.wire());
        v.extend_from_slice(self.rname.wire());
        for x in [
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum,
        ] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    /// Read from wire form.
    pub fn from_rdata(r: &[u8]) -> Result<Soa, RdataError> {
        let mut rd = Reader::new(r);
        let soa = Soa {
            mname: rd.name("MNAME")?,
            rname: rd.name("RNAME")?,
            serial: rd.u32("SERIAL")?,
            refresh: rd.u32("REFRESH")?,
            retry: rd.u32("RETRY")?,
            expire: rd.u32("EXPIRE")?,
            minimum: rd.u32("MINIMUM")?,
        };
        rd.end()?;
        Ok(soa)
    }

    /// The serial of SOA RDATA, without reading the names into [`Name`]s.
    pub fn serial_of(r: &[u8]) -> Result<u32, RdataError> {
        let mut rd = Reader::new(r);
        for field in ["MNAME", "RNAME"] {
            let (_, end) = crate::rr::read_name(r, rd.pos).ok_or(RdataError::BadName(field))?;
            rd.pos = end;
        }
        rd.u32("SERIAL")
    }
}

impl fmt::Display for Soa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} {}",
            self.mname,
            self.rname,
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum
        )
    }
}

/// DS (and CDS) RDATA (RFC 4034 §5.1, RFC 7344 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ds {
    /// Key tag of the DNSKEY it refers to.
    pub key_tag: u16,
    /// That key's algorithm.
    pub algorithm: u8,
    /// Digest type (RFC 4034 §5.1.3, [`crate::iana::DigestAlg`]).
    pub digest_type: u8,
    /// The digest.
    pub digest: Vec<u8>,
}

impl Ds {
    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + self.digest.len());
        v.extend_from_slice(&self.key_tag.to_be_bytes());
        v.push(self.algorithm);
        v.push(self.digest_type);
        v.extend_from_slice(&self.digest);
        v
    }

    /// Read from wire form; the digest may not be empty.
    pub fn from_rdata(r: &[u8]) -> Result<Ds, RdataError> {
        let mut rd = Reader::new(r);
        let key_tag = rd.u16("key tag")?;
        let algorithm = rd.u8("algorithm")?;
        let digest_type = rd.u8("digest type")?;
        let digest = rd.rest();
        if digest.is_empty() {
            return Err(RdataError::Short("digest"));
        }
        Ok(Ds {
            key_tag,
            algorithm,
            digest_type,
            digest: digest.to_vec(),
        })
    }
}

impl fmt::Display for Ds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.key_tag,
            self.algorithm,
            self.digest_type,
            HEXLOWER_PERMISSIVE.encode(&self.digest)
        )
    }
}

/// DNSKEY (and CDNSKEY) RDATA (RFC 4034 §2.1, RFC 7344 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnskey {
    /// Flags: [`Dnskey::ZONE`], [`Dnskey::SEP`], [`Dnskey::REVOKE`].
    pub flags: u16,
    /// Always 3 in a valid key (RFC 4034 §2.1.2).
    pub protocol: u8,
    /// The key's algorithm ([`crate::iana::SecAlg`]).
    pub algorithm: u8,
    /// The public key in the algorithm's wire format.
    pub public_key: Vec<u8>,
}

impl Dnskey {
    /// The Zone Key flag (RFC 4034 §2.1.1).
    pub const ZONE: u16 = 0x0100;
    /// The Secure Entry Point flag (RFC 4034 §2.1.1, RFC 3757).
    pub const SEP: u16 = 0x0001;
    /// The REVOKE flag (RFC 5011 §7).
    pub const REVOKE: u16 = 0x0080;

    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + self.public_key.len());
        v.extend_from_slice(&self.flags.to_be_bytes());
        v.push(self.protocol);
        v.push(self.algorithm);
        v.extend_from_slice(&self.public_key);
        v
    }

    /// Read from wire form; the key may not be empty.
    pub fn from_rdata(r: &[u8]) -> Result<Dnskey, RdataError> {
        let mut rd = Reader::new(r);
        let flags = rd.u16("flags")?;
        let protocol = rd.u8("protocol")?;
        let algorithm = rd.u8("algorithm")?;
        let public_key = rd.rest();
        if public_key.is_empty() {
            return Err(RdataError::Short("public key"));
        }
        Ok(Dnskey {
            flags,
            protocol,
            algorithm,
            public_key: public_key.to_vec(),
        })
    }

    /// Whether the Zone Key flag is set.
    pub fn is_zone_key(&self) -> bool {
        self.flags & Self::ZONE != 0
    }

    /// Whether the SEP flag is set (a KSK by convention).
    pub fn is_sep(&self) -> bool {
        self.flags & Self::SEP != 0
    }

    /// Whether the REVOKE flag is set.
    pub fn is_revoked(&self) -> bool {
        self.flags & Self::REVOKE != 0
    }

    /// The key tag (RFC 4034 Appendix B).
    pub fn key_tag(&self) -> u16 {
        key_tag(&self.to_rdata())
    }
}

impl fmt::Display for Dnskey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.flags,
            self.protocol,
            self.algorithm,
            BASE64.encode(&self.public_key)
        )
    }
}

/// Length of the fixed part of RRSIG RDATA, before the signer's name.
pub const RRSIG_FIXED_LEN: usize = 18;

/// The fixed fields of an RRSIG (RFC 4034 §3.1), without signer and
/// signature: what the signer writes first and what most checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrsigFields {
    /// The type of the RRset it signs.
    pub type_covered: u16,
    /// The signing key's algorithm.
    pub algorithm: u8,
    /// Labels of the owner, without root and leading wildcard (§3.1.3).
    pub labels: u8,
    /// The RRset's TTL as signed (§3.1.4).
    pub original_ttl: u32,
    /// End of validity, RFC 1982 seconds (§3.1.5).
    pub expiration: u32,
    /// Start of validity, RFC 1982 seconds (§3.1.5).
    pub inception: u32,
    /// Key tag of the signing key.
    pub key_tag: u16,
}

impl RrsigFields {
    /// Read the fixed fields from RRSIG RDATA (the rest is not checked).
    pub fn parse(rdata: &[u8]) -> Result<RrsigFields, RdataError> {
        let mut rd = Reader::new(rdata);
        Ok(RrsigFields {
            type_covered: rd.u16("type covered")?,
            algorithm: rd.u8("algorithm")?,
            labels: rd.u8("labels")?,
            original_ttl: rd.u32("original TTL")?,
            expiration: rd.u32("signature expiration")?,
            inception: rd.u32("signature inception")?,
            key_tag: rd.u16("key tag")?,
        })
    }

    /// Append the wire form of the fixed fields.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.type_covered.to_be_bytes());
        out.push(self.algorithm);
        out.push(self.labels);
        out.extend_from_slice(&self.original_ttl.to_be_bytes());
        out.extend_from_slice(&self.expiration.to_be_bytes());
        out.extend_from_slice(&self.inception.to_be_bytes());
        out.extend_from_slice(&self.key_tag.to_be_bytes());
    }

    /// The type an RRSIG covers, from its RDATA, without reading the rest.
    pub fn covered(rdata: &[u8]) -> Option<u16> {
        rdata.get(..2).map(|s| u16::from_be_bytes([s[0], s[1]]))
    }
}

/// RRSIG RDATA (RFC 4034 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rrsig {
    /// The fixed fields.
    pub fields: RrsigFields,
    /// The signer's name (the zone apex), uncompressed (RFC 4034 §3.1.7).
    pub signer: Name,
    /// The signature.
    pub signature: Vec<u8>,
}

impl Rrsig {
    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v =
            Vec::with_capacity(RRSIG_FIXED_LEN + self.signer.wire_len() + self.signature.len());
        self.fields.write(&mut v);
        v.extend_from_slice(self.signer.wire());
        v.extend_from_slice(&self.signature);
        v
    }

    /// Read from wire form; the signature may not be empty. The signer's
    /// name is lower-cased ([`Name`] is), which is its canonical form
    /// (RFC 4034 §6.2).
    pub fn from_rdata(r: &[u8]) -> Result<Rrsig, RdataError> {
        let fields = RrsigFields::parse(r)?;
        let mut rd = Reader::new(r);
        rd.pos = RRSIG_FIXED_LEN;
        let signer = rd.name("signer's name")?;
        let signature = rd.rest();
        if signature.is_empty() {
            return Err(RdataError::Short("signature"));
        }
        Ok(Rrsig {
            fields,
            signer,
            signature: signature.to_vec(),
        })
    }

    /// The RDATA without the signature, signer in canonical form: the first
    /// part of the signed data (RFC 4034 §3.1.8.1).
    pub fn signed_prefix(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(RRSIG_FIXED_LEN + self.signer.wire_len());
        self.fields.write(&mut v);
        v.extend_from_slice(self.signer.wire());
        v
    }
}

impl fmt::Display for Rrsig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = &self.fields;
        write!(
            f,
            "{} {} {} {} {} {} {} {} {}",
            type_name(x.type_covered),
            x.algorithm,
            x.labels,
            x.original_ttl,
            rrsig_time(x.expiration),
            rrsig_time(x.inception),
            x.key_tag,
            self.signer,
            BASE64.encode(&self.signature)
        )
    }
}

/// NSEC3 RDATA (RFC 5155 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec3 {
    /// Hash algorithm (1 = SHA-1, RFC 5155 §11).
    pub hash_alg: u8,
    /// Flags: [`Nsec3::OPT_OUT`] is the only one defined.
    pub flags: u8,
    /// Additional hash iterations.
    pub iterations: u16,
    /// Salt (empty for none).
    pub salt: Vec<u8>,
    /// The next hashed owner name, raw (not base32).
    pub next_hashed: Vec<u8>,
    /// The type bitmap in wire form (RFC 5155 §3.2.1, RFC 4034 §4.1.2).
    pub types: Vec<u8>,
}

impl Nsec3 {
    /// The Opt-Out flag (RFC 5155 §3.1.2.1).
    pub const OPT_OUT: u8 = 0x01;

    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v =
            Vec::with_capacity(6 + self.salt.len() + self.next_hashed.len() + self.types.len());
        v.push(self.hash_alg);
        v.push(self.flags);
        v.extend_from_slice(&self.iterations.to_be_bytes());
        v.push(self.salt.len() as u8);
        v.extend_from_slice(&self.salt);
        v.push(self.next_hashed.len() as u8);
        v.extend_from_slice(&self.next_hashed);
        v.extend_from_slice(&self.types);
        v
    }

    /// Read from wire form. The bitmap is kept as it is; the next hashed
    /// owner may not be empty (RFC 5155 §3.2).
    pub fn from_rdata(r: &[u8]) -> Result<Nsec3, RdataError> {
        let mut rd = Reader::new(r);
        let hash_alg = rd.u8("hash algorithm")?;
        let flags = rd.u8("flags")?;
        let iterations = rd.u16("iterations")?;
        let salt_len = rd.u8("salt length")? as usize;
        let salt = rd.take(salt_len, "salt")?.to_vec();
        let hash_len = rd.u8("hash length")? as usize;
        if hash_len == 0 {
            return Err(RdataError::Short("next hashed owner name"));
        }
        let next_hashed = rd.take(hash_len, "next hashed owner name")?.to_vec();
        let types = rd.rest().to_vec();
        if bitmap_to_text(&types).is_none() {
            return Err(RdataError::BadBitmap);
        }
        Ok(Nsec3 {
            hash_alg,
            flags,
            iterations,
            salt,
            next_hashed,
            types,
        })
    }

    /// Whether the Opt-Out flag is set.
    pub fn opt_out(&self) -> bool {
        self.flags & Self::OPT_OUT != 0
    }

    /// Whether hash algorithm, iterations and salt are those of `param`
    /// (RFC 5155 §7.2: every NSEC3 of a chain uses the NSEC3PARAM's).
    pub fn matches(&self, param: &Nsec3param) -> bool {
        self.hash_alg == param.hash_alg
            && self.iterations == param.iterations
            && self.salt == param.salt
    }
}

impl fmt::Display for Nsec3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.hash_alg,
            self.flags,
            self.iterations,
            SaltText(&self.salt),
            base32hex_lower(&self.next_hashed)
        )?;
        // from_rdata checked the bitmap; one built by hand that is not well
        // formed is shown as it is, in hex, rather than failing to format.
        match bitmap_to_text(&self.types) {
            Some(t) if t.is_empty() => Ok(()),
            Some(t) => write!(f, " {t}"),
            None => write!(f, " \\# {}", HEXLOWER_PERMISSIVE.encode(&self.types)),
        }
    }
}

/// NSEC3PARAM RDATA (RFC 5155 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec3param {
    /// Hash algorithm (1 = SHA-1).
    pub hash_alg: u8,
    /// Flags; all zero in a published NSEC3PARAM (RFC 5155 §4.1.2).
    pub flags: u8,
    /// Additional hash iterations.
    pub iterations: u16,
    /// Salt (empty for none).
    pub salt: Vec<u8>,
}

impl Nsec3param {
    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(5 + self.salt.len());
        v.push(self.hash_alg);
        v.push(self.flags);
        v.extend_from_slice(&self.iterations.to_be_bytes());
        v.push(self.salt.len() as u8);
        v.extend_from_slice(&self.salt);
        v
    }

    /// Read from wire form.
    pub fn from_rdata(r: &[u8]) -> Result<Nsec3param, RdataError> {
        let mut rd = Reader::new(r);
        let hash_alg = rd.u8("hash algorithm")?;
        let flags = rd.u8("flags")?;
        let iterations = rd.u16("iterations")?;
        let salt_len = rd.u8("salt length")? as usize;
        let salt = rd.take(salt_len, "salt")?.to_vec();
        rd.end()?;
        Ok(Nsec3param {
            hash_alg,
            flags,
            iterations,
            salt,
        })
    }
}

impl fmt::Display for Nsec3param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.hash_alg,
            self.flags,
            self.iterations,
            SaltText(&self.salt)
        )
    }
}

/// A salt in presentation form: hex, `-` for none (RFC 5155 §3.3).
struct SaltText<'a>(&'a [u8]);

impl fmt::Display for SaltText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&HEXLOWER_PERMISSIVE.encode(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::{bitmap_from_types, rtype};

    fn name(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn soa_both_ways() {
        let soa = Soa {
            mname: name("a.nic.mobile."),
            rname: name("hostmaster.nic.mobile."),
            serial: 2026120201,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5,
        };
        let w = soa.to_rdata();
        assert_eq!(Soa::from_rdata(&w), Ok(soa.clone()));
        assert_eq!(Soa::serial_of(&w), Ok(2026120201));
        assert_eq!(
            Soa::from_rdata(&w[..w.len() - 1]),
            Err(RdataError::Short("MINIMUM"))
        );
        let mut long = w.clone();
        long.push(0);
        assert_eq!(Soa::from_rdata(&long), Err(RdataError::Trailing(1)));
        assert_eq!(Soa::from_rdata(&[0x40]), Err(RdataError::BadName("MNAME")));
    }

    #[test]
    fn dnskey_flags_and_tag() {
        // RFC 4034 §2.3's example key has flags 256, algorithm 5.
        let k = Dnskey {
            flags: 257,
            protocol: 3,
            algorithm: 13,
            public_key: vec![7; 64],
        };
        let w = k.to_rdata();
        assert_eq!(Dnskey::from_rdata(&w), Ok(k.clone()));
        assert!(k.is_zone_key() && k.is_sep() && !k.is_revoked());
        assert_eq!(k.key_tag(), key_tag(&w));
        assert_eq!(
            Dnskey::from_rdata(&w[..4]),
            Err(RdataError::Short("public key"))
        );
    }

    #[test]
    fn rrsig_both_ways_and_presentation() {
        let s = Rrsig {
            fields: RrsigFields {
                type_covered: rtype::SOA,
                algorithm: 13,
                labels: 1,
                original_ttl: 3600,
                expiration: 1_700_000_000,
                inception: 0,
                key_tag: 12345,
            },
            signer: name("mobile."),
            signature: vec![1, 2, 3],
        };
        let w = s.to_rdata();
        assert_eq!(Rrsig::from_rdata(&w), Ok(s.clone()));
        assert_eq!(RrsigFields::covered(&w), Some(rtype::SOA));
        assert_eq!(&w[..s.signed_prefix().len()], &s.signed_prefix()[..]);
        assert_eq!(
            s.to_string(),
            "SOA 13 1 3600 20231114221320 19700101000000 12345 mobile. AQID"
        );
        assert_eq!(
            Rrsig::from_rdata(&w[..RRSIG_FIXED_LEN + 8]),
            Err(RdataError::Short("signature"))
        );
        assert_eq!(
            RrsigFields::parse(&w[..17]),
            Err(RdataError::Short("key tag"))
        );
    }

    #[test]
    fn nsec3_and_param_both_ways() {
        let p = Nsec3param {
            hash_alg: 1,
            flags: 0,
            iterations: 0,
            salt: vec![],
        };
        let w = p.to_rdata();
        assert_eq!(Nsec3param::from_rdata(&w), Ok(p.clone()));
        assert_eq!(p.to_string(), "1 0 0 -");
        let n = Nsec3 {
            hash_alg: 1,
            flags: Nsec3::OPT_OUT,
            iterations: 0,
            salt: vec![0xab],
            next_hashed: vec![0; 20],
            types: bitmap_from_types(&[rtype::NS, rtype::DS, rtype::RRSIG]),
        };
        let w = n.to_rdata();
        assert_eq!(Nsec3::from_rdata(&w), Ok(n.clone()));
        assert!(n.opt_out() && !n.matches(&p));
        assert_eq!(
            n.to_string(),
            "1 1 0 ab 00000000000000000000000000000000 NS DS RRSIG"
        );
        assert_eq!(
            Nsec3::from_rdata(&w[..7]),
            Err(RdataError::Short("next hashed owner name"))
        );
    }

    #[test]
    fn ds_both_ways() {
        let d = Ds {
            key_tag: 60485,
            algorithm: 5,
            digest_type: 1,
            digest: vec![0x2b; 20],
        };
        assert_eq!(Ds::from_rdata(&d.to_rdata()), Ok(d.clone()));
        assert_eq!(
            Ds::from_rdata(&[0, 1, 5, 1]),
            Err(RdataError::Short("digest"))
        );
    }
}
