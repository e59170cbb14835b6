//! Runs a check on the partitioned engine: plans placement, starts one pinned thread
//! per worker, wires the per-pair mailboxes, reports progress, writes and resumes
//! checkpoints, and assembles the outcome and counterexample from what the workers
//! hand back.
//!
//! A run is a sequence of segments. A segment ends when the search ends or when a
//! checkpoint is due: the workers write their files and hand their state back, the
//! driver commits the checkpoint, and the next segment starts from that state (in
//! memory, on the same CPUs).
//!
//! A run's settings are in `config` ([`EngineConfig`]); the checkpoint a run resumes
//! from, and the generations it writes, in `checkpoints`.

use crossbeam_utils::CachePadded;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checker_core::level::{build_violation, CounterexampleError, ViolationKindIndex};
use checker_core::{CheckOptions, Model, Outcome, Progress, StopReason, Verdict};

use crate::checkpoint::{self, CheckpointError, SearchSettings, WorkerFile};
use crate::frontier::Frontier;
use crate::mailbox::{mailbox, MailboxReceiver, MailboxSender};
use crate::mailbox_memory::{
    mailbox_memory, refuse_oversized_mailboxes, thread_arenas, thread_stacks,
};
use crate::message::Message;
use crate::parent_log::{chain_to, ChainError, ParentLog};
use crate::partition::MAX_WORKERS;
use crate::placement::{pin_current_thread, plan, PlacementPlan};
use crate::process_limits::{Headroom, MemoryBudget, Reserved};
use crate::setup_barrier::{set_up_together, SetupBarrier};
use crate::table::FingerprintSet;
use crate::telemetry::{Telemetry, WorkerTelemetry};
use crate::topology::detect;
use crate::workdir_lock::WorkdirLock;
use crate::worker::{
    Abandoned, CheckpointPlan, Ending, GlobalTotals, ProgressSlot, Worker, WorkerResult,
    WorkerSetup, WorkerState,
};

mod checkpoints;
mod config;

use checkpoints::{
    ended_at_the_checkpoint, next_generation, resume_point, ResumePoint, UncommittedCheckpoint,
};
pub use config::{EngineConfig, ExpansionSharing, Persistence};

/// A configuration, checkpoint or internal error.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration cannot be run.
    #[error("{0}")]
    Config(String),
    /// A checkpoint cannot be used or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The work directory failed.
    #[error("work directory: {0}")]
    Io(String),
    /// A counterexample failed to replay: a bug in the engine or a nondeterministic model.
    #[error(transparent)]
    Counterexample(#[from] CounterexampleError),
    /// The parent logs in the work directory do not lead from the reported state back to
    /// an initial state (a damaged or foreign `log-<w>.bin`), or the path they give does
    /// not replay: the counts are right, but no counterexample can be rebuilt.
    #[error("{0}")]
    DamagedLog(String),
    /// A worker thread panicked (in the model's code, say).
    #[error("worker {worker} panicked: {message}")]
    WorkerPanicked {
        /// The worker whose panic ended the run (not one that stopped because of it).
        worker: usize,
        /// The panic's message, or a note that it carried none.
        message: String,
    },
}

/// The text of a panic's payload (`panic!` with a message gives a `&str` or `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(text), _) => (*text).to_string(),
        (_, Some(text)) => text.clone(),
        _ => "(a panic without a message)".to_string(),
    }
}

/// The outcome of a parallel check with the engine's telemetry.
#[derive(Clone, Debug, Serialize)]
pub struct ParallelOutcome {
    /// Counts, verdict and counterexample: identical to the sequential checker's.
    pub outcome: Outcome,
    /// Per-worker figures, added up over every run segment of this process.
    pub telemetry: Telemetry,
    /// Where the workers ran.
    #[serde(skip)]
    pub plan: PlacementPlan,
    /// The checkpoint to resume from, when the run stopped early with one.
    pub checkpoint: Option<PathBuf>,
    /// Checkpoints written during the run.
    pub checkpoints_written: u64,
    /// The memory budget the run worked to, and what set it; `None` if it had none.
    pub memory_budget: Option<MemoryBudget>,
    /// Whether the run was answered from its checkpoint's manifest with no worker
    /// started: a resume given a `--max-states`/`--max-depth` the checkpoint already
    /// reaches. The telemetry then holds each worker's `owned` count and nothing else.
    pub answered_from_checkpoint: bool,
    /// Whether the workers shared expansion ([`EngineConfig::share_expansion`], decided
    /// with the plan: `Auto` is off in an oversubscribed run; never with 1 worker).
    pub expansion_shared: bool,
}

/// Where a worker's state comes from at the start of a segment.
enum StateSource {
    /// A new, empty state.
    Fresh,
    /// Worker file of a checkpoint.
    Checkpoint { dir: PathBuf, file: WorkerFile },
    /// Handed back by the previous segment.
    Carried(Box<WorkerState>),
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
    let persistence = config.persistence.as_ref();
    // Held until the run returns (see `workdir_lock`): taken before a checkpoint is
    // read, or, for a fresh run, once its work directory exists.
    let lock_before_reading = match persistence {
        Some(p) if p.lock.is_some() => p.lock.clone(),
        Some(p) if p.resume && p.workdir.is_dir() => Some(Arc::new(
            WorkdirLock::take(&p.workdir).map_err(EngineError::Config)?,
        )),
        _ => None,
    };
    let resumed = match persistence {
        Some(p) if p.resume => Some(resume_point(p, model, options)?),
        _ => None,
    };
    let workers = match resumed.as_ref().map(|r| &r.manifest) {
        Some(m) if config.workers == 0 => m.workers,
        Some(m) if config.workers != m.workers => {
            return Err(EngineError::Config(format!(
                "the checkpoint was written by {} workers; resume with --workers {} (re-partitioning to another count is not supported)",
                m.workers, m.workers
            )))
        }
        _ => config.workers,
    };
    // Checked before planning too, which allocates a placement per worker; 0 becomes
    // one worker per CPU there, which is checked after.
    let too_many = |workers: usize| {
        EngineError::Config(format!(
            "at most {MAX_WORKERS} workers are supported, got {workers}"
        ))
    };
    if workers > MAX_WORKERS {
        return Err(too_many(workers));
    }
    let plan = plan(&topology, workers);
    let workers = plan.workers.len();
    if workers > MAX_WORKERS {
        return Err(too_many(workers));
    }
    // Decided once, with the plan, for every segment of the run.
    let expansion_shared = workers > 1 && config.share_expansion.is_on(plan.oversubscribed);
    let memory_budget = Headroom::read(&Reserved {
        arenas: thread_arenas(workers),
        stacks: thread_stacks(workers),
        mailboxes: mailbox_memory(workers, config.ring_capacity),
    })
    .budget(config.memory_budget, config.memory_limits);
    refuse_oversized_mailboxes(workers, config.ring_capacity, config.memory_budget)?;
    if let Some(budget) = memory_budget {
        budget
            .refuse_if_too_small(workers, config.batch_bytes)
            .map_err(EngineError::Config)?;
    }
    let _workdir_lock = match persistence {
        Some(p) => {
            std::fs::create_dir_all(&p.workdir)
                .map_err(|e| EngineError::Io(format!("{}: {e}", p.workdir.display())))?;
            let lock = match lock_before_reading {
                Some(lock) => lock,
                None => Arc::new(WorkdirLock::take(&p.workdir).map_err(EngineError::Config)?),
            };
            // A fresh run rewrites the parent logs from their start, and the
            // checkpoint's counterexample is rebuilt from them: resumed after such a
            // run, it failed to replay ("the parent logs ... may be damaged").
            // Looked at under the lock, so no run can commit a checkpoint between this
            // look and the logs' rewrite.
            if !p.resume && checkpoint::holds_checkpoint(&p.workdir) {
                return Err(EngineError::Config(format!(
                    "{} holds a checkpoint: resume it with --resume {}, or choose another --workdir",
                    p.workdir.display(),
                    p.workdir.display()
                )));
            }
            checkpoint::remove_debris(&p.workdir)?;
            Some(lock)
        }
        None => None,
    };
    if let Some(ResumePoint {
        manifest,
        ends_at_once: Some(reason),
        ..
    }) = resumed
    {
        return Ok(ended_at_the_checkpoint(
            model,
            manifest,
            reason,
            plan,
            memory_budget,
        ));
    }
    let (mut sources, mut totals, elapsed_before) = match resumed {
        Some(ResumePoint { dir, manifest, .. }) => (
            manifest
                .worker_files
                .iter()
                .map(|f| StateSource::Checkpoint {
                    dir: dir.clone(),
                    file: f.clone(),
                })
                .collect::<Vec<_>>(),
            GlobalTotals {
                last_level_size: manifest.totals.level_sizes.last().copied(),
                totals: manifest.totals,
                depth: manifest.depth,
                started: true,
            },
            Duration::from_secs_f64(manifest.elapsed_s),
        ),
        None => (
            (0..workers).map(|_| StateSource::Fresh).collect(),
            GlobalTotals::default(),
            Duration::ZERO,
        ),
    };
    let started = Instant::now();
    let mut checkpoints_written = 0u64;
    let mut earlier_telemetry = vec![WorkerTelemetry::default(); workers];
    loop {
        let checkpoint_dir = match persistence {
            Some(p) => {
                let dir = checkpoint::generation_dir(&p.workdir, next_generation(&p.workdir)?);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| EngineError::Io(format!("{}: {e}", dir.display())))?;
                Some(dir)
            }
            None => None,
        };
        // However this segment ends (an error included), its checkpoint directory
        // goes unless it was committed.
        let _uncommitted =
            persistence
                .zip(checkpoint_dir.as_deref())
                .map(|(p, dir)| UncommittedCheckpoint {
                    workdir: &p.workdir,
                    dir,
                });
        let segment = Segment {
            model,
            options,
            config,
            plan: &plan,
            checkpoints: CheckpointPlan {
                dir: checkpoint_dir.clone(),
                every: persistence.and_then(|p| p.checkpoint_every),
            },
            totals: totals.clone(),
            started,
            elapsed_before,
            memory_budget: memory_budget.map(|b| b.bytes),
            share_expansion: expansion_shared,
        };
        let mut results = segment.run(sources)?;
        Telemetry::settle_unsent_laps(results.iter_mut().map(|r| &mut r.telemetry));
        // Telemetry covers the whole run: add the earlier segments' figures.
        for (r, earlier) in results.iter_mut().zip(&mut earlier_telemetry) {
            let mut total = std::mem::take(earlier);
            total.add_segment(&r.telemetry);
            r.telemetry = total;
        }
        if let Some(e) = results.iter().find_map(|r| r.io_error.clone()) {
            return Err(EngineError::Io(e));
        }
        let first = &results[0];
        let ending = first.ending;
        totals = first.totals.clone();
        let mut checkpoint = None;
        if let (Some(dir), Some(p)) = (&checkpoint_dir, persistence) {
            let files: Option<Vec<WorkerFile>> =
                results.iter().map(|r| r.checkpoint_file.clone()).collect();
            // Unless every worker wrote its file, `_uncommitted` removes the rest.
            if let Some(files) = files {
                let manifest = checkpoint::manifest(
                    p.identity.clone(),
                    SearchSettings::of(options),
                    workers,
                    totals.depth,
                    totals.totals.clone(),
                    (elapsed_before + started.elapsed()).as_secs_f64(),
                    files,
                );
                checkpoint::commit(&p.workdir, dir, &manifest)?;
                checkpoints_written += 1;
                checkpoint = Some(p.workdir.clone());
            }
        }
        if ending == Ending::Checkpoint {
            earlier_telemetry = results
                .iter_mut()
                .map(|r| std::mem::take(&mut r.telemetry))
                .collect();
            sources = results
                .into_iter()
                .map(|r| StateSource::Carried(Box::new(r.state)))
                .collect();
            continue;
        }
        let keep_checkpoint = matches!(
            ending,
            Ending::Limit(StopReason::Interrupted | StopReason::MemoryBudget)
        );
        return finish(
            model,
            &mut results,
            persistence.map(|p| p.workdir.as_path()),
            plan,
            elapsed_before + started.elapsed(),
            keep_checkpoint.then_some(checkpoint).flatten(),
            checkpoints_written,
        )
        .map(|outcome| ParallelOutcome {
            memory_budget,
            expansion_shared,
            ..outcome
        });
    }
}

/// A run's outcome from its agreed totals.
pub(super) fn outcome_of<M: Model>(
    model: &M,
    totals: checkpoint::Totals,
    verdict: Verdict,
    elapsed: Duration,
) -> Outcome {
    Outcome {
        model: model.name(),
        distinct: totals.distinct,
        generated: totals.generated,
        depth: totals.level_sizes.len() as u32,
        level_sizes: totals.level_sizes,
        deadlocks: totals.deadlocks,
        verdict,
        elapsed,
    }
}

/// One run segment: threads from start to a checkpoint or the end.
struct Segment<'a, M: Model> {
    model: &'a M,
    options: &'a CheckOptions<'a>,
    config: &'a EngineConfig,
    plan: &'a PlacementPlan,
    checkpoints: CheckpointPlan,
    totals: GlobalTotals,
    started: Instant,
    elapsed_before: Duration,
    /// Bytes all the workers may use together.
    memory_budget: Option<u64>,
    /// Whether the workers share expansion (`EngineConfig::share_expansion` decided
    /// with the plan).
    share_expansion: bool,
}

impl<M: Model> Segment<'_, M> {
    fn run(&self, sources: Vec<StateSource>) -> Result<Vec<WorkerResult>, EngineError> {
        let workers = self.plan.workers.len();
        // Each slot starts at the level this segment expands first: a worker stores its
        // level only at a level end, so a resumed run, and every segment after a
        // periodic checkpoint, reported depth 0 until its first level ended.
        let progress: Vec<CachePadded<ProgressSlot>> = (0..workers)
            .map(|_| {
                CachePadded::new(ProgressSlot {
                    level: AtomicU64::new(u64::from(self.totals.depth)),
                    ..ProgressSlot::default()
                })
            })
            .collect();
        // Setup only: each receiver creates its inbound mailboxes on its own thread and
        // leaves the sending ends here for their senders to pick up.
        let grid: Vec<Mutex<Option<MailboxSender<Message>>>> =
            (0..workers * workers).map(|_| Mutex::new(None)).collect();
        let wired = SetupBarrier::new(workers);
        let setup_failed = AtomicBool::new(false);
        let setup_error: Mutex<Option<EngineError>> = Mutex::new(None);
        // Workers wake the monitor when they end, so a short run does not wait out
        // the monitor's polling interval.
        let driver = std::thread::current();
        let finished = AtomicUsize::new(0);
        // Set when a worker's thread panics: the others would wait for its messages
        // forever, so they panic too when they next wait (see `WorkerSetup::abandoned`).
        let abandoned = AtomicBool::new(false);
        // Set by the first worker whose memory would pass its share part-way through a
        // level (see `WorkerSetup::memory_exhausted`).
        let memory_exhausted = AtomicBool::new(false);
        let results: Vec<std::thread::Result<Option<WorkerResult>>> = std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(workers);
            for (placement, source) in self.plan.workers.iter().zip(sources) {
                let (grid, wired, progress) = (&grid, &wired, &progress);
                let (setup_failed, setup_error) = (&setup_failed, &setup_error);
                let (driver, finished, abandoned) = (driver.clone(), &finished, &abandoned);
                let memory_exhausted = &memory_exhausted;
                let body = move || {
                    let _wake = WakeOnDrop(driver, finished, abandoned);
                    let id = placement.worker;
                    let (pinned, state, receivers) = set_up_together(wired, setup_failed, || {
                        let pinned = self.config.pin && pin_current_thread(placement);
                        let state = self.state_for(id, source);
                        let mut receivers: Vec<Option<MailboxReceiver<Message>>> = Vec::new();
                        for from in 0..workers {
                            if from == id {
                                receivers.push(None);
                                continue;
                            }
                            let (tx, rx) = mailbox(self.config.ring_capacity);
                            *grid[from * workers + id].lock().expect("setup lock") = Some(tx);
                            receivers.push(Some(rx));
                        }
                        match state {
                            Ok(state) => Some((pinned, state, receivers)),
                            Err(e) => {
                                setup_error.lock().expect("setup lock").get_or_insert(e);
                                None
                            }
                        }
                    })?;
                    let senders = (0..workers)
                        .map(|to| grid[id * workers + to].lock().expect("setup lock").take())
                        .collect();
                    let telemetry = WorkerTelemetry {
                        worker: id,
                        node: placement.node,
                        cpu: if pinned { placement.cpu } else { None },
                        ..Default::default()
                    };
                    let setup = WorkerSetup {
                        id,
                        workers,
                        model: self.model,
                        options: self.options,
                        batch_bytes: self.config.batch_bytes,
                        senders,
                        receivers,
                        progress,
                        share_expansion: self.share_expansion,
                        oversubscribed: self.plan.oversubscribed,
                        telemetry,
                        memory_share: self.memory_share(),
                        checkpoints: self.checkpoints.clone(),
                        interrupt: self.options.interrupt,
                        abandoned,
                        memory_exhausted,
                        totals: self.totals.for_worker(id),
                    };
                    Some(Worker::new(setup, state).run())
                };
                match spawn_worker(scope, placement.worker, body) {
                    Ok(handle) => handles.push(handle),
                    Err(e) => {
                        // The threads started wait at the barrier for this one: let
                        // them go, as failed, and start no more.
                        setup_error.lock().expect("setup lock").get_or_insert_with(|| {
                            EngineError::Config(format!(
                                "cannot start the thread of worker {} of {workers}: {e}; use fewer workers",
                                placement.worker
                            ))
                        });
                        setup_failed.store(true, Ordering::SeqCst);
                        wired.cancel();
                        break;
                    }
                }
            }
            // A progress callback that panics ends the run as a worker's panic does:
            // the workers stop at their next wait or level end instead of running the
            // search to its end (for ever, in an unbounded model) before the panic
            // reaches the caller.
            let _stop_workers = AbandonOnPanic(&abandoned);
            let _wakes = monitor(
                &finished,
                handles.len(),
                &progress,
                self.options,
                self.started,
                self.elapsed_before,
            );
            handles.into_iter().map(|h| h.join()).collect()
        });
        if let Some(e) = setup_error.into_inner().expect("setup lock") {
            return Err(e);
        }
        // The worker to blame is one that panicked on its own, not one that stopped
        // because of it.
        let first_panic = results.iter().enumerate().find_map(|(worker, r)| match r {
            Err(payload) if !payload.is::<Abandoned>() => Some(EngineError::WorkerPanicked {
                worker,
                message: panic_message(payload.as_ref()),
            }),
            _ => None,
        });
        if let Some(e) = first_panic {
            return Err(e);
        }
        results
            .into_iter()
            .enumerate()
            .map(|(worker, r)| {
                r.ok().flatten().ok_or(EngineError::WorkerPanicked {
                    worker,
                    message: "(stopped without a result)".to_string(),
                })
            })
            .collect()
    }

    fn memory_share(&self) -> Option<u64> {
        self.memory_budget
            .map(|b| b / self.plan.workers.len() as u64)
    }

    /// Builds or loads worker `id`'s state, on its own thread (first touch).
    fn state_for(&self, id: usize, source: StateSource) -> Result<WorkerState, EngineError> {
        let persistence = self.config.persistence.as_ref();
        let share = self.memory_share();
        let spill_at = self
            .config
            .frontier_spill_bytes
            .or(share.map(|s| (s / 4).max(1 << 20) as usize));
        let frontier = |name: &str| match (persistence, spill_at) {
            (Some(p), Some(limit)) => {
                Frontier::spilling(limit, Some(p.workdir.join(format!("{name}-{id}.spill"))))
            }
            _ => Frontier::in_memory(),
        };
        let log_path = persistence.map(|p| p.workdir.join(format!("log-{id}.bin")));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e: std::io::Error| EngineError::Io(format!("{}: {e}", path.display()))
        };
        match source {
            StateSource::Carried(state) => Ok(*state),
            StateSource::Fresh => {
                let expected = initial_table_states(share, self.plan.workers.len());
                let log = match &log_path {
                    Some(path) => ParentLog::create(path).map_err(io(path))?,
                    None => ParentLog::in_memory(),
                };
                Ok(WorkerState {
                    table: FingerprintSet::for_owner(
                        id,
                        self.plan.workers.len(),
                        expected as usize,
                    ),
                    log,
                    frontier: frontier("frontier-a"),
                    next: frontier("frontier-b"),
                    counters: Default::default(),
                    partial: None,
                })
            }
            StateSource::Checkpoint { dir, file } => {
                let loaded = checkpoint::read_worker(
                    &dir,
                    id,
                    self.plan.workers.len(),
                    &file,
                    frontier("frontier-a"),
                    frontier("frontier-b"),
                )?;
                let invariants = self.model.invariant_names().len();
                let reported = loaded
                    .partial
                    .as_ref()
                    .and_then(|p| p.report.errors.invariant);
                if let Some((_, index)) = reported.filter(|&(_, i)| i as usize >= invariants) {
                    return Err(CheckpointError::Invalid {
                        path: dir.join(&file.file),
                        message: format!(
                            "the partial level reports a violation of invariant {index}, but the model has {invariants} invariants"
                        ),
                    }
                    .into());
                }
                let path = log_path.ok_or_else(|| {
                    EngineError::Config("resuming a checkpoint needs its work directory".into())
                })?;
                let log = ParentLog::reopen(&path, file.log_entries).map_err(io(&path))?;
                Ok(WorkerState {
                    table: loaded.table,
                    log,
                    frontier: loaded.frontier,
                    next: frontier("frontier-b"),
                    counters: loaded.counters,
                    partial: loaded.partial,
                })
            }
        }
    }
}

/// Assembles the outcome once the search has ended.
fn finish<M: Model>(
    model: &M,
    results: &mut [WorkerResult],
    workdir: Option<&Path>,
    plan: PlacementPlan,
    elapsed: Duration,
    checkpoint: Option<PathBuf>,
    checkpoints_written: u64,
) -> Result<ParallelOutcome, EngineError> {
    let (ending, errors, totals) = (
        results[0].ending,
        results[0].errors,
        results[0].totals.totals.clone(),
    );
    let verdict = match ending {
        Ending::Exhausted => Verdict::Holds,
        Ending::Limit(reason) => Verdict::Partial { reason },
        Ending::Error => {
            let (fp, kind) = errors.choose().expect("an error ending has an error");
            let reached = &results[0].totals;
            // A deadlock is a state of the level expanded last; a violation of an
            // invariant is one of the states that level found (or an initial state).
            let depth = match kind {
                ViolationKindIndex::Deadlock => reached.depth,
                ViolationKindIndex::Invariant(_) if reached.started => reached.depth + 1,
                ViolationKindIndex::Invariant(_) => 0,
            };
            let mut logs: Vec<&mut ParentLog> =
                results.iter_mut().map(|r| &mut r.state.log).collect();
            let chain = chain_to(&mut logs, fp, depth).map_err(|e| chain_error(&logs, e))?;
            let violation = build_violation(model, kind, &chain).map_err(|e| match workdir {
                // Files nothing checksums lead to the chain: blame them first.
                Some(dir) => EngineError::DamagedLog(format!(
                    "the parent logs in {} may be damaged: {e}; the counts are right but no counterexample can be rebuilt",
                    dir.display()
                )),
                None => EngineError::Counterexample(e),
            })?;
            Verdict::Violated(Box::new(violation))
        }
        Ending::Checkpoint | Ending::Failed => {
            unreachable!("handled by the driver")
        }
    };
    let telemetry = Telemetry::from_workers(
        results
            .iter_mut()
            .map(|r| std::mem::take(&mut r.telemetry))
            .collect(),
        &totals.level_sizes,
    );
    Ok(ParallelOutcome {
        outcome: outcome_of(model, totals, verdict, elapsed),
        telemetry,
        plan,
        checkpoint,
        checkpoints_written,
        memory_budget: None,
        answered_from_checkpoint: false,
        expansion_shared: false,
    })
}

/// Starts worker `id`'s thread in `scope`; an error, not a panic, when the system
/// refuses another thread.
fn spawn_worker<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    id: usize,
    body: impl FnOnce() -> T + Send + 'scope,
) -> std::io::Result<std::thread::ScopedJoinHandle<'scope, T>> {
    #[cfg(test)]
    if tests::REFUSED_THREAD.with(|refused| refused.get()) == Some(id) {
        return Err(std::io::Error::other("refused by the test"));
    }
    #[cfg(not(test))]
    let _ = id;
    std::thread::Builder::new().spawn_scoped(scope, body)
}

/// Counts a worker as finished and unparks the driver when the worker's thread ends,
/// however it ends (once per worker per segment: not on the hot path); if it ends by
/// a panic, says so to the other workers through the flag.
struct WakeOnDrop<'a>(std::thread::Thread, &'a AtomicUsize, &'a AtomicBool);

impl Drop for WakeOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.2.store(true, Ordering::Release);
        }
        self.1.fetch_add(1, Ordering::Release);
        self.0.unpark();
    }
}

/// Tells the workers, through the flag they read when they wait, that the run is
/// abandoned when dropped by a panic of the driver (in the progress callback).
struct AbandonOnPanic<'a>(&'a AtomicBool);

impl Drop for AbandonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}

/// Shortest sleep of the progress monitor: a report is at most this late.
const MONITOR_MIN_SLEEP: Duration = Duration::from_millis(20);

/// Calls the progress callback every interval until every worker has ended; returns
/// how many times it woke.
///
/// It sleeps until the next report is due (at least [`MONITOR_MIN_SLEEP`]), or, with no
/// callback, until a worker's thread ends (each one unparks it, see [`WakeOnDrop`]; a
/// wake-up that comes first is kept for the next park, so none is lost). Waking every
/// 20 ms whatever the interval cost a run 50 futex wake-ups a second on the driver,
/// each one taking a CPU from a worker for a moment when there is a worker per CPU.
fn monitor(
    finished: &AtomicUsize,
    workers: usize,
    progress: &[CachePadded<ProgressSlot>],
    options: &CheckOptions,
    started: Instant,
    elapsed_before: Duration,
) -> u64 {
    let mut last = Instant::now();
    let mut wakes = 0;
    while finished.load(Ordering::Acquire) < workers {
        let Some(report) = options.progress else {
            std::thread::park();
            wakes += 1;
            continue;
        };
        let due_in = options.progress_interval.saturating_sub(last.elapsed());
        std::thread::park_timeout(due_in.max(MONITOR_MIN_SLEEP));
        wakes += 1;
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
            elapsed: elapsed_before + started.elapsed(),
        });
    }
    wakes
}

/// The error for a counterexample that the parent logs do not give, naming the file.
fn chain_error(logs: &[&mut ParentLog], e: ChainError) -> EngineError {
    let name = |worker: usize| match logs[worker].path() {
        Some(path) => path.display().to_string(),
        None => format!("of worker {worker}"),
    };
    match e {
        ChainError::Io { worker, error } => {
            EngineError::Io(format!("reading the parent log {}: {error}", name(worker)))
        }
        ChainError::Damaged { worker, problem } => EngineError::DamagedLog(format!(
            "parent log {} is damaged: {problem}; the counts are right but no counterexample can be rebuilt",
            name(worker)
        )),
    }
}

/// The states a worker's visited table is first sized for: a 64th of its memory share
/// (none: 65,536), between 4,096 and 262,144, and at most 4,194,304 over all `workers`.
/// A table sized for more than it ends up holding wastes its pages (random inserts
/// touch nearly all of them); one sized for less doubles, and doubling small tables
/// early is cheap. The total cap leaves 1 to 16 workers at 262,144 each and keeps 128
/// workers from taking 448 MiB of tables before the first state.
fn initial_table_states(share: Option<u64>, workers: usize) -> u64 {
    const ALL_WORKERS: u64 = 1 << 22;
    let per_worker = share.map_or(1 << 16, |s| (s / 64).clamp(1 << 12, 1 << 18));
    per_worker
        .min(ALL_WORKERS / workers.max(1) as u64)
        .max(1 << 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use checker_core::Action;
    use std::cell::Cell;

    thread_local! {
        /// The worker whose thread `spawn_worker` refuses to start, on this (driver)
        /// thread, as the system does when it has no room for another.
        pub(super) static REFUSED_THREAD: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// A counter that counts to 50 and stops there (a deadlock).
    struct Counter;

    impl Model for Counter {
        type State = u8;
        fn name(&self) -> String {
            "counter".into()
        }
        fn initial_states(&self, emit: &mut dyn FnMut(&u8)) {
            emit(&0)
        }
        fn successors(&self, s: &u8, emit: &mut dyn FnMut(Action, &u8)) {
            if *s < 50 {
                emit(Action(0), &(s + 1));
            }
        }
        fn invariant_names(&self) -> Vec<String> {
            Vec::new()
        }
        fn check_invariant(&self, _: usize, _: &u8) -> bool {
            true
        }
        fn action_label(&self, _: Action) -> String {
            "Inc".into()
        }
        fn pack(&self, s: &u8, out: &mut Vec<u8>) {
            out.push(*s)
        }
        fn unpack(&self, b: &[u8]) -> u8 {
            b[0]
        }
        fn render(&self, s: &u8) -> String {
            format!("x = {s}")
        }
    }

    fn counter_config(workers: usize) -> EngineConfig {
        EngineConfig {
            workers,
            pin: false,
            ..EngineConfig::default()
        }
    }

    /// A thread the system refuses to start ends the run with an error; the threads
    /// already started, waiting at the setup barrier for it, are let go (a hang here
    /// fails the test run).
    #[test]
    fn a_thread_that_cannot_start_is_an_error_not_a_hang() {
        for (workers, refused) in [(8, 5), (8, 0), (3, 2), (1, 0)] {
            REFUSED_THREAD.with(|r| r.set(Some(refused)));
            let got = check(&Counter, &CheckOptions::default(), &counter_config(workers));
            REFUSED_THREAD.with(|r| r.set(None));
            let Err(e) = got else {
                panic!("{workers} workers ran without worker {refused}'s thread")
            };
            assert!(matches!(e, EngineError::Config(_)), "{e:?}");
            assert_eq!(
                e.to_string(),
                format!("cannot start the thread of worker {refused} of {workers}: refused by the test; use fewer workers")
            );
        }
        // The same configuration runs when every thread starts.
        let got = check(&Counter, &CheckOptions::default(), &counter_config(8)).unwrap();
        assert_eq!(got.outcome.distinct, 51);
        assert_eq!(got.outcome.depth, 51);
        let deadlock = got.outcome.violation().expect("50 has no successor");
        assert_eq!(deadlock.trace.transitions(), 50);
    }

    /// A budget too small for the mailboxes of 4,000 workers refuses the run before
    /// anything is allocated or any thread started.
    #[test]
    fn four_thousand_workers_do_not_fit_a_gib() {
        let config = EngineConfig {
            memory_budget: Some(1 << 30),
            ..counter_config(4_000)
        };
        let e = check(&Counter, &CheckOptions::default(), &config).unwrap_err();
        let need =
            crate::mailbox_memory::size_text(crate::mailbox_memory::mailbox_memory(4_000, 16), 1);
        assert!(need.ends_with(" GiB"), "{need}");
        assert_eq!(
            e.to_string(),
            format!("4000 workers need about {need} for their mailboxes alone, more than the memory budget of 1.0 GiB; use fewer workers")
        );
    }

    /// A worker count beyond the limit is refused before the placement plan allocates
    /// one entry per worker (`usize::MAX` overflowed that allocation).
    #[test]
    fn too_many_workers_are_refused_before_planning() {
        for workers in [MAX_WORKERS + 1, 1 << 40, usize::MAX] {
            let e =
                check(&Counter, &CheckOptions::default(), &counter_config(workers)).unwrap_err();
            assert!(matches!(e, EngineError::Config(_)), "{e:?}");
            assert_eq!(
                e.to_string(),
                format!("at most {MAX_WORKERS} workers are supported, got {workers}")
            );
        }
    }

    /// The progress monitor sleeps until a report is due or a worker's thread ends,
    /// with or without a callback: over the 300 ms the workers here take, with reports
    /// a minute apart, it wakes for the two workers and perhaps a stray wake-up, not
    /// every 20 ms (15 times or more).
    #[test]
    fn the_monitor_wakes_when_workers_end_or_a_report_is_due_not_every_20_ms() {
        let progress: Vec<CachePadded<ProgressSlot>> = (0..2)
            .map(|_| CachePadded::new(ProgressSlot::default()))
            .collect();
        let report = |_: &Progress| panic!("no report is due within a minute");
        for callback in [None, Some(&report as checker_core::ProgressFn)] {
            let options = CheckOptions {
                progress: callback,
                progress_interval: Duration::from_secs(60),
                ..CheckOptions::default()
            };
            let (finished, abandoned) = (AtomicUsize::new(0), AtomicBool::new(false));
            let wakes = std::thread::scope(|scope| {
                for _ in 0..2 {
                    let wake = WakeOnDrop(std::thread::current(), &finished, &abandoned);
                    scope.spawn(move || {
                        std::thread::sleep(Duration::from_millis(300));
                        drop(wake);
                    });
                }
                monitor(
                    &finished,
                    2,
                    &progress,
                    &options,
                    Instant::now(),
                    Duration::ZERO,
                )
            });
            assert!(
                wakes <= 4,
                "the monitor woke {wakes} times (callback: {})",
                callback.is_some()
            );
        }
    }

    #[test]
    fn tables_start_at_a_64th_of_the_share_within_bounds_and_a_total_cap() {
        let gib = 1u64 << 30;
        assert_eq!(initial_table_states(None, 1), 65_536);
        assert_eq!(initial_table_states(Some(gib), 1), 262_144);
        assert_eq!(initial_table_states(Some(gib), 16), 262_144);
        assert_eq!(initial_table_states(Some(gib), 32), 131_072);
        assert_eq!(initial_table_states(Some(gib), 128), 32_768);
        assert_eq!(initial_table_states(Some(gib), 4096), 4_096);
        assert_eq!(initial_table_states(Some(64 << 20), 2), 262_144);
        assert_eq!(initial_table_states(Some(1 << 20), 2), 16_384);
        assert_eq!(initial_table_states(Some(1000), 1), 4_096);
        assert_eq!(initial_table_states(None, 128), 32_768);
    }
}
