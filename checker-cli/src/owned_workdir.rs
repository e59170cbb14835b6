//! The work directory the CLI makes for a run that was given none
//! (`checker-work-<pid>`): removed when the run no longer needs it, however the run
//! ends (a panic included), unless it holds a checkpoint to resume. Only a directory
//! this process created is ever removed: a name that is taken (a checkpoint kept by an
//! earlier process with the same id, or the user's own directory) is left alone.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Names tried for a new work directory (`stem`, `stem-2`, … `stem-MAX_TRIES`) before
/// giving up.
const MAX_TRIES: u32 = 100;

/// A work directory this process made and removes when dropped, unless kept.
#[derive(Debug)]
pub struct OwnedWorkdir(Option<PathBuf>);

impl OwnedWorkdir {
    /// Creates a new directory in `parent` and takes charge of it: `stem` if no such
    /// entry exists, else the first of `stem-2`, `stem-3`, … that does not. Fails,
    /// with a one-line message, when the directory cannot be made or every name tried
    /// is taken.
    pub fn create_in(parent: &Path, stem: &str) -> Result<Self, String> {
        for n in 1..=MAX_TRIES {
            let dir = parent.join(candidate_name(stem, n));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(OwnedWorkdir(Some(dir))),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot make a work directory {}: {e}",
                        dir.display()
                    ))
                }
            }
        }
        Err(format!(
            "cannot make a work directory in {}: {stem} and {stem}-2 to {stem}-{MAX_TRIES} all exist; remove some or give --workdir",
            parent.display()
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.0
            .as_deref()
            .expect("an owned work directory has a path until dropped")
    }

    /// Leaves the directory in place (it holds a checkpoint).
    pub fn keep(mut self) {
        self.0 = None;
    }
}

/// The `n`th name tried for a directory `stem`: `stem` itself, then `stem-n`.
fn candidate_name(stem: &str, n: u32) -> String {
    if n == 1 {
        stem.to_string()
    } else {
        format!("{stem}-{n}")
    }
}

impl Drop for OwnedWorkdir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("checker-owned-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A new work directory in `parent` with files in it, as a run leaves it.
    fn made(parent: &Path) -> OwnedWorkdir {
        let owned = OwnedWorkdir::create_in(parent, "work").unwrap();
        std::fs::create_dir_all(owned.path().join("checkpoint-1")).unwrap();
        std::fs::write(owned.path().join("log-0.bin"), b"x").unwrap();
        owned
    }

    #[test]
    fn dropped_it_is_removed_even_when_the_run_panics() {
        let parent = scratch("panic");
        let owned = made(&parent);
        let dir = owned.path().to_path_buf();
        let run = std::panic::catch_unwind(move || {
            let _owned = owned;
            panic!("the model failed");
        });
        assert!(run.is_err());
        assert!(!dir.exists());
        let owned = made(&parent);
        let dir = owned.path().to_path_buf();
        drop(owned);
        assert!(!dir.exists());
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn kept_it_stays() {
        let parent = scratch("kept");
        let owned = made(&parent);
        let dir = owned.path().to_path_buf();
        owned.keep();
        assert!(dir.join("log-0.bin").exists());
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn an_existing_entry_of_that_name_is_passed_over_and_left_alone() {
        let parent = scratch("taken");
        std::fs::create_dir(parent.join("work")).unwrap();
        std::fs::write(parent.join("work").join("notes.txt"), b"mine").unwrap();
        std::fs::write(parent.join("work-2"), b"a file").unwrap();
        let owned = OwnedWorkdir::create_in(&parent, "work").unwrap();
        assert_eq!(owned.path(), parent.join("work-3"));
        drop(owned);
        assert!(!parent.join("work-3").exists());
        assert!(parent.join("work").join("notes.txt").exists());
        assert!(parent.join("work-2").is_file());
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn every_name_taken_is_one_line_naming_the_way_out() {
        let parent = scratch("full");
        for n in 1..=MAX_TRIES {
            std::fs::create_dir(parent.join(candidate_name("work", n))).unwrap();
        }
        let err = OwnedWorkdir::create_in(&parent, "work").unwrap_err();
        assert!(!err.contains('\n') && err.contains("--workdir"), "{err}");
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_missing_parent_is_refused() {
        let err = OwnedWorkdir::create_in(Path::new("/nonexistent-parent"), "work").unwrap_err();
        assert!(
            err.starts_with("cannot make a work directory /nonexistent-parent/work: "),
            "{err}"
        );
    }
}
