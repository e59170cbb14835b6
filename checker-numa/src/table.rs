//! The visited set of one partition: fingerprints only, open addressing with linear
//! probing over a power-of-two array of `u64` slots (zero marks an empty slot, which
//! fingerprints never are). Eight bytes a slot at a load of at most 80% is about ten
//! bytes per stored state. Only its owning worker ever touches it.

use checker_core::Fingerprint;

/// Largest load factor before the table doubles, as a fraction `NUM / DEN`.
const MAX_LOAD_NUM: usize = 4;
const MAX_LOAD_DEN: usize = 5;

/// A set of fingerprints.
#[derive(Debug)]
pub struct FingerprintSet {
    slots: Vec<u64>,
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

    /// Bytes of memory held by the slot array.
    pub fn memory_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<u64>()
    }

    /// Inserts `fp`; returns whether it was new.
    #[inline]
    pub fn insert(&mut self, fp: Fingerprint) -> bool {
        debug_assert_ne!(fp, 0, "zero is the empty-slot marker");
        let mut i = fp as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == fp {
                return false;
            }
            if slot == 0 {
                self.slots[i] = fp;
                self.len += 1;
                if self.len > self.grow_at {
                    self.grow();
                }
                return true;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Whether `fp` is stored.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        let mut i = fp as usize & self.mask;
        loop {
            match self.slots[i] {
                0 => return false,
                s if s == fp => return true,
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    /// The stored fingerprints, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        self.slots.iter().copied().filter(|&s| s != 0)
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, FingerprintSet::with_slots(self.slots.len() * 2));
        for fp in old.slots.into_iter().filter(|&s| s != 0) {
            self.insert_new(fp);
        }
    }

    /// Inserts a fingerprint known to be absent, with room guaranteed.
    fn insert_new(&mut self, fp: Fingerprint) {
        let mut i = fp as usize & self.mask;
        while self.slots[i] != 0 {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = fp;
        self.len += 1;
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
        // 100,000 states at most 80% load: 131,072 slots of 8 bytes.
        assert_eq!(t.memory_bytes(), 131_072 * 8);
        assert_eq!(t.iter().count(), 100_000);
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
