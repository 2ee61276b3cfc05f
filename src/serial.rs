//! SOA serials: RFC 1982 arithmetic, the configured scheme, and the last
//! published serial kept on disk so a restart never goes backwards.

use crate::config::SerialScheme;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use tldns_base::serial::{Serial, serial_gt};

/// The next serial after `last` under `scheme` at `now` (unix seconds).
/// Always greater than `last` in RFC 1982 terms.
pub fn next_serial(last: Option<u32>, scheme: SerialScheme, now: u64) -> u32 {
    let candidate = match scheme {
        SerialScheme::Unixtime => now as u32,
        SerialScheme::Increment => last.map_or(1, |l| l.wrapping_add(1)),
        SerialScheme::Dateserial => {
            let (y, m, d) = crate::rr::civil_from_days((now / 86_400) as i64);
            (y as u32) * 1_000_000 + m * 10_000 + d * 100
        }
    };
    let next = match last {
        Some(l) if !serial_gt(candidate, l) => l.wrapping_add(1),
        _ => candidate,
    };
    // Zero is a valid serial (RFC 1982) but some software reads it as unset.
    match (next, last) {
        (0, Some(l)) if serial_gt(1, l) => 1,
        (0, None) => 1,
        _ => next,
    }
}

/// Errors reading or writing the serial state file.
#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: not a serial: {text:?}")]
    Parse { path: PathBuf, text: String },
}

/// The file holding the last published serial of a zone.
#[derive(Debug, Clone)]
pub struct SerialState {
    path: PathBuf,
}

impl SerialState {
    pub fn new(state_dir: &Path, origin: &crate::name::Name) -> SerialState {
        let zone = origin.to_string();
        let zone = zone.trim_end_matches('.');
        SerialState {
            path: state_dir.join(format!("{zone}.serial")),
        }
    }

    pub fn load(&self) -> Result<Option<u32>, SerialError> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => t.trim().parse().map(Some).map_err(|_| SerialError::Parse {
                path: self.path.clone(),
                text: t,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(SerialError::Io {
                path: self.path.clone(),
                error,
            }),
        }
    }

    /// Write atomically (temp file, fsync, rename) before the version is published.
    pub fn store(&self, serial: u32) -> Result<(), SerialError> {
        let err = |error| SerialError::Io {
            path: self.path.clone(),
            error,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = self.path.with_extension("serial.tmp");
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        writeln!(f, "{serial}").map_err(err)?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards() {
        assert_eq!(
            next_serial(Some(2_000_000_000), SerialScheme::Unixtime, 1_000),
            2_000_000_001
        );
        assert_eq!(
            next_serial(None, SerialScheme::Unixtime, 1_700_000_000),
            1_700_000_000
        );
        assert_eq!(next_serial(Some(u32::MAX), SerialScheme::Increment, 0), 1);
        assert_eq!(
            next_serial(None, SerialScheme::Dateserial, 1_700_000_000),
            2023111400
        );
        assert_eq!(
            next_serial(Some(2023111400), SerialScheme::Dateserial, 1_700_000_000),
            2023111401
        );
    }

    #[test]
    fn state_survives_reopen() {
        let dir = std::env::temp_dir().join(format!("tldns-serial-{}", std::process::id()));
        let o = crate::name::Name::parse("mobile.").unwrap();
        let s = SerialState::new(&dir, &o);
        assert_eq!(s.load().unwrap(), None);
        s.store(42).unwrap();
        assert_eq!(SerialState::new(&dir, &o).load().unwrap(), Some(42));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
