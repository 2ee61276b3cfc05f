//! Operator mutations (and the test suite's): each one transaction, each
//! journalled by the triggers like any other SRS writer's.

use super::{Pool, Srs, SrsError, dispatch, sql, stored_name};
use std::net::IpAddr;

/// EPP statuses that keep a name out of the DNS and are set by `hold`
/// (RFC 5731 §2.3: `serverHold` is the registry's, `clientHold` the registrar's).
const HOLDS: [&str; 2] = ["clientHold", "serverHold"];

fn stored_names(names: &[String]) -> Result<Vec<String>, SrsError> {
    let mut v: Vec<String> = names
        .iter()
        .map(|n| stored_name(n))
        .collect::<Result<_, _>>()?;
    v.sort();
    v.dedup();
    Ok(v)
}

impl Srs {
    /// Register `name` delegated to `ns` (host names, in or out of the zone).
    /// Fails with [`SrsError::Exists`] if it is registered already.
    pub async fn add_domain(&self, name: &str, ns: &[String]) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        let ns = stored_names(ns)?;
        dispatch!(self, |p, m| m::add_domain(p, &self.url, &name, &ns).await)
    }

    /// Delete `name` with its statuses, name servers and DS.
    pub async fn remove_domain(&self, name: &str) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        dispatch!(self, |p, m| m::remove_domain(p, &self.url, &name).await)
    }

    /// Replace the name-server set of `name`; only the difference is written.
    pub async fn set_ns(&self, name: &str, ns: &[String]) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        let ns = stored_names(ns)?;
        dispatch!(self, |p, m| m::set_ns(p, &self.url, &name, &ns).await)
    }

    /// Add a DS record (RFC 5910 dsData). The digest must be hex; its
    /// length and the algorithm are the policy module's to judge.
    pub async fn add_ds(
        &self,
        name: &str,
        key_tag: u16,
        algorithm: u8,
        digest_type: u8,
        digest_hex: &str,
    ) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        let digest = digest_hex.to_ascii_lowercase();
        if digest.is_empty() || data_encoding::HEXLOWER.decode(digest.as_bytes()).is_err() {
            return Err(SrsError::InvalidDigest {
                name,
                digest: digest_hex.to_string(),
            });
        }
        let (k, a, t) = (
            i64::from(key_tag),
            i64::from(algorithm),
            i64::from(digest_type),
        );
        dispatch!(self, |p, m| m::add_ds(
            p, &self.url, &name, k, a, t, &digest
        )
        .await)
    }

    /// Remove every DS of `name` with `key_tag`; returns how many went (0 if none had it).
    pub async fn remove_ds(&self, name: &str, key_tag: u16) -> Result<u64, SrsError> {
        let name = stored_name(name)?;
        dispatch!(self, |p, m| m::remove_ds(
            p,
            &self.url,
            &name,
            i64::from(key_tag)
        )
        .await)
    }

    /// Put `name` on `serverHold`: it leaves the zone (Spec 6 §2.2).
    pub async fn hold(&self, name: &str) -> Result<(), SrsError> {
        self.add_status(name, "serverHold").await.map(|_| ())
    }

    /// Remove `clientHold` and `serverHold` from `name`.
    pub async fn unhold(&self, name: &str) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        dispatch!(self, |p, m| m::change_statuses(
            p,
            &self.url,
            &name,
            &[],
            &HOLDS
        )
        .await)
        .map(|_| ())
    }

    /// Add an EPP status (RFC 5731 §2.3) to `name`; returns false if it was set.
    pub async fn add_status(&self, name: &str, status: &str) -> Result<bool, SrsError> {
        let name = stored_name(name)?;
        dispatch!(self, |p, m| m::change_statuses(
            p,
            &self.url,
            &name,
            &[status],
            &[]
        )
        .await)
        .map(|n| n > 0)
    }

    /// Remove an EPP status from `name`; returns false if it was not set.
    pub async fn remove_status(&self, name: &str, status: &str) -> Result<bool, SrsError> {
        let name = stored_name(name)?;
        dispatch!(self, |p, m| m::change_statuses(
            p,
            &self.url,
            &name,
            &[],
            &[status]
        )
        .await)
        .map(|n| n > 0)
    }

    /// Create host `name` if missing and add `addrs` to it (RFC 5732).
    pub async fn add_host(&self, name: &str, addrs: &[IpAddr]) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        let addrs: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
        dispatch!(self, |p, m| m::add_host(p, &self.url, &name, &addrs).await)
    }

    /// Delete host `name` with its addresses.
    pub async fn remove_host(&self, name: &str) -> Result<(), SrsError> {
        let name = stored_name(name)?;
        dispatch!(self, |p, m| m::remove_host(p, &self.url, &name).await)
    }

    /// Write a batch in one transaction (seed, import).
    pub(crate) async fn write_batch(
        &self,
        batch: &super::batch::Batch,
    ) -> Result<super::batch::Inserted, SrsError> {
        dispatch!(self, |p, m| m::write_batch(p, &self.url, batch).await)
    }
}
