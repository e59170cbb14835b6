//! A BFS frontier that keeps at most a set number of bytes in memory and spills the
//! rest, in chunks, to a file in the run's work directory; reading streams the chunks
//! back one at a time. Order is not significant (each entry carries its log index).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use checker_core::packed::PackedStates;

/// One spilled chunk: where it is in the file and what it holds.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    offset: u64,
    bytes: u64,
    count: u64,
}

/// A frontier of packed states tagged with their log index.
pub struct Frontier {
    memory: PackedStates,
    /// Bytes kept in memory before a chunk is spilled; `usize::MAX` never spills.
    limit: usize,
    spill_path: Option<PathBuf>,
    spill: Option<File>,
    chunks: Vec<Chunk>,
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
            memory: PackedStates::new(),
            limit,
            spill_path: path,
            spill: None,
            chunks: Vec::new(),
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

    /// Bytes held in memory.
    pub fn memory_bytes(&self) -> usize {
        self.memory.byte_len()
    }

    /// Bytes spilled to disk.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes
    }

    /// Appends a state.
    #[inline]
    pub fn push(&mut self, tag: u64, state: &[u8]) {
        self.memory.push(tag, state);
        self.len += 1;
        if self.memory.byte_len() >= self.limit && self.spill_path.is_some() {
            if let Err(e) = self.spill_memory() {
                self.error.get_or_insert(e);
            }
        }
    }

    fn spill_memory(&mut self) -> io::Result<()> {
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
        let bytes = self.memory.raw_bytes();
        file.write_all_at(bytes, self.spilled_bytes)?;
        self.chunks.push(Chunk {
            offset: self.spilled_bytes,
            bytes: bytes.len() as u64,
            count: self.memory.len() as u64,
        });
        self.spilled_bytes += bytes.len() as u64;
        self.memory.clear();
        Ok(())
    }

    /// Takes the first spill error, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Removes every state, keeping the memory buffer.
    pub fn clear(&mut self) {
        self.memory.clear();
        self.chunks.clear();
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
        self.chunks.len()
    }

    /// Reads spilled chunk `i` into `into`.
    pub fn read_chunk(&self, i: usize, into: &mut PackedStates) -> io::Result<()> {
        let chunk = self.chunks[i];
        let file = self.spill.as_ref().expect("chunks exist only once spilled");
        let mut bytes = vec![0u8; chunk.bytes as usize];
        file.read_exact_at(&mut bytes, chunk.offset)?;
        into.load_raw(&bytes, chunk.count as usize)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The states still in memory (after every spilled chunk in reading order).
    pub fn in_memory_part(&self) -> &PackedStates {
        &self.memory
    }

    /// Visits every state: spilled chunks first, then the part in memory.
    pub fn for_each_chunk(
        &self,
        mut visit: impl FnMut(&PackedStates) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut scratch = PackedStates::new();
        for i in 0..self.spilled_chunks() {
            self.read_chunk(i, &mut scratch)?;
            visit(&scratch)?;
        }
        visit(&self.memory)
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
        let mut f = Frontier::spilling(100, Some(dir.join("f.spill")));
        let expected: Vec<(u64, Vec<u8>)> = (0..50u64).map(|i| (i, vec![i as u8; 5])).collect();
        for (t, s) in &expected {
            f.push(*t, s);
        }
        assert_eq!(f.len(), 50);
        assert!(f.spilled_chunks() >= 5, "{}", f.spilled_chunks());
        assert!(f.memory_bytes() < 100);
        assert_eq!(collect(&f), expected);
        assert!(f.take_error().is_none());
        f.clear();
        assert!(f.is_empty());
        assert_eq!(collect(&f), vec![]);
        f.push(7, b"x");
        assert_eq!(collect(&f), vec![(7, b"x".to_vec())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_memory_frontier_never_spills() {
        let mut f = Frontier::in_memory();
        for i in 0..1000u64 {
            f.push(i, &[1, 2, 3]);
        }
        assert_eq!(f.spilled_chunks(), 0);
        assert_eq!(collect(&f).len(), 1000);
    }
}
