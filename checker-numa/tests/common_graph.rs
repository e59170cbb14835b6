//! A small pseudo-random graph model shared by the engine tests: states are numbers
//! below `size`, each with `branching` successors chosen by hashing, so the graph has
//! back edges, duplicates, deadlocks (when `sinks` is set) and an optional bad state.

use checker_core::{Action, Model};

pub struct RandomGraph {
    pub size: u64,
    pub branching: u64,
    pub seed: u64,
    /// States divisible by this have no successors (0: none).
    pub sinks: u64,
    /// A state that violates the invariant.
    pub bad: Option<u64>,
}

impl RandomGraph {
    /// A graph of `size` states, `branching` successors each, with no sinks and no bad
    /// state; set those with struct update syntax.
    #[allow(dead_code)] // Not every test that includes this module uses it.
    pub fn new(size: u64, branching: u64, seed: u64) -> Self {
        RandomGraph {
            size,
            branching,
            seed,
            sinks: 0,
            bad: None,
        }
    }
}

/// The graph's name, sinks and bad state: a label for a failure message.
impl std::fmt::Debug for RandomGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, sinks {}, bad {:?}",
            self.name(),
            self.sinks,
            self.bad
        )
    }
}

/// A 64-bit mixing function (the MurmurHash3 finaliser) that scatters the successors.
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl Model for RandomGraph {
    type State = u64;
    fn name(&self) -> String {
        format!("graph {} {} {}", self.size, self.branching, self.seed)
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u64)) {
        emit(&0);
        emit(&(self.size / 2));
        emit(&0);
    }
    fn successors(&self, s: &u64, emit: &mut dyn FnMut(Action, &u64)) {
        if self.sinks != 0 && *s % self.sinks == self.sinks - 1 {
            return;
        }
        for k in 0..self.branching {
            let t = mix(s.wrapping_mul(31).wrapping_add(k) ^ self.seed) % self.size;
            emit(Action(k as u32), &t);
        }
    }
    fn invariant_names(&self) -> Vec<String> {
        vec!["NotBad".into()]
    }
    fn check_invariant(&self, _: usize, s: &u64) -> bool {
        Some(*s) != self.bad
    }
    fn action_label(&self, a: Action) -> String {
        format!("Edge{}", a.0)
    }
    fn pack(&self, s: &u64, out: &mut Vec<u8>) {
        // Variable length on purpose: exercises unpadded packing.
        let bytes = s.to_le_bytes();
        let len = 8 - (s.leading_zeros() / 8) as usize;
        out.extend_from_slice(&bytes[..len.max(1)]);
    }
    fn unpack(&self, b: &[u8]) -> u64 {
        let mut bytes = [0u8; 8];
        bytes[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(bytes)
    }
    fn render(&self, s: &u64) -> String {
        format!("x = {s}")
    }
}

/// `RandomGraph` with a hook run on each state before its successors are generated
/// (tests use it to make the states one worker owns slow to expand, or one state
/// fail), and with its invariant or none. Everything else is the graph's own.
#[allow(dead_code)] // Not every test that includes this module uses it.
pub struct HookedGraph<H> {
    pub graph: RandomGraph,
    /// Called with the graph and the state about to be expanded.
    pub before_expanding: H,
    /// Whether the model has the graph's invariant; without it, a run that does not
    /// check deadlocks keeps no parents (nothing needs a counterexample) and stores
    /// states another way.
    pub invariants: bool,
}

#[allow(dead_code)] // Not every test that includes this module uses them.
impl<H: Fn(&RandomGraph, u64) + Sync> HookedGraph<H> {
    /// `graph` with its invariant, running `before_expanding` on each state.
    pub fn new(graph: RandomGraph, before_expanding: H) -> Self {
        HookedGraph {
            graph,
            before_expanding,
            invariants: true,
        }
    }
}

/// A [`HookedGraph`] whose hook does nothing.
#[allow(dead_code)] // Not every test that includes this module uses it.
pub type PlainGraph = HookedGraph<fn(&RandomGraph, u64)>;

#[allow(dead_code)] // Not every test that includes this module uses it.
impl PlainGraph {
    /// `graph` with no hook, with its invariant only if `invariants`.
    pub fn plain(graph: RandomGraph, invariants: bool) -> Self {
        HookedGraph {
            graph,
            before_expanding: |_, _| {},
            invariants,
        }
    }
}

impl<H> std::fmt::Debug for HookedGraph<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}, invariants {}", self.graph, self.invariants)
    }
}

impl<H: Fn(&RandomGraph, u64) + Sync> Model for HookedGraph<H> {
    type State = u64;
    fn name(&self) -> String {
        if self.invariants {
            self.graph.name()
        } else {
            format!("{} without invariants", self.graph.name())
        }
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u64)) {
        self.graph.initial_states(emit)
    }
    fn successors(&self, s: &u64, emit: &mut dyn FnMut(Action, &u64)) {
        (self.before_expanding)(&self.graph, *s);
        self.graph.successors(s, emit)
    }
    fn invariant_names(&self) -> Vec<String> {
        if self.invariants {
            self.graph.invariant_names()
        } else {
            Vec::new()
        }
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
