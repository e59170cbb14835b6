//! Reading one worker's checkpoint file back, checking every field against the
//! manifest and against the rest of the file before anything of it is used.

use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::Path;

use checker_core::{fingerprint, regular_file, Fingerprint};

use crate::frontier::Frontier;
use crate::message::LevelReport;
use crate::parent_log::{LevelEntry, LogEntry};
use crate::partition::{owner_of, ParentRef};
use crate::state_chunk::StateChunk;
use crate::table::FingerprintSet;
use crate::worker::PartialLevel;

use super::worker_checks::{
    check_frontier_states, check_partial_level_entry, check_partial_level_states,
};
use super::{
    file_checksum, invalid, io_err, CheckpointError, WorkerCounters, WorkerFile, FORMAT_VERSION,
    WORKER_MAGIC,
};

/// A worker's state read back from its checkpoint file.
pub struct LoadedWorker {
    /// The visited table.
    pub table: FingerprintSet,
    /// The frontier to expand next.
    pub frontier: Frontier,
    /// Its counters.
    pub counters: WorkerCounters,
    /// The level interrupted part-way, if any.
    pub partial: Option<PartialLevel>,
}

/// Reads worker `worker`'s file (of a run of `workers`) described by `entry` from
/// checkpoint directory `dir`, verifying its size and checksum first, then its
/// contents: every fingerprint is one this worker owns, the table holds exactly the
/// states of the parent log and of the partial level, the frontier ends the log and
/// its states are distinct states of the table that this worker owns, a partial
/// level's states are not the frontier's and are, in order, its log entries', and its
/// report names states it can. `frontier` and `next_frontier` receive the frontier's
/// states and, for a level interrupted part-way, the next level's (they may spill).
pub fn read_worker(
    dir: &Path,
    worker: usize,
    workers: usize,
    entry: &WorkerFile,
    frontier: Frontier,
    next_frontier: Frontier,
) -> Result<LoadedWorker, CheckpointError> {
    let path = dir.join(&entry.file);
    let bytes = fs::metadata(&path).map_err(io_err(&path))?.len();
    if bytes != entry.bytes {
        return Err(invalid(
            &path,
            format!(
                "is {bytes} bytes, the manifest says {} (truncated?)",
                entry.bytes
            ),
        ));
    }
    if format!("{:016x}", file_checksum(&path)?) != entry.checksum {
        return Err(invalid(&path, "checksum mismatch: the file is corrupted"));
    }
    let mut r = Reader {
        inner: BufReader::with_capacity(
            1 << 20,
            regular_file::open_regular(&path, false).map_err(io_err(&path))?,
        ),
        path: &path,
        bytes,
    };
    let magic = r.word()?.to_le_bytes();
    if &magic != WORKER_MAGIC || r.word()? != u64::from(FORMAT_VERSION) {
        return Err(invalid(
            &path,
            "not a worker checkpoint of this format version",
        ));
    }
    if r.word()? != worker as u64 {
        return Err(invalid(&path, format!("is not worker {worker}'s file")));
    }
    let counters = WorkerCounters {
        generated: r.word()?,
        expanded: r.word()?,
    };
    if r.word()? != entry.log_entries {
        return Err(invalid(&path, "log length disagrees with the manifest"));
    }
    let table_len = r.count(8)?;
    let mut table = FingerprintSet::for_owner(worker, workers, table_len as usize);
    for _ in 0..table_len {
        let fp = r.word()?;
        // Before the insert: the table holds only its worker's fingerprints.
        if fp != 0 && owner_of(fp, workers) != worker {
            return Err(invalid(
                &path,
                format!("the table holds fingerprint {fp:#018x}, which is not worker {worker}'s"),
            ));
        }
        if fp == 0 || !table.insert(fp) {
            return Err(invalid(&path, "table holds a zero or repeated fingerprint"));
        }
    }
    let first_index = r.word()?;
    // The frontier's states are stored ones: no more than the table holds. Each is
    // checked and marked in the table as it is read (the marks are cleared once the
    // file is read); the first problem is reported once the table's size is checked,
    // which names a table that lost a state more plainly.
    let mut frontier_problem = None;
    let mut frontier = r.frontier(frontier, table_len, |first, fingerprints| {
        if frontier_problem.is_none() {
            frontier_problem =
                check_frontier_states(&mut table, worker, workers, first, fingerprints).err();
        }
    })?;
    if first_index.checked_add(frontier.len()) != Some(entry.log_entries) {
        // The frontier holds the end of the log's last level, in log order.
        return Err(invalid(&path, "frontier does not end the parent log"));
    }
    frontier.set_first_index(first_index);
    let partial = match r.word()? {
        0 => None,
        1 => {
            let expanded = r.word()?;
            if expanded > frontier.len() {
                return Err(invalid(
                    &path,
                    format!(
                        "the partial level has expanded {expanded} states of a frontier of {}",
                        frontier.len()
                    ),
                ));
            }
            let mut report = LevelReport {
                expanded: r.word()?,
                generated: r.word()?,
                deadlocks: r.word()?,
                ..LevelReport::default()
            };
            let deadlock = r.word()?;
            if deadlock != 0 {
                // A state of the frontier: in this worker's table if it is this
                // worker's (a state of another worker's frontier may have been
                // expanded here as part of a share).
                if owner_of(deadlock, workers) == worker && !table.contains(deadlock) {
                    return Err(invalid(
                        &path,
                        format!(
                            "the partial level reports a deadlock of state {deadlock:#018x}, which the table does not hold"
                        ),
                    ));
                }
                report.errors.note_deadlock(deadlock);
            }
            let (fp, index) = (r.word()?, r.word()?);
            if fp != 0 {
                let index =
                    u32::try_from(index).map_err(|_| invalid(&path, "bad invariant index"))?;
                report.errors.note_invariant(fp, index);
            }
            let entries = r.count(24)?;
            if table_len.checked_sub(entries) != Some(entry.log_entries) {
                return Err(invalid(
                    &path,
                    format!(
                        "the table holds {table_len} states, the parent log and the partial level {} between them",
                        u128::from(entry.log_entries) + u128::from(entries)
                    ),
                ));
            }
            // The level's states are checked against the frontier's marks, which are
            // complete only for a frontier without a problem.
            if let Some(problem) = frontier_problem.take() {
                return Err(invalid(&path, problem));
            }
            let mut log = Vec::with_capacity(entries as usize);
            for _ in 0..entries {
                let fp = r.word()?;
                let parent = ParentRef(r.word()?);
                let parent_fp = r.word()?;
                check_partial_level_entry(&mut table, fp).map_err(|m| invalid(&path, m))?;
                log.push(LevelEntry {
                    entry: LogEntry { fp, parent },
                    parent_fp,
                });
            }
            let mut fps: Vec<u64> = log.iter().map(|e| e.entry.fp).collect();
            fps.sort_unstable();
            if fps.windows(2).any(|w| w[0] == w[1]) {
                return Err(invalid(&path, "a partial level holds a state twice"));
            }
            if let Some((fp, _)) = report.errors.invariant {
                // Found among the states this worker stored in the level.
                if fps.binary_search(&fp).is_err() {
                    return Err(invalid(
                        &path,
                        format!(
                            "the partial level reports an invariant violation by state {fp:#018x}, which is not among its states"
                        ),
                    ));
                }
            }
            drop(fps);
            let mut next_problem = None;
            let mut next = r.frontier(next_frontier, entries, |first, fingerprints| {
                if next_problem.is_none() {
                    next_problem = check_partial_level_states(&log, first, fingerprints).err();
                }
            })?;
            if let Some(problem) = next_problem {
                return Err(invalid(&path, problem));
            }
            if next.len() != entries {
                return Err(invalid(&path, "partial level: state count disagrees"));
            }
            // The level's states follow the sealed log, in log order.
            next.set_first_index(entry.log_entries);
            Some(PartialLevel {
                expanded,
                report,
                log,
                next,
            })
        }
        _ => return Err(invalid(&path, "malformed partial-level flag")),
    };
    if partial.is_none() && table_len != entry.log_entries {
        return Err(invalid(
            &path,
            format!(
                "the table holds {table_len} states, the parent log {}",
                entry.log_entries
            ),
        ));
    }
    if let Some(problem) = frontier_problem {
        return Err(invalid(&path, problem));
    }
    table.clear_marks();
    Ok(LoadedWorker {
        table,
        frontier,
        counters,
        partial,
    })
}

/// Reads a worker file's fields, mapping every failure to a one-line error.
struct Reader<'a> {
    inner: BufReader<File>,
    path: &'a Path,
    bytes: u64,
}

impl Reader<'_> {
    fn word(&mut self) -> Result<u64, CheckpointError> {
        let mut b = [0u8; 8];
        self.inner.read_exact(&mut b).map_err(io_err(self.path))?;
        Ok(u64::from_le_bytes(b))
    }

    /// A count of items of `size` bytes, refused if the file cannot hold them.
    fn count(&mut self, size: u64) -> Result<u64, CheckpointError> {
        let n = self.word()?;
        if n > self.bytes / size {
            return Err(invalid(self.path, "a length exceeds the file"));
        }
        Ok(n)
    }

    /// A frontier of at most `most` states; the fingerprints of each chunk of them are
    /// shown to `inspect`, with the position of the chunk's first state, as the chunk
    /// is kept.
    fn frontier(
        &mut self,
        mut into: Frontier,
        most: u64,
        mut inspect: impl FnMut(u64, &[Fingerprint]),
    ) -> Result<Frontier, CheckpointError> {
        let len = self.word()?;
        if len > most {
            return Err(invalid(
                self.path,
                format!("a frontier of {len} states, more than the {most} stored"),
            ));
        }
        let mut chunk = StateChunk::new();
        let mut raw = Vec::new();
        let mut fingerprints = Vec::new();
        let mut read = 0u64;
        loop {
            let count = self.word()?;
            if count == u64::MAX {
                break;
            }
            // Checked before the states are copied: a count of empty states is
            // bounded by nothing else.
            read = read
                .checked_add(count)
                .filter(|&n| n <= len)
                .ok_or_else(|| invalid(self.path, "frontier length disagrees with its header"))?;
            let layout = self.word()?;
            let bytes = self.count(1)?;
            raw.resize(bytes as usize, 0);
            self.inner.read_exact(&mut raw).map_err(io_err(self.path))?;
            let count =
                usize::try_from(count).map_err(|_| invalid(self.path, "malformed frontier"))?;
            chunk
                .load_raw(layout, &raw, count)
                .map_err(|_| invalid(self.path, "malformed frontier"))?;
            fingerprints.clear();
            fingerprints.extend(chunk.iter().map(fingerprint));
            inspect(into.len(), &fingerprints);
            for state in chunk.iter() {
                into.push(state);
            }
        }
        if into.len() != len {
            return Err(invalid(
                self.path,
                "frontier length disagrees with its header",
            ));
        }
        if let Some(e) = into.take_error() {
            return Err(io_err(self.path)(e));
        }
        Ok(into)
    }
}
