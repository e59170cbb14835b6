//! The state vector of a DVE model (the model's typed state), on cache lines of its
//! own.
//!
//! An engine keeps one unpacked state per worker and rewrites it for every state it
//! expands; every guard of every transition then reads it. In a plain `Vec<u8>` of a
//! few dozen bytes, the allocator may put it on a cache line it shares with another
//! allocation, such as part of the compiled model that every other worker reads just
//! as often. Each rewrite then takes the line from the other cores and each of their
//! reads takes it back: `szymanski.4` at 2 workers took 0.85 s instead of 0.55 s in
//! such a heap layout (chosen by nothing more than the length of the model's path on
//! the command line), and a 128 KiB allocation of the unpacked state, which glibc maps
//! on its own, removed the slowdown. Here the bytes live in whole 128-byte blocks
//! aligned to 128 (a line and the neighbour that x86 processors prefetch with it), so
//! no other allocation can share them, whatever the allocator.
//!
//! `bytemuck` views the blocks as bytes, so that this needs no `unsafe`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

use bytemuck::{Pod, Zeroable};
use checker_core::short_copy::copy_short;

/// Bytes per block.
const BLOCK: usize = 128;

/// One aligned block of a state vector.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(128))]
struct Block([u8; BLOCK]);

/// A DVE state vector: the bytes of every variable, channel and control state. It
/// reads and writes as a byte slice.
#[derive(Clone, Default)]
pub struct StateVector {
    /// Whole blocks holding the bytes; past `len` they are unused.
    blocks: Vec<Block>,
    /// Bytes in the state.
    len: usize,
}

impl StateVector {
    /// A state vector holding a copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut state = StateVector::default();
        state.set(bytes);
        state
    }

    /// Makes this state a copy of `bytes`, reusing the blocks it has.
    pub fn set(&mut self, bytes: &[u8]) {
        let blocks = bytes.len().div_ceil(BLOCK);
        if self.blocks.len() < blocks {
            self.blocks.resize(blocks, Block([0; BLOCK]));
        }
        self.len = bytes.len();
        // Without a call to `memcpy` for short states (`copy_short`).
        copy_short(
            bytemuck::cast_slice_mut::<Block, u8>(&mut self.blocks),
            bytes,
        );
    }
}

impl Deref for StateVector {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &bytemuck::cast_slice::<Block, u8>(&self.blocks)[..self.len]
    }
}

impl DerefMut for StateVector {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<Block, u8>(&mut self.blocks)[..self.len]
    }
}

impl PartialEq for StateVector {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for StateVector {}

impl Hash for StateVector {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl fmt::Debug for StateVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_exactly_its_bytes_on_blocks_of_its_own() {
        let long: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let mut s = StateVector::from_slice(&long);
        assert_eq!(&*s, &long[..]);
        assert_eq!(s.blocks.len(), 3);
        assert_eq!(s.as_ptr() as usize % BLOCK, 0);
        // Shorter contents reuse the blocks; the bytes past the end do not count.
        s.set(&[7, 8, 9]);
        assert_eq!(&*s, &[7, 8, 9]);
        s.set(&long[..20]);
        assert_eq!(&*s, &long[..20]);
        s.set(&[7, 8, 9]);
        assert_eq!(s.blocks.len(), 3);
        assert_eq!(s, StateVector::from_slice(&[7, 8, 9]));
        s[1] = 1;
        assert_eq!(format!("{s:?}"), "[7, 1, 9]");
        s.set(&[]);
        assert!(s.is_empty());
        assert_eq!(StateVector::from_slice(&[]), StateVector::default());
    }

    #[test]
    fn equal_states_hash_alike() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |s: &StateVector| {
            let mut h = DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        };
        let mut reused = StateVector::from_slice(&[1; 200]);
        reused.set(&[4, 5]);
        assert_eq!(hash(&reused), hash(&StateVector::from_slice(&[4, 5])));
    }
}
