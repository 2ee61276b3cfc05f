//! The query a DNS test sends (Spec 10 §3.7: "one non-recursive DNS
//! query"), written with the base layer's message builder; responses are
//! read with the base layer's reader ([`tldns_base::message::parse`]).
//!
//! The probe shares the base layer's message framing with the rest of
//! tldns, but nothing of the server's answer path, which parses queries in
//! place: a bug there cannot hide itself here.

use crate::name::Name;
use crate::rr::class;
use tldns_base::iana::Rcode;
use tldns_base::message::Builder;

/// EDNS payload size the probe offers (DNS flag day 2020 value).
pub const EDNS_PAYLOAD: u16 = 1232;

/// Largest query: a 255-octet name fits with room to spare.
const QUERY_LIMIT: usize = 512;

/// A non-recursive query (RD clear) with EDNS and the DO bit set (RFC 3225),
/// as Spec 10 §3.7 asks. The OPT record is the query's last 11 octets
/// ([`super::client::matches`] relies on it).
pub fn query(id: u16, qname: &Name, qtype: u16) -> Vec<u8> {
    let mut b = Builder::new(id, 0, QUERY_LIMIT);
    b.question(qname, qtype, class::IN);
    // Header, question and an empty OPT are at most 12 + 259 + 11 octets.
    let fits = b.edns(EDNS_PAYLOAD, Rcode::NOERROR, true, &[]);
    debug_assert!(fits, "a query always fits {QUERY_LIMIT} octets");
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rr::rtype;
    use tldns_base::message::{Message, flag};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn query_is_non_recursive_with_do() {
        let q = query(0x1234, &n("mobile."), rtype::SOA);
        let m = Message::parse(&q).unwrap();
        assert_eq!(m.id, 0x1234);
        assert_eq!(m.flags & flag::RD, 0, "Spec 10 §3.7: non-recursive");
        let e = m.edns.as_ref().unwrap();
        assert_eq!((e.payload, e.dnssec_ok), (EDNS_PAYLOAD, true));
        let question = m.question().unwrap();
        assert_eq!(
            (&question.name, question.qtype, question.qclass),
            (&n("mobile."), rtype::SOA, 1)
        );
        // The OPT record is last: root owner, type 41, 11 octets.
        assert_eq!(&q[q.len() - 11..q.len() - 8], &[0, 0, 41]);
    }
}
