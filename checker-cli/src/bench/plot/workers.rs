//! `workers.svg`: where each worker's wall time went in one run (the largest worker
//! count, median repeat), as stacked bars. Unequal bar tops of busy time mean load
//! imbalance; a tall idle segment means that worker waited at level ends, and its
//! shades say for what.

use plotters::prelude::*;
use std::path::Path;

use super::PlotResult;
use crate::bench::rows::WorkerSplit;
use crate::bench::runner::WorkerReport;

/// Reads one activity's seconds from a worker's figures.
type Seconds = fn(&WorkerReport) -> f64;

/// The segments, bottom to top: name, colour and the activity they show. Idle time is
/// split by what the worker waited for; "idle, other" is what a report does not
/// attribute (all of it in reports of versions without the split).
const SEGMENTS: [(&str, RGBColor, Seconds); 7] = [
    ("expanding", RGBColor(31, 119, 180), |w| w.expanding_s),
    ("receiving", RGBColor(44, 160, 44), |w| w.receiving_s),
    ("sending", RGBColor(255, 127, 14), |w| w.sending_s),
    ("idle, waiting for markers", RGBColor(120, 120, 120), |w| {
        w.idle_markers_s
    }),
    (
        "idle, waiting for summaries",
        RGBColor(165, 165, 165),
        |w| w.idle_summaries_s,
    ),
    ("idle, waiting for shares", RGBColor(205, 205, 205), |w| {
        w.idle_share_answers_s
    }),
    ("idle, other", RGBColor(230, 230, 230), |w| {
        let other = w.idle_s - w.idle_markers_s - w.idle_summaries_s - w.idle_share_answers_s;
        // Below a millisecond it is the clock's last stretch as the worker ends.
        if other < 1e-3 {
            0.0
        } else {
            other
        }
    }),
];

/// Draws the per-worker time split of `split` for model `title` into `path`.
pub fn draw_workers(path: &Path, title: &str, split: &WorkerSplit) -> PlotResult {
    let workers = split.per_worker.len().max(1) as i32;
    let tallest = split
        .per_worker
        .iter()
        .map(|w| {
            SEGMENTS
                .iter()
                .map(|(_, _, f)| f(w))
                .sum::<f64>()
                .max(w.wall_s)
        })
        .fold(0.0, f64::max);
    let width = (300 + 40 * workers).clamp(700, 1800) as u32;
    let root = SVGBackend::new(path, (width, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{title}: time per worker, {} workers (median run, repeat {})",
                split.workers, split.repeat
            ),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            -0.6..f64::from(workers) - 0.4,
            0.0..(tallest * 1.35).max(1e-6),
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(workers.min(32) as usize)
        .x_label_formatter(&|x| {
            let rounded = x.round();
            if (x - rounded).abs() < 1e-6 && rounded >= 0.0 {
                format!("{rounded:.0}")
            } else {
                String::new()
            }
        })
        .x_desc("worker")
        .y_desc("seconds")
        .draw()?;
    let mut bottoms = vec![0.0; split.per_worker.len()];
    for (name, colour, field) in SEGMENTS {
        // A segment no worker has (no sending, no share waits) stays out of the legend.
        if split.per_worker.iter().all(|w| field(w) <= 0.0) {
            continue;
        }
        let bars: Vec<Rectangle<(f64, f64)>> = split
            .per_worker
            .iter()
            .zip(bottoms.iter_mut())
            .enumerate()
            .map(|(i, (w, bottom))| {
                let top = *bottom + field(w);
                let x = i as f64;
                let bar = Rectangle::new([(x - 0.35, *bottom), (x + 0.35, top)], colour.filled());
                *bottom = top;
                bar
            })
            .collect();
        chart
            .draw_series(bars)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
