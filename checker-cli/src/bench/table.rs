//! The table a sweep prints: one line per configuration, medians over repeats with
//! the spread (fastest and slowest run) beside them.

use std::fmt::Write;

use super::rows::SummaryRow;
use crate::report::{thousands, SMALL_LEVEL_PER_WORKER};

/// Renders `summary` as an aligned text table with a header line.
pub fn render(summary: &[SummaryRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>7}  {:<23} {:>12}  {:<19} {:>5} {:>7}  {:<14} {:>5} {:>6}  {:>8} {:>6}  {:>8} {:>7}",
        "engine",
        "workers",
        "wall s [min, max]",
        "distinct/s",
        "speedup [min, max]",
        "eff.",
        "ceiling",
        "util lo/med/hi",
        "idle",
        "shared",
        "batches",
        "fill",
        "RSS MiB",
        "B/state"
    );
    for row in summary {
        let wall = format!(
            "{:.3} [{:.3}, {:.3}]",
            row.wall_s.median, row.wall_s.min, row.wall_s.max
        );
        let speedup = format!(
            "{:.2} [{:.2}, {:.2}]",
            row.speedup.median, row.speedup.min, row.speedup.max
        );
        let utilisation = row.utilisation.map_or("-".to_string(), |u| {
            format!(
                "{:.0}/{:.0}/{:.0}%",
                u.min * 100.0,
                u.median * 100.0,
                u.max * 100.0
            )
        });
        let _ = writeln!(
            out,
            "{:<10} {:>7}  {:<23} {:>12}  {:<19} {:>5.2} {:>7}  {:<14} {:>5} {:>6}  {:>8} {:>6}  {:>8} {:>7}",
            row.engine,
            row.workers,
            wall,
            thousands(row.distinct_per_s.median as u64),
            speedup,
            row.efficiency,
            or_dash(row.ceiling, |v| format!("{v:.2}")),
            utilisation,
            or_dash(row.idle_share, |v| format!("{:.1}%", v * 100.0)),
            or_dash(row.shared_expansion, |v| format!("{:.1}%", v * 100.0)),
            or_dash(row.batches_sent, |v| thousands(v as u64)),
            or_dash(row.mean_batch_fill, |v| format!("{v:.1}")),
            or_dash(row.peak_rss_bytes.map(|p| p.median), |v| format!(
                "{:.1}",
                v / 1048576.0
            )),
            or_dash(row.bytes_per_state, |v| format!("{v:.1}")),
        );
    }
    out
}

/// One line on what the workers of the largest worker count waited for while idle, or
/// `None` without a parallel run of 2 workers or more.
pub fn idle_line(summary: &[SummaryRow]) -> Option<String> {
    let row = summary
        .iter()
        .filter(|r| r.engine == "parallel" && r.workers > 1)
        .max_by_key(|r| r.workers)?;
    let mut line = format!(
        "idle at {} workers: {:.1}% of the workers' time, {:.1}% waiting for end-of-level markers, {:.1}% for summaries, {:.1}% for shares",
        row.workers,
        row.idle_share? * 100.0,
        row.idle_markers_share? * 100.0,
        row.idle_summaries_share? * 100.0,
        row.idle_share_answers_share? * 100.0
    );
    if let Some(small) = row.idle_small_levels_share {
        line += &format!(
            "; {:.1}% of the idle time in levels that expanded fewer than {} states a worker",
            small * 100.0,
            thousands(SMALL_LEVEL_PER_WORKER)
        );
    }
    line += " (medians)";
    Some(line)
}

fn or_dash(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or("-".to_string(), show)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checker_numa::Spread;

    #[test]
    fn shows_medians_with_the_spread() {
        let spread = |min, median, max| Spread { min, median, max };
        let row = SummaryRow {
            engine: "parallel",
            workers: 2,
            repeats: 3,
            wall_s: spread(0.5, 0.55, 0.7),
            distinct_per_s: spread(1.0e6, 1_234_567.0, 1.5e6),
            generated_per_s: spread(1.0, 1.0, 1.0),
            speedup: spread(1.5, 1.8, 1.9),
            efficiency: 0.9,
            ceiling: Some(1.934),
            speedup_vs_sequential: 1.7,
            utilisation: Some(spread(0.9, 0.95, 0.99)),
            idle_share: Some(0.05),
            idle_markers_share: Some(0.03),
            idle_summaries_share: Some(0.015),
            idle_share_answers_share: Some(0.005),
            idle_small_levels_share: None,
            shared_expansion: Some(0.012),
            batches_sent: Some(1500.0),
            mean_batch_fill: Some(510.25),
            peak_rss_bytes: Some(spread(1.0, 2.0 * 1048576.0, 3.0)),
            bytes_per_state: None,
        };
        let text = render(std::slice::from_ref(&row));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("engine"));
        for part in [
            "parallel",
            "0.550 [0.500, 0.700]",
            "1,234,567",
            "1.80 [1.50, 1.90]",
            "0.90",
            " 1.93 ",
            "90/95/99%",
            "5.0%",
            "1.2%",
            "1,500",
            "510.2",
            "2.0",
        ] {
            assert!(lines[1].contains(part), "{part} missing from {}", lines[1]);
        }
        assert!(lines[1].trim_end().ends_with('-'));
        assert_eq!(
            idle_line(std::slice::from_ref(&row)).unwrap(),
            "idle at 2 workers: 5.0% of the workers' time, 3.0% waiting for end-of-level markers, 1.5% for summaries, 0.5% for shares (medians)"
        );
        let with_levels = SummaryRow {
            idle_small_levels_share: Some(0.625),
            ..row.clone()
        };
        assert_eq!(
            idle_line(&[with_levels]).unwrap(),
            "idle at 2 workers: 5.0% of the workers' time, 3.0% waiting for end-of-level markers, 1.5% for summaries, 0.5% for shares; 62.5% of the idle time in levels that expanded fewer than 1,000 states a worker (medians)"
        );
        let one = SummaryRow { workers: 1, ..row };
        assert_eq!(idle_line(&[one]), None);
    }
}
