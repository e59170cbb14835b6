//! The engine against the sequential checker on models whose packed states vary
//! widely in length: from 0 bytes (the Model docs do not forbid an empty packed state)
//! past the default batch size, with the boundaries of the inline copies (`SHORT`),
//! of batch entry headers and of the batch room over-represented, and with states that
//! are prefixes of one another or differ in their last byte only. Every figure of the
//! outcome, the counterexample included, must be the sequential checker's, for any
//! worker count, batch size, ring capacity, expansion sharing, deadlock setting,
//! limit, and with the run kept in memory or in a work directory (checkpointed at
//! every level, spilling its frontiers, interrupted and resumed).
//!
//! The last tests pin a bug found this way: a frontier whose 1 MiB chunks run past
//! 1 MiB by different amounts (as states of different lengths make them) can keep a
//! later chunk in memory after an earlier one spilled, and then hands its states back
//! out of order, so that parent references (log indices counted by frontier
//! position) name the wrong states and the counterexample does not replay.

mod common_guards;
mod common_lengths;
mod common_outcome;

use checker_core::{sequential, CheckOptions, Model, Outcome, StopReason, Verdict, ViolationKind};
use checker_numa::{check, EngineConfig, ExpansionSharing, ParallelOutcome, Persistence};
use common_guards::{identity, Watchdog, WorkDir};
use common_lengths::{prefix, variant, LengthGraph, Prefixes, BOUNDARY_LENGTHS, WIDE_LENGTHS};
use common_outcome::same;
use proptest::prelude::*;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Where a run keeps its state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Store {
    /// Everything in memory.
    Memory,
    /// Parent logs in a work directory.
    WorkDir,
    /// A work directory and a checkpoint at every level end (the run continues in a
    /// new segment each time).
    CheckpointEveryLevel,
    /// A work directory, and frontiers that spill every full chunk.
    Spilling,
}

/// One engine configuration (always unpinned).
#[derive(Clone, Copy, Debug)]
struct Setup {
    workers: usize,
    batch_bytes: usize,
    ring_capacity: usize,
    share_expansion: bool,
    store: Store,
}

impl Setup {
    fn new(workers: usize, batch_bytes: usize) -> Self {
        Setup {
            workers,
            batch_bytes,
            ring_capacity: 4,
            share_expansion: true,
            store: Store::Memory,
        }
    }

    fn store(self, store: Store) -> Self {
        Setup { store, ..self }
    }

    fn ring(self, ring_capacity: usize) -> Self {
        Setup {
            ring_capacity,
            ..self
        }
    }

    fn sharing(self, share_expansion: bool) -> Self {
        Setup {
            share_expansion,
            ..self
        }
    }
}

fn persistence<M: Model>(m: &M, dir: &Path, resume: bool, every: Option<Duration>) -> Persistence {
    Persistence {
        workdir: dir.to_path_buf(),
        checkpoint_every: every,
        resume,
        identity: identity(m, "state-lengths", m.name()),
        lock: None,
    }
}

fn engine_config<M: Model>(m: &M, setup: &Setup, dir: Option<&Path>) -> EngineConfig {
    let every = (setup.store == Store::CheckpointEveryLevel).then_some(Duration::ZERO);
    EngineConfig {
        workers: setup.workers,
        batch_bytes: setup.batch_bytes,
        ring_capacity: setup.ring_capacity,
        pin: false,
        share_expansion: ExpansionSharing::forced(setup.share_expansion),
        frontier_spill_bytes: (setup.store == Store::Spilling).then_some(1),
        persistence: dir.map(|d| persistence(m, d, false, every)),
        ..EngineConfig::default()
    }
}

/// Runs the engine under `setup` (with a fresh work directory if it asks for one).
fn run<M: Model>(m: &M, options: &CheckOptions, setup: &Setup, label: &str) -> ParallelOutcome {
    let dir = (setup.store != Store::Memory).then(|| WorkDir::new("run"));
    let config = engine_config(m, setup, dir.as_ref().map(|d| d.0.as_path()));
    let _watchdog = Watchdog::start(format!("{label}, {setup:?}, {options:?}"));
    let got = check(m, options, &config)
        .unwrap_or_else(|e| panic!("{label}, {setup:?}, {options:?}: engine error {e}"));
    if setup.store == Store::CheckpointEveryLevel && got.outcome.level_sizes.len() > 1 {
        assert!(got.checkpoints_written > 0, "{label}, {setup:?}");
    }
    got
}

/// Checks `m` sequentially and under every setup; every outcome must be the same.
fn compare<M: Model>(m: &M, options: &CheckOptions, setups: &[Setup], label: &str) -> Outcome {
    let reference = sequential::check(m, options).expect("the sequential checker");
    for setup in setups {
        let got = run(m, options, setup, label);
        same(
            &got.outcome,
            &reference,
            &format!("{label}, {setup:?}, {options:?}"),
        );
    }
    reference
}

/// [`compare`] with deadlocks checked, then not: both outcomes, in that order.
fn compare_either_deadlock_setting<M: Model>(m: &M, setups: &[Setup], label: &str) -> [Outcome; 2] {
    [true, false].map(|check_deadlock| {
        let options = CheckOptions {
            check_deadlock,
            ..CheckOptions::default()
        };
        compare(m, &options, setups, label)
    })
}

/// Batch sizes: one state a batch, the smallest entries, a few entries, the default,
/// and around the default less one entry header.
const BATCHES: [usize; 7] = [1, 16, 64, 512, 8164, 8180, 8192];

/// A setup of each of `workers` with the batch sizes of [`BATCHES`] in turn, then
/// `more`.
fn setups_over_batches(workers: &[usize], more: impl IntoIterator<Item = Setup>) -> Vec<Setup> {
    workers
        .iter()
        .zip(BATCHES.iter().cycle())
        .map(|(&w, &b)| Setup::new(w, b))
        .chain(more)
        .collect()
}

/// Every prefix of `start` to `max_len` bytes, each with `variants` last-byte variants,
/// reached in steps of `steps` bytes; no state is bad.
fn prefixes(start: usize, max_len: usize, variants: u8, steps: &[usize]) -> Prefixes {
    Prefixes {
        start,
        max_len,
        variants,
        steps: steps.to_vec(),
        bad: None,
    }
}

// ---------------------------------------------------------------------------------
// Prefixes of one pattern and their last-byte variants: counts known exactly.
// ---------------------------------------------------------------------------------

/// Every prefix of 0 to 700 bytes and four last-byte variants of each: the engine
/// must neither merge nor split any of them.
#[test]
fn prefixes_and_last_byte_variants_are_all_distinct_states() {
    let m = prefixes(0, 700, 4, &[1, 16, 64]);
    let expected = m.reachable().len() as u64;
    assert!(expected > 3000, "{expected}");
    let setups = setups_over_batches(
        &[1, 2, 3, 5, 8],
        [
            Setup::new(4, 1).ring(1).sharing(false),
            Setup::new(3, 64).store(Store::WorkDir),
            Setup::new(2, 100).store(Store::CheckpointEveryLevel),
        ],
    );
    let r = compare(&m, &CheckOptions::default(), &setups, "prefixes 0..=700");
    assert_eq!(r.distinct, expected);
    assert_eq!(r.verdict, Verdict::Holds);
    assert_eq!(r.deadlocks, 0);
}

/// The same family with lengths around the default batch size (8192 bytes), so that a
/// single entry fills a batch exactly, just under or just over.
#[test]
fn prefixes_around_the_batch_size() {
    let m = prefixes(8192 - 48, 8192 + 280, 2, &[1, 5, 30]);
    let expected = m.reachable().len() as u64;
    let setups = [
        Setup::new(1, 8192),
        Setup::new(2, 8192),
        Setup::new(3, 8164).ring(1),
        Setup::new(2, 8180).sharing(false),
        Setup::new(4, 1),
        Setup::new(2, 8193).store(Store::CheckpointEveryLevel),
    ];
    let r = compare(&m, &CheckOptions::default(), &setups, "prefixes near 8 KiB");
    assert_eq!(r.distinct, expected);
    assert_eq!(r.verdict, Verdict::Holds);
}

/// An invariant violated by a state that differs from a stored prefix in its last byte
/// only, at the far end of the family: the counterexample is the chain of prefixes.
#[test]
fn violation_by_a_last_byte_variant_has_the_prefix_chain_as_trace() {
    let m = Prefixes {
        bad: Some((90, 2)),
        ..prefixes(0, 90, 3, &[1])
    };
    let bad = variant(90, 2);
    assert_ne!(bad, prefix(90), "the bad state is not the prefix itself");
    let setups = setups_over_batches(&[1, 2, 4, 7], [Setup::new(3, 40).store(Store::WorkDir)]);
    let r = compare(&m, &CheckOptions::default(), &setups, "variant violation");
    let v = r.violation().expect("a violation");
    assert_eq!(v.kind, ViolationKind::Invariant("NotBad".into()));
    // Prefixes of 1 to 90 bytes (the 1-byte prefix is initial), then the variant.
    assert_eq!(v.trace.steps.len(), 91);
    assert_eq!(
        v.trace.steps.last().unwrap().state,
        "variant of 90 bytes, last Some(2)"
    );
}

/// The only state is the empty one, without successors: a deadlock whose trace is the
/// empty state alone; with deadlocks not checked, one state, one deadlock, holds.
#[test]
fn a_lone_empty_state() {
    let m = prefixes(0, 0, 0, &[1]);
    let setups = [
        Setup::new(1, 1),
        Setup::new(3, 8192),
        Setup::new(2, 16).store(Store::WorkDir),
    ];
    let [checked, unchecked] = compare_either_deadlock_setting(&m, &setups, "empty state");
    assert_eq!(
        (checked.distinct, checked.generated, checked.deadlocks),
        (1, 2, 1)
    );
    let v = checked.violation().expect("the empty state is a deadlock");
    assert_eq!(v.kind, ViolationKind::Deadlock);
    assert_eq!(v.trace.steps.len(), 1);
    assert_eq!(v.trace.steps[0].state, "prefix of 0 bytes, last None");
    assert_eq!((unchecked.distinct, unchecked.deadlocks), (1, 1));
    assert_eq!(unchecked.verdict, Verdict::Holds);
}

/// A chain of prefixes from the empty state, one byte longer per level, ending in a
/// deadlock at 300 bytes: 300 levels (the empty and the 1-byte prefix are both
/// initial), one or two states each.
#[test]
fn deadlock_at_the_end_of_a_chain_of_prefixes() {
    let m = prefixes(0, 300, 0, &[1]);
    let setups = [Setup::new(1, 8192), Setup::new(3, 1), Setup::new(5, 64)];
    let r = compare(&m, &CheckOptions::default(), &setups, "prefix chain");
    let v = r.violation().expect("a deadlock");
    assert_eq!(v.kind, ViolationKind::Deadlock);
    // From the initial prefix of 1 byte.
    assert_eq!(v.trace.steps.len(), 300);
    let last = &v.trace.steps.last().unwrap().state;
    assert!(last.starts_with("prefix of 300 bytes"), "{last}");
}

// ---------------------------------------------------------------------------------
// Random graphs over states of every length.
// ---------------------------------------------------------------------------------

/// A graph of 3,000 nodes with lengths 0 to 700 and 2% wide ones, at every
/// configuration kind.
#[test]
fn random_lengths_match_at_many_configurations() {
    let m = LengthGraph::new(3000, 3, 17, 700);
    let setups = setups_over_batches(
        &[1, 2, 3, 4, 6, 9],
        [
            Setup::new(2, 1).ring(1),
            Setup::new(5, 8192).sharing(false).ring(2),
            Setup::new(3, 256).store(Store::WorkDir),
            Setup::new(4, 8192).store(Store::CheckpointEveryLevel),
            Setup::new(2, 30).store(Store::Spilling),
        ],
    );
    let r = compare(&m, &CheckOptions::default(), &setups, "lengths 3000");
    assert!(r.distinct > 1000, "{}", r.distinct);
    // Every boundary length occurs among the nodes.
    let lengths: std::collections::HashSet<usize> = (0..m.size).map(|i| m.len_of(i)).collect();
    for l in BOUNDARY_LENGTHS {
        assert!(lengths.contains(l), "no node of {l} bytes");
    }
}

/// Many initial states: every 7th node, the first twenty again, and the same node
/// under several ids; most of them are also successors of others.
#[test]
fn many_initial_states_with_duplicates() {
    let mut m = LengthGraph::new(2000, 2, 99, 300);
    m.initials = (0..2000).step_by(7).chain(0..20).chain([5, 5, 5]).collect();
    let setups = [
        Setup::new(1, 8192),
        Setup::new(3, 1),
        Setup::new(7, 64).ring(1),
        Setup::new(4, 512).store(Store::CheckpointEveryLevel),
    ];
    for r in compare_either_deadlock_setting(&m, &setups, "many initial") {
        assert!(r.level_sizes[0] > 250, "{:?}", r.level_sizes);
    }
    // With a violating initial state (its length is the forbidden one), the trace is
    // that state alone.
    let l = m.len_of(1400);
    m.bad_len = Some(l);
    let r = compare(&m, &CheckOptions::default(), &setups, "violating initial");
    let v = r.violation().expect("a violation");
    assert_eq!(v.trace.steps.len(), 1);
}

/// 16 and 64 workers (more than the CPUs): tiny and default batches, rings of one.
#[test]
fn sixteen_and_sixty_four_workers() {
    let mut m = LengthGraph::new(2500, 3, 5, 700);
    m.sinks = 23;
    m.bad = Some(1234);
    let setups = [
        Setup::new(16, 1).ring(1),
        Setup::new(16, 8192),
        Setup::new(64, 64).ring(2),
        Setup::new(64, 8192).store(Store::WorkDir).sharing(false),
    ];
    compare_either_deadlock_setting(&m, &setups, "16/64 workers");
}

/// `max_states` and `max_depth` stop the engine where they stop the sequential
/// checker.
#[test]
fn limits_match() {
    let m = LengthGraph::new(4000, 3, 3, 700);
    let setups = [
        Setup::new(1, 8192),
        Setup::new(3, 16),
        Setup::new(5, 8192).ring(1),
        Setup::new(2, 200).store(Store::CheckpointEveryLevel),
    ];
    let stops_at = |options: CheckOptions, reason: StopReason, label: &str| {
        let r = compare(&m, &options, &setups, label);
        assert_eq!(r.verdict, Verdict::Partial { reason }, "{label}");
    };
    for max_depth in [1, 2, 5] {
        let options = CheckOptions {
            max_depth: Some(max_depth),
            ..CheckOptions::default()
        };
        stops_at(options, StopReason::MaxDepth, "max_depth");
    }
    for max_states in [1, 2, 50, 1000] {
        let options = CheckOptions {
            max_states: Some(max_states),
            check_deadlock: false,
            ..CheckOptions::default()
        };
        stops_at(options, StopReason::MaxStates, "max_states");
    }
}

/// Wide states only (4 KiB to 16 KiB): a worker's level passes the 1 MiB frontier
/// chunk, so with a spill limit of one byte every full chunk goes to the spill file,
/// is read back to be expanded, and is written into checkpoints.
#[test]
fn wide_states_spill_and_checkpoint() {
    let mut m = LengthGraph::new(5000, 4, 8, 700);
    m.wide_per_mille = 1000;
    m.initials = vec![0, 1, 2, 3];
    m.bad = Some(77);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let widest = reference.level_sizes.iter().max().unwrap();
    assert!(
        *widest * 4000 > 2 * (1 << 20),
        "a level of {widest} states does not pass a chunk at 2 workers"
    );
    for (setup, spills) in [
        (Setup::new(1, 8192).store(Store::Spilling), true),
        (Setup::new(2, 8192).store(Store::Spilling), true),
        (Setup::new(2, 8193).store(Store::Spilling).ring(1), true),
        (
            Setup::new(3, 4096).store(Store::CheckpointEveryLevel),
            false,
        ),
    ] {
        let dir = WorkDir::new("wide");
        let mut config = engine_config(&m, &setup, Some(&dir.0));
        if spills {
            config.persistence.as_mut().unwrap().checkpoint_every = Some(Duration::ZERO);
        }
        let _watchdog = Watchdog::start(format!("wide states, {setup:?}"));
        let got = check(&m, &CheckOptions::default(), &config).unwrap();
        same(&got.outcome, &reference, &format!("wide states, {setup:?}"));
        if spills {
            assert!(dir.has_spill_file(), "{setup:?} never spilled");
        }
    }
}

/// Interrupt at once, resume, and again until the run ends: every level's frontier of
/// states of every length goes through a checkpoint file and back, and levels stop
/// part-way (64 states a worker) as well as at their end. Each resumed run takes
/// another batch size, ring capacity and sharing setting (none of them is part of
/// the checkpoint); the wide model's frontiers also spill.
#[test]
fn interrupted_and_resumed_at_every_step() {
    let mut narrow = LengthGraph::new(1500, 3, 41, 700);
    narrow.bad = Some(999);
    narrow.wide_per_mille = 60;
    let mut wide = LengthGraph::new(1500, 4, 6, 700);
    wide.wide_per_mille = 1000;
    wide.initials = vec![0, 1, 2, 3, 4, 5];
    for (m, workers, spill) in [(&narrow, 1, false), (&narrow, 3, false), (&wide, 2, true)] {
        let reference = sequential::check(m, &CheckOptions::default()).unwrap();
        let dir = WorkDir::new("interrupt");
        let flag = AtomicBool::new(true);
        let options = CheckOptions {
            interrupt: Some(&flag),
            ..CheckOptions::default()
        };
        let mut resume = false;
        let mut stops = 0usize;
        let last = loop {
            let config = EngineConfig {
                workers,
                batch_bytes: BATCHES[stops % BATCHES.len()],
                ring_capacity: 1 + stops % 3,
                share_expansion: ExpansionSharing::forced(stops.is_multiple_of(2)),
                pin: false,
                frontier_spill_bytes: spill.then_some(1),
                persistence: Some(persistence(m, &dir.0, resume, None)),
                ..EngineConfig::default()
            };
            let label = format!("resume {stops} of {}, {workers} workers", m.name());
            let _watchdog = Watchdog::start(label.clone());
            let got = check(m, &options, &config).unwrap_or_else(|e| panic!("{label}: {e}"));
            match got.outcome.verdict {
                Verdict::Partial {
                    reason: StopReason::Interrupted,
                } => {
                    stops += 1;
                    resume = true;
                    assert!(stops < 10_000, "no progress");
                }
                _ => break got,
            }
        };
        assert!(stops as u32 >= reference.depth, "{stops} stops");
        same(
            &last.outcome,
            &reference,
            &format!("after {stops} resumes of {}, {workers} workers", m.name()),
        );
        if spill {
            assert!(dir.has_spill_file(), "never spilled");
        }
    }
}

/// Worker 0 is slow (each of its states busy-waits), so the others take shares of its
/// frontier: runs of states of every length copied into share messages, wide ones
/// (4 to 16 KiB) included, which bring shares near their byte limit (1 MiB).
/// Whether shares happen depends on the scheduler (other tests run beside this one on
/// few CPUs): a run without any is tried again with worker 0 slower, up to 3 times.
#[test]
fn shares_of_states_of_every_length() {
    for (workers, batch_bytes, wide) in [(3, 8192, false), (4, 64, false), (2, 8192, true)] {
        let mut m = LengthGraph::new(6000, 3, 12, 700);
        m.bad = Some(4321);
        // Expanding a wide state takes tens of microseconds anyway.
        let mut delay_us = if wide { 400 } else { 30 };
        if wide {
            m.wide_per_mille = 1000;
            m.size = 4000;
            m.branching = 4;
            m.initials = vec![0, 1, 2, 3];
        }
        let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
        let setup = Setup::new(workers, batch_bytes);
        let mut shared = 0;
        for _attempt in 0..3 {
            m.slow_owner = Some((workers, Duration::from_micros(delay_us)));
            let got = run(&m, &CheckOptions::default(), &setup, "slow worker 0");
            same(
                &got.outcome,
                &reference,
                &format!("slow worker 0 ({delay_us} us), wide {wide}, {setup:?}"),
            );
            shared = got.telemetry.workers.iter().map(|w| w.states_shared).sum();
            if shared > 0 {
                break;
            }
            delay_us *= 3;
        }
        assert!(shared > 0, "no shares at {setup:?}, wide {wide}");
    }
}

// ---------------------------------------------------------------------------------
// Random models and configurations.
// ---------------------------------------------------------------------------------

fn batch_bytes() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(1usize),
        Just(16),
        Just(64),
        1usize..=8192,
        Just(8164),
        Just(8180),
        Just(8192),
    ]
}

fn store() -> impl Strategy<Value = Store> {
    prop_oneof![
        3 => Just(Store::Memory),
        1 => Just(Store::WorkDir),
        1 => Just(Store::CheckpointEveryLevel),
        1 => Just(Store::Spilling),
    ]
}

fn max_len() -> impl Strategy<Value = usize> {
    prop_oneof![Just(700usize), 0usize..=40, 0usize..=700]
}

/// Proptest cases: `PROPTEST_CASES` if set (for a longer hunt), else 40.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

prop_compose! {
    fn length_graph()(
        size in 1u64..1500,
        branching in 0u64..5,
        seed in any::<u64>(),
        sinks in prop_oneof![Just(0u64), 1u64..40],
        bad in proptest::option::of(any::<u64>()),
        bad_len in proptest::option::weighted(0.2, proptest::sample::select(BOUNDARY_LENGTHS)),
        constraint in prop_oneof![3 => Just(0u64), 1 => 2u64..9],
        initials in proptest::collection::vec(any::<u64>(), 1..6),
        repeat_first in 0usize..3,
        max_len in max_len(),
        wide_per_mille in prop_oneof![Just(0u64), 0u64..60],
        self_loops in any::<bool>(),
    ) -> LengthGraph {
        let mut initials: Vec<u64> = initials.into_iter().map(|i| i % size).collect();
        for _ in 0..repeat_first {
            initials.push(initials[0]);
        }
        LengthGraph {
            size,
            branching,
            seed,
            sinks,
            bad: bad.map(|b| b % size),
            bad_len,
            constraint,
            initials,
            max_len,
            wide_per_mille,
            self_loops,
            slow_owner: None,
        }
    }
}

prop_compose! {
    fn setup()(
        workers in 1usize..=9,
        batch_bytes in batch_bytes(),
        ring_capacity in 1usize..=4,
        share_expansion in any::<bool>(),
        store in store(),
    ) -> Setup {
        Setup { workers, batch_bytes, ring_capacity, share_expansion, store }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]
    #[test]
    fn random_length_graphs_match_the_sequential_checker(
        m in length_graph(),
        setups in proptest::collection::vec(setup(), 1..3),
        check_deadlock in any::<bool>(),
        max_states in proptest::option::weighted(0.15, 1u64..2000),
        max_depth in proptest::option::weighted(0.15, 1u32..12),
    ) {
        let options = CheckOptions {
            check_deadlock,
            max_states,
            max_depth,
            ..CheckOptions::default()
        };
        compare(&m, &options, &setups, &format!("{m:?}"));
    }
}

/// Wide lengths (up to 16 KiB) are among the nodes of the default graph.
#[test]
fn the_default_graph_has_wide_nodes() {
    let m = LengthGraph::new(3000, 3, 17, 700);
    let wide = (0..m.size)
        .filter(|&i| WIDE_LENGTHS.contains(&m.len_of(i)))
        .count();
    assert!(wide > 20, "{wide}");
}

// ---------------------------------------------------------------------------------
// A frontier whose chunks run past 1 MiB by different amounts.
// ---------------------------------------------------------------------------------

/// 1 MiB, the size at which a frontier chunk is sealed
/// (`checker_numa::frontier::CHUNK_BYTES`).
const MIB: usize = 1 << 20;

/// A fan whose wide states (the leaf of wide state `bad` violating the invariant) make
/// a frontier whose first chunk runs past 1 MiB by 7,844 bytes and whose second by
/// 1,424: 104 states of 10,000 bytes and one of 16,000 (with a 4-byte length each:
/// 1,056,420 bytes), then 105 of 10,000 bytes (one width, no lengths: 1,050,000), then
/// 20 more. With a spill limit of 1 MiB + 4 KiB between the two, the first chunk
/// spills (1,056,420 > limit) and the second stays in memory (0 + 1,050,000 <= limit),
/// so memory no longer holds the frontier's front and the spill file its back.
fn uneven_fan(bad: Option<u16>) -> common_lengths::Fan {
    let mut lengths = vec![10_000; 230];
    lengths[104] = 16_000;
    common_lengths::Fan { lengths, bad }
}

const UNEVEN_SPILL_LIMIT: usize = MIB + 4096;

/// The frontier itself: states must come back in the order pushed (their position is
/// their parent-log index) whichever chunks spilled.
#[test]
fn a_frontier_gives_its_states_back_in_order_when_chunks_spill_unevenly() {
    use checker_numa::frontier::Frontier;
    let dir = WorkDir::new("uneven-frontier");
    std::fs::create_dir_all(&dir.0).unwrap();
    let fan = uneven_fan(None);
    let mut f = Frontier::spilling(UNEVEN_SPILL_LIMIT, Some(dir.0.join("f.spill")));
    for i in 0..fan.lengths.len() as u16 {
        f.push(&fan.wide(i));
    }
    assert!(f.spilled_chunks() > 0, "nothing spilled");
    let mut order = Vec::new();
    f.for_each_chunk(|chunk| {
        order.extend(chunk.iter().map(|s| u16::from_be_bytes([s[0], s[1]])));
        Ok(())
    })
    .unwrap();
    let pushed: Vec<u16> = (0..fan.lengths.len() as u16).collect();
    assert!(
        order == pushed,
        "for_each_chunk gives the states pushed as {}: {}",
        runs(&pushed),
        runs(&order)
    );
    // Expansion reads the frontier with front_chunk and consume_front_chunk.
    let mut consumed = Vec::new();
    while let Some(chunk) = f.front_chunk().unwrap() {
        consumed.extend(chunk.iter().map(|s| u16::from_be_bytes([s[0], s[1]])));
        f.consume_front_chunk();
    }
    assert!(
        consumed == pushed,
        "front_chunk gives the states pushed as {}: {}",
        runs(&pushed),
        runs(&consumed)
    );
}

/// `numbers` as runs of consecutive ones: `105..=209, 0..=104`.
fn runs(numbers: &[u16]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        out.push(format!("{}..={}", numbers[i], numbers[j]));
        i = j + 1;
    }
    out.join(", ")
}

/// The same frontier in a run (one worker, a work directory, a spill limit of
/// 1 MiB + 4 KiB): the leaf of wide state 0 violates the invariant, and its trace is
/// root, wide state 0, leaf 0.
#[test]
fn a_counterexample_through_a_frontier_that_spilled_unevenly() {
    let m = uneven_fan(Some(0));
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let v = reference.violation().expect("a violation");
    let states: Vec<&str> = v.trace.steps.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["root", "wide 0 of 10000 bytes", "leaf 0"]);
    let dir = WorkDir::new("uneven-run");
    let config = EngineConfig {
        workers: 1,
        pin: false,
        frontier_spill_bytes: Some(UNEVEN_SPILL_LIMIT),
        persistence: Some(persistence(&m, &dir.0, false, None)),
        ..EngineConfig::default()
    };
    let _watchdog = Watchdog::start("uneven spill".into());
    let got = check(&m, &CheckOptions::default(), &config)
        .unwrap_or_else(|e| panic!("1 worker, spill limit 1 MiB + 4 KiB: engine error: {e}"));
    assert!(dir.has_spill_file());
    same(
        &got.outcome,
        &reference,
        "1 worker, spill limit 1 MiB + 4 KiB",
    );
}

/// States of more than a frontier chunk (1 MiB), a share (1 MiB of states) or a
/// hundred batches, beside small ones: each is a chunk, a batch and a share of its own.
#[test]
fn states_larger_than_a_frontier_chunk() {
    let m = common_lengths::Fan {
        lengths: vec![
            4,
            MIB - 1,
            MIB,
            MIB + 1,
            3 * MIB + 5,
            16,
            8193,
            2 * MIB,
            MIB - 4,
        ],
        bad: Some(4),
    };
    let setups = [
        Setup::new(1, 8192),
        Setup::new(2, 1),
        Setup::new(3, 8192).ring(1),
        Setup::new(2, 8192).store(Store::Spilling),
        Setup::new(3, 64).store(Store::CheckpointEveryLevel),
    ];
    for r in compare_either_deadlock_setting(&m, &setups, "huge states") {
        let v = r.violation().expect("a violation");
        assert_eq!(v.trace.steps.len(), 3);
    }
}

/// The same frontier reached through the memory budget, as `checker check
/// --memory-budget` reaches it: one worker's spill limit is a quarter of its share,
/// here 1 MiB + 4 KiB. The run stops on the budget with a checkpoint (or ends); the
/// resumed run, without a budget, must give the sequential checker's answers.
#[test]
fn a_counterexample_after_a_memory_budget_stop_over_an_unevenly_spilled_frontier() {
    let m = uneven_fan(Some(0));
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let dir = WorkDir::new("uneven-budget");
    let config = |budget: Option<u64>, resume: bool| EngineConfig {
        workers: 1,
        pin: false,
        memory_budget: budget,
        persistence: Some(persistence(&m, &dir.0, resume, None)),
        ..EngineConfig::default()
    };
    let _watchdog = Watchdog::start("uneven spill under a memory budget".into());
    let budget = 4 * UNEVEN_SPILL_LIMIT as u64;
    let first = check(&m, &CheckOptions::default(), &config(Some(budget), false))
        .unwrap_or_else(|e| panic!("budget {budget}: engine error: {e}"));
    let last = if first.outcome.verdict
        == (Verdict::Partial {
            reason: StopReason::MemoryBudget,
        }) {
        check(&m, &CheckOptions::default(), &config(None, true))
            .unwrap_or_else(|e| panic!("resumed after the budget stop: engine error: {e}"))
    } else {
        first
    };
    same(
        &last.outcome,
        &reference,
        "after a budget of 4 MiB + 16 KiB",
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases().div_ceil(7)))]
    /// Wide states only, so that a worker's level runs over several 1 MiB frontier
    /// chunks, with a spill limit anywhere from one byte to 3 MiB: chunks spill, or
    /// stay in memory, in every pattern.
    #[test]
    fn wide_graphs_with_any_spill_limit(
        size in 200u64..1500,
        branching in 2u64..5,
        seed in any::<u64>(),
        bad in proptest::option::of(any::<u64>()),
        workers in 1usize..=3,
        batch_bytes in batch_bytes(),
        spill_limit in prop_oneof![Just(1usize), 1usize..3 * MIB, (0usize..16_384).prop_map(|x| MIB + x)],
        every_level in any::<bool>(),
    ) {
        let mut m = LengthGraph::new(size, branching, seed, 700);
        m.wide_per_mille = 1000;
        m.initials = vec![0, 1, 2, 3];
        m.bad = bad.map(|b| b % size);
        let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
        let dir = WorkDir::new("wide-any-limit");
        let setup = Setup::new(workers, batch_bytes).store(Store::Spilling);
        let mut config = engine_config(&m, &setup, Some(&dir.0));
        config.frontier_spill_bytes = Some(spill_limit);
        if every_level {
            config.persistence.as_mut().unwrap().checkpoint_every = Some(Duration::ZERO);
        }
        let label = format!("{m:?}, {setup:?}, spill limit {spill_limit}, checkpoints {every_level}");
        let _watchdog = Watchdog::start(label.clone());
        let got = check(&m, &CheckOptions::default(), &config)
            .unwrap_or_else(|e| panic!("{label}: engine error: {e}"));
        same(&got.outcome, &reference, &label);
    }
}
