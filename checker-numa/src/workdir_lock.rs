//! One run at a time in a work directory.
//!
//! Two runs in one work directory (two resumes of the same checkpoint, say) would
//! write the same parent logs and checkpoint generations over each other and leave a
//! checkpoint that no longer resumes, or counts and counterexamples that are wrong.
//! A run holds an exclusive advisory lock (`flock`) on the directory's `LOCK` file
//! from before it reads or writes anything there until it returns; the kernel drops
//! it when the process ends, however it ends, so a killed run leaves no stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// The lock file's name inside a work directory.
pub const LOCK_FILE: &str = "LOCK";

/// The held lock on a work directory; released when dropped.
#[derive(Debug)]
pub struct WorkdirLock {
    _file: File,
}

impl WorkdirLock {
    /// Takes the lock on `workdir` (which must exist), or says that another run holds
    /// it, or why the lock file cannot be opened.
    pub fn take(workdir: &Path) -> Result<WorkdirLock, String> {
        let path = workdir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(WorkdirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(format!(
                "the work directory {} is in use by another run (it holds the lock on {}); wait for that run to end",
                workdir.display(),
                path.display()
            )),
            Err(TryLockError::Error(e)) => Err(format!("locking {}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_directory_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("workdir-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = WorkdirLock::take(&dir).unwrap();
        let e = WorkdirLock::take(&dir).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "the work directory {} is in use by another run",
                dir.display()
            )),
            "{e}"
        );
        drop(first);
        let again = WorkdirLock::take(&dir);
        assert!(again.is_ok(), "{again:?}");
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = Path::new("/nonexistent-checker-workdir");
        let e = WorkdirLock::take(dir).unwrap_err();
        assert!(e.starts_with("/nonexistent-checker-workdir/LOCK: "), "{e}");
    }
}
