//! The process's allocator policy.
//!
//! glibc raises its mmap threshold each time it frees a large block that it had
//! mmapped, up to 32 MiB; after the first level buffers grow, every table segment,
//! frontier chunk and level index then comes from the heap, where freed memory stays
//! resident. On twophase 9 that kept 12 to 17 MiB (7% to 9% of the run's memory) that
//! no structure used. Fixing the threshold at glibc's own default start value makes
//! large blocks always mmapped, so freeing them returns them to the system.

/// Large blocks: always mmapped, never recycled through the heap.
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Applies the policy; call it first thing in `main`, before any thread starts.
pub fn apply() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes glibc's tuning parameters and is documented as
    // callable at any time; it is called once, before any other thread exists. Its
    // result (0 on failure) only means the default policy stays in force.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
