//! The registry's SRS database: the only module that knows SQL.
//!
//! (Being written: schema, migrations for SQLite and PostgreSQL, consistent
//! snapshot reads, seed and import. See docs/srs.md.)

/// One registered domain as the SRS holds it (RFC 5731 domain object).
/// Values are raw: the policy module decides what may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRow {
    pub id: i64,
    /// Fully qualified or not, any case, as stored.
    pub name: String,
    /// EPP statuses (RFC 5731 §2.3), e.g. `clientHold`.
    pub statuses: Vec<String>,
    /// Host names of the domain's name servers (RFC 5731 hostObj).
    pub ns: Vec<String>,
}

/// One host object (RFC 5732) with its addresses as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRow {
    pub id: i64,
    pub name: String,
    pub addrs: Vec<String>,
}

/// One DS record of a domain (RFC 5910 dsData).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsRow {
    pub id: i64,
    pub domain_id: i64,
    pub key_tag: i64,
    pub algorithm: i64,
    pub digest_type: i64,
    /// Hex as stored.
    pub digest: String,
}

/// The zone's rows as of one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub domains: Vec<DomainRow>,
    pub hosts: Vec<HostRow>,
    pub ds: Vec<DsRow>,
    /// Highest change-journal sequence number visible in the snapshot.
    pub journal_seq: i64,
}
