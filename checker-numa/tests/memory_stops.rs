//! Memory-budget stops and the runs that resume them.
//!
//! Past its share of `EngineConfig::memory_budget` a worker stops the run, at a level
//! end or part-way through a level (every 16 stored batches it compares its projected
//! memory with its share): the level is saved part-way in the checkpoint and a resumed
//! run carries on. Here chains of runs start with a small budget and are resumed, each
//! time with a budget that grows (or stays, or with an interrupt, spilling frontiers,
//! checkpointing every level, other batch sizes, rings and sharing), until one ends;
//! its outcome must be the sequential checker's. Every stop along the way must say
//! what the sequential checker says of the levels it completed, keep its checkpoint
//! readable and consistent, and have made progress since the one before.
//!
//! The random chains (random graphs and graphs of states of every length, 1 to 6
//! workers) run `PROPTEST_CASES` cases each if set, for a longer hunt (12 and 10
//! otherwise); `MEMORY_STOPS_VERBOSE=1` prints each chain's stops. Chosen chains cover
//! an error found in a level before the budget stops it part-way, `max_states` and
//! `max_depth`, 16 and 64 workers, and runs without a work directory; the last test
//! checks what a worker that pauses part-way holds against its share.

mod common_graph;
mod common_guards;
mod common_lengths;
mod common_outcome;
mod common_rng;

use checker_core::{sequential, CheckOptions, Model, Outcome, StopReason, Verdict, ViolationKind};
use checker_numa::checkpoint;
use checker_numa::frontier::Frontier;
use checker_numa::process_limits::{BudgetSource, MemoryBudget, MemoryLimits};
use checker_numa::{check, EngineConfig, ExpansionSharing, ParallelOutcome, Persistence};
use common_graph::{PlainGraph, RandomGraph};
use common_guards::{identity, Watchdog, WorkDir};
use common_lengths::LengthGraph;
use common_outcome::same;
use common_rng::Rng;
use proptest::prelude::*;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// Most runs in one chain: budgets grow by at least half in most resumes, so a chain
/// that gets here never ends.
const MAX_RUNS: usize = 400;

/// The search settings a chain keeps from run to run.
#[derive(Clone, Copy, Debug)]
struct Limits {
    check_deadlock: bool,
    max_states: Option<u64>,
    max_depth: Option<u32>,
}

impl Limits {
    const NONE: Limits = Limits {
        check_deadlock: true,
        max_states: None,
        max_depth: None,
    };

    fn options<'a>(&self, interrupt: Option<&'a AtomicBool>) -> CheckOptions<'a> {
        CheckOptions {
            check_deadlock: self.check_deadlock,
            max_states: self.max_states,
            max_depth: self.max_depth,
            interrupt,
            ..CheckOptions::default()
        }
    }
}

/// The configuration of a chain of runs.
#[derive(Clone, Copy, Debug)]
struct Chain {
    workers: usize,
    batch_bytes: usize,
    ring_capacity: usize,
    share_expansion: bool,
    /// The first `starve` runs have a budget of `starved_share` a worker: below a
    /// worker's fixed memory, each of them stops at its first look at the memory,
    /// part-way through any level of more than 16 stored batches a worker.
    starve: usize,
    starved_share: u64,
    /// The budget of the first run after those; each later one has the budget of the
    /// one before, or 1.5 to 4 times that.
    first_budget: Budget,
    /// Seed of the choices made at each resume.
    seed: u64,
    /// Percent of resumes with the budget unchanged.
    same_budget: u64,
    /// Percent of resumes interrupted at once.
    interrupts: u64,
    /// Percent of runs whose frontiers spill every full chunk.
    spills: u64,
    /// Percent of runs that write a checkpoint at every level end.
    every_level: u64,
    /// Whether resumed runs take other batch sizes, rings and sharing settings.
    vary: bool,
}

impl Chain {
    /// A chain of `workers` workers with 512-byte batches starting at `first_share` each,
    /// whose budget grows at every resume and that nothing else disturbs.
    fn plain(workers: usize, first_share: u64) -> Self {
        Chain {
            workers,
            batch_bytes: 512,
            ring_capacity: 4,
            share_expansion: true,
            starve: 0,
            starved_share: 0,
            first_budget: Budget::Share(first_share),
            seed: 1,
            same_budget: 0,
            interrupts: 0,
            spills: 0,
            every_level: 0,
            vary: false,
        }
    }

    /// A run of the chain's first configuration with `budget`: not interrupted, its
    /// frontiers spilling at the default limit, checkpointing only when it stops.
    fn run(&self, budget: u64) -> Run {
        Run {
            budget,
            interrupt: false,
            spill: None,
            every_level: false,
            batch_bytes: self.batch_bytes,
            ring_capacity: self.ring_capacity,
            share_expansion: self.share_expansion,
        }
    }
}

/// How the first run's budget is chosen.
#[derive(Clone, Copy, Debug)]
enum Budget {
    /// This many bytes for each worker.
    Share(u64),
    /// This fraction of the most memory a worker of an unlimited run of the chain's
    /// first configuration holds at a level end (its table with the next doubling,
    /// its parent log's buffer and level entries with theirs, two frontier chunks),
    /// so that the first run stops part-way through a large level more often than
    /// not.
    OfPeak(f64),
}

impl Budget {
    /// Bytes for all the chain's workers together, on `m`.
    fn bytes<M: Model>(self, m: &M, chain: &Chain, limits: Limits) -> u64 {
        let share = match self {
            Budget::Share(bytes) => bytes,
            Budget::OfPeak(fraction) => (peak_share(m, chain, limits) as f64 * fraction) as u64,
        };
        share * chain.workers as u64
    }
}

/// See [`Budget::OfPeak`].
fn peak_share<M: Model>(m: &M, chain: &Chain, limits: Limits) -> u64 {
    let dir = WorkDir::new("peak");
    let config = EngineConfig {
        memory_budget: None,
        ..engine_config(m, chain, &chain.run(0), &dir.0, false)
    };
    let got = check(m, &limits.options(None), &config).expect("an unlimited run");
    let worker = got
        .telemetry
        .workers
        .iter()
        .map(|w| w.table_bytes * 3 / 2 + w.log_bytes * 2)
        .max()
        .unwrap_or(0);
    worker + 2 * (MIB + 4 * KIB)
}

/// One run of a chain.
#[derive(Clone, Copy, Debug)]
struct Run {
    budget: u64,
    interrupt: bool,
    spill: Option<usize>,
    every_level: bool,
    batch_bytes: usize,
    ring_capacity: usize,
    share_expansion: bool,
}

/// What a chain went through.
#[derive(Clone, Debug, Default)]
struct Seen {
    runs: usize,
    /// Stops at the memory budget.
    budget_stops: usize,
    /// Stops (by the budget or an interrupt) with a level saved part-way.
    part_way: usize,
    /// Memory-budget stops with a level saved part-way.
    budget_part_way: usize,
    /// Part-way stops whose saved level had already found an error.
    part_way_with_error: usize,
    /// Part-way stops after a run whose frontiers had spilled to the work directory.
    part_way_spilled: usize,
    interrupts: usize,
    /// The last run's outcome.
    last: Option<Outcome>,
}

impl Seen {
    fn add(&mut self, other: &Seen) {
        self.runs += other.runs;
        self.budget_stops += other.budget_stops;
        self.part_way += other.part_way;
        self.budget_part_way += other.budget_part_way;
        self.part_way_with_error += other.part_way_with_error;
        self.part_way_spilled += other.part_way_spilled;
        self.interrupts += other.interrupts;
    }
}

fn engine_config<M: Model>(
    m: &M,
    chain: &Chain,
    run: &Run,
    dir: &Path,
    resume: bool,
) -> EngineConfig {
    EngineConfig {
        workers: chain.workers,
        batch_bytes: run.batch_bytes,
        ring_capacity: run.ring_capacity,
        pin: false,
        share_expansion: ExpansionSharing::forced(run.share_expansion),
        memory_budget: Some(run.budget),
        // The budget as given: the machine's limits are not this test's.
        memory_limits: MemoryLimits::Ignored,
        frontier_spill_bytes: run.spill,
        persistence: Some(Persistence {
            workdir: dir.to_path_buf(),
            checkpoint_every: run.every_level.then_some(Duration::ZERO),
            resume,
            identity: identity(m, "memory-stops", m.name()),
            lock: None,
        }),
        ..EngineConfig::default()
    }
}

/// How far a checkpoint is, summed over its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    /// Depth of the frontier's states.
    depth: u32,
    /// States of the frontier expanded in the level saved part-way (by whichever
    /// worker expanded them).
    expanded: u64,
    /// States of the next level stored in it.
    stored: u64,
}

impl Position {
    fn part_way(&self) -> bool {
        self.expanded > 0 || self.stored > 0
    }
}

/// Reads the checkpoint `dir` holds after a stop and checks it against the outcome
/// of the run that wrote it and against `full` (the sequential checker's unlimited
/// run); returns where it stands and whether its level is saved part-way with an
/// error already found.
fn inspect(dir: &Path, got: &ParallelOutcome, full: &Outcome, label: &str) -> (Position, bool) {
    let (generation, manifest) = checkpoint::read_current(dir)
        .unwrap_or_else(|e| panic!("{label}: the checkpoint just written is unreadable: {e}"));
    let totals = &manifest.totals;
    let o = &got.outcome;
    assert_eq!(totals.level_sizes, o.level_sizes, "{label}: manifest");
    assert_eq!(
        (totals.distinct, totals.generated, totals.deadlocks),
        (o.distinct, o.generated, o.deadlocks),
        "{label}: manifest totals"
    );
    assert_eq!(manifest.depth as usize + 1, o.level_sizes.len(), "{label}");
    let mut position = Position {
        depth: manifest.depth,
        expanded: 0,
        stored: 0,
    };
    let mut partial_workers = 0;
    let mut with_error = false;
    for (w, file) in manifest.worker_files.iter().enumerate() {
        let loaded = checkpoint::read_worker(
            &generation,
            w,
            manifest.workers,
            file,
            Frontier::in_memory(),
            Frontier::in_memory(),
        )
        .unwrap_or_else(|e| panic!("{label}: worker {w}'s file just written is unreadable: {e}"));
        if let Some(p) = &loaded.partial {
            partial_workers += 1;
            assert!(p.expanded <= loaded.frontier.len(), "{label}: worker {w}");
            position.expanded += p.report.expanded;
            position.stored += p.log.len() as u64;
            assert_eq!(p.next.len(), p.log.len() as u64, "{label}: worker {w}");
            with_error |= p.report.errors.any();
        }
    }
    // A level is saved part-way by every worker or none.
    assert!(
        partial_workers == 0 || partial_workers == manifest.workers,
        "{label}: {partial_workers} of {} workers saved a partial level",
        manifest.workers
    );
    if partial_workers > 0 {
        let next = full
            .level_sizes
            .get(manifest.depth as usize + 1)
            .copied()
            .unwrap_or(0);
        assert!(
            position.stored <= next,
            "{label}: {} states of level {} saved, the level has {next}",
            position.stored,
            manifest.depth + 1
        );
        let this = full.level_sizes[manifest.depth as usize];
        assert!(
            position.expanded <= this,
            "{label}: {} states of level {} expanded, it has {this}",
            position.expanded,
            manifest.depth
        );
    }
    (position, partial_workers > 0 && with_error)
}

/// Whether a frontier spill file in `dir` holds anything.
fn has_spilled(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let e = e.unwrap();
        e.file_name().to_string_lossy().ends_with(".spill") && e.metadata().unwrap().len() > 0
    })
}

/// Runs a chain on `m` until a run ends; its outcome must be the sequential
/// checker's under `limits`. Returns what the chain went through.
fn run_chain<M: Model>(m: &M, limits: Limits, chain: &Chain, label: &str) -> Seen {
    let reference = sequential::check(m, &limits.options(None)).expect("the sequential checker");
    let full = sequential::check(
        m,
        &Limits {
            max_states: None,
            max_depth: None,
            ..limits
        }
        .options(None),
    )
    .expect("the sequential checker");
    let first_budget = chain.first_budget.bytes(m, chain, limits);
    let dir = WorkDir::new("chain");
    let mut rng = Rng(chain.seed);
    let set = AtomicBool::new(true);
    let mut seen = Seen::default();
    // The sequential checker's outcome up to each depth, as stops need it.
    let mut prefixes: HashMap<usize, Outcome> = HashMap::new();
    let mut last_position: Option<Position> = None;
    let mut history: Vec<String> = Vec::new();
    let starved_budget = chain.starved_share * chain.workers as u64;
    let mut budget = if chain.starve > 0 {
        starved_budget
    } else {
        first_budget
    };
    loop {
        let first = seen.runs == 0;
        let mut run = chain.run(budget);
        if !first {
            if seen.runs == chain.starve && chain.starve > 0 {
                budget = first_budget;
            } else if seen.runs > chain.starve && !rng.chance(chain.same_budget) {
                budget = ((budget as f64) * rng.factor(1.5, 4.0)) as u64;
            }
            run.budget = budget;
            run.interrupt = rng.chance(chain.interrupts);
            if chain.vary && rng.chance(50) {
                run.batch_bytes = [1, 16, 64, 512, 4096, 8192][rng.below(6) as usize];
                run.ring_capacity = 1 + rng.below(4) as usize;
                run.share_expansion = rng.chance(50);
            }
        }
        if rng.chance(chain.spills) {
            run.spill = Some(1 + rng.below(64 * KIB) as usize);
        }
        run.every_level = rng.chance(chain.every_level);
        let config = engine_config(m, chain, &run, &dir.0, !first);
        let options = limits.options(run.interrupt.then_some(&set));
        let at = format!(
            "{label}, {chain:?}, first budget {first_budget}, {limits:?}, run {} {run:?}, after {history:?}",
            seen.runs
        );
        let got = {
            let _watchdog = Watchdog::start(at.clone());
            check(m, &options, &config).unwrap_or_else(|e| panic!("{at}: engine error: {e}"))
        };
        seen.runs += 1;
        assert_eq!(
            got.memory_budget,
            Some(MemoryBudget {
                bytes: run.budget,
                source: BudgetSource::Given,
                given_bytes: Some(run.budget),
            }),
            "{at}"
        );
        let reason = match got.outcome.verdict {
            Verdict::Partial {
                reason: reason @ (StopReason::MemoryBudget | StopReason::Interrupted),
            } => reason,
            _ => {
                if verbose() {
                    eprintln!(
                        "history {history:?}, then {:?} at {}",
                        got.outcome.verdict, run.budget
                    );
                }
                same(&got.outcome, &reference, &at);
                seen.last = Some(got.outcome);
                return seen;
            }
        };
        if reason == StopReason::Interrupted {
            assert!(run.interrupt, "{at}: interrupted, but no interrupt was set");
            seen.interrupts += 1;
        } else {
            seen.budget_stops += 1;
        }
        assert_eq!(got.checkpoint.as_deref(), Some(dir.0.as_path()), "{at}");
        assert_eq!(got.outcome.exit_code(), 3, "{at}");
        // The levels the run completed are the sequential checker's.
        let levels = got.outcome.level_sizes.len();
        let prefix = prefixes.entry(levels).or_insert_with(|| {
            sequential::check(
                m,
                &Limits {
                    max_states: None,
                    max_depth: Some(levels as u32),
                    ..limits
                }
                .options(None),
            )
            .unwrap()
        });
        assert!(
            !matches!(prefix.verdict, Verdict::Violated(_)),
            "{at}: the run stopped after {levels} levels, the sequential checker finds {:?} in them",
            prefix.verdict
        );
        let o = &got.outcome;
        assert_eq!(
            (
                o.distinct,
                o.generated,
                o.deadlocks,
                &o.level_sizes,
                o.depth
            ),
            (
                prefix.distinct,
                prefix.generated,
                prefix.deadlocks,
                &prefix.level_sizes,
                prefix.depth
            ),
            "{at}: counts at the stop"
        );
        let (position, with_error) = inspect(&dir.0, &got, &full, &at);
        if position.part_way() {
            seen.part_way += 1;
            if has_spilled(&dir.0) {
                seen.part_way_spilled += 1;
            }
            if reason == StopReason::MemoryBudget {
                seen.budget_part_way += 1;
            }
        }
        if with_error {
            seen.part_way_with_error += 1;
        }
        // Every stop is further on than the one before: a resumed run expands at
        // least a look's worth of states, or ends a level, before it pauses.
        if let Some(before) = last_position {
            assert!(
                position > before,
                "{at}: no progress: {before:?} then {position:?}"
            );
        }
        last_position = Some(position);
        history.push(format!(
            "{}{:?}@{}",
            if reason == StopReason::Interrupted {
                "I"
            } else {
                "M"
            },
            position,
            run.budget
        ));
        assert!(seen.runs < MAX_RUNS, "{at}: the chain does not end");
    }
}

// ---------------------------------------------------------------------------------
// Chosen chains.
// ---------------------------------------------------------------------------------

/// A chain that keeps a budget of `share` a worker from its first run to its last:
/// well below a worker's fixed memory, so every run stops at its first look at the
/// memory, part-way through any level of more than 16 batches a worker.
fn starved(workers: usize, batch_bytes: usize, share: u64) -> Chain {
    Chain {
        batch_bytes,
        starve: usize::MAX,
        starved_share: share,
        ..Chain::plain(workers, share)
    }
}

/// The states of `m` level by level, in the order a breadth-first search from its
/// initial states meets them.
fn bfs_levels(m: &RandomGraph) -> Vec<Vec<u64>> {
    let mut seen = std::collections::HashSet::new();
    let mut level = Vec::new();
    m.initial_states(&mut |&s| {
        if seen.insert(s) {
            level.push(s);
        }
    });
    let mut levels = Vec::new();
    while !level.is_empty() {
        let mut next = Vec::new();
        for s in &level {
            m.successors(s, &mut |_, &t| {
                if seen.insert(t) {
                    next.push(t);
                }
            });
        }
        levels.push(std::mem::replace(&mut level, next));
    }
    levels
}

/// An invariant violation, and a deadlock, found in a level that the budget then stops
/// part-way: the saved level carries the error, and the run that ends the level
/// reports it with the sequential checker's counterexample. One worker decides alone
/// where each run stops, so the stop that saves the error is certain; at three
/// workers it is likely.
#[test]
fn an_error_found_before_a_pause_part_way_is_reported_after_resuming() {
    let graph = RandomGraph::new(20_000, 3, 31);
    let levels = bfs_levels(&graph);
    // A bad state a third of the way into the first level of over 1,000 states (its
    // parents' level has hundreds).
    let d = levels.iter().position(|l| l.len() > 1000).unwrap();
    let with_bad = RandomGraph {
        bad: Some(levels[d][levels[d].len() / 3]),
        ..RandomGraph::new(20_000, 3, 31)
    };
    // Deadlocks: the first level with a state that has no successors has over 1,000
    // states, 11 of them without successors.
    let with_sinks = RandomGraph {
        sinks: 221,
        ..RandomGraph::new(20_000, 3, 31)
    };
    let sink_levels = bfs_levels(&with_sinks);
    let is_sink = |s: &u64| s % 221 == 220;
    let first = sink_levels
        .iter()
        .position(|l| l.iter().any(is_sink))
        .unwrap();
    assert!(
        sink_levels[first].len() > 1000
            && sink_levels[first].iter().filter(|s| is_sink(s)).count() > 5,
        "level {first} of {:?}",
        sink_levels.iter().map(Vec::len).collect::<Vec<_>>()
    );
    for (m, kind) in [
        (&with_bad, ViolationKind::Invariant("NotBad".into())),
        (&with_sinks, ViolationKind::Deadlock),
    ] {
        for workers in [1, 3] {
            let label = format!("{m:?}, {workers} workers");
            let seen = run_chain(m, Limits::NONE, &starved(workers, 16, 64 * KIB), &label);
            let last = seen.last.as_ref().unwrap();
            assert_eq!(
                last.violation().map(|v| &v.kind),
                Some(&kind),
                "{label}: {:?}",
                last.verdict
            );
            assert!(seen.part_way > 0, "{label}: {seen:?}");
            if workers == 1 {
                assert!(seen.part_way_with_error > 0, "{label}: {seen:?}");
            }
        }
    }
    // The same violation with deadlocks not checked.
    let seen = run_chain(
        &with_bad,
        Limits {
            check_deadlock: false,
            ..Limits::NONE
        },
        &starved(2, 64, 64 * KIB),
        "no deadlock checking",
    );
    assert!(seen.part_way > 0, "{seen:?}");
}

/// `max_states` and `max_depth` with runs that stop part-way through levels (every
/// run starved, or starved a few times and then given budgets that grow): the chain
/// ends where the sequential checker stops.
#[test]
fn limits_end_chains_of_budget_stops_where_the_sequential_checker_stops() {
    let m = RandomGraph {
        sinks: 0,
        bad: None,
        ..RandomGraph::new(40_000, 3, 7)
    };
    let levels: Vec<usize> = bfs_levels(&m).iter().map(Vec::len).collect();
    let at_depth_7: usize = levels[..7].iter().sum();
    for limits in [
        Limits {
            max_depth: Some(9),
            ..Limits::NONE
        },
        Limits {
            max_states: Some(at_depth_7 as u64 - 100),
            ..Limits::NONE
        },
        Limits {
            max_states: Some(at_depth_7 as u64 + 100),
            max_depth: Some(9),
            check_deadlock: false,
        },
    ] {
        let growing = Chain {
            batch_bytes: 64,
            starve: 8,
            starved_share: 128 * KIB,
            first_budget: Budget::Share(3 * MIB),
            same_budget: 30,
            seed: 77,
            ..Chain::plain(2, 0)
        };
        for chain in [
            starved(1, 64, 128 * KIB),
            starved(3, 512, 128 * KIB),
            growing,
        ] {
            let label = format!("{limits:?}, {chain:?}");
            let seen = run_chain(&m, limits, &chain, &label);
            let last = seen.last.as_ref().unwrap();
            assert!(
                matches!(
                    last.verdict,
                    Verdict::Partial {
                        reason: StopReason::MaxDepth | StopReason::MaxStates
                    }
                ),
                "{label}: {:?}",
                last.verdict
            );
            assert!(seen.part_way > 0, "{label}: {seen:?}");
        }
    }
}

/// Without a work directory a budget stop writes no checkpoint and the level it
/// stopped part-way is lost: the outcome counts the levels completed, as the
/// sequential checker counts them.
#[test]
fn without_a_work_directory_a_budget_stop_counts_the_levels_completed() {
    // A bad state in the last level but one.
    let graph = RandomGraph::new(60_000, 4, 3);
    let levels = bfs_levels(&graph);
    let m = RandomGraph {
        bad: Some(levels[levels.len() - 2][0]),
        ..graph
    };
    let full = sequential::check(&m, &CheckOptions::default()).unwrap();
    let mut stops = Vec::new();
    for (workers, share) in [
        (1, 64 * KIB),
        (1, 4 * MIB),
        (2, 3 * MIB),
        (2, 4 * MIB),
        (3, 5 * MIB),
        (4, 6 * MIB),
    ] {
        let config = EngineConfig {
            workers,
            batch_bytes: 256,
            pin: false,
            memory_budget: Some(share * workers as u64),
            memory_limits: MemoryLimits::Ignored,
            ..EngineConfig::default()
        };
        let label = format!("{workers} workers, {share} bytes each");
        let got = {
            let _watchdog = Watchdog::start(label.clone());
            check(&m, &CheckOptions::default(), &config).unwrap()
        };
        assert_eq!(got.checkpoint, None, "{label}");
        let o = &got.outcome;
        if o.verdict
            != (Verdict::Partial {
                reason: StopReason::MemoryBudget,
            })
        {
            same(o, &full, &label);
            continue;
        }
        stops.push(o.level_sizes.len());
        let prefix = sequential::check(
            &m,
            &CheckOptions {
                max_depth: Some(o.level_sizes.len() as u32),
                ..CheckOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            (o.distinct, o.generated, o.deadlocks, &o.level_sizes),
            (
                prefix.distinct,
                prefix.generated,
                prefix.deadlocks,
                &prefix.level_sizes
            ),
            "{label}"
        );
    }
    assert!(!stops.is_empty(), "no run stopped at its budget");
}

/// Many workers, each with a small share: 16 and 64 workers (more than the CPUs) stop
/// at the budget, part-way or at a level end, and end with the sequential checker's
/// outcome once the budget has grown.
#[test]
fn sixteen_and_sixty_four_workers_stop_at_the_budget_and_resume() {
    let m = RandomGraph {
        sinks: 997,
        ..RandomGraph::new(60_000, 4, 11)
    };
    for workers in [16, 64] {
        let chain = Chain {
            starve: 3,
            starved_share: 256 * KIB,
            first_budget: Budget::Share(2 * MIB),
            interrupts: 20,
            seed: workers as u64,
            ..Chain::plain(workers, 0)
        };
        for check_deadlock in [true, false] {
            let limits = Limits {
                check_deadlock,
                ..Limits::NONE
            };
            let label = format!("{workers} workers, {limits:?}");
            let seen = run_chain(&m, limits, &chain, &label);
            assert!(seen.budget_stops > 0, "{label}: {seen:?}");
        }
    }
}

// ---------------------------------------------------------------------------------
// Random chains.
// ---------------------------------------------------------------------------------

/// Proptest cases: `PROPTEST_CASES` if set (for a longer hunt), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn verbose() -> bool {
    std::env::var_os("MEMORY_STOPS_VERBOSE").is_some()
}

fn batch_bytes() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(16usize),
        Just(64),
        16usize..=8192,
        Just(512),
        Just(8192),
    ]
}

prop_compose! {
    fn chain()(
        workers in 1usize..=6,
        batch_bytes in batch_bytes(),
        ring_capacity in 1usize..=4,
        share_expansion in any::<bool>(),
        first_budget in prop_oneof![
            // Log-uniform from 256 KiB to 4 MiB a worker: below a worker's fixed memory
            // every run stops soon after it starts.
            2 => (18.0f64..22.0).prop_map(|l| Budget::Share(l.exp2() as u64)),
            3 => (0.25f64..1.2).prop_map(Budget::OfPeak),
        ],
        starve in prop_oneof![1 => Just(0usize), 3 => 1usize..30],
        starved_log in 0.0f64..20.0,
        seed in any::<u64>(),
        same_budget in prop_oneof![Just(0u64), 10u64..70],
        interrupts in prop_oneof![Just(0u64), 10u64..50],
        spills in prop_oneof![Just(0u64), 10u64..40],
        every_level in prop_oneof![Just(0u64), 10u64..30],
        vary in any::<bool>(),
    ) -> Chain {
        Chain {
            workers,
            batch_bytes,
            ring_capacity,
            share_expansion,
            starve,
            starved_share: starved_log.exp2() as u64,
            first_budget,
            seed,
            same_budget,
            interrupts,
            spills,
            every_level,
            vary,
        }
    }
}

prop_compose! {
    /// A [`RandomGraph`] of `sizes` states and `branchings` successors each, with sinks
    /// `sink_gaps` apart a third of the time and a bad state two times in five: the
    /// shape of both kinds of graph the chains run on.
    fn graph_shape(sizes: Range<u64>, branchings: Range<u64>, sink_gaps: Range<u64>)(
        size in sizes,
        branching in branchings,
        seed in any::<u64>(),
        sinks in prop_oneof![2 => Just(0u64), 1 => sink_gaps],
        bad in proptest::option::weighted(0.4, any::<u64>()),
    ) -> RandomGraph {
        RandomGraph { size, branching, seed, sinks, bad: bad.map(|b| b % size) }
    }
}

prop_compose! {
    /// A [`RandomGraph`] with its invariant four times in five, without it otherwise
    /// (see `HookedGraph::invariants`).
    fn random_graph()(
        graph in graph_shape(20_000..200_000, 1..7, 50..5000),
        invariants in proptest::bool::weighted(0.8),
    ) -> PlainGraph {
        PlainGraph::plain(graph, invariants)
    }
}

prop_compose! {
    fn length_graph()(
        shape in graph_shape(2_000..40_000, 1..5, 50..3000),
        max_len in prop_oneof![Just(700usize), 0usize..=64, 0usize..=700],
        wide_per_mille in prop_oneof![1 => Just(0u64), 1 => 0u64..40, 2 => 100u64..400],
        self_loops in any::<bool>(),
        // Many initial states make the second level large at once.
        initials in prop_oneof![Just(2u64), 2u64..400],
    ) -> LengthGraph {
        let size = shape.size;
        LengthGraph {
            sinks: shape.sinks,
            bad: shape.bad,
            wide_per_mille,
            self_loops,
            initials: (0..initials).map(|i| i * size / initials).collect(),
            ..LengthGraph::new(size, shape.branching, shape.seed, max_len)
        }
    }
}

prop_compose! {
    fn limits()(
        check_deadlock in any::<bool>(),
        max_states in proptest::option::weighted(0.15, 1u64..100_000),
        max_depth in proptest::option::weighted(0.15, 1u32..14),
    ) -> Limits {
        Limits { check_deadlock, max_states, max_depth }
    }
}

/// Runs `cases` random chains of models from `models`, asserting each one's outcome;
/// some of their stops must be budget stops part-way through a level.
fn hunt<M: Model + std::fmt::Debug>(cases: u32, models: impl Strategy<Value = M>) {
    use proptest::test_runner::{Config, TestRunner};
    let totals = std::sync::Mutex::new(Seen::default());
    let mut runner = TestRunner::new(Config {
        cases,
        // Shrinking a chain reruns it: a few steps are enough to see the failure.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(models, chain(), limits()), |(m, chain, limits)| {
        let label = format!("{m:?}");
        let seen = run_chain(&m, limits, &chain, &label);
        if verbose() {
            eprintln!("{label}, {chain:?}, {limits:?}: {seen:?}");
        }
        totals.lock().unwrap().add(&seen);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let totals = totals.into_inner().unwrap();
    eprintln!("{cases} chains: {totals:?}");
    assert!(
        totals.budget_part_way > 0,
        "no budget stop part-way: {totals:?}"
    );
}

/// Random graphs (with and without a bad state, sinks, their invariant) and random
/// chains: some of their stops must be part-way through a level.
#[test]
fn random_graph_chains_end_with_the_sequential_outcome() {
    hunt(cases(12), random_graph());
}

/// Graphs of states of every length (wide ones too, whose frontiers spill), with many
/// initial states, and random chains: some of their stops must be part-way through a
/// level.
#[test]
fn length_graph_chains_end_with_the_sequential_outcome() {
    hunt(cases(10), length_graph());
}

// ---------------------------------------------------------------------------------
// What a pause part-way holds in memory.
// ---------------------------------------------------------------------------------

/// A binary tree of wide states: state `(d, i)` at depth `d` (`i < 2^d`) leads to
/// `(d + 1, 2i)` and `(d + 1, 2i + 1)` up to depth `depth`, whose states lead to
/// themselves. Every state packs to `width` bytes, so level `d` holds `2^d * width`
/// bytes of frontier.
struct WideTree {
    depth: u32,
    branching: u32,
    width: usize,
}

impl Model for WideTree {
    type State = (u32, u32);
    fn name(&self) -> String {
        format!("wide tree {} {} {}", self.depth, self.branching, self.width)
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&(u32, u32))) {
        emit(&(0, 0));
    }
    fn successors(&self, s: &(u32, u32), emit: &mut dyn FnMut(checker_core::Action, &(u32, u32))) {
        let (d, i) = *s;
        if d == self.depth {
            emit(checker_core::Action(self.branching), s);
            return;
        }
        for k in 0..self.branching {
            emit(checker_core::Action(k), &(d + 1, self.branching * i + k));
        }
    }
    fn invariant_names(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_invariant(&self, _: usize, _: &(u32, u32)) -> bool {
        true
    }
    fn action_label(&self, a: checker_core::Action) -> String {
        format!("Step{}", a.0)
    }
    fn pack(&self, s: &(u32, u32), out: &mut Vec<u8>) {
        out.extend_from_slice(&s.0.to_le_bytes());
        out.extend_from_slice(&s.1.to_le_bytes());
        out.extend((8..self.width).map(|k| (k as u32 ^ s.1) as u8));
    }
    fn unpack(&self, b: &[u8]) -> (u32, u32) {
        (
            u32::from_le_bytes(b[0..4].try_into().unwrap()),
            u32::from_le_bytes(b[4..8].try_into().unwrap()),
        )
    }
    fn render(&self, s: &(u32, u32)) -> String {
        format!("({}, {})", s.0, s.1)
    }
}

/// Bytes of packed states a frontier holds.
fn frontier_bytes(f: &Frontier) -> u64 {
    let mut bytes = 0;
    f.for_each_chunk(|c| {
        bytes += c.raw_bytes().len() as u64;
        Ok(())
    })
    .unwrap();
    bytes
}

/// A worker that pauses part-way through a level holds the rest of the frontier it is
/// expanding and the next level's states so far; the memory it compares with its share
/// must count both (ARCHITECTURE.md: "table, parent log, both frontiers, level index,
/// and the batch buffers"). Here one worker expands a level of 4,096 states of 4,000
/// bytes (15.6 MiB), each with 8 successors as wide, its frontiers kept in memory as in
/// a run without a work directory (`--memory-log`), whose frontiers cannot spill (the
/// spill limit is never reached). It compares its memory with its share every 16
/// stored batches (48 states here) and pauses at its next look at the flag, at most 64
/// expansions (2 MiB of successors) later; so when it pauses, the two frontiers it
/// holds are within its share and 3 MiB.
///
/// Found by this file at bd647b6: the frontier being expanded is moved out of the
/// worker's state (`std::mem::replace` in `Worker::run`, worker/mod.rs) while
/// `memory_in_use` (worker/level_end.rs) read only `self.state.frontier`, so part-way
/// through a level the frontier being expanded counted as empty, and the run went on
/// until the next level alone filled the share. With a share of 24 MiB it paused
/// holding 13.6 MiB of frontier and 18.0 MiB of the next level: 31.6 MiB, the table
/// and the log besides. (2dc1209 counts it, as `Worker::expanding_bytes`.)
#[test]
fn a_pause_part_way_counts_the_frontier_being_expanded() {
    let m = WideTree {
        depth: 5,
        branching: 8,
        width: 4000,
    };
    let mut over = Vec::new();
    let mut paused = 0;
    for share_mib in [20u64, 24, 28] {
        let dir = WorkDir::new("wide-tree");
        let chain = Chain {
            batch_bytes: 8192,
            ..Chain::plain(1, share_mib * MIB)
        };
        let run = Run {
            spill: Some(usize::MAX),
            ..chain.run(share_mib * MIB)
        };
        let config = engine_config(&m, &chain, &run, &dir.0, false);
        let label = format!("a share of {share_mib} MiB");
        let got = {
            let _watchdog = Watchdog::start(label.clone());
            check(&m, &CheckOptions::default(), &config).unwrap()
        };
        assert_eq!(
            got.outcome.verdict,
            Verdict::Partial {
                reason: StopReason::MemoryBudget
            },
            "{label}"
        );
        let (generation, manifest) = checkpoint::read_current(&dir.0).unwrap();
        let loaded = checkpoint::read_worker(
            &generation,
            0,
            1,
            &manifest.worker_files[0],
            Frontier::in_memory(),
            Frontier::in_memory(),
        )
        .unwrap();
        let Some(partial) = &loaded.partial else {
            continue;
        };
        paused += 1;
        let (rest, next) = (
            frontier_bytes(&loaded.frontier),
            frontier_bytes(&partial.next),
        );
        if rest + next > (share_mib + 3) * MIB {
            over.push(format!(
                "{label}: paused holding {:.1} MiB of frontier and {:.1} MiB of the next level",
                rest as f64 / MIB as f64,
                next as f64 / MIB as f64
            ));
        }
    }
    assert!(paused > 0, "no run paused part-way");
    assert!(over.is_empty(), "{over:#?}");
}
