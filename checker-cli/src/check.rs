//! `checker check`: builds the model, runs the chosen engine, prints the result.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use checker_core::{sequential, CheckOptions, Model, StopReason, Verdict};
use checker_numa::checkpoint::RunIdentity;
use checker_numa::{EngineConfig, Persistence, Telemetry};
use fixtures::ModelVisitor;

use crate::args::{CheckArgs, Engine};
use crate::error::CliError;
use crate::model_arg::{is_dve_path, with_any_model};
use crate::progress::ProgressPrinter;
use crate::report;

/// Share of MemAvailable used when `--memory` is not given.
const DEFAULT_MEMORY_SHARE: f64 = 0.75;

/// Runs `checker check`; returns the exit code.
pub fn run(args: &CheckArgs) -> Result<u8, CliError> {
    if !(args.progress_every.is_finite() && args.progress_every > 0.0) {
        return Err(CliError::Input(format!(
            "--progress-every must be a positive number of seconds, got {}",
            args.progress_every
        )));
    }
    if let Some(path) = args.json.as_ref().filter(|p| p.is_dir()) {
        return Err(CliError::Input(format!(
            "--json {}: is a directory",
            path.display()
        )));
    }
    if args.engine == Engine::Sequential
        && (args.resume.is_some() || args.workdir.is_some() || args.checkpoint_every.is_some())
    {
        return Err(CliError::Input(
            "--workdir, --checkpoint-every and --resume need the parallel engine".into(),
        ));
    }
    let spec = model_spec(args)?;
    with_any_model(&spec, CheckVisitor { args, spec: &spec })?
}

/// The model and parameters to check: from the command line, or from the checkpoint
/// being resumed (which must agree with the command line if both are given).
fn model_spec(args: &CheckArgs) -> Result<Vec<String>, CliError> {
    let given: Option<Vec<String>> = args.model.as_ref().map(|m| {
        std::iter::once(m.clone())
            .chain(args.params.iter().cloned())
            .collect()
    });
    let Some(dir) = &args.resume else {
        return Ok(given.expect("clap requires MODEL without --resume"));
    };
    let (_, manifest) =
        checker_numa::checkpoint::read_current(dir).map_err(|e| CliError::Input(e.to_string()))?;
    let saved = manifest.identity.model_spec;
    match given {
        Some(given) if given != saved => Err(CliError::Input(format!(
            "the checkpoint in {} is for `{}`, not `{}`",
            dir.display(),
            saved.join(" "),
            given.join(" ")
        ))),
        _ if saved.is_empty() => Err(CliError::Input(format!(
            "the checkpoint in {} names no model",
            dir.display()
        ))),
        _ => Ok(saved),
    }
}

fn identity<M: Model>(model: &M, spec: Vec<String>, digest: Option<String>) -> RunIdentity {
    RunIdentity {
        model_name: model.name(),
        model_spec: spec,
        model_digest: digest,
    }
}

struct CheckVisitor<'a> {
    args: &'a CheckArgs,
    spec: &'a [String],
}

impl ModelVisitor for CheckVisitor<'_> {
    type Output = Result<u8, CliError>;

    fn visit<M: Model + 'static>(self, model: M) -> Self::Output {
        // A DVE model is identified by its source too, so that a resumed run refuses
        // a file that changed since the checkpoint.
        let digest = match self.spec.first() {
            Some(path) if is_dve_path(path) => {
                let source =
                    std::fs::read(path).map_err(|e| CliError::Input(format!("{path}: {e}")))?;
                Some(format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&source)))
            }
            _ => None,
        };
        let identity = identity(&model, self.spec.to_vec(), digest);
        check_model(&model, self.args, identity)
    }
}

/// MemAvailable from /proc/meminfo, in bytes.
fn mem_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Asks SIGINT and SIGTERM to set the returned flag; a second signal exits at once.
fn interrupt_flag() -> Result<Arc<AtomicBool>, CliError> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Order matters: the conditional shutdown sees the flag set by the first signal.
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)))
            .map_err(|e| CliError::Input(format!("cannot install signal handlers: {e}")))?;
    }
    Ok(flag)
}

/// The work directory: given, resumed, or fresh under the current one (`auto`).
fn workdir(args: &CheckArgs) -> Result<(PathBuf, bool), CliError> {
    if let Some(dir) = &args.resume {
        return Ok((dir.clone(), false));
    }
    if let Some(dir) = &args.workdir {
        if dir.join("CURRENT").exists() {
            return Err(CliError::Input(format!(
                "{} holds a checkpoint: resume it with --resume {}, or choose another --workdir",
                dir.display(),
                dir.display()
            )));
        }
        return Ok((dir.clone(), false));
    }
    let cwd =
        std::env::current_dir().map_err(|e| CliError::Input(format!("current directory: {e}")))?;
    Ok((
        cwd.join(format!("checker-work-{}", std::process::id())),
        true,
    ))
}

/// Checks one concrete model as `args` ask.
pub fn check_model<M: Model>(
    model: &M,
    args: &CheckArgs,
    identity: RunIdentity,
) -> Result<u8, CliError> {
    let printer = ProgressPrinter::new();
    let progress = |p: &checker_core::Progress| printer.report(p);
    let options = CheckOptions {
        max_states: args.max_states,
        max_depth: args.max_depth,
        check_deadlock: !args.no_deadlock,
        progress: Some(&progress),
        progress_interval: Duration::from_secs_f64(args.progress_every),
    };
    let mut checkpoints_written = 0;
    let (outcome, telemetry, checkpoint): (_, Option<Telemetry>, Option<PathBuf>) =
        match args.engine {
            Engine::Sequential => (sequential::check(model, &options)?, None, None),
            Engine::Parallel => {
                let (workdir, auto) = if args.memory_log {
                    (PathBuf::new(), false)
                } else {
                    workdir(args)?
                };
                let memory_budget = args
                    .memory
                    .or_else(|| mem_available().map(|m| (m as f64 * DEFAULT_MEMORY_SHARE) as u64));
                let config = EngineConfig {
                    workers: args.workers,
                    batch_bytes: args.batch_bytes as usize,
                    ring_capacity: args.ring_capacity as usize,
                    pin: !args.no_pin,
                    share_expansion: !args.no_share,
                    memory_budget,
                    persistence: (!args.memory_log).then(|| Persistence {
                        workdir: workdir.clone(),
                        checkpoint_every: args.checkpoint_every,
                        resume: args.resume.is_some(),
                        identity,
                    }),
                    interrupt: Some(interrupt_flag()?),
                    ..EngineConfig::default()
                };
                let result = checker_numa::check(model, &options, &config);
                if auto && result.as_ref().map_or(true, |r| r.checkpoint.is_none()) {
                    let _ = std::fs::remove_dir_all(&workdir);
                }
                let result = result?;
                checkpoints_written = result.checkpoints_written;
                (result.outcome, Some(result.telemetry), result.checkpoint)
            }
        };
    printer.finish();
    print!(
        "{}",
        report::render(&outcome, telemetry.as_ref(), args.engine)
    );
    if checkpoints_written > 0 {
        println!("  checkpoints written:   {checkpoints_written}");
    }
    if let (Some(dir), Verdict::Partial { reason }) = (&checkpoint, &outcome.verdict) {
        let why = match reason {
            StopReason::MemoryBudget => "the memory budget is reached",
            _ => "the run was interrupted",
        };
        println!(
            "Stopped because {why}. Checkpoint written to {}; continue with: checker check --resume {}{}",
            dir.display(),
            dir.display(),
            if *reason == StopReason::MemoryBudget { " --memory LARGER" } else { "" }
        );
    }
    if let Some(path) = &args.json {
        let mut json: serde_json::Value =
            serde_json::from_str(&report::json(&outcome, telemetry.as_ref(), args.engine))
                .expect("the report is JSON");
        json["checkpoints_written"] = checkpoints_written.into();
        let json = serde_json::to_string_pretty(&json).expect("the report serialises") + "\n";
        std::fs::write(path, json)
            .map_err(|e| CliError::Input(format!("--json {}: {e}", path.display())))?;
    }
    Ok(outcome.exit_code() as u8)
}
