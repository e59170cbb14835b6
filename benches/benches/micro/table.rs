//! The visited table (`FingerprintSet`) with random fingerprints: inserting new
//! fingerprints (a miss, then a store), inserting ones already stored (a hit), and
//! looking up absent ones (a miss), for a table that fits in cache and one far larger.
//!
//! New fingerprints go into one table sized for the whole key set, filled from empty
//! to half full over successive samples and then replaced (the replacement is not
//! timed), as a worker's table fills during a run: first touches of its pages are
//! part of the cost, spread over all the inserts into each page.

use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};

use benches::random::SplitMix64;
use checker_numa::table::FingerprintSet;

/// 4,096 fingerprints: 8,192 slots, 64 KiB, within any L2 cache.
const IN_CACHE: usize = 1 << 12;
/// 16 Mi fingerprints: 32 Mi slots, 256 MiB, far beyond any cache.
const OUT_OF_CACHE: usize = 1 << 24;

/// Registers the `table/<operation>/<size>` benchmarks, measured in operations per second.
pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Elements(1));
    for (size, n) in [("in_cache", IN_CACHE), ("out_of_cache", OUT_OF_CACHE)] {
        let keys = SplitMix64::new(1).take(n);
        let absent = SplitMix64::new(2).take(n);
        let mut filling = Filling::new(&keys);
        group.bench_function(BenchmarkId::new("insert_new", size), |b| {
            b.iter_custom(|iters| filling.insert(iters))
        });
        drop(filling);
        let mut full = FingerprintSet::with_capacity(n);
        for &k in &keys {
            full.insert(k);
        }
        let mut hits = Cycle::new(&keys);
        group.bench_function(BenchmarkId::new("insert_present", size), |b| {
            b.iter_custom(|iters| hits.time(iters, |k| full.insert(k)))
        });
        let mut misses = Cycle::new(&absent);
        group.bench_function(BenchmarkId::new("lookup_absent", size), |b| {
            b.iter_custom(|iters| misses.time(iters, |k| full.contains(k)))
        });
    }
    group.finish();
}

/// A table being filled with `keys`, in order, across calls.
struct Filling<'k> {
    keys: &'k [u64],
    table: FingerprintSet,
    next: usize,
}

impl<'k> Filling<'k> {
    fn new(keys: &'k [u64]) -> Self {
        Filling {
            keys,
            table: FingerprintSet::with_capacity(keys.len()),
            next: 0,
        }
    }

    /// Inserts the next `iters` keys, starting a fresh table (untimed) whenever the
    /// keys run out.
    fn insert(&mut self, iters: u64) -> Duration {
        let mut elapsed = Duration::ZERO;
        let mut left = iters as usize;
        while left > 0 {
            if self.next == self.keys.len() {
                self.table = FingerprintSet::with_capacity(self.keys.len());
                self.next = 0;
            }
            let chunk = left.min(self.keys.len() - self.next);
            let keys = &self.keys[self.next..self.next + chunk];
            let started = Instant::now();
            for &k in keys {
                black_box(self.table.insert(k));
            }
            elapsed += started.elapsed();
            self.next += chunk;
            left -= chunk;
        }
        elapsed
    }
}

/// Walks `keys` cyclically across calls.
struct Cycle<'k> {
    keys: &'k [u64],
    next: usize,
}

impl<'k> Cycle<'k> {
    fn new(keys: &'k [u64]) -> Self {
        Cycle { keys, next: 0 }
    }

    /// Applies `op` to the next `iters` keys and times it.
    fn time(&mut self, iters: u64, mut op: impl FnMut(u64) -> bool) -> Duration {
        let started = Instant::now();
        for _ in 0..iters {
            black_box(op(black_box(self.keys[self.next])));
            self.next += 1;
            if self.next == self.keys.len() {
                self.next = 0;
            }
        }
        started.elapsed()
    }
}
