//! The checks of a worker file's states against its visited table and its partial
//! level's log, made while the file is read.

use checker_core::Fingerprint;

use crate::parent_log::LevelEntry;
use crate::partition::owner_of;
use crate::table::{FingerprintSet, Insert, Marking};

/// How many fingerprints ahead of the one checked the table slot is prefetched (the
/// frontier is in log order, so its lookups land anywhere in the table).
const CHECK_PREFETCH_AHEAD: usize = 8;

/// Checks the states of a worker file's frontier from position `first` on, given by
/// their `fingerprints`: the frontier holds the states of the last level the parent
/// log ends with, so each fingerprint must be one this worker owns, held by the table,
/// and not an earlier frontier state's. Marks them in `table` (the marks say which
/// states the frontier holds).
///
/// The parent log itself is not compared: nothing checksums it, and a damaged log is
/// reported when a counterexample is rebuilt from it, the counts being right.
pub(super) fn check_frontier_states(
    table: &mut FingerprintSet,
    worker: usize,
    workers: usize,
    first: u64,
    fingerprints: &[Fingerprint],
) -> Result<(), String> {
    for (i, &fp) in fingerprints.iter().enumerate() {
        if let Some(&ahead) = fingerprints.get(i + CHECK_PREFETCH_AHEAD) {
            table.prefetch(ahead);
        }
        let problem = |what: &str| {
            format!(
                "frontier state {} has fingerprint {fp:#018x}, {what}",
                first + i as u64
            )
        };
        let owner = owner_of(fp, workers);
        if owner != worker {
            return Err(problem(&format!("which worker {owner} owns")));
        }
        match table.mark_if_stored(fp) {
            Marking::Marked => {}
            Marking::NotStored => return Err(problem("which the table does not hold")),
            Marking::AlreadyMarked => return Err(problem("as an earlier frontier state has")),
        }
    }
    Ok(())
}

/// Checks the fingerprint `fp` of an entry of a partial level's log: a state of the
/// table that is new in the level, so not one of the frontier's (marked in `table`
/// while they were read).
pub(super) fn check_partial_level_entry(table: &mut FingerprintSet, fp: u64) -> Result<(), String> {
    if !table.may_hold(fp) {
        return Err(format!(
            "the partial level's state {fp:#018x} is another worker's"
        ));
    }
    match table.insert_marked(fp) {
        // Added now, with the table about to be dropped with the error.
        Insert::New => Err("a partial level's state is not in the table".into()),
        Insert::ThisLevel => Err(format!(
            "the partial level's state {fp:#018x} is also a frontier state"
        )),
        Insert::Old => Ok(()),
    }
}

/// Checks the states of a partial level's next frontier from position `first` on,
/// given by their `fingerprints`: the level's states were stored in the order of its
/// log entries, so state `i` must have the fingerprint entry `i` of `log` holds.
pub(super) fn check_partial_level_states(
    log: &[LevelEntry],
    first: u64,
    fingerprints: &[Fingerprint],
) -> Result<(), String> {
    for (index, &fp) in (first..).zip(fingerprints) {
        let logged = usize::try_from(index)
            .ok()
            .and_then(|i| log.get(i))
            .map(|e| e.entry.fp);
        match logged {
            Some(logged) if logged == fp => {}
            Some(logged) => return Err(format!(
                "the partial level's state {index} has fingerprint {fp:#018x}, but its log entry {index} holds {logged:#018x}"
            )),
            None => return Err(format!(
                "the partial level's state {index} has no log entry (the level's log has {} entries)",
                log.len()
            )),
        }
    }
    Ok(())
}
