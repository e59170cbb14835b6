//! `results.csv` (one row per run, for spreadsheets and scripts) and `results.json`
//! (the same rows plus the summary, the machine and the exact command, so a result
//! file says on its own what was measured where).

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

use super::machine::Machine;
use super::rows::{Figures, RunRow, SummaryRow, WorkerSplit};
use super::sweep::SweepResult;

/// Identifies the layout of `results.json`; bumped when a field changes meaning.
pub const SCHEMA: &str = "checker-bench/1";

/// What a sweep was asked to do and where it ran.
#[derive(Clone, Debug, Serialize)]
pub struct SweepInfo {
    /// The command line that ran the sweep.
    pub command: String,
    /// The model and its parameters.
    pub model_args: Vec<String>,
    /// Runs per configuration.
    pub repeats: u32,
    /// Parallel worker counts.
    pub workers: Vec<usize>,
    /// Whether worker counts above the CPU count were allowed (their times mean nothing).
    pub oversubscribed: bool,
    /// The machine.
    pub machine: Machine,
}

/// What every run found (they agree, or the sweep fails).
#[derive(Serialize)]
struct Counts<'a> {
    distinct: u64,
    generated: u64,
    depth: u32,
    verdict: &'a str,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    #[serde(flatten)]
    row: &'a RunRow,
    command: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    checker_version: &'static str,
    model: &'a str,
    #[serde(flatten)]
    info: &'a SweepInfo,
    counts: Counts<'a>,
    definitions: BTreeMap<&'static str, &'static str>,
    runs: Vec<JsonRun<'a>>,
    summary: &'a [SummaryRow],
    worker_split: Option<&'a WorkerSplit>,
}

/// How the derived figures are computed, stored beside them.
const DEFINITIONS: [(&str, &str); 9] = [
    ("wall_s", "search wall time reported by the child `checker check` (process start and model building excluded)"),
    ("speedup", "median wall time of the parallel engine with 1 worker / this wall time; efficiency = speedup / workers"),
    ("ceiling", "with --ceiling: N / (median over rounds of the time the last of N independent 1-worker checks run at once took / median time of one alone), from `checker ceiling` (runs/ceiling-wN.json)"),
    ("utilisation", "(wall - idle) / wall per worker; idle_share = all workers' idle time / all their wall time"),
    ("idle_markers_share", "all workers' idle time waiting for end-of-level markers / all their wall time; idle_summaries_share and idle_share_answers_share likewise for summaries and shares' answers; the three add up to idle_share"),
    ("idle_small_levels_share", "of all workers' idle time, the part spent in levels that expanded fewer than 1,000 states per worker (the run's levels are in runs/*.json, telemetry.levels)"),
    ("mean_batch_fill", "states sent / batches sent over all workers"),
    ("shared_expansion", "states expanded by a worker other than their owner / all states expanded"),
    ("bytes_per_state", "(peak RSS - peak RSS of the same engine and worker count on `grid 1 2`) / distinct"),
];

/// Writes `results.csv`: a header, then one row per run.
pub fn write_csv(path: &Path, rows: &[RunRow]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut writer = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    for row in rows {
        writer.serialize(row).map_err(|e| fail(&e))?;
    }
    writer.flush().map_err(|e| fail(&e))
}

/// The `results.json` text.
pub fn json(info: &SweepInfo, sweep: &SweepResult, figures: &Figures) -> String {
    let first = &sweep.runs[0].report;
    let report = JsonReport {
        schema: SCHEMA,
        checker_version: env!("CARGO_PKG_VERSION"),
        model: &first.model,
        info,
        counts: Counts {
            distinct: first.distinct,
            generated: first.generated,
            depth: first.depth,
            verdict: &first.verdict.verdict,
        },
        definitions: BTreeMap::from(DEFINITIONS),
        runs: sweep
            .runs
            .iter()
            .zip(&figures.runs)
            .map(|(run, row)| JsonRun {
                row,
                command: &run.command,
            })
            .collect(),
        summary: &figures.summary,
        worker_split: figures.split.as_ref(),
    };
    serde_json::to_string_pretty(&report).expect("the bench report serialises") + "\n"
}
