//! The hand-off between the pipeline and its readers: the published
//! version ([`Served`]) behind one atomic pointer ([`Current`]).
//!
//! The pipeline (or, in secondary mode, the transfer client) stores a new
//! version with one pointer swap once it passed every step; the server,
//! zone transfers out and the CZDS export only load it. Readers import
//! this module, never the pipeline: what they see is only ever a version
//! that was published. Owns no I/O and builds nothing.

use crate::index::Index;
use crate::zone::SignedZone;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// One published version: the zone model (for transfers and export) and
/// its served index.
#[derive(Debug)]
pub struct Served {
    /// The signed zone model: what transfers and the CZDS export read.
    pub zone: Arc<SignedZone>,
    /// The query path's precomputed form of the same version.
    pub index: Index,
}

/// The version being served, swapped atomically on publish.
pub type Current = Arc<ArcSwap<Served>>;
