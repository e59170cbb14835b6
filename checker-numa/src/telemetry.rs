//! Per-worker telemetry: where each worker's wall time went and how much it moved.
//!
//! Every figure is written only by its own worker (plain fields, no atomics) and
//! handed to the caller when the worker ends.

use serde::Serialize;
use std::time::{Duration, Instant};

/// What a worker is doing at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Generating successors of its frontier (and storing its own ones).
    Expanding,
    /// Storing states that other workers sent.
    Receiving,
    /// Handing full batches, markers and summaries to mailboxes.
    Sending,
    /// Nothing to do: inbox empty while it waits for what [`WaitFor`] names.
    Idle(WaitFor),
}

impl Activity {
    /// Every activity, in the order of [`Activity::index`].
    const ALL: [Activity; 6] = [
        Activity::Expanding,
        Activity::Receiving,
        Activity::Sending,
        Activity::Idle(WaitFor::Share),
        Activity::Idle(WaitFor::Markers),
        Activity::Idle(WaitFor::Summaries),
    ];

    /// Position of the activity's total in [`TimeSplit`].
    fn index(self) -> usize {
        match self {
            Activity::Expanding => 0,
            Activity::Receiving => 1,
            Activity::Sending => 2,
            Activity::Idle(WaitFor::Share) => 3,
            Activity::Idle(WaitFor::Markers) => 4,
            Activity::Idle(WaitFor::Summaries) => 5,
        }
    }
}

/// What a worker with nothing to do is waiting for: the parts of its idle time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Another worker's answer to its request for a share, or a worker that has not
    /// begun the level (so that its frontier can be shared).
    Share,
    /// The other workers' end-of-level markers: some worker is still expanding.
    Markers,
    /// The other workers' summaries: some worker is still storing the states that
    /// reached it before the last marker.
    Summaries,
}

/// Splits wall time between activities with one clock read per switch.
#[derive(Debug)]
pub struct TimeSplit {
    /// The running activity; `None` once stopped.
    current: Option<Activity>,
    since: Instant,
    /// Accumulated time per activity, indexed by [`Activity::index`].
    totals: [Duration; Activity::ALL.len()],
}

impl TimeSplit {
    /// Starts the clock in `activity`.
    pub fn start(activity: Activity) -> Self {
        TimeSplit {
            current: Some(activity),
            since: Instant::now(),
            totals: [Duration::ZERO; Activity::ALL.len()],
        }
    }

    /// Switches to `activity`; returns the one it switched from (`activity` itself
    /// if the clock was stopped, which it restarts).
    #[inline]
    pub fn switch(&mut self, activity: Activity) -> Activity {
        let previous = self.current.unwrap_or(activity);
        if Some(activity) != self.current {
            let now = Instant::now();
            if let Some(running) = self.current {
                self.totals[running.index()] += now - self.since;
            }
            self.since = now;
            self.current = Some(activity);
        }
        previous
    }

    /// Stops the clock: the running stretch is counted, and nothing after it.
    pub fn stop(&mut self) {
        if let Some(running) = self.current.take() {
            self.totals[running.index()] += self.since.elapsed();
        }
    }

    /// Time spent in `activity` so far (the running stretch included).
    pub fn total(&self, activity: Activity) -> Duration {
        let running = if Some(activity) == self.current {
            self.since.elapsed()
        } else {
            Duration::ZERO
        };
        self.totals[activity.index()] + running
    }

    /// Time spent idle so far, whatever it waited for.
    pub fn idle(&self) -> Duration {
        [WaitFor::Share, WaitFor::Markers, WaitFor::Summaries]
            .into_iter()
            .map(|w| self.total(Activity::Idle(w)))
            .sum()
    }
}

/// One worker's figures for a whole run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WorkerTelemetry {
    /// Worker number (node-major).
    pub worker: usize,
    /// NUMA node it ran on.
    pub node: usize,
    /// CPU it was pinned to, if pinning succeeded.
    pub cpu: Option<usize>,
    /// Seconds of wall time from start to end of the search.
    pub wall_s: f64,
    /// Seconds generating successors.
    pub expanding_s: f64,
    /// Seconds storing received states.
    pub receiving_s: f64,
    /// Seconds handing batches to mailboxes, full mailboxes included.
    pub sending_s: f64,
    /// Seconds with nothing to do.
    pub idle_s: f64,
    /// Of `idle_s`, seconds waiting for a share's answer or for a worker to begin the
    /// level ([`WaitFor::Share`]).
    pub idle_share_answers_s: f64,
    /// Of `idle_s`, seconds waiting for other workers' end-of-level markers
    /// ([`WaitFor::Markers`]).
    pub idle_markers_s: f64,
    /// Of `idle_s`, seconds waiting for other workers' summaries
    /// ([`WaitFor::Summaries`]).
    pub idle_summaries_s: f64,
    /// States this worker expanded.
    pub expanded: u64,
    /// Distinct states this worker owns.
    pub owned: u64,
    /// Successors this worker computed (plus its initial states).
    pub generated: u64,
    /// Batches sent to other workers.
    pub batches_sent: u64,
    /// States sent to other workers.
    pub states_sent: u64,
    /// Batches received from other workers.
    pub batches_received: u64,
    /// States received from other workers.
    pub states_received: u64,
    /// States of this worker's frontiers it handed to other workers to expand.
    pub states_shared: u64,
    /// States of other workers' frontiers this worker expanded for them.
    pub states_taken: u64,
    /// Requests for a share this worker sent (each answered, with states or none).
    pub shares_asked: u64,
    /// Of `shares_asked`, those sent while this worker still had states of its own,
    /// because another worker had far more left (pacing).
    pub paced_asks: u64,
    /// Bytes held by the visited table.
    pub table_bytes: u64,
    /// Bytes held by the parent log.
    pub log_bytes: u64,
}

impl WorkerTelemetry {
    /// Adds the figures of a later run segment of the same worker (after a checkpoint).
    pub fn add_segment(&mut self, later: &WorkerTelemetry) {
        self.wall_s += later.wall_s;
        self.expanding_s += later.expanding_s;
        self.receiving_s += later.receiving_s;
        self.sending_s += later.sending_s;
        self.idle_s += later.idle_s;
        self.idle_share_answers_s += later.idle_share_answers_s;
        self.idle_markers_s += later.idle_markers_s;
        self.idle_summaries_s += later.idle_summaries_s;
        self.expanded = later.expanded;
        self.owned = later.owned;
        self.generated = later.generated;
        self.batches_sent += later.batches_sent;
        self.states_sent += later.states_sent;
        self.batches_received += later.batches_received;
        self.states_received += later.states_received;
        self.states_shared += later.states_shared;
        self.states_taken += later.states_taken;
        self.shares_asked += later.shares_asked;
        self.paced_asks += later.paced_asks;
        self.table_bytes = later.table_bytes;
        self.log_bytes = later.log_bytes;
        self.worker = later.worker;
        self.node = later.node;
        self.cpu = later.cpu;
    }

    /// Non-idle share of wall time.
    pub fn utilisation(&self) -> f64 {
        if self.wall_s <= 0.0 {
            return 0.0;
        }
        ((self.wall_s - self.idle_s) / self.wall_s).clamp(0.0, 1.0)
    }

    /// Mean states per batch sent.
    pub fn mean_batch_fill(&self) -> f64 {
        if self.batches_sent == 0 {
            0.0
        } else {
            self.states_sent as f64 / self.batches_sent as f64
        }
    }
}

/// Every worker's figures.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Telemetry {
    /// One entry per worker, in worker order.
    pub workers: Vec<WorkerTelemetry>,
}

/// Minimum, median and maximum of a figure over the workers.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Spread {
    /// Smallest value.
    pub min: f64,
    /// Median (mean of the middle two for an even count).
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all zero when empty.
    pub fn of(mut values: Vec<f64>) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Spread {
            min: values[0],
            median,
            max: values[n - 1],
        }
    }
}

impl Telemetry {
    /// Utilisation (non-idle / wall) over the workers.
    pub fn utilisation(&self) -> Spread {
        Spread::of(self.workers.iter().map(|w| w.utilisation()).collect())
    }

    /// Share of all workers' wall time spent idle.
    pub fn idle_share(&self) -> f64 {
        let wall: f64 = self.workers.iter().map(|w| w.wall_s).sum();
        let idle: f64 = self.workers.iter().map(|w| w.idle_s).sum();
        if wall > 0.0 {
            idle / wall
        } else {
            0.0
        }
    }

    /// Shares of all workers' wall time spent idle waiting for each [`WaitFor`]: a
    /// share's answer, the markers, the summaries (they add up to [`Self::idle_share`]).
    pub fn idle_by_wait(&self) -> [f64; 3] {
        let wall: f64 = self.workers.iter().map(|w| w.wall_s).sum();
        let share = |part: fn(&WorkerTelemetry) -> f64| {
            let idle: f64 = self.workers.iter().map(part).sum();
            if wall > 0.0 {
                idle / wall
            } else {
                0.0
            }
        };
        [
            share(|w| w.idle_share_answers_s),
            share(|w| w.idle_markers_s),
            share(|w| w.idle_summaries_s),
        ]
    }

    /// Share of all expansions done by a worker other than the state's owner (taken
    /// over from a slower worker's frontier).
    pub fn shared_expansion(&self) -> f64 {
        let expanded: u64 = self.workers.iter().map(|w| w.expanded).sum();
        let taken: u64 = self.workers.iter().map(|w| w.states_taken).sum();
        if expanded > 0 {
            taken as f64 / expanded as f64
        } else {
            0.0
        }
    }

    /// Batches sent by all workers.
    pub fn batches_sent(&self) -> u64 {
        self.workers.iter().map(|w| w.batches_sent).sum()
    }

    /// Mean states per batch over all workers.
    pub fn mean_batch_fill(&self) -> f64 {
        let batches = self.batches_sent();
        let states: u64 = self.workers.iter().map(|w| w.states_sent).sum();
        if batches == 0 {
            0.0
        } else {
            states as f64 / batches as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_min_median_max() {
        let s = Spread::of(vec![0.5, 0.9, 0.7]);
        assert_eq!((s.min, s.median, s.max), (0.5, 0.7, 0.9));
        let s = Spread::of(vec![1.0, 0.0, 0.5, 0.25]);
        assert_eq!(s.median, 0.375);
    }

    #[test]
    fn idle_is_split_by_what_it_waited_for() {
        let worker = |wall_s, share, markers, summaries| WorkerTelemetry {
            wall_s,
            idle_s: share + markers + summaries,
            idle_share_answers_s: share,
            idle_markers_s: markers,
            idle_summaries_s: summaries,
            ..Default::default()
        };
        let t = Telemetry {
            workers: vec![worker(2.0, 0.1, 0.2, 0.1), worker(2.0, 0.0, 0.1, 0.3)],
        };
        let [share, markers, summaries] = t.idle_by_wait();
        assert!((share - 0.025).abs() < 1e-12);
        assert!((markers - 0.075).abs() < 1e-12);
        assert!((summaries - 0.1).abs() < 1e-12);
        assert!((share + markers + summaries - t.idle_share()).abs() < 1e-12);
        assert_eq!(Telemetry { workers: vec![] }.idle_by_wait(), [0.0; 3]);
    }

    #[test]
    fn utilisation_is_non_idle_share() {
        let w = WorkerTelemetry {
            wall_s: 2.0,
            idle_s: 0.5,
            states_sent: 30,
            batches_sent: 4,
            ..Default::default()
        };
        assert_eq!(w.utilisation(), 0.75);
        assert_eq!(w.mean_batch_fill(), 7.5);
    }

    #[test]
    fn time_split_accumulates_per_activity() {
        let mut t = TimeSplit::start(Activity::Expanding);
        std::thread::sleep(Duration::from_millis(5));
        let markers = Activity::Idle(WaitFor::Markers);
        assert_eq!(t.switch(markers), Activity::Expanding);
        assert!(t.total(Activity::Expanding) >= Duration::from_millis(5));
        assert_eq!(t.total(Activity::Sending), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(3));
        assert_eq!(t.switch(Activity::Idle(WaitFor::Summaries)), markers);
        std::thread::sleep(Duration::from_millis(2));
        t.stop();
        let (m, s) = (
            t.total(markers),
            t.total(Activity::Idle(WaitFor::Summaries)),
        );
        assert!(m >= Duration::from_millis(3) && s >= Duration::from_millis(2));
        assert_eq!(t.total(Activity::Idle(WaitFor::Share)), Duration::ZERO);
        assert_eq!(t.idle(), m + s);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(t.idle(), m + s, "a stopped clock counts nothing more");
        assert_eq!(t.switch(Activity::Sending), Activity::Sending, "restarted");
    }

    #[test]
    fn activity_indices_are_distinct_and_in_order() {
        for (i, a) in Activity::ALL.into_iter().enumerate() {
            assert_eq!(a.index(), i, "{a:?}");
        }
    }
}
