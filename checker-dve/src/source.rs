//! Reading a model file: a regular file only (never a FIFO, a device or a directory),
//! and never more than [`MAX_SOURCE_BYTES`].

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use crate::error::DveError;

/// The largest DVE file [`read_source`] reads: 64 MiB (the largest BEEM model has
/// under 100 KiB).
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Reads the DVE file at `path` and returns its bytes exactly as read (not yet checked
/// to be UTF-8; [`crate::DveModel::from_file`] does that).
///
/// Refuses, with a one-line [`DveError`] that names `path` as given:
/// * anything that is not a regular file once symbolic links are followed (a
///   directory, a FIFO, a socket, a device such as `/dev/zero`), judged from its
///   metadata before it is opened, so a FIFO is never opened and cannot block;
/// * a file of more than [`MAX_SOURCE_BYTES`], judged from its size and again while
///   reading, so a file that grows meanwhile is not read past the limit either;
/// * a file that cannot be opened or read (the system's reason follows).
///
/// ```
/// let path = std::env::temp_dir();
/// let err = checker_dve::read_source(&path).unwrap_err();
/// assert!(err.to_string().ends_with("cannot read the model: not a regular file (a directory)"));
/// ```
pub fn read_source(path: &Path) -> Result<Vec<u8>, DveError> {
    read_limited(path, MAX_SOURCE_BYTES)
}

/// [`read_source`] with a limit of `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, DveError> {
    let shown = path.display().to_string();
    let refuse =
        |why: &str| DveError::without_position(&shown, format!("cannot read the model: {why}"));
    let too_large = || refuse(&format!("the file is larger than {}", limit_text(limit)));
    let metadata = std::fs::metadata(path).map_err(|e| refuse(&e.to_string()))?;
    if let Some(kind) = not_a_file(&metadata) {
        return Err(refuse(&format!("not a regular file ({kind})")));
    }
    if metadata.len() > limit {
        return Err(too_large());
    }
    let file = open(path).map_err(|e| refuse(&e.to_string()))?;
    // The path may have been replaced between the two looks: judge what was opened.
    let metadata = file.metadata().map_err(|e| refuse(&e.to_string()))?;
    if let Some(kind) = not_a_file(&metadata) {
        return Err(refuse(&format!("not a regular file ({kind})")));
    }
    let capacity = usize::try_from(metadata.len().min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(&e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Opens `path` for reading; on Unix without blocking, so that a FIFO put in the
/// file's place after its metadata was read cannot hang the open (reads of a regular
/// file are unaffected).
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What the file is, if it is not a regular file: `a directory`, `a FIFO`, ...
fn not_a_file(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO");
        }
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a file")
}

/// `64 MiB (67108864 bytes)` for a whole number of MiB, else `N bytes`.
fn limit_text(limit: u64) -> String {
    const MIB: u64 = 1 << 20;
    if limit >= MIB && limit.is_multiple_of(MIB) {
        format!("{} MiB ({limit} bytes)", limit / MIB)
    } else {
        format!("{limit} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh path in the temporary directory.
    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("checker-dve-source-{}-{name}", std::process::id()))
    }

    #[test]
    fn files_up_to_the_limit_are_read_as_is_and_longer_ones_refused() {
        let path = temp("limit.dve");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_limited(&path, 10).unwrap(), b"0123456789");
        assert_eq!(read_limited(&path, 100).unwrap(), b"0123456789");
        let e = read_limited(&path, 9).unwrap_err();
        std::fs::remove_file(&path).ok();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: cannot read the model: the file is larger than 9 bytes",
                path.display()
            )
        );
        assert_eq!(e.line(), None);
    }

    #[test]
    fn a_file_longer_than_its_reported_size_is_cut_at_the_limit() {
        // Files in /proc report a size of 0 but have content: only the bounded read
        // can tell that this one is over the limit.
        let path = Path::new("/proc/self/status");
        if !path.exists() {
            eprintln!("skipped: no /proc/self/status");
            return;
        }
        assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        assert_eq!(
            read_limited(path, 8).unwrap_err().to_string(),
            "/proc/self/status: cannot read the model: the file is larger than 8 bytes"
        );
        assert!(read_limited(path, 1 << 20).unwrap().starts_with(b"Name:"));
    }

    #[test]
    fn the_limit_is_shown_in_mib_when_whole() {
        assert_eq!(limit_text(MAX_SOURCE_BYTES), "64 MiB (67108864 bytes)");
        assert_eq!(limit_text(1000), "1000 bytes");
    }
}
