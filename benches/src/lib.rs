//! Support for the benchmarks of this workspace: the reachable states of a model as
//! one packed buffer, the "generate only" ceiling (successor generation and
//! fingerprinting without deduplication), a random fingerprint stream for the visited
//! table, the model cases the per-model benchmark runs, and the process's peak RSS for
//! the peer comparison.
//!
//! The benchmarks themselves live in `benches/`: `micro` (ring, visited table,
//! fingerprint), `models` (ceiling against full check per bundled model) and `peer`
//! (side by side with Stateright). docs/benchmarks.md records what they measured.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod cases;
pub mod ceiling;
pub mod random;
pub mod reachable;
pub mod rss;
