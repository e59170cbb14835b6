//! Work-directory helpers shared by the persistence and damaged-work-directory tests:
//! the graph they check, its engine configuration with a work directory, checkpoints
//! taken at once, resume errors, and a manifest rewritten with a valid checksum.
#![allow(dead_code)] // Not every test that includes this module uses all of it.

use checker_core::CheckOptions;
use checker_numa::frontier::Frontier;
use checker_numa::worker::PartialLevel;
use checker_numa::{check, checkpoint, EngineConfig, Persistence};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::common_graph::RandomGraph;
use crate::common_guards::identity;

/// A fresh work directory path for one test (emptied from an earlier run).
pub fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("checker-workdir-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// 40,000 states with a bad one 10 levels deep.
pub fn graph() -> RandomGraph {
    RandomGraph {
        bad: Some(39_999),
        ..RandomGraph::new(40_000, 3, 21)
    }
}

/// `workers` unpinned workers with small batches and their work directory in `dir`.
pub fn config(workers: usize, dir: &Path, m: &RandomGraph, resume: bool) -> EngineConfig {
    EngineConfig {
        workers,
        pin: false,
        batch_bytes: 512,
        persistence: Some(Persistence {
            workdir: dir.to_path_buf(),
            checkpoint_every: None,
            resume,
            // The spec names the seed only: a graph of another size is another model
            // under the same spec.
            identity: identity(m, "graph", m.seed),
            lock: None,
        }),
        ..EngineConfig::default()
    }
}

/// Options whose interrupt flag is set from the start: the run stops at its first
/// look at it.
pub fn interrupted_at_once() -> CheckOptions<'static> {
    static SET: AtomicBool = AtomicBool::new(true);
    CheckOptions {
        interrupt: Some(&SET),
        ..CheckOptions::default()
    }
}

/// A run of [`graph`] at 2 workers checkpointed after its first level (the initial
/// states): the resumed run does all the rest, the violation included.
pub fn checkpointed_at_once(name: &str) -> (RandomGraph, PathBuf) {
    let m = graph();
    let dir = workdir(name);
    check(&m, &interrupted_at_once(), &config(2, &dir, &m, false)).unwrap();
    (m, dir)
}

/// The error of resuming `dir` at 2 workers; fails the test if it resumes.
pub fn resume_error(m: &RandomGraph, dir: &Path) -> String {
    match check(m, &CheckOptions::default(), &config(2, dir, m, true)) {
        Err(e) => e.to_string(),
        Ok(o) => panic!("resumed a damaged work directory: {:?}", o.outcome.verdict),
    }
}

/// The directory of the current checkpoint of `dir`.
pub fn current_dir(dir: &Path) -> PathBuf {
    dir.join(std::fs::read_to_string(dir.join("CURRENT")).unwrap().trim())
}

/// Rewrites the manifest of the current checkpoint of `dir` through `edit` and
/// recomputes its checksum, as a tool that knows the format would.
pub fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let manifest = current_dir(dir).join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let (json, _) = text.trim_end().rsplit_once('\n').unwrap();
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
    edit(&mut value);
    let json = serde_json::to_string_pretty(&value).unwrap();
    let sum = xxhash_rust::xxh3::xxh3_64(json.as_bytes());
    std::fs::write(&manifest, format!("{json}\n{sum:016x}\n")).unwrap();
}

/// The level each of `workers` workers saved part-way in the current checkpoint of
/// `dir` (read with every check `checkpoint::read_worker` makes), in worker order.
/// Panics when a worker saved none: the caller stopped the run inside a level.
pub fn saved_partials(dir: &Path, workers: usize) -> Vec<PartialLevel> {
    let (generation, manifest) = checkpoint::read_current(dir).unwrap();
    assert_eq!(manifest.worker_files.len(), workers);
    manifest
        .worker_files
        .iter()
        .enumerate()
        .map(|(worker, file)| {
            let loaded = checkpoint::read_worker(
                &generation,
                worker,
                workers,
                file,
                Frontier::in_memory(),
                Frontier::in_memory(),
            )
            .unwrap();
            loaded
                .partial
                .unwrap_or_else(|| panic!("worker {worker} saved no partial level"))
        })
        .collect()
}
