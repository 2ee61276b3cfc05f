//! Plausibility of the delegation count (CONTRACT: .se 2009, a generator bug
//! broke every delegation; reject implausible changes before publishing).
//!
//! Owns only the count and its comparison with the last published version.

use super::{Index, VerifyError, VerifyOptions};

/// Count the delegations (names below the apex with NS) and compare with the
/// previous version: |count - previous| / max(previous, 1) must not exceed
/// `max_delegation_change`.
pub(super) fn check_count(z: &Index<'_>, opts: &VerifyOptions) -> Result<usize, VerifyError> {
    let current = z.delegations().count();
    if let Some(previous) = opts.previous_delegations {
        let change = current.abs_diff(previous) as f64 / previous.max(1) as f64;
        if change > opts.max_delegation_change {
            return Err(VerifyError::DelegationChange {
                previous,
                current,
                change,
                limit: opts.max_delegation_change,
            });
        }
    }
    Ok(current)
}
