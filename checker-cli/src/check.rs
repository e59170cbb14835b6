//! `checker check`: builds the model, runs the chosen engine, prints the result.

use std::time::Duration;

use checker_core::{sequential, CheckOptions, Model};
use checker_numa::{EngineConfig, Telemetry};
use fixtures::ModelVisitor;

use crate::args::{CheckArgs, Engine};
use crate::error::CliError;
use crate::progress::ProgressPrinter;
use crate::report;

/// Runs `checker check`; returns the exit code.
pub fn run(args: &CheckArgs) -> Result<u8, CliError> {
    if !(args.progress_every.is_finite() && args.progress_every > 0.0) {
        return Err(CliError::Input(format!(
            "--progress-every must be a positive number of seconds, got {}",
            args.progress_every
        )));
    }
    if args.json.as_ref().is_some_and(|p| p.is_dir()) {
        return Err(CliError::Input(format!(
            "--json {}: is a directory",
            args.json.as_ref().unwrap().display()
        )));
    }
    fixtures::with_model(&args.model, &args.params, CheckVisitor { args })?
}

struct CheckVisitor<'a> {
    args: &'a CheckArgs,
}

impl ModelVisitor for CheckVisitor<'_> {
    type Output = Result<u8, CliError>;

    fn visit<M: Model + 'static>(self, model: M) -> Self::Output {
        check_model(&model, self.args)
    }
}

/// Checks one concrete model as `args` ask.
pub fn check_model<M: Model>(model: &M, args: &CheckArgs) -> Result<u8, CliError> {
    let printer = ProgressPrinter::new();
    let progress = |p: &checker_core::Progress| printer.report(p);
    let options = CheckOptions {
        max_states: args.max_states,
        max_depth: args.max_depth,
        check_deadlock: !args.no_deadlock,
        progress: Some(&progress),
        progress_interval: Duration::from_secs_f64(args.progress_every),
    };
    let (outcome, telemetry): (_, Option<Telemetry>) = match args.engine {
        Engine::Sequential => (sequential::check(model, &options)?, None),
        Engine::Parallel => {
            let config = EngineConfig {
                workers: args.workers,
                batch_bytes: args.batch_bytes as usize,
                ring_capacity: args.ring_capacity as usize,
                pin: !args.no_pin,
                topology: None,
            };
            let result = checker_numa::check(model, &options, &config)?;
            (result.outcome, Some(result.telemetry))
        }
    };
    printer.finish();
    print!(
        "{}",
        report::render(&outcome, telemetry.as_ref(), args.engine)
    );
    if let Some(path) = &args.json {
        let json = report::json(&outcome, telemetry.as_ref(), args.engine);
        std::fs::write(path, json)
            .map_err(|e| CliError::Input(format!("--json {}: {e}", path.display())))?;
    }
    Ok(outcome.exit_code() as u8)
}
