//! Runs interrupted at random moments and resumed, again and again, until one ends;
//! and what a checkpoint allows after that.
//!
//! The interrupt flag is set from inside the search (after a random number of
//! expansions, counted by a wrapper around the model), from a timer thread, or from
//! the progress callback; each resumed run may take other batch sizes, rings, sharing,
//! spilling and periodic checkpoints (the worker count is the checkpoint's: another is
//! refused). The run that ends must give exactly the sequential checker's counts,
//! verdict and counterexample. Then: a checkpoint resumed to the end resumes again to
//! the same outcome; limits given on resuming after a limit stop; other worker counts
//! and fresh runs over a checkpoint refused; the progress callback's depth after a
//! resume and a periodic checkpoint. `INTERRUPTED_RUNS_CASES` sets the random chains
//! per test for a longer hunt.

mod common_graph;
mod common_guards;
mod common_outcome;
mod common_rng;
mod common_workdir;

use checker_core::{sequential, Action, CheckOptions, Model, Outcome, StopReason, Verdict};
use checker_numa::{check, EngineConfig, ExpansionSharing, ParallelOutcome, Persistence};
use common_graph::RandomGraph;
use common_guards::{identity, Watchdog, WorkDir};
use common_outcome::same;
use common_rng::Rng;
use fixtures::{with_model, ModelVisitor};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Most runs in one chain before it is called endless.
const MAX_RUNS: usize = 300;

/// A model that sets an interrupt flag when its `at`-th state is expanded (counted
/// over every worker), and is otherwise `inner`, name included.
struct Tripwire<'a, M> {
    inner: &'a M,
    flag: &'a AtomicBool,
    expanded: AtomicU64,
    at: AtomicU64,
}

impl<'a, M: Model> Tripwire<'a, M> {
    fn new(inner: &'a M, flag: &'a AtomicBool) -> Self {
        Tripwire {
            inner,
            flag,
            expanded: AtomicU64::new(0),
            at: AtomicU64::new(u64::MAX),
        }
    }

    /// Arms the wire for a new run: the flag is cleared and set again at the `at`-th
    /// expansion of that run (never for `u64::MAX`).
    fn arm(&self, at: u64) {
        self.flag.store(false, Ordering::SeqCst);
        self.expanded.store(0, Ordering::SeqCst);
        self.at.store(at, Ordering::SeqCst);
    }
}

impl<M: Model> Model for Tripwire<'_, M> {
    type State = M::State;
    fn name(&self) -> String {
        self.inner.name()
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&M::State)) {
        self.inner.initial_states(emit)
    }
    fn successors(&self, s: &M::State, emit: &mut dyn FnMut(Action, &M::State)) {
        if self.expanded.fetch_add(1, Ordering::Relaxed) + 1 == self.at.load(Ordering::Relaxed) {
            self.flag.store(true, Ordering::SeqCst);
        }
        self.inner.successors(s, emit)
    }
    fn invariant_names(&self) -> Vec<String> {
        self.inner.invariant_names()
    }
    fn check_invariant(&self, i: usize, s: &M::State) -> bool {
        self.inner.check_invariant(i, s)
    }
    fn within_constraint(&self, s: &M::State) -> bool {
        self.inner.within_constraint(s)
    }
    fn action_label(&self, a: Action) -> String {
        self.inner.action_label(a)
    }
    fn pack(&self, s: &M::State, out: &mut Vec<u8>) {
        self.inner.pack(s, out)
    }
    fn unpack(&self, b: &[u8]) -> M::State {
        self.inner.unpack(b)
    }
    fn unpack_into(&self, b: &[u8], into: &mut M::State) {
        self.inner.unpack_into(b, into)
    }
    fn render(&self, s: &M::State) -> String {
        self.inner.render(s)
    }
    fn packed_width(&self) -> Option<usize> {
        self.inner.packed_width()
    }
}

/// How the interrupt of one run comes.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// Not at all.
    Never,
    /// At this expansion of the run.
    AtExpansion(u64),
    /// From a timer thread, this many microseconds after the run starts.
    AfterMicros(u64),
    /// From the progress callback (called about every 20 ms), at its n-th call.
    AtProgressCall(u64),
}

/// How one run of a chain is configured.
#[derive(Clone, Copy, Debug)]
struct RunConfig {
    batch_bytes: usize,
    ring_capacity: usize,
    share_expansion: bool,
    every_level: bool,
    spill: Option<usize>,
    stop: Stop,
}

fn engine_config<M: Model>(
    m: &M,
    workers: usize,
    run: &RunConfig,
    dir: &Path,
    resume: bool,
) -> EngineConfig {
    EngineConfig {
        workers,
        pin: false,
        batch_bytes: run.batch_bytes,
        ring_capacity: run.ring_capacity,
        share_expansion: ExpansionSharing::forced(run.share_expansion),
        frontier_spill_bytes: run.spill,
        persistence: Some(Persistence {
            workdir: dir.to_path_buf(),
            checkpoint_every: run.every_level.then_some(Duration::ZERO),
            resume,
            identity: identity(m, "interrupted", m.name()),
            lock: None,
        }),
        ..EngineConfig::default()
    }
}

/// What a chain went through.
#[derive(Debug, Default)]
struct Seen {
    runs: usize,
    interrupts: usize,
}

/// Runs `m` with `options` at `workers` workers, interrupted as `rng` chooses, and
/// resumed until a run ends; asserts that run's outcome is `reference`'s.
fn run_chain<M: Model>(
    m: &M,
    options: &CheckOptions<'_>,
    workers: usize,
    reference: &Outcome,
    rng: &mut Rng,
    label: &str,
) -> Seen {
    let dir = WorkDir::new("interrupted");
    let flag = AtomicBool::new(false);
    let wire = Tripwire::new(m, &flag);
    let mut seen = Seen::default();
    let mut history = Vec::new();
    // About the expansions of an uninterrupted run, to aim the wire.
    let total = reference.distinct.max(1);
    loop {
        let run = RunConfig {
            batch_bytes: [16, 64, 512, 8192][rng.below(4) as usize],
            ring_capacity: 1 + rng.below(4) as usize,
            share_expansion: rng.chance(70),
            every_level: rng.chance(20),
            spill: rng.chance(15).then(|| 1 + rng.below(4096) as usize),
            stop: match rng.below(20) {
                0 => Stop::Never,
                1..=12 => {
                    let shift = rng.below(6);
                    Stop::AtExpansion(1 + rng.below(total >> shift))
                }
                13..=17 => Stop::AfterMicros(rng.below(20_000)),
                _ => Stop::AtProgressCall(1 + rng.below(3)),
            },
        };
        wire.arm(match run.stop {
            Stop::AtExpansion(n) => n,
            _ => u64::MAX,
        });
        let calls = AtomicU64::new(0);
        let progress = |_: &checker_core::Progress| {
            if let Stop::AtProgressCall(n) = run.stop {
                if calls.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    flag.store(true, Ordering::SeqCst);
                }
            }
        };
        let run_options = CheckOptions {
            interrupt: Some(&flag),
            progress: Some(&progress),
            progress_interval: Duration::ZERO,
            ..options.clone()
        };
        let config = engine_config(&wire, workers, &run, &dir.0, seen.runs > 0);
        let at = format!("{label}, run {} {run:?}, after {history:?}", seen.runs);
        let got: ParallelOutcome = {
            let _watchdog = Watchdog::start(at.clone());
            let done = AtomicBool::new(false);
            std::thread::scope(|scope| {
                if let Stop::AfterMicros(us) = run.stop {
                    let (flag, done) = (&flag, &done);
                    scope.spawn(move || {
                        std::thread::sleep(Duration::from_micros(us));
                        if !done.load(Ordering::SeqCst) {
                            flag.store(true, Ordering::SeqCst);
                        }
                    });
                }
                let got = check(&wire, &run_options, &config);
                done.store(true, Ordering::SeqCst);
                got
            })
            .unwrap_or_else(|e| panic!("{at}: engine error: {e}"))
        };
        seen.runs += 1;
        match got.outcome.verdict {
            Verdict::Partial {
                reason: StopReason::Interrupted,
            } => {
                assert_eq!(got.checkpoint.as_deref(), Some(dir.0.as_path()), "{at}");
                assert_eq!(got.outcome.exit_code(), 3, "{at}");
                seen.interrupts += 1;
                history.push(format!(
                    "I{}/{}",
                    got.outcome.level_sizes.len(),
                    got.outcome.distinct
                ));
            }
            _ => {
                same(&got.outcome, reference, &at);
                return seen;
            }
        }
        assert!(seen.runs < MAX_RUNS, "{at}: the chain does not end");
    }
}

/// Chains per test: `INTERRUPTED_RUNS_CASES` if set (for a longer hunt), else `default`.
fn cases(default: u64) -> u64 {
    std::env::var("INTERRUPTED_RUNS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether to print what each chain went through (`INTERRUPTED_RUNS_VERBOSE=1`).
fn verbose() -> bool {
    std::env::var_os("INTERRUPTED_RUNS_VERBOSE").is_some()
}

/// Random graphs (with sinks, a bad state, limits, deadlock checking on or off) at
/// 1, 2, 3, 5 or 8 workers, interrupted at random moments until a run ends.
#[test]
fn random_graphs_interrupted_at_random_moments() {
    let mut totals = Seen::default();
    for case in 0..cases(12) {
        let mut rng = Rng(0x5eed ^ case.wrapping_mul(0x1234_5678_9abc));
        let large = rng.chance(20);
        let size = 5_000 + rng.below(if large { 400_000 } else { 60_000 });
        let branching = 1 + rng.below(5);
        let seed = rng.next_u64();
        let sinks = if rng.chance(40) {
            50 + rng.below(3000)
        } else {
            0
        };
        let bad = rng.chance(40).then(|| rng.below(size));
        let m = RandomGraph {
            sinks,
            bad,
            ..RandomGraph::new(size, branching, seed)
        };
        let options = CheckOptions {
            check_deadlock: rng.chance(70),
            max_states: rng.chance(10).then(|| 1 + rng.below(size)),
            max_depth: rng.chance(10).then(|| 1 + rng.below(20) as u32),
            ..CheckOptions::default()
        };
        let reference = sequential::check(&m, &options).unwrap();
        let workers = [1, 2, 3, 5, 8][rng.below(5) as usize];
        let label = format!("case {case}: {m:?}, {options:?}, {workers} workers");
        let seen = run_chain(&m, &options, workers, &reference, &mut rng, &label);
        if verbose() {
            eprintln!("{label}: {seen:?}");
        }
        totals.runs += seen.runs;
        totals.interrupts += seen.interrupts;
    }
    eprintln!("{totals:?}");
    assert!(totals.interrupts > totals.runs / 3, "{totals:?}");
}

/// Chains of interrupted runs on one bundled model, with deadlock checking on and off;
/// returns the interrupts they went through.
struct Chains {
    cases: u64,
    seed: u64,
}

impl ModelVisitor for Chains {
    type Output = usize;
    fn visit<M: Model + 'static>(self, model: M) -> usize {
        let mut interrupts = 0;
        for options in [
            CheckOptions::default(),
            CheckOptions {
                check_deadlock: false,
                ..CheckOptions::default()
            },
        ] {
            let reference = sequential::check(&model, &options).unwrap();
            for case in 0..self.cases {
                let mut rng = Rng(self.seed ^ case);
                let workers = [1, 2, 3, 5, 8][rng.below(5) as usize];
                let label = format!(
                    "{} case {case}, {options:?}, {workers} workers",
                    model.name()
                );
                let seen = run_chain(&model, &options, workers, &reference, &mut rng, &label);
                if verbose() {
                    eprintln!("{label}: {seen:?}");
                }
                interrupts += seen.interrupts;
            }
        }
        interrupts
    }
}

/// Bundled models with deadlocks and invariant violations (so counterexamples are
/// compared too) and without, interrupted at random moments until a run ends.
#[test]
fn bundled_models_interrupted_at_random_moments() {
    let mut interrupts = 0;
    for spec in [
        "philosophers 7",
        "diehard",
        "peterson-broken",
        "bakery-broken 3",
        "twophase 4",
        "bakery 3",
    ] {
        let words: Vec<String> = spec.split_whitespace().map(String::from).collect();
        interrupts += with_model(
            &words[0],
            &words[1..],
            Chains {
                cases: cases(3),
                seed: 77,
            },
        )
        .unwrap();
    }
    assert!(interrupts > 10, "{interrupts} interrupts");
}

/// The BFS depth of every state of `m` (a state not reached is absent).
fn depths(m: &RandomGraph) -> std::collections::HashMap<u64, u32> {
    let mut depth = std::collections::HashMap::new();
    let mut level = Vec::new();
    m.initial_states(&mut |&s| {
        if depth.insert(s, 0).is_none() {
            level.push(s);
        }
    });
    let mut d = 0;
    while !level.is_empty() {
        d += 1;
        let mut next = Vec::new();
        for s in &level {
            m.successors(s, &mut |_, &t| {
                if let std::collections::hash_map::Entry::Vacant(e) = depth.entry(t) {
                    e.insert(d);
                    next.push(t);
                }
            });
        }
        level = next;
    }
    depth
}

/// The progress callback's depth is the level being expanded, also in a run resumed
/// from a checkpoint and in each segment after a periodic checkpoint: it was 0 there
/// until the segment's first level ended (each segment starts with fresh progress
/// slots), so `checker check --resume` printed `Progress(0)` all through a long level.
///
/// The first worker to expand a state of each level waits there until the callback
/// has been called, so each level is seen while it is expanded, whatever the timing.
#[test]
fn progress_reports_the_level_being_expanded_after_a_resume_and_a_checkpoint() {
    let m = common_workdir::graph();
    let depth_of = depths(&m);
    let flag = AtomicBool::new(false);
    // Levels whose first expansion has been seen, or that are not gated (a bit each).
    let seen_levels = AtomicU64::new(0);
    // The level a gated worker is expanding, plus one (0: no worker waits).
    let waiting = std::sync::atomic::AtomicU32::new(0);
    let gating = AtomicBool::new(false);
    let interrupt_at_level = std::sync::atomic::AtomicU32::new(u32::MAX);
    let hook = |_: &RandomGraph, s: u64| {
        let d = depth_of[&s];
        if d == interrupt_at_level.load(Ordering::SeqCst) {
            flag.store(true, Ordering::SeqCst);
        }
        let bit = 1u64 << d;
        if !gating.load(Ordering::SeqCst) || seen_levels.fetch_or(bit, Ordering::SeqCst) & bit != 0
        {
            return;
        }
        waiting.store(d + 1, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while waiting.load(Ordering::SeqCst) != 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let hooked = common_graph::HookedGraph::new(m, hook);
    let reported = std::sync::Mutex::new(Vec::new());
    let progress = |p: &checker_core::Progress| {
        let expanding = waiting.load(Ordering::SeqCst);
        if expanding != 0 {
            reported.lock().unwrap().push((expanding - 1, p.depth));
            waiting.store(0, Ordering::SeqCst);
        }
    };
    let options = CheckOptions {
        interrupt: Some(&flag),
        progress: Some(&progress),
        progress_interval: Duration::ZERO,
        ..CheckOptions::default()
    };
    let reference = sequential::check(&hooked, &CheckOptions::default()).unwrap();
    for workers in [1, 3] {
        let dir = WorkDir::new("progress-depth");
        let run = RunConfig {
            batch_bytes: 512,
            ring_capacity: 4,
            share_expansion: true,
            every_level: false,
            spill: None,
            stop: Stop::Never,
        };
        // Interrupted part-way through level 4.
        flag.store(false, Ordering::SeqCst);
        interrupt_at_level.store(4, Ordering::SeqCst);
        let got = check(
            &hooked,
            &options,
            &engine_config(&hooked, workers, &run, &dir.0, false),
        )
        .unwrap();
        assert_eq!(
            got.outcome.verdict,
            Verdict::Partial {
                reason: StopReason::Interrupted
            }
        );
        // Stopped part-way through level 4, or at its end if its few states per
        // worker ended before a look at the flag.
        let resumed_at = got.outcome.level_sizes.len() as u32 - 1;
        assert!((4..=5).contains(&resumed_at), "{workers} workers");
        // Resumed, with a checkpoint at every level end, and each level gated.
        flag.store(false, Ordering::SeqCst);
        interrupt_at_level.store(u32::MAX, Ordering::SeqCst);
        // The levels before are not expanded again (the counterexample's replay
        // goes through them, with no progress callback to let it pass).
        seen_levels.store((1 << resumed_at) - 1, Ordering::SeqCst);
        reported.lock().unwrap().clear();
        gating.store(true, Ordering::SeqCst);
        let every_level = RunConfig {
            every_level: true,
            ..run
        };
        let got = check(
            &hooked,
            &options,
            &engine_config(&hooked, workers, &every_level, &dir.0, true),
        )
        .unwrap();
        gating.store(false, Ordering::SeqCst);
        same(&got.outcome, &reference, &format!("{workers} workers"));
        let reported = std::mem::take(&mut *reported.lock().unwrap());
        // Every level from the checkpoint's on is expanded but the last one, whose
        // violation ends the search once it is stored.
        let expected: Vec<(u32, u32)> = (resumed_at..reference.depth - 1).map(|d| (d, d)).collect();
        assert_eq!(
            reported, expected,
            "{workers} workers: (expanding, reported)"
        );
    }
}

/// A plain run configuration: 512-byte batches, sharing on, no periodic checkpoints.
fn plain_run() -> RunConfig {
    RunConfig {
        batch_bytes: 512,
        ring_capacity: 4,
        share_expansion: true,
        every_level: false,
        spill: None,
        stop: Stop::Never,
    }
}

/// A run of `m` at `workers` workers in `dir`, interrupted at its `at`-th expansion.
fn interrupted_at<M: Model>(
    m: &M,
    options: &CheckOptions<'_>,
    workers: usize,
    dir: &Path,
    resume: bool,
    at: u64,
) -> ParallelOutcome {
    let flag = AtomicBool::new(false);
    let wire = Tripwire::new(m, &flag);
    wire.arm(at);
    let options = CheckOptions {
        interrupt: Some(&flag),
        ..options.clone()
    };
    let got = check(
        &wire,
        &options,
        &engine_config(m, workers, &plain_run(), dir, resume),
    )
    .unwrap();
    assert_eq!(
        got.outcome.verdict,
        Verdict::Partial {
            reason: StopReason::Interrupted
        },
        "interrupted at expansion {at}"
    );
    got
}

/// A run of `m` resumed from `dir` at `workers` workers (0: the checkpoint's count).
fn resumed<M: Model>(
    m: &M,
    options: &CheckOptions<'_>,
    workers: usize,
    dir: &Path,
) -> Result<ParallelOutcome, checker_numa::EngineError> {
    check(
        m,
        options,
        &engine_config(m, workers, &plain_run(), dir, true),
    )
}

/// The checkpoint a run that ends leaves behind stays the one it resumed from: a run
/// resumed from it again, as often as wanted, with a limit or without, gives the same
/// outcome as an uninterrupted run.
#[test]
fn a_checkpoint_resumed_to_the_end_resumes_again_to_the_same_outcome() {
    let m = common_workdir::graph();
    let dir = WorkDir::new("resume-twice");
    let options = CheckOptions::default();
    let reference = sequential::check(&m, &options).unwrap();
    let stopped = interrupted_at(&m, &options, 3, &dir.0, false, 2_000);
    let current = std::fs::read_to_string(dir.0.join("CURRENT")).unwrap();
    for round in 0..3 {
        let got = resumed(&m, &options, 3, &dir.0).unwrap();
        same(&got.outcome, &reference, &format!("resumed, round {round}"));
        assert_eq!(got.checkpoint, None);
        assert_eq!(
            std::fs::read_to_string(dir.0.join("CURRENT")).unwrap(),
            current
        );
    }
    // Stopped by a limit after the checkpoint, then resumed to the end.
    let done = stopped.outcome.level_sizes.len() as u32;
    let limited = CheckOptions {
        max_depth: Some(done + 2),
        ..CheckOptions::default()
    };
    let got = resumed(&m, &limited, 3, &dir.0).unwrap();
    same(
        &got.outcome,
        &sequential::check(&m, &limited).unwrap(),
        "limited",
    );
    let got = resumed(&m, &options, 0, &dir.0).unwrap();
    same(&got.outcome, &reference, "after the limited run");
}

/// A checkpoint taken at 2 workers is resumed at 2 only: every other count is refused
/// with one line, and the refusals leave the checkpoint as it was.
#[test]
fn another_worker_count_is_refused_and_the_checkpoint_still_resumes() {
    let m = RandomGraph {
        sinks: 4_001,
        ..RandomGraph::new(30_000, 3, 5)
    };
    let dir = WorkDir::new("worker-counts");
    let options = CheckOptions::default();
    let reference = sequential::check(&m, &options).unwrap();
    assert!(reference.violation().is_some());
    interrupted_at(&m, &options, 2, &dir.0, false, 500);
    for workers in [1, 3, 5, 8] {
        let e = resumed(&m, &options, workers, &dir.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the checkpoint was written by 2 workers; resume with --workers 2 (re-partitioning to another count is not supported)"
        );
    }
    same(
        &resumed(&m, &options, 2, &dir.0).unwrap().outcome,
        &reference,
        "resumed at 2 workers",
    );
}

/// Runs stopped by `max_states` or `max_depth` write no checkpoint: with a checkpoint
/// at every level end, the last one is that of the level before the stop, and runs
/// resumed from it with a larger limit, the same, a smaller one or none end as a fresh
/// run with that limit does, or are refused where a fresh run would have stopped
/// before the checkpoint.
#[test]
fn runs_stopped_by_a_limit_resume_under_another_limit() {
    let m = common_workdir::graph();
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let sizes = &reference.level_sizes;
    let after = |levels: usize| sizes[..levels].iter().sum::<u64>();
    let with = |max_states: Option<u64>, max_depth: Option<u32>| CheckOptions {
        max_states,
        max_depth,
        ..CheckOptions::default()
    };
    for (first, again) in [
        // max_states: reached after 6 levels; again after 8, after 6 (the same), none.
        (with(Some(after(6) - 1), None), with(Some(after(8)), None)),
        (with(Some(after(6)), None), with(Some(after(6)), None)),
        (with(Some(after(6) - 1), None), with(None, None)),
        // max_depth 6; again 9, 6, none, and a state limit instead.
        (with(None, Some(6)), with(None, Some(9))),
        (with(None, Some(6)), with(None, Some(6))),
        (with(None, Some(6)), with(None, None)),
        (with(None, Some(6)), with(Some(after(7)), None)),
    ] {
        let label = format!("{first:?} then {again:?}");
        let dir = WorkDir::new("limits");
        let config = EngineConfig {
            persistence: Some(Persistence {
                checkpoint_every: Some(Duration::ZERO),
                ..engine_config(&m, 2, &plain_run(), &dir.0, false)
                    .persistence
                    .unwrap()
            }),
            ..engine_config(&m, 2, &plain_run(), &dir.0, false)
        };
        let got = check(&m, &first, &config).unwrap();
        same(
            &got.outcome,
            &sequential::check(&m, &first).unwrap(),
            &label,
        );
        assert_eq!(got.checkpoint, None, "{label}");
        assert_eq!(got.checkpoints_written, 5, "{label}");
        let got = resumed(&m, &again, 2, &dir.0).unwrap();
        same(
            &got.outcome,
            &sequential::check(&m, &again).unwrap(),
            &label,
        );
    }
    // Limits a fresh run stops at before the checkpoint (after 6 levels) are refused.
    let dir = WorkDir::new("limits-refused");
    let mut config = engine_config(&m, 2, &plain_run(), &dir.0, false);
    config.persistence.as_mut().unwrap().checkpoint_every = Some(Duration::ZERO);
    check(&m, &with(None, Some(7)), &config).unwrap();
    for (again, limit) in [
        (
            with(None, Some(3)),
            "--max-depth 3 stops a run (after 3 levels)".to_string(),
        ),
        (
            with(Some(after(2)), None),
            format!("--max-states {} stops a run (after 2 levels)", after(2)),
        ),
    ] {
        let e = resumed(&m, &again, 2, &dir.0).unwrap_err().to_string();
        assert!(
            e.ends_with(&format!(
                "already holds 6 levels ({} states), past where {limit}; resume with a larger limit or none",
                after(6)
            )),
            "{e}"
        );
    }
    same(
        &resumed(&m, &CheckOptions::default(), 2, &dir.0)
            .unwrap()
            .outcome,
        &reference,
        "after the refusals",
    );
}

/// A fresh run in a work directory that holds a checkpoint is refused: it would
/// rewrite the parent logs from their start, and a run resumed from the checkpoint
/// after it failed to rebuild its counterexample ("the parent logs ... may be
/// damaged"; the CLI looked for the checkpoint itself, before it held the work
/// directory's lock). The checkpoint still resumes to the uninterrupted outcome.
#[test]
fn a_fresh_run_over_a_checkpoint_is_refused_and_leaves_it_resumable() {
    let m = common_workdir::graph();
    let options = CheckOptions::default();
    let reference = sequential::check(&m, &options).unwrap();
    let dir = WorkDir::new("fresh-over");
    interrupted_at(&m, &options, 3, &dir.0, false, 3_000);
    for workers in [3, 2] {
        let config = engine_config(&m, workers, &plain_run(), &dir.0, false);
        let e = check(&m, &options, &config).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} holds a checkpoint: resume it with --resume {}, or choose another --workdir",
                dir.0.display(),
                dir.0.display()
            )
        );
    }
    let got = resumed(&m, &options, 3, &dir.0).unwrap();
    same(&got.outcome, &reference, "resumed after the refusals");
}
