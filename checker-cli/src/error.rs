//! Errors the CLI reports on one line with exit code 2.

/// A usage or input error.
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
}
