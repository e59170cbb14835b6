//! Finds a state of the level being built by fingerprint, to update its parent when a
//! later duplicate offers one with a lower fingerprint.
//!
//! A slot holds a position (`u32`) and a tag (the fingerprint's high 32 bits) in an
//! open-addressing array probed by the fingerprint's low bits. The fingerprints
//! themselves are already in the level's parent-log entries, in position order, and are
//! read from there to confirm a match, but only where the tag matches: a search reads
//! one log entry, the one it finds, instead of one for every slot of the probe run
//! (each a cache miss). `twophase 9` looks up 67 million states this way. Eight bytes
//! a slot instead of a map's twenty keeps the per-level overhead small. Only the
//! owning worker touches it.

use checker_core::Fingerprint;

use crate::hints::prefetch_read;

/// An empty slot (position `u32::MAX` is never used).
const EMPTY: u64 = u64::MAX;

/// The slot for position `pos` of fingerprint `fp`.
#[inline]
fn slot(fp: Fingerprint, pos: u32) -> u64 {
    (fp & !0xffff_ffff) | u64::from(pos)
}

/// Whether `slot` may hold `fp` (its tag matches).
#[inline]
fn tag_matches(slot: u64, fp: Fingerprint) -> bool {
    (slot ^ fp) >> 32 == 0
}

/// Position by fingerprint for one level's new states.
#[derive(Debug, Default)]
pub struct LevelIndex {
    slots: Vec<u64>,
    len: usize,
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
        self.slots.capacity() * 8
    }

    /// Forgets every position, keeping the allocation unless it is far larger than the
    /// level just ended needed.
    pub fn clear(&mut self) {
        if self.slots.len() > 4 * (self.len * 2).next_power_of_two().max(1024) {
            self.slots = Vec::new();
        } else {
            self.slots.fill(EMPTY);
        }
        self.len = 0;
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Records that the state with fingerprint `fp` is at `pos`. `fp` must not be in
    /// the index yet; `fp_at(p)` gives the fingerprint at position `p` (for rehashing).
    #[inline]
    pub fn insert(&mut self, fp: Fingerprint, pos: u32, fp_at: impl Fn(u32) -> Fingerprint) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow(&fp_at);
        }
        let mask = self.mask();
        let mut i = fp as usize & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot(fp, pos);
        self.len += 1;
    }

    /// Starts loading the slot where a search for `fp` begins.
    #[inline(always)]
    pub fn prefetch(&self, fp: Fingerprint) {
        if !self.slots.is_empty() {
            prefetch_read(self.slots.as_ptr().wrapping_add(fp as usize & self.mask()));
        }
    }

    /// The position of fingerprint `fp`, if this level stored it.
    #[inline]
    pub fn find(&self, fp: Fingerprint, fp_at: impl Fn(u32) -> Fingerprint) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = fp as usize & mask;
        loop {
            match self.slots[i] {
                EMPTY => return None,
                s if tag_matches(s, fp) && fp_at(s as u32) == fp => return Some(s as u32),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self, fp_at: &impl Fn(u32) -> Fingerprint) {
        let size = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let mask = size - 1;
        for s in old.into_iter().filter(|&s| s != EMPTY) {
            let fp = fp_at(s as u32);
            let mut i = fp as usize & mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
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
        assert!(index.memory_bytes() <= 16_384 * 8);
        index.clear();
        assert!(index.is_empty());
        assert_eq!(index.find(fps[7], at), None);
    }

    #[test]
    fn a_search_reads_only_entries_whose_tag_matches() {
        // Fingerprints with equal low bits (one probe run) and distinct high bits.
        let fps: Vec<u64> = (0..500u64).map(|i| (i + 1) << 40 | 0x1234).collect();
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
        // Same high bits, other low bits: the tag matches, the log entry decides.
        let twin = (3 << 40) | 0x1234 | (1 << 20);
        assert_eq!(index.find(twin, at), None);
    }
}
