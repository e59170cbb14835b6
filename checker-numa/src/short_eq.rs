//! Equality of two packed states, inline for short ones.
//!
//! The expansion loop compares every successor's packed bytes with its parent's to
//! drop self-loops: 123.6 million comparisons of 7-byte states on `twophase 9`. Slice
//! equality compiles to a call to the C library's `bcmp`, whose call and length
//! dispatch cost more instructions than the comparison itself. Up to 32 bytes, two
//! overlapping loads per side compare the whole slice without a call: a 1-worker
//! `twophase 8` runs 4.3% fewer instructions (callgrind). Hand-written because no
//! crate offers it and `std` always calls out.

/// Whether `a` and `b` hold the same bytes.
#[inline(always)]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        17..=32 => word16(a, 0) == word16(b, 0) && word16(a, n - 16) == word16(b, n - 16),
        _ => a == b,
    }
}

/// The four bytes of `s` from `at`.
#[inline(always)]
fn word4(s: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(s[at..at + 4].try_into().expect("four bytes"))
}

/// The eight bytes of `s` from `at`.
#[inline(always)]
fn word8(s: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(s[at..at + 8].try_into().expect("eight bytes"))
}

/// The sixteen bytes of `s` from `at`.
#[inline(always)]
fn word16(s: &[u8], at: usize) -> u128 {
    u128::from_ne_bytes(s[at..at + 16].try_into().expect("sixteen bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_short_length_sees_a_difference_in_every_byte() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert!(same_bytes(&a, &a.clone()), "length {n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x10;
                assert!(!same_bytes(&a, &b), "length {n}, byte {i}");
            }
            if n > 0 {
                assert!(!same_bytes(&a, &a[..n - 1]), "lengths {n} and {}", n - 1);
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_slice_equality(
            a in proptest::collection::vec(0u8..3, 0..40),
            b in proptest::collection::vec(0u8..3, 0..40),
        ) {
            prop_assert_eq!(same_bytes(&a, &b), a == b);
        }
    }
}
