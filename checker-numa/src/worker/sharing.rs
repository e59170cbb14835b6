//! Expansion sharing: who expands a state can move, who stores it cannot. A worker
//! hands consecutive states of its frontier to a worker that asks (pacing while both
//! have states left, or helping once the asker's own frontier is done), and expands
//! the shares it receives, naming the owner's log entries as parents.

use std::sync::atomic::Ordering;

use checker_core::Model;

use super::{Worker, POLL_EVERY, UNEXPANDED_COUNT_BITS, UNEXPANDED_COUNT_MASK};
use crate::message::{Message, Share};
use crate::partition::ParentRef;
use crate::state_chunk::{StateChunk, StateChunkIter};
use crate::telemetry::WaitFor;

/// Fewest states handed out in one share: below this, the request and answer cost more
/// than expanding the states where they are.
const MIN_SHARE: u64 = 16;

/// Most states in one share. A share cannot be split again, so it bounds the work
/// left at the end of a level (a few milliseconds); and it is large against the 64
/// expansions an owner may take to see a request, which the asking worker waits out.
const MAX_SHARE_STATES: u64 = 4096;

/// Fewest states a worker must have said it has left for a worker with its frontier
/// done to ask it for a share. The owner sees a request only at its next look at the
/// inbox, up to [`POLL_EVERY`] expansions after it said how many it had left, and then
/// keeps a part for itself; below this it would answer with nothing, after the asker
/// had waited for it (on `synthetic depth=5000`, levels of 200 states, nearly all of
/// 4,479 requests at 2 workers were answered empty when the bar was 32).
const HELP_MIN_LEFT: u64 = POLL_EVERY as u64 + 2 * MIN_SHARE;

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
pub(super) enum OwnRequest {
    /// No request is out, and no answer waits to be expanded.
    None,
    /// A request is out; its answer has not arrived.
    Awaiting,
    /// The answer has arrived from the worker named (the states' owner); it is
    /// expanded at the next safe point. An empty share means that worker has none left
    /// to hand out in this level.
    Answered(usize, Share),
}

impl<M: Model> Worker<'_, M> {
    /// Pacing (see [`PACE_GAP`]), at a look at the inbox while this worker has `left`
    /// states of its own: expands a share that has arrived, else asks for one when
    /// another worker is far behind. The request is not waited for: the answer is
    /// expanded at a later look, or once the frontier is done.
    pub(super) fn pace(&mut self, left: u64, typed: &mut Option<M::State>, buf: &mut Vec<u8>) {
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
    pub(super) fn give_shares(&mut self, states: &mut StateChunkIter<'_>, left: &mut u64) {
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
    pub(super) fn refuse_asks(&mut self) {
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
    pub(super) fn help_others(&mut self, typed: &mut Option<M::State>, buf: &mut Vec<u8>) {
        if !self.level_may_have_shares() {
            return;
        }
        loop {
            let victim = match self.richest_worker() {
                Victim::Ask(victim) => victim,
                Victim::NoneLeft => break,
                Victim::NotStarted => {
                    // A worker has not begun this level yet (it is still deciding, or
                    // not scheduled): its frontier is all to come. This worker would
                    // wait for its marker anyway, so it waits for it to begin.
                    self.wait_until(WaitFor::Share, |w| w.richest_worker() != Victim::NotStarted);
                    continue;
                }
            };
            self.ask_for_share(victim, u64::MAX);
            self.wait_until(WaitFor::Share, |w| {
                !matches!(w.own_request, OwnRequest::Awaiting)
            });
            self.expand_received_share(typed, buf, true);
        }
    }

    /// Whether any worker may have enough states of this level left to share: not if
    /// the whole level has fewer than [`HELP_MIN_LEFT`] (every worker knows its size
    /// from the summaries that ended the previous level). Without this, a worker of a
    /// narrow level (a deep, narrow model has one state a level) waited at every level
    /// for every other worker to begin it, only to find that none had enough: a third
    /// wait at each level end, beside the markers' and the summaries'.
    fn level_may_have_shares(&self) -> bool {
        self.global
            .last_level_size
            .is_none_or(|states| states >= HELP_MIN_LEFT)
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
    pub(super) fn expand_received_share(
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
        if self.should_pause() {
            return Victim::NoneLeft;
        }
        choose_victim(
            (0..self.workers)
                .filter(|&w| w != self.id && !self.refused_by[w])
                .map(|w| (w, self.published_left(w))),
        )
    }

    /// The tag of the level being expanded in [`ProgressSlot::unexpanded`]: the depth
    /// of its states plus one (0 is never a level's).
    pub(super) fn level_tag(&self) -> u64 {
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
}

/// Whom to ask for a share, from each candidate worker and the states it last said it
/// has left (`None`: it has not begun the level): the one with the most, if that is at
/// least [`HELP_MIN_LEFT`] (the first of equals); else [`Victim::NotStarted`] if some
/// worker has not begun the level (no worker is ever ahead of another); else
/// [`Victim::NoneLeft`].
fn choose_victim(candidates: impl Iterator<Item = (usize, Option<u64>)>) -> Victim {
    let mut not_started = false;
    let mut richest: Option<(u64, usize)> = None;
    for (w, published) in candidates {
        let Some(left) = published else {
            not_started = true;
            continue;
        };
        if left >= HELP_MIN_LEFT && richest.is_none_or(|(most, _)| left > most) {
            richest = Some((left, w));
        }
    }
    match richest {
        Some((_, w)) => Victim::Ask(w),
        None if not_started => Victim::NotStarted,
        None => Victim::NoneLeft,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_the_worker_with_most_left_only_when_it_can_spare_a_share() {
        let choose =
            |published: &[Option<u64>]| choose_victim(published.iter().copied().enumerate());
        assert_eq!(HELP_MIN_LEFT, 96);
        assert_eq!(choose(&[Some(500), Some(900), Some(900)]), Victim::Ask(1));
        assert_eq!(choose(&[Some(96)]), Victim::Ask(0));
        // Fewer left than the owner expands before it sees a request, plus two shares:
        // it would answer with nothing.
        assert_eq!(choose(&[Some(95), Some(40)]), Victim::NoneLeft);
        // A worker that has not begun the level has its whole frontier to come.
        assert_eq!(choose(&[Some(95), None]), Victim::NotStarted);
        assert_eq!(choose(&[None, Some(200)]), Victim::Ask(1));
        assert_eq!(choose(&[]), Victim::NoneLeft);
    }
}
