//! Every SQL statement tldns runs against the SRS, written once and
//! expanded for each driver (`sqlite`, `postgres`). Both databases accept
//! the same text; only the statements that open transactions differ.

/// Expand the SRS functions for one sqlx driver.
macro_rules! srs_sql {
    ($module:ident, $pool:ty, $conn:ty, begin_read: $begin_read:expr, begin_write: $begin_write:expr) => {
        pub(crate) mod $module {
            use crate::srs::batch::{Batch, Inserted, ROWS_PER_STATEMENT, in_list_sql, values_sql};
            use crate::srs::{Change, ChangeObject, DomainRow, DsRow, HostRow, PAGE, Snapshot, SrsError, attach};
            use sqlx::AssertSqlSafe;
            use std::collections::HashMap;

            type Pool = $pool;
            type Conn = $conn;

            fn q<'a>(url: &'a str, table: &'static str) -> impl Fn(sqlx::Error) -> SrsError + 'a {
                move |error| SrsError::Query { url: url.to_string(), table, error }
            }

            fn not_found(url: &str, table: &'static str, name: &str) -> SrsError {
                SrsError::NotFound { url: url.to_string(), table, name: name.to_string() }
            }

            pub(crate) async fn snapshot(pool: &Pool, url: &str) -> Result<Snapshot, SrsError> {
                let mut tx = pool.begin_with($begin_read).await.map_err(q(url, "domain"))?;
                // SQLite's read snapshot starts at the first SELECT, PostgreSQL's
                // at the first statement: everything below sees the same data.
                let journal_seq: i64 = sqlx::query_scalar("SELECT seq FROM journal_counter WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(q(url, "journal_counter"))?;

                // Page through each parent table by id and fetch the children
                // of that id range with one range scan each: no N+1 queries,
                // memory bounded by the page. (Aggregating the children in SQL
                // with correlated subqueries measured slower on SQLite with
                // 1,000,000 domains, in one run on a loaded machine.)
                let mut domains: Vec<DomainRow> = Vec::new();
                let mut last = 0i64;
                loop {
                    let page: Vec<(i64, String)> =
                        sqlx::query_as("SELECT id, name FROM domain WHERE id > $1 ORDER BY id LIMIT $2")
                            .bind(last)
                            .bind(PAGE)
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(q(url, "domain"))?;
                    let Some(&(hi, _)) = page.last() else { break };
                    let start = domains.len();
                    domains.extend(page.into_iter().map(|(id, name)| DomainRow { id, name, statuses: Vec::new(), ns: Vec::new() }));
                    let statuses: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT domain_id, status FROM domain_status WHERE domain_id > $1 AND domain_id <= $2 ORDER BY domain_id, status",
                    )
                    .bind(last)
                    .bind(hi)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(q(url, "domain_status"))?;
                    attach(&mut domains[start..], |d| d.id, statuses, |d| &mut d.statuses);
                    let ns: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT domain_id, host_name FROM domain_ns WHERE domain_id > $1 AND domain_id <= $2 ORDER BY domain_id, host_name",
                    )
                    .bind(last)
                    .bind(hi)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(q(url, "domain_ns"))?;
                    attach(&mut domains[start..], |d| d.id, ns, |d| &mut d.ns);
                    last = hi;
                }

                let mut hosts: Vec<HostRow> = Vec::new();
                let mut last = 0i64;
                loop {
                    let page: Vec<(i64, String)> =
                        sqlx::query_as("SELECT id, name FROM host WHERE id > $1 ORDER BY id LIMIT $2")
                            .bind(last)
                            .bind(PAGE)
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(q(url, "host"))?;
                    let Some(&(hi, _)) = page.last() else { break };
                    let start = hosts.len();
                    hosts.extend(page.into_iter().map(|(id, name)| HostRow { id, name, addrs: Vec::new() }));
                    let addrs: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT host_id, addr FROM host_addr WHERE host_id > $1 AND host_id <= $2 ORDER BY host_id, addr",
                    )
                    .bind(last)
                    .bind(hi)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(q(url, "host_addr"))?;
                    attach(&mut hosts[start..], |h| h.id, addrs, |h| &mut h.addrs);
                    last = hi;
                }

                let mut ds: Vec<DsRow> = Vec::new();
                let mut last = 0i64;
                loop {
                    let page: Vec<(i64, i64, i64, i64, i64, String)> = sqlx::query_as(
                        "SELECT id, domain_id, key_tag, algorithm, digest_type, digest FROM ds WHERE id > $1 ORDER BY id LIMIT $2",
                    )
                    .bind(last)
                    .bind(PAGE)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(q(url, "ds"))?;
                    let Some(&(hi, ..)) = page.last() else { break };
                    ds.extend(page.into_iter().map(|(id, domain_id, key_tag, algorithm, digest_type, digest)| DsRow {
                        id,
                        domain_id,
                        key_tag,
                        algorithm,
                        digest_type,
                        digest,
                    }));
                    last = hi;
                }
                tx.rollback().await.map_err(q(url, "domain"))?;
                Ok(Snapshot { domains, hosts, ds, journal_seq })
            }

            pub(crate) async fn list(pool: &Pool, url: &str, with_ds: bool, limit: i64) -> Result<Vec<String>, SrsError> {
                let sql = if with_ds {
                    "SELECT name FROM domain WHERE id IN (SELECT domain_id FROM ds) ORDER BY name LIMIT $1"
                } else {
                    "SELECT name FROM domain ORDER BY name LIMIT $1"
                };
                sqlx::query_scalar(sql).bind(limit).fetch_all(pool).await.map_err(q(url, "domain"))
            }

            pub(crate) async fn journal_seq(pool: &Pool, url: &str) -> Result<i64, SrsError> {
                sqlx::query_scalar("SELECT seq FROM journal_counter WHERE id = 1")
                    .fetch_one(pool)
                    .await
                    .map_err(q(url, "journal_counter"))
            }

            pub(crate) async fn changes_since(pool: &Pool, url: &str, since: i64, limit: i64) -> Result<Vec<Change>, SrsError> {
                let rows: Vec<(i64, String, String)> =
                    sqlx::query_as("SELECT seq, object, name FROM change_journal WHERE seq > $1 ORDER BY seq LIMIT $2")
                        .bind(since)
                        .bind(limit)
                        .fetch_all(pool)
                        .await
                        .map_err(q(url, "change_journal"))?;
                rows.into_iter()
                    .map(|(seq, object, name)| {
                        let object = match object.as_str() {
                            "domain" => ChangeObject::Domain,
                            "host" => ChangeObject::Host,
                            _ => {
                                return Err(SrsError::InvalidValue {
                                    url: url.to_string(),
                                    table: "change_journal",
                                    row: seq,
                                    column: "object",
                                    value: object,
                                });
                            }
                        };
                        Ok(Change { seq, object, name })
                    })
                    .collect()
            }

            pub(crate) async fn prune_journal(pool: &Pool, url: &str, upto: i64) -> Result<u64, SrsError> {
                let r = sqlx::query("DELETE FROM change_journal WHERE seq <= $1")
                    .bind(upto)
                    .execute(pool)
                    .await
                    .map_err(q(url, "change_journal"))?;
                Ok(r.rows_affected())
            }

            async fn id_of(conn: &mut Conn, url: &str, table: &'static str, name: &str) -> Result<Option<i64>, SrsError> {
                let sql = if table == "host" { "SELECT id FROM host WHERE name = $1" } else { "SELECT id FROM domain WHERE name = $1" };
                sqlx::query_scalar(sql).bind(name).fetch_optional(&mut *conn).await.map_err(q(url, table))
            }

            async fn domain_id(conn: &mut Conn, url: &str, name: &str) -> Result<i64, SrsError> {
                id_of(conn, url, "domain", name).await?.ok_or_else(|| not_found(url, "domain", name))
            }

            async fn insert_ns(conn: &mut Conn, url: &str, id: i64, ns: &[String]) -> Result<(), SrsError> {
                for h in ns {
                    sqlx::query("INSERT INTO domain_ns (domain_id, host_name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(h.as_str())
                        .execute(&mut *conn)
                        .await
                        .map_err(q(url, "domain_ns"))?;
                }
                Ok(())
            }

            pub(crate) async fn add_domain(pool: &Pool, url: &str, name: &str, ns: &[String]) -> Result<(), SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "domain"))?;
                let id: Option<i64> =
                    sqlx::query_scalar("INSERT INTO domain (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id")
                        .bind(name)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(q(url, "domain"))?;
                let Some(id) = id else {
                    return Err(SrsError::Exists { url: url.to_string(), table: "domain", name: name.to_string() });
                };
                insert_ns(&mut tx, url, id, ns).await?;
                tx.commit().await.map_err(q(url, "domain"))
            }

            pub(crate) async fn remove_domain(pool: &Pool, url: &str, name: &str) -> Result<(), SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "domain"))?;
                let r = sqlx::query("DELETE FROM domain WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(url, "domain"))?;
                if r.rows_affected() == 0 {
                    return Err(not_found(url, "domain", name));
                }
                tx.commit().await.map_err(q(url, "domain"))
            }

            pub(crate) async fn set_ns(pool: &Pool, url: &str, name: &str, ns: &[String]) -> Result<(), SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "domain_ns"))?;
                let id = domain_id(&mut tx, url, name).await?;
                let old: Vec<String> = sqlx::query_scalar("SELECT host_name FROM domain_ns WHERE domain_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(q(url, "domain_ns"))?;
                // Only the difference is written, so the journal shows real changes.
                for h in old.iter().filter(|h| !ns.contains(h)) {
                    sqlx::query("DELETE FROM domain_ns WHERE domain_id = $1 AND host_name = $2")
                        .bind(id)
                        .bind(h.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(q(url, "domain_ns"))?;
                }
                let new: Vec<String> = ns.iter().filter(|h| !old.contains(h)).cloned().collect();
                insert_ns(&mut tx, url, id, &new).await?;
                tx.commit().await.map_err(q(url, "domain_ns"))
            }

            pub(crate) async fn add_ds(
                pool: &Pool,
                url: &str,
                name: &str,
                key_tag: i64,
                algorithm: i64,
                digest_type: i64,
                digest: &str,
            ) -> Result<(), SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "ds"))?;
                let id = domain_id(&mut tx, url, name).await?;
                let r = sqlx::query(
                    "INSERT INTO ds (domain_id, key_tag, algorithm, digest_type, digest) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(key_tag)
                .bind(algorithm)
                .bind(digest_type)
                .bind(digest)
                .execute(&mut *tx)
                .await
                .map_err(q(url, "ds"))?;
                if r.rows_affected() == 0 {
                    return Err(SrsError::Exists { url: url.to_string(), table: "ds", name: format!("{name} DS {key_tag} {algorithm} {digest_type} {digest}") });
                }
                tx.commit().await.map_err(q(url, "ds"))
            }

            pub(crate) async fn remove_ds(pool: &Pool, url: &str, name: &str, key_tag: i64) -> Result<u64, SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "ds"))?;
                let id = domain_id(&mut tx, url, name).await?;
                let r = sqlx::query("DELETE FROM ds WHERE domain_id = $1 AND key_tag = $2")
                    .bind(id)
                    .bind(key_tag)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(url, "ds"))?;
                tx.commit().await.map_err(q(url, "ds"))?;
                Ok(r.rows_affected())
            }

            /// Add `add` and remove `remove` statuses; returns rows changed.
            pub(crate) async fn change_statuses(
                pool: &Pool,
                url: &str,
                name: &str,
                add: &[&str],
                remove: &[&str],
            ) -> Result<u64, SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "domain_status"))?;
                let id = domain_id(&mut tx, url, name).await?;
                let mut n = 0;
                for s in add {
                    let r = sqlx::query("INSERT INTO domain_status (domain_id, status) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(*s)
                        .execute(&mut *tx)
                        .await
                        .map_err(q(url, "domain_status"))?;
                    n += r.rows_affected();
                }
                for s in remove {
                    let r = sqlx::query("DELETE FROM domain_status WHERE domain_id = $1 AND status = $2")
                        .bind(id)
                        .bind(*s)
                        .execute(&mut *tx)
                        .await
                        .map_err(q(url, "domain_status"))?;
                    n += r.rows_affected();
                }
                tx.commit().await.map_err(q(url, "domain_status"))?;
                Ok(n)
            }

            pub(crate) async fn add_host(pool: &Pool, url: &str, name: &str, addrs: &[String]) -> Result<(), SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "host"))?;
                sqlx::query("INSERT INTO host (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(url, "host"))?;
                let id = id_of(&mut tx, url, "host", name).await?.ok_or_else(|| not_found(url, "host", name))?;
                for a in addrs {
                    sqlx::query("INSERT INTO host_addr (host_id, addr) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(a.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(q(url, "host_addr"))?;
                }
                tx.commit().await.map_err(q(url, "host"))
            }

            pub(crate) async fn remove_host(pool: &Pool, url: &str, name: &str) -> Result<(), SrsError> {
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "host"))?;
                let r = sqlx::query("DELETE FROM host WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(url, "host"))?;
                if r.rows_affected() == 0 {
                    return Err(not_found(url, "host", name));
                }
                tx.commit().await.map_err(q(url, "host"))
            }

            /// Insert `names` into `table` (domain or host) unless present;
            /// returns how many were new and the id of every name.
            async fn upsert_names(
                conn: &mut Conn,
                url: &str,
                table: &'static str,
                names: &[&str],
            ) -> Result<(u64, HashMap<String, i64>), SrsError> {
                let mut ids = HashMap::with_capacity(names.len());
                let mut new = 0u64;
                let (head, tail, select) = if table == "host" {
                    ("INSERT INTO host (name) VALUES ", " ON CONFLICT (name) DO NOTHING RETURNING id, name", "SELECT id, name FROM host WHERE name IN ")
                } else {
                    ("INSERT INTO domain (name) VALUES ", " ON CONFLICT (name) DO NOTHING RETURNING id, name", "SELECT id, name FROM domain WHERE name IN ")
                };
                for chunk in names.chunks(ROWS_PER_STATEMENT) {
                    let mut qy = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(values_sql(head, 1, chunk.len(), tail)));
                    for n in chunk {
                        qy = qy.bind(*n);
                    }
                    let rows = qy.fetch_all(&mut *conn).await.map_err(q(url, table))?;
                    new += rows.len() as u64;
                    let complete = rows.len() == chunk.len();
                    ids.extend(rows.into_iter().map(|(id, n)| (n, id)));
                    if !complete {
                        let missing: Vec<&str> = chunk.iter().copied().filter(|n| !ids.contains_key(*n)).collect();
                        let mut qy = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(in_list_sql(select, missing.len(), "")));
                        for n in &missing {
                            qy = qy.bind(*n);
                        }
                        let rows = qy.fetch_all(&mut *conn).await.map_err(q(url, table))?;
                        ids.extend(rows.into_iter().map(|(id, n)| (n, id)));
                    }
                }
                Ok((new, ids))
            }

            /// Insert `(id, text)` pairs into a two-column table.
            async fn insert_pairs(
                conn: &mut Conn,
                url: &str,
                table: &'static str,
                head: &str,
                rows: &[(i64, &str)],
            ) -> Result<u64, SrsError> {
                let mut n = 0;
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut qy = sqlx::query(AssertSqlSafe(values_sql(head, 2, chunk.len(), " ON CONFLICT DO NOTHING")));
                    for (id, v) in chunk {
                        qy = qy.bind(*id).bind(*v);
                    }
                    n += qy.execute(&mut *conn).await.map_err(q(url, table))?.rows_affected();
                }
                Ok(n)
            }

            /// Write `batch` in one transaction.
            pub(crate) async fn write_batch(pool: &Pool, url: &str, batch: &Batch) -> Result<Inserted, SrsError> {
                let mut out = Inserted::default();
                let mut tx = pool.begin_with($begin_write).await.map_err(q(url, "domain"))?;

                let names: Vec<&str> = batch.domains.iter().map(|d| d.name.as_str()).collect();
                let (new, ids) = upsert_names(&mut tx, url, "domain", &names).await?;
                out.domains = new;
                let id = |name: &str| ids.get(name).copied().ok_or_else(|| not_found(url, "domain", name));
                let mut statuses: Vec<(i64, &str)> = Vec::new();
                let mut ns: Vec<(i64, &str)> = Vec::new();
                let mut ds = Vec::new();
                for d in &batch.domains {
                    let i = id(&d.name)?;
                    statuses.extend(d.statuses.iter().map(|s| (i, *s)));
                    ns.extend(d.ns.iter().map(|h| (i, h.as_str())));
                    ds.extend(d.ds.iter().map(|x| (i, x)));
                }
                out.statuses =
                    insert_pairs(&mut tx, url, "domain_status", "INSERT INTO domain_status (domain_id, status) VALUES ", &statuses).await?;
                out.name_servers =
                    insert_pairs(&mut tx, url, "domain_ns", "INSERT INTO domain_ns (domain_id, host_name) VALUES ", &ns).await?;
                for chunk in ds.chunks(ROWS_PER_STATEMENT) {
                    let sql = values_sql(
                        "INSERT INTO ds (domain_id, key_tag, algorithm, digest_type, digest) VALUES ",
                        5,
                        chunk.len(),
                        " ON CONFLICT DO NOTHING",
                    );
                    let mut qy = sqlx::query(AssertSqlSafe(sql));
                    for (i, x) in chunk {
                        qy = qy.bind(*i).bind(x.key_tag).bind(x.algorithm).bind(x.digest_type).bind(x.digest.as_str());
                    }
                    out.ds += qy.execute(&mut *tx).await.map_err(q(url, "ds"))?.rows_affected();
                }

                let names: Vec<&str> = batch.hosts.iter().map(|h| h.name.as_str()).collect();
                let (new, hids) = upsert_names(&mut tx, url, "host", &names).await?;
                out.hosts = new;
                let mut addrs: Vec<(i64, &str)> = Vec::new();
                for h in &batch.hosts {
                    let i = hids.get(h.name.as_str()).copied().ok_or_else(|| not_found(url, "host", &h.name))?;
                    addrs.extend(h.addrs.iter().map(|a| (i, a.as_str())));
                }
                out.addresses =
                    insert_pairs(&mut tx, url, "host_addr", "INSERT INTO host_addr (host_id, addr) VALUES ", &addrs).await?;
                tx.commit().await.map_err(q(url, "domain"))?;
                Ok(out)
            }
        }
    };
}

// SQLite: BEGIN IMMEDIATE takes the write lock up front, so a writer never
// fails half-way on a lock upgrade; readers stay concurrent (WAL).
srs_sql!(
    sqlite,
    sqlx::SqlitePool,
    sqlx::SqliteConnection,
    begin_read: "BEGIN",
    begin_write: "BEGIN IMMEDIATE"
);
srs_sql!(
    postgres,
    sqlx::PgPool,
    sqlx::PgConnection,
    begin_read: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    begin_write: "BEGIN"
);
