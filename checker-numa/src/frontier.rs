//! A BFS frontier kept as a list of chunks of about [`CHUNK_BYTES`] each, so it never
//! holds more than one chunk of slack and never copies itself to grow. Once more than
//! its memory limit is held, full chunks spill to a file in the run's work directory;
//! reading streams them back one at a time. Order is not significant (each entry
//! carries its log index). Emptied chunks are kept for the next level.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use checker_core::packed::PackedStates;

/// Bytes at which a chunk is full.
pub const CHUNK_BYTES: usize = 1 << 20;

/// One spilled chunk: where it is in the file and what it holds.
#[derive(Clone, Copy, Debug)]
struct SpilledChunk {
    offset: u64,
    bytes: u64,
    count: u64,
}

/// A frontier of packed states tagged with their log index.
pub struct Frontier {
    /// The chunk being filled.
    filling: PackedStates,
    /// Full chunks in memory.
    full: Vec<PackedStates>,
    /// Emptied chunks, reused before allocating.
    pool: Vec<PackedStates>,
    /// Bytes kept in memory before full chunks spill; `usize::MAX` never spills.
    limit: usize,
    spill_path: Option<PathBuf>,
    spill: Option<File>,
    spilled: Vec<SpilledChunk>,
    spilled_bytes: u64,
    len: u64,
    /// The first I/O error met while spilling; reported at the end of the level.
    error: Option<io::Error>,
}

impl Frontier {
    /// A frontier held entirely in memory.
    pub fn in_memory() -> Self {
        Self::spilling(usize::MAX, None)
    }

    /// A frontier that spills to `path` once more than `limit` bytes are in memory.
    pub fn spilling(limit: usize, path: Option<PathBuf>) -> Self {
        Frontier {
            filling: PackedStates::new(),
            full: Vec::new(),
            pool: Vec::new(),
            limit,
            spill_path: path,
            spill: None,
            spilled: Vec::new(),
            spilled_bytes: 0,
            len: 0,
            error: None,
        }
    }

    /// Number of states.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no states.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of entries held in memory.
    pub fn memory_bytes(&self) -> usize {
        self.filling.byte_len() + self.full.iter().map(|c| c.byte_len()).sum::<usize>()
    }

    /// Bytes allocated, emptied chunks included.
    pub fn allocated_bytes(&self) -> usize {
        [&self.filling]
            .into_iter()
            .chain(&self.full)
            .chain(&self.pool)
            .map(|c| c.capacity())
            .sum()
    }

    /// Appends a state.
    #[inline]
    pub fn push(&mut self, tag: u64, state: &[u8]) {
        self.filling.push(tag, state);
        self.len += 1;
        if self.filling.byte_len() >= CHUNK_BYTES {
            self.seal_chunk();
        }
    }

    fn seal_chunk(&mut self) {
        let fresh = self
            .pool
            .pop()
            .unwrap_or_else(|| PackedStates::with_capacity(CHUNK_BYTES + 4096));
        let chunk = std::mem::replace(&mut self.filling, fresh);
        let in_memory = self.memory_bytes() + chunk.byte_len();
        if in_memory > self.limit && self.spill_path.is_some() {
            if let Err(e) = self.spill_chunk(&chunk) {
                self.error.get_or_insert(e);
                self.full.push(chunk);
                return;
            }
            self.recycle(chunk);
        } else {
            self.full.push(chunk);
        }
    }

    fn recycle(&mut self, mut chunk: PackedStates) {
        chunk.clear();
        self.pool.push(chunk);
    }

    fn spill_chunk(&mut self, chunk: &PackedStates) -> io::Result<()> {
        if self.spill.is_none() {
            let path = self.spill_path.as_ref().expect("spilling needs a path");
            let file = OpenOptions::new()
                .create(true)
                .read(true)
                .write(true)
                .truncate(true)
                .open(path)?;
            self.spill = Some(file);
        }
        let file = self.spill.as_ref().expect("opened above");
        let bytes = chunk.raw_bytes();
        file.write_all_at(bytes, self.spilled_bytes)?;
        self.spilled.push(SpilledChunk {
            offset: self.spilled_bytes,
            bytes: bytes.len() as u64,
            count: chunk.len() as u64,
        });
        self.spilled_bytes += bytes.len() as u64;
        Ok(())
    }

    /// Takes the first spill error, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Removes every state, keeping the chunks for reuse.
    pub fn clear(&mut self) {
        let full = std::mem::take(&mut self.full);
        for chunk in full {
            self.recycle(chunk);
        }
        self.filling.clear();
        self.spilled.clear();
        self.spilled_bytes = 0;
        self.len = 0;
        if let Some(file) = &self.spill {
            if let Err(e) = file.set_len(0) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Number of spilled chunks.
    pub fn spilled_chunks(&self) -> usize {
        self.spilled.len()
    }

    /// Reads spilled chunk `i` into `into`.
    pub fn read_spilled(&self, i: usize, into: &mut PackedStates) -> io::Result<()> {
        let chunk = self.spilled[i];
        let file = self.spill.as_ref().expect("chunks exist only once spilled");
        let mut bytes = vec![0u8; chunk.bytes as usize];
        file.read_exact_at(&mut bytes, chunk.offset)?;
        into.load_raw(&bytes, chunk.count as usize)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Visits every state, chunk by chunk, in the order pushed: memory fills first,
    /// so the full chunks in memory come first, then the spilled ones, then the chunk
    /// being filled.
    pub fn for_each_chunk(
        &self,
        mut visit: impl FnMut(&PackedStates) -> io::Result<()>,
    ) -> io::Result<()> {
        for chunk in &self.full {
            visit(chunk)?;
        }
        let mut scratch = PackedStates::new();
        for i in 0..self.spilled_chunks() {
            self.read_spilled(i, &mut scratch)?;
            visit(&scratch)?;
        }
        visit(&self.filling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: &Frontier) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        f.for_each_chunk(|c| {
            out.extend(c.iter().map(|(t, s)| (t, s.to_vec())));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn spills_past_the_limit_and_streams_back_in_order() {
        let dir = std::env::temp_dir().join(format!("frontier-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = Frontier::spilling(3 * CHUNK_BYTES, Some(dir.join("f.spill")));
        let state = vec![7u8; 500];
        let n = 20_000u64; // about 10 MiB of entries
        for i in 0..n {
            f.push(i, &state);
        }
        assert_eq!(f.len(), n);
        assert!(f.spilled_chunks() >= 5, "{}", f.spilled_chunks());
        assert!(f.memory_bytes() <= 4 * CHUNK_BYTES, "{}", f.memory_bytes());
        let got = collect(&f);
        assert_eq!(got.len() as u64, n);
        assert!(got
            .iter()
            .enumerate()
            .all(|(i, (t, s))| *t == i as u64 && *s == state));
        assert!(f.take_error().is_none());
        f.clear();
        assert!(f.is_empty());
        assert_eq!(collect(&f), vec![]);
        f.push(7, b"x");
        assert_eq!(collect(&f), vec![(7, b"x".to_vec())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_memory_frontier_never_spills_and_reuses_chunks() {
        let mut f = Frontier::in_memory();
        for i in 0..100_000u64 {
            f.push(i, &[1, 2, 3, 4, 5, 6, 7, 8]);
        }
        assert_eq!(f.spilled_chunks(), 0);
        assert_eq!(collect(&f).len(), 100_000);
        let allocated = f.allocated_bytes();
        // Chunked: at most one chunk of slack.
        assert!(
            allocated <= f.memory_bytes() + 2 * (CHUNK_BYTES + 4096),
            "{allocated}"
        );
        f.clear();
        for i in 0..100_000u64 {
            f.push(i, &[1, 2, 3, 4, 5, 6, 7, 8]);
        }
        assert_eq!(f.allocated_bytes(), allocated, "chunks are reused");
    }
}
