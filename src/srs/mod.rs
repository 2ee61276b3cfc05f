//! The registry's SRS database: the only module that knows SQL.
//!
//! Owns the schema (EPP objects: RFC 5731 domains, RFC 5732 hosts, RFC 5910
//! DS data), its migrations for SQLite and PostgreSQL, consistent snapshot
//! reads, the change journal, operator mutations, synthetic seeding and
//! zone-file import. It must not decide what may be published: rows come
//! out raw and the policy module judges them. docs/srs.md is the contract
//! for anyone else who writes to the SRS.
//!
//! Both databases run the same SQL text (`$n` placeholders, `ON CONFLICT`
//! and `RETURNING` are understood by both); `sql` expands it once per
//! driver so there is a single code path to read.
//!
//! The change journal is written by triggers, not by this module: every
//! insert, update and delete of an SRS row appends `(seq, object, name)` in
//! the writer's own transaction. A one-row counter hands out `seq`; its row
//! lock serialises writers on PostgreSQL until commit, so sequence numbers
//! become visible in order and a reader that has seen N has seen all below N.

mod batch;
mod import;
mod mutate;
pub mod partial;
mod refusal;
mod seed;
mod sql;

pub use batch::Inserted;
pub use import::{ImportReport, import};
pub use refusal::{Refusal, Rule};
pub use seed::seed;

use crate::name::{Name, NameError};
use sqlx::SqlSafeStr;
use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// One registered domain as the SRS holds it (RFC 5731 domain object).
/// Values are raw: the policy module decides what may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRow {
    /// `domain.id`.
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
    /// `host.id`.
    pub id: i64,
    /// The host name, as stored.
    pub name: String,
    /// Its addresses (`host_addr.addr`) as stored text; the policy checks
    /// they are IPv4 or IPv6.
    pub addrs: Vec<String>,
}

/// One DS record of a domain (RFC 5910 dsData).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsRow {
    /// `ds.id`.
    pub id: i64,
    /// The [`DomainRow::id`] it belongs to.
    pub domain_id: i64,
    /// Key tag (RFC 4034 §5.1.1), as stored: the policy checks its range.
    pub key_tag: i64,
    /// DNSSEC algorithm number (RFC 4034 §5.1.2), as stored.
    pub algorithm: i64,
    /// Digest type (RFC 4034 §5.1.3), as stored.
    pub digest_type: i64,
    /// Hex as stored.
    pub digest: String,
}

/// The zone's rows as of one transaction.
///
/// `domains` and `hosts` are in id order, each row's `statuses`, `ns` and
/// `addrs` in byte order; `ds` in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every domain, with its statuses and name servers.
    pub domains: Vec<DomainRow>,
    /// Every host object, with its addresses.
    pub hosts: Vec<HostRow>,
    /// Every DS row.
    pub ds: Vec<DsRow>,
    /// Highest change-journal sequence number visible in the snapshot.
    pub journal_seq: i64,
}

/// What a journal entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeObject {
    /// A domain, its statuses, name servers or DS changed.
    Domain,
    /// A host object or its addresses changed (glue of the domain above it).
    Host,
}

impl ChangeObject {
    /// The journal's `object` column value (`domain` or `host`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeObject::Domain => "domain",
            ChangeObject::Host => "host",
        }
    }
}

/// One change-journal entry: `name` changed in the transaction that wrote `seq`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Journal sequence number; increasing, and visible in order.
    pub seq: i64,
    /// Whether a domain or a host changed.
    pub object: ChangeObject,
    /// The changed domain's or host's stored name.
    pub name: String,
}

/// Which database an [`Srs`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (`sqlite://PATH`).
    Sqlite,
    /// PostgreSQL (`postgres://...`).
    Postgres,
}

/// An error from the SRS. Every variant names the database (URL without
/// password) and the table or object it was working on.
#[derive(Debug, thiserror::Error)]
pub enum SrsError {
    /// The URL is neither `sqlite://` nor `postgres://`.
    #[error("{url}: not an SRS URL (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl {
        /// The URL, without password.
        url: String,
    },
    /// Opening the pool failed.
    #[error("{url}: cannot connect: {error}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// The driver's error.
        #[source]
        error: sqlx::Error,
    },
    /// Creating or upgrading the schema failed.
    #[error("{url}: schema migration failed: {error}")]
    Migrate {
        /// The URL, without password.
        url: String,
        /// sqlx's migration error.
        #[source]
        error: MigrateError,
    },
    /// A statement failed.
    #[error("{url}: table {table}: {error}")]
    Query {
        /// The URL, without password.
        url: String,
        /// The table the statement read or wrote.
        table: &'static str,
        /// The driver's error.
        #[source]
        error: sqlx::Error,
    },
    /// A column holds a value the schema's CHECK should have kept out (a
    /// journal `object` that is neither `domain` nor `host`).
    #[error("{url}: table {table}, row {row}: column {column} holds {value:?}")]
    InvalidValue {
        /// The URL, without password.
        url: String,
        /// The table.
        table: &'static str,
        /// The row's key (`seq` for the journal).
        row: i64,
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
    /// A mutation names a domain or host that is not in the SRS.
    #[error("{url}: table {table}: no {name}")]
    NotFound {
        /// The URL, without password.
        url: String,
        /// `domain` or `host`.
        table: &'static str,
        /// The stored name looked for.
        name: String,
    },
    /// Adding a domain, or a DS to a domain, that the SRS holds already.
    #[error("{url}: table {table}: {name} already exists")]
    Exists {
        /// The URL, without password.
        url: String,
        /// `domain` or `ds`.
        table: &'static str,
        /// The domain, or the DS in presentation form after its domain.
        name: String,
    },
    /// A name given to a mutation does not parse ([`stored_name`]).
    #[error("{name:?} is not a domain name: {error}")]
    InvalidName {
        /// The text given.
        name: String,
        /// Why it does not parse.
        #[source]
        error: NameError,
    },
    /// A DS to add has an empty or non-hex digest.
    #[error("{name}: DS digest {digest:?} is not hex (RFC 4034 §5.3)")]
    InvalidDigest {
        /// The domain's stored name.
        name: String,
        /// The digest as given.
        digest: String,
    },
    /// Subscribing to, or waiting on, the journal's NOTIFY channel failed
    /// (PostgreSQL only).
    #[error("{url}: LISTEN on {channel}: {error}")]
    Listen {
        /// The URL, without password.
        url: String,
        /// [`JOURNAL_CHANNEL`].
        channel: &'static str,
        /// The driver's error.
        #[source]
        error: sqlx::Error,
    },
    /// `srs import`: the zone file could not be read, or a record in it is
    /// malformed.
    #[error(transparent)]
    ZoneFile(#[from] crate::zonefile::ZoneFileError),
}

/// The PostgreSQL NOTIFY channel the journal triggers signal on; the
/// payload is the new sequence number.
pub const JOURNAL_CHANNEL: &str = "tldns_journal";

/// Rows fetched per round trip by [`Srs::snapshot`]: large enough that
/// round trips do not matter, small enough that driver rows stay in cache.
const PAGE: i64 = 50_000;

/// A connection pool to the SRS database.
#[derive(Debug, Clone)]
pub struct Srs {
    /// For messages: the URL without its password.
    url: String,
    pool: Pool,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Run `$body` with `$p` bound to the concrete pool and `$m` to the
/// module of [`sql`] functions for that driver.
macro_rules! dispatch {
    ($srs:expr, |$p:ident, $m:ident| $body:expr) => {
        match &$srs.pool {
            Pool::Sqlite($p) => {
                use sql::sqlite as $m;
                $body
            }
            Pool::Postgres($p) => {
                use sql::postgres as $m;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

impl Srs {
    /// Connect to `sqlite://PATH` (the file is created if missing and put
    /// in WAL mode) or `postgres://...`. Does not migrate: see [`Srs::init`].
    pub async fn connect(url: &str) -> Result<Srs, SrsError> {
        let shown = redact(url);
        let connect = |error| SrsError::Connect {
            url: shown.clone(),
            error,
        };
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Durable at checkpoints; WAL keeps the database consistent.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // 64 MiB page cache (default 2 MiB): the name indexes of a
                // million domains do not fit in 2 MiB, and bulk loads thrash.
                .pragma("cache_size", "-65536")
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts)
                .await
                .map_err(connect)?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .connect(url)
                .await
                .map_err(connect)?;
            Pool::Postgres(pool)
        } else {
            return Err(SrsError::UnsupportedUrl { url: shown });
        };
        Ok(Srs { url: shown, pool })
    }

    /// The database URL, without password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which database the pool talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Create or upgrade the schema. Idempotent; concurrent callers are
    /// serialised by sqlx's migration lock.
    pub async fn init(&self) -> Result<(), SrsError> {
        let migrator = Migrator::with_migrations(migrations(self.backend()));
        let r = match &self.pool {
            Pool::Sqlite(p) => migrator.run(p).await,
            Pool::Postgres(p) => migrator.run(p).await,
        };
        r.map_err(|error| SrsError::Migrate {
            url: self.url.clone(),
            error,
        })
    }

    /// All rows in one consistent read (PostgreSQL: REPEATABLE READ, READ
    /// ONLY; SQLite: one read transaction), with the journal position it
    /// reflects: applying the journal after `journal_seq` to this snapshot
    /// gives the current state, with nothing missed or applied twice.
    pub async fn snapshot(&self) -> Result<Snapshot, SrsError> {
        dispatch!(self, |p, m| m::snapshot(p, &self.url).await)
    }

    /// Registered domain names in byte order, only those with DS if `with_ds`.
    pub async fn list(&self, with_ds: bool, limit: Option<usize>) -> Result<Vec<String>, SrsError> {
        let limit = limit
            .map(|l| l.min(i64::MAX as usize) as i64)
            .unwrap_or(i64::MAX);
        dispatch!(self, |p, m| m::list(p, &self.url, with_ds, limit).await)
    }

    /// Journal entries with `seq > since`, oldest first, at most `limit`.
    pub async fn changes_since(&self, since: i64, limit: usize) -> Result<Vec<Change>, SrsError> {
        let limit = limit.min(i64::MAX as usize) as i64;
        dispatch!(self, |p, m| m::changes_since(p, &self.url, since, limit)
            .await)
    }

    /// The highest journal sequence number committed so far.
    pub async fn journal_seq(&self) -> Result<i64, SrsError> {
        dispatch!(self, |p, m| m::journal_seq(p, &self.url).await)
    }

    /// Delete journal entries with `seq <= upto` (after every consumer has
    /// applied them). Returns how many went.
    pub async fn prune_journal(&self, upto: i64) -> Result<u64, SrsError> {
        dispatch!(self, |p, m| m::prune_journal(p, &self.url, upto).await)
    }

    /// Wake-ups for new journal entries: PostgreSQL LISTEN on
    /// [`JOURNAL_CHANNEL`]. `None` for SQLite, which has no notification
    /// channel between processes: poll [`Srs::changes_since`] instead.
    pub async fn listen(&self) -> Result<Option<JournalListener>, SrsError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let err = |error| SrsError::Listen {
            url: self.url.clone(),
            channel: JOURNAL_CHANNEL,
            error,
        };
        let mut inner = PgListener::connect_with(pool).await.map_err(err)?;
        inner.listen(JOURNAL_CHANNEL).await.map_err(err)?;
        Ok(Some(JournalListener {
            url: self.url.clone(),
            inner,
        }))
    }
}

/// A PostgreSQL LISTEN connection on [`JOURNAL_CHANNEL`].
#[derive(Debug)]
pub struct JournalListener {
    url: String,
    inner: PgListener,
}

impl JournalListener {
    /// Wait until at least one journal entry was committed since the last
    /// call; returns the highest sequence number announced. Notifications
    /// that piled up meanwhile are drained, so a burst wakes the caller once.
    /// sqlx reconnects a dropped connection; notifications sent while it
    /// was down are lost, so callers should also poll now and then.
    pub async fn wait(&mut self) -> Result<i64, SrsError> {
        let err = |error| SrsError::Listen {
            url: self.url.clone(),
            channel: JOURNAL_CHANNEL,
            error,
        };
        let first = self.inner.recv().await.map_err(err)?;
        let mut max = first.payload().parse::<i64>().unwrap_or(0);
        while let Some(n) = self.inner.next_buffered() {
            max = max.max(n.payload().parse::<i64>().unwrap_or(0));
        }
        Ok(max)
    }
}

/// The embedded migrations for `backend`, so the binary needs no files.
fn migrations(backend: Backend) -> Vec<Migration> {
    let sql: &[(i64, &'static str, &'static str)] = match backend {
        Backend::Sqlite => &[
            (
                1,
                "srs",
                include_str!("../../migrations/sqlite/0001_srs.sql"),
            ),
            (
                2,
                "lighter insert triggers",
                include_str!("../../migrations/sqlite/0002_lighter_insert_triggers.sql"),
            ),
        ],
        Backend::Postgres => &[(
            1,
            "srs",
            include_str!("../../migrations/postgres/0001_srs.sql"),
        )],
    };
    sql.iter()
        .map(|&(v, d, s)| {
            Migration::new(v, d.into(), MigrationType::Simple, s.into_sql_str(), false)
        })
        .collect()
}

/// The URL with any password replaced, for messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The stored form of a domain or host name: lower case, fully qualified,
/// without the trailing dot (`example.mobile`).
pub fn stored_name(name: &str) -> Result<String, SrsError> {
    let n = Name::parse(name).map_err(|error| SrsError::InvalidName {
        name: name.to_string(),
        error,
    })?;
    Ok(name_to_stored(&n))
}

/// [`stored_name`] of a parsed name.
pub fn name_to_stored(n: &Name) -> String {
    let mut s = n.to_string();
    if s.len() > 1 {
        s.pop();
    }
    s
}

/// Attach `(parent_id, value)` rows, sorted by parent id, to parents sorted
/// by id (the statuses and name servers of domains, the addresses of
/// hosts, read in one query each). A row whose parent is not among
/// `parents` is skipped: foreign keys guarantee the parent is in the same
/// snapshot, and a partial read holds only the parents it asked for.
pub(crate) fn attach<T>(
    parents: &mut [T],
    id: impl Fn(&T) -> i64,
    rows: Vec<(i64, String)>,
    slot: impl Fn(&mut T) -> &mut Vec<String>,
) {
    let mut i = 0;
    for (pid, v) in rows {
        while i < parents.len() && id(&parents[i]) < pid {
            i += 1;
        }
        if i < parents.len() && id(&parents[i]) == pid {
            slot(&mut parents[i]).push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_password() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn stored_names_are_lower_case_without_dot() {
        assert_eq!(stored_name("Example.MOBILE.").unwrap(), "example.mobile");
        assert_eq!(
            stored_name("ns1.example.mobile").unwrap(),
            "ns1.example.mobile"
        );
        assert!(stored_name("a..b").is_err());
    }
}
