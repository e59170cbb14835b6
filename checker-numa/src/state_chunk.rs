//! A run of packed states stored back to back in one byte buffer, for frontiers: with
//! no per-state header while every state has the same width (the case of every
//! fixed-width model, where a header would cost more than the state), and with a
//! `u32` length before each state once widths differ.

use std::fmt;

use checker_core::short_copy::extend_short;

/// Layout code of a chunk whose states carry their length (see
/// [`StateChunk::layout_code`]).
const PREFIXED: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Every state has this many bytes.
    Fixed(usize),
    /// Each state is preceded by its length, `u32` little-endian.
    Prefixed,
}

/// Packed states in the order pushed.
#[derive(Clone, Debug)]
pub struct StateChunk {
    bytes: Vec<u8>,
    count: usize,
    layout: Layout,
}

/// Raw chunk contents that do not decode to the count of states claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedChunk;

impl fmt::Display for MalformedChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed chunk of states")
    }
}

impl std::error::Error for MalformedChunk {}

impl Default for StateChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl StateChunk {
    /// An empty chunk.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty chunk with room for `bytes` bytes of states.
    pub fn with_capacity(bytes: usize) -> Self {
        StateChunk {
            bytes: Vec::with_capacity(bytes),
            count: 0,
            layout: Layout::Fixed(0),
        }
    }

    /// Number of states.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no states.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes used.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Removes every state, keeping the allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
        self.layout = Layout::Fixed(0);
    }

    /// Appends a state.
    #[inline]
    pub fn push(&mut self, state: &[u8]) {
        match self.layout {
            Layout::Fixed(width) if width == state.len() => {}
            Layout::Fixed(_) if self.count == 0 => self.layout = Layout::Fixed(state.len()),
            Layout::Fixed(width) => self.prefix_lengths(width),
            Layout::Prefixed => {}
        }
        if self.layout == Layout::Prefixed {
            let len = u32::try_from(state.len()).expect("packed state longer than 4 GiB");
            self.bytes.extend_from_slice(&len.to_le_bytes());
        }
        extend_short(&mut self.bytes, state);
        self.count += 1;
    }

    /// Rewrites the fixed-width states held so far with a length before each.
    #[cold]
    fn prefix_lengths(&mut self, width: usize) {
        let len = u32::try_from(width).expect("packed state longer than 4 GiB");
        let mut bytes = Vec::with_capacity(self.bytes.capacity().max(self.count * (width + 4)));
        for i in 0..self.count {
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&self.bytes[i * width..(i + 1) * width]);
        }
        self.bytes = bytes;
        self.layout = Layout::Prefixed;
    }

    /// The states, in the order pushed.
    pub fn iter(&self) -> StateChunkIter<'_> {
        StateChunkIter {
            chunk: self,
            offset: 0,
            left: self.count,
        }
    }

    /// The layout, as stored beside [`StateChunk::raw_bytes`]: the width of every
    /// state, or `u64::MAX` when each state carries its length.
    pub fn layout_code(&self) -> u64 {
        match self.layout {
            Layout::Fixed(width) => width as u64,
            Layout::Prefixed => PREFIXED,
        }
    }

    /// The encoded states, for writing them elsewhere (a spill file, a checkpoint).
    pub fn raw_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Replaces the contents with `count` states encoded as `raw_bytes` with layout
    /// `layout_code` returned. Fails, leaving the chunk empty, unless `bytes` holds
    /// exactly `count` well-formed states.
    pub fn load_raw(
        &mut self,
        layout: u64,
        bytes: &[u8],
        count: usize,
    ) -> Result<(), MalformedChunk> {
        self.clear();
        let well_formed = if layout == PREFIXED {
            let mut rest = bytes;
            let mut n = 0;
            while rest.len() >= 4 {
                let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
                if rest.len() - 4 < len {
                    break;
                }
                rest = &rest[4 + len..];
                n += 1;
            }
            rest.is_empty() && n == count
        } else {
            usize::try_from(layout)
                .ok()
                .and_then(|width| width.checked_mul(count))
                .is_some_and(|total| total == bytes.len())
        };
        if !well_formed {
            return Err(MalformedChunk);
        }
        self.layout = if layout == PREFIXED {
            Layout::Prefixed
        } else {
            Layout::Fixed(layout as usize)
        };
        self.bytes.extend_from_slice(bytes);
        self.count = count;
        Ok(())
    }
}

/// The states of a [`StateChunk`].
pub struct StateChunkIter<'a> {
    chunk: &'a StateChunk,
    offset: usize,
    left: usize,
}

impl<'a> Iterator for StateChunkIter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let bytes = &self.chunk.bytes;
        let len = match self.chunk.layout {
            Layout::Fixed(width) => width,
            Layout::Prefixed => {
                let len = u32::from_le_bytes(
                    bytes[self.offset..self.offset + 4]
                        .try_into()
                        .expect("4 bytes"),
                );
                self.offset += 4;
                len as usize
            }
        };
        let state = &bytes[self.offset..self.offset + len];
        self.offset += len;
        Some(state)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for StateChunkIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn states(c: &StateChunk) -> Vec<Vec<u8>> {
        c.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn fixed_width_states_have_no_header() {
        let mut c = StateChunk::new();
        for i in 0..100u64 {
            c.push(&i.to_le_bytes());
        }
        assert_eq!(c.byte_len(), 800);
        assert_eq!(c.layout_code(), 8);
        assert_eq!(states(&c)[42], 42u64.to_le_bytes());
    }

    #[test]
    fn a_different_width_switches_to_length_prefixes() {
        let mut c = StateChunk::new();
        c.push(b"abc");
        c.push(b"def");
        c.push(b"ghij");
        c.push(b"");
        assert_eq!(c.layout_code(), u64::MAX);
        assert_eq!(c.byte_len(), 4 * 4 + 10);
        assert_eq!(
            states(&c),
            vec![b"abc".to_vec(), b"def".to_vec(), b"ghij".to_vec(), vec![]]
        );
        c.clear();
        c.push(b"xy");
        assert_eq!(c.layout_code(), 2);
    }

    #[test]
    fn empty_states_round_trip() {
        let mut c = StateChunk::new();
        c.push(b"");
        c.push(b"");
        assert_eq!(c.byte_len(), 0);
        assert_eq!(states(&c), vec![Vec::<u8>::new(); 2]);
        let mut d = StateChunk::new();
        d.load_raw(c.layout_code(), c.raw_bytes(), 2).unwrap();
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn malformed_raw_contents_are_refused() {
        let mut c = StateChunk::new();
        assert_eq!(c.load_raw(8, &[0; 12], 2), Err(MalformedChunk));
        assert_eq!(c.load_raw(8, &[0; 16], 3), Err(MalformedChunk));
        assert_eq!(
            c.load_raw(u64::MAX, &[5, 0, 0, 0, 1], 1),
            Err(MalformedChunk)
        );
        assert_eq!(c.load_raw(u64::MAX - 1, &[0; 8], 1), Err(MalformedChunk));
        assert_eq!(c.load_raw(0, &[], 0), Ok(()));
        assert_eq!(c.load_raw(0, &[1], 0), Err(MalformedChunk));
        assert!(c.is_empty());
    }

    proptest! {
        #[test]
        fn raw_round_trip(widths in proptest::collection::vec(0usize..12, 0..60)) {
            let mut c = StateChunk::new();
            let want: Vec<Vec<u8>> = widths.iter().enumerate().map(|(i, &w)| vec![i as u8; w]).collect();
            for s in &want {
                c.push(s);
            }
            prop_assert_eq!(states(&c), want.clone());
            let mut d = StateChunk::new();
            d.load_raw(c.layout_code(), c.raw_bytes(), c.len()).unwrap();
            prop_assert_eq!(states(&d), want);
        }
    }
}
