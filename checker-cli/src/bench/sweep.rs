//! A whole sweep: every (engine, worker count, repeat) run as its own child process,
//! each checked against the sequential baseline's counts, then one trivial run per
//! configuration that measures the memory a run costs before it stores any state.

use std::collections::BTreeMap;
use std::path::Path;

use super::progress::SweepProgress;
use super::runner::{
    ceiling_args, child_args, display_args, run_child, run_child_json, CeilingReport, CheckFlags,
    ChildReport, Config,
};
use super::workers::WorkerList;
use crate::error::CliError;
use crate::report::thousands;

/// The model whose runs measure a configuration's fixed memory: two states.
pub const TRIVIAL_MODEL: [&str; 3] = ["grid", "1", "2"];

/// What to run.
pub struct SweepSpec<'a> {
    /// The `checker` executable that runs each child.
    pub exe: &'a Path,
    /// The model and its parameters, as `checker check` takes them.
    pub model_words: &'a [String],
    /// Flags passed to every child.
    pub flags: &'a CheckFlags,
    /// Parallel worker counts.
    pub workers: &'a WorkerList,
    /// Runs per configuration.
    pub repeats: u32,
    /// Where each child writes its raw report.
    pub runs_dir: &'a Path,
    /// Worker counts at which to measure the machine's own ceiling (`checker
    /// ceiling`), after the timed runs; empty for none.
    pub ceiling_copies: &'a [usize],
}

/// One finished run.
#[derive(Clone, Debug)]
pub struct Run {
    /// Engine and worker count.
    pub config: Config,
    /// Which repeat, from 1.
    pub repeat: u32,
    /// What the child reported.
    pub report: ChildReport,
    /// The child's command line, to rerun it by hand.
    pub command: String,
}

/// Every run of a sweep and each configuration's fixed memory.
#[derive(Clone, Debug)]
pub struct SweepResult {
    /// In the order they ran: repeat-major, so that drift in the machine's speed
    /// (thermal limits, other load) spreads over every configuration alike.
    pub runs: Vec<Run>,
    /// Peak RSS of each configuration on [`TRIVIAL_MODEL`], where reported.
    pub baseline_rss: BTreeMap<Config, Option<u64>>,
    /// The machine's ceiling at each of [`SweepSpec::ceiling_copies`].
    pub ceilings: BTreeMap<usize, CeilingReport>,
}

/// The sequential baseline, then the parallel engine at each worker count.
pub fn configs(workers: &WorkerList) -> Vec<Config> {
    std::iter::once(Config::Sequential)
        .chain(workers.counts().iter().map(|&n| Config::Parallel(n)))
        .collect()
}

/// How many child processes [`run_sweep`] starts.
pub fn run_count(spec: &SweepSpec) -> u64 {
    let configs = configs(spec.workers).len() as u64;
    configs * u64::from(spec.repeats) + configs + spec.ceiling_copies.len() as u64
}

/// Runs the sweep. The first run is the sequential baseline, so a bad model or
/// parameter fails at once; any later run whose counts differ from it fails the sweep.
pub fn run_sweep(spec: &SweepSpec, progress: &mut SweepProgress) -> Result<SweepResult, CliError> {
    let configs = configs(spec.workers);
    let mut runs: Vec<Run> = Vec::new();
    for repeat in 1..=spec.repeats {
        for &config in &configs {
            let what = format!("{config}, repeat {repeat}/{}", spec.repeats);
            progress.start(&what);
            let json = spec.runs_dir.join(run_report_name(config, repeat));
            let args = child_args(spec.model_words, config, spec.flags, &json);
            let report = run_child(spec.exe, &args, &json)?;
            if let Some(first) = runs.first() {
                agree(&first.report, &report, &what).map_err(CliError::Input)?;
            }
            progress.finished(&what, report.elapsed);
            runs.push(Run {
                config,
                repeat,
                report,
                command: format!("checker {}", display_args(&args)),
            });
        }
    }
    let trivial: Vec<String> = TRIVIAL_MODEL.iter().map(|w| w.to_string()).collect();
    let trivial_flags = CheckFlags {
        no_deadlock: false,
        max_states: None,
        ..spec.flags.clone()
    };
    let mut baseline_rss = BTreeMap::new();
    for &config in &configs {
        let what = format!("{config}, fixed memory ({})", TRIVIAL_MODEL.join(" "));
        progress.start(&what);
        let json = spec.runs_dir.join(trivial_report_name(config));
        let args = child_args(&trivial, config, &trivial_flags, &json);
        let report = run_child(spec.exe, &args, &json)?;
        progress.finished(&what, report.elapsed);
        baseline_rss.insert(config, report.peak_rss_bytes);
    }
    let baseline = &runs[0].report;
    let mut ceilings = BTreeMap::new();
    for &copies in spec.ceiling_copies {
        let what = format!("ceiling, {copies} independent 1-worker checks at once");
        progress.start(&what);
        let json = spec.runs_dir.join(ceiling_report_name(copies));
        let args = ceiling_args(spec.model_words, copies, spec.repeats, spec.flags, &json);
        let started = std::time::Instant::now();
        let report: CeilingReport = run_child_json(spec.exe, &args, &json)?;
        if report.distinct != baseline.distinct {
            return Err(CliError::Input(format!(
                "{what} stored {} distinct states each, the sequential baseline {}: the engines disagree",
                thousands(report.distinct),
                thousands(baseline.distinct)
            )));
        }
        progress.finished(&what, started.elapsed().as_secs_f64());
        ceilings.insert(copies, report);
    }
    Ok(SweepResult {
        runs,
        baseline_rss,
        ceilings,
    })
}

/// The raw report of a timed run in `runs/`, e.g. `parallel-w4-r2.json`.
fn run_report_name(config: Config, repeat: u32) -> String {
    format!("{}-r{repeat}.json", config.file_stem())
}

/// The raw report of a configuration's fixed-memory run, e.g. `sequential-trivial.json`.
fn trivial_report_name(config: Config) -> String {
    format!("{}-trivial.json", config.file_stem())
}

/// The raw report of `checker ceiling --copies N`, e.g. `ceiling-w4.json`.
fn ceiling_report_name(copies: usize) -> String {
    format!("ceiling-w{copies}.json")
}

/// Whether `name` is one a sweep gives a raw report in `runs/` (at any worker count
/// or repeat), so that one an earlier sweep left there can be told from other files.
pub fn is_report_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let run_or_trivial =
        |rest: &str| rest == "-trivial" || rest.strip_prefix("-r").is_some_and(digits);
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    if let Some(copies) = stem.strip_prefix("ceiling-w") {
        return digits(copies);
    }
    if let Some(rest) = stem.strip_prefix("sequential") {
        return run_or_trivial(rest);
    }
    if let Some(rest) = stem.strip_prefix("parallel-w") {
        let (workers, rest) = rest.split_at(rest.find('-').unwrap_or(rest.len()));
        return digits(workers) && run_or_trivial(rest);
    }
    false
}

/// Fails unless `run` found what the sequential baseline found: every engine and
/// worker count must agree exactly, so a difference is a bug, not noise.
fn agree(baseline: &ChildReport, run: &ChildReport, what: &str) -> Result<(), String> {
    let same = baseline.distinct == run.distinct
        && baseline.generated == run.generated
        && baseline.verdict == run.verdict;
    if same {
        return Ok(());
    }
    Err(format!(
        "{what} found {} distinct / {} generated states ({}), the sequential baseline {} / {} ({}): the engines disagree",
        thousands(run.distinct),
        thousands(run.generated),
        run.verdict.verdict,
        thousands(baseline.distinct),
        thousands(baseline.generated),
        baseline.verdict.verdict
    ))
}

#[cfg(test)]
mod tests {
    use super::super::runner::VerdictReport;
    use super::super::workers::parse_worker_list;
    use super::*;

    fn report(distinct: u64, generated: u64) -> ChildReport {
        ChildReport {
            model: "m".into(),
            distinct,
            generated,
            depth: 3,
            elapsed: 1.0,
            verdict: VerdictReport {
                verdict: "holds".into(),
            },
            peak_rss_bytes: None,
            telemetry: None,
        }
    }

    #[test]
    fn configs_start_with_the_sequential_baseline() {
        let list = parse_worker_list("2,4").unwrap();
        assert_eq!(
            configs(&list),
            vec![
                Config::Sequential,
                Config::Parallel(1),
                Config::Parallel(2),
                Config::Parallel(4)
            ]
        );
    }

    #[test]
    fn report_names_are_told_from_other_files() {
        for config in [
            Config::Sequential,
            Config::Parallel(1),
            Config::Parallel(64),
        ] {
            assert!(is_report_name(&run_report_name(config, 1)));
            assert!(is_report_name(&run_report_name(config, 1000)));
            assert!(is_report_name(&trivial_report_name(config)));
        }
        assert!(is_report_name(&ceiling_report_name(16)));
        for other in [
            "notes.txt",
            "my.json",
            "sequential.json",
            "sequential-r.json",
            "sequential-r1.json.bak",
            "sequential-rx.json",
            "parallel-w-r1.json",
            "parallel-w2.json",
            "parallel-w2-r1-old.json",
            "parallel-wx-trivial.json",
            "ceiling-w.json",
            "ceiling-w2-r1.json",
            "LOCK",
        ] {
            assert!(!is_report_name(other), "{other}");
        }
    }

    #[test]
    fn differing_counts_fail_loudly() {
        assert!(agree(&report(10, 20), &report(10, 20), "x").is_ok());
        let err = agree(&report(10, 20), &report(9, 20), "parallel, 2 workers").unwrap_err();
        assert!(
            err.contains("9 distinct") && err.contains("disagree"),
            "{err}"
        );
        assert!(agree(&report(10, 20), &report(10, 21), "x").is_err());
    }
}
