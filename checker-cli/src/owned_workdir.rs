//! The work directory the CLI makes for a run that was given none
//! (`checker-work-<pid>`): removed when the run no longer needs it, however the run
//! ends (a panic included), unless it holds a checkpoint to resume.

use std::path::PathBuf;

/// A work directory this process made and removes when dropped, unless kept.
#[derive(Debug)]
pub struct OwnedWorkdir(Option<PathBuf>);

impl OwnedWorkdir {
    /// Takes charge of `dir` (which need not exist yet).
    pub fn new(dir: PathBuf) -> Self {
        OwnedWorkdir(Some(dir))
    }

    /// Leaves the directory in place (it holds a checkpoint).
    pub fn keep(mut self) {
        self.0 = None;
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

    fn made(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("checker-owned-{}-{name}", std::process::id()));
        std::fs::create_dir_all(dir.join("checkpoint-1")).unwrap();
        std::fs::write(dir.join("log-0.bin"), b"x").unwrap();
        dir
    }

    #[test]
    fn dropped_it_is_removed_even_when_the_run_panics() {
        let dir = made("panic");
        let owned = OwnedWorkdir::new(dir.clone());
        let run = std::panic::catch_unwind(move || {
            let _owned = owned;
            panic!("the model failed");
        });
        assert!(run.is_err());
        assert!(!dir.exists());
        let dir = made("plain");
        drop(OwnedWorkdir::new(dir.clone()));
        assert!(!dir.exists());
    }

    #[test]
    fn kept_it_stays() {
        let dir = made("kept");
        let owned = OwnedWorkdir::new(dir.clone());
        owned.keep();
        assert!(dir.join("log-0.bin").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
