//! The driver's side of checkpoints: the checkpoint a run resumes from, a resume
//! answered from its manifest alone, the generation number of a new checkpoint, and
//! the removal of one a segment made but did not commit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use checker_core::{CheckOptions, Model, StopReason, Verdict};

use crate::checkpoint::{self, Manifest};
use crate::placement::PlacementPlan;
use crate::process_limits::MemoryBudget;
use crate::resume_limits::limit_on_resume;
use crate::telemetry::{Telemetry, WorkerTelemetry};

use super::{outcome_of, EngineError, ParallelOutcome, Persistence};

/// A checkpoint directory made for a segment, removed when the segment is done with
/// it unless it was committed ([`checkpoint::discard_uncommitted`]).
pub(super) struct UncommittedCheckpoint<'a> {
    pub(super) workdir: &'a Path,
    pub(super) dir: &'a Path,
}

impl Drop for UncommittedCheckpoint<'_> {
    fn drop(&mut self) {
        checkpoint::discard_uncommitted(self.workdir, self.dir);
    }
}

/// The generation number for a new checkpoint directory: one past any in `workdir`
/// (a resumed run continues the numbering of the run it resumes); only names a
/// generation is written under count ([`checkpoint::generation_of`]).
pub(super) fn next_generation(workdir: &Path) -> Result<u64, EngineError> {
    let newest = std::fs::read_dir(workdir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| checkpoint::generation_of(e.file_name().to_str()?))
        .max()
        .unwrap_or(0);
    newest.checked_add(1).ok_or_else(|| {
        EngineError::Config(format!(
            "{} holds checkpoint generation {newest}, the last there can be; move it away or use another work directory",
            workdir.display()
        ))
    })
}

/// The outcome of a run resumed with a limit that its checkpoint already reaches
/// ([`limit_on_resume`]): a fresh run with that limit ends at the checkpoint's level
/// end, with the checkpoint's counts, so they are the answer. Nothing of the workers'
/// files is read (for a large checkpoint, its tables, frontiers and logs took the time
/// of a long load to answer from the manifest alone), no thread is started, and the
/// checkpoint, with any level saved part-way, is left to be resumed without the limit.
pub(super) fn ended_at_the_checkpoint<M: Model>(
    model: &M,
    manifest: Manifest,
    reason: StopReason,
    plan: PlacementPlan,
    memory_budget: Option<MemoryBudget>,
) -> ParallelOutcome {
    let workers = plan
        .workers
        .iter()
        .zip(&manifest.worker_files)
        .map(|(placement, file)| WorkerTelemetry {
            worker: placement.worker,
            node: placement.node,
            owned: file.log_entries,
            ..WorkerTelemetry::default()
        })
        .collect();
    let totals = manifest.totals;
    ParallelOutcome {
        telemetry: Telemetry::from_workers(workers, &totals.level_sizes),
        outcome: outcome_of(
            model,
            totals,
            Verdict::Partial { reason },
            Duration::from_secs_f64(manifest.elapsed_s),
        ),
        plan,
        checkpoint: None,
        checkpoints_written: 0,
        memory_budget,
        answered_from_checkpoint: true,
        expansion_shared: false,
    }
}

/// The checkpoint a run resumes from.
pub(super) struct ResumePoint {
    /// Its generation directory.
    pub(super) dir: PathBuf,
    /// Its manifest.
    pub(super) manifest: Manifest,
    /// Set when a limit given again is reached at the checkpoint (see
    /// [`limit_on_resume`]).
    pub(super) ends_at_once: Option<StopReason>,
}

/// Reads and validates the checkpoint to resume from.
pub(super) fn resume_point<M: Model>(
    p: &Persistence,
    model: &M,
    options: &CheckOptions<'_>,
) -> Result<ResumePoint, EngineError> {
    let (dir, manifest) = checkpoint::read_current(&p.workdir)?;
    let theirs = &manifest.identity;
    let ours = &p.identity;
    if theirs.model_spec != ours.model_spec {
        return Err(EngineError::Config(format!(
            "the checkpoint in {} is for `{}`, not `{}`",
            p.workdir.display(),
            theirs.model_spec.join(" "),
            ours.model_spec.join(" ")
        )));
    }
    if theirs.model_name != model.name() {
        return Err(EngineError::Config(format!(
            "the checkpoint in {} is for the model named `{}`, this is `{}`",
            p.workdir.display(),
            theirs.model_name,
            model.name()
        )));
    }
    if theirs.model_digest != ours.model_digest {
        return Err(EngineError::Config(format!(
            "the checkpoint in {} was taken with a different version of `{}`",
            p.workdir.display(),
            ours.model_spec.join(" ")
        )));
    }
    // Levels already expanded were checked for deadlocks, or not, as the checkpoint
    // says; the rest of the run must do the same. (The limits may change.)
    if manifest.settings.check_deadlock != options.check_deadlock {
        let on_off = |on: bool| if on { "on" } else { "off (`--no-deadlock`)" };
        return Err(EngineError::Config(format!(
            "the checkpoint in {} was taken with deadlock checking {}; resume it with the same setting, not {}",
            p.workdir.display(),
            on_off(manifest.settings.check_deadlock),
            on_off(options.check_deadlock)
        )));
    }
    // Limits given again replace the saved ones; one that a fresh run would have
    // stopped at before this checkpoint cannot be answered from it.
    let ends_at_once = limit_on_resume(options, &manifest.totals).map_err(|e| {
        EngineError::Config(format!("the checkpoint in {} {e}", p.workdir.display()))
    })?;
    Ok(ResumePoint {
        dir,
        manifest,
        ends_at_once,
    })
}
