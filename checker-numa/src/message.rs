//! What travels through a mailbox from one worker to another: batches of states, and
//! the two once-per-level messages that let every worker decide the end of a level
//! from what it received, without any shared counter.
//!
//! From each sender, a receiver sees per level: any number of [`Message::States`], then
//! exactly one [`Message::EndOfLevel`], then exactly one [`Message::Summary`]. Rings
//! are FIFO, so the end-of-level marker proves every state of that level has arrived.

use checker_core::level::LevelErrors;
use checker_core::Fingerprint;

use crate::partition::ParentRef;

/// A message between two workers.
#[derive(Debug)]
pub enum Message {
    /// States for the receiver to store.
    States(Batch),
    /// The sender has expanded its whole frontier and sent every state it produced.
    EndOfLevel(LevelReport),
    /// The sender has received every state of the level: its totals after the level.
    Summary(LevelSummary),
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
    /// Deadlocks and invariant violations seen, lowest fingerprints only.
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
    /// The user asked the run to stop (SIGINT/SIGTERM).
    pub interrupt: bool,
    /// A periodic checkpoint is due (decided by worker 0's clock alone).
    pub checkpoint_due: bool,
    /// The worker's memory would exceed its share of the budget.
    pub over_budget: bool,
    /// The worker met an I/O error in the work directory.
    pub failed: bool,
    /// The worker stopped expanding part-way on an interrupt.
    pub paused: bool,
}

impl SummaryFlags {
    fn merge(&mut self, other: &SummaryFlags) {
        self.interrupt |= other.interrupt;
        self.checkpoint_due |= other.checkpoint_due;
        self.over_budget |= other.over_budget;
        self.failed |= other.failed;
        self.paused |= other.paused;
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
}

impl LevelSummary {
    /// Adds another worker's summary.
    pub fn merge(&mut self, other: &LevelSummary) {
        self.new_states += other.new_states;
        self.distinct += other.distinct;
        self.flags.merge(&other.flags);
    }
}

/// Bytes of one entry's header: fingerprint, parent reference, parent fingerprint,
/// state length.
const HEADER: usize = 8 + 8 + 8 + 4;

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
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    entries: u32,
}

impl Batch {
    /// An empty batch with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        Batch {
            bytes: Vec::with_capacity(bytes),
            entries: 0,
        }
    }

    /// Appends one state.
    #[inline]
    pub fn push(&mut self, entry: Entry<'_>) {
        let len = u32::try_from(entry.state.len()).expect("packed state longer than 4 GiB");
        self.bytes.reserve(HEADER + entry.state.len());
        self.bytes.extend_from_slice(&entry.fp.to_le_bytes());
        self.bytes.extend_from_slice(&entry.parent.0.to_le_bytes());
        self.bytes.extend_from_slice(&entry.parent_fp.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(entry.state);
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
        self.bytes.len()
    }

    /// Empties the batch, keeping its buffer for reuse.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.entries = 0;
    }

    /// The states in order.
    pub fn iter(&self) -> BatchIter<'_> {
        BatchIter { rest: &self.bytes }
    }
}

/// Iterator over a [`Batch`].
pub struct BatchIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Entry<'a>;

    #[inline]
    fn next(&mut self) -> Option<Entry<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let (h, rest) = self.rest.split_at(HEADER);
        let word = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().unwrap());
        let len = u32::from_le_bytes(h[24..28].try_into().unwrap()) as usize;
        let (state, rest) = rest.split_at(len);
        self.rest = rest;
        Some(Entry {
            fp: word(0),
            parent: ParentRef(word(8)),
            parent_fp: word(16),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trips_entries() {
        let mut b = Batch::with_capacity(64);
        let e1 = Entry {
            fp: 1,
            parent: ParentRef::new(3, 9),
            parent_fp: 77,
            state: b"abc",
        };
        let e2 = Entry {
            fp: u64::MAX,
            parent: ParentRef::NONE,
            parent_fp: 0,
            state: b"",
        };
        b.push(e1);
        b.push(e2);
        assert_eq!(b.len(), 2);
        assert_eq!(b.byte_len(), 2 * HEADER + 3);
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![e1, e2]);
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.iter().count(), 0);
    }
}
