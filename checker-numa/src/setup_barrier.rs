//! The one barrier of a run's setup, kept even by a worker whose setup panics.
//!
//! Each worker builds its state and its inbound mailboxes on its own thread, then waits
//! for every other worker to do the same before it picks up its sending ends. A worker
//! whose setup panicked (a bug: setup failures are returned as errors) would never
//! arrive, and the others would wait at the barrier forever. [`set_up_together`]
//! catches the panic, arrives anyway, says that setup failed, and only then resumes the
//! panic, so every worker leaves the barrier and the engine reports the panic.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

/// Runs `set_up` (one worker's setup), then waits at `barrier` for the other workers'
/// setups. `set_up` returns `None` when it failed (having recorded why). Returns the
/// setup when every worker's succeeded; `None` when any failed, this one included,
/// since the run cannot start. A panic in `set_up` counts as a failure for the others
/// and resumes once this worker is past the barrier.
///
/// Every worker of a run must call this with the same `barrier` (sized for all of
/// them) and the same `failed` flag.
pub fn set_up_together<T>(
    barrier: &Barrier,
    failed: &AtomicBool,
    set_up: impl FnOnce() -> Option<T>,
) -> Option<T> {
    // Unwind safety: on a panic nothing `set_up` touched is used again, except the
    // flag, which is set below, and the panic itself, which resumes.
    let outcome = catch_unwind(AssertUnwindSafe(set_up));
    if !matches!(outcome, Ok(Some(_))) {
        failed.store(true, Ordering::SeqCst);
    }
    // The barrier orders every store to `failed` before every load below.
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
        let (done, ended) = mpsc::channel();
        std::thread::spawn(move || {
            let barrier = Barrier::new(workers);
            let failed = AtomicBool::new(false);
            let results: Vec<String> = std::thread::scope(|scope| {
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
                handles
                    .into_iter()
                    .map(|h| match h.join() {
                        Ok(Some(v)) => format!("ready {v}"),
                        Ok(None) => "not started".to_string(),
                        Err(_) => "panicked".to_string(),
                    })
                    .collect()
            });
            let _ = done.send(results);
        });
        ended.recv_timeout(Duration::from_secs(10)).ok()
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
