//! [`DveModel`]: a compiled DVE model behind the checker's [`Model`] interface.

use std::path::Path;

use checker_core::short_copy::extend_short;
use checker_core::{Action, Model};

use crate::compile::{compile, Compiled};
use crate::error::{DveError, Reporter, Span};
use crate::eval;
use crate::lexer::tokenize;
use crate::parser::parse;
use crate::render::{render_action, render_state};
use crate::resolve::resolve;
use crate::source::read_source;
use crate::state_vector::StateVector;
use crate::successors::{successors, with_scratch};

/// A DVE model compiled to bytecode, ready for any engine.
///
/// The state is the DVE state vector: global variables, buffered channels, then for
/// each process its control state (one byte, two for processes with 255 states or
/// more) followed by its local variables; `byte` takes one byte, `int` two (little
/// endian). Packing is that vector as is.
#[derive(Clone, Debug)]
pub struct DveModel {
    name: String,
    compiled: Compiled,
    notices: Vec<String>,
}

impl DveModel {
    /// Reads (with [`read_source`]: a regular file of at most
    /// [`crate::MAX_SOURCE_BYTES`]), checks and compiles the DVE file at `path`. The
    /// model's name is the file name without `.dve`.
    pub fn from_file(path: &Path) -> Result<DveModel, DveError> {
        let shown = path.display().to_string();
        let bytes = read_source(path)?;
        let source = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let valid = std::str::from_utf8(&e.as_bytes()[..e.utf8_error().valid_up_to()])
                    .unwrap_or("");
                let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
                let span = Span {
                    line: valid.matches('\n').count() as u32 + 1,
                    col: valid[line_start..].chars().count() as u32 + 1,
                    start: valid.len(),
                    end: valid.len(),
                };
                return Err(DveError::at(&shown, span, "the file is not valid UTF-8"));
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| shown.clone());
        let name = name.strip_suffix(".dve").unwrap_or(&name).to_string();
        Self::build(&name, &shown, &source)
    }

    /// Checks and compiles DVE `source`; `name` names the model and stands for the file
    /// in error messages.
    pub fn from_source(name: &str, source: &str) -> Result<DveModel, DveError> {
        Self::build(name, name, source)
    }

    fn build(name: &str, file: &str, source: &str) -> Result<DveModel, DveError> {
        let report = Reporter { file, source };
        let tokens = tokenize(report, source)?;
        let ast = parse(report, &tokens)?;
        let program = resolve(report, &ast)?;
        Ok(DveModel {
            name: name.to_string(),
            compiled: compile(&program),
            notices: program.notices,
        })
    }

    /// Things the user should know about how the model is checked, e.g.
    /// "LTL property process `LTL_property` with accept states: liveness is not checked",
    /// or where a constant array index is out of range (a transition that evaluates it
    /// leads to the error state, as any index out of range does).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Bytes per state.
    pub fn state_width(&self) -> usize {
        self.compiled.width
    }

    /// The initial state vector.
    pub fn initial_state(&self) -> &[u8] {
        &self.compiled.initial
    }

    /// Whether `state` is DiVinE's error state, the single successor of any step that
    /// assigns a value out of range, indexes an array out of range or divides by zero.
    pub fn is_error_state(&self, state: &[u8]) -> bool {
        self.compiled.is_error_state(state)
    }

    /// Names of the processes of the checked system, in state-vector order.
    pub fn process_names(&self) -> Vec<String> {
        self.compiled
            .processes
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }
}

impl Model for DveModel {
    type State = StateVector;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn initial_states(&self, emit: &mut dyn FnMut(&StateVector)) {
        emit(&self.compiled.initial);
    }

    fn successors(&self, state: &StateVector, emit: &mut dyn FnMut(Action, &StateVector)) {
        with_scratch(|scratch| successors(&self.compiled, state, scratch, emit));
    }

    fn invariant_names(&self) -> Vec<String> {
        self.compiled
            .assertions
            .iter()
            .map(|a| format!("assert {}", a.name))
            .collect()
    }

    fn check_invariant(&self, index: usize, state: &StateVector) -> bool {
        let Some(a) = self.compiled.assertions.get(index) else {
            return true;
        };
        if self.compiled.processes[a.process].control(state) != usize::from(a.state) {
            return true;
        }
        with_scratch(|scratch| {
            let mut mem: &[u8] = state;
            let stack = scratch.stack(a.code.max_stack);
            matches!(eval::run(&a.code, &mut mem, stack), Ok(v) if v != 0)
        })
    }

    fn action_label(&self, action: Action) -> String {
        render_action(&self.compiled, action)
    }

    fn pack(&self, state: &StateVector, out: &mut Vec<u8>) {
        extend_short(out, state);
    }

    fn unpack(&self, bytes: &[u8]) -> StateVector {
        StateVector::from_slice(bytes)
    }

    fn unpack_into(&self, bytes: &[u8], into: &mut StateVector) {
        into.set(bytes);
    }

    fn render(&self, state: &StateVector) -> String {
        render_state(&self.compiled, state)
    }

    fn packed_width(&self) -> Option<usize> {
        Some(self.compiled.width)
    }
}
