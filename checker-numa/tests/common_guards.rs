//! Guards the engine tests share: a work directory removed when dropped, a watchdog
//! that turns a hung run into a failure naming it, and the identity a run's
//! checkpoints are taken under.
#![allow(dead_code)] // Not every test that includes this module uses all of it.

use checker_core::Model;
use checker_numa::checkpoint::RunIdentity;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fresh work directory under the system's temporary one, removed when dropped.
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    /// A directory named after the process, `name` and a counter; not created.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("checker-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        WorkDir(dir)
    }

    /// Whether the engine wrote a frontier spill file here.
    pub fn has_spill_file(&self) -> bool {
        std::fs::read_dir(&self.0)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".spill"))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Aborts the test process if `label`'s run has not ended after two minutes: a hang
/// would otherwise hold the test run forever without saying which run it was.
pub struct Watchdog(Arc<AtomicBool>);

impl Watchdog {
    /// Starts watching; the run has ended when the watchdog is dropped.
    pub fn start(label: String) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while Instant::now() < deadline {
                if flag.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("HANG: the engine did not finish within 120 s: {label}");
            std::process::abort();
        });
        Watchdog(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The identity of a run of `model` whose checkpoints are for the spec `tag key`: a
/// resumed run must have the same spec, and a model of the same name.
pub fn identity<M: Model>(model: &M, tag: &str, key: impl ToString) -> RunIdentity {
    RunIdentity {
        model_name: model.name(),
        model_spec: vec![tag.into(), key.to_string()],
        model_digest: None,
    }
}
