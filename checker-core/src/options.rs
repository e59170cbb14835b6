//! What a check is asked to do, shared by every engine.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A snapshot of a running search, handed to the progress callback.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// States generated so far (initial states plus every successor computed).
    pub generated: u64,
    /// Distinct states stored so far.
    pub distinct: u64,
    /// States waiting to be expanded.
    pub frontier: u64,
    /// The BFS level being expanded (0 = initial states).
    pub depth: u32,
    /// Time since the search started.
    pub elapsed: Duration,
}

/// A progress callback; engines call it every [`CheckOptions::progress_interval`].
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Sync);

/// Limits and switches common to all engines.
#[derive(Clone)]
pub struct CheckOptions<'a> {
    /// Stop, with a partial result, at the end of the first BFS level after which at
    /// least this many distinct states are stored.
    pub max_states: Option<u64>,
    /// Explore at most this many BFS levels: states at depth `max_depth - 1` are stored
    /// and checked but not expanded.
    pub max_depth: Option<u32>,
    /// Whether a state without successors is an error (on by default, as in TLC).
    pub check_deadlock: bool,
    /// Called about every `progress_interval` while the search runs.
    pub progress: Option<ProgressFn<'a>>,
    /// How often to call `progress`.
    pub progress_interval: Duration,
    /// Set from another thread (a signal handler) to stop the search early with
    /// [`StopReason::Interrupted`](crate::StopReason::Interrupted). The sequential
    /// checker stops within a few thousand states; the parallel engine writes a
    /// checkpoint first when it has a work directory.
    pub interrupt: Option<&'a AtomicBool>,
}

impl Default for CheckOptions<'_> {
    fn default() -> Self {
        CheckOptions {
            max_states: None,
            max_depth: None,
            check_deadlock: true,
            progress: None,
            progress_interval: Duration::from_secs(5),
            interrupt: None,
        }
    }
}

impl std::fmt::Debug for CheckOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckOptions")
            .field("max_states", &self.max_states)
            .field("max_depth", &self.max_depth)
            .field("check_deadlock", &self.check_deadlock)
            .field("progress", &self.progress.is_some())
            .field("progress_interval", &self.progress_interval)
            .field("interrupt", &self.interrupt)
            .finish()
    }
}
