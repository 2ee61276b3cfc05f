//! Plausibility of the delegation count (the .se 2009 incident in
//! docs/architecture.md: a generator bug broke every delegation; reject
//! implausible changes before publishing).
//!
//! Owns only the count and its comparison with the last published version.

use super::{Index, VerifyError, VerifyOptions};

/// The one plausibility rule, for a whole version and for the changed part
/// of an incremental one alike: the relative change |current - previous| /
/// previous, if it exceeds `limit`. A previous version without delegations
/// has nothing to lose, so any count may follow it.
pub(crate) fn implausible_change(previous: usize, current: usize, limit: f64) -> Option<f64> {
    if previous == 0 {
        return None;
    }
    let change = current.abs_diff(previous) as f64 / previous as f64;
    (change > limit).then_some(change)
}

/// Count the delegations (names below the apex with NS) and compare with the
/// previous version by [`implausible_change`].
pub(super) fn check_count(z: &Index<'_>, opts: &VerifyOptions) -> Result<usize, VerifyError> {
    let current = z.delegations().count();
    if let Some(previous) = opts.previous_delegations
        && let Some(change) = implausible_change(previous, current, opts.max_delegation_change)
    {
        return Err(VerifyError::DelegationChange {
            previous,
            current,
            change,
            limit: opts.max_delegation_change,
        });
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::implausible_change;

    #[test]
    fn the_change_is_relative_to_the_previous_count() {
        assert_eq!(implausible_change(100, 110, 0.1), None);
        assert_eq!(implausible_change(100, 90, 0.1), None);
        assert_eq!(implausible_change(100, 111, 0.1), Some(0.11));
        assert_eq!(implausible_change(100, 50, 0.1), Some(0.5));
        assert_eq!(implausible_change(100, 0, 0.1), Some(1.0));
        assert_eq!(implausible_change(100, 100, 0.0), None);
    }

    #[test]
    fn an_empty_previous_version_allows_any_count() {
        assert_eq!(implausible_change(0, 0, 0.1), None);
        assert_eq!(implausible_change(0, 1_000, 0.1), None);
    }
}
