//! `checker bench`: how well a model scales on this machine and where the time goes,
//! in one command.
//!
//! The sweep runs the sequential checker and the parallel engine at each worker count,
//! each run a separate `checker check` child process, repeated; it writes
//! `results.csv`, `results.json`, `scaling.svg` and `workers.svg` to the output
//! directory (with each child's raw report under `runs/`) and prints a table of
//! medians with their spread. See docs/scaling.md for how to read them.

mod files;
mod machine;
mod plot;
mod progress;
mod rows;
mod runner;
mod sweep;
mod table;
mod workers;

use crate::output::{errln, out, outln};
use clap::Args;
use std::path::{Path, PathBuf};

use crate::error::CliError;
use crate::model_arg::with_any_model;
use checker_numa::workdir_lock::WorkdirLock;
use machine::Machine;
use progress::SweepProgress;
use runner::CheckFlags;
use sweep::SweepSpec;
use workers::{check_against_cpus, parse_worker_list, WorkerList};

/// Arguments of `checker bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A bundled model name (see `checker list`) or a path to a `.dve` file.
    pub model: String,
    /// The model's parameters, as `checker check` takes them.
    pub params: Vec<String>,
    /// Worker counts to time, comma-separated; 1 is always included (speedups are
    /// measured against it) [default: powers of two up to the CPU count, and it].
    #[arg(long, value_name = "LIST", value_parser = parse_worker_list)]
    pub workers: Option<WorkerList>,
    /// Runs per configuration; the table shows medians and the spread.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Directory for results.csv, results.json, scaling.svg, workers.svg and runs/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Allow more workers than CPUs (the times of such runs mean nothing).
    #[arg(long)]
    pub oversubscribe: bool,
    /// Do not report states without successors as errors (passed to every run).
    #[arg(long)]
    pub no_deadlock: bool,
    /// Stop each run after the first level with at least N distinct states.
    #[arg(long, value_name = "N", value_parser = crate::args::parse_positive::<u64>)]
    pub max_states: Option<u64>,
    /// Bytes per batch of states sent between workers.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub batch_bytes: Option<u64>,
    /// Batches each (sender, receiver) ring holds.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub ring_capacity: Option<u64>,
    /// Do not pin worker threads to CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// Each worker expands only its own frontier (passed to every parallel run).
    #[arg(long)]
    pub no_share: bool,
    /// Share expansion even in runs with more workers than CPUs (passed to every
    /// parallel run).
    #[arg(long, conflicts_with = "no_share")]
    pub share: bool,
    /// Keep parent logs in memory instead of the default work-directory files
    /// (passed to every parallel run): shows what the disk log costs.
    #[arg(long)]
    pub memory_log: bool,
    /// Also measure the machine's own ceiling at each worker count N above 1 (up to
    /// the CPU count): N independent 1-worker checks at once against one alone, as
    /// `checker ceiling --copies N --rounds REPEAT` does; shown beside the speedup.
    #[arg(long)]
    pub ceiling: bool,
}

/// Runs `checker bench`; returns the exit code.
pub fn run(args: &BenchArgs) -> Result<u8, CliError> {
    let topology = checker_numa::topology::detect();
    let machine = Machine::describe(&topology);
    let workers = args
        .workers
        .clone()
        .unwrap_or_else(|| WorkerList::default_for(machine.cpus));
    let warning =
        check_against_cpus(&workers, machine.cpus, args.oversubscribe).map_err(CliError::Input)?;
    let model_words: Vec<String> = std::iter::once(args.model.clone())
        .chain(args.params.iter().cloned())
        .collect();
    // The model and its parameters are checked before anything is written.
    with_any_model(&model_words, Builds)?;
    // Held until the sweep's files are written: a second sweep into `--out` is refused.
    let (runs_dir, _lock) = prepare_out_dir(&args.out)?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Input(format!("cannot find the checker executable: {e}")))?;
    if let Some(warning) = &warning {
        errln!("{warning}");
    }
    let flags = CheckFlags {
        no_deadlock: args.no_deadlock,
        max_states: args.max_states,
        batch_bytes: args.batch_bytes,
        ring_capacity: args.ring_capacity,
        no_pin: args.no_pin,
        no_share: args.no_share,
        share: args.share,
        memory_log: args.memory_log,
    };
    let ceiling_copies: Vec<usize> = if args.ceiling {
        ceiling_counts(workers.counts(), machine.cpus)
    } else {
        Vec::new()
    };
    let spec = SweepSpec {
        exe: &exe,
        model_words: &model_words,
        flags: &flags,
        workers: &workers,
        repeats: args.repeat,
        runs_dir: &runs_dir,
        ceiling_copies: &ceiling_copies,
    };
    let mut progress = SweepProgress::new(sweep::run_count(&spec));
    let result = sweep::run_sweep(&spec, &mut progress);
    progress.clear();
    let sweep = result?;
    let figures = rows::figures(&sweep);
    let info = files::SweepInfo {
        command: command_line(),
        model_args: model_words,
        repeats: args.repeat,
        workers: workers.counts().to_vec(),
        oversubscribed: warning.is_some(),
        machine,
    };
    let title = sweep.runs[0].report.model.clone();
    let out = &args.out;
    files::write_csv(&out.join("results.csv"), &figures.runs).map_err(CliError::Input)?;
    write_file(
        &out.join("results.json"),
        &files::json(&info, &sweep, &figures),
    )?;
    let svg_error = |path: &Path, e: Box<dyn std::error::Error>| {
        CliError::Input(format!("{}: {e}", path.display()))
    };
    let scaling = out.join("scaling.svg");
    plot::draw_scaling(&scaling, &title, &figures.summary).map_err(|e| svg_error(&scaling, e))?;
    let workers_svg = out.join("workers.svg");
    if let Some(split) = &figures.split {
        plot::draw_workers(&workers_svg, &title, split).map_err(|e| svg_error(&workers_svg, e))?;
    }
    let first = &sweep.runs[0].report;
    outln!(
        "{title}: {} distinct, {} generated states, {} levels ({}); {} repeat{} per configuration",
        crate::report::thousands(first.distinct),
        crate::report::thousands(first.generated),
        first.depth,
        first.verdict.verdict,
        args.repeat,
        if args.repeat == 1 { "" } else { "s" }
    );
    outln!("machine: {}", info.machine.summary());
    out!("{}", table::render(&figures.summary));
    if let Some(line) = table::idle_line(&figures.summary) {
        outln!("{line}");
    }
    if let Some(warning) = &warning {
        outln!("{warning}");
    }
    outln!(
        "wrote {0}/results.csv, {0}/results.json, {0}/scaling.svg, {0}/workers.svg and {0}/runs/",
        out.display()
    );
    Ok(0)
}

/// The worker counts whose ceiling `--ceiling` measures: those above 1 (the ceiling
/// at 1 is 1) that do not exceed the CPUs (copies sharing a CPU measure nothing).
fn ceiling_counts(counts: &[usize], cpus: usize) -> Vec<usize> {
    counts
        .iter()
        .copied()
        .filter(|&n| n >= 2 && n <= cpus)
        .collect()
}

/// A model visitor that only builds the model (so that bad parameters are reported).
struct Builds;

impl fixtures::ModelVisitor for Builds {
    type Output = ();
    fn visit<M: checker_core::Model + 'static>(self, _: M) {}
}

/// Creates `out` and `out/runs`, takes the lock on `runs/` (another sweep into the
/// same `--out` would remove and read this one's reports) and removes the raw reports
/// an earlier sweep left there, so that `runs/` holds this sweep's only (other files
/// are left alone). Refuses a path that exists and is not a directory.
fn prepare_out_dir(out: &Path) -> Result<(PathBuf, WorkdirLock), CliError> {
    if out.exists() && !out.is_dir() {
        return Err(CliError::Input(format!(
            "--out {}: exists and is not a directory",
            out.display()
        )));
    }
    // Checked before the sweep, not found after it: a FIFO no process reads would
    // block the write for ever, a directory would fail it.
    for name in RESULT_FILES {
        let path = out.join(name);
        // A symbolic link counts as what it leads to, which the write follows.
        match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_file() => {
                return Err(CliError::Input(format!(
                    "--out {}: {name} exists and is not a regular file",
                    out.display()
                )))
            }
            _ => {}
        }
    }
    let runs = out.join("runs");
    let fail = |e: &dyn std::fmt::Display| CliError::Input(format!("--out {}: {e}", out.display()));
    std::fs::create_dir_all(&runs).map_err(|e| fail(&e))?;
    let lock = WorkdirLock::take(&runs).map_err(|e| fail(&e))?;
    for entry in std::fs::read_dir(&runs).map_err(|e| fail(&e))? {
        let entry = entry.map_err(|e| fail(&e))?;
        let stale = entry
            .file_name()
            .to_str()
            .is_some_and(sweep::is_report_name)
            && entry.file_type().is_ok_and(|t| t.is_file());
        if stale {
            std::fs::remove_file(entry.path()).map_err(|e| {
                fail(&format_args!(
                    "cannot remove the earlier sweep's report {}: {e}",
                    entry.path().display()
                ))
            })?;
        }
    }
    Ok((runs, lock))
}

/// The files a sweep writes into `--out` (besides `runs/`).
const RESULT_FILES: [&str; 4] = ["results.csv", "results.json", "scaling.svg", "workers.svg"];

fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}

/// This process's command line, quoted so that it can be pasted into a shell.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    runner::display_args(&args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_names_that_are_not_regular_files_are_refused_up_front() {
        let out = std::env::temp_dir().join(format!("checker-bench-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(out.join("scaling.svg")).unwrap();
        let e = prepare_out_dir(&out).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "--out {}: scaling.svg exists and is not a regular file",
                out.display()
            )
        );
        assert!(!out.join("runs").exists(), "nothing made before refusing");
        std::fs::remove_dir(out.join("scaling.svg")).unwrap();
        std::fs::write(out.join("results.csv"), "old").unwrap();
        assert_eq!(prepare_out_dir(&out).unwrap().0, out.join("runs"));
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn ceilings_are_measured_above_one_worker_and_up_to_the_cpus() {
        assert_eq!(ceiling_counts(&[1, 2, 4, 8, 16], 16), vec![2, 4, 8, 16]);
        assert_eq!(ceiling_counts(&[1, 2, 3, 64], 2), vec![2]);
        assert!(ceiling_counts(&[1], 8).is_empty());
    }
}
