//! The published versions, kept on disk: a snapshot of one version and a
//! journal of the steps after it (and the few before it that the IXFR
//! history serves), as Knot keeps a zone's journal. A restart reads the
//! snapshot, replays the journal onto it ([`tldns_zone::diff::patch`]) up to
//! the serial the state file says was published last, and serves that
//! version as it was, with the same signatures, without signing or a
//! rebuild; secondaries at an earlier serial get their IXFR from the same
//! journal.
//!
//! Files, in the state directory beside `<zone>.state`:
//!
//! - `<zone>.snapshot`: `TLDNSS01`, the SRS journal position the version
//!   includes (i64), the length (u64) and SHA-256 of the payload, then the
//!   payload ([`tldns_zone::codec::encode_zone`]). Replaced atomically
//!   (temporary file, fsync, rename) after every full build and after
//!   [`SNAPSHOT_AFTER_STEPS`] journal steps.
//! - `<zone>.journal`: `TLDNSJ01`, then per step its length (u32), the
//!   SHA-256 of the rest, the SRS journal position the step's version
//!   includes (i64) and the step ([`tldns_zone::codec::encode_diff`]).
//!   Appended and fsynced for every published version; rewritten with the
//!   IXFR history's steps only when a snapshot is written.
//!
//! Every step of a published version is written after the state file and
//! before the version is swapped in, so the journal never holds a version
//! that was not published. Anything that does not check out (a digest, a
//! step that does not apply, a chain that does not reach the state file's
//! serial and journal position) makes [`Durable::restore`] fail with what
//! and where, and the pipeline builds in full: a restart never serves
//! something it cannot show was published. A torn last step (a crash
//! during an append) ends the journal there.
//!
//! Owns the two files and their formats; knows nothing of how versions are
//! built or served.

use super::state::ZoneState;
use crate::name::Name;
use crate::serial::serial_gt;
use crate::zone::SignedZone;
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tldns_zone::codec::{self, CodecError};
use tldns_zone::diff::{Diff, PatchError, patch};

const SNAPSHOT_MAGIC: &[u8; 8] = b"TLDNSS01";
const JOURNAL_MAGIC: &[u8; 8] = b"TLDNSJ01";
/// Journal steps after which a snapshot is written even without a full
/// build, so a restart replays at most this many.
pub const SNAPSHOT_AFTER_STEPS: usize = 1000;

/// Why the stored versions cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// A file could not be read (other than not being there).
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// A file could not be written durably.
    #[error("{path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The snapshot is not one this code wrote, or it was damaged.
    #[error("{path}: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What does not check out.
        why: String,
    },
    /// A journal step does not apply to the version before it.
    #[error("{path}: step {from} to {to}: {error}")]
    Step {
        /// The journal.
        path: PathBuf,
        /// The step's first serial.
        from: u32,
        /// Its last.
        to: u32,
        /// Why it does not apply.
        error: PatchError,
    },
    /// Snapshot and journal do not reach the last published version.
    #[error(
        "snapshot and journal reach serial {reached} (SRS position {reached_seq}), but serial {published} (SRS position {published_seq:?}) was published last"
    )]
    Stale {
        /// The serial they reach.
        reached: u32,
        /// The SRS journal position of that version.
        reached_seq: i64,
        /// The state file's serial.
        published: u32,
        /// The state file's SRS journal position.
        published_seq: Option<i64>,
    },
}

/// The last published version, read back.
#[derive(Debug)]
pub struct Restored {
    /// The version, as it was published.
    pub zone: Arc<SignedZone>,
    /// The SRS journal position it includes.
    pub journal_seq: i64,
    /// The journal's steps that end at it, oldest first (at most the IXFR
    /// history's depth).
    pub history: Vec<Arc<Diff>>,
    /// Journal steps replayed onto the snapshot.
    pub replayed: usize,
}

/// The snapshot and journal of one zone.
#[derive(Debug)]
pub struct Durable {
    snapshot: PathBuf,
    journal: PathBuf,
    /// Steps kept for the IXFR history (`[transfer] ixfr-history`).
    depth: usize,
    /// The newest steps, with the SRS position of the version each ends
    /// at: what a rewritten journal keeps.
    tail: VecDeque<(i64, Arc<Diff>)>,
    /// Steps appended since the snapshot was written; `None`: no good
    /// snapshot (none yet, or a write failed), write one at the next commit.
    since_snapshot: Option<usize>,
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        c.update(p);
    }
    c.finish().as_ref().try_into().expect("32 octets")
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, DurableError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(DurableError::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

/// One journal entry: length, digest, SRS position, step.
fn entry(seq: i64, d: &Diff) -> Vec<u8> {
    let body = codec::encode_diff(d);
    let seq = seq.to_be_bytes();
    let len = u32::try_from(8 + body.len()).expect("a step under 4 GiB");
    let mut v = Vec::with_capacity(44 + body.len());
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&sha256(&[&seq, &body]));
    v.extend_from_slice(&seq);
    v.extend_from_slice(&body);
    v
}

/// The journal's steps, oldest first, up to the first that does not check
/// out (a torn write ends it; said in the log).
fn read_journal(path: &Path, b: &[u8]) -> Vec<(i64, Arc<Diff>)> {
    let mut out = Vec::new();
    if b.len() < 8 || &b[..8] != JOURNAL_MAGIC {
        if !b.is_empty() {
            tracing::warn!(path = %path.display(), "not a journal of this version; ignored");
        }
        return out;
    }
    let mut at = 8;
    while at < b.len() {
        let bad = |why: &str| {
            tracing::warn!(path = %path.display(), octet = at, why, "journal ends at a damaged step; the steps after it are not used");
        };
        let Some(len) = b.get(at..at + 4) else {
            bad("truncated length");
            break;
        };
        let len = u32::from_be_bytes(len.try_into().expect("4 octets")) as usize;
        let (Some(digest), Some(rest)) = (b.get(at + 4..at + 36), b.get(at + 36..at + 36 + len))
        else {
            bad("truncated step");
            break;
        };
        if len < 8 || sha256(&[rest]) != digest {
            bad("digest does not match");
            break;
        }
        let seq = i64::from_be_bytes(rest[..8].try_into().expect("8 octets"));
        match codec::decode_diff(&rest[8..]) {
            Ok(d) => out.push((seq, Arc::new(d))),
            Err(e) => {
                bad(&e.to_string());
                break;
            }
        }
        at += 36 + len;
    }
    out
}

impl Durable {
    /// The files of zone `origin` in `state_dir`, keeping `depth` steps
    /// for the IXFR history. Touches nothing on disk.
    pub fn new(state_dir: &Path, origin: &Name, depth: usize) -> Durable {
        let stem = origin.file_stem();
        Durable {
            snapshot: state_dir.join(format!("{stem}.snapshot")),
            journal: state_dir.join(format!("{stem}.journal")),
            depth,
            tail: VecDeque::new(),
            since_snapshot: None,
        }
    }

    /// Take over what `old` (the same zone's, before a configuration
    /// reload) knows of the files, when they are the same files.
    pub fn inherit(&mut self, old: &Durable) {
        if (&self.snapshot, &self.journal) == (&old.snapshot, &old.journal) {
            self.tail = old.tail.clone();
            while self.tail.len() > self.depth {
                self.tail.pop_front();
            }
            self.since_snapshot = old.since_snapshot;
        }
    }

    /// `<state-dir>/<zone>.snapshot`.
    pub fn snapshot_path(&self) -> &Path {
        &self.snapshot
    }

    /// `<state-dir>/<zone>.journal`.
    pub fn journal_path(&self) -> &Path {
        &self.journal
    }

    /// Whether the next commit should write a snapshot (none good yet, or
    /// [`SNAPSHOT_AFTER_STEPS`] steps since the last).
    pub fn snapshot_due(&self) -> bool {
        self.since_snapshot
            .is_none_or(|n| n >= SNAPSHOT_AFTER_STEPS)
    }

    /// The last published version (`state`, from the state file), read
    /// from the snapshot and the journal. `Ok(None)`: no snapshot.
    pub fn restore(&mut self, state: &ZoneState) -> Result<Option<Restored>, DurableError> {
        let Some(b) = read_file(&self.snapshot)? else {
            return Ok(None);
        };
        let corrupt = |why: String| DurableError::Corrupt {
            path: self.snapshot.clone(),
            why,
        };
        if b.len() < 56 || &b[..8] != SNAPSHOT_MAGIC {
            return Err(corrupt("not a snapshot of this version (header)".into()));
        }
        let seq = i64::from_be_bytes(b[8..16].try_into().expect("8 octets"));
        let len = u64::from_be_bytes(b[16..24].try_into().expect("8 octets"));
        let payload = &b[56..];
        if payload.len() as u64 != len {
            return Err(corrupt(format!(
                "{} octets of payload, the header says {len} (truncated?)",
                payload.len()
            )));
        }
        if sha256(&[&b[8..16], payload]) != b[24..56] {
            return Err(corrupt("SHA-256 digest does not match the payload".into()));
        }
        let zone = codec::decode_zone(payload)
            .map_err(|e: CodecError| corrupt(format!("payload: {e}")))?;
        let steps = match read_file(&self.journal)? {
            Some(j) => read_journal(&self.journal, &j),
            None => Vec::new(),
        };
        // Replay from the snapshot to the published serial.
        let start = steps
            .iter()
            .position(|(_, d)| d.from() == zone.serial())
            .filter(|_| zone.serial() != state.serial);
        let (mut cur, mut cur_seq, mut replayed) = (zone, seq, 0);
        if let Some(i) = start {
            for (s, d) in &steps[i..] {
                if cur.serial() == state.serial {
                    break;
                }
                if d.from() != cur.serial() || !serial_gt(d.to(), cur.serial()) {
                    break;
                }
                cur = patch(&cur, d).map_err(|error| DurableError::Step {
                    path: self.journal.clone(),
                    from: d.from(),
                    to: d.to(),
                    error,
                })?;
                cur_seq = *s;
                replayed += 1;
            }
        }
        if cur.serial() != state.serial || state.journal_seq.is_some_and(|s| s != cur_seq) {
            return Err(DurableError::Stale {
                reached: cur.serial(),
                reached_seq: cur_seq,
                published: state.serial,
                published_seq: state.journal_seq,
            });
        }
        // The history: the chain of steps that ends at the served serial.
        let mut history: Vec<(i64, Arc<Diff>)> = Vec::new();
        let mut want = cur.serial();
        for (s, d) in steps.iter().rev() {
            if history.len() >= self.depth {
                break;
            }
            if d.to() == want {
                want = d.from();
                history.push((*s, d.clone()));
            } else if !history.is_empty() {
                break;
            }
        }
        history.reverse();
        self.tail = history.iter().cloned().collect();
        self.since_snapshot = Some(replayed);
        Ok(Some(Restored {
            zone: Arc::new(cur),
            journal_seq: cur_seq,
            history: history.into_iter().map(|(_, d)| d).collect(),
            replayed,
        }))
    }

    /// Record a published step (`d`, to the version at SRS position
    /// `seq`): appended to the journal and fsynced.
    pub fn append(&mut self, seq: i64, d: Arc<Diff>) -> Result<(), DurableError> {
        let werr = |error| DurableError::Write {
            path: self.journal.clone(),
            error,
        };
        let new = !self.journal.exists();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal)
            .map_err(werr)?;
        let mut bytes = if new || f.metadata().map_err(werr)?.len() == 0 {
            JOURNAL_MAGIC.to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(&entry(seq, &d));
        let r = f.write_all(&bytes).and_then(|_| f.sync_data());
        if let Err(error) = r {
            // What follows a torn step is never read: start again from a
            // snapshot at the next commit.
            self.since_snapshot = None;
            return Err(werr(error));
        }
        if new {
            let _ = tldns_base::fs::sync_dir(self.journal.parent().unwrap_or(Path::new(".")));
        }
        self.tail.push_back((seq, d));
        while self.tail.len() > self.depth {
            self.tail.pop_front();
        }
        if let Some(n) = &mut self.since_snapshot {
            *n += 1;
        }
        Ok(())
    }

    /// Forget the steps (the next version does not follow the last one:
    /// a first build, a build without the published version at hand).
    pub fn reset_chain(&mut self) {
        self.tail.clear();
    }

    /// Write `zone` (at SRS position `seq`) as the snapshot, then rewrite
    /// the journal with the steps kept for the IXFR history that end at it.
    pub fn write_snapshot(&mut self, zone: &SignedZone, seq: i64) -> Result<(), DurableError> {
        let payload = codec::encode_zone(zone);
        let seq_b = seq.to_be_bytes();
        let mut head = Vec::with_capacity(56);
        head.extend_from_slice(SNAPSHOT_MAGIC);
        head.extend_from_slice(&seq_b);
        head.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        head.extend_from_slice(&sha256(&[&seq_b, &payload]));
        self.since_snapshot = None;
        tldns_base::fs::write_atomic_with(&self.snapshot, |f| {
            f.write_all(&head)?;
            f.write_all(&payload)
        })
        .map_err(|e| DurableError::Write {
            path: e.path,
            error: e.error,
        })?;
        if self
            .tail
            .back()
            .is_some_and(|(_, d)| d.to() != zone.serial())
        {
            self.tail.clear();
        }
        let mut j = JOURNAL_MAGIC.to_vec();
        for (s, d) in &self.tail {
            j.extend_from_slice(&entry(*s, d));
        }
        tldns_base::fs::write_atomic(&self.journal, &j).map_err(|e| DurableError::Write {
            path: e.path,
            error: e.error,
        })?;
        self.since_snapshot = Some(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xfr::diff::{diff, tests::zone};

    fn state(serial: u32, seq: i64) -> ZoneState {
        ZoneState {
            serial,
            journal_seq: Some(seq),
            ksk_ds: vec![],
        }
    }

    /// A fresh directory of this test process (removed first).
    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tldns-durable-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn origin() -> Name {
        Name::parse("mobile.").unwrap()
    }

    #[test]
    fn snapshot_and_journal_give_back_the_last_version_and_its_history() {
        let dir = dir("history");
        let v1 = zone(1, &["a.mobile.", "b.mobile."]);
        let v2 = zone(2, &["a.mobile.", "c.mobile."]);
        let v3 = zone(3, &["c.mobile."]);
        let mut d = Durable::new(&dir, &origin(), 16);
        assert!(
            d.restore(&state(1, 10)).unwrap().is_none(),
            "no snapshot yet"
        );
        d.write_snapshot(&v1, 10).unwrap();
        d.append(11, Arc::new(diff(&v1, &v2))).unwrap();
        d.append(12, Arc::new(diff(&v2, &v3))).unwrap();

        let mut again = Durable::new(&dir, &origin(), 16);
        let r = again.restore(&state(3, 12)).unwrap().unwrap();
        assert_eq!(*r.zone, v3);
        assert_eq!((r.journal_seq, r.replayed), (12, 2));
        let h: Vec<(u32, u32)> = r.history.iter().map(|d| (d.from(), d.to())).collect();
        assert_eq!(h, [(1, 2), (2, 3)]);

        // A snapshot at v3 keeps the history steps that end at it.
        again.write_snapshot(&v3, 12).unwrap();
        let r = Durable::new(&dir, &origin(), 16)
            .restore(&state(3, 12))
            .unwrap()
            .unwrap();
        assert_eq!((*r.zone == v3, r.replayed, r.history.len()), (true, 0, 2));
        // The history is cut to its depth.
        let r = Durable::new(&dir, &origin(), 1)
            .restore(&state(3, 12))
            .unwrap()
            .unwrap();
        assert_eq!(r.history.len(), 1);
        assert_eq!(r.history[0].to(), 3);
    }

    #[test]
    fn what_does_not_check_out_is_an_error_naming_the_file() {
        let dir = dir("damage");
        let v1 = zone(1, &["a.mobile.", "b.mobile."]);
        let v2 = zone(2, &["a.mobile."]);
        let mut d = Durable::new(&dir, &origin(), 16);
        d.write_snapshot(&v1, 10).unwrap();
        d.append(11, Arc::new(diff(&v1, &v2))).unwrap();

        // The state file says a later version was published: stale.
        let e = d.restore(&state(3, 13)).unwrap_err();
        assert!(matches!(e, DurableError::Stale { reached: 2, .. }), "{e}");
        // Same serial, other SRS position: stale too.
        assert!(matches!(
            d.restore(&state(2, 99)),
            Err(DurableError::Stale { .. })
        ));

        // A torn last step ends the journal before it.
        let j = d.journal_path().to_path_buf();
        let mut jb = std::fs::read(&j).unwrap();
        jb.truncate(jb.len() - 3);
        std::fs::write(&j, &jb).unwrap();
        let e = d.restore(&state(2, 11)).unwrap_err();
        assert!(matches!(e, DurableError::Stale { reached: 1, .. }), "{e}");
        assert_eq!(*d.restore(&state(1, 10)).unwrap().unwrap().zone, v1);

        // One flipped octet of the snapshot: its digest says so.
        let s = d.snapshot_path().to_path_buf();
        let mut sb = std::fs::read(&s).unwrap();
        let last = sb.len() - 1;
        sb[last] ^= 1;
        std::fs::write(&s, &sb).unwrap();
        let e = d.restore(&state(1, 10)).unwrap_err();
        assert!(e.to_string().contains("digest"), "{e}");
        assert!(e.to_string().contains("mobile.snapshot"), "{e}");
        // Truncated, and not a snapshot at all.
        std::fs::write(&s, &sb[..sb.len() - 10]).unwrap();
        assert!(
            d.restore(&state(1, 10))
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        std::fs::write(&s, b"serial 1\n").unwrap();
        assert!(
            d.restore(&state(1, 10))
                .unwrap_err()
                .to_string()
                .contains("header")
        );
    }
}
