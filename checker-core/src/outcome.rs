//! What a check reports: counts, the verdict and, on an error, a counterexample.

use serde::Serialize;
use std::time::Duration;

use crate::fingerprint::{collision_probability, Fingerprint};
use crate::trace::Trace;

/// Why a search ended before exhausting the state space without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `--max-states` was reached.
    MaxStates,
    /// `--max-depth` was reached with states left unexpanded.
    MaxDepth,
    /// The run was interrupted (the CLI: SIGINT, SIGTERM or SIGHUP); the parallel engine
    /// wrote a checkpoint if it has a work directory.
    Interrupted,
    /// The memory budget would have been exceeded; a checkpoint was written.
    MemoryBudget,
}

/// The kind of property a counterexample violates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum ViolationKind {
    /// The named invariant is false in the last state.
    Invariant(String),
    /// The last state has no successor.
    Deadlock,
}

/// An error found by the search, with its shortest counterexample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// What is violated.
    pub kind: ViolationKind,
    /// Fingerprint of the offending state.
    pub fingerprint: Fingerprint,
    /// From an initial state to the offending state, replayed through the model.
    pub trace: Trace,
}

/// The verdict of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// The whole reachable state space was explored and every property holds.
    Holds,
    /// No error was found, but the search stopped early: the result is partial.
    Partial {
        /// Which limit stopped it.
        reason: StopReason,
    },
    /// An invariant violation or a deadlock.
    Violated(Box<Violation>),
}

/// The result of a check, identical for every engine and worker count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The model's name with parameters.
    pub model: String,
    /// Distinct states stored.
    pub distinct: u64,
    /// States generated: initial states plus every successor computed, duplicates
    /// included (TLC's "states generated").
    pub generated: u64,
    /// Number of BFS levels holding at least one stored state.
    pub depth: u32,
    /// Distinct states per BFS level.
    pub level_sizes: Vec<u64>,
    /// States expanded that had no successor.
    pub deadlocks: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// Wall time of the search.
    #[serde(serialize_with = "serialize_secs")]
    pub elapsed: Duration,
}

fn serialize_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Outcome {
    /// TLC's estimate that a fingerprint collision hid a state.
    pub fn collision_probability(&self) -> f64 {
        collision_probability(self.distinct, self.generated)
    }

    /// Distinct states per second of wall time.
    pub fn distinct_per_second(&self) -> f64 {
        self.distinct as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The process exit code this outcome calls for: 1 for a violation; 3 for a run
    /// stopped by an interrupt or the memory budget, to be resumed from its
    /// checkpoint; else 0.
    pub fn exit_code(&self) -> i32 {
        match self.verdict {
            Verdict::Violated(_) => 1,
            Verdict::Partial {
                reason: StopReason::Interrupted | StopReason::MemoryBudget,
            } => 3,
            _ => 0,
        }
    }

    /// The violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        match &self.verdict {
            Verdict::Violated(v) => Some(v),
            _ => None,
        }
    }
}
