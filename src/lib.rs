//! tldns: an authoritative nameserver for a generic top-level domain.
pub mod config;
pub mod dnssec;
pub mod name;
pub mod policy;
pub mod rr;
pub mod srs;
pub mod verify;
pub mod zone;
pub mod zonefile;
pub mod serial;
pub mod server;
