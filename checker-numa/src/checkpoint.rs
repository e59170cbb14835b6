//! Checkpoints: everything needed to resume a run at a level boundary, written so that
//! a crash at any moment leaves the previous checkpoint usable.
//!
//! Layout of a work directory:
//! - `log-<w>.bin`: worker `w`'s parent log (append-only; a checkpoint records its
//!   length, resuming cuts it back there);
//! - `checkpoint-<gen>/worker-<w>.bin`: worker `w`'s visited table, frontier and
//!   counters, with an XXH3 checksum at the end;
//! - `checkpoint-<gen>/manifest.json`: format version, model, fingerprint and partition
//!   functions, worker count, level, totals, and each worker file's size and checksum;
//!   followed by a line holding the checksum of the JSON;
//! - `CURRENT`: the name of the newest complete checkpoint directory.
//!
//! Every file is written to a temporary name, synced and renamed; `CURRENT` is switched
//! only once the whole checkpoint is durable, and older checkpoints are removed after.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use checker_core::fingerprint::FINGERPRINT_FUNCTION_ID;
use checker_core::{fingerprint, regular_file, CheckOptions, Fingerprint};
use xxhash_rust::xxh3::Xxh3;

use crate::frontier::Frontier;
use crate::message::LevelReport;
use crate::parent_log::{LevelEntry, LogEntry};
use crate::partition::{owner_of, ParentRef};
use crate::state_chunk::StateChunk;
use crate::table::{FingerprintSet, Insert, Marking};
use crate::worker::PartialLevel;

/// Version of the checkpoint format this build writes and reads.
pub const FORMAT_VERSION: u32 = 3;
/// Identifies the partition function (`partition::owner_of`).
pub const PARTITION_FUNCTION_ID: &str = "multiply-shift-top32-node-major";
const MANIFEST_FORMAT: &str = "checker-checkpoint";
const WORKER_MAGIC: &[u8; 8] = b"CHKWRKR1";
const CURRENT: &str = "CURRENT";

/// The most bytes of `CURRENT` read: it holds one directory name.
const CURRENT_LIMIT: u64 = 4096;

/// The most bytes of a manifest read. It lists a level size per level, tens of bytes
/// each, so this is past any run's; the limit is there for a file that keeps growing.
const MANIFEST_LIMIT: u64 = 16 << 30;

/// What the name of every checkpoint directory starts with (see [`generation_name`]).
const GENERATION_PREFIX: &str = "checkpoint-";

/// A checkpoint that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The checkpoint is damaged, from another format, or does not fit this run.
    #[error("checkpoint {path}: {message}")]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path, message: impl Into<String>) -> CheckpointError {
    CheckpointError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

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

/// A worker's own counters that survive a resume.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerCounters {
    /// Successors this worker computed so far (plus its initial states).
    pub generated: u64,
    /// States this worker expanded so far.
    pub expanded: u64,
}

/// Writes `bytes` to `path` through a temporary file, synced before the rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// A writer that checksums everything it writes.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Xxh3,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.bytes += bytes.len() as u64;
        self.inner.write_all(bytes)
    }
    fn put_u64(&mut self, v: u64) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }
}

/// The directory of checkpoint generation `generation` in `workdir`.
pub fn generation_dir(workdir: &Path, generation: u64) -> PathBuf {
    workdir.join(generation_name(generation))
}

/// The name of generation `generation`'s directory: the prefix and the number, zero
/// padded to at least six digits (`checkpoint-000011`, `checkpoint-1234567`).
fn generation_name(generation: u64) -> String {
    format!("{GENERATION_PREFIX}{generation:06}")
}

/// The generation whose directory is called `name`, if `name` is exactly what
/// [`generation_dir`] writes for one: `checkpoint-000011` is generation 11, while
/// `checkpoint-11`, `checkpoint-0000011` and `checkpoint-notes` are no checkpoint's
/// (a work directory the user gave may hold such entries of their own).
pub fn generation_of(name: &str) -> Option<u64> {
    let generation = name.strip_prefix(GENERATION_PREFIX)?.parse::<u64>().ok()?;
    // The round trip refuses a sign, other padding and anything else `parse` takes.
    (generation_name(generation) == name).then_some(generation)
}

/// Writes worker `worker`'s file into checkpoint directory `dir`.
pub fn write_worker(
    dir: &Path,
    worker: usize,
    table: &FingerprintSet,
    frontier: &Frontier,
    counters: WorkerCounters,
    log_entries: u64,
    partial: Option<&PartialLevel>,
) -> Result<WorkerFile, CheckpointError> {
    let name = worker_file_name(worker);
    let path = dir.join(&name);
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = HashingWriter {
        inner: BufWriter::with_capacity(1 << 18, file),
        hash: Xxh3::new(),
        bytes: 0,
    };
    let write = |w: &mut HashingWriter<BufWriter<File>>| -> io::Result<()> {
        w.put(WORKER_MAGIC)?;
        w.put_u64(u64::from(FORMAT_VERSION))?;
        w.put_u64(worker as u64)?;
        w.put_u64(counters.generated)?;
        w.put_u64(counters.expanded)?;
        w.put_u64(log_entries)?;
        w.put_u64(table.len() as u64)?;
        for fp in table.iter() {
            w.put_u64(fp)?;
        }
        w.put_u64(frontier.first_index())?;
        write_frontier(w, frontier)?;
        match partial {
            None => w.put_u64(0)?,
            Some(p) => {
                w.put_u64(1)?;
                w.put_u64(p.expanded)?;
                let r = &p.report;
                w.put_u64(r.expanded)?;
                w.put_u64(r.generated)?;
                w.put_u64(r.deadlocks)?;
                w.put_u64(r.errors.deadlock.unwrap_or(0))?;
                let (fp, index) = r.errors.invariant.unwrap_or((0, 0));
                w.put_u64(fp)?;
                w.put_u64(u64::from(index))?;
                w.put_u64(p.log.len() as u64)?;
                for e in &p.log {
                    w.put_u64(e.entry.fp)?;
                    w.put_u64(e.entry.parent.0)?;
                    w.put_u64(e.parent_fp)?;
                }
                write_frontier(w, &p.next)?;
            }
        }
        let checksum = w.hash.digest();
        w.inner.write_all(&checksum.to_le_bytes())?;
        w.bytes += 8;
        w.inner.flush()?;
        w.inner.get_ref().sync_all()
    };
    write(&mut w).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(WorkerFile {
        file: name,
        bytes: w.bytes,
        checksum: format!("{:016x}", file_checksum(&path)?),
        log_entries,
    })
}

/// Writes a frontier: its length, then `(count, layout, bytes, states)` per chunk,
/// then an end marker.
fn write_frontier<W: Write>(w: &mut HashingWriter<W>, frontier: &Frontier) -> io::Result<()> {
    w.put_u64(frontier.len())?;
    frontier.for_each_chunk(|chunk| {
        w.put_u64(chunk.len() as u64)?;
        w.put_u64(chunk.layout_code())?;
        w.put_u64(chunk.raw_bytes().len() as u64)?;
        w.put(chunk.raw_bytes())
    })?;
    w.put_u64(u64::MAX)
}

/// XXH3-64 of a whole file.
fn file_checksum(path: &Path) -> Result<u64, CheckpointError> {
    let mut f = BufReader::new(regular_file::open_regular(path, false).map_err(io_err(path))?);
    let mut hash = Xxh3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok(hash.digest());
        }
        hash.update(&buf[..n]);
    }
}

/// Writes the manifest into `dir`, then makes `dir` the current checkpoint of `workdir`
/// and removes older ones.
pub fn commit(workdir: &Path, dir: &Path, manifest: &Manifest) -> Result<(), CheckpointError> {
    let json = serde_json::to_string_pretty(manifest).expect("manifest serialises");
    let checksum = xxhash_rust::xxh3::xxh3_64(json.as_bytes());
    let text = format!("{json}\n{checksum:016x}\n");
    write_atomically(&dir.join("manifest.json"), text.as_bytes())?;
    sync_dir(dir)?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("checkpoint directories have plain names");
    write_atomically(&workdir.join(CURRENT), format!("{name}\n").as_bytes())?;
    sync_dir(workdir)?;
    remove_other_generations(workdir, Some(name))
}

/// The name of the checkpoint directory `CURRENT` names; an error if there is no
/// `CURRENT`, it cannot be read, or it names no checkpoint directory.
fn current_name(workdir: &Path) -> Result<String, CheckpointError> {
    let current = workdir.join(CURRENT);
    let text = regular_file::read_limited_text(&current, CURRENT_LIMIT).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            invalid(workdir, "no checkpoint here (no CURRENT file)")
        } else {
            io_err(&current)(e)
        }
    })?;
    let name = text.trim();
    if generation_of(name).is_none() {
        return Err(invalid(&current, "does not name a checkpoint directory"));
    }
    Ok(name.to_string())
}

/// Removes `dir`, a checkpoint directory of `workdir` made for a checkpoint, unless
/// `CURRENT` names it (it was committed): what a checkpoint that failed part-way (a
/// full disk, a worker's error) or was never written left. Failures are ignored.
pub fn discard_uncommitted(workdir: &Path, dir: &Path) {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    if current_name(workdir).ok().as_deref() != Some(name) && holds_only_checkpoint_files(dir) {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Removes the checkpoint directories of `workdir` that nothing can resume: all but
/// the one `CURRENT` names, or all of them if there is no `CURRENT` (a fresh run). A
/// run that was killed while it wrote a checkpoint leaves one; a commit removes them
/// too, but a resumed run that writes no checkpoint would not. Nothing is removed if
/// `CURRENT` exists but cannot be read (the user may want to repair it).
pub fn remove_debris(workdir: &Path) -> Result<(), CheckpointError> {
    match current_name(workdir) {
        Ok(keep) => remove_other_generations(workdir, Some(&keep)),
        Err(_) if !holds_checkpoint(workdir) => remove_other_generations(workdir, None),
        Err(_) => Ok(()),
    }
}

/// Removes every checkpoint directory of `workdir` but `keep` (if any): older generations, and
/// any a crashed run left before its manifest. Only directories named as
/// [`generation_dir`] names them and holding nothing but a checkpoint's files are
/// touched, never another entry whose name merely looks like one (the user's
/// `checkpoint-notes/`, or a `checkpoint-20240101/` with their results in it).
/// Failures are ignored: a leftover generation costs disk space, nothing else.
fn remove_other_generations(workdir: &Path, keep: Option<&str>) -> Result<(), CheckpointError> {
    for entry in fs::read_dir(workdir).map_err(io_err(workdir))?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if Some(name) != keep
            && generation_of(name).is_some()
            && holds_only_checkpoint_files(&entry.path())
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

/// Whether `dir` is a directory whose entries are all files a checkpoint is written
/// as: `manifest.json`, `worker-<w>.bin`, or their temporary `.tmp` (empty, it is one
/// a crash left before any).
fn holds_only_checkpoint_files(dir: &Path) -> bool {
    let is_checkpoint_file = |name: &str| {
        let stem = name
            .strip_suffix(".json")
            .or_else(|| name.strip_suffix(".bin"))
            .or_else(|| name.strip_suffix(".tmp"));
        match stem {
            Some("manifest") => true,
            Some(stem) => stem
                .strip_prefix("worker-")
                .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())),
            None => false,
        }
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.into_iter().all(|e| {
        e.ok().is_some_and(|e| {
            e.file_type().is_ok_and(|t| t.is_file())
                && e.file_name().to_str().is_some_and(is_checkpoint_file)
        })
    })
}

/// Whether `workdir` holds a checkpoint to resume (a `CURRENT` file, valid or not).
pub fn holds_checkpoint(workdir: &Path) -> bool {
    workdir.join(CURRENT).exists()
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

/// The name of worker `worker`'s file in a checkpoint directory.
fn worker_file_name(worker: usize) -> String {
    format!("worker-{worker}.bin")
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

/// A worker's state read back from its checkpoint file.
pub struct LoadedWorker {
    /// The visited table.
    pub table: FingerprintSet,
    /// The frontier to expand next.
    pub frontier: Frontier,
    /// Its counters.
    pub counters: WorkerCounters,
    /// The level interrupted part-way, if any.
    pub partial: Option<PartialLevel>,
}

/// Reads worker `worker`'s file (of a run of `workers`) described by `entry` from
/// checkpoint directory `dir`, verifying its size and checksum first, then its
/// contents: every fingerprint is one this worker owns, the table holds exactly the
/// states of the parent log and of the partial level, the frontier ends the log and
/// its states are distinct states of the table that this worker owns, a partial
/// level's states are not the frontier's and are, in order, its log entries', and its
/// report names states it can. `frontier` and `next_frontier` receive the frontier's
/// states and, for a level interrupted part-way, the next level's (they may spill).
pub fn read_worker(
    dir: &Path,
    worker: usize,
    workers: usize,
    entry: &WorkerFile,
    frontier: Frontier,
    next_frontier: Frontier,
) -> Result<LoadedWorker, CheckpointError> {
    let path = dir.join(&entry.file);
    let bytes = fs::metadata(&path).map_err(io_err(&path))?.len();
    if bytes != entry.bytes {
        return Err(invalid(
            &path,
            format!(
                "is {bytes} bytes, the manifest says {} (truncated?)",
                entry.bytes
            ),
        ));
    }
    if format!("{:016x}", file_checksum(&path)?) != entry.checksum {
        return Err(invalid(&path, "checksum mismatch: the file is corrupted"));
    }
    let mut r = Reader {
        inner: BufReader::with_capacity(
            1 << 20,
            regular_file::open_regular(&path, false).map_err(io_err(&path))?,
        ),
        path: &path,
        bytes,
    };
    let magic = r.word()?.to_le_bytes();
    if &magic != WORKER_MAGIC || r.word()? != u64::from(FORMAT_VERSION) {
        return Err(invalid(
            &path,
            "not a worker checkpoint of this format version",
        ));
    }
    if r.word()? != worker as u64 {
        return Err(invalid(&path, format!("is not worker {worker}'s file")));
    }
    let counters = WorkerCounters {
        generated: r.word()?,
        expanded: r.word()?,
    };
    if r.word()? != entry.log_entries {
        return Err(invalid(&path, "log length disagrees with the manifest"));
    }
    let table_len = r.count(8)?;
    let mut table = FingerprintSet::for_owner(worker, workers, table_len as usize);
    for _ in 0..table_len {
        let fp = r.word()?;
        // Before the insert: the table holds only its worker's fingerprints.
        if fp != 0 && owner_of(fp, workers) != worker {
            return Err(invalid(
                &path,
                format!("the table holds fingerprint {fp:#018x}, which is not worker {worker}'s"),
            ));
        }
        if fp == 0 || !table.insert(fp) {
            return Err(invalid(&path, "table holds a zero or repeated fingerprint"));
        }
    }
    let first_index = r.word()?;
    // The frontier's states are stored ones: no more than the table holds. Each is
    // checked and marked in the table as it is read (the marks are cleared once the
    // file is read); the first problem is reported once the table's size is checked,
    // which names a table that lost a state more plainly.
    let mut frontier_problem = None;
    let mut frontier = r.frontier(frontier, table_len, |first, fingerprints| {
        if frontier_problem.is_none() {
            frontier_problem =
                check_frontier_states(&mut table, worker, workers, first, fingerprints).err();
        }
    })?;
    if first_index.checked_add(frontier.len()) != Some(entry.log_entries) {
        // The frontier holds the end of the log's last level, in log order.
        return Err(invalid(&path, "frontier does not end the parent log"));
    }
    frontier.set_first_index(first_index);
    let partial = match r.word()? {
        0 => None,
        1 => {
            let expanded = r.word()?;
            if expanded > frontier.len() {
                return Err(invalid(
                    &path,
                    format!(
                        "the partial level has expanded {expanded} states of a frontier of {}",
                        frontier.len()
                    ),
                ));
            }
            let mut report = LevelReport {
                expanded: r.word()?,
                generated: r.word()?,
                deadlocks: r.word()?,
                ..LevelReport::default()
            };
            let deadlock = r.word()?;
            if deadlock != 0 {
                // A state of the frontier: in this worker's table if it is this
                // worker's (a state of another worker's frontier may have been
                // expanded here as part of a share).
                if owner_of(deadlock, workers) == worker && !table.contains(deadlock) {
                    return Err(invalid(
                        &path,
                        format!(
                            "the partial level reports a deadlock of state {deadlock:#018x}, which the table does not hold"
                        ),
                    ));
                }
                report.errors.note_deadlock(deadlock);
            }
            let (fp, index) = (r.word()?, r.word()?);
            if fp != 0 {
                let index =
                    u32::try_from(index).map_err(|_| invalid(&path, "bad invariant index"))?;
                report.errors.note_invariant(fp, index);
            }
            let entries = r.count(24)?;
            if table_len.checked_sub(entries) != Some(entry.log_entries) {
                return Err(invalid(
                    &path,
                    format!(
                        "the table holds {table_len} states, the parent log and the partial level {} between them",
                        u128::from(entry.log_entries) + u128::from(entries)
                    ),
                ));
            }
            // The level's states are checked against the frontier's marks, which are
            // complete only for a frontier without a problem.
            if let Some(problem) = frontier_problem.take() {
                return Err(invalid(&path, problem));
            }
            let mut log = Vec::with_capacity(entries as usize);
            for _ in 0..entries {
                let fp = r.word()?;
                let parent = ParentRef(r.word()?);
                let parent_fp = r.word()?;
                check_partial_level_entry(&mut table, fp).map_err(|m| invalid(&path, m))?;
                log.push(LevelEntry {
                    entry: LogEntry { fp, parent },
                    parent_fp,
                });
            }
            let mut fps: Vec<u64> = log.iter().map(|e| e.entry.fp).collect();
            fps.sort_unstable();
            if fps.windows(2).any(|w| w[0] == w[1]) {
                return Err(invalid(&path, "a partial level holds a state twice"));
            }
            if let Some((fp, _)) = report.errors.invariant {
                // Found among the states this worker stored in the level.
                if fps.binary_search(&fp).is_err() {
                    return Err(invalid(
                        &path,
                        format!(
                            "the partial level reports an invariant violation by state {fp:#018x}, which is not among its states"
                        ),
                    ));
                }
            }
            drop(fps);
            let mut next_problem = None;
            let mut next = r.frontier(next_frontier, entries, |first, fingerprints| {
                if next_problem.is_none() {
                    next_problem = check_partial_level_states(&log, first, fingerprints).err();
                }
            })?;
            if let Some(problem) = next_problem {
                return Err(invalid(&path, problem));
            }
            if next.len() != entries {
                return Err(invalid(&path, "partial level: state count disagrees"));
            }
            // The level's states follow the sealed log, in log order.
            next.set_first_index(entry.log_entries);
            Some(PartialLevel {
                expanded,
                report,
                log,
                next,
            })
        }
        _ => return Err(invalid(&path, "malformed partial-level flag")),
    };
    if partial.is_none() && table_len != entry.log_entries {
        return Err(invalid(
            &path,
            format!(
                "the table holds {table_len} states, the parent log {}",
                entry.log_entries
            ),
        ));
    }
    if let Some(problem) = frontier_problem {
        return Err(invalid(&path, problem));
    }
    table.clear_marks();
    Ok(LoadedWorker {
        table,
        frontier,
        counters,
        partial,
    })
}

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
fn check_frontier_states(
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
fn check_partial_level_entry(table: &mut FingerprintSet, fp: u64) -> Result<(), String> {
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
fn check_partial_level_states(
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

/// Reads a worker file's fields, mapping every failure to a one-line error.
struct Reader<'a> {
    inner: BufReader<File>,
    path: &'a Path,
    bytes: u64,
}

impl Reader<'_> {
    fn word(&mut self) -> Result<u64, CheckpointError> {
        let mut b = [0u8; 8];
        self.inner.read_exact(&mut b).map_err(io_err(self.path))?;
        Ok(u64::from_le_bytes(b))
    }

    /// A count of items of `size` bytes, refused if the file cannot hold them.
    fn count(&mut self, size: u64) -> Result<u64, CheckpointError> {
        let n = self.word()?;
        if n > self.bytes / size {
            return Err(invalid(self.path, "a length exceeds the file"));
        }
        Ok(n)
    }

    /// A frontier of at most `most` states; the fingerprints of each chunk of them are
    /// shown to `inspect`, with the position of the chunk's first state, as the chunk
    /// is kept.
    fn frontier(
        &mut self,
        mut into: Frontier,
        most: u64,
        mut inspect: impl FnMut(u64, &[Fingerprint]),
    ) -> Result<Frontier, CheckpointError> {
        let len = self.word()?;
        if len > most {
            return Err(invalid(
                self.path,
                format!("a frontier of {len} states, more than the {most} stored"),
            ));
        }
        let mut chunk = StateChunk::new();
        let mut raw = Vec::new();
        let mut fingerprints = Vec::new();
        let mut read = 0u64;
        loop {
            let count = self.word()?;
            if count == u64::MAX {
                break;
            }
            // Checked before the states are copied: a count of empty states is
            // bounded by nothing else.
            read = read
                .checked_add(count)
                .filter(|&n| n <= len)
                .ok_or_else(|| invalid(self.path, "frontier length disagrees with its header"))?;
            let layout = self.word()?;
            let bytes = self.count(1)?;
            raw.resize(bytes as usize, 0);
            self.inner.read_exact(&mut raw).map_err(io_err(self.path))?;
            let count =
                usize::try_from(count).map_err(|_| invalid(self.path, "malformed frontier"))?;
            chunk
                .load_raw(layout, &raw, count)
                .map_err(|_| invalid(self.path, "malformed frontier"))?;
            fingerprints.clear();
            fingerprints.extend(chunk.iter().map(fingerprint));
            inspect(into.len(), &fingerprints);
            for state in chunk.iter() {
                into.push(state);
            }
        }
        if into.len() != len {
            return Err(invalid(
                self.path,
                "frontier length disagrees with its header",
            ));
        }
        if let Some(e) = into.take_error() {
            return Err(io_err(self.path)(e));
        }
        Ok(into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("checkpoint-unit-{}-{name}", std::process::id()));
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
}
