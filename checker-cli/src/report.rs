//! The end-of-run summary, as text and as JSON.

use serde::Serialize;
use std::fmt::Write;

use checker_core::{Outcome, StopReason, Verdict, ViolationKind};
use checker_numa::process_limits::MemoryBudget;
use checker_numa::{Spread, Telemetry};

/// Which engine ran, with what the summary says of it.
#[derive(Clone, Copy, Debug)]
pub enum EngineRun<'a> {
    /// The sequential reference checker.
    Sequential,
    /// The parallel engine.
    Parallel {
        /// Its per-worker and per-level figures.
        telemetry: &'a Telemetry,
        /// The run was answered from its checkpoint's manifest, no worker started
        /// (`checker_numa::ParallelOutcome::answered_from_checkpoint`).
        answered_from_checkpoint: bool,
        /// The workers shared expansion
        /// (`checker_numa::ParallelOutcome::expansion_shared`).
        expansion_shared: bool,
    },
}

impl<'a> EngineRun<'a> {
    fn telemetry(self) -> Option<&'a Telemetry> {
        match self {
            EngineRun::Sequential => None,
            EngineRun::Parallel { telemetry, .. } => Some(telemetry),
        }
    }
}

/// A level that expands fewer states than this per worker counts as small on the
/// `idle by level` line: about half a millisecond of work, so a level end's rounds and
/// the one slowest expansion weigh on it.
pub const SMALL_LEVEL_PER_WORKER: u64 = 1000;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The table printed by `checker list`.
pub fn catalogue_table() -> String {
    let mut out = String::from("Bundled models (also: a path to a .dve file):\n");
    for m in fixtures::catalogue() {
        let _ = writeln!(out, "  {:<22} {:<40} {}", m.name, m.params, m.description);
    }
    out
}

/// The human-readable summary.
pub fn render(outcome: &Outcome, run: EngineRun<'_>) -> String {
    let mut out = String::new();
    match &outcome.verdict {
        Verdict::Holds => out.push_str("Model checking completed. No error has been found.\n"),
        Verdict::Partial { reason } => {
            let why = match reason {
                StopReason::MaxStates => "--max-states was reached",
                StopReason::MaxDepth => "--max-depth was reached",
                StopReason::Interrupted => "the run was interrupted",
                StopReason::MemoryBudget => "the memory budget was reached",
            };
            let _ = writeln!(
                out,
                "Search stopped early: {why}. No error was found, but the result is PARTIAL: not every reachable state was explored."
            );
        }
        Verdict::Violated(v) => {
            match &v.kind {
                ViolationKind::Invariant(name) => {
                    let _ = writeln!(out, "Error: Invariant {name} is violated.");
                }
                ViolationKind::Deadlock => out.push_str("Error: Deadlock reached.\n"),
            }
            let _ = writeln!(
                out,
                "Shortest counterexample ({}):",
                steps(v.trace.transitions())
            );
            let _ = write!(out, "{}", v.trace);
        }
    }
    let _ = writeln!(out, "Model: {}", outcome.model);
    let _ = writeln!(
        out,
        "  distinct states:       {}",
        thousands(outcome.distinct)
    );
    let _ = writeln!(
        out,
        "  states generated:      {}",
        thousands(outcome.generated)
    );
    let _ = writeln!(out, "  depth (BFS levels):    {}", outcome.depth);
    let _ = writeln!(
        out,
        "  deadlock states:       {}",
        thousands(outcome.deadlocks)
    );
    let _ = writeln!(
        out,
        "  wall time:             {:.3} s",
        outcome.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "  distinct states/s:     {}",
        thousands(outcome.distinct_per_second() as u64)
    );
    let _ = writeln!(
        out,
        "  collision probability: {:.2e} (n(m-n)/2^64, n distinct, m generated)",
        outcome.collision_probability()
    );
    if let Some(rss) = peak_rss_bytes() {
        let _ = writeln!(
            out,
            "  peak memory (RSS):     {:.1} MiB",
            rss as f64 / 1048576.0
        );
    }
    match run {
        EngineRun::Sequential => out.push_str("  engine:                sequential\n"),
        EngineRun::Parallel {
            telemetry: t,
            answered_from_checkpoint: true,
            ..
        } => {
            let _ = writeln!(
                out,
                "  engine:                parallel, {} worker{}; no level expanded in this process (the checkpoint already reaches the limit)",
                t.workers.len(),
                if t.workers.len() == 1 { "" } else { "s" },
            );
        }
        EngineRun::Parallel {
            telemetry: t,
            answered_from_checkpoint: false,
            expansion_shared,
        } => {
            let u = t.utilisation();
            let _ = writeln!(
                out,
                "  engine:                parallel, {} worker{}, utilisation min/median/max {:.1}% / {:.1}% / {:.1}%",
                t.workers.len(),
                if t.workers.len() == 1 { "" } else { "s" },
                u.min * 100.0,
                u.median * 100.0,
                u.max * 100.0
            );
            if t.workers.len() > 1 {
                let taken: u64 = t.workers.iter().map(|w| w.states_taken).sum();
                let expanded: u64 = t.workers.iter().map(|w| w.expanded).sum();
                if expansion_shared {
                    let _ = writeln!(
                        out,
                        "  shared expansion:      {} states ({:.1}%) expanded by a worker other than their owner",
                        thousands(taken),
                        100.0 * taken as f64 / expanded.max(1) as f64
                    );
                } else {
                    out.push_str(
                        "  shared expansion:      off: every state expanded by its owner\n",
                    );
                }
                let [share, markers, summaries] = t.idle_by_wait();
                let _ = writeln!(
                    out,
                    "  idle:                  {:.1}% of the workers' time: {:.1}% waiting for end-of-level markers, {:.1}% for summaries, {:.1}% for shares",
                    t.idle_share() * 100.0,
                    markers * 100.0,
                    summaries * 100.0,
                    share * 100.0
                );
                if let Some(small) = t.idle_in_small_levels(SMALL_LEVEL_PER_WORKER) {
                    let _ = writeln!(
                        out,
                        "  idle by level:         {:.1}% of it in the {} of {} levels that expanded fewer than {} states a worker ({:.1}% of the states)",
                        small.idle_share * 100.0,
                        small.levels,
                        t.levels.len(),
                        thousands(SMALL_LEVEL_PER_WORKER),
                        small.states_share * 100.0
                    );
                }
            }
        }
    }
    out
}

/// Peak resident set size of this process in bytes (`VmHWM`), if the OS reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    outcome: &'a Outcome,
    collision_probability: f64,
    distinct_per_second: f64,
    engine: &'static str,
    workers: usize,
    peak_rss_bytes: Option<u64>,
    utilisation: Option<Spread>,
    telemetry: Option<&'a Telemetry>,
    checkpoints_written: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_budget: Option<MemoryBudget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oversubscribed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expansion_shared: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answered_from_checkpoint: Option<bool>,
}

/// What the JSON summary says beyond the outcome and the telemetry.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonExtras {
    /// Checkpoints the run wrote.
    pub checkpoints_written: u64,
    /// The memory budget of a parallel run.
    pub memory_budget: Option<MemoryBudget>,
    /// Whether a parallel run had more workers than CPUs (absent for the sequential
    /// checker).
    pub oversubscribed: Option<bool>,
    /// Whether a parallel run's workers shared expansion (absent for the sequential
    /// checker).
    pub expansion_shared: Option<bool>,
}

/// Writes the summary as pretty JSON to `out`, piece by piece.
///
/// Streamed, not built as a text first: a run's telemetry has an entry per level, and
/// making the text, parsing it into a `serde_json::Value` to add fields and printing
/// that again held about 1 KiB a level at once (`grid 1 400000` at 1 worker peaked at
/// 424 MB with `--json`, 38 MB without).
pub fn write_json(
    out: &mut impl std::io::Write,
    outcome: &Outcome,
    run: EngineRun<'_>,
    extras: JsonExtras,
) -> std::io::Result<()> {
    let telemetry = run.telemetry();
    let report = JsonReport {
        outcome,
        collision_probability: outcome.collision_probability(),
        distinct_per_second: outcome.distinct_per_second(),
        engine: match run {
            EngineRun::Parallel { .. } => "parallel",
            EngineRun::Sequential => "sequential",
        },
        workers: telemetry.map_or(1, |t| t.workers.len()),
        peak_rss_bytes: peak_rss_bytes(),
        utilisation: telemetry.map(Telemetry::utilisation),
        telemetry,
        checkpoints_written: extras.checkpoints_written,
        memory_budget: extras.memory_budget,
        oversubscribed: extras.oversubscribed,
        expansion_shared: extras.expansion_shared,
        answered_from_checkpoint: match run {
            EngineRun::Parallel {
                answered_from_checkpoint,
                ..
            } => Some(answered_from_checkpoint),
            EngineRun::Sequential => None,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

/// `n` steps, in words: "1 step", "6 steps".
fn steps(n: usize) -> String {
    match n {
        1 => "1 step".to_string(),
        n => format!("{} steps", thousands(n as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::{steps, thousands, write_json, EngineRun, JsonExtras};
    use checker_core::{Outcome, Verdict};
    use checker_numa::{LevelTelemetry, Telemetry, WorkerTelemetry};
    use std::time::Duration;

    /// A writer that keeps only how many bytes it was given and the most at once.
    #[derive(Default)]
    struct Pieces {
        bytes: usize,
        largest: usize,
    }

    impl std::io::Write for Pieces {
        fn write(&mut self, piece: &[u8]) -> std::io::Result<usize> {
            self.bytes += piece.len();
            self.largest = self.largest.max(piece.len());
            Ok(piece.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The summary of a run of 100,000 levels (megabytes of JSON, an entry a level)
    /// reaches its writer in small pieces, as it is made: it is never made whole first
    /// (that text, and the `serde_json::Value` it was parsed into to add fields, held
    /// about 1 KiB a level at once).
    #[test]
    fn the_json_summary_is_written_as_it_is_made_not_made_whole_first() {
        const LEVELS: usize = 100_000;
        let outcome = Outcome {
            model: "chain".into(),
            distinct: LEVELS as u64,
            generated: LEVELS as u64,
            depth: LEVELS as u32,
            level_sizes: vec![1; LEVELS],
            deadlocks: 0,
            verdict: Verdict::Holds,
            elapsed: Duration::from_secs(1),
        };
        let telemetry = Telemetry {
            workers: vec![WorkerTelemetry::default(); 2],
            levels: vec![LevelTelemetry::default(); LEVELS],
        };
        let mut out = Pieces::default();
        let extras = JsonExtras {
            checkpoints_written: 3,
            oversubscribed: Some(false),
            ..JsonExtras::default()
        };
        let run = EngineRun::Parallel {
            telemetry: &telemetry,
            answered_from_checkpoint: false,
            expansion_shared: true,
        };
        write_json(&mut out, &outcome, run, extras).unwrap();
        assert!(out.bytes > 100 * LEVELS, "{} bytes", out.bytes);
        assert!(
            out.largest <= 1024,
            "{} bytes written at once, of {}",
            out.largest,
            out.bytes
        );
    }

    #[test]
    fn steps_are_counted_in_words() {
        assert_eq!(steps(0), "0 steps");
        assert_eq!(steps(1), "1 step");
        assert_eq!(steps(6), "6 steps");
        assert_eq!(steps(12_345), "12,345 steps");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_340_352), "10,340,352");
    }
}
