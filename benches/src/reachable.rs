//! Every reachable state of a model, packed into one buffer, found by a plain
//! breadth-first search. The ceiling benchmark replays exactly these states, so it
//! does the same successor work as a full check of the same model.

use std::collections::HashSet;

use checker_core::packed::PackedStates;
use checker_core::{fingerprint, BuildFingerprintHasher, Model};

/// The reachable states of `model` in BFS order (tag = BFS depth), at most `limit`.
pub fn reachable_states<M: Model>(model: &M, limit: usize) -> PackedStates {
    let mut seen: HashSet<u64, BuildFingerprintHasher> = HashSet::default();
    let mut states = PackedStates::new();
    let mut frontier = PackedStates::new();
    let mut buffer = Vec::new();
    model.initial_states(&mut |s| {
        buffer.clear();
        model.pack(s, &mut buffer);
        if seen.len() < limit && seen.insert(fingerprint(&buffer)) {
            frontier.push(0, &buffer);
        }
    });
    while !frontier.is_empty() {
        let mut next = PackedStates::new();
        for (depth, bytes) in frontier.iter() {
            states.push(depth, bytes);
            let state = model.unpack(bytes);
            model.successors(&state, &mut |_, s| {
                buffer.clear();
                model.pack(s, &mut buffer);
                if seen.len() < limit && seen.insert(fingerprint(&buffer)) {
                    next.push(depth + 1, &buffer);
                }
            });
        }
        frontier = next;
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{Grid, TwoPhase};

    #[test]
    fn finds_every_state_once() {
        let model = TwoPhase::new(3).unwrap();
        let states = reachable_states(&model, usize::MAX);
        assert_eq!(states.len() as u64, model.expected_distinct());
        let depths: Vec<u64> = states.iter().map(|(d, _)| d).collect();
        assert!(depths.windows(2).all(|w| w[0] <= w[1]), "BFS order");
    }

    #[test]
    fn stops_at_the_limit() {
        let model = Grid::new(4, 4).unwrap();
        assert_eq!(reachable_states(&model, 100).len(), 100);
    }
}
