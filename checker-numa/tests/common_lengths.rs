//! Models whose packed states vary widely in length, for `state_lengths.rs`.
//!
//! The states are the packed bytes themselves (`State = Vec<u8>`), so packing is
//! canonical and `unpack(pack(s)) == s` by construction, and the graph is a function
//! of the bytes alone. Lengths run from 0 (the Model docs do not forbid an empty
//! packed state, and `PackedStates` and `StateChunk` round-trip one) to past the
//! default batch size, with the boundaries of the inline copies (`SHORT` = 32), of the
//! batch entry headers (12 and 28 bytes) and of the batch room (`batch_bytes + 256`)
//! over-represented. Families of states share long prefixes on purpose: every prefix
//! of one fixed pattern, strings of zeros of every length, and states that differ
//! from a prefix of the pattern in their last byte only.
#![allow(dead_code)] // Not every test uses every item.

use checker_core::short_copy::extend_short;
use checker_core::{fingerprint, Action, Model};
use checker_numa::partition::owner_of;
use std::time::{Duration, Instant};

/// Lengths at the boundaries of the inline copy (1..=3, 4..=7, 8..=16, 17..=32), of
/// batch entries (12-byte header, 28 with a parent record) and of small batch sizes.
pub const BOUNDARY_LENGTHS: &[usize] = &[
    0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 20, 23, 24, 27, 28, 29, 31, 32, 33, 35, 36,
    37, 47, 48, 49, 51, 52, 53, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 484, 500, 511, 512,
    513, 700,
];

/// Lengths around 4 KiB (the frontier chunk's spare room) and the default batch size
/// of 8 KiB: a batch holding exactly `batch_bytes` with one entry (header 12 or 28),
/// one byte either side, the batch room (`batch_bytes + 256`), and a state of more
/// than two batches.
pub const WIDE_LENGTHS: &[usize] = &[
    4068, 4084, 4095, 4096, 4097, 8163, 8164, 8165, 8179, 8180, 8181, 8191, 8192, 8193, 8420, 8436,
    8447, 8448, 8449, 16385,
];

/// A 64-bit mixer (the MurmurHash3 finaliser).
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// FNV-1a of `bytes`, mixed: the model's own hash (not the engine's fingerprint).
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ bytes.len() as u64;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Byte `i` of the shared pattern; never zero, so no prefix of it but the empty one is
/// also a string of zeros.
pub fn pattern(i: usize) -> u8 {
    (mix(i as u64 ^ 0x5eed) as u8) | 1
}

/// Appends the first `len` bytes of the pattern.
pub fn push_prefix(out: &mut Vec<u8>, len: usize) {
    out.extend((0..len).map(pattern));
}

/// The first `len` bytes of the pattern.
pub fn prefix(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    push_prefix(&mut v, len);
    v
}

/// The first `len - 1` bytes of the pattern, then `last` (`len` >= 1).
pub fn variant(len: usize, last: u8) -> Vec<u8> {
    let mut v = prefix(len - 1);
    v.push(last);
    v
}

/// A random graph over byte strings: node `id < size` is the string
/// [`LengthGraph::bytes_of`]`(id)`, whose length is drawn from the boundaries, from
/// `0..=max_len`, or (`wide_per_mille` of the nodes) from [`WIDE_LENGTHS`]. Several ids
/// may give the same string (all ids of the prefix family with one length do): they
/// are one state. A state's successors are chosen by hashing its bytes.
#[derive(Clone, Debug)]
pub struct LengthGraph {
    pub size: u64,
    pub branching: u64,
    pub seed: u64,
    /// States whose hash is divisible by this have no successors (0: none).
    pub sinks: u64,
    /// The string of this id violates `NotBad`.
    pub bad: Option<u64>,
    /// Every state of this length violates `NotThisLength`.
    pub bad_len: Option<usize>,
    /// States whose length is 1 modulo this are outside the constraint (0: none).
    pub constraint: u64,
    /// Ids of the initial states, in order (duplicates welcome).
    pub initials: Vec<u64>,
    pub max_len: usize,
    /// Nodes (per thousand) with a length from [`WIDE_LENGTHS`].
    pub wide_per_mille: u64,
    /// Some states also have themselves as a successor, some a successor twice.
    pub self_loops: bool,
    /// Expanding a state owned by worker 0 of this many workers busy-waits this long
    /// first (worker 0 is slow, so others ask it for shares).
    pub slow_owner: Option<(usize, Duration)>,
}

impl LengthGraph {
    /// `size` nodes, `branching` successors each, lengths up to `max_len` and a few
    /// wide ones, initial states 0 and `size / 2`; no sinks, errors or constraint.
    pub fn new(size: u64, branching: u64, seed: u64, max_len: usize) -> Self {
        LengthGraph {
            size,
            branching,
            seed,
            sinks: 0,
            bad: None,
            bad_len: None,
            constraint: 0,
            initials: vec![0, size / 2],
            max_len,
            wide_per_mille: 20,
            self_loops: true,
            slow_owner: None,
        }
    }

    /// The length of node `id`'s string.
    pub fn len_of(&self, id: u64) -> usize {
        let h = mix(id.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ self.seed.rotate_left(17));
        let pick = (h >> 24) as usize;
        if h % 1000 < self.wide_per_mille {
            WIDE_LENGTHS[pick % WIDE_LENGTHS.len()]
        } else if (h >> 12).is_multiple_of(2) {
            BOUNDARY_LENGTHS[pick % BOUNDARY_LENGTHS.len()]
        } else {
            pick % (self.max_len + 1)
        }
    }

    /// Appends node `id`'s string: a prefix of the pattern, zeros, a prefix of the
    /// pattern with another last byte, or bytes drawn from the id ending with the id
    /// itself (big-endian, so ids one apart differ in the last byte).
    pub fn bytes_of(&self, id: u64, out: &mut Vec<u8>) {
        let len = self.len_of(id);
        let h = mix(id ^ self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xabc);
        match h % 8 {
            0 => push_prefix(out, len),
            1 => out.resize(out.len() + len, 0),
            2 | 3 if len > 0 => {
                push_prefix(out, len - 1);
                out.push(((h >> 8) % 8) as u8);
            }
            _ => {
                let tail = len.min(8);
                let mut x = h | 1;
                for _ in 0..len - tail {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    out.push(x as u8);
                }
                out.extend_from_slice(&id.to_be_bytes()[8 - tail..]);
            }
        }
    }

    /// Node `id`'s string.
    pub fn state(&self, id: u64) -> Vec<u8> {
        let mut v = Vec::new();
        self.bytes_of(id, &mut v);
        v
    }

    fn slow_down(&self, s: &[u8]) {
        if let Some((workers, delay)) = self.slow_owner {
            if owner_of(fingerprint(s), workers) == 0 {
                let start = Instant::now();
                while start.elapsed() < delay {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// Actions beyond the edges: a self-loop and the first edge again.
const STAY: u32 = 1000;
const AGAIN: u32 = 1001;

impl Model for LengthGraph {
    type State = Vec<u8>;

    fn name(&self) -> String {
        format!(
            "lengths {} {} {} {}",
            self.size, self.branching, self.seed, self.max_len
        )
    }

    fn initial_states(&self, emit: &mut dyn FnMut(&Vec<u8>)) {
        for &id in &self.initials {
            emit(&self.state(id));
        }
    }

    fn successors(&self, s: &Vec<u8>, emit: &mut dyn FnMut(Action, &Vec<u8>)) {
        self.slow_down(s);
        let h = hash(s) ^ self.seed;
        if self.sinks != 0 && mix(h).is_multiple_of(self.sinks) {
            return;
        }
        let mut t = Vec::new();
        let target =
            |k: u64| mix(h.wrapping_add(k.wrapping_mul(0x9e37_79b9_7f4a_7c15))) % self.size;
        for k in 0..self.branching {
            t.clear();
            self.bytes_of(target(k), &mut t);
            emit(Action(k as u32), &t);
        }
        if self.self_loops && mix(h ^ 1).is_multiple_of(4) {
            emit(Action(STAY), s);
        }
        if self.self_loops && self.branching > 0 && mix(h ^ 2).is_multiple_of(4) {
            t.clear();
            self.bytes_of(target(0), &mut t);
            emit(Action(AGAIN), &t);
        }
    }

    fn invariant_names(&self) -> Vec<String> {
        vec!["NotBad".into(), "NotThisLength".into()]
    }

    fn check_invariant(&self, index: usize, s: &Vec<u8>) -> bool {
        match index {
            0 => self.bad.is_none_or(|b| *s != self.state(b)),
            _ => self.bad_len != Some(s.len()),
        }
    }

    fn within_constraint(&self, s: &Vec<u8>) -> bool {
        self.constraint == 0 || s.len() as u64 % self.constraint != 1
    }

    fn action_label(&self, a: Action) -> String {
        match a.0 {
            STAY => "Stay".into(),
            AGAIN => "Again".into(),
            k => format!("Edge{k}"),
        }
    }

    fn pack(&self, s: &Vec<u8>, out: &mut Vec<u8>) {
        // As the Model docs ask of real models: short states inline.
        extend_short(out, s);
    }

    fn unpack(&self, b: &[u8]) -> Vec<u8> {
        b.to_vec()
    }

    fn unpack_into(&self, b: &[u8], into: &mut Vec<u8>) {
        into.clear();
        into.extend_from_slice(b);
    }

    fn render(&self, s: &Vec<u8>) -> String {
        format!("{} bytes, hash {:016x}", s.len(), hash(s))
    }
}

/// Every prefix of the pattern from `start` to `max_len` bytes, and beside each prefix
/// of `len >= 1` bytes its variants: the same but for a last byte below `variants`.
/// A prefix leads to the prefixes `steps` longer (within `max_len`) and to its own
/// variants (one of which may be the prefix itself: a self-loop); a variant leads back
/// to its prefix and to the prefix one byte shorter (if that is at least `start`). So the reachable states are
/// known exactly ([`Prefixes::reachable`]), and they are as alike as states can be:
/// prefixes of one another, or equal but for the last byte.
#[derive(Clone, Debug)]
pub struct Prefixes {
    pub start: usize,
    pub max_len: usize,
    pub variants: u8,
    pub steps: Vec<usize>,
    /// `variant(len, last)` violates `NotBad`.
    pub bad: Option<(usize, u8)>,
}

impl Prefixes {
    fn is_prefix(s: &[u8]) -> bool {
        s.iter().enumerate().all(|(i, &b)| b == pattern(i))
    }

    /// The distinct reachable states, for steps that include 1 (every prefix from
    /// `start` on is reachable).
    pub fn reachable(&self) -> std::collections::HashSet<Vec<u8>> {
        assert!(self.steps.contains(&1));
        let mut all = std::collections::HashSet::new();
        for len in self.start..=self.max_len {
            all.insert(prefix(len));
            if len >= 1 {
                for x in 0..self.variants {
                    all.insert(variant(len, x));
                }
            }
        }
        all
    }
}

impl Model for Prefixes {
    type State = Vec<u8>;

    fn name(&self) -> String {
        format!("prefixes {} {}", self.start, self.max_len)
    }

    fn initial_states(&self, emit: &mut dyn FnMut(&Vec<u8>)) {
        let first = prefix(self.start);
        emit(&first);
        emit(&first);
        // Also a successor of the first.
        if self.start < self.max_len {
            emit(&prefix(self.start + 1));
        }
    }

    fn successors(&self, s: &Vec<u8>, emit: &mut dyn FnMut(Action, &Vec<u8>)) {
        let len = s.len();
        if Self::is_prefix(s) {
            for (k, &step) in self.steps.iter().enumerate() {
                if len + step <= self.max_len {
                    emit(Action(k as u32), &prefix(len + step));
                }
            }
            if len >= 1 {
                for x in 0..self.variants {
                    emit(Action(100 + u32::from(x)), &variant(len, x));
                }
            }
        } else {
            emit(Action(200), &prefix(len));
            if len > self.start {
                emit(Action(201), &prefix(len - 1));
            }
        }
    }

    fn invariant_names(&self) -> Vec<String> {
        vec!["NotBad".into()]
    }

    fn check_invariant(&self, _: usize, s: &Vec<u8>) -> bool {
        self.bad.is_none_or(|(len, x)| *s != variant(len, x))
    }

    fn action_label(&self, a: Action) -> String {
        match a.0 {
            k @ 0..100 => format!("Grow{}", self.steps[k as usize]),
            k @ 100..200 => format!("Last{}", k - 100),
            200 => "Back".into(),
            _ => "Shorter".into(),
        }
    }

    fn pack(&self, s: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(s);
    }

    fn unpack(&self, b: &[u8]) -> Vec<u8> {
        b.to_vec()
    }

    fn render(&self, s: &Vec<u8>) -> String {
        let kind = if Self::is_prefix(s) {
            "prefix"
        } else {
            "variant"
        };
        format!("{kind} of {} bytes, last {:?}", s.len(), s.last())
    }
}

/// An empty root state whose successors are `lengths.len()` wide states, the `i`-th
/// of `lengths[i]` bytes (its number, big-endian, then the pattern); each wide state
/// leads to its own 3-byte leaf (`0xc0` and the number), which has no successor.
/// Leaf `bad` violates `NotBad`. At one worker the wide states are stored, and pushed
/// on the frontier, in this order, so the lengths decide where the frontier's 1 MiB
/// chunks end and how far past 1 MiB each one runs.
#[derive(Clone, Debug)]
pub struct Fan {
    pub lengths: Vec<usize>,
    pub bad: Option<u16>,
}

impl Fan {
    pub fn wide(&self, i: u16) -> Vec<u8> {
        let len = self.lengths[i as usize];
        assert!(len >= 4);
        let mut v = i.to_be_bytes().to_vec();
        v.extend((2..len).map(pattern));
        v
    }

    pub fn leaf(i: u16) -> Vec<u8> {
        let [hi, lo] = i.to_be_bytes();
        vec![0xc0, hi, lo]
    }
}

impl Model for Fan {
    type State = Vec<u8>;

    fn name(&self) -> String {
        format!("fan {}", self.lengths.len())
    }

    fn initial_states(&self, emit: &mut dyn FnMut(&Vec<u8>)) {
        emit(&Vec::new());
    }

    fn successors(&self, s: &Vec<u8>, emit: &mut dyn FnMut(Action, &Vec<u8>)) {
        match s.len() {
            0 => {
                for i in 0..self.lengths.len() as u16 {
                    emit(Action(u32::from(i)), &self.wide(i));
                }
            }
            3 => {}
            _ => emit(
                Action(u32::MAX),
                &Fan::leaf(u16::from_be_bytes([s[0], s[1]])),
            ),
        }
    }

    fn invariant_names(&self) -> Vec<String> {
        vec!["NotBad".into()]
    }

    fn check_invariant(&self, _: usize, s: &Vec<u8>) -> bool {
        self.bad.is_none_or(|b| *s != Fan::leaf(b))
    }

    fn action_label(&self, a: Action) -> String {
        match a.0 {
            u32::MAX => "Leaf".into(),
            i => format!("Wide{i}"),
        }
    }

    fn pack(&self, s: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(s);
    }

    fn unpack(&self, b: &[u8]) -> Vec<u8> {
        b.to_vec()
    }

    fn render(&self, s: &Vec<u8>) -> String {
        match s.len() {
            0 => "root".into(),
            3 => format!("leaf {}", u16::from_be_bytes([s[1], s[2]])),
            n => format!("wide {} of {n} bytes", u16::from_be_bytes([s[0], s[1]])),
        }
    }
}
