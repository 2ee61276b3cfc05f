//! One durable atomic write: a temporary file beside the target, written
//! and fsynced, renamed over the target, then the directory fsynced, so
//! after a crash the file is either the old one or the new one, complete.
//!
//! Every state file, report and export tldns writes goes through here; key
//! files, which are written once and never replaced, through
//! [`write_new_durably`], the same steps with a link in place of the rename.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why a durable write failed; names the file that failed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {error}")]
pub struct WriteError {
    /// The file (or directory) the failing step was on.
    pub path: PathBuf,
    /// What the OS said.
    #[source]
    pub error: io::Error,
}

/// Write `bytes` to `path` durably and atomically, creating the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Like [`write_atomic`], the content written by `fill` into the open
/// temporary file (for writers that stream, such as gzip).
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), WriteError> {
    let dir = create_parent(path)?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(err(&tmp))?;
        fill(&mut f).map_err(err(&tmp))?;
        f.sync_all().map_err(err(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(err(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    sync_dir(&dir)
}

/// Write a new file at `path`, durably, that no one else can ever have read
/// and that replaces nothing: the temporary file is created with permission
/// `mode` (0600 for a private key; the umask may only narrow it), written
/// and fsynced, then linked at `path`, which fails with `AlreadyExists`
/// if a file is there (atomically, unlike a check before a rename), then
/// the directory is fsynced. Creates the directory if need be.
pub fn write_new_durably(path: &Path, mode: u32, bytes: &[u8]) -> Result<(), WriteError> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = create_parent(path)?;
    let tmp = temp_path(path);
    // A temporary file left by a crash of this same process id is stale.
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(err(&tmp))?;
        f.write_all(bytes).map_err(err(&tmp))?;
        f.sync_all().map_err(err(&tmp))?;
        drop(f);
        std::fs::hard_link(&tmp, path).map_err(err(path))
    })();
    let _ = std::fs::remove_file(&tmp);
    result?;
    sync_dir(&dir)
}

/// The error of a step on `p`.
fn err(p: &Path) -> impl FnOnce(io::Error) -> WriteError {
    let p = p.to_path_buf();
    move |error| WriteError { path: p, error }
}

/// The directory `path` is in (`.` for a bare file name), created if need be.
fn create_parent(path: &Path) -> Result<PathBuf, WriteError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err(&dir))?;
    Ok(dir)
}

/// fsync a directory, so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|error| WriteError {
            path: dir.to_path_buf(),
            error,
        })
}

/// The temporary name used for `path`: hidden, in the same directory (so
/// the rename is atomic), unique to this process.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp.{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("tldns-fs-{}", std::process::id()));
        let p = dir.join("sub").join("state");
        write_atomic(&p, b"one\n").unwrap();
        write_atomic(&p, b"two\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two\n");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_new_file_is_private_from_its_creation_and_never_replaces_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tldns-fs-new-{}", std::process::id()));
        let p = dir.join("keys").join("K.private");
        write_new_durably(&p, 0o600, b"secret\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"secret\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let e = write_new_durably(&p, 0o600, b"other\n").unwrap_err();
        assert_eq!(e.error.kind(), io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"secret\n");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("K.private")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_names_the_file() {
        let e = write_atomic(Path::new("/proc/definitely/not/here"), b"x").unwrap_err();
        assert!(e.to_string().contains("/proc/definitely"), "{e}");
    }
}
