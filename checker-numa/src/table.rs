//! The visited set of one partition: fingerprints only. Only its owning worker ever
//! touches it.
//!
//! It is split into [`SEGMENTS`] independent segments chosen by the fingerprint's low
//! bits, so that growing doubles one segment at a time: the moment of growth costs a
//! sixteenth of the table in extra memory, not the whole old table beside the new one.
//!
//! Each segment is a power-of-two open-addressing table with Robin Hood linear probing
//! whose slots are bit-packed (a quotient table, as in Cleary's compact hashing): a
//! fingerprint's next bits choose its home slot, so the slot stores only the rest of
//! the fingerprint and its distance from home (one byte); the full fingerprint is
//! rebuilt from both. With 2^19 slots a segment (2^23 in all) that is 49 bits a slot
//! instead of 64: with the mark bit, 7.8 bytes per stored state at the 80% load at
//! which a segment doubles, 15.6 just after, and 10.1 at the 62% where `twophase 9`
//! ends. A worker's table ([`FingerprintSet::for_owner`]) also leaves out the top
//! bits that all its worker's fingerprints share (floor(log2(workers)) of them): it
//! stores each fingerprint's offset from the first of its owner's range. Robin Hood
//! ordering keeps distances short and lets a search for an absent fingerprint stop
//! early.
//!
//! A bit per slot marks the fingerprints stored during the current BFS level, so that
//! a duplicate of an older state (the common case) is told apart from a duplicate of
//! a state of this level by the same probe. Only the latter can change a state's
//! recorded parent. Marks move with their entries and cost an eighth of a byte a slot.
//! Each segment notes the words of marks a level sets, while they are few, so that the
//! level's end clears just those words: a level of a few states (a long chain, the
//! tail of a search) would otherwise clear every mark word of each segment it touched.
//!
//! A segment's pages are faulted in all at once before its first insert, and when it
//! is grown (`Segment::populate`), not one by one as entries land on them.
//!
//! Hand-written rather than `hashbrown`: the point is the packed slot (a general map
//! spends 8 bytes of key, plus control bytes, per entry).

use checker_core::Fingerprint;

use crate::hints::{populate, prefetch_read};

/// Number of segments; a power of two.
pub const SEGMENTS: usize = 16;
const SEGMENT_BITS: u32 = SEGMENTS.trailing_zeros();

/// Largest load factor before a segment doubles, as a fraction `NUM / DEN`.
const MAX_LOAD_NUM: usize = 4;
const MAX_LOAD_DEN: usize = 5;

/// Bits of a slot that hold the distance from home plus one (zero: empty slot).
const DISTANCE_BITS: u32 = 8;
const DISTANCE_MASK: u64 = (1 << DISTANCE_BITS) - 1;
/// Largest distance from home a slot can record; past it the segment doubles.
const MAX_DISTANCE: u64 = DISTANCE_MASK - 1;

/// Smallest segment, in address bits (2,048 slots): small enough for a tiny partition
/// (16 segments of 7 bytes a slot is 224 KiB, mostly never touched), large enough that
/// a slot (the fingerprint less its segment and home bits, plus the distance) fits in
/// one unaligned 8-byte access.
const MIN_SEGMENT_BITS: u32 = 11;
const _: () = assert!(64 - SEGMENT_BITS - MIN_SEGMENT_BITS + DISTANCE_BITS <= SINGLE_ACCESS_WIDTH);

/// What [`FingerprintSet::mark_if_stored`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marking {
    /// The fingerprint is not stored (nothing changed).
    NotStored,
    /// Stored and not yet marked; now it is.
    Marked,
    /// Stored and already marked in this level.
    AlreadyMarked,
}

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

/// An array of `width`-bit fields packed into `u64` words, with one spare word at the
/// end so that every field can be read as one unaligned `u64`.
#[derive(Debug)]
struct PackedSlots {
    words: Vec<u64>,
    /// Number of fields.
    len: usize,
    /// `len * width`: the bit where the fields end.
    end_bit: usize,
    width: usize,
    field_mask: u64,
}

/// Widest field that one unaligned 8-byte access always covers.
const SINGLE_ACCESS_WIDTH: u32 = 57;

impl PackedSlots {
    fn new(slots: usize, width: u32) -> Self {
        assert!((1..=SINGLE_ACCESS_WIDTH).contains(&width));
        let words = (slots * width as usize).div_ceil(64) + 1;
        PackedSlots {
            words: vec![0; words],
            len: slots,
            end_bit: slots * width as usize,
            width: width as usize,
            field_mask: (1 << width) - 1,
        }
    }

    /// The field that starts at bit `bit`, which must be `i * width` for some `i < len`.
    #[inline(always)]
    fn get_at(&self, bit: usize) -> u64 {
        assert!(bit < self.end_bit);
        // SAFETY: `bit` starts a field `i < len`, so the field ends at or before bit
        // `len * width <= 64 * (words.len() - 1)`; the 8 bytes read from byte `bit / 8`
        // therefore end inside the spare last word. `read_unaligned` has no alignment
        // requirement, and `u64` has no invalid bit patterns.
        let word = unsafe {
            self.words
                .as_ptr()
                .cast::<u8>()
                .add(bit / 8)
                .cast::<u64>()
                .read_unaligned()
        };
        // `bit % 8 + width <= 7 + 57`: the whole field is in `word`.
        (u64::from_le(word) >> (bit % 8)) & self.field_mask
    }

    #[inline]
    fn get(&self, i: usize) -> u64 {
        self.get_at(i * self.width)
    }

    #[inline]
    fn set(&mut self, i: usize, value: u64) {
        assert!(i < self.len);
        debug_assert_eq!(value & !self.field_mask, 0);
        let bit = i * self.width;
        // SAFETY: as in `get_at`, the 8 bytes from byte `bit / 8` lie inside `words`,
        // which this `&mut self` borrows exclusively.
        unsafe {
            let at = self
                .words
                .as_mut_ptr()
                .cast::<u8>()
                .add(bit / 8)
                .cast::<u64>();
            let shift = bit % 8;
            let mut word = u64::from_le(at.read_unaligned());
            word &= !(self.field_mask << shift);
            word |= value << shift;
            at.write_unaligned(word.to_le());
        }
    }

    fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// Faults in all the pages at once, for fields about to be written all over.
    fn populate(&self) {
        populate(self.words.as_ptr(), self.bytes());
    }
}

/// One segment: `2^bits` packed slots and their marks.
#[derive(Debug)]
struct Segment {
    slots: PackedSlots,
    /// One bit per slot: stored during the current level.
    marks: Vec<u64>,
    /// The words of `marks` that a mark was set in since the marks were last cleared,
    /// while they fit its capacity (which never grows: a level's inserts allocate
    /// nothing); past that, `many_marked`.
    marked_words: Vec<usize>,
    /// More words were marked than `marked_words` holds: clearing fills them all.
    many_marked: bool,
    bits: u32,
    /// Significant bits of a key (the fingerprint less its segment bits and the
    /// owner's bits, see [`FingerprintSet::for_owner`]): a slot stores the
    /// `key_bits - bits` above the home slot's.
    key_bits: u32,
    mask: usize,
    len: usize,
    grow_at: usize,
    /// Whether all the pages of the slots and the marks have been faulted in
    /// ([`Segment::populate`]).
    populated: bool,
}

/// How many marked words a segment with `words` words of marks notes before it
/// clears all of them instead: zeroing a noted word is a random write, a fill streams,
/// so noting pays while the words are under about one in 64.
fn tracked_mark_words(words: usize) -> usize {
    (words / 64).max(8)
}

/// Where a search ended.
enum Probe {
    /// Stored at this slot.
    Found(usize),
    /// Absent; it belongs at this slot, this far from home.
    Absent(usize, u64),
}

impl Segment {
    fn with_bits(bits: u32, key_bits: u32) -> Self {
        let slots = 1usize << bits;
        Segment {
            slots: PackedSlots::new(slots, key_bits - bits + DISTANCE_BITS),
            marks: vec![0; slots.div_ceil(64)],
            marked_words: Vec::with_capacity(tracked_mark_words(slots.div_ceil(64))),
            many_marked: false,
            bits,
            key_bits,
            mask: slots - 1,
            len: 0,
            grow_at: slots / MAX_LOAD_DEN * MAX_LOAD_NUM,
            populated: false,
        }
    }

    /// Faults in all the pages of the slots and the marks, one call each.
    ///
    /// Done before a segment's first insert looks it up (and for every grown segment,
    /// which is refilled at once). Left to themselves, the pages would be faulted in one by
    /// one as entries land on them at random, each twice: a lookup's read maps the
    /// shared zero page, and the store that follows replaces it with a page of its
    /// own. The kernel must then flush the old mapping from every CPU running one of
    /// the process's threads, an interrupt to each other worker: 2,034 such
    /// shootdowns in a 2-worker `grid 8 7`, 232 with this (docs/benchmarks.md). A
    /// segment that never gets an entry (a small model at many workers) keeps its
    /// pages untouched.
    #[cold]
    #[inline(never)]
    fn populate(&mut self) {
        self.slots.populate();
        populate(self.marks.as_ptr(), self.marks.len() * 8);
        self.populated = true;
    }

    fn memory_bytes(&self) -> usize {
        self.slots.bytes() + self.marks.len() * 8 + self.marked_words.capacity() * 8
    }

    /// `key` is the fingerprint without its segment bits.
    #[inline(always)]
    fn probe(&self, key: u64) -> Probe {
        let width = self.slots.width;
        let end = self.slots.end_bit;
        let mut i = key as usize & self.mask;
        let mut bit = i * width;
        // The slot `key` would fill at the current distance: rest of the key, then
        // distance plus one.
        let mut wanted = ((key >> self.bits) << DISTANCE_BITS) | 1;
        loop {
            let slot = self.slots.get_at(bit);
            if slot == wanted {
                return Probe::Found(i);
            }
            // Empty (distance field 0), or a resident nearer its home than `key` would
            // be here: Robin Hood order says `key` is absent and belongs here.
            if slot & DISTANCE_MASK < wanted & DISTANCE_MASK {
                return Probe::Absent(i, (wanted & DISTANCE_MASK) - 1);
            }
            i = (i + 1) & self.mask;
            if wanted & DISTANCE_MASK == DISTANCE_MASK {
                // No slot records a larger distance, so nothing farther can match;
                // `place` refuses the distance and the segment grows.
                return Probe::Absent(i, MAX_DISTANCE + 1);
            }
            bit += width;
            if bit == end {
                bit = 0;
            }
            wanted += 1;
        }
    }

    /// The key whose stored rest is `rest`, found at slot `i`, `distance` from home.
    fn key_from(&self, i: usize, distance: u64, rest: u64) -> u64 {
        let home = (i as u64).wrapping_sub(distance) & self.mask as u64;
        (rest << self.bits) | home
    }

    /// The key stored in a non-empty slot `i`.
    fn key_at(&self, i: usize, slot: u64) -> u64 {
        self.key_from(i, (slot & DISTANCE_MASK) - 1, slot >> DISTANCE_BITS)
    }

    #[inline]
    fn is_marked(&self, i: usize) -> bool {
        self.marks[i / 64] & (1 << (i % 64)) != 0
    }

    /// Sets slot `i`'s mark to `marked` and returns the mark it had.
    #[inline(always)]
    fn swap_mark(&mut self, i: usize, marked: bool) -> bool {
        let (w, bit) = (i / 64, i % 64);
        let word = &mut self.marks[w];
        let old = *word;
        *word = (old & !(1 << bit)) | (u64::from(marked) << bit);
        if marked && old == 0 && !self.many_marked {
            self.note_marked_word(w);
        }
        (old >> bit) & 1 != 0
    }

    /// Notes that word `w` of the marks, clear until now, holds a mark. Out of line:
    /// a wide level stops noting early (`many_marked`), a narrow one notes rarely.
    #[inline(never)]
    fn note_marked_word(&mut self, w: usize) {
        if self.marked_words.len() < self.marked_words.capacity() {
            self.marked_words.push(w);
        } else {
            self.many_marked = true;
        }
    }

    /// Clears every mark: the words noted, or all of them when too many were.
    fn clear_marks(&mut self) {
        if self.many_marked {
            self.marks.fill(0);
        } else {
            for &w in &self.marked_words {
                self.marks[w] = 0;
            }
        }
        self.marked_words.clear();
        self.many_marked = false;
    }

    /// Marks slot `i` as stored in the current level.
    fn mark(&mut self, i: usize) {
        self.swap_mark(i, true);
    }

    /// Stores `key`, absent and due at slot `i`, `distance` from home. Robin Hood
    /// order keeps a run sorted by home, and `i` is where `key` belongs in that order,
    /// so every resident from `i` to the run's end moves one slot on (one farther from
    /// home) and `key` takes slot `i`. If a moved resident would end up farther from
    /// home than a slot can record, it is left out and returned with its mark, every
    /// other entry (`key` included) staying in place; if `key` itself would, nothing
    /// moves and `key` is returned. Either way the caller grows the segment with the
    /// entry returned.
    fn place(
        &mut self,
        key: u64,
        mut i: usize,
        distance: u64,
        marked: bool,
    ) -> Result<(), (u64, bool)> {
        if distance > MAX_DISTANCE {
            return Err((self.key_from(i, distance, key >> self.bits), marked));
        }
        let mut carried = ((key >> self.bits) << DISTANCE_BITS) | (distance + 1);
        let mut carried_mark = marked;
        loop {
            let slot = self.slots.get(i);
            self.slots.set(i, carried);
            let resident_mark = self.swap_mark(i, carried_mark);
            if slot == 0 {
                break;
            }
            if slot & DISTANCE_MASK == DISTANCE_MASK {
                // The resident records the largest distance: it cannot move on. It
                // leaves the segment as `key` enters, so the count stays.
                let resident = self.key_from(i, MAX_DISTANCE, slot >> DISTANCE_BITS);
                return Err((resident, resident_mark));
            }
            // One slot on: the same rest, one more step from home.
            carried = slot + 1;
            carried_mark = resident_mark;
            i = (i + 1) & self.mask;
        }
        self.len += 1;
        Ok(())
    }

    /// Every stored key with its mark, in slot order.
    fn entries(&self) -> impl Iterator<Item = (u64, bool)> + '_ {
        (0..=self.mask).filter_map(move |i| {
            let slot = self.slots.get(i);
            (slot != 0).then(|| (self.key_at(i, slot), self.is_marked(i)))
        })
    }

    /// This segment doubled (more than doubled if some entry does not fit), holding
    /// the same keys and marks plus `extra`.
    fn grown(&self, extra: (u64, bool)) -> Segment {
        let mut bits = self.bits + 1;
        'retry: loop {
            let mut bigger = Segment::with_bits(bits, self.key_bits);
            bigger.populate();
            for (key, marked) in self.entries().chain(std::iter::once(extra)) {
                let Probe::Absent(i, d) = bigger.probe(key) else {
                    unreachable!("keys of a set are distinct")
                };
                if bigger.place(key, i, d, marked).is_err() {
                    bits += 1;
                    continue 'retry;
                }
            }
            return bigger;
        }
    }
}

/// A set of fingerprints.
#[derive(Debug)]
pub struct FingerprintSet {
    segments: Vec<Segment>,
    /// The lowest fingerprint the set may hold: its owner's first (0 for any).
    first: u64,
    /// The bits of `fp - first` that are zero for every `fp` the set may hold.
    outside: u64,
}

impl FingerprintSet {
    /// A set of any fingerprints that holds `expected` of them before it first grows.
    pub fn with_capacity(expected: usize) -> Self {
        Self::for_range(0, 64, expected)
    }

    /// A set of the fingerprints worker `worker` of `workers` owns
    /// ([`owner_of`](crate::partition::owner_of)), holding `expected` of them before
    /// it first grows. Their top 32 bits lie in one range of at most `2^32 / workers`
    /// values (rounded up), so each is stored as its offset from the range's start:
    /// floor(log2(`workers`)) bits fewer than a fingerprint per slot (7 of about 50 at
    /// 128 workers, 4 at 16). Only those fingerprints may be inserted.
    ///
    /// # Panics
    ///
    /// If `worker >= workers`.
    pub fn for_owner(worker: usize, workers: usize, expected: usize) -> Self {
        assert!(worker < workers, "worker {worker} of {workers}");
        // owner_of(fp) = floor(hi * workers / 2^32) for hi = fp >> 32, so `worker`'s
        // are the hi from ceil(worker * 2^32 / workers) up to the next worker's first,
        // at most ceil(2^32 / workers) <= 2^(32 - floor(log2(workers))) values.
        let first_hi = ((worker as u64) << 32).div_ceil(workers as u64);
        Self::for_range(first_hi << 32, 64 - workers.ilog2(), expected)
    }

    /// A set of the fingerprints from `first` up to `first + 2^span_bits` (exclusive).
    fn for_range(first: u64, span_bits: u32, expected: usize) -> Self {
        let per_segment = expected.div_ceil(SEGMENTS) * MAX_LOAD_DEN / MAX_LOAD_NUM + 1;
        let bits = per_segment
            .next_power_of_two()
            .trailing_zeros()
            .max(MIN_SEGMENT_BITS);
        let key_bits = span_bits - SEGMENT_BITS;
        FingerprintSet {
            segments: (0..SEGMENTS)
                .map(|_| Segment::with_bits(bits, key_bits))
                .collect(),
            first,
            outside: u64::MAX.checked_shl(span_bits).unwrap_or(0),
        }
    }

    /// Whether `fp` is one this set may hold (of its owner, see [`Self::for_owner`]).
    #[inline(always)]
    pub fn may_hold(&self, fp: Fingerprint) -> bool {
        fp.wrapping_sub(self.first) & self.outside == 0
    }

    /// Number of fingerprints stored.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|segment| segment.len).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of memory held by the slots and the marks.
    pub fn memory_bytes(&self) -> usize {
        self.segments.iter().map(Segment::memory_bytes).sum()
    }

    /// The segment of `fp` and its key there: its offset from `first` (which leaves
    /// the segment bits as they are, `first` being a multiple of 2^32) less the
    /// segment bits; `None` if the set may not hold `fp` (another worker's state: its
    /// key would not fit a slot).
    #[inline(always)]
    fn split_checked(&self, fp: Fingerprint) -> Option<(usize, u64)> {
        self.may_hold(fp).then(|| self.split_any(fp))
    }

    /// [`Self::split_checked`] for a fingerprint the set must be able to hold.
    ///
    /// # Panics
    ///
    /// If the set may not hold `fp`.
    #[inline(always)]
    fn split(&self, fp: Fingerprint) -> (usize, u64) {
        self.split_checked(fp)
            .unwrap_or_else(|| panic!("fingerprint {fp:#018x} is not one this table holds"))
    }

    /// [`Self::split_checked`] without the check: for a hint only (and once checked),
    /// as the key of a fingerprint the set may not hold has bits a slot cannot store
    /// (its home slot is in range).
    #[inline(always)]
    fn split_any(&self, fp: Fingerprint) -> (usize, u64) {
        let offset = fp.wrapping_sub(self.first);
        (offset as usize & (SEGMENTS - 1), offset >> SEGMENT_BITS)
    }

    /// Stores an absent `key` in segment `s` at the place `probe` found. Kept out of
    /// line so that the lookup path, which most successors take, stays small.
    #[inline(never)]
    fn add(&mut self, s: usize, key: u64, at: usize, distance: u64, marked: bool) {
        let segment = &mut self.segments[s];
        let left_out = if segment.len >= segment.grow_at {
            Some((key, marked))
        } else {
            segment.place(key, at, distance, marked).err()
        };
        if let Some(extra) = left_out {
            self.segments[s] = segment.grown(extra);
        }
    }

    /// Populates segment `s` unless it is already: before an insert's first lookup, so
    /// that the lookup does not map the zero page that the populating would then
    /// replace (one shootdown a segment, see `Segment::populate`).
    #[inline(always)]
    fn ensure_populated(&mut self, s: usize) {
        let segment = &mut self.segments[s];
        if !segment.populated {
            segment.populate();
        }
    }

    /// Starts loading the memory a lookup of `fp` reads first (its home slot and its
    /// mark), so that a lookup issued a little later does not wait for it.
    #[inline(always)]
    pub fn prefetch(&self, fp: Fingerprint) {
        let (s, key) = self.split_any(fp);
        let segment = &self.segments[s];
        let i = key as usize & segment.mask;
        let bit = i * segment.slots.width;
        prefetch_read(
            segment
                .slots
                .words
                .as_ptr()
                .cast::<u8>()
                .wrapping_add(bit / 8),
        );
        prefetch_read(segment.marks.as_ptr().wrapping_add(i / 64));
    }

    /// Inserts `fp` without marking it; returns whether it was new.
    ///
    /// # Panics
    ///
    /// If the set may not hold `fp` ([`Self::may_hold`]).
    #[inline]
    pub fn insert(&mut self, fp: Fingerprint) -> bool {
        let (s, key) = self.split(fp);
        self.ensure_populated(s);
        match self.segments[s].probe(key) {
            Probe::Found(_) => false,
            Probe::Absent(i, d) => {
                self.add(s, key, i, d, false);
                true
            }
        }
    }

    /// Inserts `fp`, marking it as stored in the current level, and says whether it was
    /// new, stored in an earlier level, or stored earlier in this level.
    ///
    /// # Panics
    ///
    /// If the set may not hold `fp` ([`Self::may_hold`]).
    #[inline(always)]
    pub fn insert_marked(&mut self, fp: Fingerprint) -> Insert {
        let (s, key) = self.split(fp);
        self.ensure_populated(s);
        match self.segments[s].probe(key) {
            Probe::Found(i) if self.segments[s].is_marked(i) => Insert::ThisLevel,
            Probe::Found(_) => Insert::Old,
            Probe::Absent(i, d) => {
                self.add(s, key, i, d, true);
                Insert::New
            }
        }
    }

    /// Marks a stored fingerprint as stored in the current level (when a level
    /// interrupted part-way is resumed). Returns whether `fp` is stored.
    pub fn mark_present(&mut self, fp: Fingerprint) -> bool {
        let Some((s, key)) = self.split_checked(fp) else {
            return false;
        };
        self.ensure_populated(s);
        match self.segments[s].probe(key) {
            Probe::Found(i) => {
                self.segments[s].mark(i);
                true
            }
            Probe::Absent(..) => false,
        }
    }

    /// Marks `fp` as stored in the current level if it is stored, and says what it
    /// found, in one lookup: what [`contains`](Self::contains) and
    /// [`insert_marked`](Self::insert_marked) would tell together, without inserting.
    pub fn mark_if_stored(&mut self, fp: Fingerprint) -> Marking {
        let Some((s, key)) = self.split_checked(fp) else {
            return Marking::NotStored;
        };
        self.ensure_populated(s);
        match self.segments[s].probe(key) {
            Probe::Found(i) if self.segments[s].is_marked(i) => Marking::AlreadyMarked,
            Probe::Found(i) => {
                self.segments[s].mark(i);
                Marking::Marked
            }
            Probe::Absent(..) => Marking::NotStored,
        }
    }

    /// Ends the level: no fingerprint is marked any more.
    pub fn clear_marks(&mut self) {
        for segment in &mut self.segments {
            segment.clear_marks();
        }
    }

    /// Whether `fp` is stored.
    pub fn contains(&self, fp: Fingerprint) -> bool {
        let Some((s, key)) = self.split_checked(fp) else {
            return false;
        };
        matches!(self.segments[s].probe(key), Probe::Found(_))
    }

    /// The stored fingerprints, segment by segment in slot order.
    pub fn iter(&self) -> impl Iterator<Item = Fingerprint> + '_ {
        let first = self.first;
        self.segments
            .iter()
            .enumerate()
            .flat_map(move |(s, segment)| {
                segment
                    .entries()
                    .map(move |(key, _)| ((key << SEGMENT_BITS) | s as u64).wrapping_add(first))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn key(i: u64) -> u64 {
        checker_core::fingerprint(&i.to_le_bytes())
    }

    #[test]
    fn grows_and_keeps_everything() {
        let mut t = FingerprintSet::with_capacity(1);
        for i in 0..100_000u64 {
            assert!(t.insert(key(i)));
        }
        assert_eq!(t.len(), 100_000);
        for i in 0..100_000u64 {
            assert!(!t.insert(key(i)));
            assert!(t.contains(key(i)));
        }
        assert!(!t.contains(key(100_000)));
        let mut got: Vec<u64> = t.iter().collect();
        got.sort_unstable();
        let mut want: Vec<u64> = (0..100_000).map(key).collect();
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn slots_are_packed_below_ten_bytes_a_state() {
        // 100,000 fingerprints: 16 segments of 8,192 slots (76% load), each slot
        // 64 - 4 - 13 + 8 = 55 bits, plus a mark bit, plus room to note 8 of the 128
        // mark words.
        let mut t = FingerprintSet::with_capacity(1);
        for i in 0..100_000u64 {
            t.insert(key(i));
        }
        let per_segment = (8192 * 55usize).div_ceil(64) * 8 + 8 + 8192 / 8 + 8 * 8;
        assert_eq!(t.memory_bytes(), 16 * per_segment);
        assert!(t.memory_bytes() < 100_000 * 10, "{}", t.memory_bytes());
    }

    #[test]
    fn a_segment_is_populated_at_its_first_insert_only() {
        let mut t = FingerprintSet::with_capacity(50_000);
        let populated =
            |t: &FingerprintSet| -> Vec<bool> { t.segments.iter().map(|s| s.populated).collect() };
        assert_eq!(populated(&t), vec![false; SEGMENTS]);
        // The low bits choose the segment: 3 and 19 both go to segment 3.
        t.insert(3 | (7 << 20));
        t.insert(19 | (9 << 20));
        t.insert_marked(5 | (1 << 30));
        let expected: Vec<bool> = (0..SEGMENTS).map(|s| s == 3 || s == 5).collect();
        assert_eq!(populated(&t), expected);
        // A duplicate stores nothing, so it populates nothing.
        t.insert(3 | (7 << 20));
        assert_eq!(populated(&t), expected);
        // Grown segments are populated too.
        for i in 0..200_000u64 {
            t.insert(key(i));
        }
        assert_eq!(populated(&t), vec![true; SEGMENTS]);
        assert_eq!(t.len(), 200_003);
    }

    #[test]
    fn presized_table_does_not_grow() {
        let mut t = FingerprintSet::with_capacity(50_000);
        let before = t.memory_bytes();
        for i in 0..50_000u64 {
            t.insert(key(i));
        }
        assert_eq!(t.memory_bytes(), before);
    }

    #[test]
    fn marks_tell_this_level_from_older_ones_across_growth() {
        let mut t = FingerprintSet::with_capacity(16);
        for i in 0..10 {
            assert_eq!(t.insert_marked(key(i)), Insert::New);
        }
        t.clear_marks();
        // This level's inserts force several doublings and many Robin Hood shifts.
        for i in 10..5000 {
            assert_eq!(t.insert_marked(key(i)), Insert::New);
        }
        for i in 0..10 {
            assert_eq!(t.insert_marked(key(i)), Insert::Old);
        }
        for i in 10..5000 {
            assert_eq!(t.insert_marked(key(i)), Insert::ThisLevel);
        }
        t.clear_marks();
        assert_eq!(t.insert_marked(key(500)), Insert::Old);
        assert!(t.insert(key(9000)));
        assert_eq!(t.insert_marked(key(9000)), Insert::Old);
        assert!(t.mark_present(key(9000)));
        assert_eq!(t.insert_marked(key(9000)), Insert::ThisLevel);
        assert!(!t.mark_present(key(9001)));
        assert_eq!(t.len(), 5001);
    }

    /// Levels of a few states note the mark words they set and clear only those;
    /// larger ones clear every word. Either way no mark survives the level's end.
    #[test]
    fn a_level_of_few_states_clears_only_the_words_it_marked() {
        // Segments of 2^18 slots: 4,096 mark words each, 64 of them noted at most.
        let mut t = FingerprintSet::with_capacity(2_000_000);
        assert_eq!(t.segments[0].marked_words.capacity(), 64);
        let mut stored = Vec::new();
        for (level, size) in [1u64, 3, 63, 64, 65, 200, 5000, 1, 0, 2]
            .into_iter()
            .enumerate()
        {
            let new: Vec<u64> = (0..size).map(|i| key(level as u64 * 10_000 + i)).collect();
            for &k in &new {
                assert_eq!(t.insert_marked(k), Insert::New);
            }
            let overflowed = t.segments.iter().filter(|s| s.many_marked).count();
            // 5,000 states put about 312 in each segment: every one overflows.
            assert_eq!(overflowed > 0, size == 5000, "level {level}: {overflowed}");
            for &k in &stored {
                assert_eq!(t.insert_marked(k), Insert::Old);
            }
            for &k in &new {
                assert_eq!(t.insert_marked(k), Insert::ThisLevel);
            }
            t.clear_marks();
            for segment in &t.segments {
                assert!(segment.marks.iter().all(|&w| w == 0), "level {level}");
                assert!(segment.marked_words.is_empty() && !segment.many_marked);
            }
            stored.extend(new);
        }
        assert_eq!(t.len(), stored.len());
    }

    #[test]
    fn long_runs_past_the_recordable_distance_grow_the_segment() {
        // Keys sharing segment 0 and home slot 0 of a 16-slot segment pile up in one
        // run; the 256th would sit farther from home than a slot records.
        let mut t = FingerprintSet::with_capacity(1);
        let crowded = |i: u64| (i + 1) << (SEGMENT_BITS + 20);
        for i in 0..300 {
            assert!(t.insert(crowded(i)));
        }
        for i in 0..300 {
            assert!(t.contains(crowded(i)), "{i}");
        }
        assert_eq!(t.iter().count(), 300);
    }

    #[test]
    fn a_resident_pushed_past_the_recordable_distance_is_kept() {
        // 100 keys at home 10, then 300 at home 0 of segment 0: Robin Hood order puts
        // the home-0 keys first, so the home-10 residents are pushed along until one
        // would sit more than 254 slots from home; the segment then grows with it.
        let mut t = FingerprintSet::with_capacity(1);
        let at_home = |home: u64, j: u64| (home << SEGMENT_BITS) | ((j + 1) << (SEGMENT_BITS + 11));
        let keys: Vec<u64> = (0..100)
            .map(|j| at_home(10, j))
            .chain((0..300).map(|j| at_home(0, j + 1000)))
            .collect();
        for (n, &k) in keys.iter().enumerate() {
            assert_eq!(t.insert_marked(k), Insert::New);
            for &earlier in &keys[..=n] {
                assert!(t.contains(earlier), "{n}");
            }
        }
        for &k in &keys {
            assert_eq!(t.insert_marked(k), Insert::ThisLevel);
        }
        assert_eq!(t.len(), 400);
        assert_eq!(t.iter().count(), 400);
    }

    #[test]
    fn extreme_fingerprints_round_trip() {
        let mut t = FingerprintSet::with_capacity(1);
        for fp in [1, u64::MAX, u64::MAX - 1, 1 << 63, 0x8000_0000_0000_0001] {
            assert!(t.insert(fp));
            assert!(t.contains(fp));
        }
        let mut got: Vec<u64> = t.iter().collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![1, 1 << 63, 0x8000_0000_0000_0001, u64::MAX - 1, u64::MAX]
        );
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_set(keys in proptest::collection::vec(1u64..5000, 0..2000)) {
            let mut t = FingerprintSet::with_capacity(4);
            let mut reference = HashSet::new();
            for k in keys {
                let k = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                prop_assert_eq!(t.insert(k), reference.insert(k));
                prop_assert!(t.contains(k));
            }
            prop_assert_eq!(t.len(), reference.len());
            prop_assert!(!t.contains(6000));
            let mut got: Vec<u64> = t.iter().collect();
            got.sort_unstable();
            let mut want: Vec<u64> = reference.into_iter().collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
        }

        /// Many levels of a few keys each, some crowded onto neighbouring homes so
        /// that Robin Hood shifts carry marks across mark words, in segments that note
        /// the words they mark: after every level, exactly that level's keys are
        /// marked.
        #[test]
        fn noted_marks_clear_over_many_levels(
            levels in proptest::collection::vec(proptest::collection::vec((any::<u64>(), any::<bool>()), 0..40), 1..30)
        ) {
            let mut t = FingerprintSet::with_capacity(300_000);
            let mut seen = HashSet::new();
            let mut stored: Vec<u64> = Vec::new();
            for level in levels {
                // A crowded key shares segment 0 and a home of slots 62 to 65 (of 2^15)
                // with the others, so runs cross the mark words' boundary at slot 64.
                let new: Vec<u64> = level
                    .into_iter()
                    .map(|(k, crowded)| if crowded { ((k % 4 + 62) | (k << 15)) << SEGMENT_BITS } else { k })
                    .filter(|&k| k != 0 && seen.insert(k))
                    .collect();
                for &k in &new {
                    prop_assert_eq!(t.insert_marked(k), Insert::New);
                }
                for &k in &stored {
                    prop_assert_eq!(t.insert_marked(k), Insert::Old);
                }
                for &k in &new {
                    prop_assert_eq!(t.insert_marked(k), Insert::ThisLevel);
                }
                t.clear_marks();
                for segment in &t.segments {
                    prop_assert!(segment.marks.iter().all(|&w| w == 0));
                }
                stored.extend(new);
            }
        }

        #[test]
        fn marks_follow_their_entries(keys in proptest::collection::vec(any::<u64>(), 0..1500), split in 0usize..1500) {
            let mut t = FingerprintSet::with_capacity(4);
            let keys: Vec<u64> = keys.into_iter().filter(|&k| k != 0).collect::<HashSet<_>>().into_iter().collect();
            let split = split.min(keys.len());
            for &k in &keys[..split] {
                prop_assert_eq!(t.insert_marked(k), Insert::New);
            }
            t.clear_marks();
            for &k in &keys[split..] {
                prop_assert_eq!(t.insert_marked(k), Insert::New);
            }
            for &k in &keys[..split] {
                prop_assert_eq!(t.insert_marked(k), Insert::Old);
            }
            for &k in &keys[split..] {
                prop_assert_eq!(t.insert_marked(k), Insert::ThisLevel);
            }
        }

        /// A worker's table holds exactly what a table of any fingerprints would, for
        /// its own fingerprints, whatever the worker count: the ends of its range,
        /// keys crowded onto one home, growth and marks included.
        #[test]
        fn an_owners_table_behaves_like_a_hash_set_of_its_fingerprints(
            workers in prop_oneof![1usize..10, Just(16), Just(127), Just(128), Just(1000), Just(65_535)],
            worker_pick in any::<u64>(),
            keys in proptest::collection::vec((any::<u64>(), 0u8..4), 0..1500),
        ) {
            let worker = (worker_pick % workers as u64) as usize;
            let (first_hi, last_hi) = owner_range(worker, workers);
            let width = last_hi - first_hi + 1;
            let mut owned = FingerprintSet::for_owner(worker, workers, 4);
            let mut any = FingerprintSet::with_capacity(4);
            let mut reference = HashSet::new();
            for (k, kind) in keys {
                let hi = match kind {
                    0 => first_hi,
                    1 => last_hi,
                    _ => first_hi + (k >> 32) % width,
                };
                // Kind 3: the low bits of a crowded home.
                let lo = if kind == 3 { (k & 0x3) | 0x1230 } else { k & 0xffff_ffff };
                let fp = (hi << 32) | lo;
                prop_assert_eq!(crate::partition::owner_of(fp, workers), worker);
                prop_assert!(owned.may_hold(fp));
                let inserted = owned.insert_marked(fp);
                prop_assert_eq!(inserted == Insert::New, reference.insert(fp));
                prop_assert_eq!(inserted, any.insert_marked(fp));
                prop_assert!(owned.contains(fp));
            }
            prop_assert_eq!(owned.len(), reference.len());
            let mut got: Vec<u64> = owned.iter().collect();
            got.sort_unstable();
            let mut want: Vec<u64> = reference.into_iter().collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
            prop_assert!(owned.memory_bytes() <= any.memory_bytes());
        }
    }

    /// The top 32 bits of the first and last fingerprint `worker` of `workers` owns.
    fn owner_range(worker: usize, workers: usize) -> (u64, u64) {
        let first = ((worker as u64) << 32).div_ceil(workers as u64);
        let next = ((worker as u64 + 1) << 32).div_ceil(workers as u64);
        (first, next - 1)
    }

    #[test]
    fn owner_ranges_are_owner_of_s() {
        for workers in [1usize, 2, 3, 5, 7, 100, 128, 1000, 65_535] {
            for worker in [0, workers / 2, workers - 1] {
                let (first, last) = owner_range(worker, workers);
                let owner = |hi: u64| crate::partition::owner_of(hi << 32, workers);
                assert_eq!((owner(first), owner(last)), (worker, worker));
                if first > 0 {
                    assert_eq!(owner(first - 1), worker - 1);
                }
                if last < u32::MAX as u64 {
                    assert_eq!(owner(last + 1), worker + 1);
                }
                // The range fits the bits the table keeps of it.
                assert!(
                    last - first < 1 << (32 - workers.ilog2()),
                    "{worker} of {workers}"
                );
            }
        }
    }

    /// A worker's table spends floor(log2(workers)) bits fewer a slot than a table of
    /// any fingerprints: those its fingerprints share.
    #[test]
    fn an_owners_slots_leave_out_the_bits_its_fingerprints_share() {
        let width = |t: &FingerprintSet| t.segments[0].slots.width;
        let any = FingerprintSet::with_capacity(1 << 20);
        // 2^20 states fill 16 segments of 2^17 slots to 50%: 17 home bits.
        assert_eq!(width(&any), 64 - 4 - 17 + 8);
        for (workers, shared) in [(1, 0), (2, 1), (3, 1), (16, 4), (100, 6), (128, 7)] {
            let owned = FingerprintSet::for_owner(workers - 1, workers, 1 << 20);
            assert_eq!(width(&owned), width(&any) - shared, "{workers} workers");
        }
    }

    #[test]
    fn another_workers_fingerprint_is_not_stored_and_cannot_be_inserted() {
        let mut t = FingerprintSet::for_owner(1, 4, 16);
        let (mine, theirs) = (0x5000_0000_0000_0001, 0x1000_0000_0000_0001);
        assert!(t.insert(mine));
        assert!(!t.may_hold(theirs));
        assert!(!t.contains(theirs));
        assert_eq!(t.mark_if_stored(theirs), Marking::NotStored);
        assert!(!t.mark_present(theirs));
        t.prefetch(theirs);
        let inserted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.insert(theirs)));
        assert!(
            inserted.is_err(),
            "another worker's fingerprint was inserted"
        );
        assert_eq!(t.iter().collect::<Vec<_>>(), [mine]);
    }
}
