//! CZDS zone-file export (Spec 4 §2.1): one published version written as
//! `<zone>.zone.gz` with `<zone>.zone.gz.md5` and `<zone>.zone.gz.sig`, and
//! the historical copy `<zone>-yyyymmdd.zone.gz` with its own checksum and
//! signature (§2.1.3), in the subformat of §2.1.4 ([`czds`]).
//!
//! Owns the files in the export directory. It reads a [`SignedZone`] and
//! never builds, signs DNS data or touches the SRS; [`schedule`] decides
//! when, [`check`] reads any file back against the 18 rules.
//!
//! Files appear atomically: everything is written under hidden temporary
//! names in the export directory (same file system), fsynced, and only then
//! renamed over the published names, historical copy first, then the
//! `.zone.gz`, `.md5` and `.sig` one after the other; the directory is
//! fsynced last. A downloader sees yesterday's complete file or today's,
//! never a partial one, and an export that fails (no space, no permission,
//! no key) removes its temporary files and leaves yesterday's in place.
//!
//! Memory: the writer streams; it holds the owners' names and the lines of
//! one owner at a time, and compresses and checksums as it writes.

pub mod check;
pub mod czds;
pub mod openpgp;
pub mod schedule;

use crate::config::Config;
use crate::zone::SignedZone;
use flate2::Compression;
use flate2::write::GzEncoder;
use md5::{Digest, Md5};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tldns_base::fs::sync_dir;
use tldns_base::time::civil_from_days;

/// Why an export did not publish its files.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Creating, writing, syncing, renaming or pruning a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// Writing the zone file itself failed.
    #[error("{path}: {error}")]
    Write {
        /// The temporary zone file.
        path: PathBuf,
        /// The writer's error.
        error: czds::WriteError,
    },
    /// The `.sig` file could not be made.
    #[error("signature: {0}")]
    Sign(#[from] openpgp::SignError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |error| ExportError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// What one export published.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// SOA serial of the exported version.
    pub serial: u32,
    /// Lines in the file (both SOA copies included).
    pub lines: u64,
    /// Uncompressed size.
    pub bytes: u64,
    /// Size of `<zone>.zone.gz`.
    pub gz_bytes: u64,
    /// MD5 of `<zone>.zone.gz`, lower-case hex.
    pub md5: String,
    /// Fingerprint of the key that signed.
    pub signer: String,
    /// The files published, current and historical.
    pub files: Vec<PathBuf>,
    /// Historical files removed (beyond `keep-days`).
    pub pruned: Vec<PathBuf>,
}

/// The published names for one zone.
#[derive(Debug, Clone)]
pub struct Names {
    /// `<zone>`: the origin without its trailing dot.
    pub zone: String,
}

impl Names {
    /// The names for the zone at `origin`.
    pub fn new(origin: &crate::name::Name) -> Names {
        Names {
            zone: origin.file_stem(),
        }
    }

    /// `<zone>.zone.gz`
    pub fn current(&self) -> String {
        format!("{}.zone.gz", self.zone)
    }

    /// `<zone>-yyyymmdd.zone.gz`
    pub fn historical(&self, (y, m, d): (i64, u32, u32)) -> String {
        format!("{}-{y:04}{m:02}{d:02}.zone.gz", self.zone)
    }

    /// The date of a historical file name, as `yyyymmdd`.
    pub fn date_of(&self, file: &str) -> Option<u32> {
        let rest = file.strip_prefix(&self.zone)?.strip_prefix('-')?;
        let date = rest.strip_suffix(".zone.gz")?;
        (date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()))
            .then(|| date.parse().ok())
            .flatten()
    }
}

/// UTC calendar date of a unix time.
pub fn utc_date(unix: u64) -> (i64, u32, u32) {
    civil_from_days((unix / 86_400) as i64)
}

/// Temporary files removed on drop unless the export got to publishing.
struct Temps(Vec<PathBuf>);

impl Temps {
    fn name(&mut self, dir: &Path, final_name: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = dir.join(format!(".{final_name}.tmp-{}-{n}", std::process::id()));
        self.0.push(p.clone());
        p
    }
}

impl Drop for Temps {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A writer that computes the MD5 of what passes through it.
struct Md5Writer<W: Write> {
    inner: W,
    md5: Md5,
    len: u64,
}

impl<W: Write> Write for Md5Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One staged file, complete and fsynced under its temporary name; not
/// `tldns_base::fs::write_atomic`, because the six files are renamed only
/// once all are complete (docs/czds.md, Atomicity).
fn write_synced(path: &Path, data: &[u8]) -> Result<(), ExportError> {
    let mut f = std::fs::File::create(path).map_err(io_err(path))?;
    f.write_all(data).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

/// Export `zone` into `dir`: current and historical (`date`) files, each
/// with its `.md5` and `.sig`; then keep only the `keep_days` newest
/// historical copies (0 keeps all).
pub fn export(
    zone: &SignedZone,
    dir: &Path,
    date: (i64, u32, u32),
    keep_days: u32,
    signer: &openpgp::Signer,
) -> Result<ExportReport, ExportError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let names = Names::new(&zone.zone.origin);
    let current = names.current();
    let historical = names.historical(date);
    let mut temps = Temps(Vec::new());

    // The zone file, compressed and checksummed as it is written.
    let gz_tmp = temps.name(dir, &current);
    let file = std::fs::File::create(&gz_tmp).map_err(io_err(&gz_tmp))?;
    let mut md5w = Md5Writer {
        inner: io::BufWriter::with_capacity(1 << 20, file),
        md5: Md5::new(),
        len: 0,
    };
    let mut gz = GzEncoder::new(&mut md5w, Compression::default());
    let written = {
        let mut buf = io::BufWriter::with_capacity(1 << 16, &mut gz);
        let w = czds::write_zone(zone, &mut buf).map_err(|error| ExportError::Write {
            path: gz_tmp.clone(),
            error,
        })?;
        buf.flush().map_err(io_err(&gz_tmp))?;
        w
    };
    gz.try_finish().map_err(io_err(&gz_tmp))?;
    drop(gz);
    md5w.flush().map_err(io_err(&gz_tmp))?;
    let md5 = data_encoding::HEXLOWER.encode(&md5w.md5.finalize());
    let gz_bytes = md5w.len;
    let file = md5w
        .inner
        .into_inner()
        .map_err(|e| io_err(&gz_tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(&gz_tmp))?;
    drop(file);

    let sig = signer.sign_file(&gz_tmp)?;

    // The historical copy is the same bytes: a hard link, or a copy where
    // the file system has none.
    let hist_tmp = temps.name(dir, &historical);
    if std::fs::hard_link(&gz_tmp, &hist_tmp).is_err() {
        std::fs::copy(&gz_tmp, &hist_tmp).map_err(io_err(&hist_tmp))?;
        std::fs::File::open(&hist_tmp)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&hist_tmp))?;
    }
    // Each .md5 names its own file, so `md5sum -c` works on either.
    let mut publish: Vec<(PathBuf, String)> = Vec::with_capacity(6);
    for (gz, name) in [(hist_tmp, &historical), (gz_tmp.clone(), &current)] {
        publish.push((gz, name.clone()));
        let m = format!("{name}.md5");
        let t = temps.name(dir, &m);
        write_synced(&t, format!("{md5}  {name}\n").as_bytes())?;
        publish.push((t, m));
        let s = format!("{name}.sig");
        let t = temps.name(dir, &s);
        write_synced(&t, &sig)?;
        publish.push((t, s));
    }

    let mut files = Vec::new();
    for (tmp, name) in &publish {
        let dst = dir.join(name);
        std::fs::rename(tmp, &dst).map_err(io_err(&dst))?;
        files.push(dst);
    }
    temps.0.clear();
    sync_dir(dir).map_err(|e| ExportError::Io {
        path: e.path,
        error: e.error,
    })?;

    let pruned = prune(dir, &names, keep_days)?;
    Ok(ExportReport {
        serial: written.serial,
        lines: written.lines,
        bytes: written.bytes,
        gz_bytes,
        md5,
        signer: signer.fingerprint(),
        files,
        pruned,
    })
}

/// Remove historical files beyond the `keep` newest dates (0 keeps all).
fn prune(dir: &Path, names: &Names, keep: u32) -> Result<Vec<PathBuf>, ExportError> {
    if keep == 0 {
        return Ok(Vec::new());
    }
    let mut dates: Vec<u32> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok())
        .filter_map(|e| names.date_of(e.file_name().to_str()?))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let mut pruned = Vec::new();
    let old = dates.len().saturating_sub(keep as usize);
    for d in &dates[..old] {
        let (y, m, day) = ((d / 10_000) as i64, (d / 100) % 100, d % 100);
        let base = names.historical((y, m, day));
        for f in [base.clone(), format!("{base}.md5"), format!("{base}.sig")] {
            let p = dir.join(f);
            match std::fs::remove_file(&p) {
                Ok(()) => pruned.push(p),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(ExportError::Io { path: p, error }),
            }
        }
    }
    Ok(pruned)
}

/// The export directory of `config`: `[export] out-dir`, else `<state-dir>/czds`.
pub fn out_dir(config: &Config) -> PathBuf {
    match &config.zone.export.out_dir {
        Some(d) => config.resolve(d),
        None => config.resolve(&config.zone.state_dir).join("czds"),
    }
}

/// The signing key file of `config`: `[export] signing-key`, else
/// `<state-dir>/czds-openpgp.asc`.
pub fn signing_key_path(config: &Config) -> PathBuf {
    match &config.zone.export.signing_key {
        Some(k) => config.resolve(k),
        None => config
            .resolve(&config.zone.state_dir)
            .join("czds-openpgp.asc"),
    }
}

/// The signer of `config` (its key generated if missing).
pub fn configured_signer(config: &Config) -> Result<openpgp::Signer, ExportError> {
    let zone = Names::new(&config.origin).zone;
    let uid = format!("{zone} zone file (tldns CZDS export) <hostmaster@nic.{zone}>");
    Ok(openpgp::Signer::load_or_generate(
        &signing_key_path(config),
        &uid,
    )?)
}

/// Export with the settings of `config` (`out` overrides the directory);
/// the historical copy is dated by `now` (unix seconds, UTC).
pub fn export_configured(
    zone: &SignedZone,
    config: &Config,
    out: Option<&Path>,
    now: u64,
) -> Result<ExportReport, ExportError> {
    let dir = out.map_or_else(|| out_dir(config), Path::to_path_buf);
    let signer = configured_signer(config)?;
    export(
        zone,
        &dir,
        utc_date(now),
        config.zone.export.keep_days,
        &signer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn historical_names() {
        let n = Names::new(&crate::name::Name::parse("mobile.").unwrap());
        assert_eq!(n.current(), "mobile.zone.gz");
        assert_eq!(n.historical((2026, 3, 7)), "mobile-20260307.zone.gz");
        assert_eq!(n.date_of("mobile-20260307.zone.gz"), Some(20260307));
        assert_eq!(n.date_of("mobile-20260307.zone.gz.md5"), None);
        assert_eq!(n.date_of("mobilex-20260307.zone.gz"), None);
        assert_eq!(utc_date(0), (1970, 1, 1));
    }

    #[test]
    fn prune_keeps_newest() {
        let dir = std::env::temp_dir().join(format!("tldns-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let n = Names::new(&crate::name::Name::parse("mobile.").unwrap());
        for d in 1..=5 {
            let h = n.historical((2026, 1, d));
            for f in [h.clone(), format!("{h}.md5"), format!("{h}.sig")] {
                std::fs::write(dir.join(f), b"x").unwrap();
            }
        }
        std::fs::write(dir.join("mobile.zone.gz"), b"x").unwrap();
        let pruned = prune(&dir, &n, 2).unwrap();
        assert_eq!(pruned.len(), 9);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left.len(), 7);
        assert!(left.contains(&"mobile-20260105.zone.gz".to_string()));
        assert!(!left.contains(&"mobile-20260103.zone.gz".to_string()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
