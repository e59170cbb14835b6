//! Successor generation for `system async`, as DiVinE 2's `dve_explicit_system_t`
//! does it (`get_async_enabled_trans` and `get_async_enabled_trans_succ`):
//!
//! 1. If some process is in a committed state, only processes in committed states move.
//! 2. Stage 1 collects the enabled rendezvous receives of every process.
//! 3. Stage 2 goes through the processes in order; for each it emits its enabled local
//!    transitions, buffered receives (channel not empty), buffered sends (channel not
//!    full), then every enabled rendezvous send paired with every enabled receive of
//!    another process on the same channel.
//!
//! A guard whose evaluation faults counts as enabled and its successor is the error
//! state. DiVinE also marks a channel erroneous when one of its receivers' guards
//! faulted; every send on that channel then counts as enabled (whatever its source
//! state) and pairs lead to the error state. A send and a receive whose effects assign
//! the same global variable make an erroneous pair, and, as in DiVinE, so does every
//! later receiver paired with that send. These rules only matter for models reaching
//! the error state; they are reproduced to match DiVinE's counts there too.
//!
//! A joint step: the sent values are evaluated (in the state before the step) and
//! stored into the receiver's places, the receiver's control state is set and its
//! effects run, then the sender's. No allocation happens per successor: successors
//! are built in a scratch vector that the caller's callback borrows.

use std::cell::RefCell;

use checker_core::Action;

use crate::compile::{Compiled, Kind, Target, Transition};
use crate::eval::{self, Code, Fault};
use crate::state_vector::StateVector;

/// Marks an action that is a rendezvous pair.
const PAIR: u32 = 0x8000_0000;

/// The action of transition `t` alone.
pub fn single(t: u32) -> Action {
    Action(t)
}

/// The action of send `s` paired with receive `r`.
pub fn pair(s: u32, r: u32) -> Action {
    Action(PAIR | (s << 16) | r)
}

/// The transitions an action stands for: one, or a (send, receive) pair.
pub fn decode(a: Action) -> (u32, Option<u32>) {
    if a.0 & PAIR != 0 {
        ((a.0 >> 16) & 0x7fff, Some(a.0 & 0xffff))
    } else {
        (a.0, None)
    }
}

/// An enabled rendezvous receive found in stage 1.
#[derive(Clone, Copy, Debug)]
struct Receiver {
    process: usize,
    transition: u32,
    channel: usize,
    error: bool,
}

/// Up to this many receivers enabled in a state are scanned whole for each send; more
/// are sorted by channel first.
const SCANNED_RECEIVERS: usize = 16;

/// Per-thread working memory, reused across calls.
#[derive(Default)]
pub struct Scratch {
    next: StateVector,
    stack: Vec<i32>,
    receivers: Vec<Receiver>,
}

impl Scratch {
    /// An evaluation stack of at least `len` values.
    pub fn stack(&mut self, len: usize) -> &mut [i32] {
        if self.stack.len() < len {
            self.stack.resize(len, 0);
        }
        &mut self.stack
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch memory (or a fresh one if the thread's is in
/// use by an outer call).
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// Evaluates `code` on the read-only `state`.
#[inline]
fn value(code: &Code, state: &[u8], stack: &mut [i32]) -> Result<i32, Fault> {
    let mut mem = state;
    eval::run(code, &mut mem, stack)
}

/// Whether the guard of `t` lets it fire, and whether evaluating it faulted (a
/// faulting guard counts as enabled).
#[inline]
fn guard(t: &Transition, state: &[u8], stack: &mut [i32]) -> (bool, bool) {
    match &t.guard {
        None => (true, false),
        Some(g) => match value(g, state, stack) {
            Ok(v) => (v != 0, false),
            Err(_) => (true, true),
        },
    }
}

/// Stores `v` into `target` of `next`; the element index is evaluated in `before`.
fn store(
    target: &Target,
    v: i32,
    before: &[u8],
    next: &mut [u8],
    stack: &mut [i32],
) -> Result<(), Fault> {
    let i = match &target.index {
        None => 0,
        Some(code) => {
            let i = value(code, before, stack)?;
            if i < 0 || i as u32 >= target.len {
                return Err(Fault::BadIndex);
            }
            i as usize
        }
    };
    if !target.ty.contains(v) {
        return Err(Fault::OutOfRange);
    }
    let (at, w) = (target.base + i * target.ty.width(), target.ty.width());
    next[at..at + w].copy_from_slice(&(v as i16).to_le_bytes()[..w]);
    Ok(())
}

/// Generates the successors of `state`.
pub fn successors(
    c: &Compiled,
    state: &[u8],
    scratch: &mut Scratch,
    emit: &mut dyn FnMut(Action, &StateVector),
) {
    let Scratch {
        next,
        stack,
        receivers,
    } = scratch;
    if stack.len() < c.max_stack {
        stack.resize(c.max_stack, 0);
    }
    let stack = &mut stack[..];
    let committed_only = c.has_committed
        && c.processes.iter().any(|p| {
            let s = p.control(state);
            p.committed.get(s).copied().unwrap_or(false)
        });
    let may_move = |pi: usize| {
        !committed_only || {
            let p = &c.processes[pi];
            p.committed.get(p.control(state)).copied().unwrap_or(false)
        }
    };

    receivers.clear();
    for (pi, p) in c.processes.iter().enumerate() {
        if !c.has_rendezvous {
            break;
        }
        if !may_move(pi) {
            continue;
        }
        let Some(out) = p.outgoing.get(p.control(state)) else {
            continue;
        };
        for &ti in &out.receive {
            let t = &c.transitions[ti as usize];
            let (pass, error) = guard(t, state, stack);
            if pass {
                receivers.push(Receiver {
                    process: pi,
                    transition: ti,
                    channel: t.channel,
                    error,
                });
            }
        }
    }
    // Many receivers are sorted by channel, each channel's in the order found, so
    // that a send looks at its channel's run only, in that order (a scan of every
    // receiver for every send grew with the square of the channels with a receiver
    // enabled); a few are scanned, which costs less than sorting them.
    if receivers.len() > SCANNED_RECEIVERS {
        receivers.sort_by_key(|r| r.channel);
    }
    let any_receiver_error = receivers.iter().any(|r| r.error);

    let mut step = Step {
        c,
        state,
        next,
        stack,
        emit,
    };
    for (pi, p) in c.processes.iter().enumerate() {
        if !may_move(pi) {
            continue;
        }
        let s = p.control(state);
        if let Some(out) = p.outgoing.get(s) {
            for &ti in &out.local {
                let (pass, error) = guard(&c.transitions[ti as usize], state, step.stack);
                if pass {
                    step.fire(ti, error);
                }
            }
            for &ti in &out.buffered_receive {
                let t = &c.transitions[ti as usize];
                let (pass, error) = guard(t, state, step.stack);
                if pass && state[c.channels[t.channel].offset] > 0 {
                    step.fire(ti, error);
                }
            }
            for &ti in &out.buffered_send {
                let t = &c.transitions[ti as usize];
                let (pass, error) = guard(t, state, step.stack);
                let ch = &c.channels[t.channel];
                if pass && u32::from(state[ch.offset]) < ch.buffer {
                    step.fire(ti, error);
                }
            }
            if !any_receiver_error {
                for &ti in &out.send {
                    let (pass, error) = guard(&c.transitions[ti as usize], state, step.stack);
                    if pass {
                        step.pairs(ti, pi, error, receivers);
                    }
                }
            }
        }
        if any_receiver_error {
            for &ti in &p.all_sends {
                let t = &c.transitions[ti as usize];
                let channel_error = receivers.iter().any(|r| r.channel == t.channel && r.error);
                let (pass, error) = if usize::from(t.from) == s {
                    let (pass, error) = guard(t, state, step.stack);
                    (pass || channel_error, error || channel_error)
                } else {
                    (channel_error, channel_error)
                };
                if pass {
                    step.pairs(ti, pi, error, receivers);
                }
            }
        }
    }
}

/// Builds successors of one state.
struct Step<'a, 'e> {
    c: &'a Compiled,
    state: &'a [u8],
    next: &'a mut StateVector,
    stack: &'a mut [i32],
    emit: &'e mut dyn FnMut(Action, &StateVector),
}

impl Step<'_, '_> {
    /// Emits the successor by transition `ti` alone (or the error state).
    fn fire(&mut self, ti: u32, error: bool) {
        let ok = !error && self.apply_single(ti).is_ok();
        let next = if ok { &*self.next } else { &self.c.error_state };
        (self.emit)(single(ti), next);
    }

    fn apply_single(&mut self, ti: u32) -> Result<(), Fault> {
        let c = self.c;
        let t = &c.transitions[ti as usize];
        self.next.set(self.state);
        c.processes[t.process].set_control(self.next, t.to);
        self.effects(&t.effects)?;
        match t.kind {
            Kind::BufferedSend => {
                let ch = &c.channels[t.channel];
                let count = usize::from(self.next[ch.offset]);
                let mut at = ch.offset + 1 + count * ch.message_width();
                self.next[ch.offset] += 1;
                let types = ch.item_types.as_deref().unwrap_or(&[]);
                for (code, ty) in t.values.iter().zip(types) {
                    let v = ty.truncate(value(code, self.next, self.stack)?);
                    let w = ty.width();
                    self.next[at..at + w].copy_from_slice(&(v as i16).to_le_bytes()[..w]);
                    at += w;
                }
            }
            Kind::BufferedReceive => {
                let ch = &c.channels[t.channel];
                let first = ch.offset + 1;
                let types = ch.item_types.as_deref().unwrap_or(&[]);
                let mut at = first;
                for (target, ty) in t.targets.iter().zip(types) {
                    let v = match ty.width() {
                        1 => i32::from(self.next[at]),
                        _ => i32::from(i16::from_le_bytes([self.next[at], self.next[at + 1]])),
                    };
                    store(target, v, self.state, self.next, self.stack)?;
                    at += ty.width();
                }
                let count = usize::from(self.next[ch.offset]);
                let w = ch.message_width();
                self.next.copy_within(first + w..first + count * w, first);
                self.next[first + (count - 1) * w..first + count * w].fill(0);
                self.next[ch.offset] -= 1;
            }
            Kind::Local | Kind::Send | Kind::Receive => {}
        }
        Ok(())
    }

    fn effects(&mut self, code: &Code) -> Result<(), Fault> {
        if !code.is_empty() {
            let mut mem: &mut [u8] = self.next;
            eval::run(code, &mut mem, self.stack)?;
        }
        Ok(())
    }

    /// Emits send `si` (of process `pi`) paired with every receiver on its channel in
    /// another process (`receivers` sorted by channel if there are more than
    /// [`SCANNED_RECEIVERS`]).
    fn pairs(&mut self, si: u32, pi: usize, error: bool, receivers: &[Receiver]) {
        let send = &self.c.transitions[si as usize];
        let mut error = error;
        let first = if receivers.len() > SCANNED_RECEIVERS {
            receivers.partition_point(|r| r.channel < send.channel)
        } else {
            0
        };
        for r in &receivers[first..] {
            if r.channel != send.channel {
                if receivers.len() > SCANNED_RECEIVERS {
                    break;
                }
                continue;
            }
            if r.process == pi {
                continue;
            }
            // DiVinE keeps the conflict flag for the remaining receivers too.
            if !send.conflicts.is_empty() && send.conflicts.contains(&r.transition) {
                error = true;
            }
            let ok = !error && self.apply_pair(si, r.transition).is_ok();
            let next = if ok { &*self.next } else { &self.c.error_state };
            (self.emit)(pair(si, r.transition), next);
        }
    }

    fn apply_pair(&mut self, si: u32, ri: u32) -> Result<(), Fault> {
        let c = self.c;
        let send = &c.transitions[si as usize];
        let receive = &c.transitions[ri as usize];
        self.next.set(self.state);
        let types = c.channels[send.channel].item_types.as_deref();
        // Every value is evaluated in the pre-state, so a message `{b, a}` received
        // into `{a, b}` swaps them (the semantics' rule 2; DiVinE 2's interpreter read
        // each value after the previous one was stored, which no BEEM model can tell).
        for (i, (code, target)) in send.values.iter().zip(&receive.targets).enumerate() {
            let mut v = value(code, self.state, self.stack)?;
            if let Some(ty) = types.and_then(|t| t.get(i)) {
                v = ty.truncate(v);
            }
            store(target, v, self.state, self.next, self.stack)?;
        }
        c.processes[receive.process].set_control(self.next, receive.to);
        self.effects(&receive.effects)?;
        c.processes[send.process].set_control(self.next, send.to);
        self.effects(&send.effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_encode_single_transitions_and_pairs() {
        assert_eq!(decode(single(0)), (0, None));
        assert_eq!(decode(single(0x7ffe)), (0x7ffe, None));
        assert_eq!(decode(pair(3, 0)), (3, Some(0)));
        assert_eq!(decode(pair(0x7ffe, 0x7ffe)), (0x7ffe, Some(0x7ffe)));
        assert_ne!(single(5), pair(5, 0));
    }
}
