//! A panic in one worker (here in the model's own code) ends the whole run with an
//! error naming that worker. The other workers wait for messages the dead one will
//! never send; without being told, they would wait forever and the run would hang.

mod common_graph;

use checker_core::{fingerprint, sequential, Action, CheckOptions, Model};
use checker_numa::partition::owner_of;
use checker_numa::{check, EngineConfig, EngineError};
use common_graph::RandomGraph;
use std::sync::mpsc;
use std::time::Duration;

/// `RandomGraph`, except that generating the successors of state `fatal` panics.
struct PanicsAt {
    graph: RandomGraph,
    fatal: u64,
}

impl Model for PanicsAt {
    type State = u64;
    fn name(&self) -> String {
        self.graph.name()
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u64)) {
        self.graph.initial_states(emit)
    }
    fn successors(&self, s: &u64, emit: &mut dyn FnMut(Action, &u64)) {
        assert_ne!(*s, self.fatal, "the model fails on state {s}");
        self.graph.successors(s, emit)
    }
    fn invariant_names(&self) -> Vec<String> {
        self.graph.invariant_names()
    }
    fn check_invariant(&self, i: usize, s: &u64) -> bool {
        self.graph.check_invariant(i, s)
    }
    fn action_label(&self, a: Action) -> String {
        self.graph.action_label(a)
    }
    fn pack(&self, s: &u64, out: &mut Vec<u8>) {
        self.graph.pack(s, out)
    }
    fn unpack(&self, b: &[u8]) -> u64 {
        self.graph.unpack(b)
    }
    fn render(&self, s: &u64) -> String {
        self.graph.render(s)
    }
}

fn graph() -> RandomGraph {
    RandomGraph {
        size: 20_000,
        branching: 3,
        seed: 5,
        sinks: 0,
        bad: None,
    }
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
            let model = PanicsAt {
                graph: graph(),
                fatal,
            };
            let config = EngineConfig {
                workers,
                pin: false,
                share_expansion,
                ..EngineConfig::default()
            };
            let run = check(&model, &CheckOptions::default(), &config);
            let _ = done.send(run.map(|o| o.outcome.distinct));
        });
        let at = format!("{workers} workers, sharing {share_expansion}");
        let run = outcome
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{at}: the run hung after a worker panicked"));
        let Err(EngineError::WorkerPanicked(blamed)) = run else {
            panic!("{at}: {run:?} instead of a worker's panic");
        };
        // Without sharing only its owner expands the failing state, and the error names
        // that worker, not one that stopped because of it.
        if !share_expansion {
            assert_eq!(blamed, owner_of(fingerprint(&fatal_bytes), workers), "{at}");
        }
    }
}
