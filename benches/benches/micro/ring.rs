//! The mailbox (forward ring plus buffer-recycling return ring) between two threads
//! pinned to different CPUs, as between two workers: items per second for batches of
//! 1, 16, 64 and 256 items (an item is one 8-byte fingerprint). Small batches show the
//! per-batch cost of the cross-core handshake; large ones its amortisation.

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use checker_numa::mailbox::mailbox;
use checker_numa::placement::{pin_current_thread, Placement};
use checker_numa::topology::detect;

/// Batches the ring holds, the engine's default `--ring-capacity`.
const RING_CAPACITY: usize = 16;

/// Registers the `mailbox/<batch>` benchmarks, measured in items per second.
pub fn bench(c: &mut Criterion) {
    let cpus = two_cpus();
    if cpus[1].is_none() {
        eprintln!("mailbox: fewer than two usable CPUs, the threads run unpinned");
    }
    let mut group = c.benchmark_group("mailbox");
    for batch in [1usize, 16, 64, 256] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, &batch| {
            b.iter_custom(|batches| transfer(batches, batch, cpus))
        });
    }
    group.finish();
}

/// The first two usable CPUs, if there are two.
fn two_cpus() -> [Option<usize>; 2] {
    let cpus: Vec<usize> = detect().nodes.into_iter().flat_map(|n| n.cpus).collect();
    match cpus.as_slice() {
        [a, b, ..] => [Some(*a), Some(*b)],
        _ => [None, None],
    }
}

fn pin(cpu: Option<usize>) {
    pin_current_thread(&Placement {
        worker: 0,
        node: 0,
        cpu,
    });
}

/// Moves `batches` batches of `batch` items from one pinned thread to another; the
/// time from both being ready to the receiver holding the last item.
fn transfer(batches: u64, batch: usize, cpus: [Option<usize>; 2]) -> Duration {
    let (mut tx, mut rx) = mailbox::<Vec<u64>>(RING_CAPACITY);
    let ready = Barrier::new(2);
    let ready = &ready;
    std::thread::scope(|s| {
        s.spawn(move || {
            pin(cpus[0]);
            ready.wait();
            for i in 0..batches {
                // Reuse a buffer the receiver handed back, as a worker does.
                let mut items = tx
                    .take_recycled()
                    .unwrap_or_else(|| Vec::with_capacity(batch));
                items.extend((0..batch as u64).map(|k| i ^ k));
                while let Err(back) = tx.try_send(items) {
                    items = back;
                    std::hint::spin_loop();
                }
            }
        });
        let receiver = s.spawn(move || {
            pin(cpus[1]);
            ready.wait();
            let started = Instant::now();
            let (mut received, mut sum) = (0u64, 0u64);
            while received < batches {
                match rx.recv() {
                    Some(mut items) => {
                        sum = items.iter().fold(sum, |a, &x| a.wrapping_add(x));
                        items.clear();
                        rx.recycle(items);
                        received += 1;
                    }
                    None => std::hint::spin_loop(),
                }
            }
            black_box(sum);
            started.elapsed()
        });
        receiver.join().expect("the receiver thread panicked")
    })
}
