//! The "generate only" ceiling: for each given state, unpack it, generate its
//! successors, pack each one, fingerprint it and evaluate the invariants on it, as a
//! checker's worker does, but store nothing, deduplicate nothing and move nothing
//! between threads. That is the most a checker could do on one core for this model;
//! a full check's throughput over this one is the checker's efficiency.

use checker_core::packed::PackedStates;
use checker_core::{fingerprint, Model};

/// What one pass over the states computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generated {
    /// Successors generated.
    pub successors: u64,
    /// XOR of their fingerprints and invariant results, so the work cannot be optimised away.
    pub checksum: u64,
}

/// Generates, packs, fingerprints and checks every successor of every state in `states`.
pub fn generate_only<M: Model>(model: &M, states: &PackedStates) -> Generated {
    let mut out = Generated::default();
    let mut entries = states.iter();
    let Some((_, first)) = entries.next() else {
        return out;
    };
    let invariants = model.invariant_names().len();
    let mut buffer = Vec::with_capacity(model.packed_width().unwrap_or(64));
    // One typed state, refilled in place as the engines do.
    let mut state = model.unpack(first);
    loop {
        model.successors(&state, &mut |_, s| {
            buffer.clear();
            model.pack(s, &mut buffer);
            let mut h = fingerprint(&buffer);
            for i in 0..invariants {
                h ^= u64::from(model.check_invariant(i, s)) << i;
            }
            out.successors += 1;
            out.checksum ^= h;
        });
        match entries.next() {
            Some((_, bytes)) => model.unpack_into(bytes, &mut state),
            None => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reachable::reachable_states;
    use checker_core::{sequential, CheckOptions};
    use fixtures::{Puzzle8, TwoPhase};

    /// Over the whole state space the ceiling generates what a full check generates,
    /// less the initial states.
    #[test]
    fn generates_what_a_full_check_generates() {
        let model = TwoPhase::new(4).unwrap();
        let states = reachable_states(&model, usize::MAX);
        let out = sequential::check(&model, &CheckOptions::default()).unwrap();
        assert_eq!(generate_only(&model, &states).successors + 1, out.generated);
        let model = Puzzle8::new();
        let states = reachable_states(&model, 5000);
        let first = generate_only(&model, &states);
        assert!(first.successors >= 2 * 5000);
        assert_eq!(generate_only(&model, &states), first, "deterministic");
    }
}
