//! A growable sequence of packed states, each with a 64-bit tag (a log index, a parent
//! reference, ...), stored back to back in one byte buffer: no allocation per state.

/// Packed states with a tag each, in insertion order.
///
/// Layout of one entry: `len: u32 LE`, `tag: u64 LE`, then `len` bytes of state.
#[derive(Clone, Debug, Default)]
pub struct PackedStates {
    bytes: Vec<u8>,
    count: usize,
}

const HEADER: usize = 12;

impl PackedStates {
    /// An empty sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sequence with room for `bytes` bytes of entries.
    pub fn with_capacity(bytes: usize) -> Self {
        PackedStates {
            bytes: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    /// Bytes allocated.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Appends one state with its tag.
    #[inline]
    pub fn push(&mut self, tag: u64, state: &[u8]) {
        let len = u32::try_from(state.len()).expect("packed state longer than 4 GiB");
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&tag.to_le_bytes());
        crate::short_copy::extend_short(&mut self.bytes, state);
        self.count += 1;
    }

    /// Number of states.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no states.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes used, headers included.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Removes every state, keeping the allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
    }

    /// Releases memory beyond what is in use.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// The encoded entries, for writing them elsewhere (a spill file, a checkpoint).
    pub fn raw_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Replaces the contents with `count` entries in the encoding that
    /// [`PackedStates::raw_bytes`] returns. Fails, leaving the sequence empty, if `bytes` does not hold exactly
    /// `count` well-formed entries.
    pub fn load_raw(&mut self, bytes: &[u8], count: usize) -> Result<(), MalformedEntries> {
        self.clear();
        let mut rest = bytes;
        let mut seen = 0usize;
        while !rest.is_empty() {
            if rest.len() < HEADER {
                return Err(MalformedEntries);
            }
            let len = u32::from_le_bytes(rest[0..4].try_into().unwrap()) as usize;
            if rest.len() - HEADER < len {
                return Err(MalformedEntries);
            }
            rest = &rest[HEADER + len..];
            seen += 1;
        }
        if seen != count {
            return Err(MalformedEntries);
        }
        self.bytes.extend_from_slice(bytes);
        self.count = count;
        Ok(())
    }

    /// The states with their tags, in insertion order.
    pub fn iter(&self) -> PackedIter<'_> {
        PackedIter { bytes: &self.bytes }
    }
}

/// Encoded entries that do not parse: a truncated or corrupted file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed packed states")]
pub struct MalformedEntries;

/// Iterator over [`PackedStates`].
pub struct PackedIter<'a> {
    bytes: &'a [u8],
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (u64, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.bytes.is_empty() {
            return None;
        }
        let (header, rest) = self.bytes.split_at(HEADER);
        let len = u32::from_le_bytes(header[0..4].try_into().unwrap()) as usize;
        let tag = u64::from_le_bytes(header[4..12].try_into().unwrap());
        let (state, rest) = rest.split_at(len);
        self.bytes = rest;
        Some((tag, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_states_of_varying_length() {
        let mut p = PackedStates::new();
        p.push(7, b"abc");
        p.push(u64::MAX, b"");
        p.push(0, &[1u8; 300]);
        let got: Vec<(u64, Vec<u8>)> = p.iter().map(|(t, s)| (t, s.to_vec())).collect();
        assert_eq!(
            got,
            vec![
                (7, b"abc".to_vec()),
                (u64::MAX, vec![]),
                (0, vec![1u8; 300])
            ]
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p.byte_len(), 3 * HEADER + 303);
        let mut copy = PackedStates::new();
        copy.load_raw(p.raw_bytes(), 3).unwrap();
        assert_eq!(copy.iter().count(), 3);
        assert_eq!(copy.load_raw(p.raw_bytes(), 2), Err(MalformedEntries));
        assert_eq!(
            copy.load_raw(&p.raw_bytes()[..20], 1),
            Err(MalformedEntries)
        );
        assert!(copy.is_empty());
        p.clear();
        assert!(p.is_empty());
        assert_eq!(p.iter().count(), 0);
    }
}
