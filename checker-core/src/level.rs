//! Errors found while expanding one BFS level, and the deterministic choice of which
//! one to report, shared by every engine so they all print the same counterexample.

use crate::fingerprint::Fingerprint;
use crate::model::Model;
use crate::outcome::{Violation, ViolationKind};
use crate::trace::{replay, ReplayError};

/// The errors seen while expanding level `d`: deadlock states at depth `d` and
/// invariant violations among the new states at depth `d + 1` (or, for the initial
/// level, among the initial states themselves). Only the lowest fingerprint of each
/// kind is kept, which makes the choice independent of exploration order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelErrors {
    /// Lowest fingerprint of a deadlock state.
    pub deadlock: Option<Fingerprint>,
    /// Lowest fingerprint of a state violating an invariant, with the index of the first
    /// invariant it violates.
    pub invariant: Option<(Fingerprint, u32)>,
}

impl LevelErrors {
    /// Records a deadlock state.
    #[inline]
    pub fn note_deadlock(&mut self, fp: Fingerprint) {
        if self.deadlock.is_none_or(|d| fp < d) {
            self.deadlock = Some(fp);
        }
    }

    /// Records a state violating invariant `index`.
    #[inline]
    pub fn note_invariant(&mut self, fp: Fingerprint, index: u32) {
        if self.invariant.is_none_or(|(f, _)| fp < f) {
            self.invariant = Some((fp, index));
        }
    }

    /// Combines the errors two workers saw in the same level.
    pub fn merge(&mut self, other: &LevelErrors) {
        if let Some(fp) = other.deadlock {
            self.note_deadlock(fp);
        }
        if let Some((fp, i)) = other.invariant {
            self.note_invariant(fp, i);
        }
    }

    /// Whether any error was seen.
    pub fn any(&self) -> bool {
        self.deadlock.is_some() || self.invariant.is_some()
    }

    /// The error to report: a deadlock at depth `d` is shallower than an invariant
    /// violation at depth `d + 1`, so it wins.
    pub fn choose(&self) -> Option<(Fingerprint, ViolationKindIndex)> {
        if let Some(fp) = self.deadlock {
            return Some((fp, ViolationKindIndex::Deadlock));
        }
        self.invariant
            .map(|(fp, i)| (fp, ViolationKindIndex::Invariant(i)))
    }
}

/// A violation kind before invariant names are looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKindIndex {
    /// A deadlock state.
    Deadlock,
    /// Invariant with this index.
    Invariant(u32),
}

/// Why a rebuilt counterexample was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CounterexampleError {
    /// The fingerprint chain does not replay.
    #[error("counterexample does not replay: {0}")]
    Replay(#[from] ReplayError),
    /// The replayed last state does not show the claimed error.
    #[error("replayed last state does not show the reported {0}")]
    NotAnError(&'static str),
}

/// Replays `chain` through the model and checks that its last state really shows the
/// error, then packages the violation.
pub fn build_violation<M: Model>(
    model: &M,
    kind: ViolationKindIndex,
    chain: &[Fingerprint],
) -> Result<Violation, CounterexampleError> {
    let (trace, last) = replay(model, chain)?;
    let kind = match kind {
        ViolationKindIndex::Deadlock => {
            let mut any = false;
            model.successors(&last, &mut |_, _| any = true);
            if any {
                return Err(CounterexampleError::NotAnError("deadlock"));
            }
            ViolationKind::Deadlock
        }
        ViolationKindIndex::Invariant(i) => {
            if model.check_invariant(i as usize, &last) {
                return Err(CounterexampleError::NotAnError("invariant violation"));
            }
            ViolationKind::Invariant(model.invariant_names()[i as usize].clone())
        }
    };
    Ok(Violation {
        kind,
        fingerprint: *chain.last().expect("replay accepted a non-empty chain"),
        trace,
    })
}
