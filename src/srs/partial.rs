//! Partial snapshots for incremental zone updates: the rows of a few
//! domains and hosts, and of everything their publication depends on, read
//! in one transaction.
//!
//! What depends on what (so that policy run on the partial rows decides
//! exactly as a full run would for them):
//! - a domain's delegation depends on its own rows only (statuses, name
//!   servers, DS);
//! - a host's glue depends on its own rows, on whether some published
//!   delegation uses it (so every domain naming it as a name server is
//!   read), and on whether the domain above it is published (so every
//!   domain row whose name is a proper suffix of the host's is read);
//! - a changed domain can change the glue of the hosts it names, so those
//!   join the host set before the domains that use them are looked up.
//!
//! The caller adds what it knows from the published version (hosts the
//! domain named before, glue below it). Rows come out raw, in the same
//! order as [`Srs::snapshot`] gives them; this module decides nothing.

use super::batch::in_list_sql;
use super::{Pool, Snapshot, Srs, SrsError};

/// Values per `IN (...)` list: far below both databases' bound-parameter limits.
const IN_CHUNK: usize = 1000;

/// The rows [`Srs::snapshot_of`] read, with the names it looked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialSnapshot {
    /// Rows of every domain in `domains` that exists, in snapshot order;
    /// `journal_seq` is the journal position the rows reflect.
    pub snapshot: Snapshot,
    /// Every domain name asked about or found to matter (stored form,
    /// sorted, unique); names without a row no longer exist.
    pub domains: Vec<String>,
    /// Every host name whose glue was re-read (stored form, sorted,
    /// unique); names without a host row have no addresses.
    pub hosts: Vec<String>,
}

impl Srs {
    /// The rows of `domains` and `hosts` (stored names) and of what their
    /// publication depends on (module docs), in one consistent read.
    pub async fn snapshot_of(
        &self,
        domains: &[String],
        hosts: &[String],
    ) -> Result<PartialSnapshot, SrsError> {
        match &self.pool {
            // As in `snapshot`: one read transaction (SQLite), or
            // REPEATABLE READ, READ ONLY (PostgreSQL).
            Pool::Sqlite(p) => sqlite::run(p, &self.url, domains, hosts, "BEGIN").await,
            Pool::Postgres(p) => {
                postgres::run(
                    p,
                    &self.url,
                    domains,
                    hosts,
                    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                )
                .await
            }
        }
    }
}

/// Proper suffixes of a stored name that could be a registered domain
/// above it (`a.b.mobile` → `b.mobile`, `mobile`).
fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('.').map(move |(i, _)| &name[i + 1..])
}

macro_rules! partial_driver {
    ($module:ident, $pool:ty, $db:ty) => {
        mod $module {
            use super::{IN_CHUNK, PartialSnapshot, in_list_sql, suffixes};
            use crate::srs::attach;
            use crate::srs::{DomainRow, DsRow, HostRow, Snapshot, SrsError};
            use sqlx::AssertSqlSafe;
            use std::collections::BTreeSet;

            pub(super) async fn run(
                pool: &$pool,
                url: &str,
                domains: &[String],
                hosts: &[String],
                begin: &'static str,
            ) -> Result<PartialSnapshot, SrsError> {
                let q = |table: &'static str| {
                    move |error| SrsError::Query {
                        url: url.to_string(),
                        table,
                        error,
                    }
                };
                let mut tx = pool.begin_with(begin).await.map_err(q("domain"))?;
                // First statement: the read snapshot starts here (as in `snapshot`).
                let journal_seq: i64 =
                    sqlx::query_scalar("SELECT seq FROM journal_counter WHERE id = 1")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(q("journal_counter"))?;

                let mut domain_names: BTreeSet<String> = domains.iter().cloned().collect();
                let mut host_names: BTreeSet<String> = hosts.iter().cloned().collect();

                // The name servers the changed domains name now.
                let seed: Vec<&String> = domain_names.iter().collect();
                for rows in pairs_by_text(
                    &mut *tx,
                    "SELECT d.name, n.host_name FROM domain d JOIN domain_ns n ON n.domain_id = d.id WHERE d.name IN ",
                    &seed,
                )
                .await
                .map_err(q("domain_ns"))?
                {
                    host_names.insert(rows.1);
                }

                // Every domain using one of the hosts, and every domain above one.
                let hs: Vec<&String> = host_names.iter().collect();
                for (name, _) in pairs_by_text(
                    &mut *tx,
                    "SELECT DISTINCT d.name, d.name FROM domain d JOIN domain_ns n ON n.domain_id = d.id WHERE n.host_name IN ",
                    &hs,
                )
                .await
                .map_err(q("domain_ns"))?
                {
                    domain_names.insert(name);
                }
                let above: BTreeSet<String> = host_names
                    .iter()
                    .flat_map(|h| suffixes(h))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                domain_names.extend(above);

                // The domain rows.
                let ds_names: Vec<&String> = domain_names.iter().collect();
                let mut ids: Vec<(i64, String)> = Vec::new();
                for chunk in ds_names.chunks(IN_CHUNK) {
                    let sql = in_list_sql("SELECT id, name FROM domain WHERE name IN ", chunk.len(), "");
                    let mut qy = sqlx::query_as::<$db, (i64, String)>(AssertSqlSafe(sql));
                    for n in chunk {
                        qy = qy.bind(n.as_str());
                    }
                    ids.extend(qy.fetch_all(&mut *tx).await.map_err(q("domain"))?);
                }
                ids.sort_unstable();
                let mut rows: Vec<DomainRow> = ids
                    .into_iter()
                    .map(|(id, name)| DomainRow {
                        id,
                        name,
                        statuses: Vec::new(),
                        ns: Vec::new(),
                    })
                    .collect();
                let id_list: Vec<i64> = rows.iter().map(|d| d.id).collect();
                let statuses = pairs_by_id(
                    &mut *tx,
                    "SELECT domain_id, status FROM domain_status WHERE domain_id IN ",
                    " ORDER BY domain_id, status",
                    &id_list,
                )
                .await
                .map_err(q("domain_status"))?;
                attach(&mut rows, |d| d.id, statuses, |d| &mut d.statuses);
                let ns = pairs_by_id(
                    &mut *tx,
                    "SELECT domain_id, host_name FROM domain_ns WHERE domain_id IN ",
                    " ORDER BY domain_id, host_name",
                    &id_list,
                )
                .await
                .map_err(q("domain_ns"))?;
                attach(&mut rows, |d| d.id, ns, |d| &mut d.ns);

                let mut ds: Vec<DsRow> = Vec::new();
                for chunk in id_list.chunks(IN_CHUNK) {
                    let sql = in_list_sql(
                        "SELECT id, domain_id, key_tag, algorithm, digest_type, digest FROM ds WHERE domain_id IN ",
                        chunk.len(),
                        "",
                    );
                    let mut qy = sqlx::query_as::<$db, (i64, i64, i64, i64, i64, String)>(AssertSqlSafe(sql));
                    for id in chunk {
                        qy = qy.bind(*id);
                    }
                    for (id, domain_id, key_tag, algorithm, digest_type, digest) in
                        qy.fetch_all(&mut *tx).await.map_err(q("ds"))?
                    {
                        ds.push(DsRow {
                            id,
                            domain_id,
                            key_tag,
                            algorithm,
                            digest_type,
                            digest,
                        });
                    }
                }
                ds.sort_unstable_by_key(|d| d.id);

                // The host rows.
                let hs: Vec<&String> = host_names.iter().collect();
                let mut hids: Vec<(i64, String)> = Vec::new();
                for chunk in hs.chunks(IN_CHUNK) {
                    let sql = in_list_sql("SELECT id, name FROM host WHERE name IN ", chunk.len(), "");
                    let mut qy = sqlx::query_as::<$db, (i64, String)>(AssertSqlSafe(sql));
                    for n in chunk {
                        qy = qy.bind(n.as_str());
                    }
                    hids.extend(qy.fetch_all(&mut *tx).await.map_err(q("host"))?);
                }
                hids.sort_unstable();
                let mut host_rows: Vec<HostRow> = hids
                    .into_iter()
                    .map(|(id, name)| HostRow {
                        id,
                        name,
                        addrs: Vec::new(),
                    })
                    .collect();
                let hid_list: Vec<i64> = host_rows.iter().map(|h| h.id).collect();
                let addrs = pairs_by_id(
                    &mut *tx,
                    "SELECT host_id, addr FROM host_addr WHERE host_id IN ",
                    " ORDER BY host_id, addr",
                    &hid_list,
                )
                .await
                .map_err(q("host_addr"))?;
                attach(&mut host_rows, |h| h.id, addrs, |h| &mut h.addrs);
                tx.rollback().await.map_err(q("domain"))?;

                Ok(PartialSnapshot {
                    snapshot: Snapshot {
                        domains: rows,
                        hosts: host_rows,
                        ds,
                        journal_seq,
                    },
                    domains: domain_names.into_iter().collect(),
                    hosts: host_names.into_iter().collect(),
                })
            }

            /// `(text, text)` rows for `head IN (...)` over `names`, chunked.
            async fn pairs_by_text(
                conn: &mut <$db as sqlx::Database>::Connection,
                head: &str,
                names: &[&String],
            ) -> Result<Vec<(String, String)>, sqlx::Error> {
                let mut out = Vec::new();
                for chunk in names.chunks(IN_CHUNK) {
                    let sql = in_list_sql(head, chunk.len(), "");
                    let mut qy = sqlx::query_as::<$db, (String, String)>(AssertSqlSafe(sql));
                    for n in chunk {
                        qy = qy.bind(n.as_str());
                    }
                    out.extend(qy.fetch_all(&mut *conn).await?);
                }
                Ok(out)
            }

            /// `(id, text)` rows for `head IN (...) tail` over `ids`, chunked,
            /// in `(id, text)` order.
            async fn pairs_by_id(
                conn: &mut <$db as sqlx::Database>::Connection,
                head: &str,
                tail: &str,
                ids: &[i64],
            ) -> Result<Vec<(i64, String)>, sqlx::Error> {
                let mut out = Vec::new();
                for chunk in ids.chunks(IN_CHUNK) {
                    let sql = in_list_sql(head, chunk.len(), tail);
                    let mut qy = sqlx::query_as::<$db, (i64, String)>(AssertSqlSafe(sql));
                    for id in chunk {
                        qy = qy.bind(*id);
                    }
                    out.extend(qy.fetch_all(&mut *conn).await?);
                }
                out.sort_unstable();
                Ok(out)
            }
        }
    };
}

partial_driver!(sqlite, sqlx::SqlitePool, sqlx::Sqlite);
partial_driver!(postgres, sqlx::PgPool, sqlx::Postgres);
