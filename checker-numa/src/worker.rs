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
use checker_core::{fingerprint, CheckOptions, Fingerprint, Model, StopReason};

use crate::checkpoint::{self, Totals, WorkerCounters, WorkerFile};
use crate::frontier::Frontier;
use crate::level_index::LevelIndex;
use crate::mailbox::{MailboxReceiver, MailboxSender};
use crate::message::{Batch, Entry, LevelReport, LevelSummary, Message, Share, SummaryFlags};
use crate::parent_log::{LevelEntry, LogEntry, ParentLog};
use crate::partition::{owner_of, ParentRef};
use crate::short_eq::same_bytes;
use crate::state_chunk::{StateChunk, StateChunkIter};
use crate::table::{FingerprintSet, Insert};
use crate::telemetry::{Activity, TimeSplit, WorkerTelemetry};

/// Expanded states between two looks at the inbox during expansion.
const POLL_EVERY: usize = 64;

/// How many states ahead of the one being stored a batch's table and level-index
/// slots are prefetched.
const PREFETCH_AHEAD: usize = 8;

/// Parents offered to states stored earlier in the same level that are held, their log
/// entries prefetched, before they are compared (see [`PendingOffer`]).
const OFFER_WINDOW: usize = 16;

/// A parent offered to a state stored earlier in this level, waiting for its
/// comparison. Such a state's log entry is usually far from the cache when its other
/// parents are expanded by other workers (docs/benchmarks.md, "Locality at 2
/// workers"), and reading it at once stalls the store loop on each one in turn. So
/// the offer is held while its entry is prefetched, and [`OFFER_WINDOW`] offers are
/// compared together, their misses overlapping. Keeping the lowest parent does not
/// depend on the order of the offers, so holding them changes nothing else; none
/// outlives the batch being stored.
#[derive(Clone, Copy, Debug)]
struct PendingOffer {
    fp: Fingerprint,
    /// Where the level index says the state is, before the log entry confirms it.
    candidate: u32,
    parent: ParentRef,
    parent_fp: Fingerprint,
}

/// Bits of [`ProgressSlot::unexpanded`] that hold the count (the level tag is above).
const UNEXPANDED_COUNT_BITS: u32 = 40;
const UNEXPANDED_COUNT_MASK: u64 = (1 << UNEXPANDED_COUNT_BITS) - 1;

/// Fewest states handed out in one share: below this, the request and answer cost more
/// than expanding the states where they are.
const MIN_SHARE: u64 = 16;

/// Most states in one share. A share cannot be split again, so it bounds the work
/// left at the end of a level (a few milliseconds); and it is large against the 64
/// expansions an owner may take to see a request, which the asking worker waits out.
const MAX_SHARE_STATES: u64 = 4096;

/// Pacing: a worker with this many states fewer left in its frontier than another
/// asks that one for a share while it still has states of its own.
///
/// Why: the parents of a state are usually generated close together, so a worker
/// alone expands them close together too, and half of the duplicates it stores in a
/// level find their state among the last 64 it stored, in cache. Partitioning deals
/// those parents out to several frontiers; if one worker runs ahead of another, the
/// laggard's duplicates reach states the leader stored thousands of states earlier,
/// each one a cache miss (`twophase 9` at 2 workers: 5% of the laggard's duplicates
/// among the last 64 against 30% of the leader's). A share from the laggard's front
/// keeps the two at the same place in their frontiers.
const PACE_GAP: u64 = 512;

/// Most bytes of packed states in one share, for wide states (the message stays small
/// beside a frontier chunk).
const MAX_SHARE_BYTES: usize = 1 << 20;

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
    /// [`UNEXPANDED_COUNT_BITS`] bits, under a tag of the level (its depth plus one, in
    /// the bits above). Workers with nothing left to expand read it to choose whom to
    /// ask for a share; the tag tells them whether this worker has begun the level.
    pub unexpanded: AtomicU64,
}

/// Whom a worker with its frontier expanded asks for a share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Victim {
    /// The worker with the most states left to share.
    Ask(usize),
    /// No worker has enough left, but some worker has not begun the level.
    NotStarted,
    /// No worker has enough left.
    NoneLeft,
}

/// Where a worker's own request for a share stands (it has at most one out).
#[derive(Debug)]
enum OwnRequest {
    /// No request is out, and no answer waits to be expanded.
    None,
    /// A request is out; its answer has not arrived.
    Awaiting,
    /// The answer has arrived from the worker named (the states' owner); it is
    /// expanded at the next safe point. An empty share means that worker has none left
    /// to hand out in this level.
    Answered(usize, Share),
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

/// A level interrupted part-way (SIGINT/SIGTERM), as a checkpoint saves it: resuming
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
    /// Counts so far.
    pub totals: Totals,
    /// Depth of the frontier's states (the next level to expand).
    pub depth: u32,
    /// Whether the initial states have been stored (false only before the first level).
    pub started: bool,
}

/// What a worker hands back when a run segment ends.
pub struct WorkerResult {
    /// Its state, to continue after a checkpoint or rebuild a counterexample.
    pub state: WorkerState,
    /// Its telemetry for this segment.
    pub telemetry: WorkerTelemetry,
    /// The agreed totals.
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
    /// worker's (see [`Worker::help_others`]).
    pub share_expansion: bool,
    /// Whether there are more workers than CPUs: then a worker with nothing to do
    /// sleeps between polls, so that the others get the CPUs; otherwise it yields,
    /// and answers the end of a level without a sleep's delay (see [`wait`]).
    pub oversubscribed: bool,
    /// Telemetry fields known before the start (node, cpu).
    pub telemetry: WorkerTelemetry,
    /// The worker's memory share in bytes; past it the run stops with a checkpoint.
    pub memory_share: Option<u64>,
    /// Checkpoint directory and period.
    pub checkpoints: CheckpointPlan,
    /// Set (by a signal handler) when the user asks the run to stop.
    pub interrupt: Option<&'a AtomicBool>,
    /// Set when another worker's thread has panicked (in the model's code, say): the
    /// messages this worker waits for will never come, so it panics too when it next
    /// waits, and the run ends with the panic instead of hanging.
    pub abandoned: &'a AtomicBool,
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
    level_report: LevelReport,
    level_summary: LevelSummary,
    global: GlobalTotals,
    clock: TimeSplit,
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
    segment_start: Instant,
    io_error: Option<String>,
    /// States of the current frontier to skip (expanded before an interrupt).
    skip: u64,
    /// States of the current frontier gone through in this level, skipped ones included.
    done_in_level: u64,
    /// Log index of the current frontier's first state when its expansion began: the
    /// frontier holds (the rest of) the last sealed level, in log order, so the
    /// `i`-th state gone through has log index `frontier_base + i`.
    frontier_base: u64,
    /// This worker saw the interrupt and stopped expanding.
    pausing: bool,
}

impl<'a, M: Model> Worker<'a, M> {
    /// Prepares a worker over `state`; call it on the worker's own (pinned) thread so
    /// that new memory is first touched on its NUMA node.
    pub fn new(setup: WorkerSetup<'a, M>, state: WorkerState) -> Self {
        let invariants = setup.model.invariant_names().len();
        Worker {
            id: setup.id,
            workers: setup.workers,
            model: setup.model,
            options: setup.options,
            invariants,
            track_parents: setup.options.check_deadlock || invariants > 0,
            batch_bytes: setup.batch_bytes,
            state,
            level_index: LevelIndex::new(),
            outgoing: (0..setup.workers)
                .map(|_| Batch::with_capacity(setup.batch_bytes + 256))
                .collect(),
            senders: setup.senders,
            receivers: setup.receivers,
            has_summary: vec![false; setup.workers],
            pending_offers: [PendingOffer {
                fp: 0,
                candidate: 0,
                parent: ParentRef::NONE,
                parent_fp: 0,
            }; OFFER_WINDOW],
            pending_count: 0,
            markers_missing: 0,
            summaries_missing: 0,
            own_report: LevelReport::default(),
            stored_errors: LevelErrors::default(),
            scratch: None,
            level_report: LevelReport::default(),
            level_summary: LevelSummary::default(),
            global: setup.totals,
            clock: TimeSplit::start(Activity::Expanding),
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
            segment_start: Instant::now(),
            io_error: None,
            skip: 0,
            done_in_level: 0,
            frontier_base: 0,
            pausing: false,
        }
    }

    /// Runs the search until it ends or a checkpoint is due.
    pub fn run(mut self) -> WorkerResult {
        let started = Instant::now();
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
        self.clock.switch(Activity::Idle);
        let t = &mut self.telemetry;
        t.wall_s = started.elapsed().as_secs_f64();
        t.expanding_s = self.clock.total(Activity::Expanding).as_secs_f64();
        t.receiving_s = self.clock.total(Activity::Receiving).as_secs_f64();
        t.sending_s = self.clock.total(Activity::Sending).as_secs_f64();
        t.idle_s = self.clock.total(Activity::Idle).as_secs_f64();
        t.owned = self.state.log.len();
        t.generated = self.state.counters.generated;
        t.expanded = self.state.counters.expanded;
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
        let mut buf = Vec::new();
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

    /// Expands every state of `frontier`, spilled chunks included, consuming it chunk
    /// by chunk (emptied chunks go to the next frontier), handing consecutive runs of
    /// it to workers that ask for a share. Stops early on a pause, leaving the chunk
    /// being expanded and the rest in `frontier`. Then, if sharing is on, expands
    /// shares of other workers' frontiers until none has enough left.
    fn expand(&mut self, frontier: &mut Frontier) {
        self.frontier_base = frontier.first_index();
        let mut left = frontier.len();
        self.publish_progress(left);
        let mut typed: Option<M::State> = None;
        let mut buf = Vec::new();
        loop {
            let chunk = match frontier.front_chunk() {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    self.io_error
                        .get_or_insert_with(|| format!("reading the spilled frontier: {e}"));
                    break;
                }
            };
            self.expand_chunk(chunk, &mut left, &mut typed, &mut buf);
            if self.pausing {
                break;
            }
            if let Some(done) = frontier.consume_front_chunk() {
                self.state.next.recycle(done);
            }
        }
        // Nothing of this frontier is left to hand out (or, on a pause, nothing will
        // be): say so, then answer every request still waiting.
        self.publish_progress(0);
        self.refuse_asks();
        // A share asked for while pacing is expanded whatever happens (its owner
        // counts it as done), before this worker's marker.
        self.wait_until(|w| !matches!(w.own_request, OwnRequest::Awaiting));
        self.expand_received_share(&mut typed, &mut buf, true);
        if self.share_expansion && !self.pausing && self.io_error.is_none() {
            self.help_others(&mut typed, &mut buf);
        }
    }

    fn expand_chunk(
        &mut self,
        chunk: &StateChunk,
        left: &mut u64,
        typed: &mut Option<M::State>,
        buf: &mut Vec<u8>,
    ) {
        let mut states = chunk.iter();
        let mut since_poll = 0;
        while let Some(bytes) = states.next() {
            let index = self.frontier_base + self.done_in_level;
            self.done_in_level += 1;
            *left -= 1;
            if self.done_in_level <= self.skip {
                continue;
            }
            self.expand_state(bytes, ParentRef::new(self.id, index), typed, buf);
            since_poll += 1;
            if since_poll == POLL_EVERY {
                since_poll = 0;
                if self.workers > 1 {
                    self.poll_inbox();
                    if self.asks_pending > 0 {
                        self.give_shares(&mut states, left);
                    }
                }
                self.publish_progress(*left);
                // On an interrupt, stop after this batch of states: the rest of the
                // level is saved and expanded when the run is resumed.
                if self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
                    self.pausing = true;
                    break;
                }
                if self.share_expansion {
                    self.pace(*left, typed, buf);
                }
            }
        }
        // Every successor of a state counted as expanded is stored before the level
        // can end or be saved.
        if !self.outgoing[self.id].is_empty() {
            self.store_own_batch();
        }
    }

    /// Expands one state whose log entry is `parent`: batches each successor to its
    /// owner and counts the expansion in this worker's report.
    #[inline]
    fn expand_state(
        &mut self,
        bytes: &[u8],
        parent: ParentRef,
        typed: &mut Option<M::State>,
        buf: &mut Vec<u8>,
    ) {
        let model = self.model;
        let parent_fp = fingerprint(bytes);
        let s = &*model.unpack_reusing(bytes, typed);
        if !model.within_constraint(s) {
            return;
        }
        let mut successors = 0u64;
        model.successors(s, &mut |_, t| {
            successors += 1;
            buf.clear();
            model.pack(t, buf);
            if same_bytes(buf, bytes) {
                // A self-loop (packing is injective): the state itself, stored at an
                // earlier level, so storing it would change nothing, and no
                // fingerprint is needed. TLA+-style models have many: 45.9 million of
                // `twophase 9`'s 123.6 million successors.
                return;
            }
            let fp = fingerprint(buf);
            let entry = Entry {
                fp,
                parent,
                parent_fp,
                state: buf,
            };
            let owner = owner_of(fp, self.workers);
            // Every successor goes to its owner's batch, this worker's own included
            // (no branch on the owner, which would be mispredicted for half the
            // successors at 2 workers). The own batch is stored when full, its table
            // slots prefetched a few states ahead of each probe.
            let batch = &mut self.outgoing[owner];
            batch.push(entry);
            if batch.byte_len() >= self.batch_bytes {
                self.flush_batch(owner);
            }
        });
        self.own_report.expanded += 1;
        self.own_report.generated += successors;
        if successors == 0 {
            self.own_report.deadlocks += 1;
            if self.options.check_deadlock {
                self.own_report.errors.note_deadlock(parent_fp);
            }
        }
    }

    /// Pacing (see [`PACE_GAP`]), at a look at the inbox while this worker has `left`
    /// states of its own: expands a share that has arrived, else asks for one when
    /// another worker is far behind. The request is not waited for: the answer is
    /// expanded at a later look, or once the frontier is done.
    fn pace(&mut self, left: u64, typed: &mut Option<M::State>, buf: &mut Vec<u8>) {
        match self.own_request {
            OwnRequest::Answered(..) => self.expand_received_share(typed, buf, false),
            OwnRequest::Awaiting => {}
            OwnRequest::None => {
                if let Some((victim, wanted)) = self.pacing_victim(left) {
                    self.telemetry.paced_asks += 1;
                    self.ask_for_share(victim, wanted);
                }
            }
        }
    }

    /// Answers the workers waiting for a share with the next states of `states` (the
    /// rest of the chunk being expanded; `left` counts the whole frontier's rest). Each
    /// gets an equal part of what is left, this worker keeping one part too. The states
    /// handed out are the ones this worker would have expanded next, so what is done of
    /// the frontier stays a prefix of it, as a paused level's checkpoint needs.
    fn give_shares(&mut self, states: &mut StateChunkIter<'_>, left: &mut u64) {
        for to in 0..self.workers {
            let wanted = self.asked_by[to];
            if wanted == 0 {
                continue;
            }
            let part = (*left / (self.asks_pending as u64 + 1))
                .min(MAX_SHARE_STATES)
                .min(wanted);
            if part < MIN_SHARE || self.pausing {
                self.answer(to, Share::default());
                continue;
            }
            if (states.len() as u64) < MIN_SHARE {
                // The chunk is nearly done: answer from the next one.
                continue;
            }
            let mut share = Share {
                first_index: self.frontier_base + self.done_in_level,
                states: StateChunk::new(),
            };
            while (share.states.len() as u64) < part && share.states.byte_len() < MAX_SHARE_BYTES {
                let Some(bytes) = states.next() else { break };
                share.states.push(bytes);
            }
            let given = share.states.len() as u64;
            self.done_in_level += given;
            *left -= given;
            self.telemetry.states_shared += given;
            self.answer(to, share);
        }
    }

    /// Answers every waiting request with no states (this worker has none to spare).
    fn refuse_asks(&mut self) {
        if self.asks_pending == 0 {
            return;
        }
        for to in 0..self.workers {
            if self.asked_by[to] != 0 {
                self.answer(to, Share::default());
            }
        }
    }

    fn answer(&mut self, to: usize, share: Share) {
        self.asked_by[to] = 0;
        self.asks_pending -= 1;
        self.send(to, Message::Share(share));
    }

    /// With its own frontier expanded, asks the worker with the most states left for a
    /// share of them and expands it, until no worker has enough left to share (or a
    /// pause is asked for). The shared states' successors are this worker's, sent
    /// before its end-of-level marker like those of its own frontier.
    ///
    /// Why: a level ends when its slowest worker ends, and cores are not equally fast
    /// (virtual CPUs, a busy sibling hyperthread, memory farther away). The partition
    /// fixes who stores a state, not who expands it, so expansion can move.
    fn help_others(&mut self, typed: &mut Option<M::State>, buf: &mut Vec<u8>) {
        loop {
            let victim = match self.richest_worker() {
                Victim::Ask(victim) => victim,
                Victim::NoneLeft => break,
                Victim::NotStarted => {
                    // A worker has not begun this level yet (it is still deciding, or
                    // not scheduled): its frontier is all to come. This worker would
                    // wait for its marker anyway, so it waits for it to begin.
                    self.wait_until(|w| w.richest_worker() != Victim::NotStarted);
                    continue;
                }
            };
            self.ask_for_share(victim, u64::MAX);
            self.wait_until(|w| !matches!(w.own_request, OwnRequest::Awaiting));
            self.expand_received_share(typed, buf, true);
        }
    }

    /// Sends `owner` a request for at most `wanted` states.
    fn ask_for_share(&mut self, owner: usize, wanted: u64) {
        debug_assert!(matches!(self.own_request, OwnRequest::None));
        self.own_request = OwnRequest::Awaiting;
        self.telemetry.shares_asked += 1;
        self.send(owner, Message::ShareRequest { wanted });
    }

    /// Expands the share received, if any; an empty one means its owner has none left
    /// to hand out in this level. `frontier_done`: this worker has no states of its own
    /// left, so it refuses requests that arrive meanwhile (else they wait for its next
    /// look at its own frontier).
    fn expand_received_share(
        &mut self,
        typed: &mut Option<M::State>,
        buf: &mut Vec<u8>,
        frontier_done: bool,
    ) {
        let OwnRequest::Answered(owner, share) =
            std::mem::replace(&mut self.own_request, OwnRequest::None)
        else {
            return;
        };
        if share.states.is_empty() {
            self.refused_by[owner] = true;
        } else {
            self.expand_share(owner, &share, typed, buf, frontier_done);
        }
    }

    /// While this worker still has `left` states of its own: whether the next worker in
    /// turn has at least [`PACE_GAP`] more left, and if so how many to ask it for (half
    /// the difference, so that both end up with as many). One worker is looked at per
    /// call, in turn: reading every worker's progress slot (each a cache miss, since
    /// its owner rewrites it) at every look at the inbox would cost a large run more
    /// than the pacing saves.
    fn pacing_victim(&mut self, left: u64) -> Option<(usize, u64)> {
        self.pace_next = (self.pace_next + 1) % self.workers;
        if self.pace_next == self.id {
            self.pace_next = (self.pace_next + 1) % self.workers;
        }
        let victim = self.pace_next;
        if self.refused_by[victim] {
            return None;
        }
        let theirs = self.published_left(victim)?;
        // `then`, not `then_some`: the difference exists only when the test holds.
        (theirs >= left + PACE_GAP).then(|| (victim, (theirs - left) / 2))
    }

    /// The states worker `w` last said it has left to expand in this level; `None` while
    /// it is still at the previous level (it has not begun this one).
    fn published_left(&self, w: usize) -> Option<u64> {
        let published = self.progress[w].unexpanded.load(Ordering::Relaxed);
        (published >> UNEXPANDED_COUNT_BITS == self.level_tag())
            .then_some(published & UNEXPANDED_COUNT_MASK)
    }

    /// The worker, other than this one and those that refused a share in this level,
    /// with the most unexpanded states, if it has enough to share.
    fn richest_worker(&self) -> Victim {
        if self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
            return Victim::NoneLeft;
        }
        let mut not_started = false;
        let mut richest: Option<(u64, usize)> = None;
        for w in (0..self.workers).filter(|&w| w != self.id && !self.refused_by[w]) {
            let Some(left) = self.published_left(w) else {
                // Still at the previous level: no worker is ever ahead of another.
                not_started = true;
                continue;
            };
            if left >= 2 * MIN_SHARE && richest.is_none_or(|(most, _)| left > most) {
                richest = Some((left, w));
            }
        }
        match richest {
            Some((_, w)) => Victim::Ask(w),
            None if not_started => Victim::NotStarted,
            None => Victim::NoneLeft,
        }
    }

    /// The tag of the level being expanded in [`ProgressSlot::unexpanded`]: the depth
    /// of its states plus one (0 is never a level's).
    fn level_tag(&self) -> u64 {
        (u64::from(self.global.depth) + 1) & (u64::MAX >> UNEXPANDED_COUNT_BITS)
    }

    /// Expands a share of `owner`'s frontier; every state of it, whatever happens (a
    /// pause included), since its owner counts it as done.
    fn expand_share(
        &mut self,
        owner: usize,
        share: &Share,
        typed: &mut Option<M::State>,
        buf: &mut Vec<u8>,
        frontier_done: bool,
    ) {
        for (i, bytes) in share.states.iter().enumerate() {
            let parent = ParentRef::new(owner, share.first_index + i as u64);
            self.expand_state(bytes, parent, typed, buf);
            if i % POLL_EVERY == POLL_EVERY - 1 {
                self.poll_inbox();
                if frontier_done {
                    self.refuse_asks();
                }
            }
        }
        if !self.outgoing[self.id].is_empty() {
            self.store_own_batch();
        }
        self.telemetry.states_taken += share.states.len() as u64;
    }

    /// Sends the batch for `to`, or stores it if `to` is this worker.
    fn flush_batch(&mut self, to: usize) {
        if to == self.id {
            self.store_own_batch();
        } else {
            self.send_batch(to);
        }
    }

    /// Stores this worker's own batch of successors.
    fn store_own_batch(&mut self) {
        let own = std::mem::take(&mut self.outgoing[self.id]);
        self.store_batch(&own);
        self.outgoing[self.id] = own;
        self.outgoing[self.id].clear();
    }

    /// Stores every state of `batch` (this worker's own successors or another
    /// worker's) and checks the invariants of those that are new. Checking only new
    /// states, once, at their owner, finds exactly the new violating states: a
    /// violating successor is new anyway (an older copy would have ended the search at
    /// its own level).
    ///
    /// Each store's table and level-index slots are asked for [`PREFETCH_AHEAD`]
    /// states ahead of it, so the probes of a batch do not wait for memory one after
    /// another.
    fn store_batch(&mut self, batch: &Batch) {
        let mut scratch = self.scratch.take();
        let mut ahead = batch.iter().skip(PREFETCH_AHEAD);
        for e in batch.iter() {
            if let Some(a) = ahead.next() {
                self.state.table.prefetch(a.fp);
                self.level_index.prefetch(a.fp);
            }
            if !self.store(e) || self.invariants == 0 {
                continue;
            }
            let s = self.model.unpack_reusing(e.state, &mut scratch);
            if let Some(i) = first_violated_invariant(self.model, self.invariants, s) {
                self.stored_errors.note_invariant(e.fp, i);
            }
        }
        self.scratch = scratch;
        self.settle_offers();
    }

    /// Holds a parent offered to a state stored earlier in this level (see
    /// [`PendingOffer`]), prefetching the state's log entry; compares the held ones
    /// once there are [`OFFER_WINDOW`].
    #[inline]
    fn offer_parent(&mut self, e: &Entry<'_>) {
        let candidate = self
            .level_index
            .candidate(e.fp)
            .expect("a state marked as this level's is in the level index");
        self.state.log.prefetch_level(candidate);
        // Below OFFER_WINDOW (settled as soon as it gets there); the mask lets the
        // compiler see it.
        self.pending_offers[self.pending_count % OFFER_WINDOW] = PendingOffer {
            fp: e.fp,
            candidate,
            parent: e.parent,
            parent_fp: e.parent_fp,
        };
        self.pending_count += 1;
        if self.pending_count == OFFER_WINDOW {
            self.settle_offers();
        }
    }

    /// Keeps, for each held offer, the parent with the lower fingerprint.
    fn settle_offers(&mut self) {
        let log = &mut self.state.log;
        let count = std::mem::take(&mut self.pending_count);
        for o in &self.pending_offers[..count] {
            let pos = if log.level_fp(o.candidate) == o.fp {
                o.candidate
            } else {
                // Another state with the same tag came first in the probe run.
                self.level_index
                    .find(o.fp, |p| log.level_fp(p))
                    .expect("a state marked as this level's is in the level index")
            };
            log.offer_parent(pos as usize, o.parent, o.parent_fp);
        }
    }

    /// Stores a state this worker owns; returns whether it was new.
    #[inline]
    fn store(&mut self, e: Entry<'_>) -> bool {
        if !self.track_parents {
            if !self.state.table.insert(e.fp) {
                return false;
            }
        } else {
            match self.state.table.insert_marked(e.fp) {
                Insert::New => {
                    let log = &self.state.log;
                    let pos = (log.len() - log.level_start()) as u32;
                    // The entry is pushed below; until then `pos` is never looked up.
                    self.level_index.insert(e.fp, pos, |p| log.level_fp(p));
                }
                Insert::Old => return false,
                Insert::ThisLevel => {
                    // Keep, among a new state's parents, the one with the lowest
                    // fingerprint, so the counterexample does not depend on the order
                    // in which parents were expanded.
                    if e.parent != ParentRef::NONE {
                        self.offer_parent(&e);
                    }
                    return false;
                }
            }
        }
        // Same order in the log and the next frontier: see `frontier_base`.
        self.state.log.push(
            LogEntry {
                fp: e.fp,
                parent: e.parent,
            },
            e.parent_fp,
        );
        self.state.next.push(e.state);
        true
    }

    fn send_batch(&mut self, to: usize) {
        let sender = self.senders[to].as_mut().expect("no mailbox to self");
        let fresh = match sender.take_recycled() {
            Some(Message::States(mut b)) => {
                b.clear();
                b
            }
            _ => Batch::with_capacity(self.batch_bytes + 256),
        };
        let batch = std::mem::replace(&mut self.outgoing[to], fresh);
        self.telemetry.batches_sent += 1;
        self.telemetry.states_sent += batch.len() as u64;
        self.send(to, Message::States(batch));
    }

    /// Hands `message` to the mailbox for `to`. While it is full, stores incoming
    /// states instead of waiting: the receiver of a full ring is itself either storing
    /// or blocked on a full ring whose receiver stores, so someone always progresses.
    fn send(&mut self, to: usize, mut message: Message) {
        let previous = self.clock.switch(Activity::Sending);
        let backoff = Backoff::new();
        loop {
            let sender = self.senders[to].as_mut().expect("no mailbox to self");
            match sender.try_send(message) {
                Ok(()) => break,
                Err(m) => {
                    message = m;
                    let received = self.poll_inbox();
                    self.clock.switch(Activity::Sending);
                    if !received {
                        self.idle(&backoff);
                    }
                }
            }
        }
        self.clock.switch(previous);
    }

    /// Stores everything waiting in the inbox that belongs to the current level.
    /// Returns whether anything was received.
    fn poll_inbox(&mut self) -> bool {
        let mut received = false;
        for from in 0..self.workers {
            while !self.has_summary[from] {
                let Some(rx) = self.receivers[from].as_mut() else {
                    break;
                };
                let Some(message) = rx.recv() else {
                    break;
                };
                if !received {
                    received = true;
                    self.clock.switch(Activity::Receiving);
                }
                self.handle(from, message);
            }
        }
        if received {
            self.clock.switch(Activity::Expanding);
        }
        received
    }

    fn handle(&mut self, from: usize, message: Message) {
        match message {
            Message::States(batch) => {
                self.telemetry.batches_received += 1;
                self.telemetry.states_received += batch.len() as u64;
                self.store_batch(&batch);
                let rx = self.receivers[from].as_mut().expect("message from nowhere");
                rx.recycle(Message::States(batch));
            }
            Message::EndOfLevel(report) => {
                self.level_report.merge(&report);
                self.markers_missing -= 1;
            }
            Message::Summary(summary) => {
                self.level_summary.merge(&summary);
                self.has_summary[from] = true;
                self.summaries_missing -= 1;
            }
            // Answered where the worker can send safely (not from inside `send`): while
            // expanding its frontier, or once it has none left.
            Message::ShareRequest { wanted } => {
                debug_assert!(self.asked_by[from] == 0, "two requests from one worker");
                self.asked_by[from] = wanted.max(1);
                self.asks_pending += 1;
            }
            Message::Share(share) => {
                debug_assert!(
                    matches!(self.own_request, OwnRequest::Awaiting),
                    "a share nobody asked for"
                );
                self.own_request = OwnRequest::Answered(from, share);
            }
        }
    }

    /// The two all-to-all rounds that end a level (see the module doc).
    fn end_level(&mut self) {
        for to in 0..self.workers {
            if to != self.id && !self.outgoing[to].is_empty() {
                self.send_batch(to);
            }
        }
        self.level_report.merge(&self.own_report);
        let report = self.own_report;
        self.broadcast(|| Message::EndOfLevel(report));
        self.wait_until(|w| w.markers_missing == 0);
        let summary = LevelSummary {
            new_states: self.state.next.len(),
            distinct: self.state.log.len(),
            flags: self.summary_flags(),
            errors: self.stored_errors,
        };
        self.level_summary.merge(&summary);
        self.broadcast(|| Message::Summary(summary));
        self.wait_until(|w| w.summaries_missing == 0);
    }

    /// What this worker asks of everyone at the end of the level.
    fn summary_flags(&mut self) -> SummaryFlags {
        if let Some(e) = self.state.next.take_error() {
            self.io_error
                .get_or_insert_with(|| format!("spilling the frontier: {e}"));
        }
        let memory = self.memory_in_use();
        // Stop before the table's next doubling would not fit the share.
        let projected = memory + self.state.table.memory_bytes() as u64 / 2;
        SummaryFlags {
            interrupt: self.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)),
            // One clock decides for everyone: worker 0's.
            checkpoint_due: self.id == 0
                && self.checkpoints.dir.is_some()
                && self
                    .checkpoints
                    .every
                    .is_some_and(|every| self.segment_start.elapsed() >= every),
            over_budget: self.memory_share.is_some_and(|share| projected > share),
            paused: self.pausing,
            failed: self.io_error.is_some(),
        }
    }

    fn memory_in_use(&self) -> u64 {
        self.state.table.memory_bytes() as u64
            + self.state.log.memory_bytes()
            + self.state.frontier.allocated_bytes() as u64
            + self.state.next.allocated_bytes() as u64
            + self.level_index.memory_bytes() as u64
    }

    fn broadcast(&mut self, message: impl Fn() -> Message) {
        for to in 0..self.workers {
            if to != self.id {
                self.send(to, message());
            }
        }
    }

    /// Stores what arrives until `done`. Only called once this worker's frontier is
    /// expanded, so it refuses every request for a share: those just received, and
    /// those received while a send waited for room (`send` only records them). The
    /// asker waits for the answer before its marker, so one left unanswered would stall
    /// the level for good.
    fn wait_until(&mut self, done: impl Fn(&Self) -> bool) {
        let backoff = Backoff::new();
        while !done(self) {
            let received = self.poll_inbox();
            self.refuse_asks();
            if received {
                backoff.reset();
            } else {
                self.clock.switch(Activity::Idle);
                self.idle(&backoff);
            }
        }
        self.clock.switch(Activity::Expanding);
    }

    /// Ends the level: the rounds, then the decision every worker takes identically.
    fn finish_level(&mut self) -> Option<Ending> {
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
            return Some(Ending::Limit(StopReason::Interrupted));
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
        if flags.over_budget {
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
            totals.level_sizes.push(self.level_summary.new_states);
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
    fn write_checkpoint(&mut self) -> Option<WorkerFile> {
        let dir = self.checkpoints.dir.clone()?;
        let previous = self.clock.switch(Activity::Sending);
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

    /// Waits a little (see [`wait`]) for a message that has not come; if another worker
    /// has panicked, whose messages never will come, unwinds with [`Abandoned`] instead
    /// (silently: the panic worth reporting is the other worker's).
    fn idle(&self, backoff: &Backoff) {
        if self.abandoned.load(Ordering::Acquire) {
            std::panic::resume_unwind(Box::new(Abandoned));
        }
        wait(backoff, self.oversubscribed);
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
