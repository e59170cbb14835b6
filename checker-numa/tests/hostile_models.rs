//! Models and options that a tool linking the library may hand the engines and the
//! bundled models never do: no initial states, duplicate and violating ones, zero
//! limits, an interrupt set before the run, successors in a different order at each
//! call, a panic in any of the model's methods or in the progress callback, states
//! wider than a batch or a frontier chunk, a huge fan-out through rings of one
//! message, huge batch sizes, and runs from several threads at once. The parallel
//! engine must give the sequential checker's outcome, counterexample included, or,
//! for a panic, end the run (with an error, or the panic on the caller's thread)
//! rather than hang or abort.

mod common_graph;
mod common_guards;
mod common_outcome;

use checker_core::{
    sequential, Action, CheckOptions, Model, Outcome, Progress, StopReason, Verdict, ViolationKind,
};
use checker_numa::topology::{Topology, TopologySource};
use checker_numa::{check, EngineConfig, EngineError, Persistence};
use common_graph::mix;
use common_guards::{identity, Watchdog, WorkDir};
use common_outcome::same;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Where a [`Hostile`] model panics: nowhere, in `initial_states`, or in a method
/// called with the given state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    Nowhere,
    Initial,
    Successors(u64),
    Pack(u64),
    Unpack(u64),
    Invariant(u64),
    Constraint(u64),
    Render(u64),
}

/// A pseudo-random graph over `0..size`, `branching` successors a state, with the
/// knobs below.
struct Hostile {
    size: u64,
    branching: u64,
    seed: u64,
    /// Emitted in this order, duplicates included.
    initials: Vec<u64>,
    /// States that violate the last invariant.
    bad: Vec<u64>,
    panic_at: At,
    /// Whether successors come in an order that changes from call to call (rotated
    /// by a counter shared by every thread).
    shuffled: bool,
    calls: AtomicU64,
    /// Bytes of padding after the 8 bytes of a packed state.
    pad: usize,
    /// Number of invariants; only the last can be violated.
    invariants: usize,
}

impl Hostile {
    fn new(size: u64, branching: u64, seed: u64) -> Self {
        Hostile {
            size,
            branching,
            seed,
            initials: vec![0],
            bad: Vec::new(),
            panic_at: At::Nowhere,
            shuffled: false,
            calls: AtomicU64::new(0),
            pad: 0,
            invariants: 1,
        }
    }
    /// Panics if the model is to panic `at` this call.
    fn fail(&self, at: At) {
        if self.panic_at == at {
            panic!("the model fails at {at:?}");
        }
    }
}

impl Model for Hostile {
    type State = u64;
    fn name(&self) -> String {
        format!("hostile {} {} {}", self.size, self.branching, self.seed)
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u64)) {
        self.fail(At::Initial);
        for s in &self.initials {
            emit(s);
        }
    }
    fn successors(&self, s: &u64, emit: &mut dyn FnMut(Action, &u64)) {
        self.fail(At::Successors(*s));
        let rot = if self.shuffled {
            self.calls.fetch_add(1, Ordering::Relaxed) % self.branching.max(1)
        } else {
            0
        };
        for j in 0..self.branching {
            let k = (j + rot) % self.branching;
            let t = mix(s.wrapping_mul(31).wrapping_add(k) ^ self.seed) % self.size;
            emit(Action(k as u32), &t);
        }
    }
    fn invariant_names(&self) -> Vec<String> {
        (0..self.invariants).map(|i| format!("Inv{i}")).collect()
    }
    fn check_invariant(&self, i: usize, s: &u64) -> bool {
        self.fail(At::Invariant(*s));
        !(i + 1 == self.invariants && self.bad.contains(s))
    }
    fn within_constraint(&self, s: &u64) -> bool {
        self.fail(At::Constraint(*s));
        true
    }
    fn action_label(&self, a: Action) -> String {
        format!("Edge{}\nsecond line", a.0)
    }
    fn pack(&self, s: &u64, out: &mut Vec<u8>) {
        self.fail(At::Pack(*s));
        out.extend_from_slice(&s.to_le_bytes());
        out.resize(out.len() + self.pad, 0xAB);
    }
    fn unpack(&self, b: &[u8]) -> u64 {
        let s = u64::from_le_bytes(b[..8].try_into().unwrap());
        self.fail(At::Unpack(s));
        s
    }
    fn render(&self, s: &u64) -> String {
        self.fail(At::Render(*s));
        format!("x = {s}")
    }
}

/// An unpinned configuration of `workers` workers, otherwise the default.
fn config(workers: usize) -> EngineConfig {
    EngineConfig {
        workers,
        pin: false,
        ..EngineConfig::default()
    }
}

/// 1, 2, 3 and 8 workers, the last with rings of one message and one-state batches.
fn configs() -> Vec<EngineConfig> {
    vec![
        config(1),
        config(2),
        config(3),
        EngineConfig {
            batch_bytes: 1,
            ring_capacity: 1,
            ..config(8)
        },
    ]
}

/// Checks `m` sequentially and under each of `configs` (with a watchdog): every
/// outcome must be the sequential one, which is returned.
fn compare(m: &Hostile, options: &CheckOptions, configs: &[EngineConfig], label: &str) -> Outcome {
    let reference = sequential::check(m, options).expect("the sequential checker");
    for c in configs {
        let at = format!(
            "{label}, {} workers, batch {}, ring {}",
            c.workers, c.batch_bytes, c.ring_capacity
        );
        let _watchdog = Watchdog::start(at.clone());
        let got = check(m, options, c).unwrap_or_else(|e| panic!("{at}: engine error {e}"));
        same(&got.outcome, &reference, &at);
    }
    reference
}

/// The state reached from 0 by taking the first successor `steps` times.
fn first_descendant(m: &Hostile, steps: usize) -> u64 {
    let mut s = 0;
    for _ in 0..steps {
        let mut first = None;
        m.successors(&s, &mut |_, &t| {
            first.get_or_insert(t);
        });
        s = first.expect("a successor");
    }
    s
}

/// `f`'s result, under a [`Watchdog`] naming `label`: a hang aborts the test run and
/// says which run hung.
fn within_two_minutes<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let _watchdog = Watchdog::start(label.to_string());
    f()
}

#[test]
fn no_initial_states_hold_with_nothing_explored() {
    let mut m = Hostile::new(100, 2, 1);
    m.initials.clear();
    let r = compare(
        &m,
        &CheckOptions::default(),
        &configs(),
        "no initial states",
    );
    assert_eq!((r.distinct, r.generated, r.depth), (0, 0, 0));
    assert_eq!(r.verdict, Verdict::Holds);
}

/// Duplicate initial states, two of them violating the last of three invariants:
/// the violation is reported at depth 1 whatever the limits, with a one-state trace.
#[test]
fn violating_and_duplicate_initial_states_under_any_limit() {
    let mut m = Hostile::new(1000, 2, 1);
    m.initials = vec![5, 5, 7, 9, 7, 11];
    m.bad = vec![7, 11];
    m.invariants = 3;
    for options in [
        CheckOptions::default(),
        CheckOptions {
            max_depth: Some(0),
            ..CheckOptions::default()
        },
        CheckOptions {
            max_depth: Some(1),
            ..CheckOptions::default()
        },
        CheckOptions {
            max_states: Some(0),
            ..CheckOptions::default()
        },
    ] {
        let r = compare(&m, &options, &configs(), &format!("{options:?}"));
        assert_eq!((r.distinct, r.generated, r.depth), (4, 6, 1), "{options:?}");
        let v = r.violation().expect("an initial state is bad");
        assert_eq!(v.kind, ViolationKind::Invariant("Inv2".into()));
        assert_eq!(v.trace.steps.len(), 1);
        let bad = &v.trace.steps[0].state;
        assert!(bad == "x = 7" || bad == "x = 11", "{bad}");
    }
}

#[test]
fn zero_and_one_limits_agree() {
    let m = Hostile::new(1000, 2, 1);
    let limited = |max_depth, max_states| CheckOptions {
        max_depth,
        max_states,
        ..CheckOptions::default()
    };
    for (options, sizes, reason) in [
        (limited(Some(0), None), vec![1], StopReason::MaxDepth),
        (limited(Some(1), None), vec![1], StopReason::MaxDepth),
        (limited(Some(2), None), vec![1, 1], StopReason::MaxDepth),
        (limited(None, Some(0)), vec![1], StopReason::MaxStates),
        (limited(None, Some(1)), vec![1], StopReason::MaxStates),
    ] {
        let r = compare(&m, &options, &configs(), &format!("{options:?}"));
        assert_eq!(r.level_sizes, sizes, "{options:?}");
        assert_eq!(r.verdict, Verdict::Partial { reason }, "{options:?}");
    }
}

/// An interrupt flag already set: both engines store the initial states and stop.
#[test]
fn an_interrupt_set_before_the_run_stops_both_engines_after_the_initial_states() {
    let m = Hostile::new(1000, 2, 1);
    let flag = AtomicBool::new(true);
    let options = CheckOptions {
        interrupt: Some(&flag),
        ..CheckOptions::default()
    };
    let r = compare(&m, &options, &configs(), "interrupted");
    assert_eq!((r.distinct, r.generated, r.depth), (1, 1, 1));
    assert_eq!(
        r.verdict,
        Verdict::Partial {
            reason: StopReason::Interrupted
        }
    );
}

/// Successors in another order at each call (a contract breach the engines absorb:
/// parents are chosen by fingerprint), labels with a newline.
#[test]
fn successors_in_a_changing_order_give_the_same_counterexample() {
    let mut m = Hostile::new(20_000, 3, 2);
    m.shuffled = true;
    m.bad = vec![4242];
    let r = compare(&m, &CheckOptions::default(), &configs(), "shuffled");
    let v = r.violation().expect("4242 is reachable");
    assert_eq!(v.trace.steps.last().unwrap().state, "x = 4242");
    let label = v.trace.steps[1].action.as_deref().unwrap();
    assert!(label.ends_with("\nsecond line"), "{label}");
}

/// A panic in any of the model's methods, at 1 to 8 workers, with rings of one
/// message and one-state batches too: the run ends with an error naming a worker,
/// never a hang.
#[test]
fn a_panic_anywhere_in_the_model_ends_the_run() {
    let fatal = first_descendant(&Hostile::new(5000, 3, 3), 5);
    let places = [
        At::Initial,
        At::Pack(0),
        At::Successors(fatal),
        At::Pack(fatal),
        At::Unpack(fatal),
        At::Invariant(fatal),
        At::Constraint(fatal),
    ];
    for at in places {
        for (workers, batch_bytes, ring_capacity) in
            [(1, 8192, 16), (2, 1, 1), (8, 1, 1), (8, 8192, 16)]
        {
            let label = format!(
                "panic at {at:?}, {workers} workers, batch {batch_bytes}, ring {ring_capacity}"
            );
            let run = within_two_minutes(&label, move || {
                let mut m = Hostile::new(5000, 3, 3);
                m.panic_at = at;
                let c = EngineConfig {
                    batch_bytes,
                    ring_capacity,
                    ..config(workers)
                };
                check(&m, &CheckOptions::default(), &c).map(|o| o.outcome)
            });
            assert!(
                matches!(&run, Err(EngineError::WorkerPanicked { worker, message }) if *worker < workers && message.starts_with("the model fails at ")),
                "{label}: {run:?}"
            );
        }
    }
}

/// A model of unbounded depth: state `n` has the successors `n + 1` and `n + 2`.
struct Unbounded;

impl Model for Unbounded {
    type State = u64;
    fn name(&self) -> String {
        "unbounded".into()
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u64)) {
        emit(&0)
    }
    fn successors(&self, s: &u64, emit: &mut dyn FnMut(Action, &u64)) {
        emit(Action(1), &(s + 1));
        emit(Action(2), &(s + 2));
    }
    fn pack(&self, s: &u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&s.to_le_bytes())
    }
    fn unpack(&self, b: &[u8]) -> u64 {
        u64::from_le_bytes(b.try_into().unwrap())
    }
    fn render(&self, s: &u64) -> String {
        s.to_string()
    }
}

/// A progress callback that panics ends the run with its panic on the caller's
/// thread, as in the sequential checker. The callback runs on the driver thread: its
/// panic used to leave the workers searching on, so that the run of an unbounded model
/// never returned (and a bounded one returned the panic only once fully explored).
/// The sequential checker, with levels of two states, never called the callback.
#[test]
fn a_panicking_progress_callback_ends_an_unbounded_run() {
    for workers in [1, 2, 3] {
        let label = format!("progress panic, {workers} workers");
        let caught = within_two_minutes(&label, move || {
            let progress = |_: &Progress| panic!("the progress callback fails");
            let options = CheckOptions {
                progress: Some(&progress),
                progress_interval: Duration::ZERO,
                ..CheckOptions::default()
            };
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                check(&Unbounded, &options, &config(workers)).map(|o| o.outcome)
            }));
            run.map_err(|p| p.downcast_ref::<&str>().map(|s| s.to_string()))
        });
        let Err(message) = caught else {
            panic!("{label}: {caught:?} instead of the callback's panic");
        };
        assert_eq!(
            message.as_deref(),
            Some("the progress callback fails"),
            "{label}"
        );
    }
    // The sequential checker does the same (after 4,096 states).
    let caught = within_two_minutes("progress panic, sequential", || {
        let progress = |_: &Progress| panic!("the progress callback fails");
        let options = CheckOptions {
            progress: Some(&progress),
            progress_interval: Duration::ZERO,
            ..CheckOptions::default()
        };
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
            sequential::check(&Unbounded, &options).map(|o| o.distinct)
        }));
        run.map_err(|p| p.downcast_ref::<&str>().map(|s| s.to_string()))
    });
    assert_eq!(
        caught.unwrap_err().as_deref(),
        Some("the progress callback fails")
    );
}

/// A panic while the counterexample is replayed (in `render`, on the caller's
/// thread) reaches the caller, after the workers have ended.
#[test]
fn a_panic_while_rendering_the_counterexample_reaches_the_caller() {
    let mut m = Hostile::new(1000, 2, 1);
    m.bad = vec![17, 500, 900, 999];
    m.panic_at = At::Render(0);
    let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
        check(&m, &CheckOptions::default(), &config(2)).map(|o| o.outcome.distinct)
    }));
    assert!(run.is_err(), "{run:?}");
}

/// One state with 100,000 successors, sent through rings of one message in batches
/// of one state (or five bytes), and half of them leading back to it.
#[test]
fn a_huge_fan_out_through_rings_of_one_message() {
    struct Fan;
    impl Model for Fan {
        type State = u32;
        fn name(&self) -> String {
            "fan".into()
        }
        fn initial_states(&self, emit: &mut dyn FnMut(&u32)) {
            emit(&0)
        }
        fn successors(&self, s: &u32, emit: &mut dyn FnMut(Action, &u32)) {
            if *s == 0 {
                for i in 1..=100_000u32 {
                    emit(Action(i), &i)
                }
            } else if s.is_multiple_of(2) {
                emit(Action(0), &0)
            }
        }
        fn pack(&self, s: &u32, out: &mut Vec<u8>) {
            out.extend_from_slice(&s.to_le_bytes())
        }
        fn unpack(&self, b: &[u8]) -> u32 {
            u32::from_le_bytes(b.try_into().unwrap())
        }
        fn render(&self, s: &u32) -> String {
            s.to_string()
        }
    }
    let reference = sequential::check(&Fan, &CheckOptions::default()).unwrap();
    assert_eq!(
        (reference.distinct, reference.generated, reference.deadlocks),
        (100_001, 150_001, 50_000)
    );
    for (workers, batch_bytes) in [(1, 1), (2, 1), (8, 1), (3, 5)] {
        let c = EngineConfig {
            batch_bytes,
            ring_capacity: 1,
            ..config(workers)
        };
        let at = format!("fan, {workers} workers, batch {batch_bytes}");
        let _watchdog = Watchdog::start(at.clone());
        let got = check(&Fan, &CheckOptions::default(), &c).unwrap();
        same(&got.outcome, &reference, &at);
    }
    let deadlock = reference.violation().expect("odd states are deadlocks");
    assert_eq!(deadlock.trace.transitions(), 1);
}

/// States of 64 KiB, just over 1 MiB (a frontier chunk) and 3 MiB, in batches of
/// 1,000 bytes through rings of one message.
#[test]
fn states_wider_than_a_batch_and_a_frontier_chunk() {
    for pad in [1 << 16, (1 << 20) + 100, 3 << 20] {
        let mut m = Hostile::new(40, 2, 5);
        m.pad = pad;
        m.bad = vec![39, 20, 30];
        let configs = [1, 2, 3].map(|workers| EngineConfig {
            batch_bytes: 1000,
            ring_capacity: 1,
            ..config(workers)
        });
        let r = compare(
            &m,
            &CheckOptions::default(),
            &configs,
            &format!("pad {pad}"),
        );
        assert_eq!(r.distinct, 7, "pad {pad}");
        assert!(r.violation().is_some(), "pad {pad}");
    }
}

/// Batch sizes up to `usize::MAX`: `batch_bytes + 256` overflowed (a panic in every
/// worker in a debug build), and a batch of `b` bytes allocated and zeroed
/// `min(b, 4 GiB)` at its first state, so that at 2 workers a batch size of 2^40
/// needed 16 GiB for a model of 825 states and the process was killed for memory.
#[test]
fn huge_batch_sizes_run_in_the_memory_their_states_need() {
    let m = Hostile::new(1000, 2, 1);
    let sizes = [
        usize::MAX,
        usize::MAX - 255,
        usize::MAX / 2,
        1 << 40,
        1 << 30,
    ];
    let configs: Vec<_> = sizes
        .iter()
        .flat_map(|&batch_bytes| {
            [1, 2, 8].map(|workers| EngineConfig {
                batch_bytes,
                ..config(workers)
            })
        })
        .collect();
    let r = compare(&m, &CheckOptions::default(), &configs, "huge batches");
    assert_eq!(r.distinct, 825);
}

/// Several checks at once in one process, from threads of their own.
#[test]
fn concurrent_checks_from_several_threads() {
    let m = Hostile::new(50_000, 3, 9);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let m = &m;
    std::thread::scope(|s| {
        let runs: Vec<_> = (2..5)
            .map(|workers| s.spawn(move || check(m, &CheckOptions::default(), &config(workers))))
            .collect();
        for run in runs {
            same(
                &run.join().unwrap().unwrap().outcome,
                &reference,
                "concurrent",
            );
        }
    });
}

/// A panic part-way through a run that checkpoints at every level leaves the work
/// directory unlocked and resumable: the resumed run (with a model that no longer
/// fails) gives the sequential outcome, and a fresh run there gets past the lock.
#[test]
fn a_panic_leaves_the_work_directory_unlocked_and_resumable() {
    let dir = WorkDir::new("hostile-panic");
    let fatal = first_descendant(&Hostile::new(5000, 3, 3), 5);
    let mut m = Hostile::new(5000, 3, 3);
    m.bad = vec![fatal + 1];
    let identity = identity(&m, "hostile", "panic");
    let config = |resume| EngineConfig {
        persistence: Some(Persistence {
            workdir: dir.0.clone(),
            checkpoint_every: Some(Duration::ZERO),
            resume,
            identity: identity.clone(),
            lock: None,
        }),
        ..config(3)
    };
    m.panic_at = At::Successors(fatal);
    let _watchdog = Watchdog::start("panic in a work directory".into());
    let run = check(&m, &CheckOptions::default(), &config(false));
    assert!(
        matches!(run, Err(EngineError::WorkerPanicked { .. })),
        "{:?}",
        run.map(|o| o.outcome)
    );
    m.panic_at = At::Nowhere;
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    assert!(
        dir.0.join("CURRENT").exists(),
        "levels before the panic checkpointed"
    );
    let resumed = check(&m, &CheckOptions::default(), &config(true)).unwrap();
    same(&resumed.outcome, &reference, "resumed after the panic");
    // A fresh run there takes the lock, and is refused for the checkpoint (whose
    // parent logs it would rewrite).
    let fresh = check(&m, &CheckOptions::default(), &config(false)).unwrap_err();
    assert_eq!(
        fresh.to_string(),
        format!(
            "{} holds a checkpoint: resume it with --resume {}, or choose another --workdir",
            dir.0.display(),
            dir.0.display()
        )
    );
}

/// Hand-built topologies: no CPU at all (0 workers then means one), and CPUs the
/// machine does not have, with pinning asked for: the run goes on unpinned.
#[test]
fn topologies_without_cpus_or_with_missing_ones() {
    let mut m = Hostile::new(3000, 3, 4);
    m.bad = vec![2999, 1234];
    let empty = Topology {
        nodes: Vec::new(),
        source: TopologySource::SingleNode,
        cpu_quota: None,
    };
    let missing = Topology::single_node(vec![100_000, 100_001]);
    let configs: Vec<_> = [(&empty, 0), (&empty, 3), (&missing, 0), (&missing, 5)]
        .map(|(topology, workers)| EngineConfig {
            topology: Some(topology.clone()),
            pin: true,
            ..config(workers)
        })
        .to_vec();
    compare(
        &m,
        &CheckOptions::default(),
        &configs,
        "hand-built topology",
    );
}

/// Many invariants, the last one violated: the counterexample names it.
#[test]
fn the_three_hundredth_invariant() {
    let mut m = Hostile::new(3000, 3, 4);
    m.invariants = 300;
    m.bad = vec![1234, 77];
    let r = compare(&m, &CheckOptions::default(), &configs(), "300 invariants");
    let v = r.violation().expect("a bad state is reachable");
    assert_eq!(v.kind, ViolationKind::Invariant("Inv299".into()));
}

/// A progress callback that sets the interrupt flag (a time limit, say) stops a run of
/// an unbounded model in either engine. The sequential checker called the callback
/// only every 4,096 states of one level, so with levels of two states it never did
/// and the run went on for ever.
#[test]
fn a_progress_callback_can_interrupt_an_unbounded_run() {
    let runs: [(&str, usize); 3] = [("sequential", 0), ("parallel", 1), ("parallel", 3)];
    for (engine, workers) in runs {
        let label = format!("{engine}, {workers} workers");
        let outcome = within_two_minutes(&label, move || {
            let flag = AtomicBool::new(false);
            let progress = |_: &Progress| flag.store(true, Ordering::Relaxed);
            let options = CheckOptions {
                progress: Some(&progress),
                progress_interval: Duration::ZERO,
                interrupt: Some(&flag),
                ..CheckOptions::default()
            };
            if workers == 0 {
                sequential::check(&Unbounded, &options).unwrap()
            } else {
                check(&Unbounded, &options, &config(workers))
                    .unwrap()
                    .outcome
            }
        });
        assert_eq!(
            outcome.verdict,
            Verdict::Partial {
                reason: StopReason::Interrupted
            },
            "{label}"
        );
        if workers == 0 {
            // The first call, after 4,096 states gone through.
            assert!(outcome.distinct >= 4096, "{label}: {outcome:?}");
        }
    }
}
