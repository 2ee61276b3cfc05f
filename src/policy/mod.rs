//! Policy: from SRS rows to what the registry agreement allows in the zone.
//!
//! (Being written: Exhibit A, Spec 5 reserved names, Spec 6 labels and
//! collisions, EPP statuses, glue and DS checks, and the refusal report.)
