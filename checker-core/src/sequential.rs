//! The sequential reference checker: exact breadth-first search on one thread.
//!
//! Its answers define "correct" for every parallel engine, so it is kept short and
//! plain: a hash map from fingerprint to parent-log index, a parent log, and two
//! frontiers of packed states. The rules it follows are the ones every engine must
//! reproduce exactly:
//!
//! * level `d` expansion finds deadlocks at depth `d` and invariant violations among
//!   the new states at depth `d + 1`; a level with an error ends the search after the
//!   whole level is expanded;
//! * the reported state is the lowest fingerprint among that level's deadlocks, else
//!   among its violations; a state's recorded parent is, among its parents in the
//!   previous level, the one with the lowest fingerprint. Both make the counterexample
//!   independent of exploration order and worker count;
//! * `max_states` is checked at the end of each level, `max_depth` counts levels.

use hashbrown::hash_map::Entry;
use hashbrown::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::fingerprint::{fingerprint, BuildFingerprintHasher, Fingerprint};
use crate::level::{build_violation, CounterexampleError, LevelErrors};
use crate::model::{first_violated_invariant, Model};
use crate::options::{CheckOptions, Progress};
use crate::outcome::{Outcome, StopReason, Verdict};
use crate::packed::PackedStates;

/// States gone through between two calls of the progress callback (when its interval
/// has passed) and two looks at the interrupt flag, besides those between levels.
const LOOK_EVERY: u32 = 4096;

/// Marks "no parent" (an initial state) in the parent log.
const NO_PARENT: u32 = u32::MAX;

type FingerprintMap = HashMap<Fingerprint, u32, BuildFingerprintHasher>;

/// One stored state: its fingerprint and the log index of its parent.
#[derive(Clone, Copy)]
struct LogEntry {
    fp: Fingerprint,
    parent: u32,
}

/// Runs the sequential reference checker on `model`.
pub fn check<M: Model>(model: &M, options: &CheckOptions) -> Result<Outcome, CounterexampleError> {
    Search::new(model, options).run()
}

struct Search<'m, 'o, M: Model> {
    model: &'m M,
    options: &'o CheckOptions<'o>,
    invariants: usize,
    map: FingerprintMap,
    log: Vec<LogEntry>,
    /// States of the level being built, tagged with their log index.
    next: PackedStates,
    /// Log index of the first state of the level being built.
    next_start: u32,
    /// Parent fingerprint of each state of the level being built, by `index - next_start`.
    next_parent_fp: Vec<Fingerprint>,
    generated: u64,
    deadlocks: u64,
    level_sizes: Vec<u64>,
    errors: LevelErrors,
    started: Instant,
    last_progress: Instant,
    /// States gone through since the last look (see [`LOOK_EVERY`]).
    since_look: u32,
}

impl<'m, 'o, M: Model> Search<'m, 'o, M> {
    fn new(model: &'m M, options: &'o CheckOptions<'o>) -> Self {
        let now = Instant::now();
        Search {
            model,
            options,
            invariants: model.invariant_names().len(),
            map: FingerprintMap::default(),
            log: Vec::new(),
            next: PackedStates::new(),
            next_start: 0,
            next_parent_fp: Vec::new(),
            generated: 0,
            deadlocks: 0,
            level_sizes: Vec::new(),
            errors: LevelErrors::default(),
            started: now,
            last_progress: now,
            since_look: 0,
        }
    }

    /// Stores `packed` if new; `parent` is the log index and fingerprint of the state it
    /// was generated from. Returns whether it was new.
    fn insert(
        &mut self,
        packed_fp: Fingerprint,
        packed: &[u8],
        parent: Option<(u32, Fingerprint)>,
    ) -> bool {
        let index = self.log.len() as u32;
        match self.map.entry(packed_fp) {
            Entry::Vacant(v) => {
                v.insert(index);
                self.log.push(LogEntry {
                    fp: packed_fp,
                    parent: parent.map_or(NO_PARENT, |p| p.0),
                });
                self.next_parent_fp.push(parent.map_or(0, |p| p.1));
                self.next.push(u64::from(index), packed);
                true
            }
            Entry::Occupied(o) => {
                let existing = *o.get();
                if let Some((parent_index, parent_fp)) = parent {
                    if existing >= self.next_start {
                        let slot = &mut self.next_parent_fp[(existing - self.next_start) as usize];
                        if parent_fp < *slot {
                            *slot = parent_fp;
                            self.log[existing as usize].parent = parent_index;
                        }
                    }
                }
                false
            }
        }
    }

    fn run(mut self) -> Result<Outcome, CounterexampleError> {
        let model = self.model;
        let mut initial = Vec::new();
        model.initial_states(&mut |s| {
            let mut bytes = Vec::new();
            model.pack(s, &mut bytes);
            let violated = first_violated_invariant(model, self.invariants, s);
            initial.push((bytes, violated));
        });
        for (bytes, violated) in initial {
            self.generated += 1;
            let fp = fingerprint(&bytes);
            if self.insert(fp, &bytes, None) {
                if let Some(i) = violated {
                    self.errors.note_invariant(fp, i);
                }
            }
        }
        let mut current = PackedStates::new();
        let mut depth: u32 = 0;
        loop {
            if !self.next.is_empty() {
                self.level_sizes.push(self.next.len() as u64);
            }
            if let Some(stop) = self.stop_after_level(depth) {
                return stop;
            }
            std::mem::swap(&mut current, &mut self.next);
            self.next.clear();
            self.next_parent_fp.clear();
            self.next_start = self.log.len() as u32;
            // Checked between levels too, for models whose levels are small.
            if self.interrupted() || !self.expand_level(&current, depth) {
                // What the levels built so far hold; the level being built is left
                // out of the sizes (the parallel engine saves it in a checkpoint).
                return Ok(self.outcome(Verdict::Partial {
                    reason: StopReason::Interrupted,
                }));
            }
            depth += 1;
        }
    }

    /// Decides, once level `depth - 1` is expanded and level `depth` is built, whether
    /// the search ends here.
    fn stop_after_level(&mut self, depth: u32) -> Option<Result<Outcome, CounterexampleError>> {
        if let Some((fp, kind)) = self.errors.choose() {
            let chain = self.chain_to(fp);
            return Some(
                build_violation(self.model, kind, &chain)
                    .map(|v| self.outcome(Verdict::Violated(Box::new(v)))),
            );
        }
        if self.next.is_empty() {
            return Some(Ok(self.outcome(Verdict::Holds)));
        }
        if self.options.max_depth.is_some_and(|d| depth + 1 >= d) {
            return Some(Ok(self.outcome(Verdict::Partial {
                reason: StopReason::MaxDepth,
            })));
        }
        if self
            .options
            .max_states
            .is_some_and(|n| self.log.len() as u64 >= n)
        {
            return Some(Ok(self.outcome(Verdict::Partial {
                reason: StopReason::MaxStates,
            })));
        }
        None
    }

    /// Expands every state of `current`; returns `false` if the run was interrupted
    /// part-way.
    fn expand_level(&mut self, current: &PackedStates, depth: u32) -> bool {
        let model = self.model;
        let mut state: Option<M::State> = None;
        let mut succ_buf = crate::short_copy::pack_buffer();
        for (count, (tag, bytes)) in current.iter().enumerate() {
            // Counted over the whole run, not the level: levels of fewer states would
            // never report progress nor look at the interrupt flag part-way.
            self.since_look += 1;
            if self.since_look == LOOK_EVERY {
                self.since_look = 0;
                self.report_progress(current.len() - count + self.next.len(), depth);
                if self.interrupted() {
                    return false;
                }
            }
            let index = tag as u32;
            let parent_fp = self.log[index as usize].fp;
            let s = &*model.unpack_reusing(bytes, &mut state);
            if !model.within_constraint(s) {
                continue;
            }
            let mut successors = 0u64;
            model.successors(s, &mut |_, t| {
                successors += 1;
                succ_buf.clear();
                model.pack(t, &mut succ_buf);
                let fp = fingerprint(&succ_buf);
                if self.insert(fp, &succ_buf, Some((index, parent_fp))) {
                    if let Some(i) = first_violated_invariant(model, self.invariants, t) {
                        self.errors.note_invariant(fp, i);
                    }
                }
            });
            self.generated += successors;
            if successors == 0 {
                self.deadlocks += 1;
                if self.options.check_deadlock {
                    self.errors.note_deadlock(parent_fp);
                }
            }
        }
        true
    }

    fn interrupted(&self) -> bool {
        self.options
            .interrupt
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    fn report_progress(&mut self, frontier: usize, depth: u32) {
        let Some(progress) = self.options.progress else {
            return;
        };
        let now = Instant::now();
        if now.duration_since(self.last_progress) < self.options.progress_interval {
            return;
        }
        self.last_progress = now;
        progress(&Progress {
            generated: self.generated,
            distinct: self.log.len() as u64,
            frontier: frontier as u64,
            depth,
            elapsed: now.duration_since(self.started),
        });
    }

    /// Fingerprints from an initial state to the state with fingerprint `fp`.
    fn chain_to(&self, fp: Fingerprint) -> Vec<Fingerprint> {
        let mut index = self.map[&fp];
        let mut chain = vec![fp];
        while self.log[index as usize].parent != NO_PARENT {
            index = self.log[index as usize].parent;
            chain.push(self.log[index as usize].fp);
        }
        chain.reverse();
        chain
    }

    fn outcome(&self, verdict: Verdict) -> Outcome {
        Outcome {
            model: self.model.name(),
            distinct: self.log.len() as u64,
            generated: self.generated,
            depth: self.level_sizes.len() as u32,
            level_sizes: self.level_sizes.clone(),
            deadlocks: self.deadlocks,
            verdict,
            elapsed: elapsed_since(self.started),
        }
    }
}

fn elapsed_since(start: Instant) -> Duration {
    Instant::now().duration_since(start)
}
