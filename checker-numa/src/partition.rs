//! Who owns a state: a pure function of its fingerprint.
//!
//! Workers are numbered node-major (every worker of NUMA node 0, then node 1, ...), and
//! the owner is chosen by mapping the fingerprint's top 32 bits onto the worker range
//! by multiply-shift. A contiguous slice of the fingerprint space therefore belongs to
//! each node, and within it to each of the node's workers: the top bits choose the
//! node, the next ones the worker on it. Tables index with the low bits, so the two
//! choices are independent.

use checker_core::Fingerprint;

/// The most workers a run can have: a [`ParentRef`] spends 16 bits on the worker.
pub const MAX_WORKERS: usize = u16::MAX as usize;

/// The worker that owns fingerprint `fp` among `workers` workers.
#[inline]
pub fn owner_of(fp: Fingerprint, workers: usize) -> usize {
    (((fp >> 32) * workers as u64) >> 32) as usize
}

/// Where a stored state's parent-log entry is: its owner and its index in that owner's
/// log. Packed into 64 bits: worker in the top 16, index in the low 48.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentRef(pub u64);

impl ParentRef {
    /// The parent of an initial state.
    pub const NONE: ParentRef = ParentRef(u64::MAX);

    /// The entry `index` of worker `worker`'s log.
    #[inline]
    pub fn new(worker: usize, index: u64) -> ParentRef {
        debug_assert!(worker < MAX_WORKERS && index < (1 << 48));
        ParentRef(((worker as u64) << 48) | index)
    }

    /// The owning worker; `None` for [`ParentRef::NONE`].
    pub fn worker(self) -> Option<usize> {
        (self != ParentRef::NONE).then_some((self.0 >> 48) as usize)
    }

    /// The index in the owner's log.
    pub fn index(self) -> u64 {
        self.0 & ((1 << 48) - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_is_in_range_and_balanced() {
        for workers in [1usize, 2, 3, 7, 64, 128] {
            let mut counts = vec![0u64; workers];
            for i in 0..100_000u64 {
                let fp = checker_core::fingerprint(&i.to_le_bytes());
                counts[owner_of(fp, workers)] += 1;
            }
            let expected = 100_000 / workers as u64;
            for c in counts {
                assert!(
                    c > expected * 8 / 10 && c < expected * 12 / 10,
                    "{workers}: {c}"
                );
            }
        }
    }

    #[test]
    fn owner_uses_top_bits_node_major() {
        assert_eq!(owner_of(0x0000_0000_ffff_ffff, 4), 0);
        assert_eq!(owner_of(0x4000_0000_0000_0000, 4), 1);
        assert_eq!(owner_of(0xffff_ffff_0000_0000, 4), 3);
        assert_eq!(owner_of(u64::MAX, 1), 0);
    }

    #[test]
    fn parent_ref_round_trips() {
        let r = ParentRef::new(513, (1 << 48) - 1);
        assert_eq!(r.worker(), Some(513));
        assert_eq!(r.index(), (1 << 48) - 1);
        assert_eq!(ParentRef::NONE.worker(), None);
    }
}
