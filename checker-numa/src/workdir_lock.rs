//! One run at a time in a work directory.
//!
//! Two runs in one work directory (two resumes of the same checkpoint, say) would
//! write the same parent logs and checkpoint generations over each other and leave a
//! checkpoint that no longer resumes, or counts and counterexamples that are wrong.
//! A run holds an exclusive advisory lock (`flock`) on the directory's `LOCK` file
//! from before it reads or writes anything there until it returns; the kernel drops
//! it when the process ends, however it ends, so a killed run leaves no stale lock.
//! On a file system that has no `flock` (Lustre without `-o flock`, NFSv3 without
//! `lockd`) the run goes on without the lock, as it did before there was one; NFS
//! mounted with `local_lock=flock` locks only against runs on the same client.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use checker_core::regular_file;

/// The lock file's name inside a work directory.
pub const LOCK_FILE: &str = "LOCK";

/// The lock on a work directory, held until dropped (or, where the file system has
/// no `flock`, not held at all).
#[derive(Debug)]
pub struct WorkdirLock {
    _file: File,
    /// Whether the lock is held: false where the file system cannot lock.
    pub held: bool,
}

impl WorkdirLock {
    /// Takes the lock on `workdir` (which must exist), or says that another run holds
    /// it, or why it cannot be taken, in one line.
    pub fn take(workdir: &Path) -> Result<WorkdirLock, String> {
        let path = workdir.join(LOCK_FILE);
        let cannot = |e: std::io::Error| {
            format!(
                "cannot lock the work directory {}: {}: {e}",
                workdir.display(),
                path.display()
            )
        };
        // `flock` needs no write access: an existing lock file (another user's) is
        // opened for reading.
        let file = match regular_file::open_regular(&path, false) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(cannot)?,
            Err(e) => return Err(cannot(e)),
        };
        match file.try_lock() {
            Ok(()) => Ok(WorkdirLock {
                _file: file,
                held: true,
            }),
            Err(TryLockError::WouldBlock) => Err(format!(
                "the work directory {} is in use by another run (it holds the lock on {}); wait for that run to end",
                workdir.display(),
                path.display()
            )),
            Err(TryLockError::Error(e)) if cannot_lock_here(&e) => Ok(WorkdirLock {
                _file: file,
                held: false,
            }),
            Err(TryLockError::Error(e)) => Err(cannot(e)),
        }
    }
}

/// Whether `e` says that the file system has no `flock` at all, rather than that
/// this lock failed.
fn cannot_lock_here(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSYS | libc::ENOLCK | libc::EOPNOTSUPP)
    )
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
        assert!(again.as_ref().is_ok_and(|l| l.held), "{again:?}");
        drop(again);
        // A lock file that cannot be written to (another user's) still locks.
        let path = dir.join(LOCK_FILE);
        let mut read_only = std::fs::metadata(&path).unwrap().permissions();
        read_only.set_readonly(true);
        std::fs::set_permissions(&path, read_only).unwrap();
        let first = WorkdirLock::take(&dir).unwrap();
        assert!(first.held);
        assert!(WorkdirLock::take(&dir).is_err());
        drop(first);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = Path::new("/nonexistent-checker-workdir");
        let e = WorkdirLock::take(dir).unwrap_err();
        assert!(
            e.starts_with("cannot lock the work directory /nonexistent-checker-workdir: /nonexistent-checker-workdir/LOCK: "),
            "{e}"
        );
    }

    #[test]
    fn only_a_file_system_without_flock_is_run_unlocked() {
        for errno in [libc::ENOSYS, libc::ENOLCK, libc::EOPNOTSUPP] {
            assert!(cannot_lock_here(&std::io::Error::from_raw_os_error(errno)));
        }
        assert!(!cannot_lock_here(&std::io::Error::from_raw_os_error(
            libc::EACCES
        )));
        assert!(!cannot_lock_here(&std::io::Error::other("no errno")));
    }
}
