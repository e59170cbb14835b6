//! Two-phase commit for Stateright, with exactly the bundled model's state encoding
//! (`fixtures::twophase`: `4N + 3` bits in a `u64`) and its actions in the same order,
//! self-loops included, so both tools generate the same states and the comparison
//! measures the checkers, not the encodings.

use stateright::{Model, Property};

/// Two-phase commit with `rms` resource managers.
#[derive(Clone, Debug)]
pub struct TwoPhaseSr {
    rms: u32,
    tm_prepared_at: u32,
    prepared_msgs_at: u32,
    commit_bit: u64,
    abort_bit: u64,
    done_bit: u64,
}

/// The actions of `TPNext`; the `u8` is the zero-based RM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TwoPhaseAction {
    /// `TMCommit`.
    TmCommit,
    /// `TMAbort`.
    TmAbort,
    /// `TMRcvPrepared(r)`.
    TmRcvPrepared(u8),
    /// `RMPrepare(r)`.
    RmPrepare(u8),
    /// `RMChooseToAbort(r)`.
    RmChooseToAbort(u8),
    /// `RMRcvCommitMsg(r)`.
    RmRcvCommitMsg(u8),
    /// `RMRcvAbortMsg(r)`.
    RmRcvAbortMsg(u8),
}

const WORKING: u64 = 0;
const PREPARED: u64 = 1;
const COMMITTED: u64 = 2;
const ABORTED: u64 = 3;

impl TwoPhaseSr {
    /// The model for `rms` resource managers (1 to 15).
    pub fn new(rms: u32) -> Self {
        assert!((1..=15).contains(&rms), "twophase N must be in 1..=15");
        TwoPhaseSr {
            rms,
            tm_prepared_at: 2 * rms,
            prepared_msgs_at: 3 * rms,
            commit_bit: 1 << (4 * rms),
            abort_bit: 1 << (4 * rms + 1),
            done_bit: 1 << (4 * rms + 2),
        }
    }

    fn with_rm(state: u64, r: u32, value: u64) -> u64 {
        state & !(3 << (2 * r)) | value << (2 * r)
    }

    /// `TCConsistent`: no RM committed while another aborted.
    fn consistent(&self, state: u64) -> bool {
        let rms = (0..self.rms).map(|r| state >> (2 * r) & 3);
        let (mut committed, mut aborted) = (false, false);
        for s in rms {
            committed |= s == COMMITTED;
            aborted |= s == ABORTED;
        }
        !(committed && aborted)
    }
}

impl Model for TwoPhaseSr {
    type State = u64;
    type Action = TwoPhaseAction;

    fn init_states(&self) -> Vec<u64> {
        vec![0]
    }

    fn actions(&self, state: &u64, actions: &mut Vec<TwoPhaseAction>) {
        let s = *state;
        let tm_init = s & self.done_bit == 0;
        let all_prepared = ((1u64 << self.rms) - 1) << self.tm_prepared_at;
        if tm_init && s & all_prepared == all_prepared {
            actions.push(TwoPhaseAction::TmCommit);
        }
        if tm_init {
            actions.push(TwoPhaseAction::TmAbort);
        }
        for r in 0..self.rms {
            let rm = r as u8;
            if tm_init && s >> (self.prepared_msgs_at + r) & 1 != 0 {
                actions.push(TwoPhaseAction::TmRcvPrepared(rm));
            }
            if s >> (2 * r) & 3 == WORKING {
                actions.push(TwoPhaseAction::RmPrepare(rm));
                actions.push(TwoPhaseAction::RmChooseToAbort(rm));
            }
            if s & self.commit_bit != 0 {
                actions.push(TwoPhaseAction::RmRcvCommitMsg(rm));
            }
            if s & self.abort_bit != 0 {
                actions.push(TwoPhaseAction::RmRcvAbortMsg(rm));
            }
        }
    }

    fn next_state(&self, state: &u64, action: TwoPhaseAction) -> Option<u64> {
        let s = *state;
        // Always `Some`, self-loops included: the bundled model counts them as
        // generated states too, as TLC does.
        Some(match action {
            TwoPhaseAction::TmCommit => s | self.done_bit | self.commit_bit,
            TwoPhaseAction::TmAbort => s | self.done_bit | self.abort_bit,
            TwoPhaseAction::TmRcvPrepared(r) => s | 1 << (self.tm_prepared_at + u32::from(r)),
            TwoPhaseAction::RmPrepare(r) => {
                let r = u32::from(r);
                Self::with_rm(s, r, PREPARED) | 1 << (self.prepared_msgs_at + r)
            }
            TwoPhaseAction::RmChooseToAbort(r) => Self::with_rm(s, u32::from(r), ABORTED),
            TwoPhaseAction::RmRcvCommitMsg(r) => Self::with_rm(s, u32::from(r), COMMITTED),
            TwoPhaseAction::RmRcvAbortMsg(r) => Self::with_rm(s, u32::from(r), ABORTED),
        })
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always(
            "TCConsistent",
            |model: &TwoPhaseSr, s: &u64| model.consistent(*s),
        )]
    }
}
