//! What SIGINT, SIGTERM and SIGHUP do to a `checker check` run. The first sets the
//! interrupt flag: the run stops with a checkpoint (exit 3). Signals within
//! [`REPEATED_SIGNAL_GRACE`] of it are the same one delivered again: `timeout` sends
//! its signal to the checker and then to its process group, so the checker gets it
//! twice at once. A later signal ends the process at once: one line on stderr, exit
//! code 130, no checkpoint, and the `--json` file this run created removed if it is
//! still empty.
//!
//! Why in the signal handler, with only async-signal-safe calls (atomics,
//! `clock_gettime`, `stat`, `unlink`, `write`, `_exit`), and not in a thread that waits
//! for signals: a thread reserves a malloc arena of 64 MiB of address space at its
//! first allocation, which a budget under `ulimit -v` would lose.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::error::CliError;
use crate::json_sink::CreatedFile;

/// Signals closer together than this are taken for one.
pub const REPEATED_SIGNAL_GRACE: Duration = Duration::from_secs(1);

/// What the process prints on stderr when a second signal ends it.
const STOPPED_AT_ONCE: &[u8] = b"error: stopped at once by a second signal, without writing a checkpoint (one written before, if any, can still be resumed)\n";

/// When the first signal came, in nanoseconds of `CLOCK_MONOTONIC` plus one (0: none
/// yet).
static FIRST_SIGNAL: AtomicU64 = AtomicU64::new(0);

/// The `--json` file to remove on a second signal: its real path, device and inode.
static CREATED_JSON: OnceLock<(CString, u64, u64)> = OnceLock::new();

/// Installs the handlers (once per process) and returns the flag the first signal
/// sets; `json` is the `--json` file this run created, if any.
pub fn interrupt_flag(json: Option<CreatedFile>) -> Result<Arc<AtomicBool>, CliError> {
    let cannot =
        |e: std::io::Error| CliError::Input(format!("cannot install signal handlers: {e}"));
    if let Some((path, dev, ino)) = json.and_then(|f| f.identity()) {
        if let Ok(path) = CString::new(path.as_os_str().as_bytes()) {
            // Set before any handler can read it; a second run in the process keeps
            // the first's (`checker check` runs one).
            let _ = CREATED_JSON.set((path, dev, ino));
        }
    }
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&flag)).map_err(cannot)?;
        // SAFETY: `on_signal` makes only async-signal-safe calls (see its doc) and
        // touches only statics that are set before this registration.
        unsafe { signal_hook::low_level::register(signal, on_signal) }.map_err(cannot)?;
    }
    Ok(flag)
}

/// The handler: notes the first signal, ignores repeats within the grace, and ends the
/// process at a later one. Async-signal-safe: an atomic compare-exchange, reads of a
/// set `OnceLock` (an atomic load), `clock_gettime`, `stat`, `unlink`, `write` and
/// `_exit`; no allocation, no lock.
fn on_signal() {
    let now = monotonic_ns().saturating_add(1);
    let first = match FIRST_SIGNAL.compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => return,
        Err(first) => first,
    };
    if now.saturating_sub(first) < REPEATED_SIGNAL_GRACE.as_nanos() as u64 {
        return;
    }
    if let Some((path, dev, ino)) = CREATED_JSON.get() {
        remove_if_empty(path, *dev, *ino);
    }
    // SAFETY: `write` is async-signal-safe; the buffer is a static of the length given.
    // Its result is ignored: a closed stderr must not keep the process alive.
    let _ = unsafe {
        libc::write(
            libc::STDERR_FILENO,
            STOPPED_AT_ONCE.as_ptr().cast(),
            STOPPED_AT_ONCE.len(),
        )
    };
    signal_hook::low_level::exit(130);
}

/// `CLOCK_MONOTONIC` in nanoseconds (0 if it cannot be read).
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is async-signal-safe and writes only the `timespec` it
    // is given, which lives on this stack frame.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return 0;
    }
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}

/// Removes the file at `path` if it is still the one of device `dev` and inode `ino`
/// and still empty.
fn remove_if_empty(path: &CString, dev: u64, ino: u64) {
    // SAFETY: an all-zero `stat` is a valid value of that plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` and `unlink` are async-signal-safe; `path` is NUL-terminated and
    // outlives the calls; `st` is a valid `stat` on this stack frame.
    unsafe {
        if libc::stat(path.as_ptr(), &mut st) == 0
            && st.st_dev == dev
            && st.st_ino == ino
            && st.st_size == 0
        {
            libc::unlink(path.as_ptr());
        }
    }
}
