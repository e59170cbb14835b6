//! Hints to the processor and the kernel about memory that is about to be used. None
//! changes what a program computes; each only moves a wait earlier or batches it.
//!
//! - [`prefetch_read`] and [`prefetch_write`]: the visited table is far larger than any
//!   cache, so the probe of a successor's slot is usually a cache miss, and a batch
//!   buffer handed back by the receiving core must be fetched back before it is
//!   written. Asking for those lines a little ahead overlaps the misses with useful
//!   work instead of stalling on each in turn.
//! - [`populate`]: a fresh table segment is written all over at once (growth refills
//!   it; a new table's random slots reach every page within a few thousand stores). Faulting its pages in with one `madvise` call instead of one page
//!   fault per 4 KiB page cut the kernel's share of a 2-worker `grid 8 7` run from
//!   about 0.3 s to under 0.1 s: page faults of threads sharing one address space cost
//!   several times those of a single thread.
//!
//! Hand-written because each is one instruction or one system call that `std` does
//! not offer.

/// Asks for the cache line holding `address` to be loaded for reading. Does nothing
/// on targets without a known prefetch instruction. `address` may point anywhere:
/// it is never dereferenced.
#[inline(always)]
pub fn prefetch_read<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint: it never faults and has no visible effect
    // whatever address it is given, so any pointer value is sound. SSE is part of
    // the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Asks for the cache line holding `address` to be loaded for writing: the line is
/// taken exclusive, so a later store to it does not wait for another core to give it
/// up. Does nothing on targets without a known instruction. `address` may point
/// anywhere: it is never dereferenced.
#[inline(always)]
pub fn prefetch_write<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetchw` is a hint: it never faults, reads or writes no memory,
    // register or flag, and has no visible effect whatever address it is given.
    // x86_64 processors without the instruction execute its opcode (0F 0D) as a no-op.
    unsafe {
        std::arch::asm!(
            "prefetchw [{0}]",
            in(reg) address,
            options(nostack, preserves_flags, readonly)
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Faults in, ready for writing, every whole page of the `bytes` bytes at `start`
/// (memory the caller owns and is about to write all over). Best effort: on kernels
/// before Linux 5.14 or other systems the pages fault in one by one when written.
pub fn populate<T>(start: *const T, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = start as usize;
        let first = start.next_multiple_of(PAGE);
        let end = (start + bytes) / PAGE * PAGE;
        if end > first {
            // SAFETY: `[first, end)` lies inside the caller's allocation. For private
            // anonymous memory MADV_POPULATE_WRITE only faults the pages in as a write
            // would, without changing a byte; on failure nothing happens.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    end - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_leave_memory_as_it_was() {
        // Written before the hints (pages already present) and after (pages populated
        // by the hint): every byte must read back as written, whatever the alignment.
        let buffer: Vec<u64> = (0..100_000u64).map(|i| i.wrapping_mul(0x9e37)).collect();
        populate(buffer.as_ptr(), buffer.len() * 8);
        populate(
            buffer.as_ptr().wrapping_add(1).cast::<u8>().wrapping_add(3),
            5000,
        );
        populate(buffer.as_ptr(), 0);
        for i in (0..buffer.len()).step_by(977) {
            prefetch_read(&buffer[i]);
            prefetch_write(&buffer[i]);
        }
        // Addresses past the buffer and null are fine: hints never dereference.
        prefetch_read(buffer.as_ptr().wrapping_add(1 << 40));
        prefetch_write(std::ptr::null::<u8>());
        assert!(buffer
            .iter()
            .enumerate()
            .all(|(i, &x)| x == (i as u64).wrapping_mul(0x9e37)));

        let fresh: Vec<u64> = vec![0; 1 << 20];
        populate(fresh.as_ptr(), fresh.len() * 8);
        assert!(fresh.iter().all(|&x| x == 0));
    }
}
