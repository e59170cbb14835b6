//! From raw runs to the figures a sweep reports: one row per run, and one summary per
//! configuration (medians over repeats, with the spread).
//!
//! Definitions (docs/scaling.md explains how to read them):
//! * speedup = median wall time of the parallel engine with 1 worker / this wall time;
//!   efficiency = speedup / workers;
//! * utilisation = (wall - idle) / wall per worker, as the engine's telemetry defines
//!   it; the idle share is all workers' idle time over all their wall time;
//! * bytes per state = (peak RSS - peak RSS of the same configuration on a two-state
//!   model) / distinct states: what each stored state costs, fixed costs excluded.

use serde::Serialize;

use checker_numa::Spread;

use super::runner::{Config, WorkerReport};
use super::sweep::{Run, SweepResult};
use crate::report::SMALL_LEVEL_PER_WORKER;

/// One run's figures: a line of `results.csv` and an entry of `runs` in `results.json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunRow {
    /// `sequential` or `parallel`.
    pub engine: &'static str,
    /// Worker threads (1 for the sequential checker).
    pub workers: usize,
    /// Which repeat, from 1.
    pub repeat: u32,
    /// Wall time of the search, in seconds.
    pub wall_s: f64,
    /// Distinct states stored.
    pub distinct: u64,
    /// States generated.
    pub generated: u64,
    /// Distinct states per second of wall time.
    pub distinct_per_s: f64,
    /// Generated states per second of wall time.
    pub generated_per_s: f64,
    /// Median 1-worker wall time over this wall time.
    pub speedup: f64,
    /// Speedup per worker.
    pub efficiency: f64,
    /// Median sequential wall time over this wall time.
    pub speedup_vs_sequential: f64,
    /// Lowest worker utilisation (parallel only).
    pub utilisation_min: Option<f64>,
    /// Median worker utilisation (parallel only).
    pub utilisation_median: Option<f64>,
    /// Highest worker utilisation (parallel only).
    pub utilisation_max: Option<f64>,
    /// Share of all workers' wall time spent idle (parallel only).
    pub idle_share: Option<f64>,
    /// Of `idle_share`, the part spent waiting for end-of-level markers (some worker
    /// still expanding).
    pub idle_markers_share: Option<f64>,
    /// Of `idle_share`, the part spent waiting for summaries (some worker still
    /// storing).
    pub idle_summaries_share: Option<f64>,
    /// Of `idle_share`, the part spent waiting for a share's answer.
    pub idle_share_answers_share: Option<f64>,
    /// Of all idle time, the part spent in levels that expanded fewer than
    /// [`SMALL_LEVEL_PER_WORKER`] states per worker (parallel only; absent when no
    /// worker was idle or the report has no levels).
    pub idle_small_levels_share: Option<f64>,
    /// Share of expansions done by a worker other than the state's owner (parallel
    /// only).
    pub shared_expansion: Option<f64>,
    /// Batches sent between workers (parallel only).
    pub batches_sent: Option<u64>,
    /// Mean states per batch (parallel only).
    pub mean_batch_fill: Option<f64>,
    /// Peak RSS of the run's process.
    pub peak_rss_bytes: Option<u64>,
    /// Peak RSS of the same configuration on the two-state model.
    pub baseline_rss_bytes: Option<u64>,
    /// (peak - baseline RSS) / distinct states.
    pub bytes_per_state: Option<f64>,
}

/// One configuration over its repeats.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SummaryRow {
    /// `sequential` or `parallel`.
    pub engine: &'static str,
    /// Worker threads.
    pub workers: usize,
    /// Runs summarised.
    pub repeats: usize,
    /// Wall time in seconds: median, fastest, slowest.
    pub wall_s: Spread,
    /// Distinct states per second.
    pub distinct_per_s: Spread,
    /// Generated states per second.
    pub generated_per_s: Spread,
    /// Speedup against 1 worker (median from the median time; min from the slowest run).
    pub speedup: Spread,
    /// Median speedup per worker.
    pub efficiency: f64,
    /// The machine's own ceiling at this worker count (`checker bench --ceiling`):
    /// the most any engine could gain over 1 worker here.
    pub ceiling: Option<f64>,
    /// Median speedup against the sequential checker.
    pub speedup_vs_sequential: f64,
    /// Medians over repeats of each run's utilisation min, median and max.
    pub utilisation: Option<Spread>,
    /// Median idle share.
    pub idle_share: Option<f64>,
    /// Median share of wall time idle waiting for end-of-level markers.
    pub idle_markers_share: Option<f64>,
    /// Median share of wall time idle waiting for summaries.
    pub idle_summaries_share: Option<f64>,
    /// Median share of wall time idle waiting for a share's answer.
    pub idle_share_answers_share: Option<f64>,
    /// Median share of idle time spent in levels that expanded fewer than
    /// [`SMALL_LEVEL_PER_WORKER`] states per worker.
    pub idle_small_levels_share: Option<f64>,
    /// Median share of expansions done by a non-owner.
    pub shared_expansion: Option<f64>,
    /// Median batches sent.
    pub batches_sent: Option<f64>,
    /// Median states per batch.
    pub mean_batch_fill: Option<f64>,
    /// Peak RSS in bytes.
    pub peak_rss_bytes: Option<Spread>,
    /// Median bytes per distinct state.
    pub bytes_per_state: Option<f64>,
}

/// The per-worker time split of one run: what `workers.svg` draws.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WorkerSplit {
    /// Worker count of the run.
    pub workers: usize,
    /// Which repeat: the one with the median wall time.
    pub repeat: u32,
    /// Each worker's times.
    pub per_worker: Vec<WorkerReport>,
}

/// Every figure of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    /// One row per run, in run order.
    pub runs: Vec<RunRow>,
    /// One row per configuration: sequential first, then by worker count.
    pub summary: Vec<SummaryRow>,
    /// The largest worker count's median run, split per worker.
    pub split: Option<WorkerSplit>,
}

/// `a / b`, with a floor under `b` so a run too short to time gives a huge but finite
/// ratio rather than infinity (which JSON cannot hold).
fn ratio(a: f64, b: f64) -> f64 {
    a / b.max(1e-9)
}

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    Spread::of(values.into_iter().collect()).median
}

/// Computes every figure from a finished sweep.
pub fn figures(sweep: &SweepResult) -> Figures {
    let walls = |config: Config| {
        sweep
            .runs
            .iter()
            .filter(|r| r.config == config)
            .map(|r| r.report.elapsed)
            .collect::<Vec<_>>()
    };
    let t1 = median(walls(Config::Parallel(1)));
    let tseq = median(walls(Config::Sequential));
    let runs: Vec<RunRow> = sweep
        .runs
        .iter()
        .map(|run| run_row(run, t1, tseq, sweep.baseline_rss[&run.config]))
        .collect();
    let mut configs: Vec<Config> = sweep.runs.iter().map(|r| r.config).collect();
    configs.sort();
    configs.dedup();
    let summary = configs
        .iter()
        .map(|&config| {
            let rows: Vec<&RunRow> = sweep
                .runs
                .iter()
                .zip(&runs)
                .filter(|(run, _)| run.config == config)
                .map(|(_, row)| row)
                .collect();
            let ceiling = match config {
                Config::Parallel(n) => sweep.ceilings.get(&n).map(|c| c.ceiling),
                Config::Sequential => None,
            };
            SummaryRow {
                ceiling,
                ..summary_row(config, &rows, t1)
            }
        })
        .collect();
    let split = largest_median_run(sweep).and_then(|run| {
        Some(WorkerSplit {
            workers: run.config.workers(),
            repeat: run.repeat,
            per_worker: run.report.telemetry.as_ref()?.workers.clone(),
        })
    });
    Figures {
        runs,
        summary,
        split,
    }
}

fn run_row(run: &Run, t1: f64, tseq: f64, baseline_rss: Option<u64>) -> RunRow {
    let report = &run.report;
    let telemetry = report.telemetry.as_ref().map(|t| t.to_telemetry());
    let utilisation = telemetry.as_ref().map(|t| t.utilisation());
    let idle_by_wait = telemetry.as_ref().map(|t| t.idle_by_wait());
    let speedup = ratio(t1, report.elapsed);
    let bytes_per_state = match (report.peak_rss_bytes, baseline_rss) {
        (Some(peak), Some(base)) if report.distinct > 0 => {
            Some(peak.saturating_sub(base) as f64 / report.distinct as f64)
        }
        _ => None,
    };
    RunRow {
        engine: run.config.engine(),
        workers: run.config.workers(),
        repeat: run.repeat,
        wall_s: report.elapsed,
        distinct: report.distinct,
        generated: report.generated,
        distinct_per_s: ratio(report.distinct as f64, report.elapsed),
        generated_per_s: ratio(report.generated as f64, report.elapsed),
        speedup,
        efficiency: speedup / run.config.workers() as f64,
        speedup_vs_sequential: ratio(tseq, report.elapsed),
        utilisation_min: utilisation.map(|u| u.min),
        utilisation_median: utilisation.map(|u| u.median),
        utilisation_max: utilisation.map(|u| u.max),
        idle_share: telemetry.as_ref().map(|t| t.idle_share()),
        idle_markers_share: idle_by_wait.map(|[_, markers, _]| markers),
        idle_summaries_share: idle_by_wait.map(|[_, _, summaries]| summaries),
        idle_share_answers_share: idle_by_wait.map(|[share, _, _]| share),
        idle_small_levels_share: telemetry
            .as_ref()
            .and_then(|t| t.idle_in_small_levels(SMALL_LEVEL_PER_WORKER))
            .map(|small| small.idle_share),
        shared_expansion: telemetry.as_ref().map(|t| t.shared_expansion()),
        batches_sent: telemetry.as_ref().map(|t| t.batches_sent()),
        mean_batch_fill: telemetry.as_ref().map(|t| t.mean_batch_fill()),
        peak_rss_bytes: report.peak_rss_bytes,
        baseline_rss_bytes: baseline_rss,
        bytes_per_state,
    }
}

/// The median of `field` over `rows`, if every row has it.
fn median_of(rows: &[&RunRow], field: impl Fn(&RunRow) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = rows.iter().map(|r| field(r)).collect();
    values.filter(|v| !v.is_empty()).map(median)
}

fn summary_row(config: Config, rows: &[&RunRow], t1: f64) -> SummaryRow {
    let spread = |field: fn(&RunRow) -> f64| Spread::of(rows.iter().map(|r| field(r)).collect());
    let wall = spread(|r| r.wall_s);
    let speedup = Spread {
        min: ratio(t1, wall.max),
        median: ratio(t1, wall.median),
        max: ratio(t1, wall.min),
    };
    let utilisation = (|| {
        Some(Spread {
            min: median_of(rows, |r| r.utilisation_min)?,
            median: median_of(rows, |r| r.utilisation_median)?,
            max: median_of(rows, |r| r.utilisation_max)?,
        })
    })();
    let peaks: Option<Vec<f64>> = rows
        .iter()
        .map(|r| r.peak_rss_bytes.map(|b| b as f64))
        .collect();
    SummaryRow {
        engine: config.engine(),
        workers: config.workers(),
        repeats: rows.len(),
        wall_s: wall,
        distinct_per_s: spread(|r| r.distinct_per_s),
        generated_per_s: spread(|r| r.generated_per_s),
        speedup,
        efficiency: speedup.median / config.workers() as f64,
        ceiling: None,
        speedup_vs_sequential: median_of(rows, |r| Some(r.speedup_vs_sequential)).unwrap_or(0.0),
        utilisation,
        idle_share: median_of(rows, |r| r.idle_share),
        idle_markers_share: median_of(rows, |r| r.idle_markers_share),
        idle_summaries_share: median_of(rows, |r| r.idle_summaries_share),
        idle_share_answers_share: median_of(rows, |r| r.idle_share_answers_share),
        idle_small_levels_share: median_of(rows, |r| r.idle_small_levels_share),
        shared_expansion: median_of(rows, |r| r.shared_expansion),
        batches_sent: median_of(rows, |r| r.batches_sent.map(|b| b as f64)),
        mean_batch_fill: median_of(rows, |r| r.mean_batch_fill),
        peak_rss_bytes: peaks.filter(|p| !p.is_empty()).map(Spread::of),
        bytes_per_state: median_of(rows, |r| r.bytes_per_state),
    }
}

/// The run of the largest parallel worker count whose wall time is the median (the
/// lower middle one for an even number of repeats).
fn largest_median_run(sweep: &SweepResult) -> Option<&Run> {
    let largest = sweep
        .runs
        .iter()
        .filter_map(|r| match r.config {
            Config::Parallel(n) => Some(n),
            Config::Sequential => None,
        })
        .max()?;
    let mut runs: Vec<&Run> = sweep
        .runs
        .iter()
        .filter(|r| r.config == Config::Parallel(largest))
        .collect();
    runs.sort_by(|a, b| a.report.elapsed.total_cmp(&b.report.elapsed));
    Some(runs[(runs.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::super::runner::{CeilingReport, ChildReport, TelemetryReport, VerdictReport};
    use super::*;
    use checker_numa::LevelTelemetry;
    use std::collections::BTreeMap;

    fn worker(worker: usize, wall_s: f64, idle_s: f64) -> WorkerReport {
        WorkerReport {
            worker,
            wall_s,
            expanding_s: wall_s - idle_s,
            receiving_s: 0.0,
            sending_s: 0.0,
            idle_s,
            // Three quarters of it waiting for markers, a quarter for summaries.
            idle_markers_s: idle_s * 0.75,
            idle_summaries_s: idle_s * 0.25,
            idle_share_answers_s: 0.0,
            batches_sent: 10,
            states_sent: 50,
            expanded: 100,
            states_taken: worker as u64,
        }
    }

    fn run(config: Config, repeat: u32, elapsed: f64, peak: u64) -> Run {
        let telemetry = match config {
            Config::Sequential => None,
            Config::Parallel(n) => {
                let workers: Vec<WorkerReport> =
                    (0..n).map(|w| worker(w, elapsed, 0.1 * w as f64)).collect();
                let idle: f64 = workers.iter().map(|w| w.idle_s).sum();
                // A quarter of the idle time in the initial level (nothing expanded),
                // the rest in a level of 10,000 states.
                let level = |depth, expanded, idle_s| LevelTelemetry {
                    depth,
                    expanded,
                    new_states: 10_000,
                    wall_s: elapsed / 2.0,
                    idle_s,
                    workers_wall_s: elapsed / 2.0 * n as f64,
                };
                Some(TelemetryReport {
                    workers,
                    levels: vec![level(0, 0, idle * 0.25), level(1, 10_000, idle * 0.75)],
                })
            }
        };
        Run {
            config,
            repeat,
            report: ChildReport {
                model: "m".into(),
                distinct: 1000,
                generated: 4000,
                depth: 5,
                elapsed,
                verdict: VerdictReport {
                    verdict: "holds".into(),
                },
                peak_rss_bytes: Some(peak),
                telemetry,
            },
            command: String::new(),
        }
    }

    fn sweep() -> SweepResult {
        let runs = vec![
            run(Config::Sequential, 1, 3.0, 11_000),
            run(Config::Parallel(1), 1, 4.0, 12_000),
            run(Config::Parallel(2), 1, 2.0, 13_000),
            run(Config::Sequential, 2, 3.2, 11_000),
            run(Config::Parallel(1), 2, 4.4, 12_000),
            run(Config::Parallel(2), 2, 2.5, 13_000),
            run(Config::Sequential, 3, 2.8, 11_000),
            run(Config::Parallel(1), 3, 4.2, 12_000),
            run(Config::Parallel(2), 3, 2.1, 13_000),
        ];
        let baseline_rss = BTreeMap::from([
            (Config::Sequential, Some(1_000)),
            (Config::Parallel(1), Some(2_000)),
            (Config::Parallel(2), Some(3_000)),
        ]);
        SweepResult {
            runs,
            baseline_rss,
            ceilings: BTreeMap::new(),
        }
    }

    #[test]
    fn speedup_is_against_the_median_one_worker_time() {
        let figures = figures(&sweep());
        let two = &figures.summary[2];
        assert_eq!((two.engine, two.workers, two.repeats), ("parallel", 2, 3));
        assert_eq!(two.wall_s.median, 2.1);
        assert!((two.speedup.median - 4.2 / 2.1).abs() < 1e-12);
        assert!((two.speedup.min - 4.2 / 2.5).abs() < 1e-12);
        assert!((two.speedup.max - 4.2 / 2.0).abs() < 1e-12);
        assert!((two.efficiency - 1.0).abs() < 1e-12);
        assert!((two.speedup_vs_sequential - 3.0 / 2.1).abs() < 1e-12);
        let one = &figures.summary[1];
        assert!((one.speedup.median - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rows_carry_throughput_utilisation_and_memory() {
        let figures = figures(&sweep());
        assert_eq!(figures.runs.len(), 9);
        let row = &figures.runs[2];
        assert_eq!((row.engine, row.workers, row.repeat), ("parallel", 2, 1));
        assert_eq!(row.distinct_per_s, 500.0);
        assert_eq!(row.generated_per_s, 2000.0);
        // Worker 0 never idles, worker 1 idles 0.1 s of 2 s.
        assert_eq!(row.utilisation_max, Some(1.0));
        assert!((row.utilisation_min.unwrap() - 0.95).abs() < 1e-12);
        assert!((row.idle_share.unwrap() - 0.025).abs() < 1e-12);
        assert!((row.idle_markers_share.unwrap() - 0.01875).abs() < 1e-12);
        assert!((row.idle_summaries_share.unwrap() - 0.00625).abs() < 1e-12);
        assert_eq!(row.idle_share_answers_share, Some(0.0));
        assert_eq!(row.idle_small_levels_share, Some(0.25));
        assert_eq!(figures.summary[2].idle_small_levels_share, Some(0.25));
        // At 1 worker nothing was idle.
        assert_eq!(figures.runs[1].idle_small_levels_share, None);
        // Workers 0 and 1 expanded 100 states each; worker 1 took 1 of them over.
        assert_eq!(row.shared_expansion, Some(0.005));
        assert_eq!(row.batches_sent, Some(20));
        assert_eq!(row.mean_batch_fill, Some(5.0));
        assert_eq!(row.bytes_per_state, Some(10.0));
        let sequential = &figures.runs[0];
        assert_eq!(sequential.utilisation_median, None);
        assert_eq!(sequential.bytes_per_state, Some(10.0));
    }

    #[test]
    fn a_measured_ceiling_sits_beside_its_worker_count_only() {
        let mut sweep = sweep();
        sweep.ceilings.insert(
            2,
            CeilingReport {
                distinct: 1000,
                slowdown: 1.04,
                ceiling: 1.92,
            },
        );
        let summary = figures(&sweep).summary;
        let ceilings: Vec<Option<f64>> = summary.iter().map(|r| r.ceiling).collect();
        assert_eq!(ceilings, vec![None, None, Some(1.92)]);
        assert_eq!(figures(&self::sweep()).summary[2].ceiling, None);
    }

    #[test]
    fn the_split_is_the_largest_count_median_run() {
        let split = figures(&sweep()).split.unwrap();
        assert_eq!((split.workers, split.repeat), (2, 3));
        assert_eq!(split.per_worker.len(), 2);
    }
}
