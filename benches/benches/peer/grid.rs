//! The grid model for Stateright, with the bundled model's encoding (`fixtures::grid`:
//! `K` fields of `ceil(log2 D)` bits in a `u64`) and its `Inc(i)` actions in order.

use stateright::{Model, Property};

/// `K` counters modulo `D`.
#[derive(Clone, Debug)]
pub struct GridSr {
    counters: u32,
    top: u64,
    bits: u32,
    mask: u64,
}

impl GridSr {
    /// `counters` counters over `values` values; the same limits as the bundled model.
    pub fn new(counters: u32, values: u64) -> Self {
        assert!(counters >= 1 && values >= 2, "grid needs K >= 1 and D >= 2");
        let bits = 64 - (values - 1).leading_zeros();
        assert!(counters * bits <= 64, "grid K D must fit in 64 bits");
        GridSr {
            counters,
            top: values - 1,
            bits,
            mask: u64::MAX >> (64 - bits),
        }
    }
}

impl Model for GridSr {
    type State = u64;
    type Action = u8;

    fn init_states(&self) -> Vec<u64> {
        vec![0]
    }

    fn actions(&self, _state: &u64, actions: &mut Vec<u8>) {
        actions.extend(0..self.counters as u8);
    }

    fn next_state(&self, state: &u64, action: u8) -> Option<u64> {
        let (s, shift) = (*state, u32::from(action) * self.bits);
        Some(if s >> shift & self.mask == self.top {
            s & !(self.mask << shift)
        } else {
            s + (1 << shift)
        })
    }

    /// Stateright stops once every property has a discovery, and at once when there
    /// are none; the bundled model has no invariant, so this one is the cheapest that
    /// keeps Stateright exploring the whole space: always true, nothing evaluated.
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("Explore", |_: &GridSr, _: &u64| true)]
    }
}
