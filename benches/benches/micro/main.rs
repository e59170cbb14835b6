//! Micro-benchmarks of the engine's building blocks: the mailbox ring between two
//! pinned threads, the visited table in and far out of cache, and the fingerprint
//! function. Run with `cargo bench -p benches --bench micro`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

mod fingerprint;
mod ring;
mod table;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = micro;
    config = config();
    targets = ring::bench, table::bench, fingerprint::bench
}
criterion_main!(micro);
