//! Progress reports in the style of TLC's progress lines, or a live status line when
//! stdout is a terminal that can redraw a line (the line is drawn there, on stdout,
//! whatever stderr is).

use crate::output::{outln, redraws};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use std::time::Duration;

use checker_core::Progress;

use crate::report::thousands;

/// Prints progress; shared by the engine's monitor thread through `&self`.
pub struct ProgressPrinter {
    bar: Option<ProgressBar>,
    last: Mutex<Option<Progress>>,
}

impl ProgressPrinter {
    /// A printer for the current stdout.
    pub fn new() -> Self {
        let bar = redraws(&std::io::stdout()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        ProgressPrinter {
            bar,
            last: Mutex::new(None),
        }
    }

    /// Reports one snapshot.
    pub fn report(&self, p: &Progress) {
        let mut last = self.last.lock().expect("progress lock");
        let (dg, dd, dt) = match &*last {
            Some(l) => (
                p.generated.saturating_sub(l.generated),
                p.distinct.saturating_sub(l.distinct),
                (p.elapsed.saturating_sub(l.elapsed)).as_secs_f64(),
            ),
            None => (p.generated, p.distinct, p.elapsed.as_secs_f64()),
        };
        let rate = |n: u64| thousands((n as f64 / dt.max(1e-9)) as u64);
        let line = format!(
            "Progress({}) at {:.0}s: {} states generated ({}/s), {} distinct states found ({}/s), {} states left on queue.",
            p.depth,
            p.elapsed.as_secs_f64(),
            thousands(p.generated),
            rate(dg),
            thousands(p.distinct),
            rate(dd),
            thousands(p.frontier)
        );
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => outln!("{line}"),
        }
        *last = Some(p.clone());
    }

    /// Removes the live status line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
