//! Expansion sharing: a worker that has expanded its own frontier takes over part of a
//! slower worker's. The slow worker here is made slow by the model: expanding a state
//! that worker 0 owns takes a busy-wait. The answers must stay the sequential checker's
//! (counts, level sizes, counterexample), with and without sharing, and through
//! interrupts that stop a level part-way while shares are being expanded.

mod common_graph;
mod common_outcome;

use checker_core::{fingerprint, sequential, CheckOptions, Model, Verdict};
use checker_numa::checkpoint::RunIdentity;
use checker_numa::partition::owner_of;
use checker_numa::topology::Topology;
use checker_numa::{check, EngineConfig, ExpansionSharing, Persistence, Telemetry};
use common_graph::{HookedGraph, RandomGraph};
use common_outcome::same;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `RandomGraph`, except that expanding a state owned by worker 0 (of `workers`)
/// busy-waits `delay_us` microseconds first, as if worker 0 ran on a slower core.
fn slow_model(
    workers: usize,
    bad: Option<u64>,
    delay_us: u64,
) -> HookedGraph<impl Fn(&RandomGraph, u64) + Sync> {
    let delay = Duration::from_micros(delay_us);
    HookedGraph::new(
        RandomGraph {
            bad,
            ..RandomGraph::new(20_000, 3, 5)
        },
        move |graph: &RandomGraph, s: u64| {
            let mut bytes = Vec::new();
            graph.pack(&s, &mut bytes);
            if owner_of(fingerprint(&bytes), workers) == 0 {
                let start = Instant::now();
                while start.elapsed() < delay {
                    std::hint::spin_loop();
                }
            }
        },
    )
}

fn config(workers: usize, share: bool) -> EngineConfig {
    EngineConfig {
        workers,
        pin: false,
        batch_bytes: 512,
        share_expansion: ExpansionSharing::forced(share),
        ..EngineConfig::default()
    }
}

/// Shares handed out by each worker equal, in total, those taken by the others, and
/// every expansion is counted once.
fn shares_balance(t: &Telemetry) -> (u64, u64) {
    let shared: u64 = t.workers.iter().map(|w| w.states_shared).sum();
    let taken: u64 = t.workers.iter().map(|w| w.states_taken).sum();
    assert_eq!(shared, taken, "states handed out against states taken");
    (t.workers[0].states_shared, taken)
}

#[test]
fn idle_workers_expand_the_slow_workers_states_with_the_same_answers() {
    for workers in [2, 4] {
        let m = slow_model(workers, None, 20);
        let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
        assert_eq!(reference.verdict, Verdict::Holds);
        assert!(reference.distinct > 10_000, "{}", reference.distinct);

        let shared = check(&m, &CheckOptions::default(), &config(workers, true)).unwrap();
        same(
            &shared.outcome,
            &reference,
            &format!("{workers} workers sharing"),
        );
        let (from_slow, taken) = shares_balance(&shared.telemetry);
        // Worker 0 has a quarter (at 4) or half (at 2) of the states, each 20 µs
        // slower to expand: the others finish first and take some of its states.
        assert!(
            from_slow > 200,
            "{workers} workers: worker 0 handed out {from_slow} states (all: {taken})"
        );
        let expanded: u64 = shared.telemetry.workers.iter().map(|w| w.expanded).sum();
        assert_eq!(expanded, reference.distinct, "every state expanded once");
        // The fast workers get hundreds of states ahead of worker 0 within a level
        // and ask it for shares before their own frontiers are done (pacing).
        let paced: u64 = shared.telemetry.workers.iter().map(|w| w.paced_asks).sum();
        assert!(paced > 0, "{workers} workers: no request while pacing");
        assert!(shared.telemetry.workers[0].expanded < shared.telemetry.workers[0].owned);

        let alone = check(&m, &CheckOptions::default(), &config(workers, false)).unwrap();
        same(
            &alone.outcome,
            &reference,
            &format!("{workers} workers alone"),
        );
        assert_eq!(shares_balance(&alone.telemetry), (0, 0));
        let asked: u64 = alone.telemetry.workers.iter().map(|w| w.shares_asked).sum();
        assert_eq!(asked, 0, "requests without sharing");
        for w in &alone.telemetry.workers {
            assert_eq!(w.expanded, w.owned, "worker {} without sharing", w.worker);
        }
    }
}

/// By default (`Auto`) the workers share expansion when each has a CPU of its own and
/// not when they outnumber the CPUs: the plan decides, here from a given topology of 8
/// or of 2 CPUs (pinning off, so the CPUs need not exist), whatever the machine.
#[test]
fn sharing_by_default_only_where_each_worker_has_a_cpu() {
    let workers = 4;
    let m = slow_model(workers, None, 20);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    for (cpus, sharing, shared) in [
        (8, ExpansionSharing::Auto, true),
        (2, ExpansionSharing::Auto, false),
        (2, ExpansionSharing::Always, true),
        (8, ExpansionSharing::Never, false),
    ] {
        let c = EngineConfig {
            topology: Some(Topology::single_node((0..cpus).collect())),
            share_expansion: sharing,
            ..config(workers, true)
        };
        let got = check(&m, &CheckOptions::default(), &c).unwrap();
        let at = format!("{sharing:?} on {cpus} CPUs");
        same(&got.outcome, &reference, &at);
        assert_eq!(got.plan.oversubscribed, cpus < workers, "{at}");
        assert_eq!(got.expansion_shared, shared, "{at}");
        let (_, taken) = shares_balance(&got.telemetry);
        let asked: u64 = got.telemetry.workers.iter().map(|w| w.shares_asked).sum();
        if shared {
            // Worker 0's states take 20 us more each: the others take some.
            assert!(taken > 0 && asked > 0, "{at}: {taken} taken, {asked} asks");
        } else {
            assert_eq!((taken, asked), (0, 0), "{at}");
        }
    }
}

/// Requests and answers travel through the same rings as states. With rings of one
/// message, at 8 workers on 2 cores, sends wait for room all the time, and requests
/// that arrive during such a wait must still be answered: one left unanswered stalls
/// the level for good (this test hung that way once). The answers stay the same.
/// Worker 0 polls its inbox only every 64 slow expansions, so the others mostly wait
/// on their rings to it and rarely run out of work early: requests happen, shares
/// seldom do.
#[test]
fn requests_through_rings_of_one_message_are_all_answered() {
    let m = slow_model(8, Some(19_997), 100);
    let reference = sequential::check(&m.graph, &CheckOptions::default()).unwrap();
    let tight = EngineConfig {
        ring_capacity: 1,
        ..config(8, true)
    };
    let got = check(&m, &CheckOptions::default(), &tight).unwrap();
    same(&got.outcome, &reference, "8 workers, rings of one message");
    shares_balance(&got.telemetry);
    let asked: u64 = got.telemetry.workers.iter().map(|w| w.shares_asked).sum();
    assert!(asked > 0, "no worker asked for a share");
}

#[test]
fn shared_expansion_keeps_the_counterexample() {
    // Several bad states, so that some trace runs through states whose successors were
    // generated by a worker other than their owner (parent references then name the
    // owner's log from another worker).
    let mut taken = 0;
    let mut traces = 0;
    for bad in [19_997, 12_345, 7_777, 3_001, 15_015, 9_999, 4_242, 17_171] {
        // Worker 0 is so slow that worker 1 expands a good part of its states in
        // every level, not only at the level's end.
        let m = slow_model(2, Some(bad), 100);
        let reference = sequential::check(&m.graph, &CheckOptions::default()).unwrap();
        let Some(violation) = reference.violation() else {
            // Not every number is a reachable state of the graph.
            continue;
        };
        traces += 1;
        let steps = violation.trace.steps.len();
        assert!(steps > 3, "{bad}: a trace of {steps} steps");
        let got = check(&m, &CheckOptions::default(), &config(2, true)).unwrap();
        same(&got.outcome, &reference, &format!("bad state {bad}"));
        taken += got.telemetry.workers[1].states_taken;
    }
    assert!(traces >= 4, "only {traces} of the bad states are reachable");
    assert!(taken > 0, "worker 1 never expanded a share");
}

/// Interrupts at random moments (a timer) stop levels part-way while shares are being
/// expanded; the chain of resumed runs still ends with the uninterrupted answers.
#[test]
fn interrupts_during_shared_expansion_resume_to_the_same_answers() {
    // Worker 0 is slow enough that, in the 15 ms before each interrupt, worker 1 has
    // expanded its part of the level and is expanding shares of worker 0's.
    let m = slow_model(2, Some(19_997), 50);
    let reference = sequential::check(&m.graph, &CheckOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("checker-sharing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let flag = Arc::new(AtomicBool::new(false));
    let mut resume = false;
    let mut stops = 0;
    let mut taken = 0;
    let last = loop {
        flag.store(false, Ordering::SeqCst);
        let c = EngineConfig {
            persistence: Some(Persistence {
                workdir: dir.clone(),
                checkpoint_every: None,
                resume,
                identity: RunIdentity {
                    model_name: m.name(),
                    model_spec: vec!["slow-owner".into()],
                    model_digest: None,
                },
                lock: None,
            }),
            ..config(2, true)
        };
        let timer_flag = flag.clone();
        let timer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(15));
            timer_flag.store(true, Ordering::SeqCst);
        });
        let options = CheckOptions {
            interrupt: Some(&flag),
            ..CheckOptions::default()
        };
        let got = check(&m, &options, &c).unwrap();
        timer.join().unwrap();
        taken += shares_balance(&got.telemetry).1;
        match got.outcome.verdict {
            Verdict::Partial { .. } => {
                stops += 1;
                resume = true;
                assert!(stops < 1_000, "no progress across resumes");
            }
            _ => break got,
        }
    };
    assert!(stops >= 2, "{stops} stops");
    assert!(taken > 0, "no share was expanded in any segment");
    same(&last.outcome, &reference, "after the resumed runs");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A level of fewer states than a worker must have left to be asked for a share
/// (`HELP_MIN_LEFT`, 96) has nothing to share: a worker whose frontier is done goes
/// straight to its marker instead of waiting, level after level, for every other worker
/// to begin the level first. So on a chain, one state a level, no worker is ever idle
/// for a share, with sharing on.
#[test]
fn levels_too_small_to_share_are_not_waited_on_for_shares() {
    let chain = fixtures::grid::Grid::new(1, 2_000).unwrap();
    let reference = sequential::check(&chain, &CheckOptions::default()).unwrap();
    for workers in [2, 3] {
        let got = check(&chain, &CheckOptions::default(), &config(workers, true)).unwrap();
        same(&got.outcome, &reference, &format!("{workers} workers"));
        for w in &got.telemetry.workers {
            assert_eq!(
                (w.shares_asked, w.idle_share_answers_s),
                (0, 0.0),
                "worker {} of {workers} asked for shares or waited for one",
                w.worker
            );
        }
    }
}
