//! A worker's parent log: for every state it owns, in the order stored, the state's
//! fingerprint and a reference to its parent's entry. Counterexamples are rebuilt by
//! following these references across the workers' logs.
//!
//! Entries of the level being built stay in memory, each beside its parent's
//! fingerprint, because a later duplicate may still give the state a parent with a
//! lower fingerprint (both sit in one record, so that comparison costs one memory
//! access). When the level is complete
//! they are sealed: appended to the store, which is a plain vector or an append-only
//! file in the run's work directory (so traces cost no RAM on long runs).
//!
//! Nothing checksums those files, and a resumed run reads what an earlier one wrote, so
//! [`chain_to`] checks every reference before following it and bounds the walk by the
//! reported state's depth: a damaged log is an error, never a loop or a panic.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use checker_core::regular_file;
use checker_core::Fingerprint;

use crate::hints::prefetch_read;
use crate::partition::{owner_of, ParentRef};

/// Bytes of one entry on disk: fingerprint and parent reference, little-endian.
pub const ENTRY_BYTES: u64 = 16;

/// One stored state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The state's fingerprint.
    pub fp: Fingerprint,
    /// Its parent's log entry; [`ParentRef::NONE`] for an initial state.
    pub parent: ParentRef,
}

impl LogEntry {
    fn to_bytes(self) -> [u8; ENTRY_BYTES as usize] {
        let mut b = [0u8; ENTRY_BYTES as usize];
        b[..8].copy_from_slice(&self.fp.to_le_bytes());
        b[8..].copy_from_slice(&self.parent.0.to_le_bytes());
        b
    }

    fn from_bytes(b: &[u8; ENTRY_BYTES as usize]) -> Self {
        LogEntry {
            fp: u64::from_le_bytes(b[..8].try_into().unwrap()),
            parent: ParentRef(u64::from_le_bytes(b[8..].try_into().unwrap())),
        }
    }
}

/// An entry of the level being built, with its parent's fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelEntry {
    /// The entry as it will be sealed.
    pub entry: LogEntry,
    /// The fingerprint of `entry.parent`'s state (0 for an initial state).
    pub parent_fp: Fingerprint,
}

enum Store {
    Memory(Vec<LogEntry>),
    File {
        writer: BufWriter<File>,
        /// Where the file is, to name it in errors.
        path: PathBuf,
    },
}

/// A worker's parent log.
pub struct ParentLog {
    /// Entries in the store.
    sealed: u64,
    /// Entries of the level being built.
    level: Vec<LevelEntry>,
    store: Store,
}

impl ParentLog {
    /// A log kept in memory.
    pub fn in_memory() -> Self {
        ParentLog {
            sealed: 0,
            level: Vec::new(),
            store: Store::Memory(Vec::new()),
        }
    }

    /// A log in a new (or emptied) file at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .read(true)
            .truncate(true)
            .open(path)?;
        Ok(Self::with_file(file, path, 0))
    }

    /// Reopens the log file at `path` holding at least `entries` entries, dropping any
    /// entry past them (written after the checkpoint being resumed).
    pub fn reopen(path: &Path, entries: u64) -> io::Result<Self> {
        let file = regular_file::open_regular(path, true)?;
        let bytes = file.metadata()?.len();
        // A parent reference holds an index of 48 bits; no log can have more entries.
        let needed = entries
            .checked_mul(ENTRY_BYTES)
            .filter(|_| entries < 1 << 48)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the checkpoint claims {entries} parent-log entries, more than a log can hold"
                    ),
                )
            })?;
        if bytes < needed {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the parent log holds {} of the {entries} entries the checkpoint needs (truncated?)",
                    bytes / ENTRY_BYTES
                ),
            ));
        }
        file.set_len(needed)?;
        Ok(Self::with_file(file, path, entries))
    }

    fn with_file(file: File, path: &Path, sealed: u64) -> Self {
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        // Appends go to the end; `reopen` has just cut the file there.
        let _ = io::Seek::seek(writer.get_mut(), io::SeekFrom::End(0));
        ParentLog {
            sealed,
            level: Vec::new(),
            store: Store::File {
                writer,
                path: path.to_path_buf(),
            },
        }
    }

    /// The log's file; `None` for a log kept in memory.
    pub fn path(&self) -> Option<&Path> {
        match &self.store {
            Store::Memory(_) => None,
            Store::File { path, .. } => Some(path),
        }
    }

    /// Total entries.
    #[inline]
    pub fn len(&self) -> u64 {
        self.sealed + self.level.len() as u64
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the first entry of the level being built.
    #[inline]
    pub fn level_start(&self) -> u64 {
        self.sealed
    }

    /// Appends an entry to the level being built, with its parent's fingerprint (0
    /// for an initial state); returns its index.
    #[inline]
    pub fn push(&mut self, entry: LogEntry, parent_fp: Fingerprint) -> u64 {
        self.level.push(LevelEntry { entry, parent_fp });
        self.len() - 1
    }

    /// Fingerprint of entry `pos` of the level being built.
    #[inline]
    pub fn level_fp(&self, pos: u32) -> Fingerprint {
        self.level[pos as usize].entry.fp
    }

    /// Starts loading entry `pos` of the level being built, if there is one, so that
    /// reading it a little later does not wait for memory.
    #[inline(always)]
    pub fn prefetch_level(&self, pos: u32) {
        prefetch_read(self.level.as_ptr().wrapping_add(pos as usize));
    }

    /// Offers entry `pos` of the level being built another parent: it is kept if its
    /// fingerprint is lower than the current parent's.
    #[inline]
    pub fn offer_parent(&mut self, pos: usize, parent: ParentRef, parent_fp: Fingerprint) {
        let e = &mut self.level[pos];
        if parent_fp < e.parent_fp {
            e.parent_fp = parent_fp;
            e.entry.parent = parent;
        }
    }

    /// Removes and returns the entries of the level being built (to save a level
    /// interrupted part-way); `push` them back to resume it.
    pub fn take_level(&mut self) -> Vec<LevelEntry> {
        std::mem::take(&mut self.level)
    }

    /// Moves the level being built into the store.
    pub fn seal_level(&mut self) -> io::Result<()> {
        let sealing = self.level.len() as u64;
        match &mut self.store {
            Store::Memory(v) => v.extend(self.level.drain(..).map(|e| e.entry)),
            Store::File { writer, .. } => {
                for e in self.level.drain(..) {
                    writer.write_all(&e.entry.to_bytes())?;
                }
            }
        }
        self.sealed += sealing;
        Ok(())
    }

    /// Makes every sealed entry durable (for a checkpoint).
    pub fn sync(&mut self) -> io::Result<()> {
        if let Store::File { writer, .. } = &mut self.store {
            writer.flush()?;
            writer.get_ref().sync_data()?;
        }
        Ok(())
    }

    /// Entry `index`, sealed or not; an `InvalidInput` error if the log has no such
    /// entry.
    pub fn get(&mut self, index: u64) -> io::Result<LogEntry> {
        if index >= self.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no entry {index} in a log of {} entries", self.len()),
            ));
        }
        if index >= self.sealed {
            return Ok(self.level[(index - self.sealed) as usize].entry);
        }
        match &mut self.store {
            Store::Memory(v) => Ok(v[index as usize]),
            Store::File { writer, .. } => {
                writer.flush()?;
                let mut b = [0u8; ENTRY_BYTES as usize];
                writer
                    .get_ref()
                    .read_exact_at(&mut b, index * ENTRY_BYTES)?;
                Ok(LogEntry::from_bytes(&b))
            }
        }
    }

    /// The fingerprint of the parent of entry `index`, where the log still knows it:
    /// for an entry of the level being built (sealed entries keep only the reference).
    pub fn parent_fp(&self, index: u64) -> Option<Fingerprint> {
        let pos = usize::try_from(index.checked_sub(self.sealed)?).ok()?;
        self.level.get(pos).map(|e| e.parent_fp)
    }

    /// Searches the log from its newest entry backwards for fingerprint `fp` (a
    /// reported state is always among the newest); returns its index.
    pub fn find_newest(&mut self, fp: Fingerprint) -> io::Result<Option<u64>> {
        if let Some(pos) = self.level.iter().rposition(|e| e.entry.fp == fp) {
            return Ok(Some(self.sealed + pos as u64));
        }
        match &mut self.store {
            Store::Memory(v) => Ok(v.iter().rposition(|e| e.fp == fp).map(|i| i as u64)),
            Store::File { writer, .. } => {
                writer.flush()?;
                const BLOCK: u64 = 1 << 16;
                let mut buf = vec![0u8; (BLOCK * ENTRY_BYTES) as usize];
                let mut end = self.sealed;
                while end > 0 {
                    let start = end.saturating_sub(BLOCK);
                    let bytes = &mut buf[..((end - start) * ENTRY_BYTES) as usize];
                    writer.get_ref().read_exact_at(bytes, start * ENTRY_BYTES)?;
                    for (i, raw) in bytes.chunks_exact(ENTRY_BYTES as usize).enumerate().rev() {
                        if LogEntry::from_bytes(raw.try_into().unwrap()).fp == fp {
                            return Ok(Some(start + i as u64));
                        }
                    }
                    end = start;
                }
                Ok(None)
            }
        }
    }

    /// Bytes of RAM the log holds.
    pub fn memory_bytes(&self) -> u64 {
        self.level_bytes()
            + match &self.store {
                Store::Memory(v) => (v.capacity() * std::mem::size_of::<LogEntry>()) as u64,
                Store::File { .. } => 1 << 20,
            }
    }

    /// Bytes held by the entries of the level being built (its capacity).
    pub fn level_bytes(&self) -> u64 {
        (self.level.capacity() * std::mem::size_of::<LevelEntry>()) as u64
    }
}

/// Why a counterexample could not be rebuilt from the workers' parent logs.
#[derive(Debug)]
pub enum ChainError {
    /// Reading worker `worker`'s log failed.
    Io {
        /// The worker whose log could not be read.
        worker: usize,
        /// What failed.
        error: io::Error,
    },
    /// Worker `worker`'s log contradicts itself, another log or the search's result:
    /// a damaged (or foreign) log file.
    Damaged {
        /// The worker whose log holds the entry at fault.
        worker: usize,
        /// What is wrong, in a phrase.
        problem: String,
    },
}

/// Follows parent references across the workers' `logs` (one per worker, in worker
/// order) from the state `fp`, found at depth `depth` of the search, back to an initial
/// state; returns the `depth + 1` fingerprints from the initial state on.
///
/// The logs come from files that nothing checksums, so every step is checked before it
/// is taken: the reported state is in its owner's log; each entry's fingerprint is one
/// its log's worker owns (never 0); each reference names an existing worker and an
/// existing entry of its log, one before the child when both share a log; a parent's
/// fingerprint is the one the child recorded, where the log still holds it (entries
/// of an unsealed level); and the chain reaches an initial state in exactly `depth`
/// steps. So the walk ends after at most `depth + 1` reads, whatever the files hold.
pub fn chain_to(
    logs: &mut [&mut ParentLog],
    fp: Fingerprint,
    depth: u32,
) -> Result<Vec<Fingerprint>, ChainError> {
    let workers = logs.len();
    let owner = owner_of(fp, workers);
    let damaged = |worker: usize, problem: String| ChainError::Damaged { worker, problem };
    let io = |worker: usize| move |error: io::Error| ChainError::Io { worker, error };
    let stored: u64 = logs.iter().map(|l| l.len()).sum();
    if u64::from(depth) >= stored {
        return Err(damaged(
            owner,
            format!(
                "the reported state is at depth {depth}, but the logs hold only {stored} states"
            ),
        ));
    }
    let Some(mut index) = logs[owner].find_newest(fp).map_err(io(owner))? else {
        return Err(damaged(
            owner,
            format!("the reported state {fp:#018x} is not in it"),
        ));
    };
    let mut worker = owner;
    // The fingerprint the entry must hold, where it is known: the reported state's,
    // then the parent fingerprint a child recorded beside its reference (entries of an
    // unsealed level). Elsewhere any state its log's worker owns will do here, and
    // replaying the chain through the model checks the rest.
    let mut expected = Some(fp);
    let mut chain = Vec::new();
    loop {
        let entry = logs[worker].get(index).map_err(io(worker))?;
        if let Some(wanted) = expected.filter(|&w| w != entry.fp) {
            return Err(damaged(
                worker,
                format!(
                    "entry {index} holds fingerprint {:#018x}, but its child names its parent {wanted:#018x}",
                    entry.fp
                ),
            ));
        }
        if entry.fp == 0 || owner_of(entry.fp, workers) != worker {
            return Err(damaged(
                worker,
                format!(
                    "entry {index} holds fingerprint {:#018x}, which is not worker {worker}'s",
                    entry.fp
                ),
            ));
        }
        chain.push(entry.fp);
        let Some(parent_worker) = entry.parent.worker() else {
            break;
        };
        let parent_index = entry.parent.index();
        if parent_worker >= workers {
            return Err(damaged(
                worker,
                format!(
                    "entry {index} names worker {parent_worker} as its parent's owner, but the run has {workers} workers"
                ),
            ));
        }
        let parent_log_len = logs[parent_worker].len();
        if parent_index >= parent_log_len {
            return Err(damaged(
                worker,
                format!(
                    "entry {index} names entry {parent_index} of worker {parent_worker}'s log as its parent, but that log holds {parent_log_len} entries"
                ),
            ));
        }
        if parent_worker == worker && parent_index >= index {
            return Err(damaged(
                worker,
                format!(
                    "entry {index} names entry {parent_index} of the same log as its parent, not an earlier one"
                ),
            ));
        }
        if chain.len() > depth as usize {
            return Err(damaged(
                worker,
                format!(
                    "entry {index} names a parent, but it lies as many steps from the reported state as that state's depth ({depth}), so it must be an initial state (the references go round in a cycle or skip levels)"
                ),
            ));
        }
        expected = logs[worker].parent_fp(index);
        worker = parent_worker;
        index = parent_index;
    }
    if chain.len() != depth as usize + 1 {
        return Err(damaged(
            worker,
            format!(
                "entry {index} is an initial state (it names no parent), but the reported state at depth {depth} is only {} steps from it",
                chain.len() - 1
            ),
        ));
    }
    chain.reverse();
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u64) -> LogEntry {
        LogEntry {
            fp: i * 7 + 1,
            parent: ParentRef::new(1, i),
        }
    }

    fn exercise(mut log: ParentLog) -> ParentLog {
        for i in 0..10 {
            assert_eq!(log.push(entry(i), 100 + i), i);
        }
        // A parent with a higher fingerprint is refused, a lower one kept.
        log.offer_parent(3, ParentRef::new(0, 99), 200);
        log.offer_parent(3, ParentRef::NONE, 50);
        log.offer_parent(3, ParentRef::new(0, 98), 60);
        log.seal_level().unwrap();
        assert_eq!(log.level_start(), 10);
        assert_eq!(log.push(entry(10), 7), 10);
        assert_eq!(log.get(3).unwrap().parent, ParentRef::NONE);
        assert_eq!(log.get(9).unwrap(), entry(9));
        assert_eq!(log.get(10).unwrap(), entry(10));
        assert_eq!(log.find_newest(entry(8).fp).unwrap(), Some(8));
        assert_eq!(log.find_newest(entry(10).fp).unwrap(), Some(10));
        assert_eq!(log.find_newest(entry(2).fp).unwrap(), Some(2));
        assert_eq!(log.find_newest(12345).unwrap(), None);
        log
    }

    /// Fingerprints that worker 0 (low) and worker 1 (high) own among 2 workers.
    const LOW: u64 = 0x10;
    const HIGH: u64 = 0x8000_0000_0000_0010;

    /// A log of `entries` (fingerprint, parent, parent's fingerprint), sealed.
    fn sealed_log(
        entries: impl IntoIterator<Item = (Fingerprint, ParentRef, Fingerprint)>,
    ) -> ParentLog {
        let mut log = ParentLog::in_memory();
        for (fp, parent, parent_fp) in entries {
            log.push(LogEntry { fp, parent }, parent_fp);
        }
        log.seal_level().unwrap();
        log
    }

    /// `count` initial states, fingerprints `first` on, as [`sealed_log`] takes them.
    fn initial_states(
        first: Fingerprint,
        count: u64,
    ) -> impl Iterator<Item = (Fingerprint, ParentRef, Fingerprint)> {
        (0..count).map(move |i| (first + i, ParentRef::NONE, 0))
    }

    /// Two workers' sealed logs: `0 → 1 → 2` alternating between them (`LOW`, then
    /// `HIGH + 1`, then `LOW + 2`), then `filler` initial states in each.
    fn two_logs(filler: u64) -> [ParentLog; 2] {
        let zero = [
            (LOW, ParentRef::NONE, 0),
            (LOW + 2, ParentRef::new(1, 0), HIGH + 1),
        ];
        let one = [(HIGH + 1, ParentRef::new(0, 0), LOW)];
        [
            sealed_log(zero.into_iter().chain(initial_states(LOW + 100, filler))),
            sealed_log(one.into_iter().chain(initial_states(HIGH + 100, filler))),
        ]
    }

    fn walk(logs: &mut [ParentLog; 2], fp: Fingerprint, depth: u32) -> Result<Vec<u64>, String> {
        let [zero, one] = logs;
        chain_to(&mut [zero, one], fp, depth).map_err(|e| match e {
            ChainError::Damaged { worker, problem } => format!("log {worker}: {problem}"),
            ChainError::Io { worker, error } => format!("log {worker} unreadable: {error}"),
        })
    }

    #[test]
    fn a_chain_is_followed_across_logs_to_its_initial_state() {
        let mut logs = two_logs(0);
        assert_eq!(
            walk(&mut logs, LOW + 2, 2),
            Ok(vec![LOW, HIGH + 1, LOW + 2])
        );
        assert_eq!(walk(&mut logs, HIGH + 1, 1), Ok(vec![LOW, HIGH + 1]));
        assert_eq!(walk(&mut logs, LOW, 0), Ok(vec![LOW]));
    }

    #[test]
    fn a_chain_of_another_length_than_the_depth_is_damage() {
        let mut logs = two_logs(4);
        assert_eq!(
            walk(&mut logs, LOW + 2, 3),
            Err("log 0: entry 0 is an initial state (it names no parent), but the reported state at depth 3 is only 2 steps from it".into())
        );
        assert_eq!(
            walk(&mut logs, LOW + 2, 1),
            Err("log 1: entry 0 names a parent, but it lies as many steps from the reported state as that state's depth (1), so it must be an initial state (the references go round in a cycle or skip levels)".into())
        );
        assert_eq!(
            walk(&mut logs, LOW + 2, 11),
            Err(
                "log 0: the reported state is at depth 11, but the logs hold only 11 states".into()
            )
        );
        assert_eq!(
            walk(&mut logs, LOW + 3, 2),
            Err("log 0: the reported state 0x0000000000000013 is not in it".into())
        );
    }

    /// References that go round in a cycle are followed only as far as the depth.
    #[test]
    fn a_cycle_ends_at_the_depth() {
        let zero = [(LOW, ParentRef::new(1, 0), 0)];
        let mut logs = [
            sealed_log(zero.into_iter().chain(initial_states(LOW + 100, 1000))),
            sealed_log([(HIGH, ParentRef::new(0, 0), 0)]),
        ];
        assert_eq!(
            walk(&mut logs, LOW, 500),
            Err("log 0: entry 0 names a parent, but it lies as many steps from the reported state as that state's depth (500), so it must be an initial state (the references go round in a cycle or skip levels)".into())
        );
    }

    #[test]
    fn references_out_of_range_or_to_foreign_states_are_damage() {
        let damage = |worker: usize, index: u64, entry: LogEntry| {
            let mut logs = two_logs(2);
            let mut entries: Vec<LogEntry> = (0..logs[worker].len())
                .map(|i| logs[worker].get(i).unwrap())
                .collect();
            entries[index as usize] = entry;
            logs[worker] = sealed_log(entries.into_iter().map(|e| (e.fp, e.parent, 0)));
            walk(&mut logs, LOW + 2, 2)
        };
        assert_eq!(
            damage(1, 0, LogEntry { fp: HIGH + 1, parent: ParentRef(0x4242 << 48) }),
            Err("log 1: entry 0 names worker 16962 as its parent's owner, but the run has 2 workers".into())
        );
        assert_eq!(
            damage(1, 0, LogEntry { fp: HIGH + 1, parent: ParentRef::new(0, 99) }),
            Err("log 1: entry 0 names entry 99 of worker 0's log as its parent, but that log holds 4 entries".into())
        );
        assert_eq!(
            damage(
                0,
                0,
                LogEntry {
                    fp: HIGH + 7,
                    parent: ParentRef::NONE
                }
            ),
            Err(
                "log 0: entry 0 holds fingerprint 0x8000000000000017, which is not worker 0's"
                    .into()
            )
        );
        assert_eq!(
            damage(
                0,
                0,
                LogEntry {
                    fp: 0,
                    parent: ParentRef::new(0, 0)
                }
            ),
            Err(
                "log 0: entry 0 holds fingerprint 0x0000000000000000, which is not worker 0's"
                    .into()
            )
        );
        assert_eq!(
            damage(
                0,
                1,
                LogEntry {
                    fp: LOW + 2,
                    parent: ParentRef::new(0, 1)
                }
            ),
            Err(
                "log 0: entry 1 names entry 1 of the same log as its parent, not an earlier one"
                    .into()
            )
        );
    }

    /// In a level not sealed yet, an entry keeps its parent's fingerprint: the parent
    /// the reference leads to must have it.
    #[test]
    fn an_unsealed_entry_s_parent_fingerprint_is_checked() {
        let mut logs = two_logs(0);
        logs[0].push(
            LogEntry {
                fp: LOW + 3,
                parent: ParentRef::new(1, 0),
            },
            HIGH + 1,
        );
        assert_eq!(
            walk(&mut logs, LOW + 3, 2),
            Ok(vec![LOW, HIGH + 1, LOW + 3])
        );
        logs[0].push(
            LogEntry {
                fp: LOW + 4,
                parent: ParentRef::new(1, 0),
            },
            HIGH + 9,
        );
        assert_eq!(
            walk(&mut logs, LOW + 4, 2),
            Err("log 1: entry 0 holds fingerprint 0x8000000000000011, but its child names its parent 0x8000000000000019".into())
        );
    }

    #[test]
    fn an_entry_past_the_end_is_an_error() {
        let mut log = ParentLog::in_memory();
        log.push(entry(0), 0);
        assert_eq!(log.get(0).unwrap(), entry(0));
        let e = log.get(1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "no entry 1 in a log of 1 entries");
        log.seal_level().unwrap();
        assert_eq!(
            log.get(7).unwrap_err().to_string(),
            "no entry 7 in a log of 1 entries"
        );
        assert_eq!(log.parent_fp(0), None);
        log.push(entry(1), 77);
        assert_eq!(log.parent_fp(1), Some(77));
        assert_eq!(log.parent_fp(2), None);
    }

    #[test]
    fn memory_log_seals_levels() {
        exercise(ParentLog::in_memory());
    }

    #[test]
    fn file_log_seals_syncs_and_reopens_at_a_length() {
        let dir = std::env::temp_dir().join(format!("parent-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log-0.bin");
        let mut log = exercise(ParentLog::create(&path).unwrap());
        log.seal_level().unwrap();
        log.sync().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 11 * ENTRY_BYTES);
        drop(log);
        let mut log = ParentLog::reopen(&path, 9).unwrap();
        assert_eq!(log.len(), 9);
        assert_eq!(log.get(8).unwrap(), entry(8));
        log.push(entry(42), 0);
        assert_eq!(
            log.take_level(),
            vec![LevelEntry {
                entry: entry(42),
                parent_fp: 0
            }]
        );
        log.push(entry(42), 0);
        log.seal_level().unwrap();
        log.sync().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 10 * ENTRY_BYTES);
        assert_eq!(log.get(9).unwrap(), entry(42));
        drop(log);
        let err = ParentLog::reopen(&path, 11).err().unwrap();
        assert!(
            err.to_string()
                .contains("the parent log holds 10 of the 11 entries the checkpoint needs"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
