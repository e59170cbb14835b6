//! Standard output that a reader who stops reading does not turn into a panic.
//!
//! `print!` panics when stdout is a pipe whose reader has gone (`checker check ... |
//! head`): the report ended in a backtrace, and the `--json` file written after it
//! was lost. Here text that cannot be written is dropped and the command goes on to
//! its files and its exit code. A failure other than a closed pipe (a full disk under
//! `> report.txt`) is said once on stderr.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a write failure has been reported on stderr already.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout, dropping it if stdout cannot take it.
pub fn write(text: Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| out.flush());
    if let Err(e) = written {
        if e.kind() != ErrorKind::BrokenPipe && !REPORTED.swap(true, Ordering::Relaxed) {
            eprintln!("warning: writing to stdout failed: {e}; the rest of the output is lost");
        }
    }
}

/// `print!` without the panic when stdout is closed ([`write()`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!($($arg)*)) };
}

/// `println!` without the panic when stdout is closed ([`write()`]).
macro_rules! outln {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};
