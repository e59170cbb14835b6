//! The end of a level: the two all-to-all rounds, the decision every worker takes
//! identically (next level, done, limit, error, checkpoint), and this worker's part of
//! a checkpoint.

use std::sync::atomic::Ordering;

use checker_core::{Model, StopReason};

use super::{batch_room, Ending, PartialLevel, Worker, MEMORY_CHECK_EVERY};
use crate::checkpoint::{self, WorkerFile};
use crate::frontier::Frontier;
use crate::message::{LevelSummary, Message, SummaryFlags};
use crate::telemetry::{Activity, WaitFor};

impl<M: Model> Worker<'_, M> {
    /// The two all-to-all rounds that end a level (see the module doc).
    fn end_level(&mut self) {
        self.stop_if_abandoned();
        for to in 0..self.workers {
            if to != self.id && !self.outgoing[to].is_empty() {
                self.send_batch(to);
            }
        }
        self.level_report.merge(&self.own_report);
        let report = self.own_report;
        self.broadcast(|| Message::EndOfLevel(report));
        self.wait_until(WaitFor::Markers, |w| w.markers_missing == 0);
        let previous_lap = self.telemetry.levels.unsent.take();
        if let (1.., Some(lap)) = (self.id, previous_lap) {
            // Before the summary: worker 0 has every lap once it has every summary.
            self.send(0, Message::Lap(lap));
        }
        let summary = LevelSummary {
            new_states: self.state.next.len(),
            distinct: self.state.log.len(),
            flags: self.summary_flags(),
            errors: self.stored_errors,
        };
        self.level_summary.merge(&summary);
        self.broadcast(|| Message::Summary(summary));
        self.wait_until(WaitFor::Summaries, |w| w.summaries_missing == 0);
        if let (0, Some(own)) = (self.id, previous_lap) {
            let others = std::mem::take(&mut self.laps_received);
            self.telemetry.levels.combine(own, &others, self.workers);
        }
    }

    /// What this worker asks of everyone at the end of the level.
    fn summary_flags(&mut self) -> SummaryFlags {
        if let Some(e) = self.state.next.take_error() {
            self.io_error
                .get_or_insert_with(|| format!("spilling the frontier: {e}"));
        }
        SummaryFlags {
            interrupt: self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)),
            // One clock decides for everyone: worker 0's.
            checkpoint_due: self.id == 0
                && self.checkpoints.dir.is_some()
                && self
                    .checkpoints
                    .every
                    .is_some_and(|every| self.segment_start.elapsed() >= every),
            over_budget: self
                .memory_share
                .is_some_and(|share| self.projected_memory() > share),
            memory_exhausted: self.memory_exhausted.load(Ordering::Relaxed),
            paused: self.pausing,
            failed: self.io_error.is_some(),
        }
    }

    /// The memory this worker uses, plus what the next doubling of each structure
    /// that grows by doubling would add: the table (counted as half of it), the
    /// level's log entries and its index. Past the share, the run stops before that
    /// growth, at the level end or part-way through the level.
    pub(super) fn projected_memory(&self) -> u64 {
        self.memory_in_use().saturating_add(
            self.state.table.memory_bytes() as u64 / 2
                + self.state.log.level_bytes()
                + self.level_index.memory_bytes() as u64,
        )
    }

    /// Every [`MEMORY_CHECK_EVERY`] stored batches, part-way through a level: if this
    /// worker's projected memory passes its share, tells every worker to stop
    /// expanding (see [`WorkerSetup::memory_exhausted`](super::WorkerSetup)).
    #[inline]
    pub(super) fn check_memory(&mut self) {
        self.memory_check_in -= 1;
        if self.memory_check_in > 0 {
            return;
        }
        self.memory_check_in = MEMORY_CHECK_EVERY;
        if self.memory_share.is_some_and(|share| {
            !self.memory_exhausted.load(Ordering::Relaxed) && self.projected_memory() > share
        }) {
            self.memory_exhausted.store(true, Ordering::Relaxed);
        }
    }

    /// Whether to stop expanding: the user interrupted the run, or some worker's
    /// memory would pass its share.
    pub(super) fn should_pause(&self) -> bool {
        self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed))
            || self.memory_exhausted.load(Ordering::Relaxed)
    }

    fn memory_in_use(&self) -> u64 {
        (self.state.table.memory_bytes() as u64
            + self.state.log.memory_bytes()
            + self.state.frontier.allocated_bytes() as u64
            + self.expanding_bytes
            + self.state.next.allocated_bytes() as u64
            + self.level_index.memory_bytes() as u64)
            // Saturating: a huge `batch_bytes` counts as memory past any share.
            .saturating_add(
                self.batch_buffers
                    .saturating_mul(batch_room(self.batch_bytes) as u64),
            )
    }

    /// Ends the level: the rounds, then the decision every worker takes identically.
    pub(super) fn finish_level(&mut self) -> Option<Ending> {
        self.end_level();
        self.level_report.errors.merge(&self.level_summary.errors);
        if self.level_summary.flags.paused {
            // Some worker stopped expanding: every worker saves its part of the level
            // as it stands (nothing of it is counted in the totals yet).
            let mut report = self.own_report;
            report.errors.merge(&self.stored_errors);
            self.state.partial = Some(PartialLevel {
                // Counted from the first state the frontier still holds.
                expanded: self.frontier_base + self.done_in_level
                    - self.state.frontier.first_index(),
                report,
                log: self.state.log.take_level(),
                next: std::mem::replace(&mut self.state.next, Frontier::in_memory()),
            });
            // A pause is the memory budget's only if the memory ran out part-way;
            // otherwise the user asked for it.
            return Some(Ending::Limit(
                if self.level_summary.flags.memory_exhausted {
                    StopReason::MemoryBudget
                } else {
                    StopReason::Interrupted
                },
            ));
        }
        self.state.counters.generated += self.own_report.generated;
        self.state.counters.expanded += self.own_report.expanded;
        if let Err(e) = self.state.log.seal_level() {
            self.io_error
                .get_or_insert_with(|| format!("writing the parent log: {e}"));
        }
        let depth = if self.global.started {
            self.global.depth + 1
        } else {
            0
        };
        let lap = self.level_clock.lap(&self.clock);
        self.telemetry.levels.complete(depth, lap);
        if let Some(ending) = self.decide(depth) {
            return Some(ending);
        }
        std::mem::swap(&mut self.state.frontier, &mut self.state.next);
        self.global.depth = depth;
        self.global.started = true;
        self.progress[self.id]
            .level
            .store(u64::from(depth), Ordering::Relaxed);
        let flags = self.level_summary.flags;
        if flags.failed {
            return Some(Ending::Failed);
        }
        if flags.over_budget || flags.memory_exhausted {
            return Some(Ending::Limit(StopReason::MemoryBudget));
        }
        if flags.interrupt {
            return Some(Ending::Limit(StopReason::Interrupted));
        }
        if flags.checkpoint_due {
            return Some(Ending::Checkpoint);
        }
        None
    }

    /// The decision once the level of depth `depth` is built. Mirrors
    /// `checker_core::sequential`.
    fn decide(&mut self, depth: u32) -> Option<Ending> {
        let totals = &mut self.global.totals;
        totals.generated += self.level_report.generated;
        totals.deadlocks += self.level_report.deadlocks;
        totals.distinct = self.level_summary.distinct;
        if self.level_summary.new_states > 0 {
            if self.id == 0 {
                totals.level_sizes.push(self.level_summary.new_states);
            }
            self.global.last_level_size = Some(self.level_summary.new_states);
        }
        if self.level_report.errors.any() {
            return Some(Ending::Error);
        }
        if self.level_summary.flags.failed {
            return Some(Ending::Failed);
        }
        if self.level_summary.new_states == 0 {
            return Some(Ending::Exhausted);
        }
        if self.options.max_depth.is_some_and(|d| depth + 1 >= d) {
            return Some(Ending::Limit(StopReason::MaxDepth));
        }
        if self
            .options
            .max_states
            .is_some_and(|n| totals.distinct >= n)
        {
            return Some(Ending::Limit(StopReason::MaxStates));
        }
        None
    }

    /// Writes this worker's part of the checkpoint, if the run has a directory for it.
    pub(super) fn write_checkpoint(&mut self) -> Option<WorkerFile> {
        let dir = self.checkpoints.dir.clone()?;
        let previous = self.clock.switch(Activity::Checkpointing);
        let result = self
            .state
            .log
            .sync()
            .map_err(|e| format!("syncing the parent log: {e}"))
            .and_then(|()| {
                checkpoint::write_worker(
                    &dir,
                    self.id,
                    &self.state.table,
                    &self.state.frontier,
                    self.state.counters,
                    self.state.log.len(),
                    self.state.partial.as_ref(),
                )
                .map_err(|e| e.to_string())
            });
        self.clock.switch(previous);
        match result {
            Ok(file) => Some(file),
            Err(e) => {
                self.io_error.get_or_insert(e);
                None
            }
        }
    }
}
