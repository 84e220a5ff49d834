//! Durable hard state (term and vote). A missing file is a fresh node; a corrupt or truncated
//! one is an error that refuses to start: silently starting at term 0 would let the node vote a
//! second time in a term it already voted in.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use thiserror::Error;

use crate::core::{HardState, NodeId, Term};

/// Why hard state could not be read or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The operating system refused.
    #[error("hard state {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not also the error's source).
        error: std::io::Error,
    },
    /// The file exists but is not a valid hard state; the node must not start from it.
    #[error(
        "hard state {path} is corrupt ({problem}); refusing to start rather than forget a vote"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: Corruption,
    },
    /// The blocking task that reads or writes the file did not finish (it panicked, or the
    /// runtime is shutting down). Whether a save reached the disk is unknown: treat it as not.
    #[error("hard state {path}: the storage task did not finish: {error}")]
    TaskFailed {
        /// The file.
        path: PathBuf,
        /// What tokio said.
        error: tokio::task::JoinError,
    },
}

/// What is wrong with a hard-state file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Corruption {
    /// It is not the size of a record.
    #[error("{len} bytes, expected {expected}")]
    WrongLength {
        /// Its size.
        len: usize,
        /// A record's size.
        expected: usize,
    },
    /// It does not start with the record's magic bytes.
    #[error("not a hard-state file (bad magic)")]
    BadMagic,
    /// Its checksum does not match its contents.
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// It was written by a version of the format this build does not know.
    #[error("unknown version {0}")]
    UnknownVersion(u8),
    /// The vote field is neither "none" nor "some".
    #[error("bad vote tag {0}")]
    BadVoteTag(u8),
}

/// Where a node keeps its hard state.
#[async_trait]
pub trait HardStateStore: Send {
    /// The stored state, or `None` for a node that never stored one.
    async fn load(&mut self) -> Result<Option<HardState>, StorageError>;
    /// Stores `state` durably; when this returns, it survives a crash.
    async fn save(&mut self, state: HardState) -> Result<(), StorageError>;
}

/// Keeps hard state in memory: for tests, and for nodes that need no durability.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Option<HardState>,
}

#[async_trait]
impl HardStateStore for MemoryStore {
    async fn load(&mut self) -> Result<Option<HardState>, StorageError> {
        Ok(self.state)
    }

    async fn save(&mut self, state: HardState) -> Result<(), StorageError> {
        self.state = Some(state);
        Ok(())
    }
}

const MAGIC: &[u8; 4] = b"RHHS";
const VERSION: u8 = 1;
const LEN: usize = 4 + 1 + 8 + 1 + 8 + 4;
const FILE: &str = "hard-state";

/// Keeps hard state in `DIR/hard-state`: a 26-byte record with a CRC-32, replaced atomically
/// (write a temporary file, fsync it, rename it over the old one, fsync the directory).
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|error| StorageError::Io { path: dir.clone(), error })?;
        Ok(FileStore { dir })
    }

    /// The file holding the state.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    fn load_blocking(path: &Path) -> Result<Option<HardState>, StorageError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(StorageError::Io { path: path.to_path_buf(), error }),
        };
        decode(&bytes)
            .map(Some)
            .map_err(|problem| StorageError::Corrupt { path: path.to_path_buf(), problem })
    }

    fn save_blocking(dir: &Path, state: HardState) -> Result<(), StorageError> {
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |error| StorageError::Io { path: p, error }
        };
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(&encode(state)).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        Ok(())
    }
}

#[async_trait]
impl HardStateStore for FileStore {
    async fn load(&mut self) -> Result<Option<HardState>, StorageError> {
        let path = self.path();
        let file = path.clone();
        tokio::task::spawn_blocking(move || FileStore::load_blocking(&file))
            .await
            .map_err(|error| StorageError::TaskFailed { path, error })?
    }

    async fn save(&mut self, state: HardState) -> Result<(), StorageError> {
        let dir = self.dir.clone();
        let path = self.path();
        tokio::task::spawn_blocking(move || FileStore::save_blocking(&dir, state))
            .await
            .map_err(|error| StorageError::TaskFailed { path, error })?
    }
}

fn encode(state: HardState) -> [u8; LEN] {
    let mut b = [0u8; LEN];
    b[..4].copy_from_slice(MAGIC);
    b[4] = VERSION;
    b[5..13].copy_from_slice(&state.term.0.to_le_bytes());
    if let Some(v) = state.voted_for {
        b[13] = 1;
        b[14..22].copy_from_slice(&v.0.to_le_bytes());
    }
    let crc = crc32fast::hash(&b[..LEN - 4]);
    b[LEN - 4..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn decode(b: &[u8]) -> Result<HardState, Corruption> {
    let b: &[u8; LEN] =
        b.try_into().map_err(|_| Corruption::WrongLength { len: b.len(), expected: LEN })?;
    if &b[..4] != MAGIC {
        return Err(Corruption::BadMagic);
    }
    let [c0, c1, c2, c3] = [b[LEN - 4], b[LEN - 3], b[LEN - 2], b[LEN - 1]];
    if u32::from_le_bytes([c0, c1, c2, c3]) != crc32fast::hash(&b[..LEN - 4]) {
        return Err(Corruption::ChecksumMismatch);
    }
    if b[4] != VERSION {
        return Err(Corruption::UnknownVersion(b[4]));
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let voted_for = match b[13] {
        0 => None,
        1 => Some(NodeId(word(14))),
        t => return Err(Corruption::BadVoteTag(t)),
    };
    Ok(HardState { term: Term(word(5)), voted_for })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir()
            .join(format!("raft-heartbeat-storage-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn a_saved_state_survives_reopening_and_a_missing_file_is_a_fresh_node() {
        let dir = temp_dir("roundtrip");
        let mut store = FileStore::open(&dir).unwrap();
        assert_eq!(store.load().await.unwrap(), None);
        let hs = HardState { term: Term(7), voted_for: Some(NodeId(3)) };
        store.save(hs).await.unwrap();
        store.save(HardState { term: Term(8), voted_for: None }).await.unwrap();
        let mut again = FileStore::open(&dir).unwrap();
        assert_eq!(again.load().await.unwrap(), Some(HardState { term: Term(8), voted_for: None }));
        assert!(!dir.join("hard-state.tmp").exists());
    }

    #[tokio::test]
    async fn a_corrupt_or_truncated_file_refuses_to_start() {
        let dir = temp_dir("corrupt");
        let mut store = FileStore::open(&dir).unwrap();
        store.save(HardState { term: Term(5), voted_for: Some(NodeId(2)) }).await.unwrap();
        let good = fs::read(store.path()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..10].to_vec(), "10 bytes"),
            (Vec::new(), "0 bytes"),
            (
                {
                    let mut b = good.clone();
                    b[6] ^= 1;
                    b
                },
                "checksum",
            ),
            (
                {
                    let mut b = good.clone();
                    b[0] = b'X';
                    b
                },
                "magic",
            ),
        ];
        for (bytes, expected) in cases {
            fs::write(store.path(), &bytes).unwrap();
            let err = store.load().await.unwrap_err();
            assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
            assert!(
                err.to_string().contains(expected) && err.to_string().contains("refusing"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_record_format_is_stable() {
        let bytes = encode(HardState { term: Term(1), voted_for: Some(NodeId(2)) });
        assert_eq!(&bytes[..5], b"RHHS\x01");
        assert_eq!(decode(&bytes), Ok(HardState { term: Term(1), voted_for: Some(NodeId(2)) }));
    }
}
