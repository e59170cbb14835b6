//! Copying a packed state, inline for short ones.
//!
//! Every successor's packed bytes are copied into its owner's batch, and every new
//! state's into a frontier chunk; a DVE model also copies a state to pack and unpack it.
//! A copy of a length known only at run time (`extend_from_slice`, `copy_from_slice`)
//! calls the C library's `memcpy`, whose call and length dispatch cost more than
//! copying a state of a few bytes: 17 instructions a call on `grid 7 7` at 1 worker, 7%
//! of all the engine ran. Up to [`SHORT`] bytes, two overlapping copies of fixed size
//! do it without a call. A model's states mostly have one length, so the choice of
//! case is predicted. With the bundled models' packing done the same way
//! (`fixtures`' `le_bytes`), `grid 7 7` at 1 worker ran 5.2% fewer instructions, and
//! `twophase 9` took 17% less time at 1 and 2 workers (docs/benchmarks.md).
//! Hand-written for the same reason as `checker_numa::short_eq`: no crate offers it
//! and `std` always calls out.

/// The longest state copied inline; also the spare room the inline copy needs.
pub const SHORT: usize = 32;

/// An empty buffer to pack states into, with room for the inline copies here (a buffer
/// with less than [`SHORT`] bytes of room takes the plain copy). Engines reuse one for
/// every successor.
pub fn pack_buffer() -> Vec<u8> {
    Vec::with_capacity(4 * SHORT)
}

/// Copies `src` into `dst` of the same length, if it is at most [`SHORT`] bytes long,
/// with two overlapping fixed-size copies (the first and the last 1, 4, 8 or 16 bytes),
/// as `memcpy` itself copies short lengths. A first version filled a 32-byte block on
/// the stack that way and appended the block whole: `peterson.4`, `szymanski.4` and
/// `at.4` (DVE) then ran 18% to 24% slower than with `memcpy`, probably because a load
/// that spans two earlier stores (the block's halves, read right after they were
/// written) cannot take its data from them. Here each word is stored once, where it
/// belongs. Returns whether it copied.
#[inline(always)]
fn copy_overlapping(dst: &mut [u8], src: &[u8]) -> bool {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        8..=16 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        17..=SHORT => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        _ => return false,
    }
    true
}

/// Appends `src` to `out`, as `out.extend_from_slice(src)` does. Never makes `out`
/// allocate where that would not: a buffer without [`SHORT`] bytes of spare room
/// takes the plain copy.
#[inline(always)]
pub fn extend_short(out: &mut Vec<u8>, src: &[u8]) {
    let start = out.len();
    let n = src.len();
    if n <= SHORT && out.capacity() - start >= SHORT {
        // Room of a fixed length (one fixed-size store of zeros), then the bytes.
        out.extend_from_slice(&[0; SHORT]);
        copy_overlapping(&mut out[start..start + n], src);
        out.truncate(start + n);
    } else {
        out.extend_from_slice(src);
    }
}

/// Copies `src` to the start of `dst`, as `dst[..src.len()].copy_from_slice(src)`
/// does.
///
/// # Panics
///
/// If `dst` is shorter than `src`.
#[inline(always)]
pub fn copy_short(dst: &mut [u8], src: &[u8]) {
    let dst = &mut dst[..src.len()];
    if !copy_overlapping(dst, src) {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_length_appends_exactly_the_bytes() {
        for n in 0..=2 * SHORT {
            let src: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37) | 1).collect();
            for room in [0, SHORT - 1, SHORT, 3 * SHORT] {
                let mut out = Vec::with_capacity(3 + room);
                out.extend_from_slice(b"abc");
                let capacity = out.capacity();
                extend_short(&mut out, &src);
                assert_eq!(&out[..3], b"abc", "length {n}, room {room}");
                assert_eq!(&out[3..], &src[..], "length {n}, room {room}");
                if room >= n {
                    assert_eq!(out.capacity(), capacity, "length {n}, room {room}");
                }
            }
        }
    }

    #[test]
    fn copies_every_length_into_a_longer_slice() {
        for n in 0..=2 * SHORT {
            let src: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37) | 1).collect();
            let mut dst = vec![0xee; n + 40];
            copy_short(&mut dst, &src);
            assert_eq!(&dst[..n], &src[..], "length {n}");
            assert!(
                dst[n..].iter().all(|&b| b == 0xee),
                "length {n}: bytes after"
            );
            let mut exact = vec![0xee; n];
            copy_short(&mut exact, &src);
            assert_eq!(exact, src, "length {n} into a slice of its own length");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_extend_from_slice(
            head in proptest::collection::vec(any::<u8>(), 0..40),
            src in proptest::collection::vec(any::<u8>(), 0..48),
            room in 0usize..80,
        ) {
            let mut out = Vec::with_capacity(head.len() + room);
            out.extend_from_slice(&head);
            let mut expected = out.clone();
            expected.extend_from_slice(&src);
            extend_short(&mut out, &src);
            prop_assert_eq!(out, expected);
        }
    }
}
