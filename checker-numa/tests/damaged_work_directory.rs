//! A work directory damaged between a run and its resumption: parent logs (which
//! nothing checksums) overwritten or swapped, and checkpoints whose checksums were
//! recomputed after a change (by a confused user or a buggy tool). Each is an error
//! that names the problem: never a panic, a hang, or a wrong answer.

mod common_graph;
mod common_guards;
mod common_outcome;
mod common_workdir;

use checker_core::{sequential, CheckOptions, Outcome};
use checker_numa::partition::owner_of;
use checker_numa::{check, EngineError};
use common_graph::RandomGraph;
use common_outcome::same;
use common_workdir::{
    checkpointed_at_once, config, current_dir, edit_manifest, graph, interrupted_at_once,
    resume_error, workdir,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn resume(m: &RandomGraph, dir: &Path) -> Result<Outcome, EngineError> {
    check(m, &CheckOptions::default(), &config(2, dir, m, true)).map(|o| o.outcome)
}

/// A run of [`graph`] at 2 workers that checkpoints at every level end, up to the
/// violation: its last checkpoint is the level before the violation's, and its logs
/// hold nearly every state. Resuming it finds the violation again. Returns the model,
/// the directory and the sequential checker's outcome.
fn checkpointed_before_the_violation(name: &str) -> (RandomGraph, PathBuf, Outcome) {
    let m = graph();
    let reference = sequential::check(&m, &CheckOptions::default()).unwrap();
    let violation = reference.violation().expect("the graph has a bad state");
    assert_eq!(violation.trace.transitions(), 10);
    let dir = workdir(name);
    let mut c = config(2, &dir, &m, false);
    c.persistence.as_mut().unwrap().checkpoint_every = Some(Duration::ZERO);
    let got = check(&m, &CheckOptions::default(), &c).unwrap();
    same(&got.outcome, &reference, "checkpointed at every level");
    assert!(dir.join("CURRENT").exists());
    (m, dir, reference)
}

/// [`checkpointed_before_the_violation`] without the reference outcome.
fn before_the_violation(name: &str) -> (RandomGraph, PathBuf) {
    let (m, dir, _) = checkpointed_before_the_violation(name);
    (m, dir)
}

/// Rewrites `bytes` of the file at `path` from offset 0 (at most its length).
fn overwrite(path: &Path, bytes: impl Fn(usize) -> u8) {
    let mut data = std::fs::read(path).unwrap();
    for (i, b) in data.iter_mut().enumerate() {
        *b = bytes(i);
    }
    std::fs::write(path, data).unwrap();
}

fn assert_damaged_log(e: &str, log: &str) {
    assert!(e.starts_with("parent log "), "{e}");
    assert!(e.contains(&format!("{log} is damaged: ")), "{e}");
    assert!(
        e.ends_with("; the counts are right but no counterexample can be rebuilt"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
}

/// Fills worker 0's parent log of [`checkpointed_before_the_violation`] with `byte`:
/// resuming reports the log damaged, its first entry holding `fingerprint`, which is
/// not worker 0's.
fn assert_a_log_filled_with_is_reported(name: &str, byte: u8, fingerprint: &str) {
    let (m, dir, _) = checkpointed_before_the_violation(name);
    let log = dir.join("log-0.bin");
    overwrite(&log, |_| byte);
    let e = resume_error(&m, &dir);
    assert_damaged_log(&e, &log.display().to_string());
    assert!(
        e.contains(&format!(
            "holds fingerprint {fingerprint}, which is not worker 0's"
        )),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sets bytes 14 and 15 of every entry of both parent logs in `dir` to 0x42: each
/// parent reference names worker 0x4242 as its parent's owner.
fn name_worker_4242_as_every_parents_owner(dir: &Path) {
    for log in ["log-0.bin", "log-1.bin"] {
        overwrite(&dir.join(log), {
            let data = std::fs::read(dir.join(log)).unwrap();
            move |i| if i % 16 >= 14 { 0x42 } else { data[i] }
        });
    }
}

/// Asserts that resuming `dir` is refused with an error that ends with `message`, then
/// removes `dir`.
fn assert_refused(m: &RandomGraph, dir: &Path, message: &str) {
    let e = resume_error(m, dir);
    assert!(e.ends_with(message), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_undamaged_work_directory_resumes_to_the_reference_counterexample() {
    let (m, dir, reference) = checkpointed_before_the_violation("control");
    let got = resume(&m, &dir).unwrap();
    same(&got, &reference, "resumed before the violation");
    std::fs::remove_dir_all(&dir).unwrap();
    let (m, dir) = checkpointed_at_once("control-first");
    let got = resume(&m, &dir).unwrap();
    same(&got, &reference, "resumed after the initial states");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Zeroed entries read as state 0 whose parent is entry 0 of log 0: itself. Following
/// them went round for ever, memory growing.
#[test]
fn a_zeroed_parent_log_is_reported_not_followed_for_ever() {
    assert_a_log_filled_with_is_reported("zeroed", 0, "0x0000000000000000");

    // Only the first 64 KiB: the walk meets the zeroes at some level.
    let (m, dir, _) = checkpointed_before_the_violation("zeroed-64k");
    let log = dir.join("log-0.bin");
    assert!(std::fs::metadata(&log).unwrap().len() > 1 << 16);
    let mut data = std::fs::read(&log).unwrap();
    data[..1 << 16].fill(0);
    std::fs::write(&log, data).unwrap();
    let e = resume_error(&m, &dir);
    assert_damaged_log(&e, &log.display().to_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Bytes 14 and 15 of an entry are the top of its parent reference: the parent's
/// worker, here 0x4242 of 2. Indexing with it panicked.
#[test]
fn a_parent_reference_to_a_worker_that_does_not_exist_is_reported() {
    let (m, dir, _) = checkpointed_before_the_violation("worker-4242");
    name_worker_4242_as_every_parents_owner(&dir);
    let e = resume_error(&m, &dir);
    assert!(e.starts_with("parent log "), "{e}");
    assert!(
        e.contains("names worker 16962 as its parent's owner, but the run has 2 workers; the counts are right but no counterexample can be rebuilt"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // The same in the initial states' entries, the only ones a checkpoint after the
    // first level holds.
    let (m, dir) = checkpointed_at_once("worker-4242-first");
    name_worker_4242_as_every_parents_owner(&dir);
    let e = resume_error(&m, &dir);
    assert!(
        e.contains("entry 0 names worker 16962 as its parent's owner, but the run has 2 workers"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A log of 0xff bytes holds states 0xffff_ffff_ffff_ffff, initial ones: a chain
/// through it ended early and did not replay.
#[test]
fn a_parent_log_of_ones_is_reported() {
    assert_a_log_filled_with_is_reported("ones", 0xff, "0xffffffffffffffff");
}

/// Each log holds the other worker's states: each reference leads to a state of the
/// wrong owner.
#[test]
fn swapped_parent_logs_are_reported() {
    let (m, dir, _) = checkpointed_before_the_violation("swapped");
    let (zero, one) = (dir.join("log-0.bin"), dir.join("log-1.bin"));
    let (a, b) = (std::fs::read(&zero).unwrap(), std::fs::read(&one).unwrap());
    std::fs::write(&zero, &b).unwrap();
    std::fs::write(&one, &a).unwrap();
    let e = resume_error(&m, &dir);
    assert!(e.starts_with("parent log "), "{e}");
    assert!(e.contains(" is damaged: entry "), "{e}");
    assert!(e.contains("which is not worker "), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Entries that are each a plausible state of their worker, in the right level, with
/// references that stay in range: the chain has the right length and owners, and only
/// replaying it through the model shows it false. The error says the logs may be
/// damaged and keeps what the replay found.
#[test]
fn a_chain_that_does_not_replay_blames_the_logs() {
    let (m, dir, _) = checkpointed_before_the_violation("no-replay");
    for worker in 0..2 {
        // The worker's part of the checkpoint's last level: its frontier, which ends
        // its log. Each entry there gets its neighbour's fingerprint.
        let file = std::fs::read(current_dir(&dir).join(format!("worker-{worker}.bin"))).unwrap();
        let first = word(&file, layout(&file).frontier - 8) as usize;
        let end = word(&file, 40) as usize;
        assert!(end - first > 2, "{first}..{end}");
        let log = dir.join(format!("log-{worker}.bin"));
        let mut data = std::fs::read(&log).unwrap();
        let first_fp = word(&data, 16 * first);
        for i in first..end {
            let next = if i + 1 < end {
                word(&data, 16 * (i + 1))
            } else {
                first_fp
            };
            set_word(&mut data, 16 * i, next);
        }
        std::fs::write(&log, data).unwrap();
    }
    let e = resume_error(&m, &dir);
    assert!(
        e.starts_with(&format!(
            "the parent logs in {} may be damaged: counterexample does not replay: step 8: no successor has fingerprint 0x",
            dir.display()
        )),
        "{e}"
    );
    assert!(
        e.ends_with("; the counts are right but no counterexample can be rebuilt"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rewrites worker `worker`'s file of the current checkpoint of `dir` through `edit`
/// and recomputes its own checksum and the manifest's record of it.
fn edit_worker_file(dir: &Path, worker: usize, edit: impl FnOnce(&mut Vec<u8>)) {
    let path = current_dir(dir).join(format!("worker-{worker}.bin"));
    let mut data = std::fs::read(&path).unwrap();
    data.truncate(data.len() - 8);
    edit(&mut data);
    let inner = xxhash_rust::xxh3::xxh3_64(&data);
    data.extend_from_slice(&inner.to_le_bytes());
    std::fs::write(&path, &data).unwrap();
    let whole = xxhash_rust::xxh3::xxh3_64(&data);
    edit_manifest(dir, |m| {
        let entry = &mut m["worker_files"][worker];
        entry["bytes"] = data.len().into();
        entry["checksum"] = format!("{whole:016x}").into();
    });
}

/// Where the fields of a worker file are (byte offsets).
struct WorkerFileLayout {
    /// The table's length word; its fingerprints follow.
    table_len: usize,
    /// The frontier's length word; its chunks follow.
    frontier: usize,
    /// The partial level's `expanded` word, if the file has a partial level.
    partial: Option<usize>,
}

fn word(data: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(data[at..at + 8].try_into().unwrap())
}

/// The offset past a frontier that starts at `at`.
fn skip_frontier(data: &[u8], mut at: usize) -> usize {
    at += 8;
    while word(data, at) != u64::MAX {
        at += 24 + word(data, at + 16) as usize;
    }
    at + 8
}

fn layout(data: &[u8]) -> WorkerFileLayout {
    let table_len = 48;
    let frontier = table_len + 8 + 8 * word(data, table_len) as usize + 8;
    let flag = skip_frontier(data, frontier);
    WorkerFileLayout {
        table_len,
        frontier,
        partial: (word(data, flag) == 1).then_some(flag + 8),
    }
}

fn set_word(data: &mut [u8], at: usize, value: u64) {
    data[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn worker_file_names_outside_the_checkpoint_are_refused() {
    for name in [
        "../../etc/passwd",
        "/etc/passwd",
        "worker-1.bin",
        "worker-0.bin.tmp",
    ] {
        let (m, dir) = checkpointed_at_once("file-name");
        edit_manifest(&dir, |v| v["worker_files"][0]["file"] = name.into());
        assert!(matches!(resume(&m, &dir), Err(EngineError::Checkpoint(_))));
        assert_refused(
            &m,
            &dir,
            &format!("manifest.json: worker_files[0].file is `{name}`, not `worker-0.bin`"),
        );
    }
}

#[test]
fn manifest_totals_that_disagree_are_refused() {
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 5] = [
        (
            |v| v["totals"]["level_sizes"][0] = 3.into(),
            "totals.level_sizes do not add up to totals.distinct (2)",
        ),
        (
            |v| v["depth"] = 5.into(),
            "totals.level_sizes lists 1 levels, but depth 5 needs 6",
        ),
        (
            |v| v["worker_files"][1]["log_entries"] = 7.into(),
            "the worker files' log_entries do not add up to totals.distinct (2)",
        ),
        (
            |v| {
                v["totals"]["level_sizes"] = serde_json::json!([2, 0]);
                v["depth"] = 1.into();
            },
            "totals.level_sizes lists an empty level",
        ),
        (
            |v| v["totals"]["generated"] = 1.into(),
            "totals of 1 generated states and 0 deadlocks do not fit 2 distinct states",
        ),
    ];
    for (edit, message) in cases {
        let (m, dir) = checkpointed_at_once("totals");
        edit_manifest(&dir, edit);
        assert_refused(&m, &dir, &format!("manifest.json: {message}"));
    }
}

#[test]
fn a_model_of_another_name_under_the_same_spec_is_named() {
    let (_, dir) = checkpointed_at_once("model-name");
    let other = RandomGraph {
        size: 30_000,
        ..graph()
    };
    let e = resume_error(&other, &dir);
    assert_eq!(
        e,
        format!(
            "the checkpoint in {} is for the model named `graph 40000 3 21`, this is `graph 30000 3 21`",
            dir.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_worker_file_whose_table_disagrees_is_refused() {
    // A fingerprint of the other worker's.
    let (m, dir) = before_the_violation("foreign-state");
    edit_worker_file(&dir, 0, |data| {
        let at = layout(data).table_len + 8;
        let fp = word(data, at);
        assert_eq!(owner_of(fp, 2), 0);
        set_word(data, at, fp | 1 << 63);
    });
    let e = resume_error(&m, &dir);
    assert!(
        e.contains("worker-0.bin: the table holds fingerprint 0x"),
        "{e}"
    );
    assert!(e.ends_with(", which is not worker 0's"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A state left out of the table.
    let (m, dir) = before_the_violation("missing-state");
    let mut entries = 0;
    edit_worker_file(&dir, 1, |data| {
        let l = layout(data);
        let len = word(data, l.table_len);
        entries = word(data, 40);
        set_word(data, l.table_len, len - 1);
        data.drain(l.table_len + 8..l.table_len + 16);
    });
    assert_refused(
        &m,
        &dir,
        &format!(
            "worker-1.bin: the table holds {} states, the parent log {entries}",
            entries - 1
        ),
    );
}

/// A frontier chunk of 2^62 empty states: copying them one by one would never end.
#[test]
fn a_frontier_of_countless_empty_states_is_refused() {
    let (m, dir) = before_the_violation("empty-states");
    edit_worker_file(&dir, 0, |data| {
        let chunk = layout(data).frontier + 8;
        let end = chunk + 24 + word(data, chunk + 16) as usize;
        let mut empty = Vec::new();
        for w in [1u64 << 62, 0, 0] {
            empty.extend_from_slice(&w.to_le_bytes());
        }
        data.splice(chunk..end, empty);
    });
    assert_refused(
        &m,
        &dir,
        "worker-0.bin: frontier length disagrees with its header",
    );
}

/// Interrupts and resumes [`graph`] at 2 workers until a checkpoint holds a level
/// interrupted part-way in worker `worker`'s file; returns the model and directory.
fn checkpointed_part_way(name: &str, worker: usize) -> (RandomGraph, PathBuf) {
    let m = graph();
    let dir = workdir(name);
    let mut resume = false;
    for _ in 0..20 {
        check(&m, &interrupted_at_once(), &config(2, &dir, &m, resume)).unwrap();
        resume = true;
        let file = current_dir(&dir).join(format!("worker-{worker}.bin"));
        if layout(&std::fs::read(file).unwrap()).partial.is_some() {
            return (m, dir);
        }
    }
    panic!("no level was interrupted part-way");
}

/// Offsets in a partial level, from its `expanded` word: the report's deadlock, the
/// invariant violation (fingerprint, index), the entry count.
const DEADLOCK: usize = 32;
const INVARIANT: usize = 40;
const INVARIANT_INDEX: usize = 48;
const ENTRIES: usize = 56;

/// A partial level's report names states that the resumed run cannot find: it
/// panicked (`the reported state is stored by its owner`) when rebuilding the trace.
#[test]
fn a_partial_level_reporting_states_it_does_not_hold_is_refused() {
    // An invariant violation by a state the level did not store.
    let (m, dir) = checkpointed_part_way("partial-invariant", 0);
    edit_worker_file(&dir, 0, |data| {
        let at = layout(data).partial.unwrap();
        set_word(data, at + INVARIANT, 0x1234);
        set_word(data, at + INVARIANT_INDEX, 0);
    });
    assert_refused(&m, &dir, "worker-0.bin: the partial level reports an invariant violation by state 0x0000000000001234, which is not among its states");

    // A violation of an invariant that the model does not have, by a state it holds.
    let (m, dir) = checkpointed_part_way("partial-invariant-index", 0);
    edit_worker_file(&dir, 0, |data| {
        let at = layout(data).partial.unwrap();
        assert!(word(data, at + ENTRIES) > 0);
        let first_state = word(data, at + ENTRIES + 8);
        set_word(data, at + INVARIANT, first_state);
        set_word(data, at + INVARIANT_INDEX, 7);
    });
    assert_refused(&m, &dir, "worker-0.bin: the partial level reports a violation of invariant 7, but the model has 1 invariants");

    // A deadlock of a state of this worker's that its table does not hold.
    let (m, dir) = checkpointed_part_way("partial-deadlock", 0);
    edit_worker_file(&dir, 0, |data| {
        let at = layout(data).partial.unwrap();
        set_word(data, at + DEADLOCK, 0x1234);
    });
    assert_refused(&m, &dir, "worker-0.bin: the partial level reports a deadlock of state 0x0000000000001234, which the table does not hold");

    // A deadlock of another worker's state (a share may have been expanded here):
    // only its owner's log can tell, when the counterexample is rebuilt.
    let (m, dir) = checkpointed_part_way("partial-foreign-deadlock", 0);
    let stranger = 0x8000_0000_0000_1234u64;
    assert_eq!(owner_of(stranger, 2), 1);
    edit_worker_file(&dir, 0, |data| {
        let at = layout(data).partial.unwrap();
        set_word(data, at + DEADLOCK, stranger);
    });
    let e = resume_error(&m, &dir);
    let log = dir.join("log-1.bin");
    assert_eq!(
        e,
        format!("parent log {} is damaged: the reported state 0x8000000000001234 is not in it; the counts are right but no counterexample can be rebuilt", log.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A FIFO, `/dev/zero` or a directory in place of a work directory's file: reading
/// `CURRENT` or a manifest from `/dev/zero` grew memory until the process was killed,
/// and opening a FIFO in place of `CURRENT`, a manifest or `LOCK` blocked for ever.
/// Each is now refused, in one line, by what the file is.
#[cfg(unix)]
#[test]
fn special_files_in_a_work_directory_are_refused_without_blocking_or_reading_for_ever() {
    type MakeInPlace = fn(&Path);
    let replacements: [(&str, MakeInPlace); 3] = [
        ("a FIFO", |p| {
            let made = std::process::Command::new("mkfifo").arg(p).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", p.display());
        }),
        ("a character device", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
        ("a directory", |p| std::fs::create_dir(p).unwrap()),
    ];
    for (k, (kind, make)) in replacements.into_iter().enumerate() {
        for file in ["CURRENT", "manifest.json", "LOCK", "log-1.bin"] {
            let (m, dir) = checkpointed_at_once(&format!("special-{k}-{file}"));
            let path = match file {
                "manifest.json" => current_dir(&dir).join(file),
                _ => dir.join(file),
            };
            if path.exists() {
                std::fs::remove_file(&path).unwrap();
            }
            make(&path);
            let e = resume_error(&m, &dir);
            assert!(
                e.contains(file) && e.ends_with(&format!("not a regular file ({kind})")),
                "{file} as {kind}: {e}"
            );
            assert!(!e.contains('\n'), "one line: {e}");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
