//! The visited set of one partition: fingerprints only, open addressing with linear
//! probing over a power-of-two array of `u64` slots (zero marks an empty slot, which
//! fingerprints never are). Eight bytes a slot at a load of at most 80% is about ten
//! bytes per stored state. Only its owning worker ever touches it.
//!
//! A bit per slot marks the fingerprints stored during the current BFS level, so that
//! a duplicate of an older state (the common case) is told apart from a duplicate of a
//! state of this level with one probe and one bit test. Only the latter can change a
//! state's recorded parent. The marks cost an eighth of a byte per slot.

use checker_core::Fingerprint;

/// Largest load factor before the table doubles, as a fraction `NUM / DEN`.
const MAX_LOAD_NUM: usize = 4;
const MAX_LOAD_DEN: usize = 5;

/// The result of [`FingerprintSet::insert_marked`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// The fingerprint was not stored; now it is, marked as this level's.
    New,
    /// Stored in an earlier level.
    Old,
    /// Stored earlier in this level.
    ThisLevel,
}

/// A set of fingerprints.
#[derive(Debug)]
pub struct FingerprintSet {
    slots: Vec<u64>,
    /// One bit per slot: stored during the current level.
    marks: Vec<u64>,
    /// Slots marked, so that clearing costs only as much as the level.
    marked: Vec<usize>,
    mask: usize,
    len: usize,
    grow_at: usize,
}

impl FingerprintSet {
    /// A set that holds `expected` fingerprints before it first grows.
    pub fn with_capacity(expected: usize) -> Self {
        let slots = (expected.max(16) * MAX_LOAD_DEN / MAX_LOAD_NUM + 1).next_power_of_two();
        Self::with_slots(slots)
    }

    /// A set of exactly `slots` slots (a power of two).
    fn with_slots(slots: usize) -> Self {
        debug_assert!(slots.is_power_of_two());
        FingerprintSet {
            slots: vec![0; slots],
            marks: vec![0; slots.div_ceil(64)],
            marked: Vec::new(),
            mask: slots - 1,
            len: 0,
            grow_at: slots / MAX_LOAD_DEN * MAX_LOAD_NUM,
        }
    }

    /// Number of fingerprints stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory held by the slot array and the marks.
    pub fn memory_bytes(&self) -> usize {
        (self.slots.len() + self.marks.len()) * std::mem::size_of::<u64>()
    }

    /// Finds `fp`'s slot, or the empty slot where it belongs.
    #[inline]
    fn probe(&self, fp: Fingerprint) -> (usize, bool) {
        debug_assert_ne!(fp, 0, "zero is the empty-slot marker");
        debug_assert_eq!(self.slots.len(), self.mask + 1);
        let mut i = fp as usize & self.mask;
        loop {
            // SAFETY: `i` is always masked by `self.mask`, and `slots.len()` is
            // `mask + 1` (set together in `with_slots`, never changed apart), so
            // `i < slots.len()`. This is the hottest load of the checker; the bounds
            // check it saves is measurable (callgrind, twophase 7).
            let slot = unsafe { *self.slots.get_unchecked(i) };
            if slot == fp {
                return (i, true);
            }
            if slot == 0 {
                return (i, false);
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn is_marked(&self, slot: usize) -> bool {
        debug_assert!(slot < self.slots.len());
        // SAFETY: `slot` comes from `probe`, so `slot < slots.len()`, and `marks` has
        // `slots.len().div_ceil(64)` words (set together in `with_slots`), so
        // `slot / 64 < marks.len()`.
        let word = unsafe { *self.marks.get_unchecked(slot / 64) };
        word & (1 << (slot % 64)) != 0
    }

    #[inline]
    fn mark(&mut self, slot: usize) {
        self.marks[slot / 64] |= 1 << (slot % 64);
        self.marked.push(slot);
    }

    /// Inserts `fp` without marking it; returns whether it was new.
    #[inline]
    pub fn insert(&mut self, fp: Fingerprint) -> bool {
        let (i, found) = self.probe(fp);
        if found {
            return false;
        }
        self.slots[i] = fp;
        self.len += 1;
        if self.len > self.grow_at {
            self.grow();
        }
        true
    }

    /// Inserts `fp`, marking it as stored in the current level, and says whether it was
    /// new, stored in an earlier level, or stored earlier in this level.
    #[inline]
    pub fn insert_marked(&mut self, fp: Fingerprint) -> Insert {
        let (i, found) = self.probe(fp);
        if found {
            return if self.is_marked(i) {
                Insert::ThisLevel
            } else {
                Insert::Old
            };
        }
        self.slots[i] = fp;
        self.mark(i);
        self.len += 1;
        if self.len > self.grow_at {
            self.grow();
        }
        Insert::New
    }

    /// Marks a stored fingerprint as stored in the current level (when a level
    /// interrupted part-way is resumed). Returns whether `fp` is stored.
    pub fn mark_present(&mut self, fp: Fingerprint) -> bool {
        let (i, found) = self.probe(fp);
        if found && !self.is_marked(i) {
            self.mark(i);
        }
        found
    }

    /// Ends the level: no fingerprint is marked any more.
    pub fn clear_marks(&mut self) {
        for slot in std::mem::take(&mut self.marked) {
            self.marks[slot / 64] = 0;
        }
    }

    /// Whether `fp` is stored.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        self.probe(fp).1
    }

    /// The stored fingerprints, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        self.slots.iter().copied().filter(|&s| s != 0)
    }

    fn grow(&mut self) {
        let mut bigger = FingerprintSet::with_slots(self.slots.len() * 2);
        bigger.marked.reserve(self.marked.len());
        for (i, &fp) in self.slots.iter().enumerate() {
            if fp != 0 {
                let (j, _) = bigger.probe(fp);
                bigger.slots[j] = fp;
                if self.is_marked(i) {
                    bigger.mark(j);
                }
            }
        }
        bigger.len = self.len;
        *self = bigger;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn grows_and_keeps_everything() {
        let mut t = FingerprintSet::with_capacity(1);
        for i in 1..=100_000u64 {
            assert!(t.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1));
        }
        assert_eq!(t.len(), 100_000);
        for i in 1..=100_000u64 {
            assert!(!t.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1));
        }
        // 100,000 states at most 80% load: 131,072 slots of 8 bytes, plus a bit each.
        assert_eq!(t.memory_bytes(), 131_072 * 8 + 131_072 / 8);
        assert_eq!(t.iter().count(), 100_000);
    }

    #[test]
    fn marks_tell_this_level_from_older_ones_across_growth() {
        let mut t = FingerprintSet::with_capacity(16);
        let key = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        for i in 0..10 {
            assert_eq!(t.insert_marked(key(i)), Insert::New);
        }
        t.clear_marks();
        // This level's inserts force several doublings.
        for i in 10..1000 {
            assert_eq!(t.insert_marked(key(i)), Insert::New);
        }
        for i in 0..10 {
            assert_eq!(t.insert_marked(key(i)), Insert::Old);
        }
        for i in 10..1000 {
            assert_eq!(t.insert_marked(key(i)), Insert::ThisLevel);
        }
        t.clear_marks();
        assert_eq!(t.insert_marked(key(500)), Insert::Old);
        assert!(t.insert(key(5000)));
        assert_eq!(t.insert_marked(key(5000)), Insert::Old);
        assert_eq!(t.len(), 1001);
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_set(keys in proptest::collection::vec(1u64..5000, 0..2000)) {
            let mut t = FingerprintSet::with_capacity(4);
            let mut reference = HashSet::new();
            for k in keys {
                prop_assert_eq!(t.insert(k), reference.insert(k));
                prop_assert!(t.contains(k));
            }
            prop_assert_eq!(t.len(), reference.len());
            prop_assert!(!t.contains(6000));
        }
    }
}
