//! The CZDS zone-file subformat (Spec 4 §2.1.4): its 18 rules, the line of
//! one record, and the writer that streams a published version into it.
//!
//! Owns the text of the file. It reads the zone model and writes bytes to
//! any `Write`; files, gzip, checksums and signatures are [`super`]'s.
//!
//! "Alphabetical order" (rule 17) is the unsigned byte order of the whole
//! line as written, which is what `LC_ALL=C sort -c` checks. The line is in
//! lower case except inside base64 fields (DNSKEY public keys, RRSIG
//! signatures), whose case is data. Every owner name ends in `.` followed by
//! a tab, and a tab sorts below every character a name can hold, so all the
//! lines of one owner are contiguous and the owners are in the byte order
//! of their presentation form; within an owner the rest of the line decides.
//! `docs/czds.md` has the definition and the rule-by-rule mapping.

use crate::name::Name;
use crate::rr::{Record, rdata_to_text, rtype, type_name};
use crate::zone::{Delegation, Dnssec, Glue, Nsec3, SignedZone, nsec3_rdata};
use std::io::{self, Write};

/// The 18 rules of Spec 4 §2.1.4, numbered as in the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// Rule 1: every record on one line with all five fields: owner, TTL, class, type, RDATA.
    OneLine = 1,
    /// Rule 2: class and type as the standard mnemonics, in lower case.
    LowerCaseMnemonics = 2,
    /// Rule 3: the TTL present, as a decimal integer.
    DecimalTtl = 3,
    /// Rule 4: `\X` and `\DDD` inside names allowed when well formed.
    Escapes = 4,
    /// Rule 5: every domain name in lower case.
    LowerCaseNames = 5,
    /// Rule 6: exactly one tab between the fields of a record.
    OneTab = 6,
    /// Rule 7: every domain name fully qualified.
    FullyQualified = 7,
    /// Rule 8: no `$ORIGIN` directive.
    NoOrigin = 8,
    /// Rule 9: no `@` for the current origin.
    NoAt = 9,
    /// Rule 10: no blank owner name at the start of a record.
    NoBlankOwner = 10,
    /// Rule 11: no `$INCLUDE` directive.
    NoInclude = 11,
    /// Rule 12: no `$TTL` directive.
    NoTtlDirective = 12,
    /// Rule 13: no parentheses.
    NoParentheses = 13,
    /// Rule 14: no comments.
    NoComments = 14,
    /// Rule 15: no blank lines.
    NoBlankLines = 15,
    /// Rule 16: the SOA record first and, repeated, last.
    SoaFirstAndLast = 16,
    /// Rule 17: every record but the SOA in alphabetical order.
    Alphabetical = 17,
    /// Rule 18: one zone per file.
    OneZone = 18,
}

impl Rule {
    /// Every rule, in the agreement's order.
    pub const ALL: [Rule; 18] = [
        Rule::OneLine,
        Rule::LowerCaseMnemonics,
        Rule::DecimalTtl,
        Rule::Escapes,
        Rule::LowerCaseNames,
        Rule::OneTab,
        Rule::FullyQualified,
        Rule::NoOrigin,
        Rule::NoAt,
        Rule::NoBlankOwner,
        Rule::NoInclude,
        Rule::NoTtlDirective,
        Rule::NoParentheses,
        Rule::NoComments,
        Rule::NoBlankLines,
        Rule::SoaFirstAndLast,
        Rule::Alphabetical,
        Rule::OneZone,
    ];

    /// The rule's number in Spec 4 §2.1.4.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The rule in the agreement's words (shortened).
    pub fn text(self) -> &'static str {
        match self {
            Rule::OneLine => {
                "each record must include all fields in one line: <domain-name> <TTL> <class> <type> <RDATA>"
            }
            Rule::LowerCaseMnemonics => {
                "class and type must use the standard mnemonics and must be in lower case"
            }
            Rule::DecimalTtl => "TTL must be present as a decimal integer",
            Rule::Escapes => {
                "use of \\X and \\DDD inside domain names is allowed (when well formed)"
            }
            Rule::LowerCaseNames => "all domain names must be in lower case",
            Rule::OneTab => "must use exactly one tab as separator of fields inside a record",
            Rule::FullyQualified => "all domain names must be fully qualified",
            Rule::NoOrigin => "no $ORIGIN directives",
            Rule::NoAt => "no use of \"@\" to denote current origin",
            Rule::NoBlankOwner => "no use of blank domain names at the beginning of a record",
            Rule::NoInclude => "no $INCLUDE directives",
            Rule::NoTtlDirective => "no $TTL directives",
            Rule::NoParentheses => "no use of parentheses",
            Rule::NoComments => "no use of comments",
            Rule::NoBlankLines => "no blank lines",
            Rule::SoaFirstAndLast => {
                "the SOA record should be present at the top and (duplicated at) the end of the zone file"
            }
            Rule::Alphabetical => {
                "with the exception of the SOA record, all the records must be in alphabetical order"
            }
            Rule::OneZone => "one zone per file",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {} ({})", self.number(), self.text())
    }
}

/// Type mnemonic in lower case; `typeNNN` for types without one (RFC 3597 §5).
pub fn type_text(t: u16) -> String {
    type_name(t).to_ascii_lowercase()
}

/// Types whose presentation ends in one base64 field (RFC 4034 §2.2, §3.2):
/// its case is data and stays as it is.
fn ends_in_base64(t: u16) -> bool {
    matches!(t, rtype::DNSKEY | rtype::CDNSKEY | rtype::RRSIG)
}

/// RDATA in the presentation format (single spaces between its fields),
/// lower case except a trailing base64 field. Names, type mnemonics (RRSIG
/// type covered, NSEC/NSEC3 bitmaps), hex and base32hex come out lower case.
pub fn rdata_text(t: u16, rdata: &[u8]) -> String {
    let mut s = rdata_to_text(t, rdata);
    let keep_from = if ends_in_base64(t) && !s.starts_with("\\#") {
        s.rfind(' ').map_or(0, |i| i + 1)
    } else {
        s.len()
    };
    s[..keep_from].make_ascii_lowercase();
    s
}

/// Append one record's line (without the newline) to `out`:
/// `<owner>\t<ttl>\tin\t<type>\t<rdata>` (rules 1-3, 5-7).
pub fn push_line(out: &mut String, owner: &str, ttl: u32, t: u16, rdata: &[u8]) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{owner}\t{ttl}\tin\t{}\t{}",
        type_text(t),
        rdata_text(t, rdata)
    );
}

/// The line of a [`Record`].
pub fn record_line(r: &Record) -> String {
    let mut s = String::new();
    push_line(&mut s, &r.owner.to_string(), r.ttl, r.rtype, &r.rdata);
    s
}

/// What a written file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Lines written, both SOA copies included.
    pub lines: u64,
    /// Uncompressed bytes.
    pub bytes: u64,
    /// SOA serial of the version written.
    pub serial: u32,
}

/// Where the records of one owner come from in the model.
#[derive(Clone, Copy)]
enum Source<'a> {
    Apex,
    Delegation(&'a Name, &'a Delegation),
    Glue(&'a Glue),
    Nsec3(&'a Nsec3),
}

impl Source<'_> {
    fn rank(&self) -> u8 {
        match self {
            Source::Apex => 0,
            Source::Delegation(..) => 1,
            Source::Glue(..) => 2,
            Source::Nsec3(..) => 3,
        }
    }
}

/// An owner (other than an NSEC3 owner) and its presentation form, kept in
/// one shared buffer so that sorting millions of owners costs two words
/// each beyond the text.
struct Keyed<'a> {
    off: usize,
    len: u32,
    src: Source<'a>,
}

/// Write `zone` in the CZDS format to `w`: the SOA, every other record of
/// [`SignedZone::records`] in alphabetical order, the SOA again.
///
/// Memory: the owners' presentation names and an index over them; the
/// lines of one owner at a time. The NSEC3 chain is not indexed: hashed
/// owners are fixed-length base32hex, which preserves the order of the
/// hashes (RFC 4648 §7), so the chain map is already in line order and is
/// merged in as it is walked.
pub fn write_zone<W: Write>(zone: &SignedZone, w: &mut W) -> Result<Written, WriteError> {
    let z = &zone.zone;
    let origin_text = z.origin.to_string();
    let mut text = Vec::with_capacity(
        (z.content.delegations.len() + z.content.glue.len()) * (origin_text.len() + 12),
    );
    let mut keys: Vec<Keyed<'_>> =
        Vec::with_capacity(1 + z.content.delegations.len() + z.content.glue.len());
    keys.push(keyed(&z.origin, Source::Apex, &mut text));
    for (n, d) in &z.content.delegations {
        keys.push(keyed(n, Source::Delegation(n, d), &mut text));
    }
    for (n, g) in &z.content.glue {
        keys.push(keyed(n, Source::Glue(g), &mut text));
    }
    let key_text = |k: &Keyed<'_>| &text[k.off..k.off + k.len as usize];
    keys.sort_unstable_by(|a, b| {
        key_text(a)
            .cmp(key_text(b))
            .then(a.src.rank().cmp(&b.src.rank()))
    });

    let soa = Record::new(z.origin.clone(), z.ttl.soa, rtype::SOA, z.soa.to_rdata());
    let soa_line = record_line(&soa);
    let mut out = Out {
        w,
        written: Written {
            serial: z.soa.serial,
            ..Written::default()
        },
        prev: Vec::with_capacity(512),
    };
    out.line_unchecked(&soa_line)?;

    let sec = zone.dnssec.as_ref();
    let mut chain = sec.map(|s| s.nsec3.iter()).into_iter().flatten().peekable();
    let mut ki = 0;
    let mut group: Vec<Source<'_>> = Vec::with_capacity(4);
    let mut owner = Vec::<u8>::with_capacity(256);
    let mut lines: Vec<String> = Vec::with_capacity(8);
    loop {
        // The smaller of the next indexed owner and the next hashed owner.
        let next_key = keys.get(ki).map(key_text);
        let next_hash = chain.peek().map(|(h, _)| nsec3_owner_text(h, &origin_text));
        owner.clear();
        match (next_key, &next_hash) {
            (None, None) => break,
            (Some(k), Some(h)) if h.as_bytes() < k => owner.extend_from_slice(h.as_bytes()),
            (Some(k), _) => owner.extend_from_slice(k),
            (None, Some(h)) => owner.extend_from_slice(h.as_bytes()),
        }
        group.clear();
        while let Some(k) = keys.get(ki).filter(|k| key_text(k) == owner.as_slice()) {
            group.push(k.src);
            ki += 1;
        }
        if next_hash.as_deref().map(str::as_bytes) == Some(owner.as_slice()) {
            let (_, n3) = chain.next().expect("peeked");
            group.push(Source::Nsec3(n3));
        }
        // Owner text is ASCII: Name's Display escapes every other octet.
        let owner_str = std::str::from_utf8(&owner).expect("presentation names are ASCII");
        lines.clear();
        for src in &group {
            owner_lines(zone, sec, *src, owner_str, &mut lines);
        }
        lines.sort_unstable();
        for l in &lines {
            out.line(l)?;
        }
    }
    out.line_unchecked(&soa_line)?;
    Ok(out.written)
}

fn keyed<'a>(name: &Name, src: Source<'a>, text: &mut Vec<u8>) -> Keyed<'a> {
    let off = text.len();
    // Writing to a Vec cannot fail.
    let _ = write!(text, "{name}");
    Keyed {
        off,
        len: (text.len() - off) as u32,
        src,
    }
}

fn nsec3_owner_text(hash: &[u8; 20], origin_text: &str) -> String {
    let mut s = crate::rr::base32hex_lower(hash);
    s.push('.');
    s.push_str(origin_text);
    s
}

/// Every record of one owner from one source, as lines; the apex SOA is
/// left out (it is written first and last).
fn owner_lines(
    zone: &SignedZone,
    sec: Option<&Dnssec>,
    src: Source<'_>,
    owner: &str,
    out: &mut Vec<String>,
) {
    let z = &zone.zone;
    let t = &z.ttl;
    let mut line = |ttl: u32, ty: u16, rdata: &[u8]| {
        let mut s = String::with_capacity(owner.len() + 64 + rdata.len() * 2);
        push_line(&mut s, owner, ttl, ty, rdata);
        out.push(s);
    };
    // The record set and TTLs mirror SignedZone::records(); a test checks
    // that both give the same lines.
    match src {
        Source::Apex => {
            for ns in &z.apex_ns {
                line(t.ns, rtype::NS, ns.wire());
            }
            if let Some(sec) = sec {
                for k in &sec.dnskeys {
                    line(t.dnskey, rtype::DNSKEY, k);
                }
                line(t.nsec3, rtype::NSEC3PARAM, &sec.nsec3param.to_rdata());
                for (ty, set) in [(rtype::CDS, &sec.cds), (rtype::CDNSKEY, &sec.cdnskey)] {
                    for rd in set {
                        line(t.dnskey, ty, rd);
                    }
                }
                for (ty, sigs) in &sec.apex_sigs {
                    let ttl = t.apex(*ty);
                    for s in sigs {
                        line(ttl, rtype::RRSIG, s);
                    }
                }
            }
        }
        Source::Delegation(name, d) => {
            for ns in d.ns.iter() {
                line(t.ns, rtype::NS, ns.wire());
            }
            for ds in &d.ds {
                line(t.ds, rtype::DS, &ds.to_rdata());
            }
            if let Some(sigs) = sec.and_then(|s| s.ds_sigs.get(name)) {
                for s in sigs {
                    line(t.ds, rtype::RRSIG, s);
                }
            }
        }
        Source::Glue(g) => {
            for a in &g.a {
                line(t.glue, rtype::A, &a.octets());
            }
            for a in &g.aaaa {
                line(t.glue, rtype::AAAA, &a.octets());
            }
        }
        Source::Nsec3(n3) => {
            if let Some(sec) = sec {
                line(t.nsec3, rtype::NSEC3, &nsec3_rdata(&sec.nsec3param, n3));
                for s in n3.sigs() {
                    line(t.nsec3, rtype::RRSIG, s);
                }
            }
        }
    }
}

/// Why the writer stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The output (file, gzip stream) refused a write.
    #[error("writing: {0}")]
    Io(#[from] io::Error),
    /// A bug guard: the writer checks its own output against rule 17.
    #[error(
        "internal error: line {line} would break Spec 4 §2.1.4 rule 17 (alphabetical order): {text:?}"
    )]
    Order {
        /// 1-based line number of the offending line.
        line: u64,
        /// The line.
        text: String,
    },
}

/// The output with the rule-17 self-check: each line after the first SOA
/// must not sort below the one before it.
struct Out<'w, W: Write> {
    w: &'w mut W,
    written: Written,
    prev: Vec<u8>,
}

impl<W: Write> Out<'_, W> {
    fn line_unchecked(&mut self, l: &str) -> io::Result<()> {
        self.w.write_all(l.as_bytes())?;
        self.w.write_all(b"\n")?;
        self.written.lines += 1;
        self.written.bytes += l.len() as u64 + 1;
        Ok(())
    }

    fn line(&mut self, l: &str) -> Result<(), WriteError> {
        if l.as_bytes() < self.prev.as_slice() {
            return Err(WriteError::Order {
                line: self.written.lines + 1,
                text: l.to_string(),
            });
        }
        self.prev.clear();
        self.prev.extend_from_slice(l.as_bytes());
        self.line_unchecked(l)?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rr::{Ds, Soa};
    use crate::zone::{Content, Nsec3Param, Ttls, Zone};
    use std::collections::BTreeMap;

    #[test]
    fn every_rule_once_in_the_agreements_order() {
        let numbers: Vec<u8> = Rule::ALL.iter().map(|r| r.number()).collect();
        assert_eq!(numbers, (1..=18).collect::<Vec<u8>>());
        let texts: std::collections::HashSet<&str> = Rule::ALL.iter().map(|r| r.text()).collect();
        assert_eq!(texts.len(), 18);
        assert!(texts.iter().all(|t| !t.is_empty()));
    }
    use std::sync::Arc;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    /// A small zone with every kind of owner, unsigned or with fake DNSSEC
    /// data (the writer does not check signatures).
    pub(crate) fn sample(signed: bool) -> SignedZone {
        let mut content = Content::default();
        let shared: Arc<[Name]> = vec![n("ns1.example.net."), n("ns2.example.net.")].into();
        for l in ["a", "a-b", "b", "zz", "0a", "xn--bcher-kva", "a\\.b"] {
            content.delegations.insert(
                n(&format!("{l}.mobile.")),
                Delegation {
                    ns: shared.clone(),
                    ds: vec![],
                },
            );
        }
        content.delegations.insert(
            n("nic.mobile."),
            Delegation {
                ns: vec![n("a.nic.mobile."), n("b.nic.mobile.")].into(),
                ds: vec![Ds {
                    key_tag: 1,
                    algorithm: 13,
                    digest_type: 2,
                    digest: vec![0xAB; 32],
                }],
            },
        );
        let mut g = Glue::default();
        g.push("192.0.2.1".parse().unwrap());
        g.push("2001:db8::1".parse().unwrap());
        content.glue.insert(n("a.nic.mobile."), g.clone());
        content.glue.insert(n("b.nic.mobile."), g);
        let zone = Zone {
            origin: n("mobile."),
            soa: Soa {
                mname: n("a.nic.mobile."),
                rname: n("hostmaster.nic.mobile."),
                serial: 7,
                refresh: 1800,
                retry: 900,
                expire: 1209600,
                minimum: 900,
            },
            apex_ns: vec![n("a.nic.mobile."), n("b.nic.mobile.")],
            ttl: Ttls {
                soa: 3600,
                ns: 172800,
                ds: 86400,
                glue: 172800,
                dnskey: 3600,
                nsec3: 900,
            },
            content,
        };
        let dnssec = signed.then(|| {
            let sig = |tc: u16| {
                let mut v = tc.to_be_bytes().to_vec();
                v.extend_from_slice(&[13, 1, 0, 0, 0x0e, 0x10]);
                v.extend_from_slice(&2_000_000_000u32.to_be_bytes());
                v.extend_from_slice(&1_900_000_000u32.to_be_bytes());
                v.extend_from_slice(&[0x12, 0x34]);
                v.extend_from_slice(n("mobile.").wire());
                v.extend_from_slice(b"SIGNATURE-with-Upper-Case-bytes");
                v
            };
            let mut apex_sigs = BTreeMap::new();
            for t in [rtype::SOA, rtype::NS, rtype::DNSKEY, rtype::NSEC3PARAM] {
                apex_sigs.insert(t, vec![sig(t)]);
            }
            let mut ds_sigs = BTreeMap::new();
            ds_sigs.insert(n("nic.mobile."), vec![sig(rtype::DS)]);
            let mut nsec3 = BTreeMap::new();
            for i in 0..5u8 {
                let mut h = [0u8; 20];
                h[0] = i * 50;
                let mut next = [0u8; 20];
                next[0] = ((i + 1) % 5) * 50;
                nsec3.insert(
                    h,
                    Nsec3::new(
                        next,
                        0,
                        &crate::rr::bitmap_from_types(&[rtype::NS, rtype::DS]),
                        &[sig(rtype::NSEC3)],
                    ),
                );
            }
            Dnssec {
                dnskeys: vec![
                    [&[1u8, 1, 3, 13][..], b"KeyBytesWithUpperCase-A"].concat(),
                    [&[1u8, 0, 3, 13][..], b"OtherKeyBytes"].concat(),
                ],
                cds: Vec::new(),
                cdnskey: Vec::new(),
                nsec3param: Nsec3Param {
                    iterations: 0,
                    salt: vec![],
                    opt_out: false,
                },
                apex_sigs,
                ds_sigs: ds_sigs.into_iter().collect(),
                nsec3: nsec3.into_iter().collect(),
            }
        });
        SignedZone { zone, dnssec }
    }

    fn written(z: &SignedZone) -> String {
        let mut v = Vec::new();
        write_zone(z, &mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    /// The writer and SignedZone::records() agree on the set of records.
    #[test]
    fn writes_every_record_of_the_model() {
        for signed in [false, true] {
            let z = sample(signed);
            let text = written(&z);
            let mut got: Vec<&str> = text.lines().collect();
            assert_eq!(got.first(), got.last());
            got.pop();
            got.sort_unstable();
            let mut want: Vec<String> = z.records().iter().map(record_line).collect();
            want.sort_unstable();
            assert_eq!(got, want);
        }
    }

    /// Rule 17: byte order of the lines between the SOA copies.
    #[test]
    fn rule_17_byte_order() {
        let text = written(&sample(true));
        let lines: Vec<&str> = text.lines().collect();
        let mid = &lines[1..lines.len() - 1];
        assert!(mid.windows(2).all(|w| w[0].as_bytes() <= w[1].as_bytes()));
        // "a-b." sorts before "a." ('-' is 0x2d, '.' is 0x2e) and an escaped
        // dot keeps its backslash.
        let pos = |p: &str| mid.iter().position(|l| l.starts_with(p)).unwrap();
        assert!(pos("a-b.mobile.\t") < pos("a.mobile.\t"));
        assert!(pos("a\\046b.mobile.\t") > pos("a.mobile.\t"));
    }

    #[test]
    fn line_format_rules_1_to_7() {
        let text = written(&sample(true));
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "mobile.\t3600\tin\tsoa\ta.nic.mobile. hostmaster.nic.mobile. 7 1800 900 1209600 900"
        );
        assert!(text.contains("nic.mobile.\t86400\tin\tds\t1 13 2 abab"));
        // RRSIG: type covered in lower case, signature (base64) unchanged.
        let rrsig = text
            .lines()
            .find(|l| l.starts_with("nic.mobile.\t86400\tin\trrsig\tds 13 1 3600 "))
            .unwrap();
        let b64 = data_encoding::BASE64.encode(b"SIGNATURE-with-Upper-Case-bytes");
        assert!(rrsig.ends_with(&format!(" mobile. {b64}")), "{rrsig}");
        assert!(text.contains(&format!(
            "mobile.\t3600\tin\tdnskey\t257 3 13 {}",
            data_encoding::BASE64.encode(b"KeyBytesWithUpperCase-A")
        )));
        assert!(text.contains("\tin\tnsec3\t1 0 0 - "));
        assert!(text.contains(" ns ds rrsig") || text.contains(" ns ds"));
        assert!(text.contains("\tin\tnsec3param\t1 0 0 -"));
        for l in text.lines() {
            assert_eq!(l.matches('\t').count(), 4, "{l}");
        }
    }

    #[test]
    fn unknown_types_rfc3597() {
        assert_eq!(type_text(65534), "type65534");
        assert_eq!(rdata_text(65534, &[0xAB, 0x01]), "\\# 2 ab01");
    }
}
