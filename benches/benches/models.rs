//! Per bundled model: the "generate only" ceiling (successor generation, packing,
//! fingerprinting and invariants over every reachable state, nothing stored) beside
//! the full check by the sequential checker and by the parallel engine with 1 worker.
//! All three are measured in generated states per second, so a check's share of the
//! ceiling is the checker's efficiency and the rest is its overhead (deduplication,
//! storage, frontiers, level bookkeeping).
//!
//! Run with `cargo bench -p benches --bench models`; after criterion's report it
//! prints one summary line per model.

use criterion::{black_box, Criterion, Throughput};
use std::cell::RefCell;
use std::time::{Duration, Instant};

use benches::cases::MODEL_CASES;
use benches::ceiling::generate_only;
use benches::reachable::reachable_states;
use checker_core::{sequential, CheckOptions, Model};
use checker_numa::EngineConfig;
use fixtures::{with_model, ModelVisitor};

/// Per-iteration seconds of every sample criterion timed, per benchmark.
#[derive(Default)]
struct Samples(RefCell<Vec<f64>>);

impl Samples {
    /// Times `iters` runs of `work`, recording the mean per run.
    fn time(&self, iters: u64, mut work: impl FnMut()) -> Duration {
        let started = Instant::now();
        for _ in 0..iters {
            work();
        }
        let elapsed = started.elapsed();
        self.0
            .borrow_mut()
            .push(elapsed.as_secs_f64() / iters.max(1) as f64);
        elapsed
    }

    fn median(&self) -> f64 {
        let mut v = self.0.borrow().clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            f64::NAN
        } else {
            v[v.len() / 2]
        }
    }
}

/// One model's medians, for the summary.
struct Summary {
    label: String,
    generated: u64,
    ceiling_s: f64,
    sequential_s: f64,
    parallel_s: f64,
}

/// Registers and runs one model's three benchmarks.
struct Bench<'a> {
    criterion: &'a mut Criterion,
    label: String,
}

impl ModelVisitor for Bench<'_> {
    type Output = Summary;

    fn visit<M: Model + 'static>(self, model: M) -> Summary {
        let options = CheckOptions {
            check_deadlock: false,
            ..CheckOptions::default()
        };
        let engine = EngineConfig {
            workers: 1,
            ..EngineConfig::default()
        };
        let states = reachable_states(&model, usize::MAX);
        let reference = sequential::check(&model, &options).expect("the check runs");
        assert_eq!(
            reference.distinct,
            states.len() as u64,
            "{}: the ceiling must cover the space the check covers",
            self.label
        );
        let (ceiling, seq, par) = (Samples::default(), Samples::default(), Samples::default());
        let mut group = self
            .criterion
            .benchmark_group(format!("model/{}", self.label));
        group.throughput(Throughput::Elements(reference.generated));
        group.bench_function("generate_only", |b| {
            b.iter_custom(|n| {
                ceiling.time(n, || {
                    black_box(generate_only(&model, &states));
                })
            })
        });
        group.bench_function("sequential_check", |b| {
            b.iter_custom(|n| {
                seq.time(n, || {
                    black_box(sequential::check(&model, &options).expect("the check runs"));
                })
            })
        });
        group.bench_function("parallel_check_1_worker", |b| {
            b.iter_custom(|n| {
                par.time(n, || {
                    black_box(
                        checker_numa::check(&model, &options, &engine).expect("the check runs"),
                    );
                })
            })
        });
        group.finish();
        Summary {
            label: self.label,
            generated: reference.generated,
            ceiling_s: ceiling.median(),
            sequential_s: seq.median(),
            parallel_s: par.median(),
        }
    }
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut summaries = Vec::new();
    for case in MODEL_CASES {
        let label = case.label();
        let bench = Bench {
            criterion: &mut criterion,
            label: label.clone(),
        };
        summaries
            .push(with_model(case.name, &case.param_strings(), bench).expect("a bundled case"));
    }
    criterion.final_summary();
    println!();
    println!("generated states/s (median of the timed samples); share = check / ceiling");
    println!(
        "{:<26} {:>12} {:>14} {:>14} {:>7} {:>14} {:>7}",
        "model", "generated", "ceiling", "sequential", "share", "parallel 1w", "share"
    );
    for s in &summaries {
        let rate = |t: f64| s.generated as f64 / t;
        println!(
            "{:<26} {:>12} {:>14.0} {:>14.0} {:>6.0}% {:>14.0} {:>6.0}%",
            s.label,
            s.generated,
            rate(s.ceiling_s),
            rate(s.sequential_s),
            100.0 * s.ceiling_s / s.sequential_s,
            rate(s.parallel_s),
            100.0 * s.ceiling_s / s.parallel_s,
        );
    }
}
