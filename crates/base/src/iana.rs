//! IANA registry values: RR types, classes, RCODEs, opcodes, DNSSEC
//! algorithms and DS digest types, each as a newtype over its wire integer.
//!
//! Owns the one table of every one of these registries: mnemonics, their
//! presentation (`Display`) and their parsing (`FromStr`). Every other table
//! of these values in tldns (the `u16` constants in [`crate::rr`], the CZDS
//! checker's type list) derives from the tables here. It knows nothing of
//! RDATA or messages.

use std::fmt;
use std::str::FromStr;

/// A mnemonic that is not in the registry and not the generic form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a known {registry} mnemonic")]
pub struct UnknownMnemonic {
    /// Which registry was asked.
    pub registry: &'static str,
    /// The text that matched neither a mnemonic nor the generic form.
    pub text: String,
}

/// Defines one registry newtype from one table: the constants, `new`,
/// `to_int`, the mnemonic lookup both ways, `Display` and `FromStr`.
///
/// `$generic` is the RFC 3597 §5 style prefix for values without a
/// mnemonic (`TYPE` gives `TYPE65534`); `""` means the bare number, which
/// is how algorithm and digest numbers are written in RDATA.
/// When two entries share a value (RCODE 16 is BADVERS and BADSIG), the
/// first one is the value's mnemonic; both parse.
macro_rules! registry {
    (
        $(#[$attr:meta])*
        $ty:ident($int:ty), $registry:literal, $generic:literal;
        $( $(#[$cattr:meta])* $konst:ident = $value:literal, $mnemonic:literal; )*
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty($int);

        impl $ty {
            $(
                #[doc = concat!("`", $mnemonic, "`, value ", stringify!($value), ".")]
                #[doc = ""]
                $(#[$cattr])*
                pub const $konst: $ty = $ty($value);
            )*

            /// Every (value, mnemonic) of the registry, in table order.
            pub const TABLE: &'static [($int, &'static str)] = &[$( ($value, $mnemonic), )*];

            /// Any value of the registry's width, assigned or not.
            pub const fn new(v: $int) -> $ty {
                $ty(v)
            }

            /// The wire integer.
            pub const fn to_int(self) -> $int {
                self.0
            }

            /// The registered mnemonic, if the value has one.
            pub fn mnemonic(self) -> Option<&'static str> {
                Self::TABLE.iter().find(|(v, _)| *v == self.0).map(|(_, m)| *m)
            }

            /// The value of a registered mnemonic, case-insensitively
            /// (the generic form is not accepted here; see `FromStr`).
            pub fn from_mnemonic(s: &str) -> Option<$ty> {
                Self::TABLE
                    .iter()
                    .find(|(_, m)| m.eq_ignore_ascii_case(s))
                    .map(|(v, _)| $ty(*v))
            }
        }

        impl From<$int> for $ty {
            fn from(v: $int) -> $ty {
                $ty(v)
            }
        }

        impl From<$ty> for $int {
            fn from(v: $ty) -> $int {
                v.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.mnemonic() {
                    Some(m) => f.write_str(m),
                    None => write!(f, concat!($generic, "{}"), self.0),
                }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownMnemonic;

            /// A mnemonic or the generic form (`TYPE1234`), case-insensitively.
            fn from_str(s: &str) -> Result<$ty, UnknownMnemonic> {
                if let Some(v) = Self::from_mnemonic(s) {
                    return Ok(v);
                }
                let err = || UnknownMnemonic {
                    registry: $registry,
                    text: s.to_string(),
                };
                let prefix: &str = $generic;
                let digits = s
                    .get(..prefix.len())
                    .filter(|p| p.eq_ignore_ascii_case(prefix))
                    .map(|_| &s[prefix.len()..])
                    .ok_or_else(err)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                digits.parse::<$int>().map($ty).map_err(|_| err())
            }
        }
    };
}

registry! {
    /// RR TYPE (IANA "Resource Record (RR) TYPEs", RFC 6895 §3.1), every
    /// assigned value with a mnemonic.
    Rtype(u16), "RR type", "TYPE";
    A = 1, "A";
    NS = 2, "NS";
    MD = 3, "MD";
    MF = 4, "MF";
    CNAME = 5, "CNAME";
    SOA = 6, "SOA";
    MB = 7, "MB";
    MG = 8, "MG";
    MR = 9, "MR";
    NULL = 10, "NULL";
    WKS = 11, "WKS";
    PTR = 12, "PTR";
    HINFO = 13, "HINFO";
    MINFO = 14, "MINFO";
    MX = 15, "MX";
    TXT = 16, "TXT";
    RP = 17, "RP";
    AFSDB = 18, "AFSDB";
    X25 = 19, "X25";
    ISDN = 20, "ISDN";
    RT = 21, "RT";
    NSAP = 22, "NSAP";
    NSAP_PTR = 23, "NSAP-PTR";
    SIG = 24, "SIG";
    KEY = 25, "KEY";
    PX = 26, "PX";
    GPOS = 27, "GPOS";
    AAAA = 28, "AAAA";
    LOC = 29, "LOC";
    NXT = 30, "NXT";
    EID = 31, "EID";
    NIMLOC = 32, "NIMLOC";
    SRV = 33, "SRV";
    ATMA = 34, "ATMA";
    NAPTR = 35, "NAPTR";
    KX = 36, "KX";
    CERT = 37, "CERT";
    A6 = 38, "A6";
    DNAME = 39, "DNAME";
    SINK = 40, "SINK";
    OPT = 41, "OPT";
    APL = 42, "APL";
    DS = 43, "DS";
    SSHFP = 44, "SSHFP";
    IPSECKEY = 45, "IPSECKEY";
    RRSIG = 46, "RRSIG";
    NSEC = 47, "NSEC";
    DNSKEY = 48, "DNSKEY";
    DHCID = 49, "DHCID";
    NSEC3 = 50, "NSEC3";
    NSEC3PARAM = 51, "NSEC3PARAM";
    TLSA = 52, "TLSA";
    SMIMEA = 53, "SMIMEA";
    HIP = 55, "HIP";
    NINFO = 56, "NINFO";
    RKEY = 57, "RKEY";
    TALINK = 58, "TALINK";
    CDS = 59, "CDS";
    CDNSKEY = 60, "CDNSKEY";
    OPENPGPKEY = 61, "OPENPGPKEY";
    CSYNC = 62, "CSYNC";
    ZONEMD = 63, "ZONEMD";
    SVCB = 64, "SVCB";
    HTTPS = 65, "HTTPS";
    DSYNC = 66, "DSYNC";
    SPF = 99, "SPF";
    UINFO = 100, "UINFO";
    UID = 101, "UID";
    GID = 102, "GID";
    UNSPEC = 103, "UNSPEC";
    NID = 104, "NID";
    L32 = 105, "L32";
    L64 = 106, "L64";
    LP = 107, "LP";
    EUI48 = 108, "EUI48";
    EUI64 = 109, "EUI64";
    TKEY = 249, "TKEY";
    TSIG = 250, "TSIG";
    IXFR = 251, "IXFR";
    AXFR = 252, "AXFR";
    MAILB = 253, "MAILB";
    MAILA = 254, "MAILA";
    ANY = 255, "ANY";
    URI = 256, "URI";
    CAA = 257, "CAA";
    AVC = 258, "AVC";
    DOA = 259, "DOA";
    AMTRELAY = 260, "AMTRELAY";
    RESINFO = 261, "RESINFO";
    WALLET = 262, "WALLET";
    CLA = 263, "CLA";
    IPN = 264, "IPN";
    TA = 32768, "TA";
    DLV = 32769, "DLV";
}

impl Rtype {
    /// Types that only appear in a question (RFC 6895 §3.1: IXFR, AXFR,
    /// MAILB, MAILA, ANY), never as a record in a zone.
    pub const fn is_qtype_only(self) -> bool {
        matches!(self.0, 251..=255)
    }
}

registry! {
    /// CLASS (IANA "DNS CLASSes", RFC 6895 §3.2).
    Class(u16), "class", "CLASS";
    IN = 1, "IN";
    CS = 2, "CS";
    CH = 3, "CH";
    HS = 4, "HS";
    /// RFC 2136 §2.4: "delete an RR from an RRset" in UPDATE.
    NONE = 254, "NONE";
    ANY = 255, "ANY";
}

registry! {
    /// OpCode (IANA "DNS OpCodes", RFC 6895 §2.2): four bits of the header.
    Opcode(u8), "opcode", "OPCODE";
    QUERY = 0, "QUERY";
    IQUERY = 1, "IQUERY";
    STATUS = 2, "STATUS";
    NOTIFY = 4, "NOTIFY";
    UPDATE = 5, "UPDATE";
    DSO = 6, "DSO";
}

registry! {
    /// RCODE (IANA "DNS RCODEs", RFC 6895 §2.3): the header's four bits,
    /// extended to twelve by the OPT record (RFC 6891 §6.1.3), and TSIG's
    /// error field (RFC 8945 §4.2), which shares the registry.
    Rcode(u16), "rcode", "RCODE";
    NOERROR = 0, "NOERROR";
    FORMERR = 1, "FORMERR";
    SERVFAIL = 2, "SERVFAIL";
    NXDOMAIN = 3, "NXDOMAIN";
    NOTIMP = 4, "NOTIMP";
    REFUSED = 5, "REFUSED";
    YXDOMAIN = 6, "YXDOMAIN";
    YXRRSET = 7, "YXRRSET";
    NXRRSET = 8, "NXRRSET";
    NOTAUTH = 9, "NOTAUTH";
    NOTZONE = 10, "NOTZONE";
    DSOTYPENI = 11, "DSOTYPENI";
    /// RFC 6891 §9; in the OPT record's extended RCODE.
    BADVERS = 16, "BADVERS";
    /// RFC 8945 §5.2.2; in the TSIG error field (same value as BADVERS).
    BADSIG = 16, "BADSIG";
    BADKEY = 17, "BADKEY";
    BADTIME = 18, "BADTIME";
    BADMODE = 19, "BADMODE";
    BADNAME = 20, "BADNAME";
    BADALG = 21, "BADALG";
    BADTRUNC = 22, "BADTRUNC";
    /// RFC 7873 §8.
    BADCOOKIE = 23, "BADCOOKIE";
}

impl Rcode {
    /// Largest RCODE a message can carry: 4 header bits and 8 OPT bits
    /// (RFC 6891 §6.1.3).
    pub const MAX: u16 = 4095;

    /// From the header's low four bits and the OPT record's upper eight.
    pub const fn from_parts(header: u8, extended: u8) -> Rcode {
        Rcode(((extended as u16) << 4) | (header as u16 & 0x0F))
    }

    /// The four bits that go in the header.
    pub const fn header_bits(self) -> u8 {
        (self.0 & 0x0F) as u8
    }

    /// The eight bits that go in the OPT record's TTL (RFC 6891 §6.1.3).
    pub const fn extended_bits(self) -> u8 {
        ((self.0 >> 4) & 0xFF) as u8
    }
}

registry! {
    /// DNSSEC algorithm (IANA "DNS Security Algorithm Numbers", RFC 4034
    /// Appendix A.1, RFC 8624).
    SecAlg(u8), "DNSSEC algorithm", "";
    RSAMD5 = 1, "RSAMD5";
    DH = 2, "DH";
    DSA = 3, "DSA";
    RSASHA1 = 5, "RSASHA1";
    DSA_NSEC3_SHA1 = 6, "DSA-NSEC3-SHA1";
    RSASHA1_NSEC3_SHA1 = 7, "RSASHA1-NSEC3-SHA1";
    RSASHA256 = 8, "RSASHA256";
    RSASHA512 = 10, "RSASHA512";
    ECC_GOST = 12, "ECC-GOST";
    ECDSAP256SHA256 = 13, "ECDSAP256SHA256";
    ECDSAP384SHA384 = 14, "ECDSAP384SHA384";
    ED25519 = 15, "ED25519";
    ED448 = 16, "ED448";
    SM2SM3 = 17, "SM2SM3";
    ECC_GOST12 = 23, "ECC-GOST12";
    INDIRECT = 252, "INDIRECT";
    PRIVATEDNS = 253, "PRIVATEDNS";
    PRIVATEOID = 254, "PRIVATEOID";
}

registry! {
    /// DS digest type (IANA "Digest Algorithms", RFC 4034 §5.1.3).
    DigestAlg(u8), "DS digest type", "";
    SHA1 = 1, "SHA-1";
    SHA256 = 2, "SHA-256";
    GOST = 3, "GOST R 34.11-94";
    SHA384 = 4, "SHA-384";
    GOST12 = 5, "GOST R 34.11-2012";
    SM3 = 6, "SM3";
}

impl DigestAlg {
    /// Digest length of the types tldns accepts in a DS: SHA-1 (RFC 4034
    /// §5.1.4), SHA-256 (RFC 4509 §2.2), SHA-384 (RFC 6605 §4). The GOST
    /// and SM3 digests are `None`: tldns cannot compute them, and RFC 8624
    /// §3.3 says GOST MUST NOT be used.
    pub const fn digest_len(self) -> Option<usize> {
        match self.0 {
            1 => Some(20),
            2 => Some(32),
            4 => Some(48),
            _ => None,
        }
    }
}

/// Mnemonic of a type, `TYPEnnn` for unknown ones (RFC 3597 §5).
pub fn type_name(t: u16) -> String {
    Rtype::new(t).to_string()
}

/// Type from its mnemonic or `TYPEnnn`, case-insensitively.
pub fn type_from_str(s: &str) -> Option<u16> {
    s.parse::<Rtype>().ok().map(Rtype::to_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3597_section_5_generic_types() {
        assert_eq!(Rtype::NSEC3PARAM.to_string(), "NSEC3PARAM");
        assert_eq!(Rtype::new(65534).to_string(), "TYPE65534");
        assert_eq!("type65534".parse(), Ok(Rtype::new(65534)));
        assert_eq!("nsap-ptr".parse(), Ok(Rtype::NSAP_PTR));
        assert_eq!("TYPE1".parse(), Ok(Rtype::A));
        assert!("TYPE".parse::<Rtype>().is_err());
        assert!("TYPE+1".parse::<Rtype>().is_err());
        assert!("TYPE65536".parse::<Rtype>().is_err());
        assert!("FOO".parse::<Rtype>().is_err());
        assert_eq!(Class::new(42).to_string(), "CLASS42");
        assert_eq!("class3".parse(), Ok(Class::CH));
        assert_eq!("in".parse(), Ok(Class::IN));
    }

    #[test]
    fn tables_have_no_duplicate_mnemonics() {
        fn check<T: Copy>(t: &[(T, &str)]) {
            for (i, (_, a)) in t.iter().enumerate() {
                assert!(!t[i + 1..].iter().any(|(_, b)| a == b), "{a} twice");
            }
        }
        check(Rtype::TABLE);
        check(Class::TABLE);
        check(Rcode::TABLE);
        check(Opcode::TABLE);
        check(SecAlg::TABLE);
        check(DigestAlg::TABLE);
    }

    #[test]
    fn rcodes_rfc6891_and_rfc8945() {
        assert_eq!(Rcode::BADVERS, Rcode::BADSIG);
        assert_eq!(Rcode::BADSIG.to_string(), "BADVERS");
        assert_eq!("badsig".parse(), Ok(Rcode::new(16)));
        assert_eq!(Rcode::BADKEY.to_int(), 17);
        assert_eq!(Rcode::BADTIME.to_int(), 18);
        assert_eq!(Rcode::BADCOOKIE.to_int(), 23);
        let r = Rcode::from_parts(0x0F, 0xFF);
        assert_eq!(r.to_int(), Rcode::MAX);
        assert_eq!((r.header_bits(), r.extended_bits()), (0x0F, 0xFF));
        assert_eq!(Rcode::new(3841).to_string(), "RCODE3841");
    }

    #[test]
    fn algorithms_and_digests() {
        assert_eq!(SecAlg::ECDSAP256SHA256.to_int(), 13);
        assert_eq!(SecAlg::new(99).to_string(), "99");
        assert_eq!("99".parse(), Ok(SecAlg::new(99)));
        assert_eq!("ed25519".parse(), Ok(SecAlg::ED25519));
        assert_eq!(DigestAlg::SHA256.digest_len(), Some(32));
        assert_eq!(DigestAlg::SHA384.digest_len(), Some(48));
        assert_eq!(DigestAlg::GOST.digest_len(), None);
        assert_eq!(Opcode::NOTIFY.to_string(), "NOTIFY");
        assert_eq!(Opcode::new(15).to_string(), "OPCODE15");
    }
}
