//! A work directory's checkpoint generations: `checkpoint-<gen>` directories, the
//! `CURRENT` file naming the newest complete one, the commit that switches it, and the
//! removal of generations nothing can resume.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use checker_core::regular_file;

use super::{invalid, io_err, CheckpointError, Manifest};

pub(super) const CURRENT: &str = "CURRENT";

/// The most bytes of `CURRENT` read: it holds one directory name.
const CURRENT_LIMIT: u64 = 4096;

/// What the name of every checkpoint directory starts with (see [`generation_name`]).
const GENERATION_PREFIX: &str = "checkpoint-";

/// The directory of checkpoint generation `generation` in `workdir`.
pub fn generation_dir(workdir: &Path, generation: u64) -> PathBuf {
    workdir.join(generation_name(generation))
}

/// The name of generation `generation`'s directory: the prefix and the number, zero
/// padded to at least six digits (`checkpoint-000011`, `checkpoint-1234567`).
pub(super) fn generation_name(generation: u64) -> String {
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
pub(super) fn current_name(workdir: &Path) -> Result<String, CheckpointError> {
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
