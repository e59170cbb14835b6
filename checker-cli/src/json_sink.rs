//! Where a `--json` report goes: opened, and so checked, before any work, and written
//! only once the run is done.
//!
//! The destination may be a regular file, a character device (`/dev/null`,
//! `/dev/stdout` on a terminal) or a FIFO or pipe (`--json >(jq .)`). Opening does not
//! truncate, so that a run refused after the opening leaves an existing file as it
//! was; a regular file is truncated just before the report is written. A FIFO that no
//! process reads is refused at once instead of blocking the open (or, after a whole
//! run, the write) for ever.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// An open `--json` destination.
#[derive(Debug)]
pub struct JsonSink {
    path: PathBuf,
    file: File,
    /// Whether opening it created the file (removed again by [`JsonSink::discard`]).
    created: bool,
}

impl JsonSink {
    /// Opens `path` for writing, creating a file that does not exist and truncating
    /// nothing; refuses a directory, a path that cannot be opened, and a FIFO that no
    /// process is reading, each with a one-line message naming `--json path`.
    pub fn open(path: &Path) -> Result<JsonSink, CliError> {
        if path.is_dir() {
            return Err(fail(path, "is a directory"));
        }
        let (file, created) = open_without_blocking(path).map_err(|e| open_error(path, &e))?;
        clear_nonblocking(&file).map_err(|e| fail(path, e))?;
        Ok(JsonSink {
            path: path.to_path_buf(),
            file,
            created,
        })
    }

    /// Writes `text` as the whole content: a regular file is emptied first (devices,
    /// FIFOs and pipes cannot be, and need not be).
    pub fn write(&self, text: &str) -> Result<(), CliError> {
        let mut file = &self.file;
        let regular = file.metadata().map_err(|e| fail(&self.path, e))?.is_file();
        if regular {
            file.set_len(0).map_err(|e| fail(&self.path, e))?;
        }
        file.write_all(text.as_bytes())
            .map_err(|e| fail(&self.path, e))
    }

    /// Closes it, removing the file if opening it created it: a run that wrote no
    /// report leaves no empty or partial file behind.
    pub fn discard(self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
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
/// with `ENXIO` rather than blocking), creating it if it does not exist; says whether
/// it was created. A name that exists (a dangling symbolic link included) is opened
/// as it is, following the link.
fn open_without_blocking(path: &Path) -> std::io::Result<(File, bool)> {
    let options = |create_new: bool| {
        let mut options = OpenOptions::new();
        options
            .write(true)
            .create(true)
            .create_new(create_new)
            .truncate(false)
            .custom_flags(libc::O_NONBLOCK);
        options
    };
    match options(true).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((options(false).open(path)?, false)),
        Err(e) => Err(e),
    }
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
        sink.discard();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_created_file_is_removed_when_discarded() {
        let dir = scratch("created");
        let path = dir.join("r.json");
        JsonSink::open(&path).unwrap().discard();
        assert!(!path.exists());
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
