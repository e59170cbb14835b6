//! Opening and reading files that a user may have pointed anywhere (a model, a work
//! directory's files): regular files only, never a FIFO (whose open blocks), a device
//! such as `/dev/zero` (which never ends) or a directory, and reads bounded by a limit.
//!
//! The errors are [`io::Error`]s whose text is one line that says what is wrong
//! (`not a regular file (a FIFO)`, `the file is larger than 64 MiB (67108864 bytes)`);
//! callers put the path in front.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Opens `path` (for reading, and for writing too if `write`) if it is a regular file
/// once symbolic links are followed. The file's type is judged from its metadata
/// before it is opened, so a FIFO is never opened; the open itself does not block
/// either (on Unix), so a FIFO put in the file's place meanwhile cannot hang it, and
/// what was opened is judged again.
pub fn open_regular(path: &Path, write: bool) -> io::Result<File> {
    refuse_unless_regular(&std::fs::metadata(path)?)?;
    let mut options = OpenOptions::new();
    options.read(true).write(write);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Reads and writes of a regular file are unaffected by O_NONBLOCK.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    // The path may have been replaced between the two looks: judge what was opened.
    refuse_unless_regular(&file.metadata()?)?;
    Ok(file)
}

/// Reads the regular file at `path` (see [`open_regular`]) if it holds at most `limit`
/// bytes, judged from its size and again while reading (a file that grows meanwhile,
/// or one in `/proc` that says it is empty, is not read past the limit).
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is larger than {}", limit_text(limit)),
        )
    };
    let file = open_regular(path, false)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_limited`], as UTF-8 text.
pub fn read_limited_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_limited(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn refuse_unless_regular(metadata: &Metadata) -> io::Result<()> {
    match not_a_file(metadata) {
        None => Ok(()),
        Some(kind) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file ({kind})"),
        )),
    }
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
        std::env::temp_dir().join(format!(
            "checker-core-regular-{}-{name}",
            std::process::id()
        ))
    }

    #[test]
    fn files_up_to_the_limit_are_read_as_is_and_longer_ones_refused() {
        let path = temp("limit");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_limited(&path, 10).unwrap(), b"0123456789");
        assert_eq!(read_limited_text(&path, 100).unwrap(), "0123456789");
        let e = read_limited(&path, 9).unwrap_err();
        std::fs::write(&path, b"\xff\xfe").unwrap();
        let not_text = read_limited_text(&path, 9).unwrap_err();
        std::fs::remove_file(&path).ok();
        assert_eq!(e.to_string(), "the file is larger than 9 bytes");
        assert_eq!(not_text.to_string(), "not UTF-8 text");
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
            "the file is larger than 8 bytes"
        );
        assert!(read_limited(path, 1 << 20).unwrap().starts_with(b"Name:"));
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_directories_are_refused_without_blocking() {
        let fifo = temp("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", fifo.display());
        let link = temp("zero-link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let refused = |p: &Path, write| open_regular(p, write).unwrap_err().to_string();
        let (fifo_read, fifo_write) = (refused(&fifo, false), refused(&fifo, true));
        let zero = read_limited(&link, 1 << 30).unwrap_err().to_string();
        std::fs::remove_file(&fifo).ok();
        std::fs::remove_file(&link).ok();
        assert_eq!(fifo_read, "not a regular file (a FIFO)");
        assert_eq!(fifo_write, "not a regular file (a FIFO)");
        assert_eq!(zero, "not a regular file (a character device)");
        assert_eq!(
            refused(&std::env::temp_dir(), false),
            "not a regular file (a directory)"
        );
        assert_eq!(
            read_limited(&temp("missing"), 1).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn the_limit_is_shown_in_mib_when_whole() {
        assert_eq!(limit_text(64 << 20), "64 MiB (67108864 bytes)");
        assert_eq!(limit_text(1000), "1000 bytes");
    }
}
