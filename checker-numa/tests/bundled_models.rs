//! Every bundled model gives the sequential checker's counts, verdict and
//! counterexample on the parallel engine at 1, 2, 3, 4, 7, 8, 16, 64 and 128 workers
//! (oversubscribed on small machines: this is a correctness test, not a speed test),
//! every other count with expansion sharing forced on (the default leaves it off in an
//! oversubscribed run).

mod common_outcome;

use checker_core::{sequential, CheckOptions, Model, Outcome, Verdict, ViolationKind};
use checker_numa::{check, EngineConfig, ExpansionSharing};
use common_outcome::same;
use fixtures::{with_model, ModelVisitor};
use std::time::{Duration, Instant};

const WORKER_COUNTS: [usize; 9] = [1, 2, 3, 4, 7, 8, 16, 64, 128];

struct CompareAtEveryCount {
    options: CheckOptions<'static>,
}

impl ModelVisitor for CompareAtEveryCount {
    type Output = Outcome;

    fn visit<M: Model + 'static>(self, model: M) -> Outcome {
        let reference = sequential::check(&model, &self.options).unwrap();
        for (i, workers) in WORKER_COUNTS.into_iter().enumerate() {
            let config = EngineConfig {
                workers,
                pin: false,
                // Small batches so that even small models cross the rings a lot.
                batch_bytes: 256,
                // 2, 4, 8 and 64 workers share expansion on any machine; the others
                // as a user's run would (`Auto`: not when oversubscribed).
                share_expansion: if i % 2 == 1 {
                    ExpansionSharing::Always
                } else {
                    ExpansionSharing::Auto
                },
                ..EngineConfig::default()
            };
            let got = check(&model, &self.options, &config).unwrap().outcome;
            same(
                &got,
                &reference,
                &format!("{} at {workers} workers", model.name()),
            );
        }
        reference
    }
}

fn compare(spec: &str, options: CheckOptions<'static>) -> Outcome {
    let words: Vec<String> = spec.split_whitespace().map(String::from).collect();
    with_model(&words[0], &words[1..], CompareAtEveryCount { options }).unwrap()
}

fn compare_default(spec: &str) -> Outcome {
    compare(spec, CheckOptions::default())
}

fn violated_steps(o: &Outcome) -> (ViolationKind, usize) {
    let v = o.violation().expect("a violation");
    (v.kind.clone(), v.trace.transitions())
}

#[test]
fn twophase() {
    let o = compare_default("twophase 3");
    assert_eq!((o.distinct, o.generated, o.depth), (288, 1_146, 11));
    let o = compare_default("twophase 5");
    assert_eq!((o.distinct, o.generated, o.depth), (8_832, 58_146, 17));
    assert_eq!(o.verdict, Verdict::Holds);
}

#[test]
fn diehard() {
    let o = compare_default("diehard");
    assert_eq!(
        violated_steps(&o),
        (ViolationKind::Invariant("NotSolved".into()), 6)
    );
    let o = compare_default("diehard noinv");
    assert_eq!((o.distinct, o.generated, o.depth), (16, 97, 8));
}

#[test]
fn philosophers() {
    let o = compare_default("philosophers 5");
    assert_eq!(violated_steps(&o), (ViolationKind::Deadlock, 5));
    let o = compare_default("philosophers-ordered 5");
    assert_eq!((o.distinct, o.generated, o.depth), (70, 220, 6));
    assert_eq!(o.verdict, Verdict::Holds);
}

#[test]
fn mutual_exclusion() {
    let o = compare_default("peterson");
    assert_eq!(
        (o.distinct, o.generated, o.verdict),
        (20, 35, Verdict::Holds)
    );
    let o = compare_default("peterson-broken");
    assert_eq!(violated_steps(&o).1, 6);
    let o = compare_default("bakery 3 3");
    assert_eq!((o.distinct, o.generated, o.depth), (4_022, 9_636, 39));
    let o = compare_default("bakery-broken 4 4");
    assert_eq!(violated_steps(&o).1, 14);
    assert_eq!(o.distinct, 14_892);
}

#[test]
fn puzzle8() {
    let o = compare_default("puzzle8");
    assert_eq!((o.distinct, o.generated, o.depth), (181_440, 483_841, 32));
}

#[test]
fn grid() {
    let o = compare_default("grid 3 4");
    assert_eq!((o.distinct, o.generated, o.depth), (64, 193, 10));
    let o = compare_default("grid 4 9");
    assert_eq!(o.distinct, 6_561);
}

#[test]
fn synthetic() {
    let o = compare_default("synthetic states=1000 depth=10 branching=3");
    assert_eq!((o.distinct, o.generated, o.depth), (1_000, 3_001, 10));
    let o = compare_default("synthetic states=20000 depth=400 branching=2");
    assert_eq!((o.distinct, o.depth), (20_000, 400));
    let o = compare_default("synthetic states=5000 branching=5 seed=42");
    assert!(o.distinct > 100);
    let o = compare_default("synthetic states=1000000000 violate=3");
    assert_eq!((o.distinct, o.generated, o.depth), (85, 85, 4));
    assert_eq!(
        violated_steps(&o),
        (ViolationKind::Invariant("NoViolation".into()), 3)
    );
}

#[test]
fn limits() {
    let o = compare(
        "twophase 5",
        CheckOptions {
            max_depth: Some(6),
            ..CheckOptions::default()
        },
    );
    assert_eq!(o.depth, 6);
    let o = compare(
        "puzzle8",
        CheckOptions {
            max_states: Some(10_000),
            ..CheckOptions::default()
        },
    );
    assert!(o.distinct >= 10_000 && o.distinct < 181_440);
    let o = compare(
        "philosophers 4",
        CheckOptions {
            check_deadlock: false,
            ..CheckOptions::default()
        },
    );
    assert_eq!(o.verdict, Verdict::Holds);
    assert_eq!(o.deadlocks, 1);
}

/// A violation at level 3 of a space of 10^9 states ends the run at once, at any
/// worker count.
#[test]
fn an_early_violation_stops_a_huge_run_quickly() {
    struct Timed;
    impl ModelVisitor for Timed {
        type Output = ();
        fn visit<M: Model + 'static>(self, model: M) {
            for workers in [1, 2, 8, 64] {
                let config = EngineConfig {
                    workers,
                    pin: false,
                    ..EngineConfig::default()
                };
                let started = Instant::now();
                let got = check(&model, &CheckOptions::default(), &config).unwrap();
                assert!(
                    started.elapsed() < Duration::from_secs(1),
                    "{workers} workers"
                );
                assert_eq!(got.outcome.violation().unwrap().trace.transitions(), 3);
                assert_eq!(got.outcome.distinct, 85);
            }
        }
    }
    let words: Vec<String> = ["states=1000000000", "violate=3"]
        .map(String::from)
        .to_vec();
    with_model("synthetic", &words, Timed).unwrap();
}
