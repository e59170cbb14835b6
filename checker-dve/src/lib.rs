//! A front end for DVE, the modelling language of DiVinE and of the BEEM benchmark set:
//! [`DveModel::from_file`] reads a `.dve` model, checks it and compiles it to bytecode
//! over the state vector, and implements [`checker_core::Model`] so that the
//! sequential checker and the parallel engine can explore it.
//!
//! Supported: global and local `byte`/`int` variables and arrays with initialisers,
//! `const`, untyped and typed rendezvous channels (with or without values), buffered
//! (typed) channels, processes with `init` and `commit` states, guards, `sync`,
//! `effect`, `assert` (checked as invariants), `Process.state` tests, `Process->var`,
//! C operators including bit operations, and `system async`. `accept` states and an LTL
//! property process are parsed but liveness is not checked (see
//! [`DveModel::notices`]); `system sync` and probabilistic transitions are rejected
//! with an error naming them.
//!
//! The semantics are DiVinE 2's, as the BEEM fixtures' README states them: 16-bit
//! `int`, assignments out of range, array indices out of range and division by zero
//! lead to DiVinE's error state, a state without successors is a deadlock.
//!
//! Pipeline, one module each: `lexer` (tokens) → `parser` (syntax tree, `ast`) →
//! `resolve` (names, checks, state-vector layout, initial state; produces `ir`) →
//! `compile` (bytecode and per-state transition tables, run by the `eval` stack
//! machine) → `successors` (DiVinE's successor generation, no allocation per
//! successor) → `model` (the [`checker_core::Model`] implementation) and `render`
//! (states and actions for traces). Every stage reports problems as one [`DveError`],
//! one line: `file:line:col: message`, quoting the offending text (at most
//! [`MAX_QUOTED_CHARS`] characters of it). [`read_source`] reads a model file: a
//! regular file of at most [`MAX_SOURCE_BYTES`].
//!
//! ```
//! use checker_core::{sequential, CheckOptions};
//! use checker_dve::DveModel;
//!
//! let model = DveModel::from_source(
//!     "toggle",
//!     "byte x; process P { state s; init s; trans s -> s { effect x = 1 - x; }; } system async;",
//! )
//! .unwrap();
//! let options = CheckOptions { check_deadlock: false, ..CheckOptions::default() };
//! let outcome = sequential::check(&model, &options).unwrap();
//! assert_eq!((outcome.distinct, outcome.generated - 1), (2, 2));
//! ```
#![warn(missing_docs)]

mod ast;
mod compile;
mod error;
mod eval;
mod ir;
mod lexer;
mod model;
mod parser;
mod render;
mod resolve;
mod source;
mod state_vector;
mod successors;

pub use error::{DveError, MAX_QUOTED_CHARS};
pub use model::DveModel;
pub use source::{read_source, MAX_SOURCE_BYTES};
pub use state_vector::StateVector;
