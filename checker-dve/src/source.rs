//! Reading a model file: a regular file only (never a FIFO, a device or a directory),
//! and never more than [`MAX_SOURCE_BYTES`].

use std::path::Path;

use checker_core::regular_file;

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
    regular_file::read_limited(path, limit).map_err(|e| {
        DveError::without_position(
            &path.display().to_string(),
            format!("cannot read the model: {e}"),
        )
    })
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
}
