//! The fingerprint function (seeded XXH3-64) on packed states of 8, 32 and 128 bytes:
//! the typical widths of a bundled model, a small protocol and a large DVE model.

use criterion::{black_box, BenchmarkId, Criterion, Throughput};

use checker_core::fingerprint;

/// Registers the `fingerprint/<bytes>` benchmarks, measured in bytes per second.
pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("fingerprint");
    for len in [8usize, 32, 128] {
        let state: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &state, |b, state| {
            b.iter(|| fingerprint(black_box(state)))
        });
    }
    group.finish();
}
