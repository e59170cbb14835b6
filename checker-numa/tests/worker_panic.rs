//! A panic in one worker (here in the model's own code) ends the whole run with an
//! error naming that worker. The other workers wait for messages the dead one will
//! never send; without being told, they would wait forever and the run would hang.

mod common_graph;

use checker_core::{fingerprint, sequential, CheckOptions, Model};
use checker_numa::partition::owner_of;
use checker_numa::{check, EngineConfig, EngineError, ExpansionSharing};
use common_graph::{HookedGraph, RandomGraph};
use std::sync::mpsc;
use std::time::Duration;

fn graph() -> RandomGraph {
    RandomGraph::new(20_000, 3, 5)
}

#[test]
fn a_panicking_worker_ends_the_run_instead_of_hanging_it() {
    let reference = sequential::check(&graph(), &CheckOptions::default()).unwrap();
    assert!(reference.distinct > 10_000, "{}", reference.distinct);
    // A state some levels down (each step takes the first successor), so that every
    // worker is in the search when it fails.
    let mut fatal = 0;
    for _ in 0..6 {
        let mut first = None;
        graph().successors(&fatal, &mut |_, &t| {
            first.get_or_insert(t);
        });
        fatal = first.unwrap();
    }
    let mut fatal_bytes = Vec::new();
    graph().pack(&fatal, &mut fatal_bytes);
    for (workers, share_expansion) in [(2, false), (4, false), (8, false), (2, true), (8, true)] {
        let (done, outcome) = mpsc::channel();
        std::thread::spawn(move || {
            // Generating the successors of state `fatal` panics.
            let model = HookedGraph::new(graph(), |_: &RandomGraph, s: u64| {
                assert_ne!(s, fatal, "the model fails on state {s}");
            });
            let config = EngineConfig {
                workers,
                pin: false,
                share_expansion: ExpansionSharing::forced(share_expansion),
                ..EngineConfig::default()
            };
            let run = check(&model, &CheckOptions::default(), &config);
            let _ = done.send(run.map(|o| o.outcome.distinct));
        });
        let at = format!("{workers} workers, sharing {share_expansion}");
        let run = outcome
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{at}: the run hung after a worker panicked"));
        let Err(EngineError::WorkerPanicked {
            worker: blamed,
            message,
        }) = run
        else {
            panic!("{at}: {run:?} instead of a worker's panic");
        };
        // The model's own message, which the caller would otherwise not see.
        assert!(
            message.contains(&format!("the model fails on state {fatal}")),
            "{at}: {message}"
        );
        // Without sharing only its owner expands the failing state, and the error names
        // that worker, not one that stopped because of it.
        if !share_expansion {
            assert_eq!(blamed, owner_of(fingerprint(&fatal_bytes), workers), "{at}");
        }
    }
}
