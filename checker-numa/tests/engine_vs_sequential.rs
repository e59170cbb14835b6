//! The parallel engine must give exactly the sequential checker's answers: counts,
//! depth, level sizes, deadlocks, verdict and counterexample, for any worker count.

mod common_graph;
mod common_outcome;

use checker_core::{sequential, CheckOptions, Outcome, StopReason, Verdict};
use checker_numa::{check, EngineConfig, ExpansionSharing};
use common_graph::RandomGraph;
use common_outcome::same;
use proptest::prelude::*;

fn config(workers: usize) -> EngineConfig {
    EngineConfig {
        workers,
        pin: false,
        batch_bytes: 512,
        ..EngineConfig::default()
    }
}

fn compare(model: &RandomGraph, options: &CheckOptions, workers: &[usize]) -> Outcome {
    let reference = sequential::check(model, options).unwrap();
    for &w in workers {
        let got = check(model, options, &config(w)).unwrap();
        assert_eq!(got.telemetry.workers.len(), w);
        same(&got.outcome, &reference, &format!("{w} workers"));
    }
    reference
}

const COUNTS: [usize; 9] = [1, 2, 3, 4, 7, 8, 16, 64, 128];

#[test]
fn full_exploration_matches_at_every_worker_count() {
    let m = RandomGraph::new(20_000, 3, 7);
    let r = compare(&m, &CheckOptions::default(), &COUNTS);
    assert!(r.distinct > 10_000, "{}", r.distinct);
    assert_eq!(r.verdict, Verdict::Holds);
}

#[test]
fn deadlock_trace_matches_at_every_worker_count() {
    let m = RandomGraph {
        sinks: 997,
        ..RandomGraph::new(50_000, 2, 3)
    };
    let r = compare(&m, &CheckOptions::default(), &COUNTS);
    assert!(r.violation().is_some());
    let no_deadlock = CheckOptions {
        check_deadlock: false,
        ..CheckOptions::default()
    };
    let r = compare(&m, &no_deadlock, &[1, 3, 16]);
    assert!(r.deadlocks > 0);
    assert_eq!(r.verdict, Verdict::Holds);
}

#[test]
fn invariant_trace_matches_at_every_worker_count() {
    let m = RandomGraph {
        bad: Some(4242),
        ..RandomGraph::new(100_000, 4, 11)
    };
    let r = compare(&m, &CheckOptions::default(), &COUNTS);
    let v = r.violation().expect("violation");
    assert_eq!(v.trace.steps.last().unwrap().state, "x = 4242");
}

#[test]
fn limits_match() {
    let m = RandomGraph::new(100_000, 3, 5);
    let depth = CheckOptions {
        max_depth: Some(5),
        ..CheckOptions::default()
    };
    let r = compare(&m, &depth, &[1, 2, 7]);
    assert_eq!(
        r.verdict,
        Verdict::Partial {
            reason: StopReason::MaxDepth
        }
    );
    assert_eq!(r.depth, 5);
    let states = CheckOptions {
        max_states: Some(1000),
        ..CheckOptions::default()
    };
    let r = compare(&m, &states, &[1, 2, 7]);
    assert_eq!(
        r.verdict,
        Verdict::Partial {
            reason: StopReason::MaxStates
        }
    );
}

/// Ring capacity 1 and one state per batch at 64 workers: every send meets a full
/// ring sooner or later, and the run must still finish with the right counts, with
/// expansion sharing (whose requests and answers travel in the same full rings) and
/// without.
#[test]
fn capacity_one_rings_and_single_state_batches_do_not_deadlock() {
    let m = RandomGraph::new(30_000, 3, 9);
    let options = CheckOptions::default();
    let reference = sequential::check(&m, &options).unwrap();
    for sharing in [ExpansionSharing::Always, ExpansionSharing::Never] {
        let tight = EngineConfig {
            workers: 64,
            pin: false,
            batch_bytes: 1,
            ring_capacity: 1,
            share_expansion: sharing,
            ..EngineConfig::default()
        };
        let got = check(&m, &options, &tight).unwrap();
        let context = format!("64 workers, rings of one message, sharing {sharing:?}");
        same(&got.outcome, &reference, &context);
        assert_eq!(got.expansion_shared, sharing == ExpansionSharing::Always);
        let t = &got.telemetry;
        assert_eq!(t.mean_batch_fill(), 1.0);
        let sent: u64 = t.workers.iter().map(|w| w.states_sent).sum();
        let received: u64 = t.workers.iter().map(|w| w.states_received).sum();
        assert_eq!(sent, received, "{context}");
        assert!(sent > reference.generated / 2, "{context}");
        if sharing == ExpansionSharing::Never {
            assert!(t.workers.iter().all(|w| w.shares_asked == 0), "{context}");
        }
    }
}

#[test]
fn telemetry_adds_up() {
    let m = RandomGraph::new(50_000, 3, 1);
    let got = check(&m, &CheckOptions::default(), &config(4)).unwrap();
    let t = &got.telemetry;
    let owned: u64 = t.workers.iter().map(|w| w.owned).sum();
    let generated: u64 = t.workers.iter().map(|w| w.generated).sum();
    assert_eq!(owned, got.outcome.distinct);
    assert_eq!(generated, got.outcome.generated);
    for w in &t.workers {
        let split = w.expanding_s + w.receiving_s + w.sending_s + w.idle_s;
        assert!((split - w.wall_s).abs() < 0.05 + w.wall_s * 0.05, "{w:?}");
        // Every idle stretch is counted under what it waited for.
        let waits = w.idle_share_answers_s + w.idle_markers_s + w.idle_summaries_s;
        assert!(
            (waits - w.idle_s).abs() < 1e-3,
            "idle {} s against {waits} s of waits: {w:?}",
            w.idle_s
        );
        assert!(w.owned > owned / 8, "partition badly unbalanced: {w:?}");
    }
    let u = t.utilisation();
    assert!(u.min <= u.median && u.median <= u.max && u.max <= 1.0);
}

#[test]
fn level_telemetry_follows_the_levels() {
    let m = RandomGraph::new(50_000, 3, 1);
    let got = check(&m, &CheckOptions::default(), &config(4)).unwrap();
    let sizes = &got.outcome.level_sizes;
    let levels = &got.telemetry.levels;
    // The initial level, one per depth that found states, and the last, which found
    // none.
    assert_eq!(levels.len(), sizes.len() + 1);
    for (d, level) in levels.iter().enumerate() {
        assert_eq!(level.depth, d as u32);
        let expanded = if d == 0 { 0 } else { sizes[d - 1] };
        assert_eq!(level.expanded, expanded, "level {d}");
        assert_eq!(
            level.new_states,
            sizes.get(d).copied().unwrap_or(0),
            "level {d}"
        );
    }
    // The levels' wall times cover the search; their idle times are the workers' idle.
    let wall: f64 = levels.iter().map(|l| l.wall_s).sum();
    let longest = got
        .telemetry
        .workers
        .iter()
        .map(|w| w.wall_s)
        .fold(0.0, f64::max);
    assert!(
        wall <= longest + 1e-3,
        "{wall} s of levels in a {longest} s run"
    );
    assert!(
        wall >= longest * 0.9 - 0.01,
        "{wall} s of levels in a {longest} s run"
    );
    let idle: f64 = levels.iter().map(|l| l.idle_s).sum();
    let workers_idle: f64 = got.telemetry.workers.iter().map(|w| w.idle_s).sum();
    assert!(
        (idle - workers_idle).abs() < 1e-3,
        "{idle} s against {workers_idle} s"
    );
}

#[test]
fn bad_configurations_are_refused() {
    let m = RandomGraph::new(10, 1, 1);
    let zero_ring = EngineConfig {
        ring_capacity: 0,
        ..config(2)
    };
    let err = check(&m, &CheckOptions::default(), &zero_ring).unwrap_err();
    assert_eq!(err.to_string(), "ring capacity must be at least 1");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_graphs_match_the_sequential_checker(
        size in 1u64..3000,
        branching in 0u64..6,
        seed in any::<u64>(),
        sinks in 0u64..50,
        bad in proptest::option::of(0u64..3000),
        workers in 1usize..9,
        deadlock in any::<bool>(),
    ) {
        let m = RandomGraph { size, branching, seed, sinks, bad };
        let options = CheckOptions { check_deadlock: deadlock, ..CheckOptions::default() };
        let reference = sequential::check(&m, &options).unwrap();
        let got = check(&m, &options, &config(workers)).unwrap();
        same(&got.outcome, &reference, &format!("{workers} workers"));
    }
}
