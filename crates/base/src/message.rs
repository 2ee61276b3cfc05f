//! DNS messages outside the query hot path: one reader and one builder
//! (RFC 1035 §4.1), for transfers, NOTIFY, TSIG, the probe and tests.
//!
//! Owns message framing: the header, compressed names (RFC 1035 §4.1.4),
//! which RDATA may carry compressed names (RFC 3597 §4), the EDNS OPT
//! record (RFC 6891 §6.1) and where a TSIG record may sit (RFC 8945 §5.1).
//! It must not be used by the server's answer path, which parses queries
//! in place without allocating; nor does it know what a record means.
//!
//! Names read from the wire become [`Name`]s, so they are lower-cased.
//!
//! RDATA names are decompressed only where RFC 3597 §4 allows it:
//! - the RFC 1035 well-known types (NS, MD, MF, CNAME, SOA, MB, MG, MR,
//!   PTR, MINFO, MX), where receivers MUST decompress;
//! - of the types RFC 3597 §4 says receivers SHOULD decompress, RP, AFSDB,
//!   RT, PX and SRV, which are a fixed prefix and then names, so the SHOULD
//!   costs nothing; NAPTR (a name after three character-strings), SIG and
//!   NXT (obsolete, replaced by RRSIG and NSEC) are kept as sent, because
//!   no server compresses them and no TLD zone holds them.
//! - never RRSIG, NSEC or NSEC3: RFC 4034 §3.1.7 and §4.1.1 and RFC 5155
//!   §3.2 forbid compressing their names. The readers this one replaces
//!   followed pointers in the RRSIG signer and NSEC next name as well,
//!   which would have read a sender's stray pointer as a name instead of
//!   as the opaque octets the signature covers; keeping them as sent is
//!   what RFC 3597 §4 asks for every type not listed above.

use crate::iana::{Opcode, Rcode, Rtype};
use crate::name::{MAX_LABEL_LEN, MAX_NAME_LEN, Name};
use crate::rr::Record;

/// Header length (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// Header flag bits, octets 2 and 3 of the header as one `u16` (RFC 1035
/// §4.1.1, RFC 4035 §3.2 for AD and CD).
pub mod flag {
    /// Query/Response: set in a response.
    pub const QR: u16 = 0x8000;
    /// Authoritative Answer.
    pub const AA: u16 = 0x0400;
    /// TrunCation: the message was cut to fit (RFC 2181 §9).
    pub const TC: u16 = 0x0200;
    /// Recursion Desired, copied from query to response.
    pub const RD: u16 = 0x0100;
    /// Recursion Available; an authoritative server leaves it clear.
    pub const RA: u16 = 0x0080;
    /// Authentic Data (RFC 4035 §3.2.3).
    pub const AD: u16 = 0x0020;
    /// Checking Disabled (RFC 4035 §3.2.2).
    pub const CD: u16 = 0x0010;
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message ends inside its header, a question or a record.
    #[error("message ends at {at}, inside its header or a record (RFC 1035 §4.1)")]
    Short {
        /// The message's length: where it ended.
        at: usize,
    },
    /// A name longer than 255 octets, a reserved label type, or a
    /// compression pointer that does not point before the one that led to it.
    #[error("bad name or compression pointer at offset {at} (RFC 1035 §4.1.4)")]
    BadName {
        /// Offset where the name starts.
        at: usize,
    },
    /// RDLENGTH disagrees with the RDATA's structure: shorter than the
    /// octets before its first name, or a name in it runs past RDLENGTH.
    #[error("RDATA of the record at offset {at} does not match its length")]
    BadRdata {
        /// Offset of the record's owner name.
        at: usize,
    },
    /// A TSIG record that is not the last record of the message.
    #[error("TSIG is not the last record of the additional section (RFC 8945 §5.1)")]
    TsigNotLast,
    /// An OPT record in the answer or authority section, a second one, or
    /// one whose owner is not the root.
    #[error("OPT outside the additional section, twice, or not at the root (RFC 6891 §6.1.1)")]
    BadOpt,
    /// Octets left after the last record the header counts.
    #[error("{count} octets after the last record")]
    Trailing {
        /// How many octets are left over.
        count: usize,
    },
}

/// A question (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE: an RR type or a query-only type such as AXFR (RFC 1035 §3.2.3).
    pub qtype: u16,
    /// QCLASS (RFC 1035 §3.2.5).
    pub qclass: u16,
}

/// A resource record as read from a message, RDATA names decompressed
/// where the module docs say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner name.
    pub owner: Name,
    /// TYPE (RFC 1035 §3.2.2).
    pub rtype: u16,
    /// CLASS; for OPT the payload size (RFC 6891 §6.1.2).
    pub class: u16,
    /// TTL, seconds; for OPT the extended RCODE, version and flags.
    pub ttl: u32,
    /// RDATA, with compressed names expanded where the module docs say.
    pub rdata: Vec<u8>,
}

impl Rr {
    /// The zone-model record (owner, TTL, type, RDATA); the class is
    /// dropped, tldns serves IN only.
    pub fn into_record(self) -> Record {
        Record::new(self.owner, self.ttl, self.rtype, self.rdata)
    }

    /// The type an RRSIG covers (RFC 4034 §3.1.1).
    pub fn covered(&self) -> Option<u16> {
        if self.rtype != Rtype::RRSIG.to_int() {
            return None;
        }
        crate::rdata::RrsigFields::covered(&self.rdata)
    }
}

/// The EDNS OPT record (RFC 6891 §6.1.2-§6.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size (the OPT CLASS).
    pub payload: u16,
    /// Upper eight bits of the extended RCODE.
    pub ext_rcode: u8,
    /// EDNS version; only 0 is defined (RFC 6891 §6.1.3).
    pub version: u8,
    /// The DO bit (RFC 3225).
    pub dnssec_ok: bool,
    /// Options, as sent.
    pub options: Vec<u8>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// ID, copied from query to response (RFC 1035 §4.1.1).
    pub id: u16,
    /// Octets 2 and 3 of the header; see [`flag`].
    pub flags: u16,
    /// The question section; one question in practice (RFC 9619).
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Rr>,
    /// The authority section.
    pub authority: Vec<Rr>,
    /// The additional section without the OPT record (that is [`Self::edns`]).
    pub additional: Vec<Rr>,
    /// The OPT record, if the message has one.
    pub edns: Option<Edns>,
    /// Offset of the TSIG record, when the message has one (it is last).
    pub tsig_at: Option<usize>,
}

impl Message {
    /// The OPCODE, bits 11-14 of the flags (RFC 1035 §4.1.1).
    pub fn opcode(&self) -> Opcode {
        Opcode::new(((self.flags >> 11) & 0x0F) as u8)
    }

    /// The RCODE, with the OPT record's upper bits (RFC 6891 §6.1.3).
    pub fn rcode(&self) -> Rcode {
        let ext = self.edns.as_ref().map_or(0, |e| e.ext_rcode);
        Rcode::from_parts((self.flags & 0x0F) as u8, ext)
    }

    /// Whether a [`flag`] bit is set.
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    /// QR is set.
    pub fn is_response(&self) -> bool {
        self.has(flag::QR)
    }

    /// The first question, if any.
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// Read a whole message; octets after the last record are an error.
    pub fn parse(msg: &[u8]) -> Result<Message, WireError> {
        parse(msg)
    }
}

fn u16_at(b: &[u8], i: usize) -> Result<u16, WireError> {
    match b.get(i..i + 2) {
        Some(s) => Ok(u16::from_be_bytes([s[0], s[1]])),
        None => Err(WireError::Short { at: b.len() }),
    }
}

fn u32_at(b: &[u8], i: usize) -> Result<u32, WireError> {
    match b.get(i..i + 4) {
        Some(s) => Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
        None => Err(WireError::Short { at: b.len() }),
    }
}

/// Read a possibly compressed name at `pos` in case-preserving,
/// uncompressed wire form; returns it and the position after it.
///
/// RFC 1035 §4.1.4: a pointer refers to a prior occurrence, so each pointer
/// must point before the one that led to it; that bounds the walk and
/// refuses loops and forward pointers.
pub fn read_name_wire(msg: &[u8], pos: usize) -> Result<(Vec<u8>, usize), WireError> {
    let bad = WireError::BadName { at: pos };
    let mut out = Vec::with_capacity(64);
    let mut i = pos;
    let mut end = None;
    let mut limit = pos;
    loop {
        let len = *msg.get(i).ok_or(WireError::Short { at: msg.len() })? as usize;
        match len & 0xC0 {
            0xC0 => {
                let lo = *msg.get(i + 1).ok_or(WireError::Short { at: msg.len() })? as usize;
                let target = ((len & 0x3F) << 8) | lo;
                if target >= limit {
                    return Err(bad);
                }
                end.get_or_insert(i + 2);
                limit = target;
                i = target;
            }
            0 => {
                debug_assert!(len <= MAX_LABEL_LEN);
                let label = msg
                    .get(i..i + 1 + len)
                    .ok_or(WireError::Short { at: msg.len() })?;
                out.extend_from_slice(label);
                if out.len() > MAX_NAME_LEN {
                    return Err(bad);
                }
                i += 1 + len;
                if len == 0 {
                    return Ok((out, end.unwrap_or(i)));
                }
            }
            // 0x40 and 0x80: extended label types (RFC 6891 §5), unused.
            _ => return Err(bad),
        }
    }
}

/// Read a possibly compressed name at `pos` as a (lower-cased) [`Name`].
pub fn read_name(msg: &[u8], pos: usize) -> Result<(Name, usize), WireError> {
    let (wire, end) = read_name_wire(msg, pos)?;
    let name = Name::from_wire(&wire).map_err(|_| WireError::BadName { at: pos })?;
    Ok((name, end))
}

/// Where a type's RDATA holds names that may be compressed: the octets
/// before the first name, and how many names follow (see module docs).
fn compressed_names(t: Rtype) -> Option<(usize, usize)> {
    Some(match t {
        Rtype::NS
        | Rtype::MD
        | Rtype::MF
        | Rtype::CNAME
        | Rtype::MB
        | Rtype::MG
        | Rtype::MR
        | Rtype::PTR => (0, 1),
        Rtype::SOA | Rtype::MINFO | Rtype::RP => (0, 2),
        Rtype::MX | Rtype::AFSDB | Rtype::RT => (2, 1),
        Rtype::PX => (2, 2),
        Rtype::SRV => (6, 1),
        _ => return None,
    })
}

/// RDATA at `start..start + len` of the record at `at`, names expanded.
fn read_rdata(
    msg: &[u8],
    t: u16,
    at: usize,
    start: usize,
    len: usize,
) -> Result<Vec<u8>, WireError> {
    let end = start + len;
    let raw = msg
        .get(start..end)
        .ok_or(WireError::Short { at: msg.len() })?;
    let Some((skip, names)) = compressed_names(Rtype::new(t)) else {
        return Ok(raw.to_vec());
    };
    let mut out = raw.get(..skip).ok_or(WireError::BadRdata { at })?.to_vec();
    let mut p = start + skip;
    for _ in 0..names {
        let (name, after) = read_name(msg, p)?;
        if after > end {
            return Err(WireError::BadRdata { at });
        }
        out.extend_from_slice(name.wire());
        p = after;
    }
    // SOA's five numbers, MINFO/RP nothing: whatever follows is copied.
    out.extend_from_slice(&msg[p..end]);
    Ok(out)
}

/// Where a record sits in the message it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// Offset of the owner name (possibly compressed).
    pub owner: usize,
    /// Offset of the RDATA as sent (names possibly compressed).
    pub rdata: usize,
}

/// The positions of a message's records, section by section, in the order
/// of [`Message::answers`], [`Message::authority`] and
/// [`Message::additional`] (the OPT record has none). For readers that need
/// the octets as sent, such as the case a query name was written in
/// ([`read_name_wire`] at [`At::owner`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offsets {
    /// The answer section's records.
    pub answers: Vec<At>,
    /// The authority section's records.
    pub authority: Vec<At>,
    /// The additional section's records.
    pub additional: Vec<At>,
}

/// Read a whole message (RFC 1035 §4.1).
pub fn parse(msg: &[u8]) -> Result<Message, WireError> {
    read(msg, None)
}

/// Read a whole message and say where each record sits in it.
pub fn parse_with_offsets(msg: &[u8]) -> Result<(Message, Offsets), WireError> {
    let mut offsets = Offsets::default();
    let m = read(msg, Some(&mut offsets))?;
    Ok((m, offsets))
}

fn read(msg: &[u8], mut offsets: Option<&mut Offsets>) -> Result<Message, WireError> {
    if msg.len() < HEADER_LEN {
        return Err(WireError::Short { at: msg.len() });
    }
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    let counts = [
        u16_at(msg, 4)?,
        u16_at(msg, 6)?,
        u16_at(msg, 8)?,
        u16_at(msg, 10)?,
    ];
    let mut pos = HEADER_LEN;
    let mut questions = Vec::with_capacity(counts[0].min(16) as usize);
    for _ in 0..counts[0] {
        let (name, p) = read_name(msg, pos)?;
        questions.push(Question {
            name,
            qtype: u16_at(msg, p)?,
            qclass: u16_at(msg, p + 2)?,
        });
        pos = p + 4;
    }
    let mut sections: [Vec<Rr>; 3] = Default::default();
    let mut edns = None;
    let mut tsig_at = None;
    for (s, &n) in counts[1..].iter().enumerate() {
        for k in 0..n {
            let at = pos;
            let (owner, p) = read_name(msg, pos)?;
            let rtype = u16_at(msg, p)?;
            let class = u16_at(msg, p + 2)?;
            let ttl = u32_at(msg, p + 4)?;
            let rdlen = u16_at(msg, p + 8)? as usize;
            let rdata = read_rdata(msg, rtype, at, p + 10, rdlen)?;
            pos = p + 10 + rdlen;
            if rtype == Rtype::TSIG.to_int() {
                // RFC 8945 §5.1: TSIG is the last record of the additional
                // section; anything else is FORMERR.
                if s != 2 || k + 1 != n {
                    return Err(WireError::TsigNotLast);
                }
                tsig_at = Some(at);
            }
            if rtype == Rtype::OPT.to_int() {
                // RFC 6891 §6.1.1: at most one, in additional, owner root.
                if s != 2 || edns.is_some() || !owner.is_root() {
                    return Err(WireError::BadOpt);
                }
                let [ext_rcode, version, do_byte, _] = ttl.to_be_bytes();
                edns = Some(Edns {
                    payload: class,
                    ext_rcode,
                    version,
                    dnssec_ok: do_byte & 0x80 != 0,
                    options: rdata,
                });
                continue;
            }
            if let Some(o) = offsets.as_deref_mut() {
                let at = At {
                    owner: at,
                    rdata: p + 10,
                };
                [&mut o.answers, &mut o.authority, &mut o.additional][s].push(at);
            }
            sections[s].push(Rr {
                owner,
                rtype,
                class,
                ttl,
                rdata,
            });
        }
    }
    if pos != msg.len() {
        return Err(WireError::Trailing {
            count: msg.len() - pos,
        });
    }
    let [answers, authority, additional] = sections;
    Ok(Message {
        id,
        flags,
        questions,
        answers,
        authority,
        additional,
        edns,
        tsig_at,
    })
}

/// Section numbers for [`Builder::record`].
pub mod section {
    /// The answer section (ANCOUNT).
    pub const ANSWER: usize = 1;
    /// The authority section (NSCOUNT).
    pub const AUTHORITY: usize = 2;
    /// The additional section (ARCOUNT).
    pub const ADDITIONAL: usize = 3;
}

/// Builds a message: header, question, then records section by section,
/// uncompressed, refusing a record that would pass the size limit.
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
    limit: usize,
    section: usize,
}

impl Builder {
    /// `flags` are octets 2 and 3 of the header (opcode, [`flag`]s, RCODE).
    /// `limit` is the largest message, at most 65535 (RFC 1035 §4.2.2).
    pub fn new(id: u16, flags: u16, limit: usize) -> Builder {
        let limit = limit.min(65_535);
        let mut buf = Vec::with_capacity(limit.min(4096));
        buf.extend_from_slice(&id.to_be_bytes());
        buf.extend_from_slice(&flags.to_be_bytes());
        buf.extend_from_slice(&[0u8; 8]);
        Builder {
            buf,
            limit,
            section: 0,
        }
    }

    fn bump(&mut self, section: usize) {
        let i = 4 + 2 * section;
        let n = u16::from_be_bytes([self.buf[i], self.buf[i + 1]]).saturating_add(1);
        self.buf[i..i + 2].copy_from_slice(&n.to_be_bytes());
    }

    /// Add a question; questions come before any record.
    pub fn question(&mut self, name: &Name, qtype: u16, qclass: u16) {
        debug_assert_eq!(self.section, 0, "question after records");
        self.buf.extend_from_slice(name.wire());
        self.buf.extend_from_slice(&qtype.to_be_bytes());
        self.buf.extend_from_slice(&qclass.to_be_bytes());
        self.bump(0);
    }

    /// Add a record to [`section`] 1, 2 or 3. `false` if it does not fit:
    /// the message is unchanged.
    pub fn record(
        &mut self,
        section: usize,
        owner: &Name,
        rtype: u16,
        class: u16,
        ttl: u32,
        rdata: &[u8],
    ) -> bool {
        debug_assert!((1..=3).contains(&section) && section >= self.section);
        let need = owner.wire_len() + 10 + rdata.len();
        if self.buf.len() + need > self.limit || rdata.len() > 65_535 {
            return false;
        }
        self.section = section;
        self.buf.extend_from_slice(owner.wire());
        self.buf.extend_from_slice(&rtype.to_be_bytes());
        self.buf.extend_from_slice(&class.to_be_bytes());
        self.buf.extend_from_slice(&ttl.to_be_bytes());
        self.buf
            .extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(rdata);
        self.bump(section);
        true
    }

    /// An IN-class [`Record`].
    pub fn rec(&mut self, section: usize, r: &Record) -> bool {
        self.record(
            section,
            &r.owner,
            r.rtype,
            crate::iana::Class::IN.to_int(),
            r.ttl,
            &r.rdata,
        )
    }

    /// The OPT record (RFC 6891 §6.1.2), in the additional section: root
    /// owner, CLASS the payload size, TTL extended RCODE, version and DO.
    /// The extended RCODE bits are `rcode`'s upper eight.
    pub fn edns(&mut self, payload: u16, rcode: Rcode, dnssec_ok: bool, options: &[u8]) -> bool {
        let ttl = u32::from_be_bytes([
            rcode.extended_bits(),
            0,
            if dnssec_ok { 0x80 } else { 0 },
            0,
        ]);
        self.record(
            section::ADDITIONAL,
            &Name::root(),
            Rtype::OPT.to_int(),
            payload,
            ttl,
            options,
        )
    }

    /// Set TC (RFC 1035 §4.1.1, RFC 2181 §9): the message was cut short.
    pub fn set_tc(&mut self) {
        self.buf[2] |= (flag::TC >> 8) as u8;
    }

    /// Records in the answer section so far.
    pub fn answers(&self) -> u16 {
        u16::from_be_bytes([self.buf[6], self.buf[7]])
    }

    /// Length of the message so far, octets.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True while the message holds only its header.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= HEADER_LEN
    }

    /// The message as built.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    /// Header, question `Mobile.` SOA, then the given answer record bytes.
    fn with_answer(rr: &[u8]) -> Vec<u8> {
        let mut m = vec![0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x06Mobile\x00\x00\x06\x00\x01");
        m.extend_from_slice(rr);
        m
    }

    #[test]
    fn rfc1035_section_4_1_4_pointer_loops_refused() {
        // Owner is a pointer to itself; then a two-pointer loop.
        let m = with_answer(&[0xC0, 24, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&m), Err(WireError::BadName { at: 24 }));
        let mut m = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xC0, 14, 0xC0, 12, 0, 1, 0, 1]);
        assert!(matches!(read_name(&m, 14), Err(WireError::BadName { .. })));
    }

    #[test]
    fn rfc1035_section_4_1_4_forward_and_out_of_range_pointers_refused() {
        let m = with_answer(&[0xC0, 30, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&m), Err(WireError::BadName { at: 24 }));
        let m = with_answer(&[0xFF, 0xFF, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&m), Err(WireError::BadName { at: 24 }));
        // Extended label type 0x40 (RFC 6891 §5).
        let m = with_answer(&[0x41, b'a', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&m), Err(WireError::BadName { at: 24 }));
    }

    #[test]
    fn rfc3597_section_4_rdata_decompression() {
        // NS: "a.nic" + pointer to the question name; owner a pointer too.
        let mut rr = vec![0xC0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 8];
        rr.extend_from_slice(b"\x01A\x03nic\xC0\x0C");
        let p = parse(&with_answer(&rr)).unwrap();
        assert_eq!(p.answers[0].owner, n("mobile."));
        assert_eq!(p.answers[0].rdata, n("a.nic.mobile.").wire());
        // MX: preference then a compressed name.
        let mut rr = vec![0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 7];
        rr.extend_from_slice(b"\x00\x0a\x02mx\xC0\x0C");
        let p = parse(&with_answer(&rr)).unwrap();
        assert_eq!(p.answers[0].rdata, b"\x00\x0a\x02mx\x06mobile\x00");
        // SOA: two compressed names, then the five numbers.
        let mut rr = vec![0xC0, 12, 0, 6, 0, 1, 0, 0, 0, 60, 0, 29];
        rr.extend_from_slice(b"\x01a\xC0\x0C\x02hm\xC0\x0C");
        rr.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
        let p = parse(&with_answer(&rr)).unwrap();
        let mut want = n("a.mobile.").wire().to_vec();
        want.extend_from_slice(n("hm.mobile.").wire());
        want.extend_from_slice(&rr[rr.len() - 20..]);
        assert_eq!(p.answers[0].rdata, want);
        // A name running past RDLENGTH is refused.
        let mut rr = vec![0xC0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 1];
        rr.extend_from_slice(b"\x01a\x00");
        assert!(parse(&with_answer(&rr)).is_err());
    }

    #[test]
    fn rfc4034_rrsig_rdata_kept_as_sent() {
        // RRSIG whose "signer" is a pointer: octets kept, not followed.
        let mut rd = vec![0, 6, 13, 1, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 1, 0, 9];
        rd.extend_from_slice(&[0xC0, 12, 0xAA]);
        let mut rr = vec![0xC0, 12, 0, 46, 0, 1, 0, 0, 0, 60, 0, rd.len() as u8];
        rr.extend_from_slice(&rd);
        let p = parse(&with_answer(&rr)).unwrap();
        assert_eq!(p.answers[0].rdata, rd);
        assert_eq!(p.answers[0].covered(), Some(6));
    }

    #[test]
    fn truncated_messages_refused() {
        let mut rr = vec![0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4];
        rr.extend_from_slice(&[192, 0, 2, 1]);
        let m = with_answer(&rr);
        assert!(parse(&m).is_ok());
        for cut in 0..m.len() {
            assert!(parse(&m[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = m.clone();
        long.push(0);
        assert_eq!(parse(&long), Err(WireError::Trailing { count: 1 }));
    }

    #[test]
    fn rfc8945_section_5_1_tsig_must_be_last() {
        let root = Name::root();
        let mut b = Builder::new(1, 0, 512);
        b.question(&n("mobile."), Rtype::SOA.to_int(), 1);
        b.record(3, &n("k."), Rtype::TSIG.to_int(), 255, 0, &[]);
        b.record(3, &root, Rtype::A.to_int(), 1, 0, &[1, 2, 3, 4]);
        assert_eq!(parse(&b.finish()), Err(WireError::TsigNotLast));
        let mut b = Builder::new(1, 0, 512);
        b.record(1, &n("k."), Rtype::TSIG.to_int(), 255, 0, &[]);
        assert_eq!(parse(&b.finish()), Err(WireError::TsigNotLast));
        let mut b = Builder::new(1, 0, 512);
        b.question(&n("mobile."), Rtype::SOA.to_int(), 1);
        let at = b.len();
        b.record(3, &n("k."), Rtype::TSIG.to_int(), 255, 0, &[]);
        assert_eq!(parse(&b.finish()).unwrap().tsig_at, Some(at));
    }

    #[test]
    fn builder_round_trip_with_edns_and_tc() {
        let z = n("mobile.");
        let mut b = Builder::new(7, flag::QR | flag::AA | 3, 12 + 12 + 30 + 11);
        b.question(&z, Rtype::SOA.to_int(), 1);
        assert!(b.record(1, &z, Rtype::A.to_int(), 1, 9, &[1, 2, 3, 4]));
        assert!(!b.record(1, &z, Rtype::A.to_int(), 1, 9, &[1, 2, 3, 4]));
        b.set_tc();
        assert!(b.edns(1232, Rcode::BADCOOKIE, true, &[]));
        let p = parse(&b.finish()).unwrap();
        assert_eq!(p.id, 7);
        assert!(p.is_response() && p.has(flag::AA) && p.has(flag::TC));
        assert_eq!(p.opcode(), Opcode::QUERY);
        // Header bits 3 plus extended bits 1: 23 (RFC 6891 §6.1.3).
        assert_eq!(
            p.rcode(),
            Rcode::new(((Rcode::BADCOOKIE.extended_bits() as u16) << 4) | 3)
        );
        assert_eq!(p.question().unwrap().name, z);
        assert_eq!(p.answers.len(), 1);
        assert_eq!(p.answers[0].ttl, 9);
        let e = p.edns.unwrap();
        assert_eq!((e.payload, e.dnssec_ok, e.version), (1232, true, 0));
        assert!(p.additional.is_empty());
    }

    #[test]
    fn rfc6891_section_6_1_1_one_opt_at_the_root() {
        let mut b = Builder::new(1, 0, 512);
        b.edns(512, Rcode::NOERROR, false, &[]);
        b.edns(512, Rcode::NOERROR, false, &[]);
        assert_eq!(parse(&b.finish()), Err(WireError::BadOpt));
        let mut b = Builder::new(1, 0, 512);
        b.record(3, &n("x."), Rtype::OPT.to_int(), 512, 0, &[]);
        assert_eq!(parse(&b.finish()), Err(WireError::BadOpt));
    }
}
