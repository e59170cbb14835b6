//! A reproducible stream of fingerprint-like 64-bit values (SplitMix64), for
//! benchmarking the visited table with keys as uniform as real fingerprints.

/// SplitMix64: a fast generator whose outputs are well spread 64-bit values.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next non-zero value (zero marks an empty table slot, as in real fingerprints).
    pub fn next_fingerprint(&mut self) -> u64 {
        loop {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            if z != 0 {
                return z;
            }
        }
    }

    /// `n` values.
    pub fn take(&mut self, n: usize) -> Vec<u64> {
        (0..n).map(|_| self.next_fingerprint()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_reproducible_and_spread() {
        let a = SplitMix64::new(7).take(1000);
        assert_eq!(a, SplitMix64::new(7).take(1000));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
        let high_bits_set = a.iter().filter(|v| **v >> 63 == 1).count();
        assert!((400..600).contains(&high_bits_set), "{high_bits_set}");
    }
}
