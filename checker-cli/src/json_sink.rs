//! Where a `--json` report goes: opened, and so checked, before any work, and written
//! only once the run is done.
//!
//! The destination may be a regular file, a character device (`/dev/null`,
//! `/dev/stdout` on a terminal) or a FIFO or pipe (`--json >(jq .)`). Opening does not
//! truncate, so that a run refused after the opening leaves an existing file as it
//! was; a regular file is truncated just before the report is written. A FIFO that no
//! process reads is refused at once instead of blocking the open (or, after a whole
//! run, the write) for ever.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// An open `--json` destination. Dropped without a report written, it removes the
/// file it created, if that file is still the one it made and still empty: a run that
/// failed (or panicked) before its report leaves nothing behind, and a report another
/// process wrote there meanwhile is left alone.
#[derive(Debug)]
pub struct JsonSink {
    path: PathBuf,
    file: File,
    /// The device and inode of the file opening it created, if it did (the target of a
    /// dangling symbolic link included).
    created: Option<(u64, u64)>,
    /// Whether the report was written.
    written: Cell<bool>,
}

impl JsonSink {
    /// Opens `path` for writing, creating a file that does not exist and truncating
    /// nothing; refuses a directory, a path that cannot be opened, and a FIFO that no
    /// process is reading, each with a one-line message naming `--json path`.
    pub fn open(path: &Path) -> Result<JsonSink, CliError> {
        if path.is_dir() {
            return Err(fail(path, "is a directory"));
        }
        // Follows a symbolic link: one that dangles names a file this run creates.
        let existed = std::fs::metadata(path).is_ok();
        let file = open_without_blocking(path).map_err(|e| open_error(path, &e))?;
        clear_nonblocking(&file).map_err(|e| fail(path, e))?;
        let created = if existed {
            None
        } else {
            let meta = file.metadata().map_err(|e| fail(path, e))?;
            Some((meta.dev(), meta.ino()))
        };
        Ok(JsonSink {
            path: path.to_path_buf(),
            file,
            created,
            written: Cell::new(false),
        })
    }

    /// Writes `text` as the whole content: a regular file is emptied first (devices,
    /// FIFOs and pipes cannot be, and need not be).
    pub fn write(&self, text: &str) -> Result<(), CliError> {
        self.write_with(|out| out.write_all(text.as_bytes()))
    }

    /// Writes what `write` puts out as the whole content (a regular file is emptied
    /// first), through a buffer: a report can be written piece by piece as it is made,
    /// never held whole.
    pub fn write_with(
        &self,
        write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
    ) -> Result<(), CliError> {
        let file = &self.file;
        let regular = file.metadata().map_err(|e| fail(&self.path, e))?.is_file();
        if regular {
            file.set_len(0).map_err(|e| fail(&self.path, e))?;
        }
        let mut out = BufWriter::new(file);
        write(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| fail(&self.path, e))?;
        self.written.set(true);
        Ok(())
    }

    /// The file opening created, if it did, for removing it while it is still empty
    /// from a place that cannot reach the sink: the signal handler, which ends the
    /// process without running destructors.
    pub fn created_file(&self) -> Option<CreatedFile> {
        self.created.map(|(dev, ino)| CreatedFile {
            path: self.path.clone(),
            dev,
            ino,
        })
    }
}

impl Drop for JsonSink {
    fn drop(&mut self) {
        if !self.written.get() {
            if let Some(created) = self.created_file() {
                created.remove_if_empty();
            }
        }
    }
}

/// A `--json` file that [`JsonSink::open`] created.
#[derive(Clone, Debug)]
pub struct CreatedFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl CreatedFile {
    /// Removes the file if it is still the one created and still empty.
    pub fn remove_if_empty(&self) {
        let Some((real, dev, ino)) = self.identity() else {
            return;
        };
        let ours_and_empty = std::fs::metadata(&real)
            .is_ok_and(|m| m.dev() == dev && m.ino() == ino && m.len() == 0);
        if ours_and_empty {
            let _ = std::fs::remove_file(real);
        }
    }

    /// The file's real path (not a symbolic link to it), device and inode; `None` if
    /// the path no longer leads anywhere.
    pub fn identity(&self) -> Option<(PathBuf, u64, u64)> {
        let real = std::fs::canonicalize(&self.path).ok()?;
        Some((real, self.dev, self.ino))
    }
}

/// `--json path: why`, as an input error.
fn fail(path: &Path, why: impl std::fmt::Display) -> CliError {
    CliError::Input(format!("--json {}: {why}", path.display()))
}

/// What to say of a failed open of `path`: a FIFO without a reader by name, any other
/// failure in the system's words.
fn open_error(path: &Path, e: &std::io::Error) -> CliError {
    let is_fifo = || {
        std::fs::metadata(path)
            .map(|m| m.file_type().is_fifo())
            .unwrap_or(false)
    };
    if e.raw_os_error() == Some(libc::ENXIO) && is_fifo() {
        fail(path, "no process is reading this FIFO")
    } else {
        fail(path, e)
    }
}

/// Opens `path` for writing with `O_NONBLOCK` (so that a FIFO without a reader fails
/// with `ENXIO` rather than blocking), creating it if it does not exist and truncating
/// nothing.
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// Clears `O_NONBLOCK` on `file`'s open file description, so that writes to a FIFO or
/// pipe wait for the reader as usual instead of failing with `EAGAIN`.
fn clear_nonblocking(file: &File) -> std::io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is a descriptor `file` owns and keeps open for this call; F_GETFL
    // takes no argument and reads only the descriptor's status flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above; F_SETFL takes an int of status flags and changes only those of
    // this open file description, which no one else shares.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("checker-sink-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn mkfifo(path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    }

    #[test]
    fn an_existing_file_is_kept_until_written_and_then_replaced() {
        let dir = scratch("file");
        let path = dir.join("r.json");
        std::fs::write(&path, "a much longer old content\n").unwrap();
        let sink = JsonSink::open(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "a much longer old content\n"
        );
        sink.write("{}\n").unwrap();
        drop(sink);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_created_file_is_removed_when_dropped_unwritten_and_still_empty() {
        let dir = scratch("created");
        let path = dir.join("r.json");
        drop(JsonSink::open(&path).unwrap());
        assert!(!path.exists());
        // Written meanwhile by someone else: kept.
        let sink = JsonSink::open(&path).unwrap();
        std::fs::write(&path, "another run's report").unwrap();
        drop(sink);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "another run's report"
        );
        // Replaced by another file of that name: kept.
        std::fs::remove_file(&path).unwrap();
        let sink = JsonSink::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "").unwrap();
        drop(sink);
        assert!(path.exists());
        // A dangling link's target is created, and removed again; the link stays.
        let link = dir.join("link.json");
        let target = dir.join("target.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let sink = JsonSink::open(&link).unwrap();
        assert!(target.exists());
        drop(sink);
        assert!(!target.exists());
        assert!(std::fs::symlink_metadata(&link).is_ok());
        // An existing file is never removed, even empty.
        let sink = JsonSink::open(&path).unwrap();
        drop(sink);
        assert!(path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn devices_take_a_report() {
        JsonSink::open(Path::new("/dev/null"))
            .unwrap()
            .write("{}\n")
            .unwrap();
        let full = JsonSink::open(Path::new("/dev/full")).unwrap();
        let err = full.write("{}\n").unwrap_err().to_string();
        assert!(err.contains("No space left on device"), "{err}");
    }

    #[test]
    fn a_fifo_without_a_reader_is_refused_and_one_with_a_reader_written() {
        let dir = scratch("fifo");
        let fifo = dir.join("out.json");
        mkfifo(&fifo);
        let err = JsonSink::open(&fifo).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("--json {}: no process is reading this FIFO", fifo.display())
        );
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        // The reader's open may come after ours: retry until it is there.
        let sink = loop {
            match JsonSink::open(&fifo) {
                Ok(sink) => break sink,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        };
        // Larger than a pipe's buffer: a write that did not block would fail.
        let text = "x".repeat(1 << 20);
        sink.write(&text).unwrap();
        drop(sink);
        assert_eq!(reader.join().unwrap(), text);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_path_in_a_missing_directory_is_refused() {
        let err = JsonSink::open(Path::new("/nonexistent-dir/x.json"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--json /nonexistent-dir/x.json: "), "{err}");
    }
}
