//! 64-bit state fingerprints.
//!
//! A fingerprint is XXH3-64 (seeded) of the packed state bytes. It is identical across
//! runs, processes and machines, which checkpoints and the partition function rely on;
//! the golden-value tests below pin it. Zero is reserved as the empty-slot marker of
//! fingerprint tables, so a hash of zero is remapped to [`ZERO_REPLACEMENT`].

/// A state's 64-bit fingerprint. Never zero.
pub type Fingerprint = u64;

/// Identifies the fingerprint function; stored in checkpoints so a change is detected.
pub const FINGERPRINT_FUNCTION_ID: &str = "xxh3-64-seed-0x6d6f64656c636b31";

const SEED: u64 = 0x6d6f_6465_6c63_6b31; // "modelck1"

/// What a hash of zero becomes: zero marks empty table slots.
pub const ZERO_REPLACEMENT: u64 = 0x9e37_79b9_7f4a_7c15;

/// The fingerprint of a packed state.
#[inline]
pub fn fingerprint(packed: &[u8]) -> Fingerprint {
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(packed, SEED);
    if h == 0 {
        ZERO_REPLACEMENT
    } else {
        h
    }
}

/// A `Hasher` for maps keyed by fingerprints: they are already uniformly
/// distributed, so hashing them again would only cost time.
#[derive(Clone, Copy, Default)]
pub struct FingerprintHasher(u64);

impl std::hash::Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are expected; fold anything else in deterministically.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `BuildHasher` for [`FingerprintHasher`].
pub type BuildFingerprintHasher = std::hash::BuildHasherDefault<FingerprintHasher>;

/// The probability that a fingerprint collision made the search miss a state, as TLC
/// estimates it: `n * (m - n) / 2^64` for `n` distinct and `m` generated states.
pub fn collision_probability(distinct: u64, generated: u64) -> f64 {
    let n = distinct as f64;
    let extra = generated.saturating_sub(distinct) as f64;
    n * extra / 18_446_744_073_709_551_616.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden values: if these change, every checkpoint and partition changes with them.
    #[test]
    fn fingerprint_is_pinned() {
        let ramp: Vec<u8> = (0..128u8).collect();
        assert_eq!(fingerprint(b""), 0xb495_afba_deac_9d35);
        assert_eq!(fingerprint(&[0u8; 8]), 0x4d28_4f51_950e_d6ab);
        assert_eq!(fingerprint(b"twophase"), 0x8b97_a294_113b_3599);
        assert_eq!(fingerprint(&ramp), 0x83e9_02b9_f0e2_e1f4);
    }

    #[test]
    fn fingerprint_differs_on_one_bit() {
        assert_ne!(fingerprint(&[0, 0, 0, 1]), fingerprint(&[0, 0, 0, 0]));
    }

    #[test]
    fn collision_probability_matches_tlc_formula() {
        let p = collision_probability(1 << 20, 3 << 20);
        let expected = (1u128 << 20) as f64 * (2u128 << 20) as f64 / 2f64.powi(64);
        assert!((p - expected).abs() < 1e-20);
        assert_eq!(collision_probability(10, 10), 0.0);
    }
}
