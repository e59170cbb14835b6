//! Standard output and standard error that a reader who stops reading does not turn
//! into a panic.
//!
//! `print!` and `eprint!` panic when their stream is a pipe whose reader has gone
//! (`checker check ... | head`, `2>&1 | head`): the report ended in a backtrace with
//! exit code 101, and the `--json` file written after it was lost. Here text that
//! cannot be written is dropped and the command goes on to its files and its exit
//! code. A failure of stdout other than a closed pipe (a full disk under
//! `> report.txt`) is said once on stderr.

use std::fmt::Arguments;
use std::io::{ErrorKind, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `stream` is a terminal that can redraw a line in place, for a live
/// progress line: a terminal whose `TERM` is not `dumb` (a dumb terminal, such as an
/// Emacs shell buffer, cannot move its cursor and would show the escape sequences).
pub fn redraws(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}

/// Whether a failure to write stdout has been reported on stderr already.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout, dropping it if stdout cannot take it.
pub fn write(text: Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| out.flush());
    if let Err(e) = written {
        if e.kind() != ErrorKind::BrokenPipe && !REPORTED.swap(true, Ordering::Relaxed) {
            write_err(format_args!(
                "warning: writing to stdout failed: {e}; the rest of the output is lost\n"
            ));
        }
    }
}

/// Writes `text` to stderr, dropping it if stderr cannot take it (there is nowhere
/// left to say so).
pub fn write_err(text: Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

/// `print!` without the panic when stdout is closed ([`write()`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*)) };
}

/// `println!` without the panic when stdout is closed ([`write()`]).
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` without the panic when stderr is closed ([`write_err()`]).
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {errln, out, outln};
