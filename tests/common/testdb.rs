//! Throw-away SRS databases for the integration tests, real ones:
//! a temporary SQLite file, or a fresh PostgreSQL database that is dropped
//! again when the [`TestDb`] goes.
//!
//! PostgreSQL: the server at `TLDNS_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`) creates the database. When it
//! cannot be reached the test is skipped with a printed reason, unless
//! `CI=true`, where that is a failure.

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tldns::srs::{Srs, SrsError};

/// The PostgreSQL server tests create their databases on.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}_{:08x}{:02x}", std::process::id(), nanos, n & 0xff)
}

/// A database that exists as long as this value does.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    gone: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDb {
    /// A new SQLite file in the temporary directory.
    pub fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("tldns_test_{}.db", unique()));
        TestDb {
            url: format!("sqlite://{}", path.display()),
            gone: Cleanup::File(path),
        }
    }

    /// A new PostgreSQL database, or `None` (with the reason printed) when
    /// the server is unreachable outside CI.
    ///
    /// # Panics
    /// When `CI=true` and the server is unreachable, or it refuses to
    /// create the database.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url =
            std::env::var("TLDNS_TEST_PG").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
        let mut admin =
            match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&admin_url))
                .await
            {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return unreachable_pg(&admin_url, &e.to_string()),
                Err(_) => return unreachable_pg(&admin_url, "timed out"),
            };
        let name = format!("tldns_test_{}", unique());
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("{admin_url}: CREATE DATABASE {name}: {e}"));
        let _ = admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => format!("{admin_url}/{name}"),
        };
        Some(TestDb {
            url,
            gone: Cleanup::Database { admin_url, name },
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connect and migrate.
    pub async fn srs(&self) -> Result<Srs, SrsError> {
        let srs = Srs::connect(&self.url).await?;
        srs.init().await?;
        Ok(srs)
    }
}

fn unreachable_pg(url: &str, why: &str) -> Option<TestDb> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and PostgreSQL at {url} is unreachable: {why}");
    }
    eprintln!("skipping PostgreSQL test: {url} is unreachable: {why}");
    None
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.gone {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut f = p.clone().into_os_string();
                    f.push(suffix);
                    let _ = std::fs::remove_file(f);
                }
            }
            Cleanup::Database { admin_url, name } => {
                // Drop runs outside async: use a runtime of our own on a thread
                // of our own, so this works inside a test's runtime as well.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let t = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let mut c = PgConnection::connect(&admin_url).await.ok()?;
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        if let Err(e) = c.execute(AssertSqlSafe(sql)).await {
                            eprintln!("{admin_url}: DROP DATABASE {name}: {e}");
                        }
                        c.close().await.ok()
                    })
                });
                let _ = t.join();
            }
        }
    }
}
