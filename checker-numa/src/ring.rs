//! A bounded single-producer/single-consumer ring: the wire between two workers.
//!
//! Every (sender, receiver) pair of workers gets its own ring, so each ring has exactly
//! one writer of each index and no atomic read-modify-write is ever needed: the producer
//! alone stores `tail`, the consumer alone stores `head`, and each only *loads* the
//! other's. The two ends are distinct, non-`Clone` types, so "single" producer and
//! consumer is enforced by the type system rather than by convention.
//!
//! # Why hand-written
//!
//! This is the one concurrency primitive the engine writes itself (the pattern and the
//! bar are rtrb's). A ring crate would do, but the engine needs control over *where* the
//! slot buffer lives (see [`ring`]: it is allocated and touched on the receiving worker's
//! thread) and over the exact memory orderings, and the code is small enough to model
//! check exhaustively with loom (`tests/loom_ring.rs`).
//!
//! # Layout and caching
//!
//! `head` and `tail` sit in separate [`CachePadded`] atomics, so a push and a pop never
//! contend for one cache line. Each end also keeps a private copy of the other end's
//! index (`cached_head` in the producer, `cached_tail` in the consumer) and re-loads the
//! shared one only when its cached view says the ring is full (producer) or empty
//! (consumer). While the ring is neither, a push or pop touches only its own index line
//! and the slot.
//!
//! # Positions
//!
//! Positions run over `0..2 * capacity` and wrap there; the slot of position `p` is
//! `p mod capacity`. Counting to twice the capacity tells "full" (`tail - head ==
//! capacity`) from "empty" (`tail == head`) without a spare slot or a power-of-two
//! capacity, and the wrap is one compare instead of a division.
//!
//! # Memory orderings
//!
//! - The producer writes an item into its slot, then stores `tail` with `Release`. The
//!   consumer loads `tail` with `Acquire` before reading the slot, so the item's bytes
//!   happen-before its read.
//! - The consumer moves an item out of its slot, then stores `head` with `Release`. The
//!   producer loads `head` with `Acquire` before overwriting a slot, so the move-out
//!   happens-before the overwrite.
//! - Each end loads its *own* index only through its private copy, so it never reads
//!   the shared line it alone writes.

use std::fmt;
use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use self::sync::{Arc, AtomicUsize, Ordering, UnsafeCell};

/// The ring's synchronisation primitives: loom's model-checked versions under
/// `--cfg loom`, the standard library's otherwise, behind one API (loom's closure-based
/// `UnsafeCell` access, which lets loom see every slot read and write).
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::cell::UnsafeCell;
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
    #[cfg(loom)]
    pub(crate) use loom::sync::Arc;

    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
    #[cfg(not(loom))]
    pub(crate) use std::sync::Arc;

    /// `std::cell::UnsafeCell` with loom's access API, so the ring reads the same under
    /// both configurations. Costs nothing: the closures inline away.
    #[cfg(not(loom))]
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        pub(crate) fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a shared raw pointer to the contents.
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable raw pointer to the contents.
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// State both ends share: the two indices and the slots.
struct Shared<T> {
    /// Position of the next item to pop. Stored only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// Position of the next free slot to push into. Stored only by the producer.
    tail: CachePadded<AtomicUsize>,
    /// Slot `i` holds an initialised item exactly when some position `p` with
    /// `head <= p < tail` (modulo `2 * capacity`) has `p mod capacity == i`.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: `Shared` is reached only through a `Producer` and a `Consumer`, which are not
// `Clone`, so at most one thread writes and at most one thread reads the slots. A slot is
// only accessed by the end that owns it at that moment (the producer for free slots, the
// consumer for full ones), and ownership passes through the Release/Acquire pairs on
// `head` and `tail` documented on the module. Items move between threads, hence the
// `T: Send` bound; nothing hands out `&T` to two threads, so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for Shared<T> {}
// SAFETY: as above; `Shared<T>` owns `T`s, which may be dropped on whichever thread
// drops the last end, and `T: Send` allows that.
unsafe impl<T: Send> Send for Shared<T> {}

impl<T> Shared<T> {
    /// Number of slots.
    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The position after `pos`, wrapping at `2 * capacity`.
    fn next(&self, pos: usize) -> usize {
        debug_assert!(pos < 2 * self.capacity());
        if pos == 2 * self.capacity() - 1 {
            0
        } else {
            pos + 1
        }
    }

    /// Number of items between `head` and `tail`.
    fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head {
            tail - head
        } else {
            tail + 2 * self.capacity() - head
        }
    }

    /// The slot that position `pos` maps to.
    fn slot(&self, pos: usize) -> &UnsafeCell<MaybeUninit<T>> {
        let index = if pos < self.capacity() {
            pos
        } else {
            pos - self.capacity()
        };
        &self.slots[index]
    }
}

impl<T> Drop for Shared<T> {
    /// Drops the items still in flight once both ends are gone.
    fn drop(&mut self) {
        // Relaxed suffices: `Shared` is dropped by whichever end releases the last `Arc`
        // reference, and the `Arc`'s own Release/Acquire on its count orders the other
        // end's final index store before this point.
        let mut pos = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        while pos != tail {
            // SAFETY: positions in `head..tail` hold initialised items that no one has
            // moved out (invariant on `slots`); both ends are gone, so nothing else can
            // touch the slot, and each position is visited once, so each item is
            // dropped once.
            self.slot(pos)
                .with_mut(|slot| unsafe { (*slot).assume_init_drop() });
            pos = self.next(pos);
        }
    }
}

/// Bytes that [`ring`]`::<T>(capacity)` allocates: the slot buffer and the shared
/// header (the `Arc`'s two counts followed by both padded indices and the slice
/// pointer, laid out as the `Arc` lays them out). Saturates rather than overflows for
/// absurd capacities.
pub fn ring_bytes<T>(capacity: usize) -> u64 {
    use std::alloc::Layout;
    let header = Layout::new::<[usize; 2]>()
        .extend(Layout::new::<Shared<T>>())
        .map_or(usize::MAX, |(layout, _)| layout.pad_to_align().size());
    let slot = std::mem::size_of::<UnsafeCell<MaybeUninit<T>>>();
    (capacity as u64)
        .saturating_mul(slot as u64)
        .saturating_add(header as u64)
}

/// Creates a ring that holds up to `capacity` items, returning its two ends.
///
/// Any capacity of at least 1 works (powers of two are not required). The slot buffer
/// is allocated *and zero-filled* here, so its pages are first touched by the calling
/// thread: the engine calls this on the **receiving** worker's thread, after that thread
/// is pinned, so the memory the receiver polls lands on the receiver's NUMA node. The
/// [`Producer`] is then handed to the sending worker.
///
/// # Panics
///
/// If `capacity` is 0, or so large that `2 * capacity` overflows (such a buffer could
/// not be allocated anyway). Callers derive it from validated configuration.
pub fn ring<T: Send>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    assert!(capacity >= 1, "ring capacity must be at least 1");
    assert!(
        capacity <= usize::MAX / 2,
        "ring capacity {capacity} is too large"
    );
    let slots = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::zeroed()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        slots,
    });
    let producer = Producer {
        shared: Arc::clone(&shared),
        tail: 0,
        cached_head: 0,
    };
    let consumer = Consumer {
        shared,
        head: 0,
        cached_tail: 0,
    };
    (producer, consumer)
}

/// The writing end of a [`ring`]. Owned by the sending worker; `Send` but not `Clone`.
pub struct Producer<T> {
    /// The ring both ends share.
    shared: Arc<Shared<T>>,
    /// Authoritative copy of `shared.tail` (only this end stores it).
    tail: usize,
    /// Last value of `shared.head` this end loaded; never ahead of the real head, so
    /// the free space it implies is a lower bound.
    cached_head: usize,
}

impl<T> Producer<T> {
    /// Appends `item`, or gives it back as `Err(item)` when the ring is full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.is_full() {
            return Err(item);
        }
        // SAFETY: `is_full` returned false, so `tail` is at most `capacity - 1` positions
        // past the head we loaded with Acquire, hence the slot is free: the consumer has
        // finished moving its previous item out (that move happens-before our load of
        // `head`) and will not read it until we publish `tail` below. Writing a
        // `MaybeUninit` overwrites without dropping, which is right for a free slot.
        self.shared
            .slot(self.tail)
            .with_mut(|slot| unsafe { slot.write(MaybeUninit::new(item)) });
        self.tail = self.shared.next(self.tail);
        // Release: publishes the item written above to the consumer's Acquire load.
        self.shared.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Whether a [`push`](Self::push) would fail right now.
    ///
    /// Re-loads the consumer's index only if the cached one says full, so calling this
    /// in a loop is cheap while there is room.
    pub fn is_full(&mut self) -> bool {
        if self.shared.distance(self.cached_head, self.tail) < self.shared.capacity() {
            return false;
        }
        // Acquire: pairs with the consumer's Release store of `head`, so the slots it
        // has freed are really free before we overwrite them.
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        self.shared.distance(self.cached_head, self.tail) == self.shared.capacity()
    }

    /// Number of items that can be pushed right now without failing (re-loads the
    /// consumer's index).
    pub fn free_slots(&mut self) -> usize {
        // Acquire: as in `is_full`.
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        self.shared.capacity() - self.shared.distance(self.cached_head, self.tail)
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .field("cached_head", &self.cached_head)
            .finish()
    }
}

/// The reading end of a [`ring`]. Owned by the receiving worker; `Send` but not `Clone`.
pub struct Consumer<T> {
    /// The ring both ends share.
    shared: Arc<Shared<T>>,
    /// Authoritative copy of `shared.head` (only this end stores it).
    head: usize,
    /// Last value of `shared.tail` this end loaded; never ahead of the real tail, so
    /// the item count it implies is a lower bound.
    cached_tail: usize,
}

impl<T> Consumer<T> {
    /// Removes and returns the oldest item, or `None` when the ring is empty.
    pub fn pop(&mut self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        // SAFETY: `is_empty` returned false, so `head` is behind the tail we loaded with
        // Acquire, hence the slot holds an item the producer fully wrote before its
        // Release store of that tail. The producer will not touch the slot again until
        // we publish `head` below, and advancing `head` marks the slot free, so the item
        // is moved out exactly once.
        let item = self
            .shared
            .slot(self.head)
            .with(|slot| unsafe { slot.read().assume_init() });
        self.head = self.shared.next(self.head);
        // Release: orders the move-out above before the producer reuses the slot.
        self.shared.head.store(self.head, Ordering::Release);
        Some(item)
    }

    /// Whether a [`pop`](Self::pop) would return `None` right now.
    ///
    /// Re-loads the producer's index only if the cached one says empty, so calling this
    /// in a loop is cheap while items are waiting.
    pub fn is_empty(&mut self) -> bool {
        if self.cached_tail != self.head {
            return false;
        }
        // Acquire: pairs with the producer's Release store of `tail`, so the items
        // counted are fully written.
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        self.cached_tail == self.head
    }

    /// Number of items that can be popped right now (re-loads the producer's index).
    pub fn len(&mut self) -> usize {
        // Acquire: as in `is_empty`.
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        self.shared.distance(self.head, self.cached_tail)
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .field("cached_tail", &self.cached_tail)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crossbeam_utils::Backoff;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::thread;

    /// Counts its drops in a shared counter.
    struct DropCounter(std::sync::Arc<StdAtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn assert_send<T: Send>() {}

    #[test]
    fn ends_are_send() {
        assert_send::<Producer<Vec<u8>>>();
        assert_send::<Consumer<Vec<u8>>>();
    }

    #[test]
    fn pops_in_push_order_and_rejects_when_full() {
        let (mut tx, mut rx) = ring(3);
        assert_eq!(tx.capacity(), 3);
        assert!(rx.is_empty());
        assert_eq!(rx.pop(), None);
        for i in 0..3 {
            assert_eq!(tx.push(i), Ok(()));
        }
        assert!(tx.is_full());
        assert_eq!(tx.push(99), Err(99));
        assert_eq!(rx.len(), 3);
        assert_eq!(rx.pop(), Some(0));
        assert!(!tx.is_full());
        assert_eq!(tx.free_slots(), 1);
        assert_eq!(tx.push(3), Ok(()));
        assert_eq!(tx.push(4), Err(4));
        assert_eq!((rx.pop(), rx.pop(), rx.pop()), (Some(1), Some(2), Some(3)));
        assert_eq!(rx.pop(), None);
        assert_eq!(rx.len(), 0);
    }

    #[test]
    fn wraps_around_many_times_with_odd_capacity() {
        // Capacity 5 exercises the 2 * capacity position wrap with a non-power-of-two.
        let (mut tx, mut rx) = ring(5);
        let mut expected = 0;
        for round in 0..100 {
            let burst = round % 6; // 0..=5 items, including a full ring
            for k in 0..burst {
                assert_eq!(tx.push(expected + k), Ok(()));
            }
            assert_eq!(rx.len(), burst);
            for _ in 0..burst {
                assert_eq!(rx.pop(), Some(expected));
                expected += 1;
            }
            assert!(rx.is_empty());
        }
    }

    #[test]
    #[should_panic(expected = "at least 1")]
    fn zero_capacity_is_rejected() {
        let _ = ring::<u8>(0);
    }

    #[test]
    fn items_left_in_the_ring_are_dropped_exactly_once() {
        let drops = std::sync::Arc::new(StdAtomicUsize::new(0));
        let (mut tx, mut rx) = ring(4);
        // Advance past the wrap so the leftovers straddle the end of the slot array.
        for _ in 0..3 {
            assert!(tx.push(DropCounter(drops.clone())).is_ok());
            drop(rx.pop());
        }
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 3);
        for _ in 0..4 {
            assert!(tx.push(DropCounter(drops.clone())).is_ok());
        }
        let rejected = tx.push(DropCounter(drops.clone()));
        drop(rejected); // the Err hands the item back; dropping it counts once
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 4);
        drop(rx.pop());
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 5);
        drop(tx);
        // Consumer still alive: the three remaining items must not be dropped yet.
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 5);
        drop(rx);
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 8);
    }

    #[test]
    fn two_threads_move_a_million_items_through_capacity_one_in_order() {
        const ITEMS: u64 = 1_000_000;
        let (mut tx, mut rx) = ring::<u64>(1);
        let producer = thread::spawn(move || {
            let backoff = Backoff::new();
            for i in 0..ITEMS {
                let mut item = i;
                while let Err(back) = tx.push(item) {
                    item = back;
                    backoff.snooze();
                }
                backoff.reset();
            }
        });
        let backoff = Backoff::new();
        let (mut next, mut sum) = (0u64, 0u64);
        while next < ITEMS {
            match rx.pop() {
                Some(item) => {
                    assert_eq!(item, next, "items arrived out of order");
                    sum += item;
                    next += 1;
                    backoff.reset();
                }
                None => backoff.snooze(),
            }
        }
        producer.join().expect("producer thread panicked");
        assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
        assert_eq!(rx.pop(), None);
    }
}
