//! A BFS frontier kept as a list of chunks of about [`CHUNK_BYTES`] each, so it never
//! holds more than one chunk of slack and never copies itself to grow. Once more than
//! its memory limit is held, full chunks spill to a file in the run's work directory;
//! reading streams them back one at a time. Expansion consumes the frontier from the
//! front, chunk by chunk, handing each emptied chunk to the frontier being filled, so a
//! level and the next one share their memory instead of each holding its own.
//!
//! States are kept in the order pushed, which is the order of their parent-log entries,
//! so a state's log index is its position plus the log index of the first one
//! ([`Frontier::first_index`]): no per-state tag. A chunk stores states back to back
//! with no header while they all have one width (every fixed-width model), and with a
//! length before each otherwise.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use crate::state_chunk::StateChunk;

/// Bytes at which a chunk is full.
pub const CHUNK_BYTES: usize = 1 << 20;

/// One spilled chunk: where it is in the file and what it holds.
#[derive(Clone, Copy, Debug)]
struct SpilledChunk {
    offset: u64,
    bytes: u64,
    count: u64,
    layout: u64,
}

/// A frontier of packed states, in the order pushed.
pub struct Frontier {
    /// The chunk being filled.
    filling: StateChunk,
    /// Full chunks in memory.
    full: VecDeque<StateChunk>,
    /// Emptied chunks, reused before allocating.
    pool: Vec<StateChunk>,
    /// Bytes allocated by the chunks of `full` and `pool` (kept as they move, so that
    /// [`Frontier::allocated_bytes`] costs nothing however many chunks there are).
    listed_bytes: usize,
    /// Bytes kept in memory before full chunks spill; `usize::MAX` never spills.
    limit: usize,
    spill_path: Option<PathBuf>,
    spill: Option<File>,
    spilled: Vec<SpilledChunk>,
    /// Spilled chunks already consumed (from the front).
    spilled_consumed: usize,
    spilled_bytes: u64,
    /// Where the front spilled chunk is read.
    scratch: StateChunk,
    len: u64,
    /// Log index of the first state held.
    first_index: u64,
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
            filling: StateChunk::new(),
            full: VecDeque::new(),
            pool: Vec::new(),
            listed_bytes: 0,
            limit,
            spill_path: path,
            spill: None,
            spilled: Vec::new(),
            spilled_consumed: 0,
            spilled_bytes: 0,
            scratch: StateChunk::new(),
            len: 0,
            first_index: 0,
            error: None,
        }
    }

    /// Number of states held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Log index of the first state held; the next ones follow in order.
    pub fn first_index(&self) -> u64 {
        self.first_index
    }

    /// Sets the log index of the first state (of an empty frontier about to be filled,
    /// or of one just loaded).
    pub fn set_first_index(&mut self, index: u64) {
        self.first_index = index;
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
        self.listed_bytes + self.filling.capacity()
    }

    /// A chunk from the pool, or a new one.
    fn take_from_pool(&mut self) -> StateChunk {
        match self.pool.pop() {
            Some(chunk) => {
                self.listed_bytes -= chunk.capacity();
                chunk
            }
            None => Self::new_chunk(),
        }
    }

    fn push_full(&mut self, chunk: StateChunk) {
        self.listed_bytes += chunk.capacity();
        self.full.push_back(chunk);
    }

    /// Appends a state.
    #[inline]
    pub fn push(&mut self, state: &[u8]) {
        if self.filling.capacity() == 0 {
            // Chunks are allocated whole, never grown by doubling (which would leave
            // half of each unused but kept).
            self.filling = self.take_from_pool();
        }
        self.filling.push(state);
        self.len += 1;
        if self.filling.byte_len() >= CHUNK_BYTES {
            self.seal_chunk();
        }
    }

    fn seal_chunk(&mut self) {
        let fresh = self.take_from_pool();
        let chunk = std::mem::replace(&mut self.filling, fresh);
        let in_memory = self.memory_bytes() + chunk.byte_len();
        // Once a chunk has spilled, every later one spills too: the chunks in memory
        // must stay a prefix of the frontier, since they are read first. (Chunks run
        // past `CHUNK_BYTES` by different amounts, so a later, smaller one could fit
        // under the limit where an earlier one did not.)
        if (in_memory > self.limit || self.spilled_chunks() > 0) && self.spill_path.is_some() {
            if let Err(e) = self.spill_chunk(&chunk) {
                self.error.get_or_insert(e);
                self.push_full(chunk);
                return;
            }
            self.recycle(chunk);
        } else {
            self.push_full(chunk);
        }
    }

    /// A chunk with room for [`CHUNK_BYTES`] plus the largest state that may end it
    /// (states above 4 KiB cost a reallocation).
    fn new_chunk() -> StateChunk {
        StateChunk::with_capacity(CHUNK_BYTES + 4096)
    }

    /// Takes over `other`'s emptied chunks, keeping at most as many spare chunks as
    /// `other` holds full ones in memory plus two (the next level is rarely much
    /// larger than the one just stored, and memory freed here returns to the system).
    ///
    /// Two, not one: this frontier fills its first chunk while `other`'s chunk being
    /// read is still held, so a level of a few states needs two chunks at once even
    /// when the level before it needed none. Keeping one freed a 1 MiB chunk after
    /// such an empty level and mapped a new one at the next: an `munmap` (and its TLB
    /// shootdown across the process's threads) every few levels of a deep, narrow
    /// model, which cost about 10 µs a level at 2 workers.
    pub fn adopt_pool(&mut self, other: &mut Frontier) {
        let moved: usize = other.pool.iter().map(StateChunk::capacity).sum();
        other.listed_bytes -= moved;
        self.listed_bytes += moved;
        self.pool.append(&mut other.pool);
        let keep = other.full.len() + 2;
        if self.pool.len() > keep {
            let dropped: usize = self.pool[keep..].iter().map(StateChunk::capacity).sum();
            self.listed_bytes -= dropped;
            self.pool.truncate(keep);
        }
    }

    /// Takes a chunk another frontier is done with, empties it, and keeps it for reuse.
    pub fn recycle(&mut self, mut chunk: StateChunk) {
        chunk.clear();
        self.listed_bytes += chunk.capacity();
        self.pool.push(chunk);
    }

    fn spill_chunk(&mut self, chunk: &StateChunk) -> io::Result<()> {
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
            layout: chunk.layout_code(),
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
            self.listed_bytes -= chunk.capacity();
            self.recycle(chunk);
        }
        self.filling.clear();
        self.spilled.clear();
        self.spilled_consumed = 0;
        self.spilled_bytes = 0;
        self.len = 0;
        if let Some(file) = &self.spill {
            if let Err(e) = file.set_len(0) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Number of spilled chunks held.
    pub fn spilled_chunks(&self) -> usize {
        self.spilled.len() - self.spilled_consumed
    }

    /// Reads spilled chunk `i` (counted from the first one held) into `into`.
    fn read_spilled(&self, i: usize, into: &mut StateChunk) -> io::Result<()> {
        let chunk = self.spilled[self.spilled_consumed + i];
        let file = self.spill.as_ref().expect("chunks exist only once spilled");
        let mut bytes = vec![0u8; chunk.bytes as usize];
        file.read_exact_at(&mut bytes, chunk.offset)?;
        into.load_raw(chunk.layout, &bytes, chunk.count as usize)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Visits every state, chunk by chunk, in the order pushed: memory fills first,
    /// so the full chunks in memory come first, then the spilled ones, then the chunk
    /// being filled.
    pub fn for_each_chunk(
        &self,
        mut visit: impl FnMut(&StateChunk) -> io::Result<()>,
    ) -> io::Result<()> {
        for chunk in &self.full {
            visit(chunk)?;
        }
        let mut scratch = StateChunk::new();
        for i in 0..self.spilled_chunks() {
            self.read_spilled(i, &mut scratch)?;
            visit(&scratch)?;
        }
        visit(&self.filling)
    }

    /// The first chunk held, in the order of [`Frontier::for_each_chunk`] (read back
    /// if spilled); `None` once every state is consumed.
    pub fn front_chunk(&mut self) -> io::Result<Option<&StateChunk>> {
        if !self.full.is_empty() {
            return Ok(self.full.front());
        }
        if self.spilled_chunks() > 0 {
            let mut scratch = std::mem::take(&mut self.scratch);
            let read = self.read_spilled(0, &mut scratch);
            self.scratch = scratch;
            read?;
            return Ok(Some(&self.scratch));
        }
        Ok((!self.filling.is_empty()).then_some(&self.filling))
    }

    /// Drops the chunk [`Frontier::front_chunk`] returned, its states consumed; returns
    /// it if it was in memory, for the frontier being filled to take back with
    /// [`Frontier::recycle`] (which empties it).
    pub fn consume_front_chunk(&mut self) -> Option<StateChunk> {
        let (count, chunk) = if let Some(chunk) = self.full.pop_front() {
            self.listed_bytes -= chunk.capacity();
            (chunk.len(), Some(chunk))
        } else if self.spilled_chunks() > 0 {
            let count = self.spilled[self.spilled_consumed].count as usize;
            self.spilled_consumed += 1;
            (count, None)
        } else {
            let chunk = std::mem::take(&mut self.filling);
            (chunk.len(), Some(chunk))
        };
        self.len -= count as u64;
        self.first_index += count as u64;
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: &Frontier) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        f.for_each_chunk(|c| {
            out.extend(c.iter().map(|s| s.to_vec()));
            Ok(())
        })
        .unwrap();
        out
    }

    /// One worker's two frontiers over many levels of at most a few states each,
    /// moved as the worker moves them (`begin_level`, expansion, the swap), with the
    /// level's states present or not in every combination: once the two chunks a level
    /// needs at once exist, no level frees one (a chunk freed and mapped again every
    /// few levels made deep, narrow models slow).
    #[test]
    fn narrow_levels_keep_their_two_chunks() {
        let mut frontier = Frontier::in_memory();
        let mut next = Frontier::in_memory();
        frontier.push(b"initial");
        let held = |a: &Frontier, b: &Frontier| a.allocated_bytes() + b.allocated_bytes();
        let mut most = 0;
        // Every pattern of (the next level gets states here, they arrive before this
        // worker's own chunk is read) over 4 levels, one pattern after another.
        for pattern in 0..(1u32 << 8) {
            for level in 0..4 {
                let gets_states = pattern >> (2 * level) & 1 == 1;
                let arrive_first = pattern >> (2 * level + 1) & 1 == 1;
                next.clear();
                next.adopt_pool(&mut frontier);
                let now = held(&frontier, &next);
                assert!(
                    now >= most,
                    "pattern {pattern:#b}, level {level}: {now} bytes held, {most} before"
                );
                most = now;
                if gets_states && arrive_first {
                    next.push(b"from another worker");
                }
                while frontier.front_chunk().unwrap().is_some() {
                    if gets_states {
                        next.push(b"a successor");
                    }
                    if let Some(done) = frontier.consume_front_chunk() {
                        next.recycle(done);
                    }
                }
                std::mem::swap(&mut frontier, &mut next);
            }
        }
        assert_eq!(most, 2 * (CHUNK_BYTES + 4096), "two chunks, no more");
    }

    /// What `allocated_bytes` keeps count of, walked chunk by chunk.
    fn walked_bytes(f: &Frontier) -> usize {
        [&f.filling]
            .into_iter()
            .chain(&f.full)
            .chain(&f.pool)
            .map(|c| c.capacity())
            .sum()
    }

    /// The count kept as chunks move agrees with a walk over them after every kind of
    /// move: filling, a wide state growing the filling chunk, spilling, consuming and
    /// handing chunks to the next frontier, adopting a pool, clearing.
    #[test]
    fn allocated_bytes_are_kept_as_chunks_move() {
        let dir = std::env::temp_dir().join(format!("frontier-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = Frontier::spilling(3 * CHUNK_BYTES, Some(dir.join("f.spill")));
        let mut next = Frontier::in_memory();
        let check = |f: &Frontier, next: &Frontier, at: &str| {
            assert_eq!(f.allocated_bytes(), walked_bytes(f), "{at}");
            assert_eq!(next.allocated_bytes(), walked_bytes(next), "{at}");
        };
        for i in 0..12_000u64 {
            // Mostly 500 bytes, now and then 20 KiB (more than a chunk's spare room).
            let len = if i % 997 == 0 { 20_000 } else { 500 };
            f.push(&vec![i as u8; len]);
        }
        assert!(f.spilled_chunks() > 0);
        check(&f, &next, "filled and spilled");
        while f.front_chunk().unwrap().is_some() {
            if let Some(done) = f.consume_front_chunk() {
                next.recycle(done);
            }
            check(&f, &next, "consumed");
        }
        next.adopt_pool(&mut f);
        check(&f, &next, "pool adopted");
        for i in 0..5_000u64 {
            next.push(&i.to_le_bytes().repeat(40));
        }
        check(&f, &next, "refilled");
        f.adopt_pool(&mut next);
        check(&f, &next, "pool adopted back");
        next.clear();
        check(&f, &next, "cleared");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn spills_past_the_limit_and_streams_back_in_order() {
        let dir = std::env::temp_dir().join(format!("frontier-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = Frontier::spilling(3 * CHUNK_BYTES, Some(dir.join("f.spill")));
        let state = |i: u64| vec![i as u8; 500];
        let n = 20_000u64; // about 10 MiB of entries
        for i in 0..n {
            f.push(&state(i));
        }
        assert_eq!(f.len(), n);
        assert!(f.spilled_chunks() >= 5, "{}", f.spilled_chunks());
        assert!(f.memory_bytes() <= 4 * CHUNK_BYTES, "{}", f.memory_bytes());
        let got = collect(&f);
        assert_eq!(got.len() as u64, n);
        assert!(got.iter().enumerate().all(|(i, s)| *s == state(i as u64)));
        assert!(f.take_error().is_none());
        f.clear();
        assert!(f.is_empty());
        assert!(collect(&f).is_empty());
        f.push(b"x");
        assert_eq!(collect(&f), vec![b"x".to_vec()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_memory_frontier_never_spills_and_reuses_chunks() {
        let mut f = Frontier::in_memory();
        for i in 0..100_000u64 {
            f.push(&i.to_le_bytes());
        }
        assert_eq!(f.spilled_chunks(), 0);
        assert_eq!(collect(&f).len(), 100_000);
        // Fixed width: eight bytes a state, no header.
        assert_eq!(f.memory_bytes(), 800_000);
        let allocated = f.allocated_bytes();
        // Chunked: at most one chunk of slack.
        assert!(
            allocated <= f.memory_bytes() + 2 * (CHUNK_BYTES + 4096),
            "{allocated}"
        );
        f.clear();
        for i in 0..100_000u64 {
            f.push(&i.to_le_bytes());
        }
        assert_eq!(f.allocated_bytes(), allocated, "chunks are reused");
    }

    #[test]
    fn consuming_from_the_front_hands_chunks_over_and_tracks_log_indices() {
        let dir = std::env::temp_dir().join(format!("frontier-consume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = Frontier::spilling(2 * CHUNK_BYTES, Some(dir.join("f.spill")));
        f.set_first_index(1000);
        let n = 600_000u64; // 4.8 MB of 8-byte states: chunks in memory, spilled, filling
        for i in 0..n {
            f.push(&i.to_le_bytes());
        }
        assert!(f.spilled_chunks() >= 2, "{}", f.spilled_chunks());
        let mut next = Frontier::in_memory();
        let mut seen = 0u64;
        let mut recycled = 0;
        loop {
            // Every state's position gives its log index.
            let first = f.first_index();
            let Some(chunk) = f.front_chunk().unwrap() else {
                break;
            };
            for (k, s) in chunk.iter().enumerate() {
                let i = u64::from_le_bytes(s.try_into().unwrap());
                assert_eq!(i, seen + k as u64);
                assert_eq!(first + k as u64, 1000 + i);
            }
            let consumed = chunk.len();
            seen += consumed as u64;
            if let Some(done) = f.consume_front_chunk() {
                assert_eq!(done.len(), consumed);
                next.recycle(done);
                recycled += 1;
            }
            assert_eq!(f.len(), n - seen);
        }
        assert_eq!(seen, n);
        assert_eq!(f.first_index(), 1000 + n);
        assert!(recycled >= 2, "{recycled}");
        // The next frontier fills the handed-over chunks before allocating.
        let before = next.allocated_bytes();
        for i in 0..200_000u64 {
            next.push(&i.to_le_bytes());
        }
        assert!(
            next.allocated_bytes() <= before + CHUNK_BYTES + 4096,
            "{}",
            next.allocated_bytes()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
