//! What the mailboxes of a worker count cost before the first state is expanded, and
//! the refusal of a worker count whose mailboxes (one pair of rings per ordered pair
//! of workers, so growing with the square of the count) or threads would not fit the
//! memory budget, the machine or the process's address space.

use std::sync::Mutex;

use crate::mailbox::{mailbox_bytes, MailboxReceiver, MailboxSender};
use crate::message::{Batch, Message};
use crate::process_limits::{meminfo_bytes, process_limit};
use crate::EngineError;

/// Mailboxes of at most this many bytes are never refused for the memory budget: a
/// budget smaller than that (`--memory 1`, say) only stops the run at its first level
/// end with a checkpoint, as a budget too small for any run does.
const MAILBOXES_WITHIN_ANY_BUDGET: u64 = 64 << 20;

/// About how many bytes the mailboxes of `workers` workers take before the first state
/// is expanded, with rings of `ring_capacity` messages: for each ordered pair of
/// workers, both rings of its mailbox (slots and padded indices, [`mailbox_bytes`]),
/// its entry in the setup grid, the two ends that the workers keep, and the sender's
/// batch for the receiver (its buffer comes later, with the first state). Every item
/// is measured from the types; rings are per pair, so this grows with the square of
/// the worker count (about 3.6 KiB per pair with 16-message rings). Saturates rather
/// than overflows.
pub fn mailbox_memory(workers: usize, ring_capacity: usize) -> u64 {
    use std::mem::size_of;
    let per_pair = mailbox_bytes::<Message>(ring_capacity).saturating_add(
        (size_of::<Mutex<Option<MailboxSender<Message>>>>()
            + size_of::<Option<MailboxSender<Message>>>()
            + size_of::<Option<MailboxReceiver<Message>>>()
            + size_of::<Batch>()) as u64,
    );
    let workers = workers as u64;
    workers.saturating_mul(workers).saturating_mul(per_pair)
}

/// Refuses a worker count whose mailboxes alone would not fit the memory budget given
/// (`--memory`), the machine's memory or the memory available now, or whose mailboxes
/// and threads would not fit the process's address space, before anything is
/// allocated. A budget the engine derives from the limits is not compared: it is what
/// the limits leave after the mailboxes (a run whose mailboxes take most of the
/// memory available was refused as "more than the memory budget", of 0 bytes when
/// they took all of it, instead of naming the memory).
pub(crate) fn refuse_oversized_mailboxes(
    workers: usize,
    ring_capacity: usize,
    given_budget: Option<u64>,
) -> Result<(), EngineError> {
    let limits = MailboxLimits {
        budget: given_budget,
        machine: machine_memory(),
        available: meminfo_bytes("MemAvailable"),
        address_space: address_space_limit(),
    };
    limits
        .check(
            workers,
            mailbox_memory(workers, ring_capacity),
            // Short of room for the arenas too, glibc falls back on the main heap one
            // small mapping at a time, and a run soon fails an allocation.
            thread_stacks(workers).saturating_add(thread_arenas(workers)),
        )
        .map_err(EngineError::Config)
}

/// Address space a glibc malloc arena reserves (`HEAP_MAX_SIZE` on 64-bit).
pub(crate) const ARENA_BYTES: u64 = 64 << 20;

/// Address space that the malloc arenas of `workers` worker threads reserve at most:
/// with glibc, [`ARENA_BYTES`] for each thread up to 8 per CPU. Nothing of it is memory
/// in use until touched, but all of it counts against `ulimit -v`; where the address
/// space is short glibc makes fewer (a thread then shares another's arena).
pub(crate) fn thread_arenas(workers: usize) -> u64 {
    if cfg!(target_env = "gnu") {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        (workers as u64).min(8 * cpus).saturating_mul(ARENA_BYTES)
    } else {
        0
    }
}

/// The stacks of `workers` worker threads: each Rust's 2 MiB (or `RUST_MIN_STACK`)
/// with a little over for guard pages and the signal stack. Writable private memory,
/// so charged against `ulimit -d` and strict overcommit's commit limit.
pub(crate) fn thread_stacks(workers: usize) -> u64 {
    const STACK_OVERHEAD: u64 = 64 << 10;
    let stack = std::env::var("RUST_MIN_STACK")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(2 << 20);
    (workers as u64).saturating_mul(stack.saturating_add(STACK_OVERHEAD))
}

/// What the mailboxes' memory is compared with.
#[derive(Clone, Copy, Debug, Default)]
struct MailboxLimits {
    /// [`EngineConfig::memory_budget`]: the budget given.
    budget: Option<u64>,
    /// The machine's memory, where known.
    machine: Option<u64>,
    /// The memory available now (`MemAvailable`), where known.
    available: Option<u64>,
    /// The process's address-space limit (`ulimit -v`), where there is one.
    address_space: Option<u64>,
}

impl MailboxLimits {
    /// Whether `workers` workers whose mailboxes need `mailboxes` bytes, and whose
    /// threads reserve `threads` bytes of address space, can start; the message says
    /// why not.
    fn check(&self, workers: usize, mailboxes: u64, threads: u64) -> Result<(), String> {
        // `what` names the limit, given as text.
        let refuse = |limit: u64, what: fn(&str) -> String| {
            let (need, limit) = sizes_apart(mailboxes, limit);
            Err(format!(
                "{workers} workers need about {need} for their mailboxes alone, more than {}; use fewer workers",
                what(&limit)
            ))
        };
        if let Some(budget) = self.budget {
            if mailboxes > budget && mailboxes > MAILBOXES_WITHIN_ANY_BUDGET {
                return refuse(budget, |b| format!("the memory budget of {b}"));
            }
        }
        if let Some(machine) = self.machine.filter(|&m| mailboxes > m) {
            return refuse(machine, |m| format!("this machine's {m} of memory"));
        }
        if let Some(available) = self.available.filter(|&a| mailboxes > a) {
            return refuse(available, |a| {
                format!("the {a} of memory available now (MemAvailable)")
            });
        }
        let reserved = mailboxes.saturating_add(threads);
        if let Some(limit) = self.address_space.filter(|&a| reserved > a) {
            let (reserved, limit) = sizes_apart(reserved, limit);
            return Err(format!(
                "{workers} workers need about {reserved} of address space for their mailboxes and threads alone, more than the {limit} this process may use (`ulimit -v`); use fewer workers"
            ));
        }
        Ok(())
    }
}

/// `bytes` for a message, with `decimals` decimals: in GiB, MiB or bytes, whichever
/// reads best.
pub(crate) fn size_text(bytes: u64, decimals: usize) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes >= GIB {
        format!("{:.decimals$} GiB", bytes as f64 / GIB as f64)
    } else if bytes >= MIB {
        format!("{:.decimals$} MiB", bytes as f64 / MIB as f64)
    } else if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

/// `need` and `limit` (which it exceeds) for a message, with as many decimals as it
/// takes for them to read differently (exact bytes at worst).
fn sizes_apart(need: u64, limit: u64) -> (String, String) {
    (1..=3)
        .map(|d| (size_text(need, d), size_text(limit, d)))
        .find(|(a, b)| a != b)
        .unwrap_or_else(|| (format!("{need} bytes"), format!("{limit} bytes")))
}

/// The machine's memory (`MemTotal` in `/proc/meminfo`); `None` where it cannot be read.
fn machine_memory() -> Option<u64> {
    meminfo_bytes("MemTotal")
}

/// The process's soft address-space limit (`ulimit -v`); `None` when unlimited or
/// unknown.
fn address_space_limit() -> Option<u64> {
    process_limit("Max address space")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossbeam_utils::CachePadded;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn mailbox_memory_is_each_pairs_rings_grid_entry_ends_and_batch() {
        use std::mem::size_of;
        let ring = |capacity: u64| {
            // The `Arc`'s two counts, then two padded indices and a slice pointer, each
            // part padded to the indices' alignment; then the slots.
            let align = std::mem::align_of::<CachePadded<AtomicUsize>>();
            let counts = (2 * size_of::<usize>()).next_multiple_of(align);
            let shared = (2 * size_of::<CachePadded<AtomicUsize>>() + size_of::<Box<[Message]>>())
                .next_multiple_of(align);
            (counts + shared) as u64 + capacity * size_of::<Message>() as u64
        };
        let ends = size_of::<Mutex<Option<MailboxSender<Message>>>>()
            + size_of::<Option<MailboxSender<Message>>>()
            + size_of::<Option<MailboxReceiver<Message>>>()
            + size_of::<Batch>();
        let pair = ring(16) + ring(18) + ends as u64;
        assert_eq!(mailbox_bytes::<Message>(16), ring(16) + ring(18));
        assert_eq!(mailbox_memory(1, 16), pair);
        assert_eq!(mailbox_memory(2, 16), 4 * pair);
        assert_eq!(mailbox_memory(4_000, 16), 16_000_000 * pair);
        // Rings of 16 messages: a few KiB per pair, so 4,000 workers need tens of GiB.
        assert!((1_000..8_192).contains(&pair), "{pair} bytes per pair");
        assert!(mailbox_memory(4_000, 16) > 16 << 30);
        assert_eq!(mailbox_memory(usize::MAX, usize::MAX), u64::MAX);
    }

    #[test]
    fn mailboxes_over_the_budget_the_machine_or_the_address_space_are_refused() {
        let gib = 1u64 << 30;
        let limits = MailboxLimits {
            budget: Some(gib),
            machine: Some(16 * gib),
            available: None,
            address_space: None,
        };
        assert_eq!(limits.check(10, gib, 0), Ok(()));
        assert_eq!(
            limits.check(4_000, gib + gib / 2, 0),
            Err("4000 workers need about 1.5 GiB for their mailboxes alone, more than the memory budget of 1.0 GiB; use fewer workers".into())
        );
        // A budget below every run's mailboxes stops the run at its first level end
        // instead (the engine's `--memory 1` runs).
        let tiny = MailboxLimits {
            budget: Some(1),
            ..limits
        };
        assert_eq!(tiny.check(2, 6_000, 0), Ok(()));
        assert_eq!(
            tiny.check(200, 100 << 20, 0),
            Err("200 workers need about 100.0 MiB for their mailboxes alone, more than the memory budget of 1 byte; use fewer workers".into())
        );
        let unbudgeted = MailboxLimits {
            budget: None,
            ..limits
        };
        // Threads reserve address space, not memory.
        assert_eq!(unbudgeted.check(10, 15 * gib, 100 * gib), Ok(()));
        assert_eq!(
            unbudgeted.check(65_535, 20 * gib, 0),
            Err("65535 workers need about 20.0 GiB for their mailboxes alone, more than this machine's 16.0 GiB of memory; use fewer workers".into())
        );
        let busy = MailboxLimits {
            available: Some(10 * gib),
            ..unbudgeted
        };
        assert_eq!(busy.check(2_000, 9 * gib, 0), Ok(()));
        assert_eq!(
            busy.check(3_000, 12 * gib, 0),
            Err("3000 workers need about 12.0 GiB for their mailboxes alone, more than the 10.0 GiB of memory available now (MemAvailable); use fewer workers".into())
        );
        let limited = MailboxLimits {
            address_space: Some(3_000_000 << 10),
            ..unbudgeted
        };
        assert_eq!(limited.check(400, gib, gib), Ok(()));
        assert_eq!(
            limited.check(500, gib, 2 * gib),
            Err("500 workers need about 3.0 GiB of address space for their mailboxes and threads alone, more than the 2.9 GiB this process may use (`ulimit -v`); use fewer workers".into())
        );
        // Figures that round alike are given as precisely as it takes to tell them
        // apart.
        assert_eq!(
            limited.check(500, gib, (3_000_000 << 10) - gib + (3 << 20)),
            Err("500 workers need about 2.864 GiB of address space for their mailboxes and threads alone, more than the 2.861 GiB this process may use (`ulimit -v`); use fewer workers".into())
        );
        assert_eq!(
            MailboxLimits::default().check(9, u64::MAX, u64::MAX),
            Ok(())
        );
    }

    #[test]
    fn threads_reserve_their_stacks_and_arenas() {
        // A stack of at least 2 MiB (unless RUST_MIN_STACK asks for less), and an arena
        // of 64 MiB with glibc.
        let arena = if cfg!(target_env = "gnu") {
            64 << 20
        } else {
            0
        };
        if std::env::var_os("RUST_MIN_STACK").is_none() {
            assert_eq!(thread_stacks(1), (2 << 20) + (64 << 10));
        }
        assert_eq!(thread_arenas(1), arena);
        // Arenas stop at 8 per CPU; stacks do not.
        let cpus = std::thread::available_parallelism().unwrap().get() as u64;
        let many = 8 * cpus as usize + 10;
        assert_eq!(thread_stacks(many), many as u64 * thread_stacks(1));
        assert_eq!(thread_arenas(many), 8 * cpus * arena);
        assert_eq!(thread_stacks(usize::MAX), u64::MAX);
    }
}
