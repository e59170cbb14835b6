//! Finds a state of the level being built by fingerprint, to update its parent when a
//! later duplicate offers one with a lower fingerprint.
//!
//! A slot is a `u32` in an open-addressing array of 2^k slots probed by the
//! fingerprint's low k bits. Its low k bits hold a position in the level's parent-log
//! entries (positions stay below three quarters of 2^k), and its other 32 - k bits a
//! tag: the fingerprint's bits k to 31, the ones just above those that chose the
//! slot. Not its top bits: [`owner_of`](crate::partition::owner_of) chooses a state's
//! worker by them, so all the states one worker indexes share their top log2(workers)
//! bits, and a tag of those would tell fewer states apart the more workers there are
//! (at 128 workers, 7 of its bits would be the same in every slot). The fingerprints themselves are in the log
//! entries, in position order, and are read from there to confirm a match, but only
//! where the tag matches: a search reads about one log entry, the one it finds, instead
//! of one for every slot of its probe run (each a cache miss). `twophase 9` looks up 67
//! million states this way. The tag costs no memory: four bytes a slot, against a map's
//! twenty, keeps the per-level overhead small (issue #5). Only the owning worker
//! touches it.

use checker_core::Fingerprint;

use crate::hints::prefetch_read;

/// An empty slot: its position bits are all ones, a position never stored (positions
/// stay below three quarters of the slot count).
const EMPTY: u32 = u32::MAX;

/// The fewest slots an index that holds anything has (1 KiB). Small, because every
/// level end fills the slots kept: a model with many levels of a few states each (a
/// long chain) would otherwise spend its level ends clearing slots it never used.
const MIN_SLOTS: usize = 256;

/// Position by fingerprint for one level's new states.
#[derive(Debug, Default)]
pub struct LevelIndex {
    slots: Vec<u32>,
    len: usize,
    /// k: the slot count is 2^k, and a slot's low k bits are the position.
    position_bits: u32,
}

impl LevelIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of positions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.slots.capacity() * 4
    }

    /// Forgets every position, keeping the allocation unless it is far larger than the
    /// level just ended needed.
    pub fn clear(&mut self) {
        if self.len == 0 {
            // Nothing was stored since the slots were last emptied.
            return;
        }
        if self.slots.len() > 4 * (self.len * 2).next_power_of_two().max(MIN_SLOTS) {
            self.slots = Vec::new();
            self.position_bits = 0;
        } else {
            self.slots.fill(EMPTY);
        }
        self.len = 0;
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot for position `pos` of fingerprint `fp`.
    #[inline]
    fn slot(&self, fp: Fingerprint, pos: u32) -> u32 {
        tag(fp, self.position_bits) | pos
    }

    #[inline]
    fn position_mask(&self) -> u32 {
        low_bits(self.position_bits)
    }

    /// Records that the state with fingerprint `fp` is at `pos`, which must be the
    /// number of positions stored so far: positions are 0, 1, 2, ... in the order of
    /// the level's log entries. `fp` must not be in the index yet; `fp_at(p)` gives the
    /// fingerprint at position `p` (for rehashing).
    #[inline]
    pub fn insert(&mut self, fp: Fingerprint, pos: u32, fp_at: impl Fn(u32) -> Fingerprint) {
        debug_assert_eq!(pos as usize, self.len, "positions are stored in order");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow(&fp_at);
        }
        let mask = self.mask();
        let mut i = fp as usize & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = self.slot(fp, pos);
        self.len += 1;
    }

    /// Starts loading the slot where a search for `fp` begins.
    #[inline(always)]
    pub fn prefetch(&self, fp: Fingerprint) {
        if !self.slots.is_empty() {
            prefetch_read(self.slots.as_ptr().wrapping_add(fp as usize & self.mask()));
        }
    }

    /// The position in the first slot of `fp`'s probe run whose tag matches `fp`'s,
    /// without reading any log entry: `fp`'s position if this level stored it, unless
    /// (rarely) another fingerprint with the same tag comes first. Confirm it against
    /// the log entry, and fall back to [`LevelIndex::find`].
    #[inline]
    pub fn candidate(&self, fp: Fingerprint) -> Option<u32> {
        self.first_match(fp, |_| true)
    }

    /// The position of fingerprint `fp`, if this level stored it.
    #[inline]
    pub fn find(&self, fp: Fingerprint, fp_at: impl Fn(u32) -> Fingerprint) -> Option<u32> {
        self.first_match(fp, |pos| fp_at(pos) == fp)
    }

    /// The first position in `fp`'s probe run whose tag matches `fp`'s and which
    /// `confirm` accepts (only those with a matching tag are offered to it).
    #[inline]
    fn first_match(&self, fp: Fingerprint, confirm: impl Fn(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let (positions, wanted_tag) = (self.position_mask(), tag(fp, self.position_bits));
        let mut i = fp as usize & mask;
        loop {
            match self.slots[i] {
                EMPTY => return None,
                s if s & !positions == wanted_tag && confirm(s & positions) => {
                    return Some(s & positions)
                }
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self, fp_at: &impl Fn(u32) -> Fingerprint) {
        let size = (self.slots.len() * 2).max(MIN_SLOTS);
        self.slots = vec![EMPTY; size];
        self.position_bits = size.trailing_zeros();
        let mask = size - 1;
        // The tags are one bit shorter now: each is rebuilt from the fingerprint. The
        // positions stored are 0 to len - 1, so the fingerprints are read in log order,
        // a sequential scan, instead of in the old slots' (random) order.
        for pos in 0..self.len as u32 {
            let fp = fp_at(pos);
            let mut i = fp as usize & mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = self.slot(fp, pos);
        }
    }
}

/// The low `bits` bits set (all 32 when `bits` is 32 or more).
#[inline]
fn low_bits(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

/// The tag of `fp` in an index whose positions take `position_bits` bits: the
/// fingerprint's bits `position_bits` to 31, above those that chose its slot (and
/// below those that chose its owner), in the slot's bits above the position.
#[inline]
fn tag(fp: Fingerprint, position_bits: u32) -> u32 {
    (fp as u32) & !low_bits(position_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_position_across_growth_and_clears() {
        let fps: Vec<u64> = (0..10_000u64)
            .map(|i| checker_core::fingerprint(&i.to_le_bytes()))
            .collect();
        let at = |p: u32| fps[p as usize];
        let mut index = LevelIndex::new();
        for (pos, &fp) in fps.iter().enumerate() {
            index.insert(fp, pos as u32, at);
        }
        assert_eq!(index.len(), 10_000);
        for (pos, &fp) in fps.iter().enumerate() {
            assert_eq!(index.find(fp, at), Some(pos as u32));
        }
        assert_eq!(index.find(12345, at), None);
        assert!(index.memory_bytes() <= 16_384 * 4);
        // 16,384 slots: 14 bits of position, 18 of tag.
        assert_eq!(index.position_bits, 14);
        index.clear();
        assert!(index.is_empty());
        assert_eq!(index.find(fps[7], at), None);
    }

    #[test]
    fn a_search_reads_only_entries_whose_tag_matches() {
        // Fingerprints with equal low bits (one probe run) and distinct tags.
        let fps: Vec<u64> = (0..500u64).map(|i| (i + 1) << 16 | 0x1234).collect();
        let reads = std::cell::Cell::new(0);
        let at = |p: u32| {
            reads.set(reads.get() + 1);
            fps[p as usize]
        };
        let mut index = LevelIndex::new();
        for (pos, &fp) in fps.iter().enumerate() {
            index.insert(fp, pos as u32, at);
        }
        for (pos, &fp) in fps.iter().enumerate() {
            reads.set(0);
            assert_eq!(index.find(fp, at), Some(pos as u32));
            assert_eq!(reads.get(), 1, "log entries read to find position {pos}");
        }
        reads.set(0);
        assert_eq!(index.find(0x1234, at), None);
        assert_eq!(reads.get(), 0);
        // Same tag and slot, other top bits: the tag matches, the log entry decides.
        let twin = fps[2] | (1 << 40);
        reads.set(0);
        assert_eq!(index.find(twin, at), None);
        assert_eq!(reads.get(), 1);
    }

    #[test]
    fn a_candidate_is_the_first_tag_match_and_reads_no_log_entry() {
        // Two fingerprints in one probe run with the same tag: the first one stored
        // comes first in the run, so it is the other's candidate too, and only the
        // log entry tells them apart.
        let first = (3u64 << 16) | 0x1234;
        let twin = first | (1 << 40);
        let other = (9u64 << 16) | 0x1234;
        let fps = [first, other, twin];
        let at = |p: u32| fps[p as usize];
        let mut index = LevelIndex::new();
        assert_eq!(index.candidate(first), None);
        for (pos, &fp) in fps.iter().enumerate() {
            index.insert(fp, pos as u32, at);
        }
        assert_eq!(index.candidate(first), Some(0));
        assert_eq!(index.candidate(other), Some(1));
        assert_eq!(index.candidate(twin), Some(0));
        assert_eq!(index.find(twin, at), Some(2));
        assert_eq!(index.candidate((5u64 << 16) | 0x1234), None);
    }

    /// One worker's states share the top bits that chose it as their owner (7 of them
    /// at 128 workers): the tags must come from other bits, or a search for a state
    /// the level does not hold would find a false candidate, and read a log entry for
    /// it, about 128 times as often.
    #[test]
    fn the_tags_of_one_workers_states_tell_them_apart() {
        let workers = 128;
        let owned = |i: u64| {
            let fp = checker_core::fingerprint(&i.to_le_bytes()) >> 7 | 1;
            assert_eq!(crate::partition::owner_of(fp, workers), 0);
            fp
        };
        let fps: Vec<u64> = (0..100_000).map(owned).collect();
        let at = |p: u32| fps[p as usize];
        let mut index = LevelIndex::new();
        for (pos, &fp) in fps.iter().enumerate() {
            index.insert(fp, pos as u32, at);
        }
        let false_candidates = (100_000..200_000)
            .filter(|&i| index.candidate(owned(i)).is_some())
            .count();
        // About 100,000 searches x 1.8 slots probed / 2^14 tags: 11 expected; a tag of
        // the top bits, with 7 of its 14 bits the same in every slot, had 851.
        assert!(
            false_candidates < 100,
            "{false_candidates} false candidates"
        );
    }
}
