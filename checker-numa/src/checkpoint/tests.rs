use std::fs;
use std::path::PathBuf;

use checker_core::fingerprint;

use super::generations::{generation_name, CURRENT};
use super::*;
use crate::frontier::Frontier;
use crate::message::LevelReport;
use crate::parent_log::{LevelEntry, LogEntry};
use crate::partition::{owner_of, ParentRef};
use crate::table::{FingerprintSet, Insert};
use crate::worker::PartialLevel;

/// An empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("checkpoint-unit-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `count` packed states whose fingerprints worker `worker` of `workers` owns.
fn owned_states(worker: usize, workers: usize, count: usize) -> Vec<Vec<u8>> {
    (0u64..)
        .map(|i| i.to_le_bytes().to_vec())
        .filter(|s| owner_of(fingerprint(s), workers) == worker)
        .take(count)
        .collect()
}

fn frontier_of(states: &[Vec<u8>], first_index: u64) -> Frontier {
    let mut f = Frontier::in_memory();
    for s in states {
        f.push(s);
    }
    f.set_first_index(first_index);
    f
}

fn fp_of(state: &[u8]) -> String {
    format!("{:#018x}", fingerprint(state))
}

/// A partial level whose log holds `logged` (in order) and whose next frontier
/// holds `next`.
fn partial_level(logged: &[Vec<u8>], next: &[Vec<u8>]) -> PartialLevel {
    PartialLevel {
        expanded: 0,
        report: LevelReport::default(),
        log: logged
            .iter()
            .map(|s| LevelEntry {
                entry: LogEntry {
                    fp: fingerprint(s),
                    parent: ParentRef::NONE,
                },
                parent_fp: 0,
            })
            .collect(),
        next: frontier_of(next, 0),
    }
}

/// Writes worker 0's file of a run of `workers` into a scratch directory: a table
/// of `stored`, a parent log of `log_entries` entries ending with `frontier`, and
/// `partial`; then reads it back.
fn round_trip(
    name: &str,
    workers: usize,
    stored: &[Vec<u8>],
    log_entries: u64,
    frontier: &[Vec<u8>],
    partial: Option<PartialLevel>,
) -> Result<LoadedWorker, String> {
    let dir = scratch(name);
    let mut table = FingerprintSet::with_capacity(stored.len());
    for s in stored {
        table.insert(fingerprint(s));
    }
    let first_index = log_entries - frontier.len() as u64;
    let frontier = frontier_of(frontier, first_index);
    let counters = WorkerCounters::default();
    let file = write_worker(
        &dir,
        0,
        &table,
        &frontier,
        counters,
        log_entries,
        partial.as_ref(),
    )
    .unwrap();
    let read = read_worker(
        &dir,
        0,
        workers,
        &file,
        Frontier::in_memory(),
        Frontier::in_memory(),
    );
    fs::remove_dir_all(&dir).unwrap();
    read.map_err(|e| e.to_string())
}

fn assert_refused(result: Result<LoadedWorker, String>, message: &str) {
    let e = result.err().expect("refused");
    assert!(e.ends_with(&format!("worker-0.bin: {message}")), "{e}");
}

#[test]
fn a_worker_file_reads_back_with_its_frontier_and_no_marks() {
    let s = owned_states(0, 1, 6);
    let loaded = round_trip("valid", 1, &s[..4], 4, &s[2..4], None).unwrap();
    assert_eq!(loaded.frontier.len(), 2);
    assert_eq!(loaded.frontier.first_index(), 2);
    let mut table = loaded.table;
    assert_eq!(table.len(), 4);
    assert_eq!(table.insert_marked(fingerprint(&s[2])), Insert::Old);

    let partial = partial_level(&s[4..6], &s[4..6]);
    let loaded = round_trip("valid-partial", 1, &s, 4, &s[2..4], Some(partial)).unwrap();
    let partial = loaded.partial.unwrap();
    assert_eq!(partial.next.len(), 2);
    assert_eq!(partial.next.first_index(), 4);
    let mut table = loaded.table;
    assert_eq!(table.insert_marked(fingerprint(&s[3])), Insert::Old);
    assert_eq!(table.insert_marked(fingerprint(&s[4])), Insert::Old);
}

/// Frontier states whose bytes were replaced, the checksums recomputed: once
/// fingerprinted they are not the states the table records.
#[test]
fn frontier_states_the_table_does_not_hold_are_refused() {
    let s = owned_states(0, 1, 3);
    let frontier = [s[1].clone(), s[2].clone()];
    assert_refused(
        round_trip("not-held", 1, &s[..2], 2, &frontier, None),
        &format!(
            "frontier state 1 has fingerprint {}, which the table does not hold",
            fp_of(&s[2])
        ),
    );
}

#[test]
fn a_frontier_state_held_twice_is_refused() {
    let s = owned_states(0, 1, 2);
    let frontier = [s[1].clone(), s[1].clone()];
    assert_refused(
        round_trip("twice", 1, &s, 2, &frontier, None),
        &format!(
            "frontier state 1 has fingerprint {}, as an earlier frontier state has",
            fp_of(&s[1])
        ),
    );
}

#[test]
fn a_frontier_state_of_another_worker_is_refused() {
    let mine = owned_states(0, 2, 2);
    let theirs = owned_states(1, 2, 1);
    let frontier = [mine[1].clone(), theirs[0].clone()];
    assert_refused(
        round_trip("theirs", 2, &mine, 2, &frontier, None),
        &format!(
            "frontier state 1 has fingerprint {}, which worker 1 owns",
            fp_of(&theirs[0])
        ),
    );
}

/// A partial level's state that another worker owns is refused before it reaches
/// the table, which holds only its own worker's fingerprints.
#[test]
fn a_partial_level_state_of_another_worker_is_refused() {
    // Three states in the table: the log's two and the partial level's one.
    let mine = owned_states(0, 2, 3);
    let theirs = owned_states(1, 2, 1);
    let partial = partial_level(&theirs, &theirs);
    assert_refused(
        round_trip("partial-theirs", 2, &mine, 2, &mine[1..2], Some(partial)),
        &format!(
            "the partial level's state {} is another worker's",
            fp_of(&theirs[0])
        ),
    );
}

/// A partial level's next frontier holds its states in the order of its log.
#[test]
fn a_partial_level_whose_states_are_not_its_log_s_is_refused() {
    let s = owned_states(0, 1, 4);
    let partial = partial_level(&s[2..4], &[s[3].clone(), s[2].clone()]);
    assert_refused(
        round_trip("partial-order", 1, &s, 2, &s[..2], Some(partial)),
        &format!(
            "the partial level's state 0 has fingerprint {}, but its log entry 0 holds {}",
            fp_of(&s[3]),
            fp_of(&s[2])
        ),
    );
    let partial = partial_level(&s[1..2], &s[1..2]);
    assert_refused(
        round_trip("partial-old", 1, &s[..3], 2, &s[..2], Some(partial)),
        &format!(
            "the partial level's state {} is also a frontier state",
            fp_of(&s[1])
        ),
    );
}

#[test]
fn generation_names_are_exactly_those_written() {
    for generation in [0, 11, 999_999, 1_000_000, u64::MAX] {
        let name = generation_name(generation);
        assert_eq!(generation_of(&name), Some(generation), "{name}");
    }
    assert_eq!(generation_name(11), "checkpoint-000011");
    for name in [
        "checkpoint-",
        "checkpoint-11",
        "checkpoint-0000011",
        "checkpoint-+00011",
        "checkpoint-000011 ",
        "checkpoint-000011.tmp",
        "checkpoint-notes",
        "checkpoint-99999999999999999999",
        "Checkpoint-000011",
        "000011",
    ] {
        assert_eq!(generation_of(name), None, "{name}");
    }
}

/// A manifest of one worker and one state, with `settings`.
fn small_manifest(settings: SearchSettings) -> Manifest {
    let identity = RunIdentity {
        model_name: "m".into(),
        model_spec: vec!["m".into()],
        model_digest: None,
    };
    let totals = Totals {
        distinct: 1,
        generated: 1,
        deadlocks: 0,
        level_sizes: vec![1],
    };
    let file = WorkerFile {
        file: worker_file_name(0),
        bytes: 0,
        checksum: String::new(),
        log_entries: 1,
    };
    manifest(identity, settings, 1, 0, totals, 0.0, vec![file])
}

/// Entries of a work directory the user gave that only look like checkpoints
/// survive a commit; older generations, complete or not, do not.
#[test]
fn a_commit_removes_older_generations_and_nothing_else() {
    let workdir = scratch("commit");
    let mine = [
        "checkpoint-notes",
        "checkpoint-7",
        "checkpoint-0000002",
        "checkpoint-+000006",
        "checkpoint-000009.tmp",
    ];
    for name in mine {
        fs::create_dir_all(workdir.join(name)).unwrap();
        fs::write(workdir.join(name).join("mine.txt"), "mine").unwrap();
    }
    fs::write(workdir.join("checkpoint-notes.txt"), "mine").unwrap();
    // Named as a generation, but holding the user's files.
    let dated = workdir.join("checkpoint-20240101");
    fs::create_dir_all(dated.join("runs")).unwrap();
    fs::write(dated.join("results.txt"), "mine").unwrap();
    fs::write(dated.join("worker-0.bin"), "mine").unwrap();
    // Generation 3 was complete; a crash left generation 4 without its manifest,
    // one of its worker files half written, and generation 6 empty.
    for generation in [3, 4, 6] {
        fs::create_dir_all(generation_dir(&workdir, generation)).unwrap();
    }
    fs::write(generation_dir(&workdir, 3).join("manifest.json"), "{}").unwrap();
    fs::write(generation_dir(&workdir, 3).join("worker-0.bin"), "x").unwrap();
    fs::write(generation_dir(&workdir, 3).join("worker-12.bin"), "x").unwrap();
    fs::write(generation_dir(&workdir, 4).join("worker-0.bin"), "x").unwrap();
    fs::write(generation_dir(&workdir, 4).join("worker-1.tmp"), "x").unwrap();
    let current = generation_dir(&workdir, 5);
    fs::create_dir_all(&current).unwrap();
    commit(
        &workdir,
        &current,
        &small_manifest(SearchSettings::default()),
    )
    .unwrap();
    for name in mine {
        assert!(workdir.join(name).join("mine.txt").exists(), "{name}");
    }
    assert!(workdir.join("checkpoint-notes.txt").exists());
    assert!(dated.join("results.txt").exists() && dated.join("runs").is_dir());
    assert!(dated.join("worker-0.bin").exists());
    for generation in [3, 4, 6] {
        assert!(
            !generation_dir(&workdir, generation).exists(),
            "{generation}"
        );
    }
    assert!(current.join("manifest.json").exists());
    assert_eq!(
        fs::read_to_string(workdir.join(CURRENT)).unwrap(),
        "checkpoint-000005\n"
    );
    fs::remove_dir_all(&workdir).unwrap();
}

/// A checkpoint directory that was never committed (a worker's file failed on a
/// full disk) goes; the committed one, and a user's look-alike, stay. Debris left
/// before a run starts goes too, but not while `CURRENT` cannot be read.
#[test]
fn uncommitted_checkpoints_and_debris_are_removed_and_nothing_else() {
    let workdir = scratch("uncommitted");
    let committed = generation_dir(&workdir, 2);
    fs::create_dir_all(&committed).unwrap();
    commit(
        &workdir,
        &committed,
        &small_manifest(SearchSettings::default()),
    )
    .unwrap();
    let failed = generation_dir(&workdir, 3);
    fs::create_dir_all(&failed).unwrap();
    fs::write(failed.join("worker-0.tmp"), "half written").unwrap();
    let mine = workdir.join("checkpoint-000004");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("results.txt"), "mine").unwrap();
    discard_uncommitted(&workdir, &committed);
    discard_uncommitted(&workdir, &mine);
    assert!(committed.join("manifest.json").exists() && mine.exists());
    discard_uncommitted(&workdir, &failed);
    assert!(!failed.exists());

    // Left by a run killed while it wrote one: swept when the next run starts.
    for generation in [1, 5] {
        fs::create_dir_all(generation_dir(&workdir, generation)).unwrap();
        fs::write(
            generation_dir(&workdir, generation).join("worker-1.tmp"),
            "",
        )
        .unwrap();
    }
    fs::write(workdir.join(CURRENT), "garbage\n").unwrap();
    remove_debris(&workdir).unwrap();
    assert!(
        generation_dir(&workdir, 5).exists(),
        "kept while CURRENT is damaged"
    );
    fs::write(workdir.join(CURRENT), "checkpoint-000002\n").unwrap();
    remove_debris(&workdir).unwrap();
    assert!(!generation_dir(&workdir, 1).exists() && !generation_dir(&workdir, 5).exists());
    assert!(committed.join("manifest.json").exists() && mine.exists());
    // No checkpoint at all (a fresh run): every generation goes.
    fs::remove_file(workdir.join(CURRENT)).unwrap();
    remove_debris(&workdir).unwrap();
    assert!(!committed.exists() && mine.join("results.txt").exists());
    fs::remove_dir_all(&workdir).unwrap();
}

/// `CURRENT` naming an entry that only looks like a checkpoint is refused.
#[test]
fn current_must_name_a_generation_directory() {
    let workdir = scratch("current");
    let dir = workdir.join("checkpoint-7");
    fs::create_dir_all(&dir).unwrap();
    commit(&workdir, &dir, &small_manifest(SearchSettings::default())).unwrap();
    let e = read_current(&workdir).err().unwrap().to_string();
    assert!(
        e.ends_with("CURRENT: does not name a checkpoint directory"),
        "{e}"
    );
    fs::remove_dir_all(&workdir).unwrap();
}

/// Limits of 0 are refused on the command line; a manifest cannot bring them in.
#[test]
fn saved_limits_of_zero_are_refused() {
    let workdir = scratch("settings");
    let dir = generation_dir(&workdir, 1);
    fs::create_dir_all(&dir).unwrap();
    let limits = |max_states, max_depth| SearchSettings {
        check_deadlock: true,
        max_states,
        max_depth,
    };
    let cases = [
        (
            limits(Some(0), None),
            "settings.max_states is 0, but a state limit must be at least 1",
        ),
        (
            limits(None, Some(0)),
            "settings.max_depth is 0, but a depth limit must be at least 1",
        ),
    ];
    for (settings, message) in cases {
        commit(&workdir, &dir, &small_manifest(settings)).unwrap();
        let e = read_current(&workdir).err().unwrap().to_string();
        assert!(e.ends_with(&format!("manifest.json: {message}")), "{e}");
    }
    let settings = limits(Some(1), Some(1));
    commit(&workdir, &dir, &small_manifest(settings)).unwrap();
    let (_, read) = read_current(&workdir).unwrap();
    assert_eq!(read.settings, settings);
    fs::remove_dir_all(&workdir).unwrap();
}
