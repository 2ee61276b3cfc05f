//! The vocabulary of refusals: which rule of the registry agreement (or
//! the RFC it incorporates) a row or zone-file record breaks, and the
//! record of one refusal (table, row, name, rule, section, detail).
//!
//! Owns the names and contract sections of the rules, nothing more: the
//! decisions are the policy module's and the zone-file import's (`srs
//! import`). It lives here, below policy, so that the import can
//! report with it while srs imports nothing from policy (policy reads srs
//! rows; the arrow runs one way).

use serde::Serialize;

/// Why a row or record was refused. Each rule cites the part of the
/// registry agreement (or the RFC it incorporates) that it enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Domain name is not one label directly below the TLD.
    NotSecondLevel,
    /// Label is not LDH or has a bad length (RFC 1035 §2.3.1, RFC 1123 §2.1).
    InvalidLabel,
    /// Hyphens in positions 3 and 4 but not a valid `xn--` label.
    HyphenPosition,
    /// `xn--` label that is not a valid IDNA2008 A-label (RFC 5890-5893).
    InvalidIdn,
    /// Wildcard label (Spec 6 §2.2: no wildcards).
    Wildcard,
    /// On the reserved-name list (Spec 5).
    Reserved,
    /// On the name-collision block list (Spec 6 §6).
    Collision,
    /// Status keeps the name out of the DNS (clientHold, serverHold,
    /// redemptionPeriod, pendingDelete; RFC 5731 §2.3, Spec 6 §2.2).
    Held,
    /// No name servers: not delegated.
    NoNameServers,
    /// More name servers than `max-ns-per-domain`: a referral that large
    /// does not fit a DNS message with working name compression.
    TooManyNameServers,
    /// A name-server host name is not a valid domain name.
    InvalidNameServer,
    /// The same domain appears twice.
    Duplicate,
    /// Glue for a host no published delegation uses (Exhibit A §1).
    OrphanGlue,
    /// Address for a host outside the TLD (Exhibit A §1: glue is in-bailiwick only).
    OutOfBailiwickGlue,
    /// In-zone host whose parent domain is not published.
    GlueWithoutDelegation,
    /// An address that is not IPv4 or IPv6 text.
    InvalidAddress,
    /// DS for a domain that is not published.
    DsWithoutDelegation,
    /// DS algorithm not supported (RFC 8624).
    DsAlgorithm,
    /// DS digest type not supported (RFC 8624 §3.3).
    DsDigestType,
    /// DS digest of the wrong length for its type, or not hex.
    DsDigest,
    /// DS key tag outside 0..=65535 (RFC 4034 §5.1.1).
    DsKeyTag,
    /// Record type not allowed by Exhibit A.
    ExhibitAType,
    /// Apex content other than configuration's (Exhibit A §1).
    ApexRecord,
}

impl Rule {
    /// Short identifier used in reports and metrics labels.
    pub fn id(self) -> &'static str {
        match self {
            Rule::NotSecondLevel => "not-second-level",
            Rule::InvalidLabel => "invalid-label",
            Rule::HyphenPosition => "hyphen-position",
            Rule::InvalidIdn => "invalid-idn",
            Rule::Wildcard => "wildcard",
            Rule::Reserved => "reserved",
            Rule::Collision => "collision",
            Rule::Held => "held",
            Rule::NoNameServers => "no-name-servers",
            Rule::TooManyNameServers => "too-many-name-servers",
            Rule::InvalidNameServer => "invalid-name-server",
            Rule::Duplicate => "duplicate",
            Rule::OrphanGlue => "orphan-glue",
            Rule::OutOfBailiwickGlue => "out-of-bailiwick-glue",
            Rule::GlueWithoutDelegation => "glue-without-delegation",
            Rule::InvalidAddress => "invalid-address",
            Rule::DsWithoutDelegation => "ds-without-delegation",
            Rule::DsAlgorithm => "ds-algorithm",
            Rule::DsDigestType => "ds-digest-type",
            Rule::DsDigest => "ds-digest",
            Rule::DsKeyTag => "ds-key-tag",
            Rule::ExhibitAType => "exhibit-a-type",
            Rule::ApexRecord => "apex-record",
        }
    }

    /// The contract section the rule enforces.
    pub fn section(self) -> &'static str {
        match self {
            Rule::NotSecondLevel => "Exhibit A §1",
            Rule::InvalidLabel => "Spec 6 §1.1 (RFC 1035 §2.3.1, RFC 1123 §2.1)",
            Rule::HyphenPosition => "Spec 6 §1.1 (RFC 5891 §4.2.3.1)",
            Rule::InvalidIdn => "Spec 6 §1.1, §1.4 (RFC 5890-5893)",
            Rule::Wildcard => "Spec 6 §2.2",
            Rule::Reserved => "Spec 5",
            Rule::Collision => "Spec 6 §6",
            Rule::Held => "Spec 6 §2.2 (RFC 5731 §2.3)",
            Rule::NoNameServers => "Exhibit A §1",
            Rule::TooManyNameServers => "RFC 1035 §4.1.4 (max-ns-per-domain)",
            Rule::InvalidNameServer => "Spec 6 §1.1",
            Rule::Duplicate => "Exhibit A §1",
            Rule::OrphanGlue => "Exhibit A §1",
            Rule::OutOfBailiwickGlue => "Exhibit A §1",
            Rule::GlueWithoutDelegation => "Exhibit A §1",
            Rule::InvalidAddress => "Spec 6 §1.1, §1.5",
            Rule::DsWithoutDelegation => "Exhibit A §1",
            Rule::DsAlgorithm => "Spec 6 §1.3 (RFC 8624)",
            Rule::DsDigestType => "Spec 6 §1.3 (RFC 8624 §3.3)",
            Rule::DsDigest => "Spec 6 §1.3 (RFC 4034 §5.1, RFC 4509)",
            Rule::DsKeyTag => "Spec 6 §1.3 (RFC 4034 §5.1.1)",
            Rule::ExhibitAType => "Exhibit A §1",
            Rule::ApexRecord => "Exhibit A §1",
        }
    }
}

/// One refused row (or zone-file record, for `srs import`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Source: an SRS table (`domain`, `host`, `ds`) or `zonefile`.
    pub table: &'static str,
    /// Row id, or line number for a zone file.
    pub row: i64,
    /// The name the row or record is about, as stored or written.
    pub name: String,
    /// The rule it breaks.
    pub rule: Rule,
    /// [`Rule::section`] of `rule`, kept in the record for reports.
    pub section: &'static str,
    /// What exactly was wrong (the value, and why).
    pub detail: String,
}

impl Refusal {
    /// A refusal of `name` in `table`'s `row` under `rule`; the section is
    /// the rule's.
    pub fn new(
        table: &'static str,
        row: i64,
        name: impl Into<String>,
        rule: Rule,
        detail: impl Into<String>,
    ) -> Refusal {
        Refusal {
            table,
            row,
            name: name.into(),
            rule,
            section: rule.section(),
            detail: detail.into(),
        }
    }
}
