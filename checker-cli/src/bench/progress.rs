//! Progress over a whole sweep: a bar on a terminal that can redraw a line (stderr's;
//! not `TERM=dumb`), one line per finished run
//! otherwise (so CI logs and redirected runs still show where a long sweep is).

use crate::output::{errln, redraws};
use indicatif::{ProgressBar, ProgressStyle};

/// Reports the runs of a sweep as they start and finish, on stderr.
pub struct SweepProgress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
}

impl SweepProgress {
    /// Progress over `total` runs.
    pub fn new(total: u64) -> Self {
        let bar = redraws(&std::io::stderr()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} runs, {elapsed_precise} (eta {eta}) {msg}",
                )
                .expect("valid template"),
            );
            bar
        });
        SweepProgress {
            bar,
            total,
            done: 0,
        }
    }

    /// Says which run is going now.
    pub fn start(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
    }

    /// Counts a finished run that took `wall_s` seconds of search.
    pub fn finished(&mut self, what: &str, wall_s: f64) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => errln!("[{}/{}] {what}: {wall_s:.3} s", self.done, self.total),
        }
    }

    /// Removes the bar.
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
