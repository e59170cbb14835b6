//! Exhaustive interleaving checks of the ring and the mailbox under loom.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" cargo test -p checker-numa --test loom_ring --release`
//! (a separate `CARGO_TARGET_DIR` avoids rebuilding everything else with the flag).
//!
//! Loom runs each model under every interleaving the C11 memory model allows (with
//! its own atomics, cells and `Arc` substituted inside `checker_numa::ring`), and fails
//! on a data race on a slot, a leaked `Arc`, or a failed assertion. Waiting loops call
//! `loom::thread::yield_now` so loom can schedule the other side. The models are kept
//! to a handful of items so each finishes in seconds.
#![cfg(loom)]

use checker_numa::mailbox::{mailbox, MailboxSender};
use checker_numa::ring::{ring, Consumer, Producer};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Pushes `item`, yielding to the other thread while the ring is full.
fn push_blocking<T>(tx: &mut Producer<T>, mut item: T) {
    loop {
        match tx.push(item) {
            Ok(()) => return,
            Err(back) => {
                item = back;
                thread::yield_now();
            }
        }
    }
}

/// Pops one item, yielding to the other thread while the ring is empty.
fn pop_blocking<T>(rx: &mut Consumer<T>) -> T {
    loop {
        if let Some(item) = rx.pop() {
            return item;
        }
        thread::yield_now();
    }
}

#[test]
fn single_thread_push_pop_keeps_order_and_bounds() {
    loom::model(|| {
        let (mut tx, mut rx) = ring(2);
        assert_eq!(rx.pop(), None, "a new ring is empty");
        assert_eq!(tx.push(1), Ok(()));
        assert_eq!(tx.push(2), Ok(()));
        assert_eq!(
            tx.push(3),
            Err(3),
            "a full ring rejects and returns the item"
        );
        assert_eq!(rx.pop(), Some(1));
        assert_eq!(tx.push(3), Ok(()));
        assert_eq!(rx.pop(), Some(2));
        assert_eq!(rx.pop(), Some(3));
        assert_eq!(rx.pop(), None, "a drained ring is empty");
    });
}

#[test]
fn full_ring_rejects_while_consumer_is_concurrently_popping() {
    loom::model(|| {
        let (mut tx, mut rx) = ring(1);
        assert_eq!(tx.push(1), Ok(()));
        let consumer = thread::spawn(move || rx.pop());
        // Either the consumer has freed the slot or the push is refused with the item.
        let pushed = tx.push(2);
        let popped = consumer.join().unwrap();
        assert_eq!(popped, Some(1), "the one item was there all along");
        if let Err(back) = pushed {
            assert_eq!(back, 2);
        }
    });
}

#[test]
fn empty_ring_returns_none_or_a_fully_written_item() {
    loom::model(|| {
        let (mut tx, mut rx) = ring::<Box<u32>>(1);
        let producer = thread::spawn(move || {
            tx.push(Box::new(7)).unwrap();
            tx
        });
        // Racing the push: nothing, or the whole item (loom flags a torn slot read).
        let early = rx.pop();
        let _tx = producer.join().unwrap();
        let item = early.or_else(|| rx.pop());
        assert_eq!(item.as_deref(), Some(&7));
        assert_eq!(rx.pop(), None);
    });
}

/// Moves `items` values through a ring of `capacity` between two threads and checks
/// they arrive complete and in order.
fn transfer(capacity: usize, items: u32) {
    loom::model(move || {
        let (mut tx, mut rx) = ring::<Box<u32>>(capacity);
        let producer = thread::spawn(move || {
            for i in 0..items {
                push_blocking(&mut tx, Box::new(i));
            }
        });
        for i in 0..items {
            assert_eq!(*pop_blocking(&mut rx), i);
        }
        producer.join().unwrap();
        assert_eq!(rx.pop(), None);
    });
}

#[test]
fn concurrent_transfer_capacity_one() {
    transfer(1, 3);
}

#[test]
fn concurrent_transfer_capacity_two() {
    transfer(2, 3);
}

/// Counts drops in a loom atomic.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn leftovers_are_dropped_once_when_the_ends_drop_on_different_threads() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = ring(2);
        let counter = drops.clone();
        let producer = thread::spawn(move || {
            for _ in 0..2 {
                if tx.push(DropCounter(counter.clone())).is_err() {
                    unreachable!("two items fit in a ring of two");
                }
            }
            // The producer end is dropped here, possibly before the consumer's.
        });
        let popped = rx.pop();
        drop(popped);
        drop(rx);
        producer.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 2, "every item dropped once");
    });
}

#[test]
fn batch_recycling_round_trip() {
    loom::model(|| {
        const BATCHES: usize = 3;
        const CAPACITY: usize = 1;
        let (mut tx, mut rx) = mailbox::<Vec<usize>>(CAPACITY);
        let sender = thread::spawn(move || {
            let mut allocated = 0;
            for n in 0..BATCHES {
                let mut batch = tx.take_recycled().unwrap_or_else(|| {
                    allocated += 1;
                    Vec::with_capacity(2)
                });
                assert!(batch.is_empty(), "recycled batches come back cleared");
                batch.push(n);
                send_blocking(&mut tx, batch);
            }
            (allocated, tx)
        });
        for n in 0..BATCHES {
            let mut batch = loop {
                if let Some(batch) = rx.recv() {
                    break batch;
                }
                thread::yield_now();
            };
            assert_eq!(batch, [n], "batches arrive whole and in order");
            batch.clear();
            rx.recycle(batch);
        }
        let (allocated, mut tx) = sender.join().unwrap();
        assert!(
            allocated <= CAPACITY + 2,
            "allocated {allocated} batches for capacity {CAPACITY}"
        );
        // Every batch ever allocated is back in the return ring: recycling dropped none.
        let returned = std::iter::from_fn(|| tx.take_recycled()).count();
        assert_eq!(returned, allocated);
    });
}

/// Sends `batch`, yielding while the forward ring is full.
fn send_blocking<T>(tx: &mut MailboxSender<T>, mut batch: T) {
    loop {
        match tx.try_send(batch) {
            Ok(()) => return,
            Err(back) => {
                batch = back;
                thread::yield_now();
            }
        }
    }
}
