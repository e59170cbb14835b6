//! The Stateright versions of `twophase` and `grid` used by the peer comparison find
//! exactly the states the bundled models give the checker: same distinct and
//! generated counts, so the comparison compares equal work.

#[path = "../benches/peer/grid.rs"]
mod grid;
#[path = "../benches/peer/twophase.rs"]
mod twophase;

use checker_core::{sequential, CheckOptions, Model};
use stateright::Checker;

fn our_counts<M: Model>(model: &M) -> (u64, u64) {
    let out = sequential::check(model, &CheckOptions::default()).expect("the check runs");
    (out.distinct, out.generated)
}

fn stateright_counts<M>(model: M, threads: usize) -> (u64, u64)
where
    M: stateright::Model + Send + Sync + 'static,
    M::State: Clone + std::fmt::Debug + std::hash::Hash + PartialEq + Send + Sync + 'static,
    M::Action: Clone + std::fmt::Debug + PartialEq,
{
    let checker = model.checker().threads(threads).spawn_bfs().join();
    assert!(checker.discoveries().is_empty());
    (
        checker.unique_state_count() as u64,
        checker.state_count() as u64,
    )
}

#[test]
fn twophase_matches_the_bundled_model() {
    for n in 1..=5 {
        let ours = our_counts(&fixtures::TwoPhase::new(n).unwrap());
        assert_eq!(
            stateright_counts(twophase::TwoPhaseSr::new(n), 1),
            ours,
            "twophase {n}"
        );
    }
    let ours = our_counts(&fixtures::TwoPhase::new(5).unwrap());
    assert_eq!(stateright_counts(twophase::TwoPhaseSr::new(5), 2), ours);
}

#[test]
fn grid_matches_the_bundled_model() {
    for (k, d) in [(1, 2), (3, 4), (4, 5), (2, 16)] {
        let ours = our_counts(&fixtures::Grid::new(k, d).unwrap());
        assert_eq!(
            stateright_counts(grid::GridSr::new(k as u32, d), 1),
            ours,
            "grid {k} {d}"
        );
    }
}
