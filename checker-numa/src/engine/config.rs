//! How a run is set up: its worker count, batches, rings, pinning, memory budget and
//! limits, work directory and checkpoints, and when workers share expansion.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::checkpoint::RunIdentity;
use crate::process_limits::MemoryLimits;
use crate::topology::Topology;
use crate::workdir_lock::WorkdirLock;

/// Where a run keeps its files and when it checkpoints.
#[derive(Clone, Debug)]
pub struct Persistence {
    /// The work directory: parent logs, spilled frontiers, checkpoints.
    pub workdir: PathBuf,
    /// Checkpoint at the first level end after each such period.
    pub checkpoint_every: Option<Duration>,
    /// Continue from the newest checkpoint in `workdir` instead of starting afresh. A
    /// fresh run (`false`) is refused where `workdir` holds a checkpoint: it would
    /// rewrite the parent logs the checkpoint needs.
    pub resume: bool,
    /// What identifies the run; a resumed checkpoint must match it.
    pub identity: RunIdentity,
    /// The lock on `workdir`, if the caller took it (with [`WorkdirLock::take`]) before
    /// reading anything there itself, e.g. the checkpoint's model and settings; the
    /// engine then takes none of its own. `None`: the engine takes it.
    pub lock: Option<Arc<WorkdirLock>>,
}

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Number of workers; 0 means one per CPU the process may use (or, when resuming,
    /// the checkpoint's count). Each worker is a thread with Rust's default stack of
    /// 2 MiB (or `RUST_MIN_STACK` bytes, which the memory checks count too), where the
    /// sequential checker runs on the caller's: a model whose methods recurse deeply
    /// needs `RUST_MIN_STACK` set.
    pub workers: usize,
    /// An outgoing batch is sent once it holds this many bytes.
    pub batch_bytes: usize,
    /// Messages each (sender, receiver) ring holds.
    pub ring_capacity: usize,
    /// Whether to pin each worker to its CPU.
    pub pin: bool,
    /// The machine's topology; detected when `None`.
    pub topology: Option<Topology>,
    /// Bytes of memory the run may use; past it the run checkpoints and stops (`None`:
    /// no budget, unless `memory_limits` sets one). A worker count whose mailboxes
    /// alone ([`mailbox_memory`](crate::mailbox_memory::mailbox_memory)) need more
    /// than the budget (as lowered by `memory_limits`), and more than 64 MiB, is
    /// refused before anything is allocated (as is one whose mailboxes exceed the
    /// machine's memory or the address-space limit, budget or not).
    pub memory_budget: Option<u64>,
    /// Which of the process's limits the budget is lowered to fit when the run starts
    /// ([`process_limits`](crate::process_limits)); none by default. With them, a run
    /// checkpoints and stops before it would be killed or aborted for memory, and a
    /// limit that leaves too little for the workers to start is refused.
    pub memory_limits: MemoryLimits,
    /// Bytes of a frontier kept in memory before it spills to the work directory;
    /// defaults to a quarter of each worker's share of the memory budget.
    pub frontier_spill_bytes: Option<usize>,
    /// Work directory and checkpoints; `None` keeps everything in memory.
    pub persistence: Option<Persistence>,
    /// When a worker that has expanded its own frontier expands part of a slower
    /// worker's (states are still stored by their owners only): by default, unless
    /// the run is oversubscribed.
    pub share_expansion: ExpansionSharing,
}

/// When a worker that has expanded its own frontier expands part of a slower worker's
/// (ARCHITECTURE.md, "Expansion sharing").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExpansionSharing {
    /// Unless the run is oversubscribed (more workers than CPUs it may use at once).
    /// Sharing evens out cores of unequal speed; with more workers than CPUs the
    /// scheduler evens them out, and every share waits for other threads to be
    /// scheduled (the owner to answer, the asker to expand it), so a level's end waits
    /// longer: `pgm_protocol.8` at 48 workers on 2 busy CPUs took 7.3 to 7.5 s with
    /// sharing against 5.9 to 6.0 s without (docs/benchmarks.md).
    #[default]
    Auto,
    /// Always, oversubscribed or not (to exercise sharing on a small machine).
    Always,
    /// Never (to measure what sharing brings).
    Never,
}

impl ExpansionSharing {
    /// `Always` if `on`, else `Never`: sharing decided by the caller, whatever the
    /// machine.
    pub fn forced(on: bool) -> Self {
        if on {
            ExpansionSharing::Always
        } else {
            ExpansionSharing::Never
        }
    }

    /// Whether a run shares expansion, `oversubscribed` or not.
    pub fn is_on(self, oversubscribed: bool) -> bool {
        match self {
            ExpansionSharing::Auto => !oversubscribed,
            ExpansionSharing::Always => true,
            ExpansionSharing::Never => false,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: 0,
            batch_bytes: 8 * 1024,
            ring_capacity: 16,
            pin: true,
            topology: None,
            memory_budget: None,
            memory_limits: MemoryLimits::default(),
            frontier_spill_bytes: None,
            persistence: None,
            share_expansion: ExpansionSharing::Auto,
        }
    }
}
