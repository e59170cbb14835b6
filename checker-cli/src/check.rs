//! `checker check`: builds the model, runs the chosen engine, prints the result.

use crate::output::{out, outln};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use checker_core::{sequential, CheckOptions, Model, StopReason, Verdict};
use checker_numa::checkpoint::{RunIdentity, SearchSettings};
use checker_numa::process_limits::{BudgetSource, MemoryBudget, MemoryLimits};
use checker_numa::workdir_lock::WorkdirLock;
use checker_numa::{EngineConfig, ExpansionSharing, ParallelOutcome, Persistence, Telemetry};
use fixtures::ModelVisitor;

use crate::args::{CheckArgs, Engine};
use crate::error::CliError;
use crate::json_sink::JsonSink;
use crate::model_arg::{is_dve_path, with_any_model};
use crate::owned_workdir::OwnedWorkdir;
use crate::progress::ProgressPrinter;
use crate::report::{self, EngineRun, JsonExtras};
use crate::signals;

/// The longest `--progress-every` taken, in seconds (about 31 years).
const MAX_PROGRESS_EVERY_S: f64 = 1e9;

/// Runs `checker check`; returns the exit code.
pub fn run(args: &CheckArgs) -> Result<u8, CliError> {
    if !(args.progress_every.is_finite()
        && args.progress_every > 0.0
        && args.progress_every <= MAX_PROGRESS_EVERY_S)
    {
        let got = args.progress_every;
        let got = if got.abs() < 1e15 {
            got.to_string()
        } else {
            format!("{got:e}")
        };
        return Err(CliError::Input(format!(
            "--progress-every must be a positive number of seconds up to {MAX_PROGRESS_EVERY_S:e}, got {got}"
        )));
    }
    if args.engine == Engine::Sequential {
        refuse_parallel_options(args)?;
    }
    let (spec, resuming) = model_spec(args)?;
    // Opened (and so checked) before the run, without truncating it; written after.
    let json = args.json.as_deref().map(JsonSink::open).transpose()?;
    let result = with_any_model(
        &spec,
        CheckVisitor {
            args,
            spec: &spec,
            resuming,
            json: json.as_ref(),
        },
    )
    .and_then(|checked| checked);
    // Dropped without a report (the run did not get that far), the sink leaves no
    // empty file behind.
    drop(json);
    result
}

/// The options that only the parallel engine takes, refused by name for the
/// sequential checker rather than ignored.
fn refuse_parallel_options(args: &CheckArgs) -> Result<(), CliError> {
    let given: Vec<&str> = [
        ("--workers", args.workers.is_some()),
        ("--batch-bytes", args.batch_bytes.is_some()),
        ("--ring-capacity", args.ring_capacity.is_some()),
        ("--no-pin", args.no_pin),
        ("--no-share", args.no_share),
        ("--share", args.share),
        ("--memory", args.memory.is_some()),
        ("--memory-log", args.memory_log),
        ("--workdir", args.workdir.is_some()),
        ("--checkpoint-every", args.checkpoint_every.is_some()),
        ("--resume", args.resume.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(CliError::Input(format!(
        "{} {} only for the parallel engine, not with --engine sequential",
        given.join(", "),
        if given.len() == 1 { "is" } else { "are" }
    )))
}

/// What a resumed run takes from its checkpoint before the engine reads it again.
struct Resuming {
    /// The settings the checkpoint was taken with.
    saved: SearchSettings,
    /// The lock on the work directory, taken before the manifest was read, so that no
    /// other run can commit a newer checkpoint between this read and the engine's
    /// (`None` where the directory does not exist: reading it then fails anyway).
    lock: Option<Arc<WorkdirLock>>,
}

/// The model and parameters to check, from the command line or from the checkpoint
/// being resumed (which must agree with the command line if both are given), with the
/// resumed run's saved settings and work-directory lock. A DVE path is kept absolute,
/// so that a run can be resumed from any directory and the file named by any path.
fn model_spec(args: &CheckArgs) -> Result<(Vec<String>, Option<Resuming>), CliError> {
    let given: Option<Vec<String>> = args.model.as_ref().map(|m| {
        std::iter::once(absolute_dve_path(m))
            .chain(args.params.iter().cloned())
            .collect()
    });
    let Some(dir) = &args.resume else {
        return Ok((given.expect("clap requires MODEL without --resume"), None));
    };
    let lock = if dir.is_dir() {
        Some(Arc::new(WorkdirLock::take(dir).map_err(CliError::Input)?))
    } else {
        None
    };
    let (_, manifest) =
        checker_numa::checkpoint::read_current(dir).map_err(|e| CliError::Input(e.to_string()))?;
    let saved = manifest.identity.model_spec;
    match given {
        Some(given) if !same_model(&given, &saved) => Err(CliError::Input(format!(
            "the checkpoint in {} is for `{}`, not `{}`",
            dir.display(),
            saved.join(" "),
            given.join(" ")
        ))),
        _ if saved.is_empty() => Err(CliError::Input(format!(
            "the checkpoint in {} names no model",
            dir.display()
        ))),
        _ => Ok((
            saved,
            Some(Resuming {
                saved: manifest.settings,
                lock,
            }),
        )),
    }
}

/// `word` made absolute if it is a DVE path (without resolving links, so that messages
/// name the file as the user did); as it is otherwise.
fn absolute_dve_path(word: &str) -> String {
    if !is_dve_path(word) {
        return word.to_string();
    }
    std::path::absolute(word)
        .ok()
        .and_then(|p| p.to_str().map(String::from))
        .unwrap_or_else(|| word.to_string())
}

/// Whether the model given on the command line is the one a checkpoint names: the same
/// words; the same parameters and a DVE path that leads to the same file (the
/// checkpoint may hold a path as typed before paths were kept absolute, relative to
/// the directory it was started in); or a bundled model whose parameters, written
/// another way (`twophase 007`, `synthetic branching=3 states=1000`), make the same
/// model.
fn same_model(given: &[String], saved: &[String]) -> bool {
    if given == saved {
        return true;
    }
    match (given.split_first(), saved.split_first()) {
        (Some((g, g_params)), Some((s, s_params))) if is_dve_path(g) && g_params == s_params => {
            matches!(
                (std::fs::canonicalize(g), std::fs::canonicalize(s)),
                (Ok(a), Ok(b)) if a == b
            )
        }
        (Some((g, _)), Some((s, _))) if !is_dve_path(g) && !is_dve_path(s) => {
            bundled_model_name(given).is_some_and(|name| bundled_model_name(saved) == Some(name))
        }
        _ => false,
    }
}

/// The name of the bundled model `spec` makes, which spells out every parameter in one
/// form (`twophase 007` makes `twophase 7`); `None` if it makes none.
fn bundled_model_name(spec: &[String]) -> Option<String> {
    struct Name;
    impl ModelVisitor for Name {
        type Output = String;
        fn visit<M: Model + 'static>(self, model: M) -> String {
            model.name()
        }
    }
    let (name, params) = spec.split_first()?;
    fixtures::with_model(name, params, Name).ok()
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
    resuming: Option<Resuming>,
    json: Option<&'a JsonSink>,
}

impl ModelVisitor for CheckVisitor<'_> {
    type Output = Result<u8, CliError>;

    fn visit<M: Model + 'static>(self, model: M) -> Self::Output {
        // A DVE model is identified by its source too, so that a resumed run refuses
        // a file that changed since the checkpoint.
        let digest = match self.spec.first() {
            Some(path) if is_dve_path(path) => {
                let source = checker_dve::read_source(std::path::Path::new(path))
                    .map_err(|e| CliError::Input(e.to_string()))?;
                Some(format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&source)))
            }
            _ => None,
        };
        let identity = identity(&model, self.spec.to_vec(), digest);
        check_model(&model, self.args, identity, self.resuming, self.json)
    }
}

/// `path` as one word of a shell command: quoted if it needs to be (spaces, quotes,
/// `$`...), so that the printed resume command can be pasted as it is.
fn shell_word(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    shlex::try_quote(&text).map_or_else(|_| text.to_string(), |quoted| quoted.into_owned())
}

/// What to add to the resume command of a run stopped at a budget that `source` set.
fn how_to_raise(source: BudgetSource) -> &'static str {
    match source {
        BudgetSource::Given | BudgetSource::Available => " --memory LARGER",
        BudgetSource::AddressSpace => ", after raising `ulimit -v`",
        BudgetSource::DataSize => ", after raising `ulimit -d`",
        BudgetSource::Cgroup => ", with a larger cgroup memory limit",
        BudgetSource::Commit => ", once more memory can be committed",
    }
}

/// The work directory: given, resumed, or a new one made under the current one (then
/// owned by this run, and removed after it unless it holds a checkpoint).
fn workdir(args: &CheckArgs) -> Result<(PathBuf, Option<OwnedWorkdir>), CliError> {
    if let Some(dir) = &args.resume {
        return Ok((dir.clone(), None));
    }
    if let Some(dir) = &args.workdir {
        if dir.exists() && !dir.is_dir() {
            return Err(CliError::Input(format!(
                "--workdir {}: exists and is not a directory",
                dir.display()
            )));
        }
        if dir.join("CURRENT").exists() {
            return Err(CliError::Input(format!(
                "{} holds a checkpoint: resume it with --resume {}, or choose another --workdir",
                dir.display(),
                dir.display()
            )));
        }
        return Ok((dir.clone(), None));
    }
    let cwd =
        std::env::current_dir().map_err(|e| CliError::Input(format!("current directory: {e}")))?;
    let owned = OwnedWorkdir::create_in(&cwd, &format!("checker-work-{}", std::process::id()))
        .map_err(CliError::Input)?;
    Ok((owned.path().to_path_buf(), Some(owned)))
}

/// Checks one concrete model as `args` ask; a resumed run keeps the saved settings
/// that `args` do not change. `json` is the file for `--json`, opened.
fn check_model<M: Model>(
    model: &M,
    args: &CheckArgs,
    identity: RunIdentity,
    resuming: Option<Resuming>,
    json: Option<&JsonSink>,
) -> Result<u8, CliError> {
    let printer = ProgressPrinter::new();
    let progress = |p: &checker_core::Progress| printer.report(p);
    let interrupt = signals::interrupt_flag(json.and_then(JsonSink::created_file))?;
    let (saved, lock) = resuming.map_or_else(Default::default, |r| (r.saved, r.lock));
    let options = CheckOptions {
        max_states: args.max_states.or(saved.max_states),
        max_depth: args.max_depth.or(saved.max_depth),
        // `--no-deadlock` on a run saved with deadlock checking is refused by the
        // engine; without it, the saved setting holds.
        check_deadlock: !args.no_deadlock && saved.check_deadlock,
        progress: Some(&progress),
        progress_interval: Duration::from_secs_f64(args.progress_every),
        interrupt: Some(&interrupt),
    };
    let mut checkpoints_written = 0;
    let mut memory_budget: Option<MemoryBudget> = None;
    // (workers, CPUs they share) of an oversubscribed parallel run.
    let mut oversubscribed: Option<(usize, usize)> = None;
    // The telemetry, whether the run was answered from its checkpoint and whether its
    // workers shared expansion (parallel engine only).
    let (outcome, parallel, checkpoint): (_, Option<(Telemetry, bool, bool)>, Option<PathBuf>) =
        match args.engine {
            Engine::Sequential => (sequential::check(model, &options)?, None, None),
            Engine::Parallel => {
                let (workdir, owned) = if args.memory_log {
                    (PathBuf::new(), None)
                } else {
                    workdir(args)?
                };
                let defaults = EngineConfig::default();
                let config = EngineConfig {
                    workers: args.workers.unwrap_or(defaults.workers),
                    batch_bytes: args
                        .batch_bytes
                        .map_or(defaults.batch_bytes, |b| b as usize),
                    ring_capacity: args
                        .ring_capacity
                        .map_or(defaults.ring_capacity, |n| n as usize),
                    pin: !args.no_pin,
                    share_expansion: if args.no_share {
                        ExpansionSharing::Never
                    } else if args.share {
                        ExpansionSharing::Always
                    } else {
                        ExpansionSharing::Auto
                    },
                    memory_budget: args.memory,
                    // Without `--memory`, the budget is a share of the memory
                    // available; either way it fits the process's limits.
                    memory_limits: if args.memory.is_some() {
                        MemoryLimits::Process
                    } else {
                        MemoryLimits::ProcessAndAvailable
                    },
                    persistence: (!args.memory_log).then(|| Persistence {
                        workdir: workdir.clone(),
                        checkpoint_every: args.checkpoint_every,
                        resume: args.resume.is_some(),
                        identity,
                        lock: lock.clone(),
                    }),
                    ..defaults
                };
                let result = checker_numa::check(model, &options, &config);
                if let (
                    Some(owned),
                    Ok(ParallelOutcome {
                        checkpoint: Some(_),
                        ..
                    }),
                ) = (owned, &result)
                {
                    owned.keep();
                }
                let result = result?;
                checkpoints_written = result.checkpoints_written;
                memory_budget = result.memory_budget;
                oversubscribed = result
                    .plan
                    .oversubscribed
                    .then_some((result.plan.workers.len(), result.plan.cpus));
                (
                    result.outcome,
                    Some((
                        result.telemetry,
                        result.answered_from_checkpoint,
                        result.expansion_shared,
                    )),
                    result.checkpoint,
                )
            }
        };
    printer.finish();
    let run = match &parallel {
        Some((telemetry, answered_from_checkpoint, expansion_shared)) => EngineRun::Parallel {
            telemetry,
            answered_from_checkpoint: *answered_from_checkpoint,
            expansion_shared: *expansion_shared,
        },
        None => EngineRun::Sequential,
    };
    out!("{}", report::render(&outcome, run));
    if checkpoints_written > 0 {
        outln!("  checkpoints written:   {checkpoints_written}");
    }
    if let Some((workers, cpus)) = oversubscribed {
        outln!(
            "  oversubscribed:        {workers} workers shared {cpus} CPU{}: the times and utilisation say nothing about scaling{}",
            if cpus == 1 { "" } else { "s" },
            // Off by default, not because `--no-share` asked for it.
            if !args.no_share
                && matches!(
                    run,
                    EngineRun::Parallel {
                        answered_from_checkpoint: false,
                        expansion_shared: false,
                        ..
                    }
                )
            {
                "; expansion sharing was off (`--share` turns it on)"
            } else {
                ""
            }
        );
    }
    if let Verdict::Partial {
        reason: reason @ (StopReason::MemoryBudget | StopReason::Interrupted),
    } = &outcome.verdict
    {
        let why = match (reason, memory_budget) {
            (StopReason::MemoryBudget, Some(budget)) => {
                format!("the memory budget ({budget}) is reached")
            }
            (StopReason::MemoryBudget, None) => "the memory budget is reached".to_string(),
            _ => "the run was interrupted".to_string(),
        };
        match &checkpoint {
            Some(dir) => outln!(
                "Stopped because {why}. Checkpoint written to {}; continue with: checker check --resume {}{}",
                dir.display(),
                shell_word(dir),
                match (reason, memory_budget) {
                    (StopReason::MemoryBudget, Some(budget)) => how_to_raise(budget.source),
                    (StopReason::MemoryBudget, None) => " --memory LARGER",
                    _ => "",
                }
            ),
            None => outln!(
                "Stopped because {why}. No checkpoint: {}",
                if args.engine == Engine::Sequential {
                    "the sequential checker writes none"
                } else {
                    "--memory-log keeps no work directory"
                }
            ),
        }
    }
    if let Some(sink) = json {
        let extras = JsonExtras {
            checkpoints_written,
            memory_budget,
            oversubscribed: (args.engine == Engine::Parallel).then_some(oversubscribed.is_some()),
            expansion_shared: parallel.as_ref().map(|&(_, _, shared)| shared),
        };
        sink.write_with(|out| report::write_json(out, &outcome, run, extras))?;
    }
    Ok(outcome.exit_code() as u8)
}

#[cfg(test)]
mod tests {
    use super::shell_word;
    use std::path::Path;

    /// The resume command printed after a stop can be pasted into a shell as it is.
    #[test]
    fn paths_are_quoted_for_the_shell_only_when_they_need_it() {
        assert_eq!(shell_word(Path::new("work/run-1")), "work/run-1");
        assert_eq!(
            shell_word(Path::new("dir with spaces")),
            "'dir with spaces'"
        );
        assert_eq!(shell_word(Path::new("it's")), r#""it's""#);
        assert_eq!(shell_word(Path::new("$HOME")), "'$HOME'");
    }
}
