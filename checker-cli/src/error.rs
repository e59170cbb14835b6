//! Errors the CLI reports on one line: exit code 2, or 3 for a run that stopped early.

/// A usage or input error, or a child run that stopped early.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bundled model could not be built from its parameters.
    #[error(transparent)]
    Fixture(#[from] fixtures::FixtureError),
    /// The engine refused its configuration.
    #[error(transparent)]
    Engine(#[from] checker_numa::EngineError),
    /// A counterexample failed to replay.
    #[error(transparent)]
    Counterexample(#[from] checker_core::level::CounterexampleError),
    /// Any other problem with the input.
    #[error("{0}")]
    Input(String),
    /// A child `checker` run (of `bench`) stopped early, on a signal or at its memory
    /// budget (its own exit code 3): the message says why.
    #[error("{0}")]
    Stopped(String),
}

impl CliError {
    /// The process's exit code: 3 for a stop, as `checker check` gives; 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Stopped(_) => 3,
            _ => 2,
        }
    }
}
