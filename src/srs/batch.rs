//! Rows to insert in bulk, shared by seed and import: one [`Batch`] is
//! written in one transaction with multi-row INSERTs. Every insert is
//! `ON CONFLICT DO NOTHING`, so writing a batch twice changes nothing and
//! journals nothing the second time.

use serde::Serialize;

/// A domain to insert, with the rows that hang off it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NewDomain {
    /// Stored form (see [`super::stored_name`]).
    pub name: String,
    /// EPP status values (`serverHold`, ...) for `domain_status`.
    pub statuses: Vec<&'static str>,
    /// Stored names of its name servers, for `domain_ns`.
    pub ns: Vec<String>,
    /// Its DS records, for `ds`.
    pub ds: Vec<NewDs>,
}

/// A DS record to insert, in the `ds` table's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewDs {
    /// Key tag (RFC 4034 §5.1.1).
    pub key_tag: i64,
    /// DNSSEC algorithm number.
    pub algorithm: i64,
    /// Digest type (2 = SHA-256, ...).
    pub digest_type: i64,
    /// Lower-case hex.
    pub digest: String,
}

/// A host object to insert, with its addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NewHost {
    /// Stored form (see [`super::stored_name`]).
    pub name: String,
    /// IPv4 or IPv6 addresses in text form, for `host_addr`.
    pub addrs: Vec<String>,
}

/// Domains and hosts written together in one transaction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Batch {
    /// The domains, each with its statuses, name servers and DS.
    pub domains: Vec<NewDomain>,
    /// The host objects, each with its addresses.
    pub hosts: Vec<NewHost>,
}

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.hosts.is_empty()
    }
}

/// Rows a batch actually added (rows already present are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Inserted {
    /// `domain` rows.
    pub domains: u64,
    /// `domain_status` rows.
    pub statuses: u64,
    /// `domain_ns` rows.
    pub name_servers: u64,
    /// `ds` rows.
    pub ds: u64,
    /// `host` rows.
    pub hosts: u64,
    /// `host_addr` rows.
    pub addresses: u64,
}

impl std::ops::AddAssign for Inserted {
    fn add_assign(&mut self, o: Inserted) {
        self.domains += o.domains;
        self.statuses += o.statuses;
        self.name_servers += o.name_servers;
        self.ds += o.ds;
        self.hosts += o.hosts;
        self.addresses += o.addresses;
    }
}

/// Rows per INSERT statement: well below SQLite's 32766 bound parameters
/// and PostgreSQL's 65535, large enough that round trips do not dominate.
pub(crate) const ROWS_PER_STATEMENT: usize = 1000;

/// `head ($1, $2), ($3, $4) ... tail` for `rows` rows of `cols` columns.
pub(crate) fn values_sql(head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let mut s = String::with_capacity(head.len() + tail.len() + rows * cols * 8);
    s.push_str(head);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            n += 1;
            s.push('$');
            s.push_str(&n.to_string());
        }
        s.push(')');
    }
    s.push_str(tail);
    s
}

/// `head ($1, $2, ... $n) tail`.
pub(crate) fn in_list_sql(head: &str, n: usize, tail: &str) -> String {
    let mut s = String::with_capacity(head.len() + tail.len() + n * 6);
    s.push_str(head);
    s.push('(');
    for i in 1..=n {
        if i > 1 {
            s.push(',');
        }
        s.push('$');
        s.push_str(&i.to_string());
    }
    s.push(')');
    s.push_str(tail);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_across_rows() {
        assert_eq!(
            values_sql(
                "INSERT INTO t (a, b) VALUES ",
                2,
                2,
                " ON CONFLICT DO NOTHING"
            ),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            in_list_sql("SELECT id FROM t WHERE n IN ", 3, ""),
            "SELECT id FROM t WHERE n IN ($1,$2,$3)"
        );
    }
}
