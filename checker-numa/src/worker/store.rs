//! Storage of the states a worker owns: each batch, own or received, entry by entry,
//! into the visited table, the parent log, the level index and the next frontier;
//! parents offered to states already stored in this level are held and settled in
//! windows.

use checker_core::model::first_violated_invariant;
use checker_core::{Fingerprint, Model};

use super::Worker;
use crate::message::{Batch, Entry};
use crate::parent_log::LogEntry;
use crate::partition::ParentRef;
use crate::table::Insert;

/// How many states ahead of the one being stored a batch's table and level-index
/// slots are prefetched.
const PREFETCH_AHEAD: usize = 8;

/// Parents offered to states stored earlier in the same level that are held, their log
/// entries prefetched, before they are compared (see [`PendingOffer`]).
pub(super) const OFFER_WINDOW: usize = 16;

/// A parent offered to a state stored earlier in this level, waiting for its
/// comparison. Such a state's log entry is usually far from the cache when its other
/// parents are expanded by other workers (docs/benchmarks.md, "Locality at 2
/// workers"), and reading it at once stalls the store loop on each one in turn. So
/// the offer is held while its entry is prefetched, and [`OFFER_WINDOW`] offers are
/// compared together, their misses overlapping. Keeping the lowest parent does not
/// depend on the order of the offers, so holding them changes nothing else; none
/// outlives the batch being stored.
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingOffer {
    fp: Fingerprint,
    /// Where the level index says the state is, before the log entry confirms it.
    candidate: u32,
    parent: ParentRef,
    parent_fp: Fingerprint,
}

impl PendingOffer {
    /// A placeholder for an empty slot of the window.
    pub(super) const NONE: PendingOffer = PendingOffer {
        fp: 0,
        candidate: 0,
        parent: ParentRef::NONE,
        parent_fp: 0,
    };
}

impl<M: Model> Worker<'_, M> {
    /// Stores this worker's own batch of successors.
    pub(super) fn store_own_batch(&mut self) {
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
    pub(super) fn store_batch(&mut self, batch: &Batch) {
        let mut scratch = self.scratch.take();
        let mut ahead = batch.fingerprints().skip(PREFETCH_AHEAD);
        for e in batch.iter() {
            if let Some(fp) = ahead.next() {
                self.state.table.prefetch(fp);
                self.level_index.prefetch(fp);
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
        self.check_memory();
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
    #[inline(always)]
    pub(super) fn store(&mut self, e: Entry<'_>) -> bool {
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
}
