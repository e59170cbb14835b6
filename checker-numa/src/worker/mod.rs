//! One worker: the sole owner of its partition's visited table, frontier and parent
//! log. It expands its frontier, stores the successors it owns, batches the others to
//! their owners, and stores what other workers send it. It asks a worker far behind it
//! for a share of that worker's frontier (pacing), and, once its own frontier is
//! expanded, asks the slowest ones, and expands those shares too (a share is a copy of
//! consecutive frontier states; storage never moves).
//!
//! A level ends in two all-to-all rounds through the mailboxes, with no shared counter:
//! 1. having expanded its frontier and flushed every batch, a worker sends an
//!    end-of-level marker (its report: expansions, deadlocks) to every other worker, then
//!    keeps storing incoming states until it holds every other worker's marker. Rings
//!    are FIFO, so it now has every state of the next level that it owns;
//! 2. it sends a summary (its share of the next level, its distinct count, the
//!    invariant violations among the new states it stored) to everyone and waits for
//!    everyone's summary.
//!
//! Every worker then holds the same reports and summaries and takes the same decision:
//! next level, done, or stop. A worker never pops a sender's messages past that
//! sender's summary until it has decided, so a fast worker's next-level states wait
//! in their ring instead of mixing with the current level.

use crossbeam_utils::{Backoff, CachePadded};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use checker_core::level::LevelErrors;
use checker_core::model::first_violated_invariant;
use checker_core::short_copy::pack_buffer;
use checker_core::{fingerprint, CheckOptions, Model, StopReason};

use crate::checkpoint::{Totals, WorkerCounters, WorkerFile};
use crate::frontier::Frontier;
use crate::level_index::LevelIndex;
use crate::mailbox::{MailboxReceiver, MailboxSender};
use crate::message::{Batch, Entry, LevelReport, LevelSummary, Message};
use crate::parent_log::{LevelEntry, ParentLog};
use crate::partition::{owner_of, ParentRef};
use crate::table::FingerprintSet;
use crate::telemetry::{Activity, LapSum, LevelClock, TimeSplit, WaitFor, WorkerTelemetry};

mod expand;
mod level_end;
mod messages;
mod sharing;
mod store;

use sharing::OwnRequest;
use store::{PendingOffer, OFFER_WINDOW};

/// Expanded states between two looks at the inbox during expansion (of the own
/// frontier or of a share).
const POLL_EVERY: usize = 64;

/// Batches stored between two comparisons of a worker's memory with its share, part-way
/// through a level: a few hundred KiB of states at most, against structures that grow
/// by doubling.
const MEMORY_CHECK_EVERY: u32 = 16;

/// Bits of [`ProgressSlot::unexpanded`] that hold the count (the level tag is above).
const UNEXPANDED_COUNT_BITS: u32 = 40;
const UNEXPANDED_COUNT_MASK: u64 = (1 << UNEXPANDED_COUNT_BITS) - 1;

/// Figures a worker publishes for the progress monitor: written only by the worker
/// (relaxed stores, never read-modify-write), read by the monitor thread and, for
/// `unexpanded`, by workers looking for a share.
#[derive(Debug, Default)]
pub struct ProgressSlot {
    /// Successors computed so far by this worker.
    pub generated: AtomicU64,
    /// Distinct states this worker owns.
    pub distinct: AtomicU64,
    /// States left in this worker's current frontier plus its next one.
    pub frontier: AtomicU64,
    /// Level being expanded.
    pub level: AtomicU64,
    /// States of this worker's frontier, in the level being expanded, that no worker has
    /// taken up yet (0 once it has expanded or handed out all of them), in the low
    /// `UNEXPANDED_COUNT_BITS` bits, under a tag of the level (its depth plus one, in
    /// the bits above). Workers with nothing left to expand read it to choose whom to
    /// ask for a share; the tag tells them whether this worker has begun the level.
    pub unexpanded: AtomicU64,
}

/// What a worker unwinds with when it stops because another worker panicked.
#[derive(Debug)]
pub struct Abandoned;

/// How a run segment ended, as every worker decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Nothing left to expand.
    Exhausted,
    /// A limit stopped the search.
    Limit(StopReason),
    /// An error was found; the chosen one is in [`WorkerResult::errors`].
    Error,
    /// A periodic checkpoint was written; the search goes on.
    Checkpoint,
    /// An I/O error (work directory, spill file) made the run stop.
    Failed,
}

/// A level interrupted part-way (by a signal, or memory running short), as a checkpoint saves it: resuming
/// skips the frontier's first `expanded` states and carries on with the rest.
pub struct PartialLevel {
    /// States of the frontier already expanded (in frontier order).
    pub expanded: u64,
    /// This worker's report for the part done.
    pub report: LevelReport,
    /// The level's parent-log entries so far, with their parents' fingerprints (not
    /// sealed: a parent may still change).
    pub log: Vec<LevelEntry>,
    /// The next level's states so far.
    pub next: Frontier,
}

/// Everything a worker owns that outlives one run segment: what a checkpoint saves.
pub struct WorkerState {
    /// The visited table.
    pub table: FingerprintSet,
    /// The parent log.
    pub log: ParentLog,
    /// States to expand at the next level.
    pub frontier: Frontier,
    /// Buffer for the level being built (kept to reuse its memory).
    pub next: Frontier,
    /// Counters that survive a resume.
    pub counters: WorkerCounters,
    /// The level interrupted part-way, if the run stopped inside one.
    pub partial: Option<PartialLevel>,
}

/// The totals every worker agrees on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GlobalTotals {
    /// Counts so far. Only worker 0 keeps `totals.level_sizes` (the driver reads its
    /// totals alone); the others' is empty, since a list of every level's size in each
    /// worker cost 8 bytes a level per worker (a gigabyte for a million levels at 128
    /// workers).
    pub totals: Totals,
    /// The size of the last level stored (the frontier's), which every worker keeps;
    /// `None` before the first.
    pub last_level_size: Option<u64>,
    /// Depth of the frontier's states (the next level to expand).
    pub depth: u32,
    /// Whether the initial states have been stored (false only before the first level).
    pub started: bool,
}

impl GlobalTotals {
    /// The totals to hand worker `id`: without the level sizes unless it is worker 0.
    pub fn for_worker(&self, id: usize) -> GlobalTotals {
        let level_sizes = if id == 0 {
            self.totals.level_sizes.clone()
        } else {
            Vec::new()
        };
        GlobalTotals {
            totals: Totals {
                distinct: self.totals.distinct,
                generated: self.totals.generated,
                deadlocks: self.totals.deadlocks,
                level_sizes,
            },
            ..*self
        }
    }
}

/// What a worker hands back when a run segment ends.
pub struct WorkerResult {
    /// Its state, to continue after a checkpoint or rebuild a counterexample.
    pub state: WorkerState,
    /// Its telemetry for this segment.
    pub telemetry: WorkerTelemetry,
    /// The agreed totals (the level sizes in worker 0's only).
    pub totals: GlobalTotals,
    /// How the segment ended.
    pub ending: Ending,
    /// The errors of the final level (merged over all workers).
    pub errors: LevelErrors,
    /// The checkpoint file it wrote, if the segment ended in a checkpoint.
    pub checkpoint_file: Option<WorkerFile>,
    /// An I/O error that ended the run.
    pub io_error: Option<String>,
}

/// Where and when to write checkpoints, and how to learn of an interrupt.
#[derive(Clone, Debug, Default)]
pub struct CheckpointPlan {
    /// The checkpoint directory of this segment, if checkpoints can be written.
    pub dir: Option<PathBuf>,
    /// Write one at the first level end after this much time in the segment.
    pub every: Option<Duration>,
}

/// Fixed settings of one worker.
pub struct WorkerSetup<'a, M: Model> {
    /// This worker's number.
    pub id: usize,
    /// Number of workers.
    pub workers: usize,
    /// The model.
    pub model: &'a M,
    /// Limits and switches.
    pub options: &'a CheckOptions<'a>,
    /// Bytes at which an outgoing batch is sent.
    pub batch_bytes: usize,
    /// Mailbox senders, indexed by destination (`None` at `id`).
    pub senders: Vec<Option<MailboxSender<Message>>>,
    /// Mailbox receivers, indexed by source (`None` at `id`).
    pub receivers: Vec<Option<MailboxReceiver<Message>>>,
    /// Every worker's progress slot (this worker publishes in its own, at `id`).
    pub progress: &'a [CachePadded<ProgressSlot>],
    /// Whether a worker that has expanded its frontier takes over part of a slower
    /// worker's (see `Worker::help_others`).
    pub share_expansion: bool,
    /// Whether there are more workers than CPUs: then a worker with nothing to do
    /// sleeps between polls, so that the others get the CPUs; otherwise it yields,
    /// and answers the end of a level without a sleep's delay (see `wait`).
    pub oversubscribed: bool,
    /// Telemetry fields known before the start (node, cpu).
    pub telemetry: WorkerTelemetry,
    /// The worker's memory share in bytes; past it the run stops with a checkpoint.
    pub memory_share: Option<u64>,
    /// Checkpoint directory and period.
    pub checkpoints: CheckpointPlan,
    /// Set (by a signal handler) when the user asks the run to stop.
    pub interrupt: Option<&'a AtomicBool>,
    /// Set when another worker's thread has panicked (in the model's code, say), or
    /// the driver's (in the progress callback): the messages this worker waits for
    /// may never come, so it panics too when it next waits or ends a level, and the
    /// run ends with the panic instead of hanging.
    pub abandoned: &'a AtomicBool,
    /// Set by the first worker whose memory, with the next doubling of its growing
    /// structures, would pass its share part-way through a level (a level can outgrow
    /// a share many times over, and an allocation past the process's limits aborts
    /// it): every worker then stops expanding, as on an interrupt, and the level is
    /// saved part-way with the run's checkpoint.
    pub memory_exhausted: &'a AtomicBool,
    /// The agreed totals so far (default for a fresh run).
    pub totals: GlobalTotals,
}

/// The state of one worker during a run segment.
pub struct Worker<'a, M: Model> {
    id: usize,
    workers: usize,
    model: &'a M,
    options: &'a CheckOptions<'a>,
    invariants: usize,
    /// Whether a counterexample can be asked for, so parents must be chosen canonically.
    track_parents: bool,
    batch_bytes: usize,
    /// Batch buffers this worker has allocated: its own batch's, and each batch it
    /// made (rather than got back emptied) counted when first sent, which it is only
    /// once it holds a state and so has its buffer. They stay in its hands, in its
    /// rings or at the receivers until the segment ends, so its memory (and the memory
    /// budget) counts them.
    batch_buffers: u64,
    /// Per destination: whether the batch for it is one this worker made and has not
    /// sent yet (its buffer is not counted in `batch_buffers` yet).
    outgoing_uncounted: Vec<bool>,
    state: WorkerState,
    /// Fingerprint to position for the level being built.
    level_index: LevelIndex,
    /// Parents offered to this level's states, waiting to be compared: the first
    /// `pending_count`.
    pending_offers: [PendingOffer; OFFER_WINDOW],
    pending_count: usize,
    outgoing: Vec<Batch>,
    senders: Vec<Option<MailboxSender<Message>>>,
    receivers: Vec<Option<MailboxReceiver<Message>>>,
    /// Per source: its summary for this level has arrived (stop reading it).
    has_summary: Vec<bool>,
    markers_missing: usize,
    summaries_missing: usize,
    own_report: LevelReport,
    /// Invariant violations among the new states this worker stored in this level
    /// (its own successors and those other workers sent); they travel in its summary,
    /// since states keep arriving after its end-of-level marker.
    stored_errors: LevelErrors,
    /// A typed state that new states are unpacked into for their invariant check.
    scratch: Option<M::State>,
    /// The typed state that frontier states are unpacked into for expansion, and the
    /// buffer successors are packed into: kept from level to level, since a level of a
    /// deep, narrow model expands a state or two, and making them afresh in each level
    /// cost an allocation or two a level (a DVE state is in 128-byte aligned blocks).
    expansion_scratch: Option<M::State>,
    /// See `expansion_scratch`.
    pack_buf: Vec<u8>,
    level_report: LevelReport,
    level_summary: LevelSummary,
    global: GlobalTotals,
    clock: TimeSplit,
    /// Laps `clock` at each level end for the per-level figures.
    level_clock: LevelClock,
    /// Worker 0's: the other workers' laps of the previous level received so far in
    /// this one (`Message::Lap`).
    laps_received: LapSum,
    telemetry: WorkerTelemetry,
    /// Every worker's progress slot: this worker publishes in its own (at `id`) and
    /// reads the others' to find whom to ask for a share.
    progress: &'a [CachePadded<ProgressSlot>],
    share_expansion: bool,
    /// See [`WorkerSetup::oversubscribed`].
    oversubscribed: bool,
    /// Per source: how many states it asked for (0: no request waits for an answer).
    asked_by: Vec<u64>,
    asks_pending: usize,
    /// Per worker: it answered this level's request with no states, so it has none
    /// left to hand out in this level.
    refused_by: Vec<bool>,
    /// Where this worker's own request for a share stands.
    own_request: OwnRequest,
    /// The worker whose progress pacing looked at last.
    pace_next: usize,
    memory_share: Option<u64>,
    checkpoints: CheckpointPlan,
    interrupt: Option<&'a AtomicBool>,
    abandoned: &'a AtomicBool,
    memory_exhausted: &'a AtomicBool,
    /// Stored batches until the memory is next compared with the share.
    memory_check_in: u32,
    /// Bytes held by the frontier being expanded, which is out of `state` meanwhile.
    expanding_bytes: u64,
    segment_start: Instant,
    io_error: Option<String>,
    /// States of the current frontier to skip (expanded before an interrupt or a
    /// memory stop).
    skip: u64,
    /// What this worker had done when the segment began: its counters plus the part
    /// of a level saved part-way. The telemetry reports what it has done at the end
    /// (the same sum) beyond this, so that it counts what this process did, as its
    /// times and traffic do (a resumed run's counters carry the checkpointed run's
    /// work).
    counted_before: WorkerCounters,
    /// States of the current frontier gone through in this level, skipped ones included.
    done_in_level: u64,
    /// Log index of the current frontier's first state when its expansion began: the
    /// frontier holds (the rest of) the last sealed level, in log order, so the
    /// `i`-th state gone through has log index `frontier_base + i`.
    frontier_base: u64,
    /// This worker saw the interrupt (or the memory run out) and stopped expanding.
    pausing: bool,
}

impl<'a, M: Model> Worker<'a, M> {
    /// Prepares a worker over `state`; call it on the worker's own (pinned) thread so
    /// that new memory is first touched on its NUMA node.
    pub fn new(setup: WorkerSetup<'a, M>, state: WorkerState) -> Self {
        let invariants = setup.model.invariant_names().len();
        let clock = TimeSplit::start(Activity::Expanding);
        let counted_before = done_so_far(&state);
        Worker {
            id: setup.id,
            workers: setup.workers,
            model: setup.model,
            options: setup.options,
            invariants,
            track_parents: setup.options.check_deadlock || invariants > 0,
            batch_bytes: setup.batch_bytes,
            batch_buffers: 1,
            outgoing_uncounted: vec![true; setup.workers],
            state,
            level_index: LevelIndex::new(),
            outgoing: (0..setup.workers)
                .map(|_| Batch::unallocated(batch_room(setup.batch_bytes)))
                .collect(),
            senders: setup.senders,
            receivers: setup.receivers,
            has_summary: vec![false; setup.workers],
            pending_offers: [PendingOffer::NONE; OFFER_WINDOW],
            pending_count: 0,
            markers_missing: 0,
            summaries_missing: 0,
            own_report: LevelReport::default(),
            stored_errors: LevelErrors::default(),
            scratch: None,
            expansion_scratch: None,
            pack_buf: pack_buffer(),
            level_report: LevelReport::default(),
            level_summary: LevelSummary::default(),
            global: setup.totals,
            level_clock: LevelClock::start(&clock),
            laps_received: LapSum::default(),
            clock,
            telemetry: setup.telemetry,
            progress: setup.progress,
            share_expansion: setup.share_expansion && setup.workers > 1,
            oversubscribed: setup.oversubscribed,
            asked_by: vec![0; setup.workers],
            asks_pending: 0,
            refused_by: vec![false; setup.workers],
            own_request: OwnRequest::None,
            pace_next: setup.id,
            memory_share: setup.memory_share,
            checkpoints: setup.checkpoints,
            interrupt: setup.interrupt,
            abandoned: setup.abandoned,
            memory_exhausted: setup.memory_exhausted,
            memory_check_in: MEMORY_CHECK_EVERY,
            expanding_bytes: 0,
            segment_start: Instant::now(),
            io_error: None,
            skip: 0,
            counted_before,
            done_in_level: 0,
            frontier_base: 0,
            pausing: false,
        }
    }

    /// Runs the search until it ends or a checkpoint is due.
    pub fn run(mut self) -> WorkerResult {
        let mut ending = None;
        if !self.global.started {
            self.begin_level();
            self.store_initial_states();
            ending = self.finish_level();
        }
        let ending = loop {
            if let Some(e) = ending {
                break e;
            }
            let resumed = self.state.partial.take();
            self.begin_level();
            if let Some(partial) = resumed {
                self.restore_partial(partial);
            }
            let mut frontier = std::mem::replace(&mut self.state.frontier, Frontier::in_memory());
            self.expand(&mut frontier);
            // After the level it becomes the buffer for the next one, or what is left of
            // it is saved if the level was interrupted.
            self.state.frontier = frontier;
            ending = self.finish_level();
        };
        let checkpoint_file = match ending {
            Ending::Checkpoint
            | Ending::Limit(StopReason::Interrupted | StopReason::MemoryBudget) => {
                self.write_checkpoint()
            }
            _ => None,
        };
        self.clock.stop();
        let t = &mut self.telemetry;
        // The split's own wall time: a clock read apart from the split's (a preempted
        // thread can lose milliseconds between two reads) would not add up with it.
        t.wall_s = self.clock.wall().as_secs_f64();
        t.expanding_s = self.clock.total(Activity::Expanding).as_secs_f64();
        t.receiving_s = self.clock.total(Activity::Receiving).as_secs_f64();
        t.sending_s = self.clock.total(Activity::Sending).as_secs_f64();
        t.checkpointing_s = self.clock.total(Activity::Checkpointing).as_secs_f64();
        let idle = |w| self.clock.total(Activity::Idle(w)).as_secs_f64();
        t.idle_share_answers_s = idle(WaitFor::Share);
        t.idle_markers_s = idle(WaitFor::Markers);
        t.idle_summaries_s = idle(WaitFor::Summaries);
        t.idle_s = self.clock.idle().as_secs_f64();
        t.owned = self.state.log.len();
        // A level's report only grows from the part restored, so neither goes below.
        let done = done_so_far(&self.state);
        t.generated = done.generated - self.counted_before.generated;
        t.expanded = done.expanded - self.counted_before.expanded;
        t.table_bytes = self.state.table.memory_bytes() as u64;
        t.log_bytes = self.state.log.memory_bytes();
        let ending = if self.io_error.is_some() {
            Ending::Failed
        } else {
            ending
        };
        WorkerResult {
            state: self.state,
            telemetry: self.telemetry,
            totals: self.global,
            ending,
            errors: self.level_report.errors,
            checkpoint_file,
            io_error: self.io_error,
        }
    }

    fn begin_level(&mut self) {
        self.state.next.clear();
        // One pool of chunks for both frontiers: expansion hands the current
        // frontier's chunks to the next one as it empties them.
        self.state.next.adopt_pool(&mut self.state.frontier);
        let first = self.state.log.level_start();
        self.state.next.set_first_index(first);
        self.level_index.clear();
        self.state.table.clear_marks();
        self.own_report = LevelReport::default();
        self.stored_errors = LevelErrors::default();
        self.level_report = LevelReport::default();
        self.level_summary = LevelSummary::default();
        self.has_summary.iter_mut().for_each(|h| *h = false);
        self.refused_by.iter_mut().for_each(|r| *r = false);
        debug_assert!(self.asks_pending == 0 && matches!(self.own_request, OwnRequest::None));
        debug_assert_eq!(self.pending_count, 0, "offers are settled with their batch");
        self.markers_missing = self.workers - 1;
        self.summaries_missing = self.workers - 1;
        self.skip = 0;
        self.done_in_level = 0;
        self.pausing = false;
    }

    /// Takes up a level interrupted part-way (after `begin_level`).
    fn restore_partial(&mut self, partial: PartialLevel) {
        self.skip = partial.expanded;
        // Done by the run that stopped: in `counted_before` already, and left out of
        // this level's expansions in the telemetry.
        self.telemetry.levels.expanded_before_resume = partial.report.expanded;
        self.own_report = partial.report;
        for (pos, e) in partial.log.into_iter().enumerate() {
            self.state.table.mark_present(e.entry.fp);
            self.state.log.push(e.entry, e.parent_fp);
            let log = &self.state.log;
            self.level_index
                .insert(e.entry.fp, pos as u32, |p| log.level_fp(p));
        }
        self.state.next = partial.next;
    }

    /// Every worker enumerates the initial states and keeps those it owns.
    fn store_initial_states(&mut self) {
        let model = self.model;
        let mut buf = pack_buffer();
        model.initial_states(&mut |s| {
            buf.clear();
            model.pack(s, &mut buf);
            let fp = fingerprint(&buf);
            if owner_of(fp, self.workers) != self.id {
                return;
            }
            self.own_report.generated += 1;
            if let Some(i) = first_violated_invariant(model, self.invariants, s) {
                self.stored_errors.note_invariant(fp, i);
            }
            self.store(Entry {
                fp,
                parent: ParentRef::NONE,
                parent_fp: 0,
                state: &buf,
            });
        });
    }

    /// Waits a little (see [`wait`]) for a message that has not come; if another worker
    /// has panicked, whose messages never will come, unwinds with [`Abandoned`] instead
    /// (silently: the panic worth reporting is the other worker's).
    fn idle(&self, backoff: &Backoff) {
        self.stop_if_abandoned();
        wait(backoff, self.oversubscribed);
    }

    /// Unwinds with [`Abandoned`] if the run has been abandoned (see
    /// [`WorkerSetup::abandoned`]). Checked in every wait and at every level end: a
    /// worker that never waits (the only one, say) still stops.
    fn stop_if_abandoned(&self) {
        if self.abandoned.load(Ordering::Acquire) {
            std::panic::resume_unwind(Box::new(Abandoned));
        }
    }

    fn publish_progress(&self, left: u64) {
        let p = &self.progress[self.id];
        p.generated.store(
            self.state.counters.generated + self.own_report.generated,
            Ordering::Relaxed,
        );
        p.distinct.store(self.state.log.len(), Ordering::Relaxed);
        p.frontier
            .store(left + self.state.next.len(), Ordering::Relaxed);
        p.unexpanded.store(
            self.level_tag() << UNEXPANDED_COUNT_BITS | left.min(UNEXPANDED_COUNT_MASK),
            Ordering::Relaxed,
        );
    }
}

/// What `state`'s worker has done: its counters (the levels completed) plus its part
/// of a level saved part-way, if any.
fn done_so_far(state: &WorkerState) -> WorkerCounters {
    let (expanded, generated) = state
        .partial
        .as_ref()
        .map_or((0, 0), |p| (p.report.expanded, p.report.generated));
    WorkerCounters {
        expanded: state.counters.expanded + expanded,
        generated: state.counters.generated + generated,
    }
}

/// The room a batch buffer is made with: `batch_bytes`, and enough over it for the
/// entry that fills it (whose push starts below `batch_bytes`). Saturates: a
/// `batch_bytes` near `usize::MAX` overflowed it and panicked every worker.
fn batch_room(batch_bytes: usize) -> usize {
    batch_bytes.saturating_add(256)
}

/// Waits a little: spins first, then yields. A worker that has a CPU of its own keeps
/// yielding: it waits mostly for the end of a level, and a sleep (50 us asked, about
/// 100 us given) at each of a level's two rounds made `pgm_protocol.8` at 2 workers,
/// 596 levels of 2 ms, 6% slower. In an `oversubscribed` run it then sleeps briefly,
/// so that idle workers do not compete with the workers that have work for the CPUs.
fn wait(backoff: &Backoff, oversubscribed: bool) {
    if backoff.is_completed() {
        if oversubscribed {
            std::thread::sleep(Duration::from_micros(50));
        } else {
            std::thread::yield_now();
        }
    } else {
        backoff.snooze();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_worker_0_is_handed_the_level_sizes() {
        let totals = GlobalTotals {
            totals: Totals {
                distinct: 10,
                generated: 30,
                deadlocks: 1,
                level_sizes: vec![1, 3, 6],
            },
            last_level_size: Some(6),
            depth: 2,
            started: true,
        };
        assert_eq!(totals.for_worker(0), totals);
        let other = totals.for_worker(5);
        assert_eq!(
            other,
            GlobalTotals {
                totals: Totals {
                    level_sizes: Vec::new(),
                    ..totals.totals.clone()
                },
                ..totals.clone()
            }
        );
        assert_eq!(other.totals.level_sizes.capacity(), 0);
    }
}
