//! One (sender, receiver) link between two workers, with buffer recycling.
//!
//! Successor states travel in batches (typically a `Vec` of packed states). Allocating a
//! fresh batch for every send and freeing it on the receiving side would put the
//! allocator, and its cross-thread frees, on the hot path. A mailbox is therefore two
//! [`ring`]s: full batches go forward to the receiver, and the receiver hands each batch
//! back, emptied but with its capacity intact, on the return ring. The sender takes
//! recycled batches before allocating, so in steady state a link allocates nothing.
//!
//! Both rings are SPSC in opposite directions, so each end owns one producer and one
//! consumer and the link keeps the ring's guarantees: no shared write, no atomic
//! read-modify-write (see [`crate::ring`] for the memory orderings).

use crate::ring::{ring, ring_bytes, Consumer, Producer};

/// Creates a link that holds up to `capacity` batches in flight towards the receiver.
///
/// The return ring gets `capacity + 2` slots, enough that [`MailboxReceiver::recycle`]
/// never has to drop a batch when both ends follow the engine's discipline: the sender
/// allocates a new batch only when [`MailboxSender::take_recycled`] returns `None` and
/// holds at most one unsent batch, and the receiver recycles each batch before it
/// receives the next. A new batch is then only ever allocated while the return ring is
/// empty and the sender holds none, so every batch in existence is in the forward ring
/// (at most `capacity`) or in the receiver's hands (at most one); counting the new one,
/// at most `capacity + 2` batches ever exist, and the return ring can hold them all.
///
/// Like [`ring`], this is meant to be called on the receiving worker's pinned thread, so
/// both rings' slots are first touched on the receiver's NUMA node.
///
/// # Panics
///
/// If `capacity` is 0 or absurdly large (see [`ring`]).
pub fn mailbox<T: Send>(capacity: usize) -> (MailboxSender<T>, MailboxReceiver<T>) {
    assert!(capacity >= 1, "mailbox capacity must be at least 1");
    let return_capacity = capacity
        .checked_add(2)
        .unwrap_or_else(|| panic!("mailbox capacity {capacity} is too large"));
    let (full_tx, full_rx) = ring(capacity);
    let (empty_tx, empty_rx) = ring(return_capacity);
    (
        MailboxSender {
            full: full_tx,
            recycled: empty_rx,
        },
        MailboxReceiver {
            full: full_rx,
            recycled: empty_tx,
        },
    )
}

/// Bytes that [`mailbox`]`::<T>(capacity)` allocates: both rings (see
/// [`ring_bytes`]), not the batches that later travel through them.
pub fn mailbox_bytes<T>(capacity: usize) -> u64 {
    ring_bytes::<T>(capacity).saturating_add(ring_bytes::<T>(capacity.saturating_add(2)))
}

/// The sending worker's end of a link: sends full batches, takes emptied ones back.
#[derive(Debug)]
pub struct MailboxSender<T> {
    /// Forward ring: full batches towards the receiver.
    full: Producer<T>,
    /// Return ring: emptied batches from the receiver.
    recycled: Consumer<T>,
}

impl<T> MailboxSender<T> {
    /// Sends `batch`, or gives it back as `Err(batch)` when the receiver is `capacity`
    /// batches behind (the caller keeps it and retries, which is the engine's
    /// back-pressure).
    pub fn try_send(&mut self, batch: T) -> Result<(), T> {
        self.full.push(batch)
    }

    /// An emptied batch the receiver handed back, if any: use it before allocating.
    pub fn take_recycled(&mut self) -> Option<T> {
        self.recycled.pop()
    }

    /// Whether [`try_send`](Self::try_send) would fail right now.
    pub fn is_full(&mut self) -> bool {
        self.full.is_full()
    }

    /// Maximum number of batches in flight towards the receiver.
    pub fn capacity(&self) -> usize {
        self.full.capacity()
    }
}

/// The receiving worker's end of a link: receives full batches, hands emptied ones back.
#[derive(Debug)]
pub struct MailboxReceiver<T> {
    /// Forward ring: full batches from the sender.
    full: Consumer<T>,
    /// Return ring: emptied batches back to the sender.
    recycled: Producer<T>,
}

impl<T> MailboxReceiver<T> {
    /// The oldest batch sent and not yet received, or `None` if there is none.
    pub fn recv(&mut self) -> Option<T> {
        self.full.pop()
    }

    /// Hands an emptied `batch` back to the sender for reuse.
    ///
    /// The sender clears the batch when it takes it back ([`MailboxSender::take_recycled`]'s
    /// caller), keeping its allocation. If the return ring is
    /// full, which the sizing in [`mailbox`] rules out under the engine's discipline, the
    /// batch is dropped here instead: memory stays bounded and the sender just allocates.
    pub fn recycle(&mut self, batch: T) {
        // Dropping on a full return ring is the documented fallback, not an error.
        drop(self.recycled.push(batch));
    }

    /// Whether no batch is waiting right now (used for quiescence checks).
    pub fn is_empty(&mut self) -> bool {
        self.full.is_empty()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crossbeam_utils::Backoff;
    use std::thread;

    #[test]
    fn batches_go_forward_and_come_back_with_their_allocation() {
        let (mut tx, mut rx) = mailbox::<Vec<u32>>(2);
        assert_eq!(tx.capacity(), 2);
        assert_eq!(tx.take_recycled(), None);
        assert!(rx.is_empty());
        let mut batch = Vec::with_capacity(64);
        batch.extend([1, 2, 3]);
        let buffer = batch.as_ptr();
        assert_eq!(tx.try_send(batch), Ok(()));
        assert!(!rx.is_empty());
        let mut received = rx.recv().expect("a batch was sent");
        assert_eq!(received, [1, 2, 3]);
        received.clear();
        rx.recycle(received);
        let reused = tx.take_recycled().expect("the batch was recycled");
        assert!(reused.is_empty());
        assert_eq!(reused.as_ptr(), buffer, "the same allocation came back");
        assert!(reused.capacity() >= 64);
        assert_eq!(tx.take_recycled(), None);
    }

    #[test]
    fn sending_beyond_capacity_is_refused_until_the_receiver_catches_up() {
        let (mut tx, mut rx) = mailbox(2);
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(tx.try_send(2), Ok(()));
        assert!(tx.is_full());
        assert_eq!(tx.try_send(3), Err(3));
        assert_eq!(rx.recv(), Some(1));
        assert_eq!(tx.try_send(3), Ok(()));
        assert_eq!((rx.recv(), rx.recv(), rx.recv()), (Some(2), Some(3), None));
    }

    #[test]
    fn recycling_into_a_full_return_ring_drops_the_surplus() {
        // Breaking the discipline (recycling batches the sender never sent) must not
        // block or panic; the return ring keeps capacity + 2 and drops the rest.
        let (mut tx, mut rx) = mailbox(1);
        for i in 0..5 {
            rx.recycle(i);
        }
        let returned: Vec<i32> = std::iter::from_fn(|| tx.take_recycled()).collect();
        assert_eq!(returned, [0, 1, 2]);
    }

    /// Under the engine's discipline, a link allocates at most `capacity + 2` batches no
    /// matter how many it moves, and every recycled batch comes back.
    #[test]
    fn steady_state_allocates_at_most_capacity_plus_two_batches() {
        const BATCHES: usize = 20_000;
        const CAPACITY: usize = 3;
        let (mut tx, mut rx) = mailbox::<Vec<usize>>(CAPACITY);
        let sender = thread::spawn(move || {
            let backoff = Backoff::new();
            let mut allocated = 0;
            for n in 0..BATCHES {
                let mut batch = tx.take_recycled().unwrap_or_else(|| {
                    allocated += 1;
                    Vec::with_capacity(4)
                });
                assert!(batch.is_empty(), "recycled batches arrive cleared");
                batch.extend([n, n + 1]);
                while let Err(back) = tx.try_send(batch) {
                    batch = back;
                    backoff.snooze();
                }
                backoff.reset();
            }
            allocated
        });
        let backoff = Backoff::new();
        let mut received = 0;
        while received < BATCHES {
            match rx.recv() {
                Some(mut batch) => {
                    assert_eq!(batch, [received, received + 1]);
                    received += 1;
                    batch.clear();
                    rx.recycle(batch);
                    backoff.reset();
                }
                None => backoff.snooze(),
            }
        }
        let allocated = sender.join().expect("sender thread panicked");
        assert!(
            allocated <= CAPACITY + 2,
            "allocated {allocated} batches for capacity {CAPACITY}"
        );
    }
}
