//! A worker's mailbox traffic: sending batches and messages (storing incoming states
//! while a ring is full), polling the inbox, and handling what arrives.

use crossbeam_utils::Backoff;

use checker_core::Model;

use super::sharing::OwnRequest;
use super::{batch_room, Worker};
use crate::message::{Batch, Message};
use crate::telemetry::{Activity, LapSum, WaitFor};

impl<M: Model> Worker<'_, M> {
    pub(super) fn send_batch(&mut self, to: usize) {
        let sender = self.senders[to].as_mut().expect("no mailbox to self");
        let (fresh, made_here) = match sender.take_recycled() {
            Some(Message::States(mut b)) => {
                b.clear();
                (b, false)
            }
            _ => (Batch::unallocated(batch_room(self.batch_bytes)), true),
        };
        if std::mem::replace(&mut self.outgoing_uncounted[to], made_here) {
            self.batch_buffers += 1;
        }
        let batch = std::mem::replace(&mut self.outgoing[to], fresh);
        self.telemetry.batches_sent += 1;
        self.telemetry.states_sent += batch.len() as u64;
        self.send(to, Message::States(batch));
    }

    /// Hands `message` to the mailbox for `to`. While it is full, stores incoming
    /// states instead of waiting: the receiver of a full ring is itself either storing
    /// or blocked on a full ring whose receiver stores, so someone always progresses.
    pub(super) fn send(&mut self, to: usize, mut message: Message) {
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
    pub(super) fn poll_inbox(&mut self) -> bool {
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
            Message::Lap(lap) => {
                debug_assert_eq!(self.id, 0, "laps go to worker 0");
                self.laps_received.merge(&LapSum::of(Some(lap)));
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

    pub(super) fn broadcast(&mut self, message: impl Fn() -> Message) {
        for to in 0..self.workers {
            if to != self.id {
                self.send(to, message());
            }
        }
    }

    /// Stores what arrives until `done`, counting the idle time on `waiting_for`. Only
    /// called once this worker's frontier is expanded, so it refuses every request for
    /// a share: those just received, and those received while a send waited for room
    /// (`send` only records them). The asker waits for the answer before its marker,
    /// so one left unanswered would stall the level for good.
    pub(super) fn wait_until(&mut self, waiting_for: WaitFor, done: impl Fn(&Self) -> bool) {
        let backoff = Backoff::new();
        while !done(self) {
            let received = self.poll_inbox();
            self.refuse_asks();
            if received {
                backoff.reset();
            } else {
                self.clock.switch(Activity::Idle(waiting_for));
                self.idle(&backoff);
            }
        }
        self.clock.switch(Activity::Expanding);
    }
}
