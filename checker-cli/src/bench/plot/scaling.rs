//! `scaling.svg`: speedup against the ideal line (left), and how busy the workers
//! were at each worker count (right). Together they say whether a shortfall in
//! speedup comes from workers waiting (utilisation falls) or from each worker's work
//! getting slower (utilisation stays high: memory bandwidth, cross-node traffic).

use plotters::prelude::*;
use std::path::Path;

use super::PlotResult;
use crate::bench::rows::SummaryRow;

const IDEAL: RGBColor = RGBColor(150, 150, 150);
const MEASURED: RGBColor = RGBColor(31, 119, 180);
const SEQUENTIAL: RGBColor = RGBColor(44, 160, 44);
const IDLE: RGBColor = RGBColor(214, 39, 40);
const CEILING: RGBColor = RGBColor(255, 127, 14);

/// Draws the scaling figure of `summary` (sequential row first, then parallel rows
/// by worker count) for model `title` into `path`.
pub fn draw_scaling(path: &Path, title: &str, summary: &[SummaryRow]) -> PlotResult {
    let parallel: Vec<&SummaryRow> = summary.iter().filter(|r| r.engine == "parallel").collect();
    let sequential = summary.iter().find(|r| r.engine == "sequential");
    let max_workers = parallel.iter().map(|r| r.workers).max().unwrap_or(1) as i32;
    let root = SVGBackend::new(path, (1100, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);

    let top = parallel
        .iter()
        .map(|r| r.speedup.max)
        .chain(sequential.map(|s| s.speedup.max))
        .chain(parallel.iter().filter_map(|r| r.ceiling))
        .fold(f64::from(max_workers), f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(&left)
        .caption(
            format!("{title}: speedup against 1 worker"),
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0..max_workers + 1, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("speedup (median; bars: fastest, slowest run)")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(1, 1.0), (max_workers, f64::from(max_workers))],
            IDEAL.stroke_width(2),
        ))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], IDEAL.stroke_width(2)));
    if let Some(s) = sequential {
        chart
            .draw_series(DashedLineSeries::new(
                [(0, s.speedup.median), (max_workers + 1, s.speedup.median)],
                6,
                4,
                SEQUENTIAL.stroke_width(2),
            ))?
            .label("sequential checker")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], SEQUENTIAL.stroke_width(2))
            });
    }
    // The machine's own ceiling (`--ceiling`), from 1 at 1 worker.
    let ceiling: Vec<(i32, f64)> = std::iter::once((1, 1.0))
        .chain(
            parallel
                .iter()
                .filter_map(|r| Some((r.workers as i32, r.ceiling?))),
        )
        .collect();
    if ceiling.len() > 1 {
        chart
            .draw_series(DashedLineSeries::new(
                ceiling.clone(),
                6,
                4,
                CEILING.stroke_width(2),
            ))?
            .label("machine ceiling (independent copies)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], CEILING.stroke_width(2)));
        chart.draw_series(
            ceiling
                .iter()
                .skip(1)
                .map(|&point| TriangleMarker::new(point, 5, CEILING.filled())),
        )?;
    }
    chart
        .draw_series(LineSeries::new(
            parallel
                .iter()
                .map(|r| (r.workers as i32, r.speedup.median)),
            MEASURED.stroke_width(2),
        ))?
        .label("parallel engine")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MEASURED.stroke_width(2)));
    chart.draw_series(parallel.iter().map(|r| {
        ErrorBar::new_vertical(
            r.workers as i32,
            r.speedup.min,
            r.speedup.median,
            r.speedup.max,
            MEASURED.filled(),
            10,
        )
    }))?;
    chart.draw_series(
        parallel
            .iter()
            .map(|r| Circle::new((r.workers as i32, r.speedup.median), 4, MEASURED.filled())),
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    let mut chart = ChartBuilder::on(&right)
        .caption("worker utilisation and idle share", ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0..max_workers + 1, 0.0..115.0)?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("% of wall time (bars: least, most busy worker)")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let utilisation: Vec<(i32, f64, f64, f64)> = parallel
        .iter()
        .filter_map(|r| {
            let u = r.utilisation?;
            Some((
                r.workers as i32,
                u.min * 100.0,
                u.median * 100.0,
                u.max * 100.0,
            ))
        })
        .collect();
    chart
        .draw_series(LineSeries::new(
            utilisation.iter().map(|&(w, _, median, _)| (w, median)),
            MEASURED.stroke_width(2),
        ))?
        .label("utilisation, median worker")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MEASURED.stroke_width(2)));
    chart.draw_series(utilisation.iter().map(|&(w, min, median, max)| {
        ErrorBar::new_vertical(w, min, median, max, MEASURED.filled(), 10)
    }))?;
    chart
        .draw_series(LineSeries::new(
            parallel
                .iter()
                .filter_map(|r| Some((r.workers as i32, r.idle_share? * 100.0))),
            IDLE.stroke_width(2),
        ))?
        .label("idle share, all workers")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], IDLE.stroke_width(2)));
    chart.draw_series(parallel.iter().filter_map(|r| {
        Some(Circle::new(
            (r.workers as i32, r.idle_share? * 100.0),
            3,
            IDLE.filled(),
        ))
    }))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
