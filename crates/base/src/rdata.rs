//! Typed RDATA for the types a TLD zone holds and DNSSEC needs: one type per
//! record type, each with its wire form both ways (`from_rdata`,
//! `to_rdata`) and its presentation form both ways (`from_text`,
//! `Display`; RFC 1035 §5.1, RFC 4034 §§2.2, 3.2, 4.2, 5.3, RFC 5155
//! §§3.3, 4.3).
//!
//! Every field read by offset lives here, once: the signer, the verifier,
//! the probe and the transfer code read RRSIG, DNSKEY, NSEC, NSEC3,
//! NSEC3PARAM, SOA and DS through these types, and the zone-file reader
//! ([`crate::zonefile::rdata_to_wire`]) writes them through `from_text`.
//! Names in RDATA are uncompressed (the message reader has already
//! decompressed what RFC 3597 §4 allows).
//!
//! The simple types (A, AAAA, NS, CNAME, PTR, MX, TXT) have no typed form:
//! their RDATA is an address, a name, a preference and a name, or
//! character-strings, which the callers hold as `Ipv4Addr`, [`Name`] and
//! octets already. Each direction of them is written once all the same:
//! presentation to wire in [`crate::zonefile::rdata_to_wire`], wire to
//! presentation in [`crate::rr::rdata_to_text`].

use crate::iana::{type_from_str, type_name};
use crate::name::Name;
use crate::nsec3::base32hex_lower;
use crate::time::parse_ttl;
use crate::time::{parse_rrsig_time, rrsig_time};
use data_encoding::{BASE32HEX_NOPAD, BASE64, HEXLOWER_PERMISSIVE};
use std::fmt;
use std::str::FromStr;

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
        let (n, end) = read_name(self.r, self.pos).ok_or(if self.pos >= self.r.len() {
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

/// Presentation-form RDATA that does not parse (RFC 1035 §5.1): which
/// field, as written. The zone-file reader adds the record type
/// ([`crate::zonefile::RdataError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Too few or too many fields.
    #[error("{got} fields, expected {expected}")]
    FieldCount {
        /// How many the type takes (`"7"`, `"4 or more"`).
        expected: &'static str,
        /// How many there are.
        got: usize,
    },
    /// A field that does not have its form.
    #[error("bad {field} {value:?}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// The field as written.
        value: String,
    },
}

/// A field that does not parse.
pub(crate) fn bad(field: &'static str, value: &str) -> TextError {
    TextError::Field {
        field,
        value: value.to_string(),
    }
}

/// The fields as `&str`, after checking their number.
pub(crate) fn fields<'a, S: AsRef<str>>(
    toks: &'a [S],
    expected: &'static str,
    ok: impl FnOnce(usize) -> bool,
) -> Result<Vec<&'a str>, TextError> {
    if !ok(toks.len()) {
        return Err(TextError::FieldCount {
            expected,
            got: toks.len(),
        });
    }
    Ok(toks.iter().map(AsRef::as_ref).collect())
}

/// A decimal field (`u8`, `u16`, `u32`, an address).
pub(crate) fn num<T: FromStr>(field: &'static str, s: &str) -> Result<T, TextError> {
    s.parse().map_err(|_| bad(field, s))
}

/// A name field: absolute, `@`, or relative to `origin` (RFC 1035 §5.1).
pub(crate) fn name_field(
    field: &'static str,
    s: &str,
    origin: Option<&Name>,
) -> Result<Name, TextError> {
    Name::parse_relative(s, origin).map_err(|_| bad(field, s))
}

/// A field of hex digits that may be split over several tokens (DS
/// digest, RFC 4034 §5.3; RFC 3597 §5 generic data).
pub(crate) fn hex_field(field: &'static str, toks: &[&str]) -> Result<Vec<u8>, TextError> {
    let hex = toks.concat();
    HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .map_err(|_| bad(field, &hex))
}

/// A base64 field that may be split over several tokens (RFC 4034 §§2.2,
/// 3.2).
fn base64_field(field: &'static str, toks: &[&str]) -> Result<Vec<u8>, TextError> {
    let b64 = toks.concat();
    BASE64.decode(b64.as_bytes()).map_err(|_| bad(field, &b64))
}

/// An NSEC3 salt: hex, or `-` for none (RFC 5155 §3.3).
fn salt_field(s: &str) -> Result<Vec<u8>, TextError> {
    if s == "-" {
        return Ok(Vec::new());
    }
    let v = HEXLOWER_PERMISSIVE
        .decode(s.as_bytes())
        .map_err(|_| bad("salt", s))?;
    if v.len() > 255 {
        return Err(bad("salt", s));
    }
    Ok(v)
}

/// A type bitmap from its mnemonics (RFC 4034 §4.2, RFC 5155 §3.3).
fn bitmap_field(toks: &[&str]) -> Result<Vec<u8>, TextError> {
    let types = toks
        .iter()
        .map(|t| type_from_str(t).ok_or_else(|| bad("type", t)))
        .collect::<Result<Vec<u16>, _>>()?;
    Ok(bitmap_from_types(&types))
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

    /// From presentation form: `mname rname serial refresh retry expire
    /// minimum`, the four timers in seconds or with units (`1h`); names
    /// relative to `origin` (RFC 1035 §5.1).
    pub fn from_text<S: AsRef<str>>(toks: &[S], origin: Option<&Name>) -> Result<Soa, TextError> {
        let t = fields(toks, "7", |n| n == 7)?;
        let timer = |i: usize, field| parse_ttl(t[i]).ok_or_else(|| bad(field, t[i]));
        Ok(Soa {
            mname: name_field("mname", t[0], origin)?,
            rname: name_field("rname", t[1], origin)?,
            serial: num("serial", t[2])?,
            refresh: timer(3, "refresh")?,
            retry: timer(4, "retry")?,
            expire: timer(5, "expire")?,
            minimum: timer(6, "minimum")?,
        })
    }

    /// The serial of SOA RDATA, checked as [`Soa::from_rdata`] checks it
    /// (two names, then exactly five 32-bit fields), without keeping the
    /// rest.
    pub fn serial_of(r: &[u8]) -> Result<u32, RdataError> {
        let mut rd = Reader::new(r);
        for field in ["MNAME", "RNAME"] {
            let (_, end) = read_name(r, rd.pos).ok_or(RdataError::BadName(field))?;
            rd.pos = end;
        }
        let serial = rd.u32("SERIAL")?;
        for field in ["REFRESH", "RETRY", "EXPIRE", "MINIMUM"] {
            rd.u32(field)?;
        }
        rd.end()?;
        Ok(serial)
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

    /// From presentation form: `key-tag algorithm digest-type digest`, the
    /// digest in hex, which may be split by white space (RFC 4034 §5.3).
    pub fn from_text<S: AsRef<str>>(toks: &[S]) -> Result<Ds, TextError> {
        let t = fields(toks, "4 or more", |n| n >= 4)?;
        Ok(Ds {
            key_tag: num("key tag", t[0])?,
            algorithm: num("algorithm", t[1])?,
            digest_type: num("digest type", t[2])?,
            digest: hex_field("digest", &t[3..])?,
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

    /// From presentation form: `flags protocol algorithm public-key`, the
    /// key in base64, which may be split by white space (RFC 4034 §2.2).
    pub fn from_text<S: AsRef<str>>(toks: &[S]) -> Result<Dnskey, TextError> {
        let t = fields(toks, "4 or more", |n| n >= 4)?;
        Ok(Dnskey {
            flags: num("flags", t[0])?,
            protocol: num("protocol", t[1])?,
            algorithm: num("algorithm", t[2])?,
            public_key: base64_field("public key", &t[3..])?,
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

    /// From presentation form: `type-covered algorithm labels original-TTL
    /// expiration inception key-tag signer signature`, the times as
    /// `YYYYMMDDHHmmSS` or seconds, the signature in base64, which may be
    /// split by white space; the signer relative to `origin` (RFC 4034
    /// §3.2).
    pub fn from_text<S: AsRef<str>>(toks: &[S], origin: Option<&Name>) -> Result<Rrsig, TextError> {
        let t = fields(toks, "9 or more", |n| n >= 9)?;
        let time = |i: usize, field| parse_rrsig_time(t[i]).ok_or_else(|| bad(field, t[i]));
        Ok(Rrsig {
            fields: RrsigFields {
                type_covered: type_from_str(t[0]).ok_or_else(|| bad("type covered", t[0]))?,
                algorithm: num("algorithm", t[1])?,
                labels: num("labels", t[2])?,
                original_ttl: num("original TTL", t[3])?,
                expiration: time(4, "expiration")?,
                inception: time(5, "inception")?,
                key_tag: num("key tag", t[6])?,
            },
            signer: name_field("signer", t[7], origin)?,
            signature: base64_field("signature", &t[8..])?,
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

/// NSEC RDATA (RFC 4034 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec {
    /// The next owner name in canonical order (RFC 4034 §4.1.1).
    pub next: Name,
    /// The type bitmap in wire form (RFC 4034 §4.1.2).
    pub types: Vec<u8>,
}

impl Nsec {
    /// Wire form.
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.next.wire_len() + self.types.len());
        v.extend_from_slice(self.next.wire());
        v.extend_from_slice(&self.types);
        v
    }

    /// Read from wire form; the bitmap must be well formed.
    pub fn from_rdata(r: &[u8]) -> Result<Nsec, RdataError> {
        let mut rd = Reader::new(r);
        let next = rd.name("next domain name")?;
        let types = rd.rest().to_vec();
        if !bitmap_is_valid(&types) {
            return Err(RdataError::BadBitmap);
        }
        Ok(Nsec { next, types })
    }

    /// From presentation form: `next-name type...`, the name relative to
    /// `origin` (RFC 4034 §4.2).
    pub fn from_text<S: AsRef<str>>(toks: &[S], origin: Option<&Name>) -> Result<Nsec, TextError> {
        let t = fields(toks, "1 or more", |n| n >= 1)?;
        Ok(Nsec {
            next: name_field("next name", t[0], origin)?,
            types: bitmap_field(&t[1..])?,
        })
    }
}

impl fmt::Display for Nsec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.next)?;
        write_bitmap(f, &self.types)
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
        if !bitmap_is_valid(&types) {
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

    /// From presentation form: `algorithm flags iterations salt
    /// next-hashed-owner type...`, the salt in hex or `-`, the next owner in
    /// base32hex (RFC 5155 §3.3).
    pub fn from_text<S: AsRef<str>>(toks: &[S]) -> Result<Nsec3, TextError> {
        let t = fields(toks, "5 or more", |n| n >= 5)?;
        let hash_alg = num("algorithm", t[0])?;
        let flags = num("flags", t[1])?;
        let iterations = num("iterations", t[2])?;
        let salt = salt_field(t[3])?;
        let next_hashed = BASE32HEX_NOPAD
            .decode(t[4].to_ascii_uppercase().as_bytes())
            .ok()
            .filter(|h| !h.is_empty() && h.len() <= 255)
            .ok_or_else(|| bad("next hashed owner", t[4]))?;
        Ok(Nsec3 {
            hash_alg,
            flags,
            iterations,
            salt,
            next_hashed,
            types: bitmap_field(&t[5..])?,
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
        write_bitmap(f, &self.types)
    }
}

/// The type bitmap of NSEC or NSEC3 after the other fields: nothing when
/// empty, else a space and the mnemonics. `from_rdata` checked the bitmap;
/// one built by hand that is not well formed is shown as it is, in hex,
/// rather than failing to format.
fn write_bitmap(f: &mut fmt::Formatter<'_>, types: &[u8]) -> fmt::Result {
    match bitmap_to_text(types) {
        Some(t) if t.is_empty() => Ok(()),
        Some(t) => write!(f, " {t}"),
        None => write!(f, " \\# {}", HEXLOWER_PERMISSIVE.encode(types)),
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

    /// From presentation form: `algorithm flags iterations salt`, the salt
    /// in hex or `-` (RFC 5155 §4.3).
    pub fn from_text<S: AsRef<str>>(toks: &[S]) -> Result<Nsec3param, TextError> {
        let t = fields(toks, "4", |n| n == 4)?;
        Ok(Nsec3param {
            hash_alg: num("algorithm", t[0])?,
            flags: num("flags", t[1])?,
            iterations: num("iterations", t[2])?,
            salt: salt_field(t[3])?,
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

/// Read a name from uncompressed wire RDATA at `pos`; returns it and the
/// position after it.
pub fn read_name(r: &[u8], pos: usize) -> Option<(Name, usize)> {
    let mut i = pos;
    loop {
        let len = *r.get(i)? as usize;
        if len > 63 {
            return None;
        }
        i += 1 + len;
        if len == 0 {
            break;
        }
    }
    let n = Name::from_wire(r.get(pos..i)?).ok()?;
    Some((n, i))
}

/// Whether a type bitmap is well formed (RFC 4034 §4.1.2, RFC 5155 §3.2.1):
/// windows in increasing order, each at most once, each with a bitmap of 1
/// to 32 octets, and nothing after the last. An empty bitmap (no types, as
/// at an empty non-terminal's NSEC3) is well formed. Trailing zero octets
/// in a window are tolerated, as the RFC tells readers to.
pub fn bitmap_is_valid(mut b: &[u8]) -> bool {
    let mut last: Option<u8> = None;
    while let [window, len, rest @ ..] = b {
        let len = usize::from(*len);
        if !(1..=32).contains(&len) || rest.len() < len || last.is_some_and(|l| *window <= l) {
            return false;
        }
        last = Some(*window);
        b = &rest[len..];
    }
    b.is_empty()
}

/// Presentation of a type bitmap (RFC 4034 §4.1.2), as type mnemonics;
/// `None` when it is not well formed ([`bitmap_is_valid`]).
pub fn bitmap_to_text(mut b: &[u8]) -> Option<String> {
    if !bitmap_is_valid(b) {
        return None;
    }
    let mut out = String::new();
    while !b.is_empty() {
        let window = *b.first()? as u16;
        let len = *b.get(1)? as usize;
        let bits = b.get(2..2 + len)?;
        for (i, byte) in bits.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    // At most 255 * 256 + 31 * 8 + 7 = 65535: windows hold
                    // at most 32 octets.
                    let t = window * 256 + (i as u16) * 8 + bit;
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&type_name(t));
                }
            }
        }
        b = &b[2 + len..];
    }
    Some(out)
}

/// Build a type bitmap (RFC 4034 §4.1.2) from type codes in any order.
pub fn bitmap_from_types(types: &[u16]) -> Vec<u8> {
    let mut t: Vec<u16> = types.to_vec();
    t.sort_unstable();
    t.dedup();
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let window = t[i] >> 8;
        let mut bits = [0u8; 32];
        let mut max = 0;
        while i < t.len() && t[i] >> 8 == window {
            let low = (t[i] & 0xff) as usize;
            bits[low / 8] |= 0x80 >> (low % 8);
            max = max.max(low / 8);
            i += 1;
        }
        out.push(window as u8);
        out.push((max + 1) as u8);
        out.extend_from_slice(&bits[..=max]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keytag::key_tag;
    use crate::rr::rtype;

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
        assert!(k.is_zone_key() && k.is_sep());
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

    /// The fields of a presentation-form RDATA, as the zone-file reader
    /// hands them over.
    fn toks(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    /// Presentation → typed → wire → typed → presentation: the typed value
    /// survives its wire form, and its text is the canonical one.
    macro_rules! round_trip {
        ($ty:ty, $parsed:expr, $canonical:expr) => {{
            let typed: $ty = $parsed.unwrap();
            let again = <$ty>::from_rdata(&typed.to_rdata()).unwrap();
            assert_eq!(again, typed);
            assert_eq!(again.to_string(), $canonical);
            typed
        }};
    }

    #[test]
    fn presentation_round_trips() {
        let example = name("example.");
        round_trip!(
            Soa,
            Soa::from_text(
                &toks("NS1 hostmaster.example. 2024010101 2h 1h 2w 3600"),
                Some(&example)
            ),
            "ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 3600"
        );
        // RFC 4034 §5.4's DS, the digest split in two.
        round_trip!(
            Ds,
            Ds::from_text(&toks("60485 5 1 2BB183AF5F22588179A5 3B0A98631FAD1A292118")),
            "60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118"
        );
        // RFC 4034 §5.4's DNSKEY, split over seven tokens; its tag is the
        // DS's.
        let key = round_trip!(
            Dnskey,
            Dnskey::from_text(&toks(
                "256 3 5 AQOeiiR0GOMYkDshWoSKz9Xz fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ \
                 DRD99WYwYqUSdjMmmAphXdvx egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc \
                 nOf+EPbtG9DMBmADjFDc2w/r ljwvFw=="
            )),
            "256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZ\
             DRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc\
             nOf+EPbtG9DMBmADjFDc2w/rljwvFw=="
        );
        assert_eq!(key_tag(&key.to_rdata()), 60485);
        // RFC 4034 §3.3, with the type in lower case, the inception in
        // seconds and the signer as "@".
        round_trip!(
            Rrsig,
            Rrsig::from_text(
                &toks(
                    "a 5 3 86400 20030322173103 1045762263 2642 @ \
                     oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCH \
                     X3DxKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN2 \
                     0XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o="
                ),
                Some(&name("example.com."))
            ),
            "A 5 3 86400 20030322173103 20030220173103 2642 example.com. \
             oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCH\
             X3DxKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN2\
             0XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o="
        );
        // RFC 4034 §4.3, types out of order and in mixed case.
        round_trip!(
            Nsec,
            Nsec::from_text(
                &toks("host TYPE1234 nsec a RRSIG mx"),
                Some(&name("example.com."))
            ),
            "host.example.com. A MX RRSIG NSEC TYPE1234"
        );
        round_trip!(
            Nsec,
            Nsec::from_text(&toks("b.example."), None),
            "b.example."
        );
        // RFC 5155 Appendix A, hash and salt in upper case.
        round_trip!(
            Nsec3,
            Nsec3::from_text(&toks(
                "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR MX DNSKEY NS SOA NSEC3PARAM RRSIG"
            )),
            "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA MX RRSIG DNSKEY NSEC3PARAM"
        );
        round_trip!(
            Nsec3,
            Nsec3::from_text(&toks("1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr")),
            "1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr"
        );
        round_trip!(
            Nsec3param,
            Nsec3param::from_text(&toks("1 0 12 AABBCCDD")),
            "1 0 12 aabbccdd"
        );
        round_trip!(
            Nsec3param,
            Nsec3param::from_text(&toks("1 0 0 -")),
            "1 0 0 -"
        );
    }

    #[test]
    fn malformed_presentation_is_refused() {
        fn field<T>(field: &'static str, value: &str) -> Result<T, TextError> {
            Err(TextError::Field {
                field,
                value: value.to_string(),
            })
        }
        assert_eq!(
            Soa::from_text(&toks("a. b. 1 2 3 4"), None),
            Err(TextError::FieldCount {
                expected: "7",
                got: 6
            })
        );
        assert_eq!(
            Soa::from_text(&toks("a. b. 1 2 3 4 5x"), None),
            field("minimum", "5x")
        );
        // A relative name needs an origin.
        assert_eq!(
            Soa::from_text(&toks("a b. 1 2 3 4 5"), None),
            field("mname", "a")
        );
        assert_eq!(Ds::from_text(&toks("1 13 2 abc")), field("digest", "abc"));
        assert_eq!(
            Ds::from_text(&toks("65536 13 2 ab")),
            field("key tag", "65536")
        );
        assert_eq!(
            Dnskey::from_text(&toks("257 3 13 AB== CD")),
            field("public key", "AB==CD")
        );
        assert_eq!(
            Rrsig::from_text(
                &toks("A 13 2 3600 yesterday 20030220173103 1 mobile. AQID"),
                None
            ),
            field("expiration", "yesterday")
        );
        assert_eq!(
            Rrsig::from_text(&toks("FOO 13 2 3600 1 0 1 mobile. AQID"), None),
            field("type covered", "FOO")
        );
        assert_eq!(
            Nsec::from_text(&toks("b.example. A FOO"), None),
            field("type", "FOO")
        );
        assert_eq!(
            Nsec3::from_text(&toks("1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22boj!")),
            field("next hashed owner", "2t7b4g4vsa5smi47k61mv5bv1a22boj!")
        );
        assert_eq!(
            Nsec3::from_text(&toks("1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr A FOO")),
            field("type", "FOO")
        );
        assert_eq!(
            Nsec3param::from_text(&toks("1 0 0 abc")),
            field("salt", "abc")
        );
        assert_eq!(
            Nsec3param::from_text(&toks("1 0 0")),
            Err(TextError::FieldCount {
                expected: "4",
                got: 3
            })
        );
    }

    #[test]
    fn nsec_both_ways() {
        let n = Nsec {
            next: name("b.mobile."),
            types: bitmap_from_types(&[rtype::NS, rtype::DS, rtype::RRSIG, rtype::NSEC]),
        };
        let w = n.to_rdata();
        assert_eq!(Nsec::from_rdata(&w), Ok(n.clone()));
        assert_eq!(n.to_string(), "b.mobile. NS DS RRSIG NSEC");
        assert_eq!(
            Nsec::from_rdata(&w[..w.len() - 1]),
            Err(RdataError::BadBitmap)
        );
    }
}
