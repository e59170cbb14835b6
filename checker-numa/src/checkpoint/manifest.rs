//! The manifest of a checkpoint: what run it belongs to, its settings and totals, and
//! each worker file's size and checksum; written by [`super::commit`], read and checked
//! by [`read_current`].

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use checker_core::fingerprint::FINGERPRINT_FUNCTION_ID;
use checker_core::{regular_file, CheckOptions};

use super::generations::current_name;
use super::{
    invalid, io_err, worker_file_name, CheckpointError, FORMAT_VERSION, PARTITION_FUNCTION_ID,
};

const MANIFEST_FORMAT: &str = "checker-checkpoint";

/// The most bytes of a manifest read. It lists a level size per level, tens of bytes
/// each, so this is past any run's; the limit is there for a file that keeps growing.
const MANIFEST_LIMIT: u64 = 16 << 30;

/// Counts agreed by all workers when the checkpoint was taken.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Distinct states.
    pub distinct: u64,
    /// Generated states.
    pub generated: u64,
    /// Deadlock states.
    pub deadlocks: u64,
    /// Distinct states per level.
    pub level_sizes: Vec<u64>,
}

/// One worker's file as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerFile {
    /// File name inside the checkpoint directory.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// XXH3-64 of the whole file, hex.
    pub checksum: String,
    /// Entries of the worker's parent log covered by the checkpoint.
    pub log_entries: u64,
}

/// What identifies the run a checkpoint belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// `Model::name()`.
    pub model_name: String,
    /// How the model was given on the command line (name and parameters, or a path).
    pub model_spec: Vec<String>,
    /// A digest of the model's source, where it has one (DVE files).
    pub model_digest: Option<String>,
}

/// The search's settings that decide its result, saved so that a resumed run keeps
/// them (`checker check --resume` takes them from here unless told otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchSettings {
    /// Whether states without successors are reported as errors.
    pub check_deadlock: bool,
    /// `--max-states`, if given.
    pub max_states: Option<u64>,
    /// `--max-depth`, if given.
    pub max_depth: Option<u32>,
}

impl Default for SearchSettings {
    /// What a checkpoint written before the settings were saved was taken with, unless
    /// its run was told otherwise: deadlocks checked, no limits.
    fn default() -> Self {
        SearchSettings {
            check_deadlock: true,
            max_states: None,
            max_depth: None,
        }
    }
}

impl SearchSettings {
    /// The settings `options` ask for.
    pub fn of(options: &CheckOptions<'_>) -> Self {
        SearchSettings {
            check_deadlock: options.check_deadlock,
            max_states: options.max_states,
            max_depth: options.max_depth,
        }
    }
}

/// The description of a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `checker-checkpoint`.
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// The run.
    pub identity: RunIdentity,
    /// The search's settings.
    #[serde(default)]
    pub settings: SearchSettings,
    /// [`FINGERPRINT_FUNCTION_ID`] of the writer.
    pub fingerprint_function: String,
    /// [`PARTITION_FUNCTION_ID`] of the writer.
    pub partition_function: String,
    /// Worker count: the partition depends on it.
    pub workers: usize,
    /// Depth of the frontier's states (the next level to expand).
    pub depth: u32,
    /// Counts so far.
    pub totals: Totals,
    /// Seconds of search so far.
    pub elapsed_s: f64,
    /// One entry per worker.
    pub worker_files: Vec<WorkerFile>,
}

/// Builds a manifest for the current build.
pub fn manifest(
    identity: RunIdentity,
    settings: SearchSettings,
    workers: usize,
    depth: u32,
    totals: Totals,
    elapsed_s: f64,
    worker_files: Vec<WorkerFile>,
) -> Manifest {
    Manifest {
        format: MANIFEST_FORMAT.into(),
        version: FORMAT_VERSION,
        identity,
        settings,
        fingerprint_function: FINGERPRINT_FUNCTION_ID.into(),
        partition_function: PARTITION_FUNCTION_ID.into(),
        workers,
        depth,
        totals,
        elapsed_s,
        worker_files,
    }
}

/// The newest complete checkpoint of `workdir`: its directory and manifest.
pub fn read_current(workdir: &Path) -> Result<(PathBuf, Manifest), CheckpointError> {
    let dir = workdir.join(current_name(workdir)?);
    let path = dir.join("manifest.json");
    let text = regular_file::read_limited_text(&path, MANIFEST_LIMIT).map_err(io_err(&path))?;
    let (json, sum) = text
        .trim_end()
        .rsplit_once('\n')
        .ok_or_else(|| invalid(&path, "truncated (no checksum line)"))?;
    if format!("{:016x}", xxhash_rust::xxh3::xxh3_64(json.as_bytes())) != sum {
        return Err(invalid(&path, "checksum mismatch: the file is corrupted"));
    }
    let manifest: Manifest =
        serde_json::from_str(json).map_err(|e| invalid(&path, format!("unreadable: {e}")))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(invalid(&path, "not a checker checkpoint"));
    }
    if manifest.version != FORMAT_VERSION {
        return Err(invalid(
            &path,
            format!(
                "format version {} is not supported (this checker reads version {FORMAT_VERSION})",
                manifest.version
            ),
        ));
    }
    if manifest.fingerprint_function != FINGERPRINT_FUNCTION_ID {
        return Err(invalid(
            &path,
            format!(
                "written with fingerprint function `{}`, this checker uses `{FINGERPRINT_FUNCTION_ID}`",
                manifest.fingerprint_function
            ),
        ));
    }
    if manifest.partition_function != PARTITION_FUNCTION_ID {
        return Err(invalid(
            &path,
            format!(
                "written with partition function `{}`, this checker uses `{PARTITION_FUNCTION_ID}`",
                manifest.partition_function
            ),
        ));
    }
    if manifest.worker_files.len() != manifest.workers || manifest.workers == 0 {
        return Err(invalid(
            &path,
            "worker file list does not match the worker count",
        ));
    }
    for (i, f) in manifest.worker_files.iter().enumerate() {
        // Only the names this code writes: never a path out of the checkpoint.
        if f.file != worker_file_name(i) {
            return Err(invalid(
                &path,
                format!(
                    "worker_files[{i}].file is `{}`, not `{}`",
                    f.file.escape_debug(),
                    worker_file_name(i)
                ),
            ));
        }
    }
    check_totals(&manifest).map_err(|m| invalid(&path, m))?;
    check_settings(&manifest.settings).map_err(|m| invalid(&path, m))?;
    // At most about 31,700 years: what a `Duration` made from it can hold, with room.
    if !(manifest.elapsed_s.is_finite() && (0.0..1e12).contains(&manifest.elapsed_s)) {
        return Err(invalid(
            &path,
            format!("elapsed time {} s is not a duration", manifest.elapsed_s),
        ));
    }
    Ok((dir, manifest))
}

/// Checks that the manifest's totals agree with each other and with its worker files:
/// a level size per level up to the frontier's (none empty), adding up to the distinct
/// states, which the parent logs hold between them.
fn check_totals(manifest: &Manifest) -> Result<(), String> {
    let totals = &manifest.totals;
    let levels = totals.level_sizes.len();
    if levels != manifest.depth as usize + 1 {
        return Err(format!(
            "totals.level_sizes lists {levels} levels, but depth {} needs {}",
            manifest.depth,
            u64::from(manifest.depth) + 1
        ));
    }
    if totals.level_sizes.contains(&0) {
        return Err("totals.level_sizes lists an empty level".into());
    }
    let states = totals
        .level_sizes
        .iter()
        .try_fold(0u64, |a, &b| a.checked_add(b));
    if states != Some(totals.distinct) {
        return Err(format!(
            "totals.level_sizes do not add up to totals.distinct ({})",
            totals.distinct
        ));
    }
    // Every distinct state was generated at least once (initial states included).
    if totals.generated < totals.distinct || totals.deadlocks > totals.distinct {
        return Err(format!(
            "totals of {} generated states and {} deadlocks do not fit {} distinct states",
            totals.generated, totals.deadlocks, totals.distinct
        ));
    }
    let logged = manifest
        .worker_files
        .iter()
        .try_fold(0u64, |a, f| a.checked_add(f.log_entries));
    if logged != Some(totals.distinct) {
        return Err(format!(
            "the worker files' log_entries do not add up to totals.distinct ({})",
            totals.distinct
        ));
    }
    Ok(())
}

/// Checks that the saved search settings are ones a run can be given: a limit of 0
/// states or levels is refused on the command line, so no checkpoint holds one.
fn check_settings(settings: &SearchSettings) -> Result<(), String> {
    if settings.max_states == Some(0) {
        return Err("settings.max_states is 0, but a state limit must be at least 1".into());
    }
    if settings.max_depth == Some(0) {
        return Err("settings.max_depth is 0, but a depth limit must be at least 1".into());
    }
    Ok(())
}
