//! The partitioned parallel engine.
//!
//! The fingerprint space is hash-partitioned: every state has exactly one owner worker
//! ([`partition::owner_of`]), a pure function of its fingerprint. Each worker owns its
//! partition's visited table, frontier and parent log exclusively. A successor owned
//! by another worker travels in a batch through a bounded single-producer /
//! single-consumer ring dedicated to that (sender, receiver) pair. Level-synchronous
//! BFS gives exactly the sequential checker's counts and counterexamples for any
//! worker count. See ARCHITECTURE.md for the path of one state and every cross-thread
//! write.
#![warn(missing_docs)]

#[cfg(target_os = "linux")]
pub mod affinity;
pub mod checkpoint;
pub mod engine;
pub mod frontier;
pub mod hints;
pub mod level_index;
pub mod mailbox;
pub mod mailbox_memory;
pub mod message;
pub mod parent_log;
pub mod partition;
pub mod pin;
pub mod placement;
pub mod process_limits;
pub mod resume_limits;
pub mod ring;
pub mod setup_barrier;
pub mod short_eq;
pub mod state_chunk;
pub mod table;
pub mod telemetry;
pub mod topology;
pub mod workdir_lock;
pub mod worker;

pub use engine::{
    check, EngineConfig, EngineError, ExpansionSharing, ParallelOutcome, Persistence,
};
pub use telemetry::{
    CombinedLap, LapSum, LevelLap, LevelLaps, LevelTelemetry, SmallLevels, Spread, Telemetry,
    WorkerTelemetry,
};
