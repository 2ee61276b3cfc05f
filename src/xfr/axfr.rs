//! AXFR out (RFC 5936): the zone as a stream of messages, SOA first and
//! last, each message at most 65535 octets with its TSIG (RFC 5936 §2.2,
//! RFC 8945 §5.3.1: every message signed).
//!
//! Also the [`Packer`] the IXFR answer uses. Names are written uncompressed
//! (RFC 5936 §2.2 allows either); the records come from
//! [`SignedZone::records`], so a transfer is exactly what verify checked.

use super::msg::{Builder, Message, response_flags};
use super::tsig::{ResponseSigner, overhead};
use crate::rr::Record;
use crate::server::answer::rcode;
use crate::zone::SignedZone;

/// Largest message we send (the TCP length prefix is 16 bits).
pub const MAX_MESSAGE: usize = 65_535;

/// Packs answer records into as many messages as needed and signs each.
pub struct Packer<'a> {
    query: &'a Message,
    signer: Option<ResponseSigner>,
    now: u64,
    limit: usize,
    cur: Builder,
    out: Vec<Vec<u8>>,
}

impl<'a> Packer<'a> {
    /// A packer for the answer to `query`: the first message repeats the
    /// question; with a `signer` every message is signed at `now` and room
    /// is left for its TSIG.
    pub fn new(query: &'a Message, signer: Option<ResponseSigner>, now: u64) -> Packer<'a> {
        let limit = MAX_MESSAGE - signer.as_ref().map_or(0, |s| overhead(s.key()));
        let mut cur = Builder::new(
            query.id,
            response_flags(query.flags, true, rcode::NOERROR),
            limit,
        );
        // RFC 5936 §2.2.1: the first message carries the question.
        if let Some(q) = query.question() {
            cur.question(&q.name, q.qtype, q.qclass);
        }
        Packer {
            query,
            signer,
            now,
            limit,
            cur,
            out: Vec::new(),
        }
    }

    fn flush(&mut self) {
        let next = Builder::new(
            self.query.id,
            response_flags(self.query.flags, true, rcode::NOERROR),
            self.limit,
        );
        let mut m = std::mem::replace(&mut self.cur, next).finish();
        if let Some(s) = &mut self.signer {
            s.sign(&mut m, self.now);
        }
        self.out.push(m);
    }

    /// Add a record to the answer section, starting a new message when the
    /// current one is full.
    pub fn push(&mut self, r: &Record) {
        if self.cur.rec(1, r) {
            return;
        }
        self.flush();
        // A record is at most 255 + 10 + 65535 octets in theory; in a TLD
        // zone every record fits an empty message many times over.
        let fitted = self.cur.rec(1, r);
        debug_assert!(fitted, "record larger than a message");
    }

    /// The messages, in order, each signed if there is a signer; at least
    /// one.
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if self.cur.answers() > 0 || self.out.is_empty() {
            self.flush();
        }
        self.out
    }
}

/// The AXFR answer (or an AXFR-style IXFR answer, RFC 1995 §4): SOA, every
/// other record, SOA again.
pub fn respond(
    query: &Message,
    zone: &SignedZone,
    signer: Option<ResponseSigner>,
    now: u64,
) -> Vec<Vec<u8>> {
    let recs = zone.records();
    let mut p = Packer::new(query, signer, now);
    let soa_at = recs
        .iter()
        .position(|r| r.rtype == crate::rr::rtype::SOA)
        .expect("a zone's records hold its SOA");
    p.push(&recs[soa_at]);
    for (i, r) in recs.iter().enumerate() {
        if i != soa_at {
            p.push(r);
        }
    }
    p.push(&recs[soa_at]);
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::super::msg::parse;
    use super::*;
    use crate::name::Name;
    use crate::rr::rtype;

    #[test]
    fn rfc5936_section_2_2_soa_first_and_last_split_in_messages() {
        let names: Vec<String> = (0..3000).map(|i| format!("name-{i}.mobile.")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let z = crate::xfr::diff::tests::zone(7, &refs);
        let mut b = Builder::new(9, 0, 512);
        b.question(&Name::parse("mobile.").unwrap(), rtype::AXFR, 1);
        let q = parse(&b.finish()).unwrap();
        let msgs = respond(&q, &z, None, 0);
        assert!(msgs.len() > 1, "{} messages", msgs.len());
        let mut all = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            assert!(m.len() <= MAX_MESSAGE);
            let p = parse(m).unwrap();
            assert_eq!(p.id, 9);
            assert_eq!(p.questions.len(), usize::from(i == 0));
            all.extend(p.answers);
        }
        assert_eq!(all.first().unwrap().rtype, rtype::SOA);
        assert_eq!(all.last().unwrap().rtype, rtype::SOA);
        assert_eq!(all.len(), z.records().len() + 1);
    }
}
