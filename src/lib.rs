//! tldns: an authoritative nameserver for a generic top-level domain.
//!
//! ```text
//!  SRS database ──► srs ──► policy ──► zone ──► dnssec ──► verify ──► store
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
//! - [`dnssec`] signs it (NSEC3, RRSIGs); [`verify`] (the `tldns-verify`
//!   crate) checks the result: its crate depends on the base layer and the
//!   zone model only, so it has no path to the signer, and one acceptance
//!   policy ([`verify::policy`]) governs the whole-version and the
//!   changed-part check alike.
//! - The base layer (`tldns-base`: [`name`], [`rr`], [`zonefile`],
//!   [`time`], [`fs`], [`nsec3`], [`keytag`], [`serial`]'s RFC 1982 type)
//!   and the zone model (`tldns-zone`, re-exported by [`zone`]) are crates
//!   of their own below everything here; docs/architecture.md has the
//!   layers and what each may import.
//! - [`pipeline`] runs the steps in order and owns a version's life: a
//!   [`pipeline::full`] build, or [`pipeline::incremental`], which applies
//!   what the SRS journal says changed to the published version (policy on
//!   the changed rows, incremental NSEC3 and RRSIGs, the changed part
//!   verified); the zone's one durable state file ([`pipeline::state`]:
//!   serial, RFC 1982 via [`serial`], and journal position) written before
//!   a version is swapped in; and [`pipeline::daemon`], the serve loop
//!   (when to build, reload, shutdown) that publishes into the store.
//! - [`store`] is the hand-off: the published version ([`store::Served`])
//!   behind one atomic pointer ([`store::Current`]). The server, transfers
//!   and the export read it and never import the pipeline.
//! - [`xfr`] feeds secondaries (NSD, Knot, tldns) and runs tldns as one;
//!   [`export`] writes the CZDS files; [`probe`] measures any server the way
//!   Spec 10 does.
//! - [`server`] answers from a precomputed [`index::Index`]: per
//!   delegation its referral fragments, at the apex each RRset, the NSEC3
//!   chain in buckets by hash prefix. [`server::answer::answer`] is a pure
//!   function: query bytes in, response bytes out.
//!
//! ## The query path at a million delegations
//!
//! What an answer costs there is cache misses, not instructions: the
//! served form is two gigabytes and every referral reads a different part
//! of it. So each thing a referral reads is one allocation reached by one
//! pointer: the referral sits in its table slot with its label inline; a
//! fragment (NS RRset, glue, DS with RRSIGs) is one shared block of header,
//! pointer patches and octets; an NSEC3 record is one block of next hash,
//! flags, bitmap and signatures, shared by the model and the index. The
//! delegation shards are few (about a thousand slots each), so their headers
//! stay in cache. And a UDP worker warms each received batch before
//! answering it ([`server::warm`]): it takes all the batch's queries through
//! each step of the lookup in turn (shard, slot and fragments, NSEC3 bucket,
//! NSEC3 record), prefetching the next step's lines, so the misses of the
//! whole batch overlap instead of following one another.
//!
//! ## The zone store
//!
//! One version exists in two forms, and consecutive versions share all but
//! what changed in both. The model ([`zone::SignedZone`]) is persistent
//! ordered maps ([`zone::Map`]) keyed by name and by NSEC3 hash: an
//! incremental change copies the paths to one delegation, its NSEC3 record
//! and its predecessor's, and re-signs only those; the previous version is
//! untouched and keeps serving until the swap. The served form
//! ([`index::Index`]) is what queries read: delegations in shards of
//! hash tables from the second-level label to precomputed wire fragments
//! (identical fragments shared), the NSEC3 chain in buckets that hold the
//! model's records themselves (shared, not copied). A full build makes it from scratch; an
//! incremental version copies the previous one's shard and bucket pointers
//! and redoes only the shards and buckets the change falls in. Comparing
//! two versions ([`xfr::diff`], the IXFR history) walks only the map nodes
//! they do not share. Verification runs on the model (all of it after a full
//! build, the changed part after an incremental one) before the served form
//! is made, and the swap is one pointer store; a version that fails any
//! step is never published.
//!
//! ## Unsafe code
//!
//! Denied in the whole crate (`#![deny(unsafe_code)]`) except in the three
//! modules that need it, each saying why at its top:
//! `server::mmsg` (`recvmmsg`/`sendmmsg`), `server::trim` (`malloc_trim`
//! after a version is dropped) and `server::warm` (cache-line prefetch
//! hints for a batch of queries). Every other crate of the workspace forbids it.
#![deny(unsafe_code)]
#![warn(unreachable_pub)]
#![warn(missing_docs)]
pub mod config;
pub mod dnssec;
pub mod export;
pub mod index;
pub mod pipeline;
pub mod policy;
pub mod probe;
pub mod serial;
pub mod server;
pub mod srs;
pub mod store;
pub mod xfr;
pub mod zone;

pub use tldns_base::{fs, keytag, name, nsec3, rdata, rr, time, zonefile};
pub use tldns_verify as verify;
