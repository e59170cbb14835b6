//! One timed run: `checker check` in a child process of the current executable, its
//! `--json` report read back.
//!
//! A child per run keeps the measurements honest: its peak RSS (`VmHWM`) is its own
//! run's alone, not the high-water mark of every run before it, and no allocator state
//! or warm cache carries over from one run to the next.

use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use checker_numa::{LevelTelemetry, Telemetry, WorkerTelemetry};

use crate::error::CliError;

/// Which engine a run uses, and with how many workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Config {
    /// The sequential reference checker (`--engine sequential`): the baseline.
    Sequential,
    /// The parallel engine with this many workers.
    Parallel(usize),
}

impl Config {
    /// `sequential` or `parallel`, as `--engine` spells it.
    pub fn engine(self) -> &'static str {
        match self {
            Config::Sequential => "sequential",
            Config::Parallel(_) => "parallel",
        }
    }

    /// Threads doing the search: 1 for the sequential checker.
    pub fn workers(self) -> usize {
        match self {
            Config::Sequential => 1,
            Config::Parallel(n) => n,
        }
    }

    /// A file name stem for the run's raw report, e.g. `parallel-w4`.
    pub fn file_stem(self) -> String {
        match self {
            Config::Sequential => "sequential".to_string(),
            Config::Parallel(n) => format!("parallel-w{n}"),
        }
    }
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Config::Sequential => f.write_str("sequential"),
            Config::Parallel(1) => f.write_str("parallel, 1 worker"),
            Config::Parallel(n) => write!(f, "parallel, {n} workers"),
        }
    }
}

/// `checker check` flags every run of a sweep passes on unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckFlags {
    /// `--no-deadlock`.
    pub no_deadlock: bool,
    /// `--max-states N`.
    pub max_states: Option<u64>,
    /// `--batch-bytes BYTES` (parallel runs only).
    pub batch_bytes: Option<u64>,
    /// `--ring-capacity N` (parallel runs only).
    pub ring_capacity: Option<u64>,
    /// `--no-pin` (parallel runs only).
    pub no_pin: bool,
    /// `--no-share` (parallel runs only).
    pub no_share: bool,
    /// `--share` (parallel runs only).
    pub share: bool,
    /// `--memory-log` (parallel runs only).
    pub memory_log: bool,
}

/// The arguments of the child `checker check` for `model_words` (the model and its
/// parameters) under `config`, writing its report to `json`.
pub fn child_args(
    model_words: &[String],
    config: Config,
    flags: &CheckFlags,
    json: &Path,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--engine".into()];
    args.push(config.engine().into());
    if let Config::Parallel(n) = config {
        args.push("--workers".into());
        args.push(n.to_string().into());
        if let Some(bytes) = flags.batch_bytes {
            args.push("--batch-bytes".into());
            args.push(bytes.to_string().into());
        }
        if let Some(n) = flags.ring_capacity {
            args.push("--ring-capacity".into());
            args.push(n.to_string().into());
        }
        if flags.no_pin {
            args.push("--no-pin".into());
        }
        if flags.no_share {
            args.push("--no-share".into());
        }
        if flags.share {
            args.push("--share".into());
        }
        if flags.memory_log {
            args.push("--memory-log".into());
        }
    }
    push_search_flags(&mut args, flags);
    // Progress lines would only cost time; the child's stdout is read only for why it
    // stopped.
    args.push("--progress-every".into());
    args.push("86400".into());
    args.push(json_flag(json));
    subcommand_line("check", model_words, args)
}

/// `subcommand` with `model_words` (the model and its parameters) and `flags`. The
/// words come first, as a person would type them, unless one starts with `-` (a DVE
/// file named `-m.dve`), which the child would take for a flag: then they come last,
/// after every flag and a `--`, so that each is taken as it is.
fn subcommand_line(
    subcommand: &str,
    model_words: &[String],
    flags: Vec<OsString>,
) -> Vec<OsString> {
    let words = model_words.iter().map(OsString::from);
    let mut args: Vec<OsString> = vec![subcommand.into()];
    if model_words.iter().any(|w| w.starts_with('-')) {
        args.extend(flags);
        args.push("--".into());
        args.extend(words);
    } else {
        args.extend(words);
        args.extend(flags);
    }
    args
}

/// The flags that change the search itself (what it explores and when it stops), which
/// every child passes on: `--no-deadlock` and `--max-states N`.
fn push_search_flags(args: &mut Vec<OsString>, flags: &CheckFlags) {
    if flags.no_deadlock {
        args.push("--no-deadlock".into());
    }
    if let Some(n) = flags.max_states {
        args.push("--max-states".into());
        args.push(n.to_string().into());
    }
}

/// The fields of a `checker check --json` report that a sweep uses.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ChildReport {
    /// The model's name with parameters.
    pub model: String,
    /// Distinct states stored.
    pub distinct: u64,
    /// States generated.
    pub generated: u64,
    /// BFS levels.
    pub depth: u32,
    /// Wall time of the search in seconds (model building and process start excluded).
    pub elapsed: f64,
    /// The verdict.
    pub verdict: VerdictReport,
    /// The child's peak resident set size, where the OS reports it.
    pub peak_rss_bytes: Option<u64>,
    /// Per-worker figures; absent for the sequential checker.
    pub telemetry: Option<TelemetryReport>,
}

/// The `verdict` object of a report.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct VerdictReport {
    /// `holds`, `partial` or `violated`.
    pub verdict: String,
}

/// The `telemetry` object of a report.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TelemetryReport {
    /// One entry per worker.
    pub workers: Vec<WorkerReport>,
    /// Each completed level combined over the workers (absent from older reports).
    #[serde(default)]
    pub levels: Vec<LevelTelemetry>,
}

/// One worker's time split and traffic, as the report carries them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct WorkerReport {
    /// Worker number.
    pub worker: usize,
    /// Wall time from start to end of its search.
    pub wall_s: f64,
    /// Generating successors.
    pub expanding_s: f64,
    /// Storing states other workers sent.
    pub receiving_s: f64,
    /// Handing batches to mailboxes.
    pub sending_s: f64,
    /// Nothing to do.
    pub idle_s: f64,
    /// Of `idle_s`, waiting for other workers' end-of-level markers (absent from
    /// reports of older versions).
    #[serde(default)]
    pub idle_markers_s: f64,
    /// Of `idle_s`, waiting for other workers' summaries (absent from older reports).
    #[serde(default)]
    pub idle_summaries_s: f64,
    /// Of `idle_s`, waiting for a share's answer (absent from older reports).
    #[serde(default)]
    pub idle_share_answers_s: f64,
    /// Batches sent to other workers.
    pub batches_sent: u64,
    /// States sent to other workers.
    pub states_sent: u64,
    /// States expanded (absent from reports of older versions).
    #[serde(default)]
    pub expanded: u64,
    /// States of other workers' frontiers expanded for them (absent from reports of
    /// older versions).
    #[serde(default)]
    pub states_taken: u64,
}

impl TelemetryReport {
    /// The engine's own telemetry type, so that utilisation, idle share and batch fill
    /// are computed by the engine's definitions, not re-derived here.
    pub fn to_telemetry(&self) -> Telemetry {
        Telemetry {
            workers: self
                .workers
                .iter()
                .map(|w| WorkerTelemetry {
                    worker: w.worker,
                    wall_s: w.wall_s,
                    expanding_s: w.expanding_s,
                    receiving_s: w.receiving_s,
                    sending_s: w.sending_s,
                    idle_s: w.idle_s,
                    idle_markers_s: w.idle_markers_s,
                    idle_summaries_s: w.idle_summaries_s,
                    idle_share_answers_s: w.idle_share_answers_s,
                    batches_sent: w.batches_sent,
                    states_sent: w.states_sent,
                    expanded: w.expanded,
                    states_taken: w.states_taken,
                    ..Default::default()
                })
                .collect(),
            levels: self.levels.clone(),
        }
    }
}

/// Runs `exe` with `args` (from [`child_args`], writing to `json`) and reads its
/// report. Exit codes 0 (holds) and 1 (violation found) are both complete runs; any
/// other ending is an error naming the command and why (see [`child_failure`]).
pub fn run_child(exe: &Path, args: &[OsString], json: &Path) -> Result<ChildReport, CliError> {
    run_child_json(exe, args, json)
}

/// The arguments of the child `checker ceiling` that runs `copies` 1-worker checks of
/// `model_words` at once, `rounds` times, writing its report to `json`. Only the flags
/// that change the search itself are passed on.
pub fn ceiling_args(
    model_words: &[String],
    copies: usize,
    rounds: u32,
    flags: &CheckFlags,
    json: &Path,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--copies".into()];
    args.push(copies.to_string().into());
    args.push("--rounds".into());
    args.push(rounds.to_string().into());
    push_search_flags(&mut args, flags);
    args.push(json_flag(json));
    subcommand_line("ceiling", model_words, args)
}

/// `--json=PATH` as one argument: a separate PATH that starts with `-` (an `--out`
/// named `-results`) would be taken by the child for a flag.
fn json_flag(json: &Path) -> OsString {
    let mut flag = OsString::from("--json=");
    flag.push(json);
    flag
}

/// The fields of a `checker ceiling --json` report that a sweep uses.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CeilingReport {
    /// Distinct states each check stored.
    pub distinct: u64,
    /// How much longer the copies took than one check alone (median over rounds).
    pub slowdown: f64,
    /// Copies divided by the slowdown: the best speedup that many workers can show.
    pub ceiling: f64,
}

/// Runs `exe` with `args`, which write a JSON report to `json`, and reads that report
/// as a `T`; see [`run_child`] for what counts as a complete run.
pub fn run_child_json<T: serde::de::DeserializeOwned>(
    exe: &Path,
    args: &[OsString],
    json: &Path,
) -> Result<T, CliError> {
    // A report left from an earlier sweep must not pass for this run's.
    let _ = std::fs::remove_file(json);
    let output = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        // Read only for a "Stopped because ..." line (progress lines are off).
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| CliError::Input(format!("cannot start {}: {e}", exe.display())))?;
    let command = || format!("`checker {}`", display_args(args));
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(child_failure(
            &command(),
            output.status,
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
        ));
    }
    let text = std::fs::read_to_string(json).map_err(|e| {
        CliError::Input(format!(
            "{} wrote no report {}: {e}",
            command(),
            json.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::Input(format!("{}: not the report expected: {e}", json.display())))
}

/// What to say of a child `command` that ended with `status` (not 0 or 1), given
/// what it wrote: an input error (exit 2) in the child's own words; a stop (exit 3,
/// the memory budget or a signal) with the child's "Stopped because ..." line, which
/// says why and where its checkpoint is, as a [`CliError::Stopped`] so that the sweep
/// ends with exit code 3 too; otherwise the exit code and the child's first error
/// line, or that it was killed.
fn child_failure(command: &str, status: ExitStatus, stdout: &str, stderr: &str) -> CliError {
    let first_error = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_start_matches("error: ");
    match status.code() {
        // A usage or input error (a bad model name or parameter, passed on
        // verbatim): the child's message says it all.
        Some(2) if !first_error.is_empty() => CliError::Input(first_error.to_string()),
        Some(3) => CliError::Stopped(
            match stdout.lines().find_map(|l| l.strip_prefix("Stopped ")) {
                Some(why) => format!("{command} stopped (exit code 3) {why}"),
                None => format!("{command} stopped (exit code 3): {first_error}"),
            },
        ),
        Some(code) => CliError::Input(format!(
            "{command} failed with exit code {code}: {first_error}"
        )),
        None => CliError::Input(format!("{command} was killed ({status}); out of memory?")),
    }
}

/// Arguments joined with spaces, each quoted where a shell would need it.
pub fn display_args<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| shell_word(&a.as_ref().to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word`, single-quoted unless it is made only of characters no shell treats specially.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_args_pass_engine_workers_and_flags() {
        let words = vec!["twophase".to_string(), "3".to_string()];
        let flags = CheckFlags {
            no_deadlock: true,
            max_states: Some(10),
            batch_bytes: Some(4096),
            ring_capacity: Some(8),
            no_pin: true,
            no_share: true,
            share: false,
            memory_log: true,
        };
        let args = child_args(&words, Config::Parallel(2), &flags, Path::new("/t/r.json"));
        assert_eq!(
            display_args(&args),
            "check twophase 3 --engine parallel --workers 2 --batch-bytes 4096 --ring-capacity 8 --no-pin --no-share --memory-log --no-deadlock --max-states 10 --progress-every 86400 --json=/t/r.json"
        );
        let share = CheckFlags {
            no_share: false,
            share: true,
            ..flags.clone()
        };
        let args = child_args(&words, Config::Parallel(2), &share, Path::new("/t/r.json"));
        assert!(display_args(&args).contains(" --no-pin --share --memory-log "));
        let args = child_args(&words, Config::Sequential, &flags, Path::new("r.json"));
        let text = display_args(&args);
        assert!(text.starts_with("check twophase 3 --engine sequential --no-deadlock"));
        assert!(!text.contains("--workers") && !text.contains("--no-pin"));
        assert!(
            !text.contains("--memory-log"),
            "the sequential checker has no log"
        );
    }

    #[test]
    fn ceiling_args_pass_the_search_flags_only() {
        let words = vec!["grid".to_string(), "8".to_string(), "7".to_string()];
        let flags = CheckFlags {
            no_deadlock: true,
            max_states: Some(10),
            batch_bytes: Some(4096),
            ring_capacity: Some(8),
            no_pin: true,
            no_share: true,
            share: false,
            memory_log: true,
        };
        let args = ceiling_args(&words, 16, 3, &flags, Path::new("/t/c.json"));
        assert_eq!(
            display_args(&args),
            "ceiling grid 8 7 --copies 16 --rounds 3 --no-deadlock --max-states 10 --json=/t/c.json"
        );
        let args = ceiling_args(&words, 2, 1, &CheckFlags::default(), Path::new("c.json"));
        assert_eq!(
            display_args(&args),
            "ceiling grid 8 7 --copies 2 --rounds 1 --json=c.json"
        );
    }

    #[test]
    fn model_words_that_start_with_a_dash_come_last_after_a_double_dash() {
        let words = vec!["-m.dve".to_string(), "x".to_string()];
        let flags = CheckFlags {
            no_deadlock: true,
            ..CheckFlags::default()
        };
        let args = child_args(&words, Config::Sequential, &flags, Path::new("r.json"));
        assert_eq!(
            display_args(&args),
            "check --engine sequential --no-deadlock --progress-every 86400 --json=r.json -- -m.dve x"
        );
        // So does an `--out` whose name starts with a dash: `--json=` keeps it a path.
        let args = child_args(
            &words,
            Config::Sequential,
            &flags,
            Path::new("-o/runs/r.json"),
        );
        assert!(display_args(&args).contains(" --json=-o/runs/r.json -- "));
        let words = vec!["m.dve".to_string(), "-1".to_string()];
        let args = ceiling_args(&words, 2, 1, &flags, Path::new("c.json"));
        assert_eq!(
            display_args(&args),
            "ceiling --copies 2 --rounds 1 --no-deadlock --json=c.json -- m.dve -1"
        );
    }

    #[test]
    fn a_failed_child_is_reported_with_its_reason() {
        use std::os::unix::process::ExitStatusExt;
        let exit = |code: i32| ExitStatus::from_raw(code << 8);
        let command = "`checker check twophase 9`";
        let failure = |status, stdout, stderr| {
            let e = child_failure(command, status, stdout, stderr);
            (e.exit_code(), e.to_string())
        };
        assert_eq!(
            failure(exit(2), "", "error: no bundled model `x`\n"),
            (2, "no bundled model `x`".to_string())
        );
        let stdout = "distinct states: 12\nStopped because the memory budget (1.0 MiB, as given) is reached. Checkpoint written to w; continue with: checker check --resume w --memory LARGER\n";
        assert_eq!(
            failure(exit(3), stdout, ""),
            (3, "`checker check twophase 9` stopped (exit code 3) because the memory budget (1.0 MiB, as given) is reached. Checkpoint written to w; continue with: checker check --resume w --memory LARGER".to_string())
        );
        assert_eq!(
            failure(exit(3), "", "error: odd\n"),
            (
                3,
                "`checker check twophase 9` stopped (exit code 3): odd".to_string()
            )
        );
        assert_eq!(
            failure(exit(101), "", "thread 'main' panicked\n"),
            (
                2,
                "`checker check twophase 9` failed with exit code 101: thread 'main' panicked"
                    .to_string()
            )
        );
        assert_eq!(
            failure(ExitStatus::from_raw(9), "", ""),
            (
                2,
                "`checker check twophase 9` was killed (signal: 9 (SIGKILL)); out of memory?"
                    .to_string()
            )
        );
    }

    #[test]
    fn quotes_words_a_shell_would_split() {
        assert_eq!(
            display_args(&["a b", "it's", "x=1"]),
            r"'a b' 'it'\''s' x=1"
        );
    }

    #[test]
    fn names_configs() {
        assert_eq!(Config::Parallel(1).to_string(), "parallel, 1 worker");
        assert_eq!(Config::Parallel(4).file_stem(), "parallel-w4");
        assert_eq!(Config::Sequential.workers(), 1);
    }

    #[test]
    fn parses_a_report() {
        let text = r#"{"model":"grid 1 2","distinct":2,"generated":3,"depth":2,
            "level_sizes":[1,1],"deadlocks":0,"verdict":{"verdict":"holds"},"elapsed":0.5,
            "peak_rss_bytes":1000,"utilisation":null,"telemetry":{"workers":[{"worker":0,
            "wall_s":1.0,"expanding_s":0.5,"receiving_s":0.1,"sending_s":0.1,"idle_s":0.3,
            "idle_markers_s":0.2,"idle_summaries_s":0.06,"idle_share_answers_s":0.04,
            "batches_sent":2,"states_sent":8,"owned":2,"expanded":4,"states_taken":1}]}}"#;
        let report: ChildReport = serde_json::from_str(text).unwrap();
        assert_eq!((report.distinct, report.generated), (2, 3));
        let telemetry = report.telemetry.unwrap().to_telemetry();
        assert!((telemetry.idle_share() - 0.3).abs() < 1e-12);
        let [share, markers, summaries] = telemetry.idle_by_wait();
        assert!((share - 0.04).abs() < 1e-12 && (markers - 0.2).abs() < 1e-12);
        assert!((summaries - 0.06).abs() < 1e-12);
        assert_eq!(telemetry.mean_batch_fill(), 4.0);
        assert_eq!(telemetry.shared_expansion(), 0.25);
    }
}
