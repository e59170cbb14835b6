//! Runs a check on the partitioned engine: plans placement, starts one pinned thread
//! per worker, wires the per-pair mailboxes, reports progress, and assembles the
//! outcome and counterexample from what the workers hand back.

use crossbeam_utils::CachePadded;
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use checker_core::level::{build_violation, CounterexampleError};
use checker_core::{CheckOptions, Fingerprint, Model, Outcome, Progress, Verdict};

use crate::mailbox::{mailbox, MailboxReceiver, MailboxSender};
use crate::message::Message;
use crate::partition::{owner_of, ParentRef, MAX_WORKERS};
use crate::placement::{pin_current_thread, plan, PlacementPlan};
use crate::telemetry::{Telemetry, WorkerTelemetry};
use crate::topology::{detect, Topology};
use crate::worker::{Ending, LogEntry, ProgressSlot, Worker, WorkerResult, WorkerSetup};

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Number of workers; 0 means one per CPU the process may use.
    pub workers: usize,
    /// An outgoing batch is sent once it holds this many bytes.
    pub batch_bytes: usize,
    /// Messages each (sender, receiver) ring holds.
    pub ring_capacity: usize,
    /// Whether to pin each worker to its CPU.
    pub pin: bool,
    /// The machine's topology; detected when `None`.
    pub topology: Option<Topology>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: 0,
            batch_bytes: 16 * 1024,
            ring_capacity: 16,
            pin: true,
            topology: None,
        }
    }
}

/// A configuration or internal error.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration cannot be run.
    #[error("{0}")]
    Config(String),
    /// A counterexample failed to replay: a bug in the engine or a nondeterministic model.
    #[error(transparent)]
    Counterexample(#[from] CounterexampleError),
    /// A worker thread panicked.
    #[error("worker {0} panicked")]
    WorkerPanicked(usize),
}

/// The outcome of a parallel check with the engine's telemetry.
#[derive(Clone, Debug, Serialize)]
pub struct ParallelOutcome {
    /// Counts, verdict and counterexample: identical to the sequential checker's.
    pub outcome: Outcome,
    /// Per-worker figures.
    pub telemetry: Telemetry,
    /// Where the workers ran.
    #[serde(skip)]
    pub plan: PlacementPlan,
}

/// Checks `model` with the partitioned parallel engine.
pub fn check<M: Model>(
    model: &M,
    options: &CheckOptions,
    config: &EngineConfig,
) -> Result<ParallelOutcome, EngineError> {
    if config.ring_capacity == 0 {
        return Err(EngineError::Config(
            "ring capacity must be at least 1".into(),
        ));
    }
    if config.batch_bytes == 0 {
        return Err(EngineError::Config(
            "batch size must be at least 1 byte".into(),
        ));
    }
    let topology = config.topology.clone().unwrap_or_else(detect);
    let plan = plan(&topology, config.workers);
    let workers = plan.workers.len();
    if workers > MAX_WORKERS {
        return Err(EngineError::Config(format!(
            "at most {MAX_WORKERS} workers are supported, got {workers}"
        )));
    }
    let started = Instant::now();
    let progress: Vec<CachePadded<ProgressSlot>> = (0..workers)
        .map(|_| CachePadded::new(ProgressSlot::default()))
        .collect();
    // Setup only: each receiver creates its inbound mailboxes on its own thread and
    // leaves the sending ends here for their senders to pick up.
    let grid: Vec<Mutex<Option<MailboxSender<Message>>>> =
        (0..workers * workers).map(|_| Mutex::new(None)).collect();
    let wired = Barrier::new(workers);

    let results: Vec<Result<WorkerResult, EngineError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .workers
            .iter()
            .map(|placement| {
                let (grid, wired, progress) = (&grid, &wired, &progress);
                scope.spawn(move || {
                    let id = placement.worker;
                    let pinned = config.pin && pin_current_thread(placement);
                    let mut receivers: Vec<Option<MailboxReceiver<Message>>> = Vec::new();
                    for from in 0..workers {
                        if from == id {
                            receivers.push(None);
                            continue;
                        }
                        let (tx, rx) = mailbox(config.ring_capacity);
                        *grid[from * workers + id].lock().expect("setup lock") = Some(tx);
                        receivers.push(Some(rx));
                    }
                    wired.wait();
                    let senders = (0..workers)
                        .map(|to| grid[id * workers + to].lock().expect("setup lock").take())
                        .collect();
                    let telemetry = WorkerTelemetry {
                        worker: id,
                        node: placement.node,
                        cpu: if pinned { placement.cpu } else { None },
                        ..Default::default()
                    };
                    Worker::new(WorkerSetup {
                        id,
                        workers,
                        model,
                        options,
                        batch_bytes: config.batch_bytes,
                        senders,
                        receivers,
                        progress: &progress[id],
                        telemetry,
                    })
                    .run()
                })
            })
            .collect();
        monitor(&handles, &progress, options, started);
        handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| h.join().map_err(|_| EngineError::WorkerPanicked(i)))
            .collect()
    });
    let mut results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let elapsed = started.elapsed();
    let first = &results[0];
    let (ending, errors, totals) = (first.ending, first.errors, first.totals.clone());
    let verdict = match ending {
        Ending::Exhausted => Verdict::Holds,
        Ending::Limit(reason) => Verdict::Partial { reason },
        Ending::Error => {
            let (fp, kind) = errors.choose().expect("an error ending has an error");
            let logs: Vec<&[LogEntry]> = results.iter().map(|r| r.log.as_slice()).collect();
            let chain = chain_to(&logs, fp);
            Verdict::Violated(Box::new(build_violation(model, kind, &chain)?))
        }
    };
    let telemetry = Telemetry {
        workers: results
            .iter_mut()
            .map(|r| std::mem::take(&mut r.telemetry))
            .collect(),
    };
    Ok(ParallelOutcome {
        outcome: Outcome {
            model: model.name(),
            distinct: totals.distinct,
            generated: totals.generated,
            depth: totals.level_sizes.len() as u32,
            level_sizes: totals.level_sizes,
            deadlocks: totals.deadlocks,
            verdict,
            elapsed,
        },
        telemetry,
        plan,
    })
}

/// Calls the progress callback every interval until every worker has ended.
fn monitor<T>(
    handles: &[std::thread::ScopedJoinHandle<'_, T>],
    progress: &[CachePadded<ProgressSlot>],
    options: &CheckOptions,
    started: Instant,
) {
    let mut last = Instant::now();
    while !handles.iter().all(|h| h.is_finished()) {
        std::thread::sleep(Duration::from_millis(20));
        let Some(report) = options.progress else {
            continue;
        };
        if last.elapsed() < options.progress_interval {
            continue;
        }
        last = Instant::now();
        let sum = |f: fn(&ProgressSlot) -> u64| progress.iter().map(|p| f(p)).sum::<u64>();
        report(&Progress {
            generated: sum(|p| p.generated.load(Ordering::Relaxed)),
            distinct: sum(|p| p.distinct.load(Ordering::Relaxed)),
            frontier: sum(|p| p.frontier.load(Ordering::Relaxed)),
            depth: progress
                .iter()
                .map(|p| p.level.load(Ordering::Relaxed))
                .max()
                .unwrap_or(0) as u32,
            elapsed: started.elapsed(),
        });
    }
}

/// Follows parent references across the workers' logs from the state `fp` back to an
/// initial state; returns the fingerprints from the initial state on.
fn chain_to(logs: &[&[LogEntry]], fp: Fingerprint) -> Vec<Fingerprint> {
    let owner = owner_of(fp, logs.len());
    // The state is in the newest levels, so search its owner's log from the end.
    let index = logs[owner]
        .iter()
        .rposition(|e| e.fp == fp)
        .expect("the reported state is stored by its owner");
    let mut entry = logs[owner][index];
    let mut chain = vec![entry.fp];
    while let Some(worker) = entry.parent.worker() {
        entry = logs[worker][entry.parent.index() as usize];
        chain.push(entry.fp);
    }
    debug_assert_eq!(entry.parent, ParentRef::NONE);
    chain.reverse();
    chain
}
