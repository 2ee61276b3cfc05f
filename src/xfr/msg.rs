//! DNS messages for the control plane (transfers, NOTIFY, TSIG): a parser
//! that follows compression pointers (RFC 1035 §4.1.4) and a builder that
//! writes uncompressed records up to a size limit.
//!
//! Not for the query hot path (that is [`crate::server::answer`], which
//! works on raw bytes without allocating). Names in RDATA of the types a TLD
//! zone holds (NS, SOA, and CNAME/PTR/MX/NSEC/RRSIG for good measure) are
//! decompressed; other RDATA is kept as sent (RFC 3597 §4: no compression in
//! new types).

use crate::name::Name;
use crate::rr::{Record, rtype};

/// Opcodes (RFC 1035 §4.1.1, RFC 1996).
pub mod opcode {
    pub const QUERY: u8 = 0;
    pub const NOTIFY: u8 = 4;
}

/// Header flag bits (second and third octet as one u16).
pub mod flag {
    pub const QR: u16 = 0x8000;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message shorter than its header or counts say (RFC 1035 §4.1)")]
    Short,
    #[error("bad name at offset {0} (RFC 1035 §4.1.4)")]
    BadName(usize),
    #[error("TSIG is not the last record of the additional section (RFC 8945 §5.1)")]
    TsigNotLast,
}

/// A question (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: Name,
    pub qtype: u16,
    pub qclass: u16,
}

/// A resource record as read from a message, RDATA decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub owner: Name,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub rdata: Vec<u8>,
}

impl Rr {
    pub fn into_record(self) -> Record {
        Record::new(self.owner, self.ttl, self.rtype, self.rdata)
    }
}

/// A parsed message.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: u16,
    /// Octets 2 and 3 of the header.
    pub flags: u16,
    pub questions: Vec<Question>,
    pub answers: Vec<Rr>,
    pub authority: Vec<Rr>,
    pub additional: Vec<Rr>,
    /// Offset of the TSIG record, when the message has one (it is last).
    pub tsig_at: Option<usize>,
}

impl Message {
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0F) as u8
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x0F) as u8
    }
    pub fn is_response(&self) -> bool {
        self.flags & flag::QR != 0
    }
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }
}

fn u16_at(b: &[u8], i: usize) -> Result<u16, WireError> {
    Ok(u16::from_be_bytes([
        *b.get(i).ok_or(WireError::Short)?,
        *b.get(i + 1).ok_or(WireError::Short)?,
    ]))
}

fn u32_at(b: &[u8], i: usize) -> Result<u32, WireError> {
    Ok(u32::from_be_bytes(
        b.get(i..i + 4)
            .ok_or(WireError::Short)?
            .try_into()
            .map_err(|_| WireError::Short)?,
    ))
}

/// Read a possibly compressed name at `pos`; returns it (uncompressed) and
/// the position after it in the message.
pub fn read_name(msg: &[u8], pos: usize) -> Result<(Name, usize), WireError> {
    let mut out = Vec::with_capacity(64);
    let mut i = pos;
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(i).ok_or(WireError::BadName(pos))? as usize;
        if len & 0xC0 == 0xC0 {
            let target =
                ((len & 0x3F) << 8) | *msg.get(i + 1).ok_or(WireError::BadName(pos))? as usize;
            if end.is_none() {
                end = Some(i + 2);
            }
            jumps += 1;
            // A pointer must go backwards; a bound on jumps stops loops.
            if target >= i || jumps > 64 {
                return Err(WireError::BadName(pos));
            }
            i = target;
            continue;
        }
        if len > 63 {
            return Err(WireError::BadName(pos));
        }
        out.push(len as u8);
        if len == 0 {
            break;
        }
        out.extend_from_slice(msg.get(i + 1..i + 1 + len).ok_or(WireError::BadName(pos))?);
        i += 1 + len;
        if out.len() > 255 {
            return Err(WireError::BadName(pos));
        }
    }
    let name = Name::from_wire(&out).map_err(|_| WireError::BadName(pos))?;
    Ok((name, end.unwrap_or(i + 1)))
}

/// RDATA with embedded names decompressed, for the types that may carry
/// compressed names (RFC 3597 §4).
fn read_rdata(msg: &[u8], t: u16, start: usize, len: usize) -> Result<Vec<u8>, WireError> {
    let end = start + len;
    let raw = msg.get(start..end).ok_or(WireError::Short)?;
    let names_then_rest = |n: usize, skip: usize| -> Result<Vec<u8>, WireError> {
        let mut v = raw.get(..skip).ok_or(WireError::Short)?.to_vec();
        let mut p = start + skip;
        for _ in 0..n {
            let (name, next) = read_name(msg, p)?;
            v.extend_from_slice(name.wire());
            p = next;
        }
        if p > end {
            return Err(WireError::Short);
        }
        v.extend_from_slice(&msg[p..end]);
        Ok(v)
    };
    match t {
        rtype::NS | rtype::CNAME | rtype::PTR => names_then_rest(1, 0),
        rtype::SOA => names_then_rest(2, 0),
        rtype::MX => names_then_rest(1, 2),
        rtype::NSEC => names_then_rest(1, 0),
        rtype::RRSIG if len > 18 => names_then_rest(1, 18),
        _ => Ok(raw.to_vec()),
    }
}

fn read_rr(msg: &[u8], pos: usize) -> Result<(Rr, usize), WireError> {
    let (owner, p) = read_name(msg, pos)?;
    let rtype = u16_at(msg, p)?;
    let class = u16_at(msg, p + 2)?;
    let ttl = u32_at(msg, p + 4)?;
    let rdlen = u16_at(msg, p + 8)? as usize;
    let rdata = read_rdata(msg, rtype, p + 10, rdlen)?;
    Ok((
        Rr {
            owner,
            rtype,
            class,
            ttl,
            rdata,
        },
        p + 10 + rdlen,
    ))
}

/// Parse a whole message.
pub fn parse(msg: &[u8]) -> Result<Message, WireError> {
    if msg.len() < 12 {
        return Err(WireError::Short);
    }
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    let counts = [
        u16_at(msg, 4)?,
        u16_at(msg, 6)?,
        u16_at(msg, 8)?,
        u16_at(msg, 10)?,
    ];
    let mut pos = 12;
    let mut questions = Vec::with_capacity(counts[0] as usize);
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
    let mut tsig_at = None;
    for (s, &n) in counts[1..].iter().enumerate() {
        for k in 0..n {
            let start = pos;
            let (rr, p) = read_rr(msg, pos)?;
            if rr.rtype == rtype::TSIG {
                if s != 2 || k + 1 != n {
                    return Err(WireError::TsigNotLast);
                }
                tsig_at = Some(start);
            }
            sections[s].push(rr);
            pos = p;
        }
    }
    let [answers, authority, additional] = sections;
    Ok(Message {
        id,
        flags,
        questions,
        answers,
        authority,
        additional,
        tsig_at,
    })
}

/// Builds a message: header, question, then records section by section,
/// refusing a record that would pass the size limit.
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
    limit: usize,
    section: usize,
}

impl Builder {
    /// `flags` are octets 2 and 3 of the header (opcode, QR, AA, RCODE...).
    pub fn new(id: u16, flags: u16, limit: usize) -> Builder {
        let mut buf = Vec::with_capacity(limit.min(65_535));
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
        let n = u16::from_be_bytes([self.buf[i], self.buf[i + 1]]) + 1;
        self.buf[i..i + 2].copy_from_slice(&n.to_be_bytes());
    }

    pub fn question(&mut self, name: &Name, qtype: u16, qclass: u16) {
        debug_assert_eq!(self.section, 0, "question after records");
        self.buf.extend_from_slice(name.wire());
        self.buf.extend_from_slice(&qtype.to_be_bytes());
        self.buf.extend_from_slice(&qclass.to_be_bytes());
        self.bump(0);
    }

    /// Add a record to section 1 (answer), 2 (authority) or 3 (additional).
    /// `false` if it does not fit: the message is unchanged.
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
            crate::rr::class::IN,
            r.ttl,
            &r.rdata,
        )
    }

    /// Records in the answer section so far.
    pub fn answers(&self) -> u16 {
        u16::from_be_bytes([self.buf[6], self.buf[7]])
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.len() <= 12
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Flags of a response to `query_flags`: QR set, opcode and RD copied.
pub fn response_flags(query_flags: u16, aa: bool, rcode: u8) -> u16 {
    flag::QR
        | (query_flags & 0x7800)
        | (query_flags & 0x0100)
        | if aa { flag::AA } else { 0 }
        | rcode as u16
}

/// A header-and-question-only response (errors): ID, opcode, question copied.
pub fn bare_response(query: &Message, rcode: u8) -> Builder {
    let mut b = Builder::new(query.id, response_flags(query.flags, false, rcode), 65_535);
    if let Some(q) = query.question() {
        b.question(&q.name, q.qtype, q.qclass);
    }
    b
}

/// The serial of SOA RDATA (RFC 1035 §3.3.13): the first of the five
/// numbers after the two names.
pub fn soa_serial(rdata: &[u8]) -> Option<u32> {
    let (_, i) = crate::rr::read_name(rdata, 0)?;
    let (_, i) = crate::rr::read_name(rdata, i)?;
    if rdata.len() != i + 20 {
        return None;
    }
    Some(u32::from_be_bytes(rdata[i..i + 4].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_section_4_1_4_compression_pointers() {
        // Header, question mobile. SOA, answer with owner pointer to 12 and
        // an NS rdata "a" + pointer to 12.
        let mut m = vec![0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x06mobile\x00\x00\x02\x00\x01");
        m.extend_from_slice(&[0xC0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 4, 1, b'a', 0xC0, 12]);
        let p = parse(&m).unwrap();
        assert_eq!(p.answers[0].owner.to_string(), "mobile.");
        assert_eq!(p.answers[0].rdata, b"\x01a\x06mobile\x00");
        // A forward pointer is refused.
        let mut bad = m.clone();
        bad[12 + 12] = 0xC0;
        bad[12 + 13] = 200;
        assert!(parse(&bad).is_err());
    }

    #[test]
    fn builder_respects_limit() {
        let n = Name::parse("mobile.").unwrap();
        let mut b = Builder::new(7, 0x8400, 12 + 12 + 30);
        b.question(&n, rtype::SOA, 1);
        assert!(b.record(1, &n, rtype::A, 1, 1, &[1, 2, 3, 4]));
        assert!(!b.record(1, &n, rtype::A, 1, 1, &[1, 2, 3, 4]));
        let p = parse(&b.finish()).unwrap();
        assert_eq!(p.answers.len(), 1);
        assert_eq!(p.id, 7);
    }
}
