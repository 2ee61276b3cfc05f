//! The durable state of one zone: the serial of the last published version,
//! the SRS journal position it includes and the DS of the keys that signed
//! its DNSKEY RRset (the trust anchors of the next version when no parent DS
//! is configured, [`crate::dnssec::parent`]), together in one file,
//! `<state-dir>/<zone>.state`, written before the version is swapped in
//! and read when the pipeline starts. One source of truth: a restart never
//! goes backwards (RFC 1982 serials only increase) and knows which journal
//! entries the last published version holds.
//!
//! The format is small, versioned text, one `key value` per line after a
//! header line naming the format and its version:
//!
//! ```text
//! tldns-zone-state 2
//! serial 2024061501
//! journal-seq 81234
//! ksk-ds 12345 13 2 49fd46e6c4b45c55d4ac69cbd3cd34ac1afe51de0d8e1aa8f5e0d1e1a5c0b7a9
//! ```
//!
//! `journal-seq` is absent when the position is unknown (state upgraded
//! from an old `<zone>.serial`); `ksk-ds` (key tag, algorithm, digest type,
//! hex digest) is repeated per key and absent for an unsigned zone. Version
//! 1 files (no `ksk-ds`) are read too. Unknown keys are refused, as in the
//! configuration: a file this version cannot fully read is not guessed at.
//!
//! Upgrade: when there is no `<zone>.state`, the files older versions wrote
//! (`<zone>.serial`: the serial; `<zone>.position`: serial and journal
//! position) are read instead, the greater serial winning; the first store
//! of the new file removes them, so they are read once.
//!
//! Owns the file and its format; knows nothing of how versions are built.

use crate::name::Name;
use crate::rr::Ds;
use crate::serial::serial_gt;
use std::path::{Path, PathBuf};

/// The header's first word.
const MAGIC: &str = "tldns-zone-state";
/// The format version this code writes (it reads this one and 1).
pub const FORMAT_VERSION: u32 = 2;

/// What the last published version was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneState {
    /// Its SOA serial.
    pub serial: u32,
    /// The SRS journal position it includes; `None` if unknown.
    pub journal_seq: Option<i64>,
    /// The DS (SHA-256) of each key whose RRSIG over the DNSKEY RRset it
    /// holds; empty when unsigned or unknown (older files).
    pub ksk_ds: Vec<Ds>,
}

/// Why the zone state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A state file (or legacy file) exists but cannot be read.
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (never not-found: a missing file is no state).
        error: std::io::Error,
    },
    /// The state file could not be written durably.
    #[error("writing the zone state: {0}")]
    Write(#[from] tldns_base::fs::WriteError),
    /// A line of the file is not what the format allows.
    #[error("{path}: line {line}: {reason}: {text:?}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
        /// The line (or whole legacy file) as read.
        text: String,
    },
    /// The file is of another format version than [`FORMAT_VERSION`].
    #[error("{path}: format version {found}; this tldns reads versions 1 to {FORMAT_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version its header gives.
        found: u32,
    },
}

/// The state file of one zone (and the legacy files it replaces).
#[derive(Debug, Clone)]
pub struct StateFile {
    dir: PathBuf,
    zone: String,
}

impl StateFile {
    /// The state file of the zone `origin` in `state_dir` (named without
    /// the trailing dot). Touches nothing on disk.
    pub fn new(state_dir: &Path, origin: &Name) -> StateFile {
        StateFile {
            dir: state_dir.to_path_buf(),
            zone: origin.file_stem(),
        }
    }

    /// `<state-dir>/<zone>.state`.
    pub fn path(&self) -> PathBuf {
        self.with_extension("state")
    }

    fn with_extension(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.zone))
    }

    /// The stored state: the state file, else what older versions left.
    /// When both are there (an older tldns ran after this one wrote its
    /// state file), the one with the greater serial (RFC 1982) wins, with its
    /// own journal position, so the serial never goes back.
    pub fn load(&self) -> Result<Option<ZoneState>, StateError> {
        let path = self.path();
        let state = match read(&path)? {
            Some(text) => Some(parse(&path, &text)?),
            None => None,
        };
        let legacy = self.load_legacy()?;
        Ok(match (state, legacy) {
            // The legacy files know no keys: the anchors stay the state file's.
            (Some(s), Some(l)) if tldns_base::serial::serial_gt(l.serial, s.serial) => {
                Some(ZoneState {
                    ksk_ds: s.ksk_ds,
                    ..l
                })
            }
            (Some(s), _) => Some(s),
            (None, l) => l,
        })
    }

    /// Write `state` durably (temp file, fsync, rename, fsync of the
    /// directory), then remove the legacy files it supersedes.
    pub fn store(&self, state: &ZoneState) -> Result<(), StateError> {
        tldns_base::fs::write_atomic(&self.path(), format(state).as_bytes())?;
        for ext in ["serial", "position"] {
            // The new file is durable and always read first, so a legacy
            // file left behind (removal failed) is never read again.
            let _ = std::fs::remove_file(self.with_extension(ext));
        }
        Ok(())
    }

    /// `<zone>.serial` (`<serial>`) and `<zone>.position` (`<serial>
    /// <journal-seq>`): the greater serial (RFC 1982), with the journal
    /// position only when it belongs to that serial.
    fn load_legacy(&self) -> Result<Option<ZoneState>, StateError> {
        let mut found: Option<ZoneState> = None;
        let bad = |path: &Path, text: &str, reason| StateError::Parse {
            path: path.to_path_buf(),
            line: 1,
            reason,
            text: text.to_string(),
        };
        let path = self.with_extension("serial");
        if let Some(text) = read(&path)? {
            let serial = text
                .trim()
                .parse()
                .map_err(|_| bad(&path, &text, "not a serial"))?;
            found = Some(ZoneState {
                serial,
                journal_seq: None,
                ksk_ds: Vec::new(),
            });
        }
        let path = self.with_extension("position");
        if let Some(text) = read(&path)? {
            let mut f = text.split_whitespace();
            let (Some(serial), Some(seq)) = (
                f.next().and_then(|s| s.parse::<u32>().ok()),
                f.next().and_then(|s| s.parse::<i64>().ok()),
            ) else {
                return Err(bad(&path, &text, "not a serial and a journal position"));
            };
            found = match found {
                Some(s) if serial_gt(s.serial, serial) => Some(s),
                _ => Some(ZoneState {
                    serial,
                    journal_seq: Some(seq),
                    ksk_ds: Vec::new(),
                }),
            };
        }
        Ok(found)
    }
}

/// The file's text, `None` if it does not exist.
fn read(path: &Path) -> Result<Option<String>, StateError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(StateError::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

fn format(s: &ZoneState) -> String {
    let mut t = format!("{MAGIC} {FORMAT_VERSION}\nserial {}\n", s.serial);
    if let Some(seq) = s.journal_seq {
        t.push_str(&format!("journal-seq {seq}\n"));
    }
    for d in &s.ksk_ds {
        t.push_str(&format!(
            "ksk-ds {} {} {} {}\n",
            d.key_tag,
            d.algorithm,
            d.digest_type,
            data_encoding::HEXLOWER.encode(&d.digest)
        ));
    }
    t
}

/// `<tag> <algorithm> <digest-type> <hex>`.
fn parse_ds(value: &str) -> Option<Ds> {
    let mut f = value.split_whitespace();
    let ds = Ds {
        key_tag: f.next()?.parse().ok()?,
        algorithm: f.next()?.parse().ok()?,
        digest_type: f.next()?.parse().ok()?,
        digest: data_encoding::HEXLOWER_PERMISSIVE
            .decode(f.next()?.as_bytes())
            .ok()?,
    };
    f.next().is_none().then_some(ds)
}

fn parse(path: &Path, text: &str) -> Result<ZoneState, StateError> {
    let bad = |line: usize, reason, text: &str| StateError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
        text: text.to_string(),
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let header = lines.next().map_or("", |(_, l)| l);
    match header.split_once(' ') {
        Some((MAGIC, v)) => match v.trim().parse::<u32>() {
            Ok(1..=FORMAT_VERSION) => {}
            Ok(found) => {
                return Err(StateError::Version {
                    path: path.to_path_buf(),
                    found,
                });
            }
            Err(_) => return Err(bad(1, "not a format version", header)),
        },
        _ => return Err(bad(1, "not a tldns zone state file", header)),
    }
    let (mut serial, mut journal_seq, mut ksk_ds) = (None, None, Vec::new());
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "serial" => {
                serial = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| bad(n, "not a serial", line))?,
                )
            }
            "journal-seq" => {
                journal_seq = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| bad(n, "not a journal position", line))?,
                )
            }
            "ksk-ds" => ksk_ds.push(
                parse_ds(value)
                    .ok_or_else(|| bad(n, "not a DS (tag, algorithm, digest type, hex)", line))?,
            ),
            _ => return Err(bad(n, "unknown key", line)),
        }
    }
    let serial = serial.ok_or_else(|| bad(0, "no serial", text))?;
    Ok(ZoneState {
        serial,
        journal_seq,
        ksk_ds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tldns-state-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn origin() -> Name {
        Name::parse("mobile.").unwrap()
    }

    #[test]
    fn survives_reopen() {
        let d = dir("reopen");
        let f = StateFile::new(&d, &origin());
        assert_eq!(f.load().unwrap(), None);
        let s = ZoneState {
            serial: 42,
            journal_seq: Some(7),
            ksk_ds: vec![Ds {
                key_tag: 12345,
                algorithm: 13,
                digest_type: 2,
                digest: vec![0xab, 0x01],
            }],
        };
        f.store(&s).unwrap();
        assert_eq!(StateFile::new(&d, &origin()).load().unwrap(), Some(s));
        assert_eq!(
            std::fs::read_to_string(d.join("mobile.state")).unwrap(),
            "tldns-zone-state 2\nserial 42\njournal-seq 7\nksk-ds 12345 13 2 ab01\n"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn upgrades_from_the_old_files_once() {
        let d = dir("upgrade");
        std::fs::create_dir_all(&d).unwrap();
        // `tldns export` used to store the serial alone, so `.serial` may
        // be ahead of `.position`: the greater one wins.
        std::fs::write(d.join("mobile.serial"), "2000000005\n").unwrap();
        std::fs::write(d.join("mobile.position"), "2000000004 99\n").unwrap();
        let f = StateFile::new(&d, &origin());
        assert_eq!(
            f.load().unwrap(),
            Some(ZoneState {
                serial: 2000000005,
                journal_seq: None,
                ksk_ds: Vec::new(),
            })
        );
        std::fs::write(d.join("mobile.serial"), "2000000003\n").unwrap();
        assert_eq!(
            f.load().unwrap(),
            Some(ZoneState {
                serial: 2000000004,
                journal_seq: Some(99),
                ksk_ds: Vec::new(),
            })
        );
        let s = ZoneState {
            serial: 2000000006,
            journal_seq: Some(100),
            ksk_ds: Vec::new(),
        };
        f.store(&s).unwrap();
        assert!(!d.join("mobile.serial").exists());
        assert!(!d.join("mobile.position").exists());
        assert_eq!(f.load().unwrap(), Some(s.clone()));

        // An older tldns ran after the state file was written (a rollback)
        // and went on to a greater serial: its files win, so the serial
        // does not go back; a lesser serial left by it does not.
        std::fs::write(d.join("mobile.position"), "2000000009 120\n").unwrap();
        let rolled_back = ZoneState {
            serial: 2000000009,
            journal_seq: Some(120),
            ksk_ds: Vec::new(),
        };
        assert_eq!(f.load().unwrap(), Some(rolled_back));
        std::fs::write(d.join("mobile.position"), "2000000001 50\n").unwrap();
        assert_eq!(f.load().unwrap(), Some(s));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(matches!(
            parse(
                Path::new("x.state"),
                "tldns-zone-state 2\nserial 1\nksk-ds 1 13 2\n"
            ),
            Err(StateError::Parse { line: 3, .. })
        ));
        let p = Path::new("x.state");
        assert!(matches!(
            parse(p, "tldns-zone-state 3\nserial 1\n"),
            Err(StateError::Version { found: 3, .. })
        ));
        assert!(matches!(
            parse(p, "42\n"),
            Err(StateError::Parse { line: 1, .. })
        ));
        assert!(matches!(
            parse(p, "tldns-zone-state 1\nserial 1\nextra 3\n"),
            Err(StateError::Parse { line: 3, .. })
        ));
        assert!(matches!(
            parse(p, "tldns-zone-state 1\njournal-seq 3\n"),
            Err(StateError::Parse { .. })
        ));
        assert_eq!(
            parse(p, "tldns-zone-state 1\nserial 9\n").unwrap(),
            ZoneState {
                serial: 9,
                journal_seq: None,
                ksk_ds: Vec::new(),
            }
        );
    }
}
