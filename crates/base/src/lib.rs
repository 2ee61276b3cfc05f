//! tldns's base layer: the DNS primitives every other part of tldns uses,
//! written once.
//!
//! - [`iana`]: the IANA registries (types, classes, RCODEs, opcodes,
//!   DNSSEC algorithms, DS digests), one table each;
//! - [`message`]: the message reader and builder (RFC 1035 §4.1);
//! - [`name`]: domain names in lower-case wire form, canonical order;
//! - [`rr`]: type and class codes, records, RDATA presentation forms;
//! - [`rdata`]: typed RDATA (SOA, DS, DNSKEY, RRSIG, NSEC, NSEC3,
//!   NSEC3PARAM), wire and presentation forms both ways;
//! - [`zonefile`]: the presentation-format reader (RFC 1035 §5) and its
//!   lexer;
//! - [`serial`]: RFC 1982 serial arithmetic;
//! - [`nsec3`]: the NSEC3 hash (RFC 5155 §5) and owner names;
//! - [`keytag`]: the DNSKEY key tag (RFC 4034 Appendix B);
//! - [`time`]: unix time, RRSIG time format, civil dates;
//! - [`fs`]: the one durable atomic write.
//!
//! It knows nothing of zones, policy, signing or serving: those layers sit
//! above it and import it, never the reverse. It does no I/O except
//! [`fs`] and reading the clock in [`time`].
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
#![warn(missing_docs)]

pub mod fs;
pub mod iana;
pub mod keytag;
pub mod message;
pub mod name;
pub mod nsec3;
pub mod rdata;
pub mod rr;
pub mod serial;
pub mod time;
pub mod zonefile;
