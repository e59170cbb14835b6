//! Per-worker telemetry: where each worker's wall time went and how much it moved.
//!
//! Every figure is written only by its own worker (plain fields, no atomics) and
//! handed to the caller when the worker ends.

use serde::{Deserialize, Serialize};
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
    /// Writing its part of a checkpoint (syncing its parent log, writing its file):
    /// disk time, apart from `Sending` so that a run with frequent checkpoints does
    /// not look as if its rings were full.
    Checkpointing,
}

impl Activity {
    /// Every activity, in the order of [`Activity::index`].
    const ALL: [Activity; 7] = [
        Activity::Expanding,
        Activity::Receiving,
        Activity::Sending,
        Activity::Idle(WaitFor::Share),
        Activity::Idle(WaitFor::Markers),
        Activity::Idle(WaitFor::Summaries),
        Activity::Checkpointing,
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
            Activity::Checkpointing => 6,
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

    /// Time since the start, all activities together: the clock runs without a gap
    /// from its start to its stop, so this is the wall time it covers, and the
    /// activities' times add up to it.
    pub fn wall(&self) -> Duration {
        Activity::ALL.into_iter().map(|a| self.total(a)).sum()
    }

    /// Time spent idle so far, whatever it waited for.
    pub fn idle(&self) -> Duration {
        [WaitFor::Share, WaitFor::Markers, WaitFor::Summaries]
            .into_iter()
            .map(|w| self.total(Activity::Idle(w)))
            .sum()
    }
}

/// Where one BFS level's time went, over all workers ([`Telemetry::levels`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LevelTelemetry {
    /// Depth of the states the level stored (0: the initial states).
    pub depth: u32,
    /// States expanded in the level by all workers (the previous level's new states),
    /// less those expanded before the run was stopped in this level and resumed: the
    /// level's expansions in this process, as its times are.
    pub expanded: u64,
    /// New states the level stored, over all workers.
    pub new_states: u64,
    /// Seconds from the end of the previous level (or from the start of the run
    /// segment) to the end of this one, by worker 0's clock (every worker leaves a
    /// level end within the time of one message of the others, and one clock makes the
    /// levels add up to the run).
    pub wall_s: f64,
    /// Seconds idle within the level, summed over the workers.
    pub idle_s: f64,
    /// Seconds in the level summed over the workers, each by its own clock: what
    /// `idle_s` is a part of. Not `wall_s` times the workers: threads leave a level end
    /// (and start the first level) moments apart, so in a level as short as those
    /// moments the workers' idle time could pass that product (level 0 of `twophase 8`
    /// at 2 workers: 1.47 ms idle in a level of 0.29 ms by worker 0's clock). Absent
    /// (0) in reports of older versions.
    #[serde(default)]
    pub workers_wall_s: f64,
}

/// One worker's wall and idle time in one level, in nanoseconds. A worker sends it to
/// worker 0 at the end of the next level ([`Message::Lap`](crate::message::Message)),
/// and worker 0 keeps the level's sums ([`LevelLaps`]), so a run keeps 12 bytes a
/// level, not 8 a level for every worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelLap {
    /// From the end of the previous level (or the start of the run segment).
    pub wall_ns: u64,
    /// Idle within the level.
    pub idle_ns: u64,
}

/// Some workers' laps of one level, added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LapSum {
    /// Their wall times.
    pub wall_ns: u64,
    /// Their idle times.
    pub idle_ns: u64,
    /// How many laps.
    pub laps: u32,
}

impl LapSum {
    /// One worker's lap, or nothing.
    pub fn of(lap: Option<LevelLap>) -> LapSum {
        lap.map_or(LapSum::default(), |lap| LapSum {
            wall_ns: lap.wall_ns,
            idle_ns: lap.idle_ns,
            laps: 1,
        })
    }

    /// Adds other workers' laps of the same level.
    pub fn merge(&mut self, other: &LapSum) {
        // Saturating: a lap saturates at u64::MAX nanoseconds (584 years) too.
        self.wall_ns = self.wall_ns.saturating_add(other.wall_ns);
        self.idle_ns = self.idle_ns.saturating_add(other.idle_ns);
        self.laps += other.laps;
    }
}

/// One level's laps combined over the workers, in seconds. Single precision: worker 0
/// keeps one a level.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CombinedLap {
    /// Worker 0's wall time ([`LevelTelemetry::wall_s`]).
    pub wall_s: f32,
    /// The workers' idle times, summed.
    pub idle_s: f32,
    /// The workers' wall times, summed ([`LevelTelemetry::workers_wall_s`]).
    pub workers_wall_s: f32,
}

impl CombinedLap {
    /// Worker 0's wall time `own_wall_ns` with every worker's laps `all`.
    pub fn new(own_wall_ns: u64, all: &LapSum) -> CombinedLap {
        let seconds = |ns: u64| (ns as f64 / 1e9) as f32;
        CombinedLap {
            wall_s: seconds(own_wall_ns),
            idle_s: seconds(all.idle_ns),
            workers_wall_s: seconds(all.wall_ns),
        }
    }
}

/// A worker's record of the levels it completed: worker 0 keeps every level's laps
/// combined; each worker holds its last lap until it has sent it (or until the run
/// segment ends, when [`Telemetry::settle_unsent_laps`] combines them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LevelLaps {
    /// Depth of the first level completed (not 0 in a run resumed from a checkpoint);
    /// `None` before one is.
    pub first_depth: Option<u32>,
    /// Worker 0's: one per completed level whose laps every worker sent, in order (a
    /// level interrupted and resumed counts only its resumed part). Empty in the
    /// other workers'.
    pub combined: Vec<CombinedLap>,
    /// The lap of the last level completed, not sent yet.
    pub unsent: Option<LevelLap>,
    /// States of the first lap's level this worker expanded before it was stopped
    /// part-way and resumed (0 unless this run resumed a level saved part-way).
    pub expanded_before_resume: u64,
}

impl LevelLaps {
    /// Records the lap of the completed level of depth `depth`, to be sent.
    pub fn complete(&mut self, depth: u32, lap: LevelLap) {
        debug_assert!(self.unsent.is_none(), "the previous lap was sent");
        self.first_depth.get_or_insert(depth);
        self.unsent = Some(lap);
    }

    /// Worker 0's: records a level's laps combined, from its own lap and the other
    /// workers', summed in `others`; `workers` counts every worker, itself included.
    pub fn combine(&mut self, own: LevelLap, others: &LapSum, workers: usize) {
        let mut all = LapSum::of(Some(own));
        all.merge(others);
        debug_assert_eq!(all.laps as usize, workers, "one lap from each worker");
        self.combined.push(CombinedLap::new(own.wall_ns, &all));
    }

    /// Appends the laps of a later run segment, which begins where these end.
    pub fn append(&mut self, later: &LevelLaps) {
        debug_assert!(self.unsent.is_none() && later.unsent.is_none(), "settled");
        if self.first_depth.is_none() {
            self.first_depth = later.first_depth;
            self.expanded_before_resume = later.expanded_before_resume;
        }
        self.combined.extend_from_slice(&later.combined);
    }
}

/// Laps a worker's time level by level: wall time and idle time since the last lap.
#[derive(Debug)]
pub struct LevelClock {
    since: Instant,
    idle_before: Duration,
}

impl LevelClock {
    /// Starts lapping from now, with `clock`'s idle time so far as the base.
    pub fn start(clock: &TimeSplit) -> Self {
        LevelClock {
            since: Instant::now(),
            idle_before: clock.idle(),
        }
    }

    /// Wall time and idle time since the last lap (or the start).
    pub fn lap(&mut self, clock: &TimeSplit) -> LevelLap {
        let now = Instant::now();
        let idle = clock.idle();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let lap = LevelLap {
            wall_ns: nanos(now - self.since),
            idle_ns: nanos(idle.saturating_sub(self.idle_before)),
        };
        self.since = now;
        self.idle_before = idle;
        lap
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
    /// Seconds writing this worker's part of checkpoints (periodic ones, and the one
    /// written when the run stops for an interrupt or the memory budget). With
    /// `expanding_s`, `receiving_s`, `sending_s` and `idle_s` it makes up `wall_s`.
    pub checkpointing_s: f64,
    /// Of `idle_s`, seconds waiting for a share's answer or for a worker to begin the
    /// level ([`WaitFor::Share`]).
    pub idle_share_answers_s: f64,
    /// Of `idle_s`, seconds waiting for other workers' end-of-level markers
    /// ([`WaitFor::Markers`]).
    pub idle_markers_s: f64,
    /// Of `idle_s`, seconds waiting for other workers' summaries
    /// ([`WaitFor::Summaries`]).
    pub idle_summaries_s: f64,
    /// States this worker expanded, in the levels it completed. Like the times and
    /// the traffic, only this process's: a run resumed from a checkpoint counts from
    /// the resume (the states expanded before the stop, part of the resumed level
    /// included, are the stopped run's).
    pub expanded: u64,
    /// Distinct states this worker owns, all it stored since the run began (a
    /// resumed run's include those in its checkpoint): they add up to the distinct
    /// states.
    pub owned: u64,
    /// Successors this worker computed (plus its initial states), counted as
    /// `expanded` is.
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
    /// This worker's wall and idle time in each level it completed. Not serialised
    /// per worker: [`Telemetry::levels`] carries them combined.
    #[serde(skip)]
    pub levels: LevelLaps,
}

impl WorkerTelemetry {
    /// Adds the figures of a later run segment of the same worker (after a checkpoint).
    pub fn add_segment(&mut self, later: &WorkerTelemetry) {
        self.wall_s += later.wall_s;
        self.expanding_s += later.expanding_s;
        self.receiving_s += later.receiving_s;
        self.sending_s += later.sending_s;
        self.idle_s += later.idle_s;
        self.checkpointing_s += later.checkpointing_s;
        self.idle_share_answers_s += later.idle_share_answers_s;
        self.idle_markers_s += later.idle_markers_s;
        self.idle_summaries_s += later.idle_summaries_s;
        self.expanded += later.expanded;
        self.owned = later.owned;
        self.generated += later.generated;
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
        self.levels.append(&later.levels);
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
    /// Each completed level, in order, combined over the workers.
    pub levels: Vec<LevelTelemetry>,
}

/// What [`Telemetry::idle_in_small_levels`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmallLevels {
    /// How many levels expanded fewer states than the bound.
    pub levels: usize,
    /// Their share of all idle time.
    pub idle_share: f64,
    /// Their share of all expanded states.
    pub states_share: f64,
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
    /// Combines the laps the workers still hold at the end of a run segment (of the
    /// level completed last, which no later level end sent) into worker 0's.
    pub fn settle_unsent_laps<'a>(workers: impl IntoIterator<Item = &'a mut WorkerTelemetry>) {
        let mut workers = workers.into_iter();
        let Some(first) = workers.next() else {
            return;
        };
        let mut others = LapSum::default();
        let mut count = 1;
        for w in workers {
            others.merge(&LapSum::of(w.levels.unsent.take()));
            count += 1;
        }
        if let Some(own) = first.levels.unsent.take() {
            first.levels.combine(own, &others, count);
        }
    }

    /// The run's telemetry from each worker's: worker 0's combined laps (with any
    /// laps still unsent) are moved out and joined with the run's level sizes
    /// (`level_sizes[d]`: the new states of depth `d`).
    pub fn from_workers(mut workers: Vec<WorkerTelemetry>, level_sizes: &[u64]) -> Telemetry {
        Telemetry::settle_unsent_laps(&mut workers);
        let before_resume: u64 = workers
            .iter()
            .map(|w| w.levels.expanded_before_resume)
            .sum();
        let laps: Vec<LevelLaps> = workers
            .iter_mut()
            .map(|w| std::mem::take(&mut w.levels))
            .collect();
        debug_assert!(
            laps.iter().skip(1).all(|l| l.combined.is_empty()),
            "worker 0 alone keeps the levels' laps"
        );
        let Some(first) = laps.into_iter().next() else {
            return Telemetry {
                workers,
                levels: Vec::new(),
            };
        };
        let first_depth = first.first_depth.unwrap_or(0);
        let size = |depth: Option<u32>| {
            depth.map_or(0, |d| level_sizes.get(d as usize).copied().unwrap_or(0))
        };
        let levels = first
            .combined
            .iter()
            .enumerate()
            .map(|(i, lap)| {
                let depth = first_depth + i as u32;
                let resumed = if i == 0 { before_resume } else { 0 };
                LevelTelemetry {
                    depth,
                    expanded: size(depth.checked_sub(1)).saturating_sub(resumed),
                    new_states: size(Some(depth)),
                    wall_s: f64::from(lap.wall_s),
                    idle_s: f64::from(lap.idle_s),
                    workers_wall_s: f64::from(lap.workers_wall_s),
                }
            })
            .collect();
        Telemetry { workers, levels }
    }

    /// Of all idle time, the share spent in the levels that expanded fewer than
    /// `per_worker` states per worker, with how many such levels there are and their
    /// share of all expanded states. `None` if no level was idle at all.
    pub fn idle_in_small_levels(&self, per_worker: u64) -> Option<SmallLevels> {
        let idle: f64 = self.levels.iter().map(|l| l.idle_s).sum();
        if idle <= 0.0 {
            return None;
        }
        let below = per_worker.saturating_mul(self.workers.len() as u64);
        let small = || self.levels.iter().filter(|l| l.expanded < below);
        let expanded: u64 = self.levels.iter().map(|l| l.expanded).sum();
        let small_expanded: u64 = small().map(|l| l.expanded).sum();
        Some(SmallLevels {
            levels: small().count(),
            // From +0.0: `sum` of no levels is -0.0, printed "-0.0%".
            idle_share: small().map(|l| l.idle_s).fold(0.0, |a, b| a + b) / idle,
            states_share: if expanded > 0 {
                small_expanded as f64 / expanded as f64
            } else {
                0.0
            },
        })
    }

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
        let t = Telemetry::from_workers(
            vec![worker(2.0, 0.1, 0.2, 0.1), worker(2.0, 0.0, 0.1, 0.3)],
            &[],
        );
        let [share, markers, summaries] = t.idle_by_wait();
        assert!((share - 0.025).abs() < 1e-12);
        assert!((markers - 0.075).abs() < 1e-12);
        assert!((summaries - 0.1).abs() < 1e-12);
        assert!((share + markers + summaries - t.idle_share()).abs() < 1e-12);
        assert_eq!(
            Telemetry::from_workers(vec![], &[]).idle_by_wait(),
            [0.0; 3]
        );
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

    fn level(depth: u32, expanded: u64, wall_s: f64, idle_s: f64) -> LevelTelemetry {
        LevelTelemetry {
            depth,
            expanded,
            new_states: expanded * 2,
            wall_s,
            idle_s,
            workers_wall_s: 2.0 * wall_s,
        }
    }

    /// A lap of `wall_ms` and `idle_ms` milliseconds.
    fn lap(wall_ms: u64, idle_ms: u64) -> LevelLap {
        LevelLap {
            wall_ns: wall_ms * 1_000_000,
            idle_ns: idle_ms * 1_000_000,
        }
    }

    /// The workers' telemetry after they completed the levels from `first_depth` on,
    /// `laps[w][i]` worker `w`'s lap of the `i`-th: each lap but the last sent to
    /// worker 0 at the end of the next level, and combined by it there, as the level
    /// end does.
    fn completed(first_depth: u32, laps: &[Vec<LevelLap>]) -> Vec<WorkerTelemetry> {
        let mut workers = vec![WorkerTelemetry::default(); laps.len()];
        for depth in first_depth..first_depth + laps[0].len() as u32 {
            // What the level end does with the laps of the level before.
            Telemetry::settle_unsent_laps(&mut workers);
            for (worker, its_laps) in workers.iter_mut().zip(laps) {
                worker
                    .levels
                    .complete(depth, its_laps[(depth - first_depth) as usize]);
            }
        }
        workers
    }

    #[test]
    fn lap_sums_add_the_laps_sent() {
        let mut sum = LapSum::of(Some(lap(500, 250)));
        sum.merge(&LapSum::of(None));
        sum.merge(&LapSum::of(Some(lap(750, 0))));
        assert_eq!(
            sum,
            LapSum {
                wall_ns: 1_250_000_000,
                idle_ns: 250_000_000,
                laps: 2
            }
        );
        assert_eq!(
            CombinedLap::new(500_000_000, &sum),
            CombinedLap {
                wall_s: 0.5,
                idle_s: 0.25,
                workers_wall_s: 1.25
            }
        );
    }

    #[test]
    fn levels_combine_worker_0s_wall_the_summed_idle_and_the_level_sizes() {
        let sizes = [1, 3, 6];
        let workers = completed(
            0,
            &[
                vec![lap(500, 250), lap(1000, 0), lap(250, 0), lap(125, 0)],
                vec![lap(750, 500), lap(500, 125), lap(250, 250), lap(125, 0)],
            ],
        );
        // Worker 0 alone keeps the levels; each holds its last lap, unsent.
        assert_eq!(workers[0].levels.combined.len(), 3);
        assert!(workers[1].levels.combined.is_empty());
        assert!(workers.iter().all(|w| w.levels.unsent.is_some()));
        let t = Telemetry::from_workers(workers, &sizes);
        let combined =
            |depth, expanded, new_states, wall_s, idle_s, workers_wall_s| LevelTelemetry {
                depth,
                expanded,
                new_states,
                wall_s,
                idle_s,
                workers_wall_s,
            };
        assert_eq!(
            t.levels,
            vec![
                combined(0, 0, 1, 0.5, 0.75, 1.25),
                combined(1, 1, 3, 1.0, 0.125, 1.5),
                combined(2, 3, 6, 0.25, 0.25, 0.5),
                // The last level expands the deepest states and finds nothing new.
                combined(3, 6, 0, 0.125, 0.0, 0.25),
            ]
        );
        assert!(t.workers.iter().all(|w| w.levels == LevelLaps::default()));
        // A run resumed at depth 2 starts its levels there.
        let resumed = Telemetry::from_workers(completed(2, &[vec![lap(250, 0)]]), &sizes);
        assert_eq!(resumed.levels, vec![combined(2, 3, 6, 0.25, 0.0, 0.25)]);
        // One resumed part-way through depth 2 (of 3 states, 1 and 1 expanded by its
        // two workers before the stop) counts the level's other expansions only.
        let mut part_way = completed(2, &vec![vec![lap(250, 0), lap(500, 0)]; 2]);
        part_way
            .iter_mut()
            .for_each(|w| w.levels.expanded_before_resume = 1);
        let resumed = Telemetry::from_workers(part_way, &sizes);
        assert_eq!(
            resumed.levels,
            vec![
                combined(2, 1, 6, 0.25, 0.0, 0.5),
                combined(3, 6, 0, 0.5, 0.0, 1.0)
            ]
        );
        assert_eq!(Telemetry::from_workers(vec![], &sizes).levels, vec![]);
    }

    #[test]
    fn a_later_segment_continues_the_laps() {
        let segment = |first_depth, laps: &[LevelLap]| {
            let mut workers = completed(first_depth, &[laps.to_vec(), laps.to_vec()]);
            Telemetry::settle_unsent_laps(&mut workers);
            workers
        };
        let mut run = segment(0, &[lap(500, 0)]);
        for (w, later) in run.iter_mut().zip(&segment(1, &[lap(250, 125)])) {
            w.add_segment(later);
        }
        let whole = segment(0, &[lap(500, 0), lap(250, 125)]);
        assert_eq!(run[0].levels, whole[0].levels);
        assert_eq!(whole[0].levels.combined.len(), 2);
        assert!(run[1].levels.combined.is_empty() && run[1].levels.unsent.is_none());
        // A resumed run's first segment says where it began and what it had done.
        let mut resumed = segment(4, &[lap(250, 125)]);
        resumed[1].levels.expanded_before_resume = 9;
        let mut empty = WorkerTelemetry::default();
        empty.add_segment(&resumed[1]);
        assert_eq!(empty.levels.first_depth, Some(4));
        assert_eq!(empty.levels.expanded_before_resume, 9);
        // A later segment begins at a level end: only the first can resume part-way.
        let mut later = segment(5, &[lap(250, 125)]);
        later[1].levels.expanded_before_resume = 3;
        empty.add_segment(&later[1]);
        assert_eq!(empty.levels.expanded_before_resume, 9);
    }

    #[test]
    fn idle_in_small_levels_is_a_share_of_all_idle() {
        let workers = vec![WorkerTelemetry::default(); 2];
        let mut t = Telemetry::from_workers(workers, &[]);
        t.levels = vec![
            level(0, 0, 0.1, 0.0),
            level(1, 1, 0.1, 0.25),
            level(2, 1_999, 0.1, 0.25),
            level(3, 2_000, 1.0, 0.5),
        ];
        // Below 1,000 a worker at 2 workers: levels 0, 1 and 2.
        let small = t.idle_in_small_levels(1000).unwrap();
        assert_eq!(small.levels, 3);
        assert_eq!(small.idle_share, 0.5);
        assert_eq!(small.states_share, 2_000.0 / 4_000.0);
        // No level below 0 states: a share of +0.0, not -0.0.
        let none_small = t.idle_in_small_levels(0).unwrap();
        assert_eq!((none_small.levels, none_small.idle_share), (0, 0.0));
        assert!(none_small.idle_share.is_sign_positive(), "not -0.0");
        t.levels.iter_mut().for_each(|l| l.idle_s = 0.0);
        assert_eq!(t.idle_in_small_levels(1000), None);
    }
}
