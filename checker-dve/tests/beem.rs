//! Every BEEM instance of `../shared/fixtures-beem/README.md` with a published count up
//! to about 10^7 states (tiers S and M), checked with the sequential reference checker
//! against the README's numbers: states, transitions (`generated - 1`), deadlocks (with
//! deadlock detection off) and BFS levels, wherever the README gives them; the parallel
//! engine against the same numbers, and its deadlock counterexamples against the
//! sequential checker's.
//!
//! The fixtures live outside the repository. When they are missing the tests fail if
//! `CI=true` and otherwise print a notice and pass without checking anything.

mod common;
use common::fixtures;

use checker_core::{sequential, CheckOptions, Outcome, Verdict};
use checker_dve::{DveModel, StateVector};
use checker_numa::EngineConfig;

/// One README row.
struct Row {
    instance: &'static str,
    states: u64,
    transitions: Option<u64>,
    deadlocks: Option<u64>,
    levels: Option<u32>,
}

const fn row(
    instance: &'static str,
    states: u64,
    transitions: Option<u64>,
    deadlocks: Option<u64>,
    levels: Option<u32>,
) -> Row {
    Row {
        instance,
        states,
        transitions,
        deadlocks,
        levels,
    }
}

/// Rows up to about 1.2 million states: seconds even in a debug build.
const SMALL: &[Row] = &[
    row("gear.1", 2_689, Some(3_567), Some(16), Some(128)),
    row("anderson.4", 29_641, Some(97_516), Some(0), Some(81)),
    row("bakery.3", 32_919, Some(85_061), Some(51), Some(117)),
    row("driving_phils.2", 33_173, Some(81_854), Some(0), Some(150)),
    row(
        "leader_election.3",
        101_360,
        Some(446_024),
        Some(1),
        Some(151),
    ),
    row("lamport.2", 110_920, Some(303_058), Some(24), Some(81)),
    row("peterson.2", 124_704, Some(399_138), Some(0), Some(52)),
    row("msmie.3", 134_844, Some(200_614), Some(162), Some(51)),
    row("bakery.4", 157_003, Some(411_843), Some(142), None),
    row(
        "cyclic_scheduler.3",
        229_374,
        Some(1_597_440),
        Some(0),
        None,
    ),
    row("phils.4", 340_789, Some(3_123_558), Some(0), None),
    row("firewire_link.7", 399_598, Some(1_096_535), Some(886), None),
    row("elevator.3", 416_935, Some(1_025_817), Some(0), None),
    row("blocks.3", 695_418, Some(2_094_753), Some(1), None),
    row("protocols.5", 996_345, Some(3_272_786), Some(336), None),
    row("peterson.4", 1_119_560, Some(3_864_896), Some(0), None),
];

/// Rows from 2 to 8 million states: about a minute in a release build.
const LARGE: &[Row] = &[
    row("szymanski.4", 2_313_863, Some(8_550_392), Some(0), None),
    row("pgm_protocol.8", 3_069_390, Some(7_125_121), Some(0), None),
    row("rether.7", 4_789_409, Some(5_317_199), Some(0), None),
    row(
        "leader_election.5",
        4_803_952,
        Some(28_064_092),
        Some(1),
        None,
    ),
    row("needham.4", 6_525_019, Some(22_203_081), None, None),
    row("at.4", 6_597_245, Some(25_470_140), Some(0), None),
    row("msmie.4", 7_125_441, Some(11_056_210), None, None),
    row("elevator2.3", 7_667_712, Some(55_377_920), None, None),
    row("bakery.5", 7_866_401, Some(27_018_304), None, None),
];

/// Which engine checks the rows.
#[derive(Clone, Copy, Debug)]
enum Engine {
    Sequential,
    Parallel(usize),
}

fn run(engine: Engine, model: &DveModel, options: &CheckOptions) -> Outcome {
    match engine {
        Engine::Sequential => sequential::check(model, options).expect("counterexample replay"),
        Engine::Parallel(workers) => {
            let config = EngineConfig {
                workers,
                pin: false,
                ..EngineConfig::default()
            };
            checker_numa::check(model, options, &config)
                .expect("parallel engine")
                .outcome
        }
    }
}

fn check_rows(rows: &[Row]) {
    check_rows_with(rows, Engine::Sequential);
}

fn check_rows_with(rows: &[Row], engine: Engine) {
    let Some(dir) = fixtures() else { return };
    let options = CheckOptions {
        check_deadlock: false,
        ..CheckOptions::default()
    };
    let mut failures = Vec::new();
    for r in rows {
        let path = dir.join(format!("{}.dve", r.instance));
        let model = DveModel::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let out = run(engine, &model, &options);
        assert_eq!(out.verdict, Verdict::Holds, "{}", r.instance);
        let got = (
            out.distinct,
            r.transitions.map(|_| out.generated - 1),
            r.deadlocks.map(|_| out.deadlocks),
            r.levels.map(|_| out.depth),
        );
        let want = (r.states, r.transitions, r.deadlocks, r.levels);
        eprintln!(
            "{engine:?} {}: {} states, {} transitions, {} deadlocks, {} levels in {:.2?}",
            r.instance,
            out.distinct,
            out.generated - 1,
            out.deadlocks,
            out.depth,
            out.elapsed
        );
        if got != want {
            failures.push(format!(
                "{}: got (states, transitions, deadlocks, levels) = {got:?}, README says {want:?}",
                r.instance
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn beem_instances_up_to_a_million_states_match_published_counts() {
    check_rows(SMALL);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "about a minute in release, far longer in a debug build: run with `cargo test --release`"
)]
fn beem_instances_of_two_to_eight_million_states_match_published_counts() {
    check_rows(LARGE);
}

#[test]
fn parallel_engine_at_2_and_8_workers_matches_published_counts() {
    check_rows_with(SMALL, Engine::Parallel(2));
    check_rows_with(SMALL, Engine::Parallel(8));
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "minutes in a debug build: run with `cargo test --release`"
)]
fn parallel_engine_at_2_and_8_workers_matches_published_counts_up_to_eight_million() {
    check_rows_with(LARGE, Engine::Parallel(2));
    check_rows_with(LARGE, Engine::Parallel(8));
}

/// With deadlock checking on, instances that deadlock end at their first deadlocking
/// level with a shortest counterexample: the parallel engine's counts, levels and
/// trace (chosen by the lowest fingerprint, rebuilt across partitions and replayed)
/// are the sequential checker's at any worker count, including worker counts that do
/// not divide the fingerprint space evenly and 64 or 128 workers oversubscribed.
#[test]
fn deadlock_counterexamples_are_the_sequential_checkers_at_any_worker_count() {
    let Some(dir) = fixtures() else { return };
    // Instance and the run's depth: levels stored, the last one the level made by
    // expanding the level of the first deadlock.
    for (instance, depth) in [
        ("gear.1", 17),
        ("lamport.2", 13),
        ("msmie.3", 14),
        ("bakery.3", 42),
        ("bakery.4", 68),
    ] {
        let model = DveModel::from_file(&dir.join(format!("{instance}.dve")))
            .unwrap_or_else(|e| panic!("{e}"));
        let options = CheckOptions::default();
        let reference = run(Engine::Sequential, &model, &options);
        assert_eq!(reference.depth, depth, "{instance}");
        let Verdict::Violated(violation) = &reference.verdict else {
            panic!("{instance}: {:?}", reference.verdict)
        };
        assert_eq!(
            violation.trace.steps.len(),
            depth as usize - 1,
            "{instance}: the trace ends in the last level expanded"
        );
        assert!(reference.deadlocks > 0, "{instance}");
        for workers in [1, 3, 7, 64, 128] {
            let got = run(Engine::Parallel(workers), &model, &options);
            assert_eq!(
                (
                    got.distinct,
                    got.generated,
                    &got.level_sizes,
                    got.deadlocks,
                    &got.verdict
                ),
                (
                    reference.distinct,
                    reference.generated,
                    &reference.level_sizes,
                    reference.deadlocks,
                    &reference.verdict
                ),
                "{instance} at {workers} workers"
            );
        }
    }
}

#[test]
fn beem_instances_of_tiers_l_and_x_all_compile() {
    let Some(dir) = fixtures() else { return };
    for instance in [
        "elevator_planning.2",
        "brp.4",
        "phils.6",
        "production_cell.6",
        "anderson.6",
        "brp.6",
        "mcs.5",
        "firewire_link.5",
        "leader_election.6",
        "szymanski.5",
    ] {
        let model = DveModel::from_file(&dir.join(format!("{instance}.dve")))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut successors = 0;
        let init = StateVector::from_slice(model.initial_state());
        checker_core::Model::successors(&model, &init, &mut |_, _| successors += 1);
        assert!(
            successors > 0,
            "{instance}: the initial state has successors"
        );
    }
}

#[test]
fn anderson_surplus_initialiser_is_reported() {
    let Some(dir) = fixtures() else { return };
    let model = DveModel::from_file(&dir.join("anderson.4.dve")).unwrap();
    assert_eq!(
        model.notices(),
        ["array `Slot` has 5 initial values for 4 elements; the surplus is ignored"]
    );
    // Slot = {1, 0, 0, 0}, next = 0, then four processes: control state NCS, my_place 0.
    assert_eq!(
        model.initial_state(),
        &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}
