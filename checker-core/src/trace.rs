//! Counterexample traces: rebuilt as a chain of fingerprints by an engine, then
//! replayed through the model, which both validates the chain and recovers the states
//! and action labels to print.

use serde::Serialize;
use std::fmt;

use crate::fingerprint::{fingerprint, Fingerprint};
use crate::model::Model;

/// One state of a trace and the action that led to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// The action taken into this state; `None` for the initial state.
    pub action: Option<String>,
    /// The model's rendering of the state.
    pub state: String,
    /// The state's fingerprint.
    pub fingerprint: Fingerprint,
}

/// A path from an initial state, one step per state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The states in order; the first is initial.
    pub steps: Vec<TraceStep>,
}

impl Trace {
    /// Number of transitions (states minus one).
    pub fn transitions(&self) -> usize {
        self.steps.len().saturating_sub(1)
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            let label = step.action.as_deref().unwrap_or("Initial state");
            writeln!(f, "State {}: <{}>", i + 1, label)?;
            for line in step.state.lines() {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}

/// A fingerprint chain that the model does not reproduce: an engine bug or a
/// nondeterministic model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplayError {
    /// The chain was empty.
    #[error("empty counterexample")]
    Empty,
    /// No initial state has the first fingerprint.
    #[error("no initial state has fingerprint {0:#018x}")]
    NoInitialState(Fingerprint),
    /// No successor of step `step` has the next fingerprint.
    #[error("step {step}: no successor has fingerprint {fingerprint:#018x}")]
    NoSuccessor {
        /// Index of the state whose successors were searched.
        step: usize,
        /// The fingerprint looked for.
        fingerprint: Fingerprint,
    },
}

/// Replays `chain` (fingerprints from an initial state to the last state) through
/// `model`. Where several successors match, the first in the model's order is taken,
/// so the result is deterministic. Returns the trace and the last state.
pub fn replay<M: Model>(
    model: &M,
    chain: &[Fingerprint],
) -> Result<(Trace, M::State), ReplayError> {
    let (&first, rest) = chain.split_first().ok_or(ReplayError::Empty)?;
    let mut buf = Vec::new();
    let mut current: Option<M::State> = None;
    model.initial_states(&mut |s| {
        if current.is_none() {
            buf.clear();
            model.pack(s, &mut buf);
            if fingerprint(&buf) == first {
                current = Some(model.unpack(&buf));
            }
        }
    });
    let mut state = current.ok_or(ReplayError::NoInitialState(first))?;
    let mut steps = vec![TraceStep {
        action: None,
        state: model.render(&state),
        fingerprint: first,
    }];
    for (i, &target) in rest.iter().enumerate() {
        let mut found = None;
        model.successors(&state, &mut |action, s| {
            if found.is_none() {
                buf.clear();
                model.pack(s, &mut buf);
                if fingerprint(&buf) == target {
                    found = Some((action, model.unpack(&buf)));
                }
            }
        });
        let (action, next) = found.ok_or(ReplayError::NoSuccessor {
            step: i,
            fingerprint: target,
        })?;
        state = next;
        steps.push(TraceStep {
            action: Some(model.action_label(action)),
            state: model.render(&state),
            fingerprint: target,
        });
    }
    Ok((Trace { steps }, state))
}
