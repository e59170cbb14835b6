//! One worker: the sole owner of its partition's visited table, frontier and parent
//! log. It expands its frontier, stores the successors it owns, batches the others to
//! their owners, and stores what other workers send it.
//!
//! A level ends in two all-to-all rounds through the mailboxes, with no shared counter:
//! 1. having expanded its frontier and flushed every batch, a worker sends an
//!    end-of-level marker (its report: expansions, errors) to every other worker, then
//!    keeps storing incoming states until it holds every other worker's marker. Rings
//!    are FIFO, so it now has every state of the next level that it owns;
//! 2. it sends a summary (its share of the next level, its distinct count) to everyone
//!    and waits for everyone's summary.
//!
//! Every worker then holds the same reports and summaries and takes the same decision:
//! next level, done, or stop. A worker never pops a sender's messages past that
//! sender's summary until it has decided, so a fast worker's next-level states wait
//! in their ring instead of mixing with the current level.

use crossbeam_utils::{Backoff, CachePadded};
use hashbrown::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use checker_core::level::LevelErrors;
use checker_core::model::first_violated_invariant;
use checker_core::packed::PackedStates;
use checker_core::{
    fingerprint, BuildFingerprintHasher, CheckOptions, Fingerprint, Model, StopReason,
};

use crate::mailbox::{MailboxReceiver, MailboxSender};
use crate::message::{Batch, Entry, LevelReport, LevelSummary, Message};
use crate::partition::{owner_of, ParentRef};
use crate::table::{FingerprintSet, Insert};
use crate::telemetry::{Activity, TimeSplit, WorkerTelemetry};

/// Expanded states between two looks at the inbox during expansion.
const POLL_EVERY: usize = 64;

/// One stored state in a worker's parent log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The state's fingerprint.
    pub fp: Fingerprint,
    /// Its parent's log entry; [`ParentRef::NONE`] for an initial state.
    pub parent: ParentRef,
}

/// Figures a worker publishes for the progress monitor: written only by the worker
/// (relaxed stores, never read-modify-write), read by the monitor thread.
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
}

/// How a search ended, as every worker decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Nothing left to expand.
    Exhausted,
    /// A limit stopped the search.
    Limit(StopReason),
    /// An error was found; the chosen one is in [`WorkerResult::errors`].
    Error,
}

/// The totals every worker agrees on when the search ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GlobalTotals {
    /// Distinct states over all workers.
    pub distinct: u64,
    /// Generated states over all workers.
    pub generated: u64,
    /// Deadlock states over all workers.
    pub deadlocks: u64,
    /// Distinct states per level.
    pub level_sizes: Vec<u64>,
}

/// What a worker hands back when the search ends.
pub struct WorkerResult {
    /// Its parent log, for rebuilding counterexamples.
    pub log: Vec<LogEntry>,
    /// Its telemetry.
    pub telemetry: WorkerTelemetry,
    /// The agreed totals.
    pub totals: GlobalTotals,
    /// How the search ended.
    pub ending: Ending,
    /// The errors of the final level (merged over all workers).
    pub errors: LevelErrors,
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
    /// Where to publish progress.
    pub progress: &'a CachePadded<ProgressSlot>,
    /// Telemetry fields known before the start (node, cpu).
    pub telemetry: WorkerTelemetry,
}

/// The state of one worker during the search.
pub struct Worker<'a, M: Model> {
    id: usize,
    workers: usize,
    model: &'a M,
    options: &'a CheckOptions<'a>,
    invariants: usize,
    /// Whether a counterexample can be asked for, so parents must be chosen canonically.
    track_parents: bool,
    batch_bytes: usize,
    table: FingerprintSet,
    log: Vec<LogEntry>,
    /// States of the level being built, tagged with their log index.
    next: PackedStates,
    /// Log index of the first state of the level being built.
    next_start: u64,
    /// Parent fingerprint of each state of the level being built, by `index - next_start`.
    next_parent_fp: Vec<Fingerprint>,
    /// Fingerprint to `index - next_start` for the level being built.
    level_index: HashMap<Fingerprint, u32, BuildFingerprintHasher>,
    outgoing: Vec<Batch>,
    senders: Vec<Option<MailboxSender<Message>>>,
    receivers: Vec<Option<MailboxReceiver<Message>>>,
    /// Per source: its summary for this level has arrived (stop reading it).
    has_summary: Vec<bool>,
    markers_missing: usize,
    summaries_missing: usize,
    own_report: LevelReport,
    level_report: LevelReport,
    level_summary: LevelSummary,
    totals: GlobalTotals,
    clock: TimeSplit,
    telemetry: WorkerTelemetry,
    progress: &'a CachePadded<ProgressSlot>,
    generated_own: u64,
}

impl<'a, M: Model> Worker<'a, M> {
    /// Prepares a worker; call it on the worker's own (pinned) thread so its memory is
    /// first touched on its NUMA node.
    pub fn new(setup: WorkerSetup<'a, M>) -> Self {
        let invariants = setup.model.invariant_names().len();
        Worker {
            id: setup.id,
            workers: setup.workers,
            model: setup.model,
            options: setup.options,
            invariants,
            track_parents: setup.options.check_deadlock || invariants > 0,
            batch_bytes: setup.batch_bytes,
            table: FingerprintSet::with_capacity(1 << 16),
            log: Vec::new(),
            next: PackedStates::new(),
            next_start: 0,
            next_parent_fp: Vec::new(),
            level_index: HashMap::default(),
            outgoing: (0..setup.workers)
                .map(|_| Batch::with_capacity(setup.batch_bytes + 256))
                .collect(),
            senders: setup.senders,
            receivers: setup.receivers,
            has_summary: vec![false; setup.workers],
            markers_missing: 0,
            summaries_missing: 0,
            own_report: LevelReport::default(),
            level_report: LevelReport::default(),
            level_summary: LevelSummary::default(),
            totals: GlobalTotals::default(),
            clock: TimeSplit::start(Activity::Expanding),
            telemetry: setup.telemetry,
            progress: setup.progress,
            generated_own: 0,
        }
    }

    /// Runs the search to its end.
    pub fn run(mut self) -> WorkerResult {
        let started = Instant::now();
        let mut current = PackedStates::new();
        self.begin_level();
        self.store_initial_states();
        let mut depth: u32 = 0;
        let ending = loop {
            self.end_level();
            if let Some(ending) = self.decide(depth) {
                break ending;
            }
            std::mem::swap(&mut current, &mut self.next);
            self.begin_level();
            self.progress
                .level
                .store(u64::from(depth), Ordering::Relaxed);
            self.expand(&current);
            depth += 1;
        };
        self.clock.switch(Activity::Idle);
        let t = &mut self.telemetry;
        t.wall_s = started.elapsed().as_secs_f64();
        t.expanding_s = self.clock.total(Activity::Expanding).as_secs_f64();
        t.receiving_s = self.clock.total(Activity::Receiving).as_secs_f64();
        t.sending_s = self.clock.total(Activity::Sending).as_secs_f64();
        t.idle_s = self.clock.total(Activity::Idle).as_secs_f64();
        t.owned = self.log.len() as u64;
        t.generated = self.generated_own;
        t.table_bytes = self.table.memory_bytes() as u64;
        t.log_bytes = (self.log.capacity() * std::mem::size_of::<LogEntry>()) as u64;
        WorkerResult {
            log: self.log,
            telemetry: self.telemetry,
            totals: self.totals,
            ending,
            errors: self.level_report.errors,
        }
    }

    fn begin_level(&mut self) {
        self.next.clear();
        self.next_parent_fp.clear();
        self.level_index.clear();
        self.table.clear_marks();
        self.next_start = self.log.len() as u64;
        self.own_report = LevelReport::default();
        self.level_report = LevelReport::default();
        self.level_summary = LevelSummary::default();
        self.has_summary.iter_mut().for_each(|h| *h = false);
        self.markers_missing = self.workers - 1;
        self.summaries_missing = self.workers - 1;
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
                self.own_report.errors.note_invariant(fp, i);
            }
            self.store(Entry {
                fp,
                parent: ParentRef::NONE,
                parent_fp: 0,
                state: &buf,
            });
        });
    }

    /// Expands every state of `current`.
    fn expand(&mut self, current: &PackedStates) {
        let model = self.model;
        let mut state: Option<M::State> = None;
        let mut buf = Vec::new();
        let mut left = current.len() as u64;
        for (n, (index, bytes)) in current.iter().enumerate() {
            let parent_fp = self.log[index as usize].fp;
            let parent = ParentRef::new(self.id, index);
            match &mut state {
                Some(s) => model.unpack_into(bytes, s),
                None => state = Some(model.unpack(bytes)),
            }
            let s = state.as_ref().expect("just unpacked");
            if !model.within_constraint(s) {
                continue;
            }
            let mut successors = 0u64;
            model.successors(s, &mut |_, t| {
                successors += 1;
                buf.clear();
                model.pack(t, &mut buf);
                let fp = fingerprint(&buf);
                let entry = Entry {
                    fp,
                    parent,
                    parent_fp,
                    state: &buf,
                };
                let owner = owner_of(fp, self.workers);
                // Invariants are checked here, where the typed state is at hand: for
                // a state this worker owns, only if it is new; for another worker's,
                // always. A violating successor is new anyway (an older copy would
                // have ended the search at its own level), so both find exactly the
                // new violating states.
                let check = if owner == self.id {
                    self.store(entry)
                } else {
                    self.enqueue(owner, entry);
                    true
                };
                if check && self.invariants > 0 {
                    if let Some(i) = first_violated_invariant(model, self.invariants, t) {
                        self.own_report.errors.note_invariant(fp, i);
                    }
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
            left -= 1;
            if n % POLL_EVERY == POLL_EVERY - 1 {
                if self.workers > 1 {
                    self.poll_inbox();
                }
                self.publish_progress(left);
            }
        }
        self.publish_progress(0);
    }

    /// Stores a state this worker owns; returns whether it was new.
    #[inline]
    fn store(&mut self, e: Entry<'_>) -> bool {
        if !self.track_parents {
            if !self.table.insert(e.fp) {
                return false;
            }
        } else {
            match self.table.insert_marked(e.fp) {
                Insert::New => {
                    let pos = (self.log.len() as u64 - self.next_start) as u32;
                    self.level_index.insert(e.fp, pos);
                    self.next_parent_fp.push(e.parent_fp);
                }
                Insert::Old => return false,
                Insert::ThisLevel => {
                    // Keep, among a new state's parents, the one with the lowest
                    // fingerprint, so the counterexample does not depend on the order
                    // in which parents were expanded.
                    if e.parent != ParentRef::NONE {
                        let pos = self.level_index[&e.fp];
                        let best = &mut self.next_parent_fp[pos as usize];
                        if e.parent_fp < *best {
                            *best = e.parent_fp;
                            self.log[(self.next_start + u64::from(pos)) as usize].parent = e.parent;
                        }
                    }
                    return false;
                }
            }
        }
        let index = self.log.len() as u64;
        self.log.push(LogEntry {
            fp: e.fp,
            parent: e.parent,
        });
        self.next.push(index, e.state);
        true
    }

    /// Adds a state to the batch for `owner`, sending the batch when full.
    #[inline]
    fn enqueue(&mut self, owner: usize, e: Entry<'_>) {
        let batch = &mut self.outgoing[owner];
        batch.push(e);
        if batch.byte_len() >= self.batch_bytes {
            self.send_batch(owner);
        }
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
                    if !self.poll_inbox() {
                        self.clock.switch(Activity::Sending);
                        wait(&backoff);
                    } else {
                        self.clock.switch(Activity::Sending);
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
                for e in batch.iter() {
                    self.store(e);
                }
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
        }
    }

    /// The two all-to-all rounds that end a level (see the module doc).
    fn end_level(&mut self) {
        for to in 0..self.workers {
            if to != self.id && !self.outgoing[to].is_empty() {
                self.send_batch(to);
            }
        }
        self.generated_own += self.own_report.generated;
        self.level_report.merge(&self.own_report);
        let report = self.own_report;
        self.broadcast(|| Message::EndOfLevel(report));
        self.wait_until(|w| w.markers_missing == 0);
        let summary = LevelSummary {
            new_states: self.next.len() as u64,
            distinct: self.log.len() as u64,
        };
        self.level_summary.merge(&summary);
        self.broadcast(|| Message::Summary(summary));
        self.wait_until(|w| w.summaries_missing == 0);
    }

    fn broadcast(&mut self, message: impl Fn() -> Message) {
        for to in 0..self.workers {
            if to != self.id {
                self.send(to, message());
            }
        }
    }

    fn wait_until(&mut self, done: impl Fn(&Self) -> bool) {
        let backoff = Backoff::new();
        while !done(self) {
            if self.poll_inbox() {
                backoff.reset();
            } else {
                self.clock.switch(Activity::Idle);
                wait(&backoff);
            }
        }
        self.clock.switch(Activity::Expanding);
    }

    /// The decision every worker takes identically once level `depth` is built.
    /// Mirrors `checker_core::sequential`.
    fn decide(&mut self, depth: u32) -> Option<Ending> {
        let totals = &mut self.totals;
        totals.generated += self.level_report.generated;
        totals.deadlocks += self.level_report.deadlocks;
        totals.distinct = self.level_summary.distinct;
        if self.level_summary.new_states > 0 {
            totals.level_sizes.push(self.level_summary.new_states);
        }
        if self.level_report.errors.any() {
            return Some(Ending::Error);
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

    fn publish_progress(&self, left: u64) {
        let p = &self.progress;
        p.generated.store(
            self.generated_own + self.own_report.generated,
            Ordering::Relaxed,
        );
        p.distinct.store(self.log.len() as u64, Ordering::Relaxed);
        p.frontier
            .store(left + self.next.len() as u64, Ordering::Relaxed);
    }
}

/// Waits a little: spins first, then yields, then sleeps briefly so that heavily
/// oversubscribed runs (many more workers than cores) still progress.
fn wait(backoff: &Backoff) {
    if backoff.is_completed() {
        std::thread::sleep(std::time::Duration::from_micros(50));
    } else {
        backoff.snooze();
    }
}
