//! The foundation of the checker: the [`Model`] seam between modelling front ends and
//! search engines, packed states and their 64-bit fingerprints, the sequential
//! reference checker whose answers define "correct" for every parallel engine, and
//! counterexample traces.
//!
//! Engines see only packed byte vectors and fingerprints; a model sees only its own
//! typed states. That is the PINS idea of LTSmin: front ends and engines meet at one
//! narrow interface and know nothing else of each other.

pub mod fingerprint;
pub mod level;
pub mod model;
pub mod options;
pub mod outcome;
pub mod packed;
pub mod regular_file;
pub mod sequential;
pub mod short_copy;
pub mod trace;

pub use fingerprint::{collision_probability, fingerprint, BuildFingerprintHasher, Fingerprint};
pub use model::{Action, Model};
pub use options::{CheckOptions, Progress, ProgressFn};
pub use outcome::{Outcome, StopReason, Verdict, Violation, ViolationKind};
pub use trace::{Trace, TraceStep};

/// The README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
