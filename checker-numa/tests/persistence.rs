//! Parent logs on disk, checkpoints, interrupts, resume, the memory budget and
//! corrupted checkpoints.

mod common_graph;
mod common_guards;
mod common_outcome;
mod common_workdir;

use checker_core::{sequential, CheckOptions, Outcome, StopReason, Verdict};
use checker_numa::workdir_lock::WorkdirLock;
use checker_numa::{check, EngineError, ExpansionSharing, ParallelOutcome};
use common_graph::RandomGraph;
use common_outcome::same;
use common_workdir::{
    checkpointed_at_once, config, current_dir, edit_manifest, graph, interrupted_at_once,
    resume_error, workdir,
};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// [`graph`]'s shape with another size and seed and no invariant violation.
fn graph_without_violation(size: u64, seed: u64) -> RandomGraph {
    RandomGraph {
        size,
        seed,
        bad: None,
        ..graph()
    }
}

/// Every file under `dir`, with its size, in order.
fn listing(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let meta = std::fs::metadata(&path).unwrap();
            if meta.is_dir() {
                pending.push(path.clone());
            }
            found.push((path, if meta.is_dir() { 0 } else { meta.len() }));
        }
    }
    found.sort();
    found
}

fn assert_stopped_by_the_budget(outcome: &Outcome) {
    assert_eq!(
        outcome.verdict,
        Verdict::Partial {
            reason: StopReason::MemoryBudget
        }
    );
}

#[test]
fn parent_logs_on_disk_give_the_same_counterexample() {
    let m = graph();
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    assert!(reference.violation().is_some());
    let dir = workdir("disklog");
    for workers in [1, 3] {
        let got = check(
            &m,
            &CheckOptions::default(),
            &config(workers, &dir, &m, false),
        )
        .unwrap();
        same(
            &got.outcome,
            &reference,
            &format!("{workers} workers, parent logs on disk"),
        );
        let log0 = std::fs::metadata(dir.join("log-0.bin")).unwrap().len();
        assert!(
            log0 >= 16 * (reference.distinct / workers as u64) / 2,
            "{log0}"
        );
        assert_eq!(got.checkpoint, None);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checkpointing_every_level_changes_nothing() {
    let m = graph();
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let dir = workdir("every-level");
    let mut c = config(4, &dir, &m, false);
    c.persistence.as_mut().unwrap().checkpoint_every = Some(Duration::ZERO);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    same(&got.outcome, &reference, "checkpoint every level");
    assert_eq!(
        got.checkpoints_written as usize,
        reference.depth as usize - 1
    );
    // The per-level telemetry runs on across the checkpoints: every level once, up to
    // the violation's.
    let levels = &got.telemetry.levels;
    assert_eq!(levels.len(), reference.depth as usize);
    for (d, level) in levels.iter().enumerate() {
        assert_eq!(level.depth, d as u32);
        assert_eq!(level.new_states, reference.level_sizes[d]);
    }
    // Only the newest checkpoint is kept.
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("checkpoint-")
        })
        .count();
    assert_eq!(kept, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Interrupt after every level and resume each time: the chain of resumed runs ends
/// with exactly the uninterrupted counts and counterexample.
#[test]
fn interrupt_and_resume_repeatedly() {
    let m = graph();
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let dir = workdir("interrupt");
    let flag = AtomicBool::new(true);
    let interrupting = CheckOptions {
        interrupt: Some(&flag),
        ..CheckOptions::default()
    };
    let mut resume = false;
    let mut stops = 0;
    let last: ParallelOutcome = loop {
        let c = config(3, &dir, &m, resume);
        let got = check(&m, &interrupting, &c).unwrap();
        match got.outcome.verdict {
            Verdict::Partial {
                reason: StopReason::Interrupted,
            } => {
                assert_eq!(got.checkpoint.as_deref(), Some(dir.as_path()));
                assert_eq!(got.outcome.exit_code(), 3);
                stops += 1;
                resume = true;
            }
            _ => break got,
        }
    };
    // Levels of fewer than 64 states per worker end before the flag is looked at and
    // stop at the level boundary; larger ones stop part-way, 64 states per worker later.
    assert!(stops as u32 > reference.depth, "{stops} stops");
    same(&last.outcome, &reference, "after the resumed runs");
    // The last run's levels start where it resumed and end at the violation's.
    let levels = &last.telemetry.levels;
    let first = levels
        .first()
        .expect("the last run completes a level")
        .depth;
    assert!(first > 0);
    let depths: Vec<u32> = levels.iter().map(|l| l.depth).collect();
    assert_eq!(depths, (first..reference.depth).collect::<Vec<u32>>());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_refuses_another_worker_count_or_model() {
    let m = graph();
    let dir = workdir("refuse");
    let c = config(2, &dir, &m, false);
    let got = check(&m, &interrupted_at_once(), &c).unwrap();
    assert_eq!(
        got.outcome.verdict,
        Verdict::Partial {
            reason: StopReason::Interrupted
        }
    );
    let err = check(&m, &CheckOptions::default(), &config(3, &dir, &m, true)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the checkpoint was written by 2 workers; resume with --workers 2 (re-partitioning to another count is not supported)"
    );
    let other = RandomGraph {
        seed: 22,
        ..graph()
    };
    let err = resume_error(&other, &dir);
    assert!(err.contains("is for `graph 21`, not `graph 22`"), "{err}");
    // Worker count 0 means "as the checkpoint says".
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let got = check(&m, &CheckOptions::default(), &config(0, &dir, &m, true)).unwrap();
    same(
        &got.outcome,
        &reference,
        "resumed with the checkpoint's worker count",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run checkpointed with deadlock checking off is not resumed with it on, nor the
/// other way round: levels already expanded were checked one way.
#[test]
fn resume_keeps_the_deadlock_setting() {
    let m = graph();
    let dir = workdir("deadlock-setting");
    let c = config(2, &dir, &m, false);
    let off = CheckOptions {
        check_deadlock: false,
        ..interrupted_at_once()
    };
    check(&m, &off, &c).unwrap();
    let e = resume_error(&m, &dir);
    assert!(
        e.contains("was taken with deadlock checking off (`--no-deadlock`); resume it with the same setting, not on"),
        "{e}"
    );
    let resumed = CheckOptions {
        check_deadlock: false,
        ..CheckOptions::default()
    };
    let got = check(&m, &resumed, &config(2, &dir, &m, true)).unwrap();
    let reference = sequential::check(&m, &resumed).unwrap();
    same(&got.outcome, &reference, "resumed with the same setting");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupted_checkpoints_are_refused() {
    // A flipped byte in a worker file.
    let (m, dir) = checkpointed_at_once("flip");
    let file = current_dir(&dir).join("worker-1.bin");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    let e = resume_error(&m, &dir);
    assert!(
        e.contains("worker-1.bin: checksum mismatch: the file is corrupted"),
        "{e}"
    );

    // A truncated worker file.
    let (m, dir) = checkpointed_at_once("truncate");
    let file = current_dir(&dir).join("worker-0.bin");
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 9)
        .unwrap();
    let e = resume_error(&m, &dir);
    assert!(e.contains("worker-0.bin: is"), "{e}");
    assert!(e.contains("(truncated?)"), "{e}");

    // A damaged manifest.
    let (m, dir) = checkpointed_at_once("manifest");
    let manifest = current_dir(&dir).join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("\"depth\": ", "\"depth\": 1", 1)).unwrap();
    let e = resume_error(&m, &dir);
    assert!(e.contains("manifest.json: checksum mismatch"), "{e}");

    // Another format version, with a valid checksum.
    let (m, dir) = checkpointed_at_once("version");
    let version = checker_numa::checkpoint::FORMAT_VERSION;
    edit_manifest(&dir, |m| m["version"] = 99.into());
    let e = resume_error(&m, &dir);
    assert!(
        e.contains(&format!(
            "format version 99 is not supported (this checker reads version {version})"
        )),
        "{e}"
    );

    // An elapsed time that is no duration, with a valid checksum.
    let (m, dir) = checkpointed_at_once("elapsed");
    edit_manifest(&dir, |m| m["elapsed_s"] = (-1.0).into());
    let e = resume_error(&m, &dir);
    assert!(e.contains("elapsed time -1 s is not a duration"), "{e}");

    // A CURRENT file whose name goes on past the checkpoint's.
    let (m, dir) = checkpointed_at_once("current");
    let name = std::fs::read_to_string(dir.join("CURRENT")).unwrap();
    std::fs::write(dir.join("CURRENT"), format!("{}\nfoo\n", name.trim())).unwrap();
    let e = resume_error(&m, &dir);
    assert!(
        e.contains("CURRENT: does not name a checkpoint directory"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");

    // A parent log shorter than the checkpoint says.
    let (m, dir) = checkpointed_at_once("shortlog");
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("log-1.bin"))
        .unwrap()
        .set_len(0)
        .unwrap();
    let e = resume_error(&m, &dir);
    assert!(e.contains("the parent log holds 0 of the "), "{e}");
    assert_eq!(e.matches("log-1.bin").count(), 1, "the path once: {e}");

    // No checkpoint at all.
    let empty = workdir("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = resume_error(&m, &empty);
    assert!(e.contains("no checkpoint here (no CURRENT file)"), "{e}");

    for name in [
        "flip", "truncate", "manifest", "version", "elapsed", "current", "shortlog", "empty",
    ] {
        let _ = std::fs::remove_dir_all(workdir(name));
    }
}

#[test]
fn memory_budget_stops_with_a_checkpoint_and_a_larger_budget_finishes() {
    let m = graph_without_violation(300_000, 5);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let dir = workdir("budget");
    let mut c = config(2, &dir, &m, false);
    c.memory_budget = Some(4 << 20);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    assert_stopped_by_the_budget(&got.outcome);
    assert!(got.outcome.distinct < reference.distinct);
    assert_eq!(got.checkpoint.as_deref(), Some(dir.as_path()));
    let mut c = config(2, &dir, &m, true);
    c.memory_budget = Some(1 << 30);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    same(
        &got.outcome,
        &reference,
        "resumed with a larger memory budget",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn frontiers_spill_to_disk_and_stream_back() {
    // Wide enough that a worker's level fills several 1 MiB chunks of 8-byte states.
    let m = RandomGraph::new(2_000_000, 4, 8);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let dir = workdir("spill");
    let mut c = config(2, &dir, &m, false);
    c.frontier_spill_bytes = Some(1);
    c.persistence.as_mut().unwrap().checkpoint_every = Some(Duration::ZERO);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    same(&got.outcome, &reference, "frontiers spilled to disk");
    let spilled = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".spill")
        })
        .count();
    assert!(spilled >= 2, "{spilled}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_workdir_is_an_error_not_a_panic() {
    let m = graph();
    let file = workdir("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = check(&m, &CheckOptions::default(), &config(2, &file, &m, false)).unwrap_err();
    assert!(matches!(err, EngineError::Io(_)), "{err}");
    std::fs::remove_file(&file).unwrap();
}

/// The memory budget counts the batch buffers each worker has allocated: with the same
/// budget, 16 workers finish with 512-byte batches, and stop with 512 KiB ones once
/// their buffers (one per destination that a worker has sent to, and its own) exceed
/// a worker's 8 MiB share: at the fourth level end here (the third before the
/// tables left out the bits their owner's fingerprints share), when a worker has sent
/// to enough others. Expansion sharing is off, so which worker sends to which does
/// not depend on timing.
#[test]
fn memory_budget_counts_the_batch_buffers() {
    let m = graph_without_violation(20_000, 8);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let dir = workdir("batch-budget");
    let mut c = config(16, &dir, &m, false);
    c.share_expansion = ExpansionSharing::Never;
    c.memory_budget = Some(128 << 20);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    same(
        &got.outcome,
        &reference,
        "512-byte batches within the budget",
    );
    std::fs::remove_dir_all(&dir).unwrap();
    c.batch_bytes = 512 << 10;
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    assert_stopped_by_the_budget(&got.outcome);
    assert_eq!(
        got.outcome.level_sizes,
        reference.level_sizes[..4],
        "stopped at the fourth level end"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A level that outgrows a worker's share many times over stops the run part-way
/// through it, with the level saved in the checkpoint: growing to the level's end
/// before looking at the budget (as the engine once did) needed memory the process
/// might not get, and an allocation that fails aborts the run with nothing saved.
/// Resumed with a larger budget, the run ends with the reference's counts.
#[test]
fn a_level_larger_than_the_budget_stops_part_way_with_a_checkpoint() {
    // 30 successors a state: the fifth level has most of the states, whose log
    // entries alone (24 bytes each) pass an 8 MiB share.
    let m = RandomGraph::new(500_000, 30, 12);
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    assert!(
        reference.level_sizes[4] > 400_000,
        "{:?}",
        reference.level_sizes
    );
    let dir = workdir("mid-level-budget");
    let mut c = config(2, &dir, &m, false);
    c.memory_budget = Some(16 << 20);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    assert_stopped_by_the_budget(&got.outcome);
    let done = got.outcome.level_sizes.len();
    assert_eq!(got.outcome.level_sizes, reference.level_sizes[..done]);
    assert!(done < reference.level_sizes.len(), "{done} levels");
    for (worker, partial) in common_workdir::saved_partials(&dir, 2).iter().enumerate() {
        assert!(
            !partial.next.is_empty(),
            "worker {worker} saved no state of it"
        );
    }
    let mut c = config(2, &dir, &m, true);
    c.memory_budget = Some(1 << 30);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    same(&got.outcome, &reference, "resumed with a larger budget");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Limits given again on resuming a checkpoint saved part-way through a level: one
/// that a fresh run reaches at the checkpoint's last complete level ends the run at
/// once with that run's counts (the saved part of the next level not counted); one
/// that a fresh run would have stopped at earlier is refused, and the checkpoint still
/// resumes after it.
#[test]
fn limits_given_on_resuming_are_kept_to_from_the_checkpoint_on() {
    let m = RandomGraph::new(500_000, 30, 12);
    let dir = workdir("resume-limits");
    let mut c = config(2, &dir, &m, false);
    c.memory_budget = Some(16 << 20);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    assert_stopped_by_the_budget(&got.outcome);
    let done = got.outcome.level_sizes.len() as u32;
    assert!(done >= 3, "{done} levels");
    let mut resumed = config(2, &dir, &m, true);
    resumed.memory_budget = Some(1 << 30);
    let with = |max_depth, max_states| CheckOptions {
        max_depth,
        max_states,
        ..CheckOptions::default()
    };
    // Reached at the checkpoint: a fresh run's counts, whichever limit, from the
    // manifest alone. No worker file is read (worker 0's, replaced by a directory,
    // could not be) and nothing in the work directory changes.
    let (generation, manifest) = checker_numa::checkpoint::read_current(&dir).unwrap();
    let file0 = generation.join(&manifest.worker_files[0].file);
    let aside = dir.with_extension("aside");
    std::fs::rename(&file0, &aside).unwrap();
    std::fs::create_dir(&file0).unwrap();
    let before = listing(&dir);
    let stored: u64 = got.outcome.level_sizes.iter().sum();
    for options in [with(Some(done), None), with(None, Some(stored))] {
        let reference = sequential::check(&m, &options).unwrap();
        assert_eq!(reference.level_sizes.len() as u32, done);
        let again = check(&m, &options, &resumed).unwrap();
        same(&again.outcome, &reference, &format!("{options:?}"));
        let owned: Vec<u64> = again.telemetry.workers.iter().map(|w| w.owned).collect();
        let in_files: Vec<u64> = manifest
            .worker_files
            .iter()
            .map(|f| f.log_entries)
            .collect();
        assert_eq!(owned, in_files);
        assert_eq!(owned.iter().sum::<u64>(), stored);
        assert_eq!(
            (again.checkpoint.as_ref(), again.checkpoints_written),
            (None, 0)
        );
        assert!(again.answered_from_checkpoint, "{options:?}");
        assert_eq!(listing(&dir), before, "{options:?}");
    }
    std::fs::remove_dir(&file0).unwrap();
    std::fs::rename(&aside, &file0).unwrap();
    // Passed before it: refused.
    let before = got.outcome.level_sizes[..done as usize - 1]
        .iter()
        .sum::<u64>();
    for (options, limit) in [
        (
            with(Some(done - 1), None),
            format!("--max-depth {}", done - 1),
        ),
        (with(None, Some(before)), format!("--max-states {before}")),
    ] {
        match check(&m, &options, &resumed) {
            Err(EngineError::Config(e)) => assert!(
                e.starts_with(&format!(
                    "the checkpoint in {} already holds {done} levels ({stored} states), past where {limit} stops a run",
                    dir.display()
                )),
                "{e}"
            ),
            other => panic!("{limit}: {:?}", other.map(|o| o.outcome)),
        }
    }
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let finished = check(&m, &CheckOptions::default(), &resumed).unwrap();
    same(&finished.outcome, &reference, "resumed without limits");
    assert!(!finished.answered_from_checkpoint);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A caller that took the work directory's lock before reading the checkpoint itself
/// hands it to the engine, which then takes none; a run without it is refused while
/// the lock is held, so no other run can commit in between.
#[test]
fn a_lock_taken_by_the_caller_is_used_and_keeps_other_runs_out() {
    let (m, dir) = checkpointed_at_once("caller-lock");
    let lock = std::sync::Arc::new(WorkdirLock::take(&dir).unwrap());
    let e = resume_error(&m, &dir);
    assert_eq!(
        e,
        format!(
            "the work directory {} is in use by another run (it holds the lock on {}); wait for that run to end",
            dir.display(),
            dir.join("LOCK").display()
        )
    );
    let mut c = config(2, &dir, &m, true);
    c.persistence.as_mut().unwrap().lock = Some(lock.clone());
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    same(&got.outcome, &reference, "resumed under the caller's lock");
    drop(c);
    assert_eq!(
        std::sync::Arc::strong_count(&lock),
        1,
        "the engine kept none"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
