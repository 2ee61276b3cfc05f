//! DNS messages as the probe sees them: the query it sends and the
//! response it parses (RFC 1035 §4.1, RFC 6891 for EDNS).
//!
//! Owns the probe's own wire parser; it shares nothing with the server's
//! answer path, so a bug there cannot hide itself here. Names are
//! decompressed (RFC 1035 §4.1.4) and lower-cased, also inside the RDATA of
//! the RFC 3597 §4 "well-known" types, which is the canonical form RRSIG
//! verification needs (RFC 4034 §6.2).

use crate::name::Name;
use crate::rr::rtype;

/// EDNS payload size the probe offers (DNS flag day 2020 value).
pub const EDNS_PAYLOAD: u16 = 1232;

/// Header flag bits (RFC 1035 §4.1.1).
pub mod flag {
    pub const QR: u16 = 0x8000;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
}

/// RCODEs the probe names.
pub mod rcode {
    pub const NOERROR: u16 = 0;
    pub const SERVFAIL: u16 = 2;
    pub const NXDOMAIN: u16 = 3;
    pub const REFUSED: u16 = 5;
}

/// A response that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message shorter than its header (RFC 1035 §4.1.1)")]
    ShortHeader,
    #[error("message ends inside a record (RFC 1035 §4.1)")]
    Truncated,
    #[error("bad name or compression pointer (RFC 1035 §4.1.4)")]
    BadName,
    #[error("{0} octets after the last record")]
    TrailingOctets(usize),
}

/// One resource record of a response, names decompressed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub owner: Name,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub rdata: Vec<u8>,
}

impl Rr {
    /// The type an RRSIG covers (RFC 4034 §3.1.1).
    pub fn covered(&self) -> Option<u16> {
        (self.rtype == rtype::RRSIG && self.rdata.len() >= 2)
            .then(|| u16::from_be_bytes([self.rdata[0], self.rdata[1]]))
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    pub flags: u16,
    /// RCODE including the EDNS extended bits (RFC 6891 §6.1.3).
    pub rcode: u16,
    pub question: Option<(Name, u16, u16)>,
    pub answer: Vec<Rr>,
    pub authority: Vec<Rr>,
    pub additional: Vec<Rr>,
    /// EDNS: (payload size, DO bit), from the OPT record.
    pub edns: Option<(u16, bool)>,
}

/// A non-recursive query (RD clear) with EDNS and the DO bit set (RFC 3225),
/// as Spec 10 §3.7 asks: "one non-recursive DNS query".
pub fn query(id: u16, qname: &Name, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(12 + qname.wire_len() + 4 + 11);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    q.extend_from_slice(qname.wire());
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&crate::rr::class::IN.to_be_bytes());
    // OPT: root owner, type 41, class = payload, TTL = ext-rcode/version/DO.
    q.push(0);
    q.extend_from_slice(&rtype::OPT.to_be_bytes());
    q.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0x80, 0, 0, 0]);
    q
}

/// Read a possibly compressed name at `pos`; returns it and the offset after
/// it in the original stream.
fn read_name(m: &[u8], mut pos: usize) -> Result<(Name, usize), MessageError> {
    let mut wire = Vec::with_capacity(64);
    let mut end = None;
    // Each pointer must go backwards, which bounds the loop (RFC 1035
    // §4.1.4 pointers refer to a prior occurrence).
    let mut limit = pos;
    loop {
        let l = *m.get(pos).ok_or(MessageError::Truncated)? as usize;
        match l & 0xC0 {
            0xC0 => {
                let lo = *m.get(pos + 1).ok_or(MessageError::Truncated)? as usize;
                let target = ((l & 0x3F) << 8) | lo;
                if target >= limit {
                    return Err(MessageError::BadName);
                }
                end.get_or_insert(pos + 2);
                limit = target;
                pos = target;
            }
            0 => {
                let label = m.get(pos..pos + 1 + l).ok_or(MessageError::Truncated)?;
                wire.extend_from_slice(label);
                if wire.len() > crate::name::MAX_NAME_LEN {
                    return Err(MessageError::BadName);
                }
                pos += 1 + l;
                if l == 0 {
                    break;
                }
            }
            _ => return Err(MessageError::BadName),
        }
    }
    let name = Name::from_wire(&wire).map_err(|_| MessageError::BadName)?;
    Ok((name, end.unwrap_or(pos)))
}

fn u16_at(m: &[u8], i: usize) -> Result<u16, MessageError> {
    Ok(u16::from_be_bytes([
        *m.get(i).ok_or(MessageError::Truncated)?,
        *m.get(i + 1).ok_or(MessageError::Truncated)?,
    ]))
}

/// RDATA with its names expanded, for the types whose RDATA may be
/// compressed (RFC 3597 §4: NS, CNAME, SOA, PTR, MX and a few obsolete
/// ones); the others are copied as they are.
fn rdata(m: &[u8], t: u16, start: usize, len: usize) -> Result<Vec<u8>, MessageError> {
    let end = start + len;
    let raw = m.get(start..end).ok_or(MessageError::Truncated)?;
    let names_then_rest = |skip: usize, names: usize| -> Result<Vec<u8>, MessageError> {
        let mut out = raw.get(..skip).ok_or(MessageError::Truncated)?.to_vec();
        let mut p = start + skip;
        for _ in 0..names {
            let (n, after) = read_name(m, p)?;
            if after > end {
                return Err(MessageError::Truncated);
            }
            out.extend_from_slice(n.wire());
            p = after;
        }
        out.extend_from_slice(&m[p..end]);
        Ok(out)
    };
    match t {
        rtype::NS | rtype::CNAME | rtype::PTR => names_then_rest(0, 1),
        rtype::MX => names_then_rest(2, 1),
        rtype::SOA => names_then_rest(0, 2),
        // RRSIG's signer name is never compressed (RFC 4034 §3.1.7) but
        // is lower-cased for the signed data (RFC 4034 §6.2).
        rtype::RRSIG if raw.len() > 18 => {
            let (n, after) = read_name(raw, 18)?;
            let mut out = raw[..18].to_vec();
            out.extend_from_slice(n.wire());
            out.extend_from_slice(&raw[after..]);
            Ok(out)
        }
        _ => Ok(raw.to_vec()),
    }
}

impl Message {
    /// Parse a whole message; trailing octets are an error.
    pub fn parse(m: &[u8]) -> Result<Message, MessageError> {
        if m.len() < 12 {
            return Err(MessageError::ShortHeader);
        }
        let id = u16_at(m, 0)?;
        let flags = u16_at(m, 2)?;
        let counts = [u16_at(m, 4)?, u16_at(m, 6)?, u16_at(m, 8)?, u16_at(m, 10)?];
        let mut pos = 12;
        let mut question = None;
        for _ in 0..counts[0] {
            let (n, p) = read_name(m, pos)?;
            let q = (n, u16_at(m, p)?, u16_at(m, p + 2)?);
            question.get_or_insert(q);
            pos = p + 4;
        }
        let mut sections: [Vec<Rr>; 3] = Default::default();
        let mut edns = None;
        let mut rcode = flags & 0x000F;
        for (sec, &count) in counts[1..].iter().enumerate() {
            for _ in 0..count {
                let (owner, p) = read_name(m, pos)?;
                let t = u16_at(m, p)?;
                let class = u16_at(m, p + 2)?;
                let ttl = (u16_at(m, p + 4)? as u32) << 16 | u16_at(m, p + 6)? as u32;
                let len = u16_at(m, p + 8)? as usize;
                let rd = rdata(m, t, p + 10, len)?;
                pos = p + 10 + len;
                if t == rtype::OPT {
                    rcode |= ((ttl >> 24) as u16) << 4;
                    edns = Some((class, ttl & 0x8000 != 0));
                    continue;
                }
                sections[sec].push(Rr {
                    owner,
                    rtype: t,
                    class,
                    ttl,
                    rdata: rd,
                });
            }
        }
        if pos != m.len() {
            return Err(MessageError::TrailingOctets(m.len() - pos));
        }
        let [answer, authority, additional] = sections;
        Ok(Message {
            id,
            flags,
            rcode,
            question,
            answer,
            authority,
            additional,
            edns,
        })
    }

    pub fn aa(&self) -> bool {
        self.flags & flag::AA != 0
    }

    pub fn tc(&self) -> bool {
        self.flags & flag::TC != 0
    }

    /// Uncompressed wire form, with an OPT record if the message had one.
    /// For tests and tools that rewrite responses (a fault-injecting proxy).
    pub fn to_wire(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(512);
        w.extend_from_slice(&self.id.to_be_bytes());
        w.extend_from_slice(&((self.flags & !0x000F) | (self.rcode & 0x000F)).to_be_bytes());
        let qd = self.question.is_some() as u16;
        let ar = self.additional.len() as u16 + self.edns.is_some() as u16;
        for c in [
            qd,
            self.answer.len() as u16,
            self.authority.len() as u16,
            ar,
        ] {
            w.extend_from_slice(&c.to_be_bytes());
        }
        if let Some((n, t, c)) = &self.question {
            w.extend_from_slice(n.wire());
            w.extend_from_slice(&t.to_be_bytes());
            w.extend_from_slice(&c.to_be_bytes());
        }
        for rr in self
            .answer
            .iter()
            .chain(&self.authority)
            .chain(&self.additional)
        {
            w.extend_from_slice(rr.owner.wire());
            w.extend_from_slice(&rr.rtype.to_be_bytes());
            w.extend_from_slice(&rr.class.to_be_bytes());
            w.extend_from_slice(&rr.ttl.to_be_bytes());
            w.extend_from_slice(&(rr.rdata.len() as u16).to_be_bytes());
            w.extend_from_slice(&rr.rdata);
        }
        if let Some((payload, d_o)) = self.edns {
            w.push(0);
            w.extend_from_slice(&rtype::OPT.to_be_bytes());
            w.extend_from_slice(&payload.to_be_bytes());
            let ext = ((self.rcode >> 4) & 0xFF) as u8;
            w.extend_from_slice(&[ext, 0, if d_o { 0x80 } else { 0 }, 0, 0, 0]);
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn query_is_non_recursive_with_do() {
        let q = query(0x1234, &n("mobile."), rtype::SOA);
        let m = Message::parse(&q).unwrap();
        assert_eq!(m.id, 0x1234);
        assert_eq!(m.flags & flag::RD, 0, "Spec 10 §3.7: non-recursive");
        assert_eq!(m.edns, Some((EDNS_PAYLOAD, true)));
        assert_eq!(m.question, Some((n("mobile."), rtype::SOA, 1)));
    }

    /// RFC 1035 §4.1.4: a pointer in RDATA is expanded, and the result
    /// round-trips through the uncompressed encoder.
    #[test]
    fn rfc1035_section_4_1_4_compression_in_rdata() {
        let mut m = vec![0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x06Mobile\x00\x00\x02\x00\x01");
        // answer: owner pointer to 12, NS, rdata "a.nic" + pointer to 12
        m.extend_from_slice(&[0xC0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 8]);
        m.extend_from_slice(b"\x01a\x03nic\xC0\x0C");
        let p = Message::parse(&m).unwrap();
        assert_eq!(p.answer[0].owner, n("mobile."));
        assert_eq!(p.answer[0].rdata, n("a.nic.mobile.").wire());
        assert!(p.aa());
        let again = Message::parse(&p.to_wire()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn forward_pointer_is_refused() {
        let mut m = vec![0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xC0, 12, 0, 2, 0, 1]);
        assert_eq!(Message::parse(&m), Err(MessageError::BadName));
        assert_eq!(Message::parse(&m[..5]), Err(MessageError::ShortHeader));
    }
}
