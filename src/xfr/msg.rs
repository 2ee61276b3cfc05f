//! The transfer-specific parts of DNS messages: response headers, error
//! responses and the SOA serial. The reader and builder themselves are
//! [`tldns_base::message`], re-exported here for the xfr modules.

pub use tldns_base::message::{Builder, Message, Question, Rr, WireError, flag, parse};

/// Opcodes (RFC 1035 §4.1.1, RFC 1996), as the header's four bits.
pub mod opcode {
    use tldns_base::iana::Opcode;
    /// A standard query, AXFR and IXFR included.
    pub const QUERY: u8 = Opcode::QUERY.to_int();
    /// NOTIFY (RFC 1996 §3).
    pub const NOTIFY: u8 = Opcode::NOTIFY.to_int();
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

/// The serial of SOA RDATA (RFC 1035 §3.3.13), `None` if it is not SOA
/// RDATA: [`crate::rr::Soa::serial_of`].
pub fn soa_serial(rdata: &[u8]) -> Option<u32> {
    crate::rr::Soa::serial_of(rdata).ok()
}
