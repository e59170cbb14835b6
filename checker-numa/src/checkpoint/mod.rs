//! Checkpoints: everything needed to resume a run at a level boundary, written so that
//! a crash at any moment leaves the previous checkpoint usable.
//!
//! Layout of a work directory:
//! - `log-<w>.bin`: worker `w`'s parent log (append-only; a checkpoint records its
//!   length, resuming cuts it back there);
//! - `checkpoint-<gen>/worker-<w>.bin`: worker `w`'s visited table, frontier and
//!   counters, with an XXH3 checksum at the end;
//! - `checkpoint-<gen>/manifest.json`: format version, model, fingerprint and partition
//!   functions, worker count, level, totals, and each worker file's size and checksum;
//!   followed by a line holding the checksum of the JSON;
//! - `CURRENT`: the name of the newest complete checkpoint directory.
//!
//! Every file is written to a temporary name, synced and renamed; `CURRENT` is switched
//! only once the whole checkpoint is durable, and older checkpoints are removed after.

use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use checker_core::regular_file;
use xxhash_rust::xxh3::Xxh3;

mod generations;
mod manifest;
mod worker_checks;
mod worker_read;
mod worker_write;

pub use generations::{
    commit, discard_uncommitted, generation_dir, generation_of, holds_checkpoint, remove_debris,
};
pub use manifest::{
    manifest, read_current, Manifest, RunIdentity, SearchSettings, Totals, WorkerFile,
};
pub use worker_read::{read_worker, LoadedWorker};
pub use worker_write::write_worker;

/// Version of the checkpoint format this build writes and reads.
pub const FORMAT_VERSION: u32 = 3;
/// Identifies the partition function (`partition::owner_of`).
pub const PARTITION_FUNCTION_ID: &str = "multiply-shift-top32-node-major";
const WORKER_MAGIC: &[u8; 8] = b"CHKWRKR1";

/// A checkpoint that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The checkpoint is damaged, from another format, or does not fit this run.
    #[error("checkpoint {path}: {message}")]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> CheckpointError {
    CheckpointError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// A worker's own counters that survive a resume.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerCounters {
    /// Successors this worker computed so far (plus its initial states).
    pub generated: u64,
    /// States this worker expanded so far.
    pub expanded: u64,
}

/// The name of worker `worker`'s file in a checkpoint directory.
fn worker_file_name(worker: usize) -> String {
    format!("worker-{worker}.bin")
}

/// XXH3-64 of a whole file.
fn file_checksum(path: &Path) -> Result<u64, CheckpointError> {
    let mut f = BufReader::new(regular_file::open_regular(path, false).map_err(io_err(path))?);
    let mut hash = Xxh3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok(hash.digest());
        }
        hash.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests;
