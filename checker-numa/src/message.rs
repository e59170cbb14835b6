//! What travels through a mailbox from one worker to another: batches of states, the
//! two once-per-level messages that let every worker decide the end of a level from
//! what it received, without any shared counter, and the request and answer by which
//! a worker that has expanded its own frontier takes over part of a slower worker's.
//!
//! From each sender, a receiver sees per level: any number of [`Message::States`],
//! [`Message::ShareRequest`] and [`Message::Share`], then exactly one
//! [`Message::EndOfLevel`], then exactly one [`Message::Summary`]. Rings are FIFO, so
//! the end-of-level marker proves every state of that level has arrived. A worker asks
//! for a share only before its marker, at most one at a time, and waits for the answer
//! before sending its marker, so every share is expanded, and its successors sent,
//! before its expander's marker.

use checker_core::level::LevelErrors;
use checker_core::Fingerprint;
use std::hint::select_unpredictable;

use crate::hints::prefetch_write;
use crate::partition::ParentRef;
use crate::state_chunk::StateChunk;
use crate::telemetry::LevelLap;
use checker_core::short_copy::{copy_short, SHORT};

/// How far ahead of the end of a batch its buffer is prefetched for writing.
const WRITE_AHEAD: usize = 512;

/// A message between two workers.
#[derive(Debug)]
pub enum Message {
    /// States for the receiver to store.
    States(Batch),
    /// The sender has expanded its whole frontier and sent every state it produced.
    EndOfLevel(LevelReport),
    /// The sender has received every state of the level: its totals after the level.
    Summary(LevelSummary),
    /// The sender's wall and idle time in the previous level, for the per-level
    /// telemetry that worker 0 alone keeps: sent to worker 0 just before the sender's
    /// summary (none in a run segment's first level).
    Lap(LevelLap),
    /// The sender asks the receiver for at most `wanted` of the states it has not
    /// expanded yet in this level: because the sender has expanded its whole frontier,
    /// or because it has far fewer states left than the receiver (see the worker's
    /// pacing). Answered by one [`Message::Share`].
    ShareRequest {
        /// The most states the sender wants.
        wanted: u64,
    },
    /// The answer to a [`Message::ShareRequest`]: states of the sender's frontier for
    /// the receiver to expand in its place (none when it has none to spare).
    Share(Share),
}

/// Consecutive states of a worker's frontier handed to another worker to expand. The
/// states stay the sender's: their log entries are in its log, so the expander names
/// their successors' parent by the sender and the log index.
#[derive(Debug, Default)]
pub struct Share {
    /// Log index of the first state (the others follow in order).
    pub first_index: u64,
    /// The states; empty when the sender has none to spare.
    pub states: StateChunk,
}

/// What a worker saw while expanding one level; carried by [`Message::EndOfLevel`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelReport {
    /// States expanded.
    pub expanded: u64,
    /// Successors computed (plus initial states, for the initial level).
    pub generated: u64,
    /// Expanded states without successors.
    pub deadlocks: u64,
    /// Deadlocks seen, lowest fingerprint only (invariant violations, found when
    /// states are stored, travel in the [`LevelSummary`]; a report restored from a
    /// paused level carries those found before the pause too).
    pub errors: LevelErrors,
}

impl LevelReport {
    /// Adds another worker's report for the same level.
    pub fn merge(&mut self, other: &LevelReport) {
        self.expanded += other.expanded;
        self.generated += other.generated;
        self.deadlocks += other.deadlocks;
        self.errors.merge(&other.errors);
    }
}

/// What one worker asks of all at the end of a level; any worker asking is enough.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SummaryFlags {
    /// The user asked the run to stop (SIGINT, SIGTERM or SIGHUP).
    pub interrupt: bool,
    /// A periodic checkpoint is due (decided by worker 0's clock alone).
    pub checkpoint_due: bool,
    /// The worker's memory would exceed its share of the budget.
    pub over_budget: bool,
    /// The worker met an I/O error in the work directory.
    pub failed: bool,
    /// The worker stopped expanding part-way on an interrupt or a memory stop.
    pub paused: bool,
    /// Some worker's memory passed its share part-way through the level (so a pause
    /// is the memory budget's, not the user's).
    pub memory_exhausted: bool,
}

impl SummaryFlags {
    fn merge(&mut self, other: &SummaryFlags) {
        self.interrupt |= other.interrupt;
        self.checkpoint_due |= other.checkpoint_due;
        self.over_budget |= other.over_budget;
        self.failed |= other.failed;
        self.paused |= other.paused;
        self.memory_exhausted |= other.memory_exhausted;
    }
}

/// A worker's totals once a level is complete; carried by [`Message::Summary`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelSummary {
    /// New states stored during the level (the worker's share of the next level).
    pub new_states: u64,
    /// Distinct states the worker owns so far.
    pub distinct: u64,
    /// Requests to stop or checkpoint.
    pub flags: SummaryFlags,
    /// Invariant violations among the new states the worker stored in the level (it
    /// checks them when storing, which goes on after its end-of-level marker).
    pub errors: LevelErrors,
}

impl LevelSummary {
    /// Adds another worker's summary.
    pub fn merge(&mut self, other: &LevelSummary) {
        self.new_states += other.new_states;
        self.distinct += other.distinct;
        self.flags.merge(&other.flags);
        self.errors.merge(&other.errors);
    }
}

/// Bytes of one entry's header: the state's length (with [`NEW_PARENT`]), then its
/// fingerprint.
const ENTRY_HEADER: usize = 4 + 8;
/// Bytes of a parent record: the parent reference and the parent's fingerprint.
const PARENT_RECORD: usize = 8 + 8;
/// Set in an entry's length word when a parent record follows it: the entry's parent
/// differs from the previous entry's. Successors of one state are generated one after
/// another, so most entries share the previous one's parent and omit it.
const NEW_PARENT: u32 = 1 << 31;

/// One state in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The state's fingerprint (its owner is the receiver).
    pub fp: Fingerprint,
    /// Where the parent's log entry is.
    pub parent: ParentRef,
    /// The parent's fingerprint, to choose the lowest-fingerprint parent.
    pub parent_fp: Fingerprint,
    /// The packed state.
    pub state: &'a [u8],
}

/// A batch of states for one receiver, encoded back to back in one reusable buffer.
///
/// An entry is its length word, its fingerprint, an optional parent record (when its
/// parent is not the previous entry's) and the packed state: 12 bytes plus the state
/// for most entries, instead of 28 with the parent repeated. Fewer bytes per state
/// means fewer cache lines moved from the sending core to the receiving one.
///
/// The buffer is all initialised (zeros when allocated) and the entries fill its first
/// `used` bytes, so that a push writes its header and state into it with plain copies
/// after one check for room, where appending to a `Vec` checks its capacity at each
/// piece (2.4% fewer instructions for a 1-worker `grid 7 7` than with the appends).
#[derive(Debug)]
pub struct Batch {
    /// The room; its first `used` bytes hold the entries.
    bytes: Vec<u8>,
    used: usize,
    entries: u32,
    /// The parent (reference, fingerprint) of the last entry pushed; [`NO_PARENT_YET`]
    /// before the first.
    last_parent: (ParentRef, Fingerprint),
    /// Bytes to allocate at the first push into a batch without a buffer (see
    /// [`Batch::unallocated`]).
    first_room: u32,
}

/// The most bytes an [`unallocated`](Batch::unallocated) batch allocates at its first
/// push (1 MiB; the default batch is 8 KiB); past it, the buffer doubles as needed.
pub const MAX_FIRST_ROOM: usize = 1 << 20;

/// The parent a batch's first entry is compared with, by the writer and the reader
/// alike, so that even an entry with this parent would decode right without a record.
/// No entry has it: an initial state's parent has fingerprint 0.
const NO_PARENT_YET: (ParentRef, Fingerprint) = (ParentRef::NONE, u64::MAX);

impl Default for Batch {
    fn default() -> Self {
        Batch::with_capacity(0)
    }
}

impl Batch {
    /// An empty batch with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        Batch {
            bytes: vec![0; bytes],
            used: 0,
            entries: 0,
            last_parent: NO_PARENT_YET,
            first_room: 0,
        }
    }

    /// An empty batch that allocates room for `bytes` bytes at its first push, and
    /// nothing before. A worker holds a batch for every worker, and makes a new one
    /// whenever it sends one and no emptied one has come back; made with their room,
    /// the batches that never carry a state cost memory all the same (the allocator
    /// touches a page for each): at 128 workers, a 4-state model peaked at 150 MiB
    /// with them and 86 MiB without.
    ///
    /// At most [`MAX_FIRST_ROOM`] is allocated at once, however large `bytes` is: a
    /// batch of a huge `batch_bytes` (a gibibyte, say) grows by doubling as states
    /// fill it, so its memory follows what it holds. Allocated (and zeroed) at the
    /// first state, every batch of 1 GiB at 8 workers took 64 GiB for a 1,000-state
    /// model, and the process was killed for memory.
    pub fn unallocated(bytes: usize) -> Self {
        Batch {
            first_room: bytes.min(MAX_FIRST_ROOM) as u32,
            ..Batch::with_capacity(0)
        }
    }

    /// Makes room for `needed` more bytes after the entries: at the first push into an
    /// [`unallocated`](Self::unallocated) batch, `first_room` bytes in all; after that,
    /// at least double the buffer, as `Vec` does.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, needed: usize) {
        let room = (self.used + needed)
            .max(self.first_room as usize)
            .max(2 * self.bytes.len());
        self.bytes.resize(room, 0);
    }

    /// Appends one state.
    ///
    /// Branch-free apart from the capacity check: the whole header, parent record
    /// included, is copied with one fixed-size copy and the batch then keeps only
    /// what the entry needs. At 2 workers or more, whether an entry repeats its
    /// batch's last parent is a coin toss, and copying a header of either length
    /// (a call to `memcpy`, which branches on the length) was mispredicted as often.
    #[inline(always)]
    pub fn push(&mut self, entry: Entry<'_>) {
        let len = u32::try_from(entry.state.len())
            .ok()
            .filter(|&l| l < NEW_PARENT)
            .expect("packed state of 2 GiB or more");
        // Both words compared at once (no short-circuit), and the choices below made
        // with `select_unpredictable`: left to itself, the compiler turned them back
        // into branches in one build, 2.5% slower on `synthetic` at 2 workers.
        let (last_ref, last_fp) = self.last_parent;
        let new_parent = ((last_ref.0 ^ entry.parent.0) | (last_fp ^ entry.parent_fp)) != 0;
        self.last_parent = (entry.parent, entry.parent_fp);
        let mut header = [0u8; ENTRY_HEADER + PARENT_RECORD];
        let word = len | select_unpredictable(new_parent, NEW_PARENT, 0);
        header[..4].copy_from_slice(&word.to_le_bytes());
        header[4..12].copy_from_slice(&entry.fp.to_le_bytes());
        header[12..20].copy_from_slice(&entry.parent.0.to_le_bytes());
        header[20..28].copy_from_slice(&entry.parent_fp.to_le_bytes());
        let kept = select_unpredictable(new_parent, ENTRY_HEADER + PARENT_RECORD, ENTRY_HEADER);
        let start = self.used;
        // The whole header is written, and a short state is copied in pieces of fixed
        // size that may reach `SHORT` bytes past its start (`copy_short`).
        let needed = header.len() + entry.state.len().max(SHORT);
        if self.bytes.len() - start < needed {
            self.make_room(needed);
        }
        // The buffer was last read by the receiving core: ask for its lines ahead of
        // writing them, so the stores do not stall waiting for them one by one.
        prefetch_write(self.bytes.as_ptr().wrapping_add(start + WRITE_AHEAD));
        let room = &mut self.bytes[start..start + needed];
        room[..header.len()].copy_from_slice(&header);
        copy_short(&mut room[kept..], entry.state);
        self.used = start + kept + entry.state.len();
        self.entries += 1;
    }

    /// Number of states.
    pub fn len(&self) -> usize {
        self.entries as usize
    }

    /// Whether the batch holds no state.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Encoded size in bytes.
    pub fn byte_len(&self) -> usize {
        self.used
    }

    /// Empties the batch, keeping its buffer for reuse.
    pub fn clear(&mut self) {
        self.used = 0;
        self.entries = 0;
        self.last_parent = NO_PARENT_YET;
    }

    /// The states' fingerprints in order, without decoding the rest of each entry: for
    /// looking ahead of [`Batch::iter`] (the store loop prefetches the table slots of
    /// states a few entries on).
    pub fn fingerprints(&self) -> BatchFingerprints<'_> {
        BatchFingerprints {
            rest: &self.bytes[..self.used],
        }
    }

    /// The states in order.
    pub fn iter(&self) -> BatchIter<'_> {
        BatchIter {
            rest: &self.bytes[..self.used],
            parent: NO_PARENT_YET.0,
            parent_fp: NO_PARENT_YET.1,
        }
    }
}

/// Iterator over the fingerprints of a [`Batch`] (see [`Batch::fingerprints`]).
pub struct BatchFingerprints<'a> {
    rest: &'a [u8],
}

impl Iterator for BatchFingerprints<'_> {
    type Item = Fingerprint;

    #[inline]
    fn next(&mut self) -> Option<Fingerprint> {
        let (len_word, rest) = self.rest.split_first_chunk::<4>()?;
        let len_word = u32::from_le_bytes(*len_word);
        let (fp, _) = rest.split_first_chunk::<8>()?;
        let record = usize::from(len_word & NEW_PARENT != 0) * PARENT_RECORD;
        let skip = (8 + record + (len_word & !NEW_PARENT) as usize).min(rest.len());
        self.rest = &rest[skip..];
        Some(u64::from_le_bytes(*fp))
    }
}

/// Iterator over a [`Batch`].
pub struct BatchIter<'a> {
    rest: &'a [u8],
    /// The parent of the entry read last (the first entry always carries one).
    parent: ParentRef,
    parent_fp: Fingerprint,
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Entry<'a>;

    #[inline]
    fn next(&mut self) -> Option<Entry<'a>> {
        fn word(bytes: &[u8]) -> u64 {
            u64::from_le_bytes(bytes[..8].try_into().expect("eight bytes"))
        }
        let (len_word, mut rest) = self.rest.split_first_chunk::<4>()?;
        let len_word = u32::from_le_bytes(*len_word);
        let fp = word(rest);
        rest = &rest[8..];
        // Branch-free choice of the parent, as in `push`: the record's presence is a
        // coin toss at 2 workers or more, so the 16 bytes after the fingerprint are
        // read whether or not they are a record. Fewer than 16 bytes can follow only
        // an entry without a record (near the batch's end), so the zeros are never
        // chosen.
        let new_parent = len_word & NEW_PARENT != 0;
        let (record, record_fp) = match rest.get(..PARENT_RECORD) {
            Some(r) => (word(r), word(&r[8..])),
            None => (0, 0),
        };
        self.parent = ParentRef(select_unpredictable(new_parent, record, self.parent.0));
        self.parent_fp = select_unpredictable(new_parent, record_fp, self.parent_fp);
        rest = &rest[usize::from(new_parent) * PARENT_RECORD..];
        let (state, rest) = rest.split_at((len_word & !NEW_PARENT) as usize);
        self.rest = rest;
        Some(Entry {
            fp,
            parent: self.parent,
            parent_fp: self.parent_fp,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_message_is_its_largest_payload_and_a_tag() {
        // Every ring slot holds one, and the rings' memory grows with the square of
        // the worker count: the small variants (a lap, a share request) cost nothing.
        use std::mem::size_of;
        let largest = size_of::<LevelSummary>()
            .max(size_of::<LevelReport>())
            .max(size_of::<Batch>())
            .max(size_of::<Share>());
        assert_eq!(size_of::<Message>(), largest + 8);
    }

    #[test]
    fn batch_round_trips_entries_and_writes_a_parent_once_per_run() {
        let mut b = Batch::with_capacity(64);
        let entry = |fp, parent, parent_fp, state| Entry {
            fp,
            parent,
            parent_fp,
            state,
        };
        let entries = [
            entry(1, ParentRef::new(3, 9), 77, &b"abc"[..]),
            entry(2, ParentRef::new(3, 9), 77, b"de"),
            entry(u64::MAX, ParentRef::NONE, 0, b""),
            // Same reference, other fingerprint: a new parent record.
            entry(4, ParentRef::NONE, 5, b"f"),
            entry(5, ParentRef::new(3, 9), 77, b"gh"),
        ];
        for e in entries {
            b.push(e);
        }
        assert_eq!(b.len(), 5);
        // Four parent records (the second entry shares the first one's).
        assert_eq!(
            b.byte_len(),
            5 * ENTRY_HEADER + 4 * PARENT_RECORD + (3 + 2 + 1 + 2)
        );
        assert_eq!(b.iter().collect::<Vec<_>>(), entries);
        assert_eq!(
            b.fingerprints().collect::<Vec<_>>(),
            entries.map(|e| e.fp),
            "the look-ahead reads the same fingerprints"
        );
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.iter().count(), 0);
        // After a clear the first entry carries its parent again, even the same one.
        b.push(entries[4]);
        assert_eq!(b.byte_len(), ENTRY_HEADER + PARENT_RECORD + 2);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![entries[4]]);
    }

    #[test]
    fn a_last_entry_without_a_parent_record_ends_the_batch() {
        // The iterator looks 16 bytes past a fingerprint for a parent record; the last
        // entry here has none and a 1-byte state, so the batch ends 1 byte after it.
        let mut b = Batch::with_capacity(64);
        let first = Entry {
            fp: 10,
            parent: ParentRef::new(1, 2),
            parent_fp: 30,
            state: b"xy",
        };
        let second = Entry {
            fp: 11,
            state: b"z",
            ..first
        };
        b.push(first);
        b.push(second);
        assert_eq!(b.byte_len(), 2 * ENTRY_HEADER + PARENT_RECORD + 3);
        assert_eq!(b.iter().collect::<Vec<_>>(), [first, second]);
    }

    #[test]
    fn a_first_entry_with_the_starting_parent_needs_no_record() {
        // Writer and reader start from the same parent, so an entry with it (which the
        // engine never writes) would still decode right without a record.
        let mut b = Batch::default();
        let e = Entry {
            fp: 1,
            parent: NO_PARENT_YET.0,
            parent_fp: NO_PARENT_YET.1,
            state: b"s",
        };
        b.push(e);
        assert_eq!(b.byte_len(), ENTRY_HEADER + 1);
        assert_eq!(b.iter().collect::<Vec<_>>(), [e]);
    }

    /// An entry with fingerprint `fp` and bytes `state`, child of reference 7 (whose
    /// fingerprint is 9).
    fn entry_of_parent_7(fp: Fingerprint, state: &[u8]) -> Entry<'_> {
        Entry {
            fp,
            parent: ParentRef(7),
            parent_fp: 9,
            state,
        }
    }

    #[test]
    fn an_unallocated_batch_makes_its_room_at_the_first_push_and_doubles_after() {
        let mut b = Batch::unallocated(100);
        assert_eq!(b.bytes.len(), 0);
        let e = entry_of_parent_7;
        b.push(e(1, &[1; 10]));
        assert_eq!(
            b.bytes.len(),
            100,
            "the room asked for, not the entry's size"
        );
        b.push(e(2, &[2; 30]));
        assert_eq!(b.bytes.len(), 100);
        b.push(e(3, &[3; 30]));
        assert_eq!(b.bytes.len(), 200, "doubled when full");
        b.clear();
        assert_eq!(b.bytes.len(), 200, "cleared for reuse, room kept");
        b.push(e(4, &[4; 5]));
        assert_eq!(b.iter().collect::<Vec<_>>(), [e(4, &[4; 5])]);
    }

    /// A huge room asked for is not allocated at the first push: the buffer starts at
    /// [`MAX_FIRST_ROOM`] and doubles as entries fill it (a batch of 1 GiB allocated,
    /// and zeroed, 1 GiB for its first state).
    #[test]
    fn a_huge_batch_starts_small_and_grows_with_its_entries() {
        for asked in [MAX_FIRST_ROOM + 1, 1 << 30, usize::MAX] {
            let mut b = Batch::unallocated(asked);
            let e = entry_of_parent_7;
            b.push(e(1, &[1; 10]));
            assert_eq!(b.bytes.len(), MAX_FIRST_ROOM, "asked for {asked}");
            let wide = vec![2u8; MAX_FIRST_ROOM];
            b.push(e(2, &wide));
            assert_eq!(b.bytes.len(), 2 * MAX_FIRST_ROOM, "asked for {asked}");
            assert_eq!(b.iter().collect::<Vec<_>>(), [e(1, &[1; 10]), e(2, &wide)]);
        }
    }

    proptest! {
        #[test]
        fn any_sequence_of_entries_round_trips(
            picks in proptest::collection::vec(
                (any::<u64>(), 0..4usize, proptest::collection::vec(any::<u8>(), 0..40)),
                0..200,
            )
        ) {
            // Parents from a small set, so runs of equal parents and returns to an
            // earlier one both occur.
            let parents = [
                (ParentRef::new(0, 0), 7),
                (ParentRef::new(3, 1 << 40), u64::MAX),
                (ParentRef::NONE, 0),
                (ParentRef::new(3, 1 << 40), 8),
            ];
            let entries: Vec<Entry<'_>> = picks
                .iter()
                .map(|(fp, p, state)| Entry {
                    fp: *fp,
                    parent: parents[*p].0,
                    parent_fp: parents[*p].1,
                    state,
                })
                .collect();
            let mut b = Batch::with_capacity(16);
            for e in &entries {
                b.push(*e);
            }
            prop_assert_eq!(b.len(), entries.len());
            let records = entries
                .iter()
                .enumerate()
                .filter(|(i, e)| {
                    *i == 0 || (e.parent, e.parent_fp) != (entries[i - 1].parent, entries[i - 1].parent_fp)
                })
                .count();
            let state_bytes: usize = entries.iter().map(|e| e.state.len()).sum();
            prop_assert_eq!(
                b.byte_len(),
                entries.len() * ENTRY_HEADER + records * PARENT_RECORD + state_bytes
            );
            prop_assert_eq!(
                b.fingerprints().collect::<Vec<_>>(),
                entries.iter().map(|e| e.fp).collect::<Vec<_>>()
            );
            prop_assert_eq!(b.iter().collect::<Vec<_>>(), entries);
        }
    }
}
