//! Expansion: a worker's own frontier, chunk by chunk, and each state's successors
//! into the batch of their owner (this worker's own batch included).

use checker_core::{fingerprint, Model};

use super::sharing::OwnRequest;
use super::{Worker, POLL_EVERY};
use crate::frontier::Frontier;
use crate::message::Entry;
use crate::partition::{owner_of, ParentRef};
use crate::short_eq::same_bytes;
use crate::state_chunk::StateChunk;
use crate::telemetry::WaitFor;

impl<M: Model> Worker<'_, M> {
    /// Expands every state of `frontier`, spilled chunks included, consuming it chunk
    /// by chunk (emptied chunks go to the next frontier), handing consecutive runs of
    /// it to workers that ask for a share. Stops early on a pause, leaving the chunk
    /// being expanded and the rest in `frontier`. Then, if sharing is on, expands
    /// shares of other workers' frontiers until none has enough left.
    pub(super) fn expand(&mut self, frontier: &mut Frontier) {
        self.frontier_base = frontier.first_index();
        let mut left = frontier.len();
        self.publish_progress(left);
        // The frontier is out of `self.state` while it is expanded: its memory is
        // counted here instead.
        self.expanding_bytes = frontier.allocated_bytes() as u64;
        // Out of `self` while `self` is borrowed for each expansion; put back below.
        let mut typed = self.expansion_scratch.take();
        let mut buf = std::mem::take(&mut self.pack_buf);
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
            self.expanding_bytes = frontier.allocated_bytes() as u64;
        }
        // Nothing of this frontier is left to hand out (or, on a pause, nothing will
        // be): say so, then answer every request still waiting.
        self.publish_progress(0);
        self.refuse_asks();
        // A share asked for while pacing is expanded whatever happens (its owner
        // counts it as done), before this worker's marker.
        self.wait_until(WaitFor::Share, |w| {
            !matches!(w.own_request, OwnRequest::Awaiting)
        });
        self.expand_received_share(&mut typed, &mut buf, true);
        if self.share_expansion && !self.pausing && self.io_error.is_none() {
            self.help_others(&mut typed, &mut buf);
        }
        // The frontier goes back into `self.state`, where it is counted.
        self.expanding_bytes = 0;
        self.expansion_scratch = typed;
        self.pack_buf = buf;
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
                // On an interrupt, or once memory runs short, stop after this batch
                // of states: the rest of the level is saved and expanded when the run
                // is resumed.
                if self.should_pause() {
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
    pub(super) fn expand_state(
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

    /// Sends the batch for `to`, or stores it if `to` is this worker.
    fn flush_batch(&mut self, to: usize) {
        if to == self.id {
            self.store_own_batch();
        } else {
            self.send_batch(to);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use checker_core::{Action, CheckOptions, Model};

    use crate::engine::{check, EngineConfig};

    /// A cycle of `LEVELS` states, one per level (a deep, narrow model), that counts
    /// the typed states it makes afresh (`unpack`) rather than reuses (`unpack_into`).
    struct CountingCycle {
        fresh_states: AtomicUsize,
    }

    const LEVELS: u16 = 1000;

    impl Model for CountingCycle {
        type State = u16;
        fn name(&self) -> String {
            "counting cycle".into()
        }
        fn initial_states(&self, emit: &mut dyn FnMut(&u16)) {
            emit(&0)
        }
        fn successors(&self, s: &u16, emit: &mut dyn FnMut(Action, &u16)) {
            emit(Action(0), &((s + 1) % LEVELS));
        }
        fn pack(&self, s: &u16, out: &mut Vec<u8>) {
            out.extend_from_slice(&s.to_le_bytes())
        }
        fn unpack(&self, b: &[u8]) -> u16 {
            self.fresh_states.fetch_add(1, Ordering::Relaxed);
            u16::from_le_bytes([b[0], b[1]])
        }
        fn unpack_into(&self, b: &[u8], into: &mut u16) {
            *into = u16::from_le_bytes([b[0], b[1]]);
        }
        fn render(&self, s: &u16) -> String {
            s.to_string()
        }
    }

    /// A worker makes its typed state for expansion once, not once a level: a DVE
    /// state is an allocation, and a deep, narrow model has a level per state.
    #[test]
    fn a_worker_makes_its_expansion_state_once_not_once_a_level() {
        for workers in [1, 2, 3] {
            let model = CountingCycle {
                fresh_states: AtomicUsize::new(0),
            };
            let config = EngineConfig {
                workers,
                pin: false,
                ..EngineConfig::default()
            };
            let got = check(&model, &CheckOptions::default(), &config).unwrap();
            assert_eq!(got.outcome.distinct, u64::from(LEVELS));
            assert_eq!(got.outcome.depth, u32::from(LEVELS));
            let fresh = model.fresh_states.into_inner();
            assert!(
                fresh <= workers,
                "{workers} workers made {fresh} typed states in {LEVELS} levels"
            );
        }
    }
}
