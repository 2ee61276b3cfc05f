//! tldns: an authoritative nameserver for a generic top-level domain.
pub mod config;
pub mod name;
pub mod policy;
pub mod rr;
pub mod srs;
pub mod zone;
