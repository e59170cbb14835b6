//! Binding the calling thread to its planned CPU, and its memory to its node.
//!
//! A worker pins itself first thing on its own thread, before it allocates its table,
//! frontier or receiving rings: Linux places a page on the node of the CPU that first
//! touches it, so a pinned thread's allocations land on its own node.

use crate::placement::Placement;

/// Pins the calling thread to `placement.cpu`; returns whether that succeeded.
///
/// Never panics: on failure (no CPU in the placement, a CPU outside the affinity mask,
/// a sandbox that forbids binding) the engine carries on unpinned, only slower.
///
/// Without the `hwloc` feature this calls `sched_setaffinity` with a mask as long as
/// the CPU number needs ([`crate::affinity`]; core_affinity, which names at most 1,024
/// CPUs, off Linux). With it, hwloc binds the thread's CPU and, best effort, also sets
/// the thread's memory policy to prefer `placement.node`, so that its allocations stay
/// on that node even where the kernel's default policy would not put them there; a
/// failure of that second step (containers often forbid `set_mempolicy`) does not count
/// as a failure to pin. If hwloc itself is unusable, the call without hwloc is used.
pub fn pin_current_thread(placement: &Placement) -> bool {
    let Some(cpu) = placement.cpu else {
        return false;
    };
    #[cfg(feature = "hwloc")]
    if let Some(pinned) = hwloc_binding::pin(cpu, placement.node) {
        return pinned;
    }
    #[cfg(target_os = "linux")]
    {
        crate::affinity::pin_current_thread_to(cpu)
    }
    #[cfg(not(target_os = "linux"))]
    {
        // core_affinity fills a fixed-size `cpu_set_t` and panics on a CPU beyond it.
        cpu < CORE_AFFINITY_MAX_CPUS
            && core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
    }
}

/// CPUs a glibc `cpu_set_t` can name (`CPU_SETSIZE`), the most core_affinity handles.
#[cfg(not(target_os = "linux"))]
const CORE_AFFINITY_MAX_CPUS: usize = 1024;

/// Thread CPU and memory binding through hwloc.
#[cfg(feature = "hwloc")]
mod hwloc_binding {
    use std::sync::OnceLock;

    use hwlocality::bitmap::BitmapIndex;
    use hwlocality::cpu::binding::CpuBindingFlags;
    use hwlocality::cpu::cpuset::CpuSet;
    use hwlocality::memory::binding::{MemoryBindingFlags, MemoryBindingPolicy};
    use hwlocality::memory::nodeset::NodeSet;
    use hwlocality::Topology;

    /// The hwloc topology, loaded once per process (loading takes milliseconds) and
    /// shared by every worker's call: `Topology` is `Sync` and binding only reads it.
    fn topology() -> Option<&'static Topology> {
        static TOPOLOGY: OnceLock<Option<Topology>> = OnceLock::new();
        TOPOLOGY.get_or_init(|| Topology::new().ok()).as_ref()
    }

    /// Binds the calling thread to `cpu` and its memory to `node`. `None` means hwloc
    /// could not be asked at all (the caller falls back to core_affinity); otherwise
    /// whether the CPU binding succeeded.
    pub(super) fn pin(cpu: usize, node: usize) -> Option<bool> {
        let topology = topology()?;
        let mut cpus = CpuSet::new();
        cpus.set(BitmapIndex::try_from(cpu).ok()?);
        if topology.bind_cpu(&cpus, CpuBindingFlags::THREAD).is_err() {
            return Some(false);
        }
        if let Ok(node) = BitmapIndex::try_from(node) {
            let mut nodes = NodeSet::new();
            nodes.set(node);
            // `Bind` without `STRICT` is Linux's MPOL_PREFERRED: allocations go to the
            // node while it has free memory and spill elsewhere instead of failing.
            // Best effort by design (see `pin_current_thread`), so the result is unused.
            let _ = topology.bind_memory(
                &nodes,
                MemoryBindingPolicy::Bind,
                MemoryBindingFlags::THREAD,
            );
        }
        Some(true)
    }
}
