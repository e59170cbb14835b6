//! The one barrier of a run's setup, kept even by a worker whose setup panics.
//!
//! Each worker builds its state and its inbound mailboxes on its own thread, then waits
//! for every other worker to do the same before it picks up its sending ends. A worker
//! whose setup panicked (a bug: setup failures are returned as errors) would never
//! arrive, and the others would wait at the barrier forever. [`set_up_together`]
//! catches the panic, arrives anyway, says that setup failed, and only then resumes the
//! panic, so every worker leaves the barrier and the engine reports the panic.
//!
//! A worker whose thread could not be started at all (the system refused another
//! thread) would never arrive either: the driver then [cancels](SetupBarrier::cancel)
//! the barrier, which lets the workers already waiting go, as failed.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// A one-time barrier for a fixed number of threads that can also be cancelled: then
/// every thread waiting at it, and every one that comes later, goes on at once.
#[derive(Debug)]
pub struct SetupBarrier {
    parties: usize,
    /// Threads arrived so far, and whether the barrier was cancelled.
    state: Mutex<(usize, bool)>,
    released: Condvar,
}

impl SetupBarrier {
    /// A barrier that lets its threads go once `parties` of them wait at it.
    pub fn new(parties: usize) -> Self {
        SetupBarrier {
            parties,
            state: Mutex::new((0, false)),
            released: Condvar::new(),
        }
    }

    /// Waits until every party has arrived or the barrier is cancelled. Everything a
    /// thread wrote before it arrived (or before it cancelled) is visible to every
    /// thread after this returns.
    pub fn wait(&self) {
        // Nothing panics while the lock is held, but a poisoned lock is no reason to
        // leave the others waiting.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += 1;
        if state.0 >= self.parties || state.1 {
            self.released.notify_all();
            return;
        }
        while state.0 < self.parties && !state.1 {
            state = self
                .released
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Lets every waiting thread go, and every later one pass without waiting: some
    /// party will never arrive.
    pub fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 = true;
        self.released.notify_all();
    }
}

/// Runs `set_up` (one worker's setup), then waits at `barrier` for the other workers'
/// setups. `set_up` returns `None` when it failed (having recorded why). Returns the
/// setup when every worker's succeeded; `None` when any failed, this one included,
/// since the run cannot start. A panic in `set_up` counts as a failure for the others
/// and resumes once this worker is past the barrier.
///
/// Every worker of a run must call this with the same `barrier` (sized for all of
/// them) and the same `failed` flag. Whoever cancels the barrier must set `failed`
/// first, so that the workers it lets go give up.
pub fn set_up_together<T>(
    barrier: &SetupBarrier,
    failed: &AtomicBool,
    set_up: impl FnOnce() -> Option<T>,
) -> Option<T> {
    // Unwind safety: on a panic nothing `set_up` touched is used again, except the
    // flag, which is set below, and the panic itself, which resumes.
    let outcome = catch_unwind(AssertUnwindSafe(set_up));
    if !matches!(outcome, Ok(Some(_))) {
        failed.store(true, Ordering::SeqCst);
    }
    // The barrier orders every store to `failed` before every load below (a
    // cancellation included: its store comes before the cancel).
    barrier.wait();
    match outcome {
        Err(panic) => resume_unwind(panic),
        Ok(setup) if !failed.load(Ordering::SeqCst) => setup,
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs `workers` threads through one barrier, worker `panicking` panicking and
    /// worker `failing` failing in setup; returns each thread's result, or `None` if
    /// they had not all ended after 10 s.
    fn run(
        workers: usize,
        panicking: Option<usize>,
        failing: Option<usize>,
    ) -> Option<Vec<String>> {
        within_ten_seconds(move || {
            let barrier = SetupBarrier::new(workers);
            let failed = AtomicBool::new(false);
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..workers)
                    .map(|id| {
                        let (barrier, failed) = (&barrier, &failed);
                        scope.spawn(move || {
                            set_up_together(barrier, failed, || {
                                assert_ne!(Some(id), panicking, "setup of worker {id} panics");
                                (Some(id) != failing).then_some(id * 10)
                            })
                        })
                    })
                    .collect();
                handles.into_iter().map(describe).collect()
            })
        })
    }

    /// `run`'s result, from a thread of its own, or `None` if it had not ended after
    /// 10 s (some worker was left waiting).
    fn within_ten_seconds(
        run: impl FnOnce() -> Vec<String> + Send + 'static,
    ) -> Option<Vec<String>> {
        let (done, ended) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(run());
        });
        ended.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// How a worker's thread ended: ready with its value, not started, or panicked.
    fn describe(handle: std::thread::ScopedJoinHandle<'_, Option<usize>>) -> String {
        match handle.join() {
            Ok(Some(v)) => format!("ready {v}"),
            Ok(None) => "not started".to_string(),
            Err(_) => "panicked".to_string(),
        }
    }

    /// Starts `started` of a barrier's `parties` threads through `set_up_together`,
    /// then, like the driver when the system refuses a thread, sets the failure flag
    /// and cancels the barrier; returns each started thread's result, or `None` if they
    /// had not all ended after 10 s.
    fn run_with_missing_threads(parties: usize, started: usize) -> Option<Vec<String>> {
        within_ten_seconds(move || {
            let barrier = SetupBarrier::new(parties);
            let failed = AtomicBool::new(false);
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..started)
                    .map(|id| {
                        let (barrier, failed) = (&barrier, &failed);
                        scope.spawn(move || set_up_together(barrier, failed, || Some(id)))
                    })
                    .collect();
                // Let some of them reach the barrier first; the others come after.
                std::thread::sleep(Duration::from_millis(20));
                failed.store(true, Ordering::SeqCst);
                barrier.cancel();
                handles.into_iter().map(describe).collect()
            })
        })
    }

    #[test]
    fn a_cancelled_barrier_lets_every_waiting_worker_go_as_failed() {
        let results = run_with_missing_threads(8, 5).expect("no worker was left waiting");
        assert_eq!(results, ["not started"; 5]);
        let results = run_with_missing_threads(3, 0).expect("nothing to wait for");
        assert!(results.is_empty());
    }

    #[test]
    fn a_cancelled_barrier_does_not_hold_a_late_thread() {
        let barrier = SetupBarrier::new(2);
        barrier.cancel();
        barrier.wait();
        barrier.wait();
    }

    #[test]
    fn every_worker_gets_its_setup_when_all_succeed() {
        let results = run(4, None, None).expect("all workers ended");
        assert_eq!(results, ["ready 0", "ready 10", "ready 20", "ready 30"]);
    }

    #[test]
    fn a_failed_setup_stops_every_worker() {
        let results = run(4, None, Some(2)).expect("all workers ended");
        assert_eq!(results, ["not started"; 4]);
    }

    #[test]
    fn a_panicking_setup_reaches_the_barrier_and_stops_every_worker() {
        let results = run(8, Some(5), None).expect("no worker was left at the barrier");
        let mut expected = vec!["not started"; 8];
        expected[5] = "panicked";
        assert_eq!(results, expected);
    }
}
