//! tldns: an authoritative nameserver for a generic top-level domain.
//!
//! ```text
//!  SRS database ──► srs ──► policy ──► zone ──► dnssec ──► verify ──► publish
//!  (SQLite default,  rows    Exhibit A  delegation- NSEC3 +  independent  (ArcSwap<Served>)
//!   PostgreSQL)      typed   reserved,  centric    RRSIG    second            │
//!                    one     collision, model,              reading;          ├─► server (UDP/TCP)
//!                    snapshot status,   canonical           failure keeps     │   answer() over a
//!                             labels    order               the old version   │   precomputed index
//!                                                                             ├─► xfr (AXFR/IXFR/NOTIFY/TSIG out;
//!                                                                             │        secondary mode in)
//!                                                                             └─► export (CZDS files)
//! ```
//!
//! - [`srs`] is the only module that knows SQL; it reads one consistent
//!   snapshot and the change journal.
//! - [`policy`] turns rows into what may be published and a report of every
//!   refused row (row, name, rule, contract section).
//! - [`zone`] is the model of one version: apex from [`config`], delegations
//!   (shared NS sets, DS), glue, and the DNSSEC data once signed.
//! - [`dnssec`] signs it (NSEC3, RRSIGs); [`verify`] checks the result
//!   without sharing the signer's code.
//! - [`publish`] runs the steps in order, persists the serial ([`serial`],
//!   RFC 1982) and swaps the new version in atomically.
//! - [`update`] applies what the SRS journal says changed to the published
//!   version (policy on the changed rows, incremental NSEC3 and RRSIGs, the
//!   changed part verified) instead of a full build.
//! - [`xfr`] feeds secondaries (NSD, Knot, tldns) and runs tldns as one;
//!   [`export`] writes the CZDS files; [`probe`] measures any server the way
//!   Spec 10 does.
//! - [`server`] answers from a precomputed [`server::index::Index`]: per
//!   delegation its referral fragments, at the apex each RRset, the NSEC3
//!   chain as a sorted hash array. [`server::answer::answer`] is a pure
//!   function: query bytes in, response bytes out.
//!
//! ## The zone store
//!
//! One version exists in two forms. The model ([`zone::SignedZone`]) is
//! ordered maps keyed by name and by NSEC3 hash: an incremental change edits
//! one delegation, its NSEC3 record and its predecessor's link, and re-signs
//! only those. The served form ([`server::index::Index`]) is rebuilt from the
//! model per version (no signing; it is the model that is incremental), and
//! is what queries read: a hash map from the second-level label to
//! precomputed wire fragments. Verification runs on the model's records
//! before the served form is built, and the swap is one pointer store; a
//! version that fails any step is never published.
pub mod config;
pub mod dnssec;
pub mod export;
pub mod name;
pub mod policy;
pub mod probe;
pub mod publish;
pub mod rr;
pub mod serial;
pub mod server;
pub mod srs;
pub mod update;
pub mod verify;
pub mod xfr;
pub mod zone;
pub mod zonefile;
