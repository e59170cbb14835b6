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

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use checker_core::Fingerprint;

use crate::hints::prefetch_read;
use crate::partition::ParentRef;

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
    File { writer: BufWriter<File> },
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
        Ok(Self::with_file(file, 0))
    }

    /// Reopens the log file at `path` holding at least `entries` entries, dropping any
    /// entry past them (written after the checkpoint being resumed).
    pub fn reopen(path: &Path, entries: u64) -> io::Result<Self> {
        let file = OpenOptions::new().write(true).read(true).open(path)?;
        let bytes = file.metadata()?.len();
        if bytes < entries * ENTRY_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: parent log holds {} entries, the checkpoint needs {entries}",
                    path.display(),
                    bytes / ENTRY_BYTES
                ),
            ));
        }
        file.set_len(entries * ENTRY_BYTES)?;
        Ok(Self::with_file(file, entries))
    }

    fn with_file(file: File, sealed: u64) -> Self {
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        // Appends go to the end; `reopen` has just cut the file there.
        let _ = io::Seek::seek(writer.get_mut(), io::SeekFrom::End(0));
        ParentLog {
            sealed,
            level: Vec::new(),
            store: Store::File { writer },
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

    /// Entry `index`, sealed or not.
    pub fn get(&mut self, index: u64) -> io::Result<LogEntry> {
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
        let level = (self.level.capacity() * std::mem::size_of::<LevelEntry>()) as u64;
        match &self.store {
            Store::Memory(v) => level + (v.capacity() * std::mem::size_of::<LogEntry>()) as u64,
            Store::File { .. } => level + (1 << 20),
        }
    }
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
                .contains("holds 10 entries, the checkpoint needs 11"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
