//! The memory budget a run actually works to: the one it was given, lowered to fit
//! what the process can really get.
//!
//! A run that outgrows its process's limits does not stop cleanly at a level end: past
//! `ulimit -v` or `ulimit -d`, or past the commit limit under strict overcommit
//! accounting (`vm.overcommit_memory = 2`), an allocation fails and the process
//! aborts; past its cgroup's memory limit (a container, a batch scheduler's job) the
//! kernel kills it. Either way every state found since the last checkpoint is lost.
//! So the budget is lowered, when the run starts, to [`HEADROOM_SHARE`] of what each
//! of those limits leaves once the workers' threads and mailboxes are counted; past
//! the budget the run writes a checkpoint and stops, which loses nothing. The share
//! leaves room for what the budget does not count (allocator slack, buffers, a table
//! growing more than once in one level).
//!
//! Everything is read from `/proc` and `/sys/fs/cgroup` (cgroup v2, or v1's `memory`
//! controller at `/sys/fs/cgroup/memory`); a limit that cannot be read is taken as
//! absent. A cgroup's use counts its file cache, which the kernel reclaims before it
//! kills anything, so the inactive part of that cache is not counted as used (as
//! container runtimes reckon a working set).
//!
//! The engine applies none of these unless asked ([`MemoryLimits::Ignored`] is the
//! default): the limits belong to the process, not to one check, so a library that
//! runs several checks at once decides for itself. The CLI asks for them.

use std::fmt;
use std::path::Path;

use crate::mailbox_memory::{size_text, ARENA_BYTES};

/// Share of what a limit leaves that the run's budget may take.
pub const HEADROOM_SHARE: f64 = 0.75;

/// Which limits the budget is lowered to fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryLimits {
    /// None: only [`EngineConfig::memory_budget`](crate::EngineConfig::memory_budget).
    #[default]
    Ignored,
    /// The ones whose breach kills the run: the address-space and data-size limits,
    /// the cgroup's memory limit, and the commit limit under strict overcommit.
    Process,
    /// Those, and the memory available on the machine (`MemAvailable`), as for a run
    /// given no budget of its own: past it the machine swaps, or the kernel's
    /// out-of-memory killer picks a process.
    ProcessAndAvailable,
}

/// What set the budget a run works to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetSource {
    /// The budget the run was given.
    Given,
    /// The memory available on the machine.
    Available,
    /// The address-space limit (`ulimit -v`).
    AddressSpace,
    /// The data-size limit (`ulimit -d`).
    DataSize,
    /// The cgroup's memory limit.
    Cgroup,
    /// The commit limit under strict overcommit accounting.
    Commit,
}

impl fmt::Display for BudgetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = (HEADROOM_SHARE * 100.0).round();
        match self {
            BudgetSource::Given => write!(f, "as given"),
            BudgetSource::Available => write!(f, "{share}% of the memory available"),
            BudgetSource::AddressSpace => {
                write!(f, "{share}% of the address space `ulimit -v` leaves")
            }
            BudgetSource::DataSize => write!(f, "{share}% of what `ulimit -d` leaves"),
            BudgetSource::Cgroup => write!(f, "{share}% of what the cgroup's memory limit leaves"),
            BudgetSource::Commit => write!(
                f,
                "{share}% of the commit charge left under strict overcommit"
            ),
        }
    }
}

/// The budget a run works to, and what set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MemoryBudget {
    /// Bytes of memory the run may use.
    pub bytes: u64,
    /// What set it.
    pub source: BudgetSource,
    /// The budget the run was given ([`EngineConfig::memory_budget`](crate::EngineConfig),
    /// the CLI's `--memory`), if any: more than `bytes` when a limit lowered it.
    pub given_bytes: Option<u64>,
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", size_text(self.bytes, 1), self.source)?;
        match self.given_bytes {
            Some(given) if self.source != BudgetSource::Given => {
                write!(f, ", below the {} given", size_text(given, 1))
            }
            _ => Ok(()),
        }
    }
}

/// What the workers will take of the limits before they store a state: their threads'
/// address space and stacks, and their mailboxes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reserved {
    /// Address space the threads' malloc arenas reserve at most (glibc makes only as
    /// many as the address space allows).
    pub arenas: u64,
    /// The threads' stacks (writable memory).
    pub stacks: u64,
    /// The mailboxes.
    pub mailboxes: u64,
}

impl MemoryBudget {
    /// Refuses a budget set by a limit (not one given) that leaves `workers` workers,
    /// whose batches hold `batch_bytes`, less than the least they take to run at
    /// all: then the run could not store a level, and the allocator might fail before
    /// the first check. A given budget, however small, stops the run at its first
    /// level end instead, with a checkpoint.
    pub fn refuse_if_too_small(&self, workers: usize, batch_bytes: usize) -> Result<(), String> {
        // Frontier chunks, the parent log's write buffer, the smallest table, and one
        // batch buffer for each destination.
        const FIXED_PER_WORKER: u64 = 4 << 20;
        let workers = workers as u64;
        let least = workers.saturating_mul(
            FIXED_PER_WORKER.saturating_add(workers.saturating_mul(batch_bytes as u64)),
        );
        if self.source == BudgetSource::Given || self.bytes >= least {
            return Ok(());
        }
        Err(format!(
            "the memory budget of {} ({}) is less than the {} that {workers} workers need to start; raise that limit or use fewer workers",
            size_text(self.bytes, 1),
            self.source,
            size_text(least, 1)
        ))
    }
}

/// Bytes each limit leaves the run when it starts, after what the workers will take
/// of it ([`Reserved`]); `None` where there is no such limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Headroom {
    /// `MemAvailable` less the mailboxes.
    pub available: Option<u64>,
    /// `ulimit -v` less the address space in use and the threads' and mailboxes'.
    pub address_space: Option<u64>,
    /// `ulimit -d` less the data in use and the threads' stacks and mailboxes.
    pub data_size: Option<u64>,
    /// The tightest cgroup memory limit above the process, less that cgroup's use
    /// (without its inactive file cache) and the mailboxes.
    pub cgroup: Option<u64>,
    /// Under strict overcommit, the commit limit less the charge, the stacks and the
    /// mailboxes.
    pub commit: Option<u64>,
}

impl Headroom {
    /// Reads the limits as they stand, for a run whose workers take `reserved`.
    pub fn read(reserved: &Reserved) -> Self {
        let Reserved {
            arenas,
            stacks,
            mailboxes,
        } = *reserved;
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let left = |limit: Option<u64>, used: Option<u64>, also: u64| {
            Some(
                limit?
                    .saturating_sub(used.unwrap_or(0))
                    .saturating_sub(also),
            )
        };
        let strict = std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
            .is_ok_and(|mode| mode.trim() == "2");
        Headroom {
            available: meminfo_bytes("MemAvailable").map(|m| m.saturating_sub(mailboxes)),
            address_space: left(
                soft_limit(&limits, "Max address space"),
                kib_field(&status, "VmSize"),
                stacks.saturating_add(mailboxes),
            )
            .map(|left| left.saturating_sub(arenas_made(left, arenas))),
            data_size: left(
                soft_limit(&limits, "Max data size"),
                kib_field(&status, "VmData"),
                stacks.saturating_add(mailboxes),
            ),
            cgroup: std::fs::read_to_string("/proc/self/cgroup")
                .ok()
                .and_then(|membership| cgroup_headroom(Path::new("/sys/fs/cgroup"), &membership))
                .map(|left| left.saturating_sub(mailboxes)),
            commit: if strict {
                left(
                    meminfo_bytes("CommitLimit"),
                    meminfo_bytes("Committed_AS"),
                    stacks.saturating_add(mailboxes),
                )
            } else {
                None
            },
        }
    }

    /// The budget a run given `given` works to under `limits`: the smallest of
    /// `given` and [`HEADROOM_SHARE`] of each limit's headroom; `None` if there is
    /// none of them.
    pub fn budget(&self, given: Option<u64>, limits: MemoryLimits) -> Option<MemoryBudget> {
        let share = |bytes: Option<u64>, source| {
            bytes.map(|b| MemoryBudget {
                bytes: (b as f64 * HEADROOM_SHARE) as u64,
                source,
                given_bytes: given,
            })
        };
        let process = [
            share(self.address_space, BudgetSource::AddressSpace),
            share(self.data_size, BudgetSource::DataSize),
            share(self.cgroup, BudgetSource::Cgroup),
            share(self.commit, BudgetSource::Commit),
        ];
        let available = share(self.available, BudgetSource::Available);
        let given_budget = given.map(|bytes| MemoryBudget {
            bytes,
            source: BudgetSource::Given,
            given_bytes: given,
        });
        let candidates: &[Option<MemoryBudget>] = match limits {
            MemoryLimits::Ignored => &[],
            MemoryLimits::Process => &process,
            MemoryLimits::ProcessAndAvailable => {
                &[process[0], process[1], process[2], process[3], available]
            }
        };
        // The given budget comes first, so that it wins a tie.
        std::iter::once(given_budget)
            .chain(candidates.iter().copied())
            .flatten()
            .min_by_key(|b| b.bytes)
    }
}

/// Address space to count for the workers' malloc arenas (`arenas` at most) out of
/// `left`, the address space left besides: glibc maps the first arena only where
/// twice [`ARENA_BYTES`] fits (to align it; it keeps half), each next one where
/// [`ARENA_BYTES`] does, and shares an existing arena otherwise. With too little room
/// for the first, the threads fall back on the main heap, one small mapping at a time,
/// which costs far more than the budget counts: then every arena is counted, and the
/// run is refused as too small to start rather than left to fail an allocation.
fn arenas_made(left: u64, arenas: u64) -> u64 {
    if left < 2 * ARENA_BYTES {
        return arenas;
    }
    arenas.min(left / ARENA_BYTES * ARENA_BYTES)
}

/// A `/proc/meminfo` field (`MemTotal`, `MemAvailable`, ...) in bytes; `None` where it
/// cannot be read.
pub fn meminfo_bytes(field: &str) -> Option<u64> {
    kib_field(&std::fs::read_to_string("/proc/meminfo").ok()?, field)
}

/// The process's soft limit named `name` in `/proc/self/limits` (`Max address
/// space`, ...); `None` when unlimited or unknown.
pub(crate) fn process_limit(name: &str) -> Option<u64> {
    soft_limit(&std::fs::read_to_string("/proc/self/limits").ok()?, name)
}

/// The soft limit on the `name` line of `/proc/self/limits`; `None` when unlimited
/// or absent.
fn soft_limit(limits: &str, name: &str) -> Option<u64> {
    let line = limits.lines().find_map(|l| l.strip_prefix(name))?;
    line.split_whitespace().next()?.parse::<u64>().ok()
}

/// A `kB` field of `/proc/meminfo` or `/proc/self/status`, in bytes.
fn kib_field(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kib.checked_mul(1024)
}

/// What the tightest memory limit among the process's cgroup and its ancestors
/// leaves, with the cgroup file system mounted at `root` and `membership` read from
/// `/proc/self/cgroup`: cgroup v2's `memory.max` less `memory.current`, or v1's
/// `memory.limit_in_bytes` less `memory.usage_in_bytes`, the use without the inactive
/// file cache that `memory.stat` reports.
fn cgroup_headroom(root: &Path, membership: &str) -> Option<u64> {
    let (v2, v1) = cgroup_paths(membership);
    let mut tightest: Option<u64> = None;
    let mut consider = |dir: &Path, files: &CgroupFiles| {
        for dir in dir.ancestors() {
            let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
            if let (Some(limit), Some(usage)) = (read(files.limit), read(files.usage)) {
                let stat = read("memory.stat").unwrap_or_default();
                if let Some(left) = cgroup_left(&limit, &usage, &stat, files.inactive_file) {
                    tightest = Some(tightest.map_or(left, |t| t.min(left)));
                }
            }
            if dir == root || dir.parent().is_none() {
                break;
            }
        }
    };
    if let Some(path) = v2 {
        consider(&root.join(path), &CGROUP_V2);
    }
    if let Some(path) = v1 {
        let mount = root.join("memory");
        consider(&mount.join(path), &CGROUP_V1);
        // In a container the controller's mount often is the container's own cgroup,
        // whatever path the membership names.
        consider(&mount, &CGROUP_V1);
    }
    tightest
}

/// The files of one cgroup version's memory controller.
struct CgroupFiles {
    limit: &'static str,
    usage: &'static str,
    /// Keys of `memory.stat` for the inactive file cache, the first found taken.
    inactive_file: &'static [&'static str],
}

const CGROUP_V2: CgroupFiles = CgroupFiles {
    limit: "memory.max",
    usage: "memory.current",
    inactive_file: &["inactive_file"],
};

const CGROUP_V1: CgroupFiles = CgroupFiles {
    limit: "memory.limit_in_bytes",
    usage: "memory.usage_in_bytes",
    // v1 gives the hierarchy's total beside the cgroup's own.
    inactive_file: &["total_inactive_file", "inactive_file"],
};

/// The process's cgroup v2 path and v1 `memory` path (relative, without the leading
/// `/`) from `/proc/self/cgroup`.
fn cgroup_paths(membership: &str) -> (Option<&str>, Option<&str>) {
    let mut v2 = None;
    let mut v1 = None;
    for line in membership.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let path = path.trim_start_matches('/');
        // A path that climbs (`..`, as a cgroup namespace can show one) names nothing
        // under the mount.
        if path.split('/').any(|part| part == "..") {
            continue;
        }
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        } else if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path);
        }
    }
    (v2, v1)
}

/// What a cgroup's limit leaves beside its usage, given the limit and usage files'
/// contents and `memory.stat`'s (whose first `inactive_file` key found is not counted
/// as used); `None` when unlimited (`max`, or v1's near-2^63 page-rounded maximum) or
/// unreadable.
fn cgroup_left(limit: &str, usage: &str, stat: &str, inactive_file: &[&str]) -> Option<u64> {
    const UNLIMITED_V1: u64 = 1 << 62;
    let limit = limit.trim().parse::<u64>().ok()?;
    if limit >= UNLIMITED_V1 {
        return None;
    }
    let usage = usage.trim().parse::<u64>().ok()?;
    let inactive = inactive_file
        .iter()
        .find_map(|key| {
            stat.lines().find_map(|line| {
                let (name, value) = line.split_once(' ')?;
                (name == *key).then(|| value.trim().parse::<u64>().ok())?
            })
        })
        .unwrap_or(0);
    Some(limit.saturating_sub(usage.saturating_sub(inactive)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn the_budget_is_the_tightest_share_of_the_limits_asked_for() {
        let headroom = Headroom {
            available: Some(8_000 * MIB),
            address_space: Some(400 * MIB),
            data_size: None,
            cgroup: Some(1_000 * MIB),
            commit: None,
        };
        let budget = |bytes, source, given_bytes| {
            Some(MemoryBudget {
                bytes,
                source,
                given_bytes,
            })
        };
        assert_eq!(
            headroom.budget(None, MemoryLimits::Process),
            budget(300 * MIB, BudgetSource::AddressSpace, None)
        );
        assert_eq!(
            headroom.budget(Some(100 * MIB), MemoryLimits::Process),
            budget(100 * MIB, BudgetSource::Given, Some(100 * MIB))
        );
        // A given budget past what the limits leave is lowered to fit.
        assert_eq!(
            headroom.budget(Some(4_000 * MIB), MemoryLimits::Process),
            budget(300 * MIB, BudgetSource::AddressSpace, Some(4_000 * MIB))
        );
        assert_eq!(
            headroom.budget(Some(4_000 * MIB), MemoryLimits::Ignored),
            budget(4_000 * MIB, BudgetSource::Given, Some(4_000 * MIB))
        );
        assert_eq!(headroom.budget(None, MemoryLimits::Ignored), None);
        // A tie goes to the given budget.
        assert_eq!(
            headroom.budget(Some(300 * MIB), MemoryLimits::Process),
            budget(300 * MIB, BudgetSource::Given, Some(300 * MIB))
        );
        let roomy = Headroom {
            address_space: None,
            ..headroom
        };
        assert_eq!(
            roomy.budget(None, MemoryLimits::Process),
            budget(750 * MIB, BudgetSource::Cgroup, None)
        );
        let unlimited = Headroom {
            available: Some(8_000 * MIB),
            ..Headroom::default()
        };
        assert_eq!(unlimited.budget(None, MemoryLimits::Process), None);
        assert_eq!(
            unlimited.budget(None, MemoryLimits::ProcessAndAvailable),
            budget(6_000 * MIB, BudgetSource::Available, None)
        );
        let strict = Headroom {
            commit: Some(40 * MIB),
            data_size: Some(80 * MIB),
            ..unlimited
        };
        assert_eq!(
            strict.budget(None, MemoryLimits::ProcessAndAvailable),
            budget(30 * MIB, BudgetSource::Commit, None)
        );
        assert_eq!(
            Headroom {
                commit: None,
                ..strict
            }
            .budget(None, MemoryLimits::Process),
            budget(60 * MIB, BudgetSource::DataSize, None)
        );
    }

    #[test]
    fn arenas_are_counted_only_as_far_as_glibc_can_make_them() {
        let arena = ARENA_BYTES;
        // Room for all: every one is made.
        assert_eq!(arenas_made(10 * arena, 2 * arena), 2 * arena);
        // The first needs twice its size to be aligned (and keeps half); then one
        // each.
        assert_eq!(arenas_made(2 * arena + 5, 4 * arena), 2 * arena);
        assert_eq!(arenas_made(3 * arena, 4 * arena), 3 * arena);
        assert_eq!(arenas_made(3 * arena - 1, 4 * arena), 2 * arena);
        // No room for the first: all are counted (the run is then refused).
        assert_eq!(arenas_made(2 * arena - 1, 4 * arena), 4 * arena);
        assert_eq!(arenas_made(0, 0), 0);
    }

    #[test]
    fn a_limit_that_leaves_too_little_to_start_is_refused() {
        let budget = |bytes, source| MemoryBudget {
            bytes,
            source,
            given_bytes: None,
        };
        // Two workers with 8 KiB batches need 2 x (4 MiB + 2 x 8 KiB).
        let least = 2 * ((4 << 20) + 2 * 8192);
        assert_eq!(
            budget(least, BudgetSource::AddressSpace).refuse_if_too_small(2, 8192),
            Ok(())
        );
        assert_eq!(
            budget(2 * MIB, BudgetSource::AddressSpace).refuse_if_too_small(2, 8192),
            Err("the memory budget of 2.0 MiB (75% of the address space `ulimit -v` leaves) is less than the 8.0 MiB that 2 workers need to start; raise that limit or use fewer workers".into())
        );
        assert!(budget(0, BudgetSource::Cgroup)
            .refuse_if_too_small(1, 8192)
            .unwrap_err()
            .contains(
                "the memory budget of 0 bytes (75% of what the cgroup's memory limit leaves)"
            ));
        // A budget given, however small, stops the run at its first level end instead.
        assert_eq!(
            budget(1, BudgetSource::Given).refuse_if_too_small(64, 8192),
            Ok(())
        );
    }

    #[test]
    fn budgets_say_what_set_them() {
        let budget = MemoryBudget {
            bytes: 300 * MIB,
            source: BudgetSource::AddressSpace,
            given_bytes: None,
        };
        assert_eq!(
            budget.to_string(),
            "300.0 MiB, 75% of the address space `ulimit -v` leaves"
        );
        assert_eq!(
            BudgetSource::Cgroup.to_string(),
            "75% of what the cgroup's memory limit leaves"
        );
        assert_eq!(BudgetSource::Given.to_string(), "as given");
        // A given budget a limit lowered says so.
        let lowered = MemoryBudget {
            given_bytes: Some(8 << 30),
            ..budget
        };
        assert_eq!(
            lowered.to_string(),
            "300.0 MiB, 75% of the address space `ulimit -v` leaves, below the 8.0 GiB given"
        );
        let given = MemoryBudget {
            source: BudgetSource::Given,
            ..lowered
        };
        assert_eq!(given.to_string(), "300.0 MiB, as given");
    }

    #[test]
    fn limits_and_usage_are_read_from_proc_text() {
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max data size             unlimited            unlimited            bytes     \n\
            Max address space         209715200            unlimited            bytes     \n";
        assert_eq!(soft_limit(limits, "Max address space"), Some(200 * MIB));
        assert_eq!(soft_limit(limits, "Max data size"), None);
        assert_eq!(soft_limit("", "Max data size"), None);
        let status =
            "Name:\tchecker\nVmPeak:\t  20000 kB\nVmSize:\t   16384 kB\nVmData:\t 2048 kB\n";
        assert_eq!(kib_field(status, "VmSize"), Some(16 * MIB));
        assert_eq!(kib_field(status, "VmData"), Some(2 * MIB));
        assert_eq!(kib_field(status, "VmRSS"), None);
        assert_eq!(
            kib_field("MemTotal:       131890804 kB\nMemFree: 1 kB\n", "MemTotal"),
            Some(131_890_804 * 1024)
        );
        assert_eq!(kib_field("MemTotal: lots kB\n", "MemTotal"), None);
        // Whatever this machine says, reading it does not fail.
        assert!(meminfo_bytes("MemTotal").is_none_or(|m| m > 0));
        let _ = process_limit("Max address space");
    }

    #[test]
    fn cgroup_membership_names_the_v2_and_v1_memory_paths() {
        let v1 = "9:name=systemd:/\n4:memory:/process_api/59ce\n3:cpuset:/\n0::/\n";
        assert_eq!(cgroup_paths(v1), (Some(""), Some("process_api/59ce")));
        let v2 = "0::/user.slice/job-7.scope\n";
        assert_eq!(cgroup_paths(v2), (Some("user.slice/job-7.scope"), None));
        let shared = "5:cpu,memory,blkio:/docker/abc\n";
        assert_eq!(cgroup_paths(shared), (None, Some("docker/abc")));
        assert_eq!(cgroup_paths("garbage\n"), (None, None));
        // A path that climbs out of the mount names nothing there.
        assert_eq!(cgroup_paths("0::/../elsewhere\n"), (None, None));
    }

    #[test]
    fn a_cgroup_limit_leaves_its_limit_less_its_usage() {
        let v2 = CGROUP_V2.inactive_file;
        assert_eq!(cgroup_left("max\n", "123\n", "", v2), None);
        assert_eq!(cgroup_left("9223372036854771712\n", "5\n", "", v2), None);
        assert_eq!(
            cgroup_left("1073741824\n", "268435456\n", "", v2),
            Some(768 * MIB)
        );
        assert_eq!(cgroup_left("100\n", "200\n", "", v2), Some(0));
        assert_eq!(cgroup_left("100\n", "lots\n", "", v2), None);
        // The inactive file cache (which the kernel reclaims first) is not use: a
        // cgroup filled with cache after a build still leaves its room.
        let stat_v2 =
            "anon 2097152\nfile 500000000\ninactive_file 400000000\nactive_file 100000000\n";
        assert_eq!(
            cgroup_left("1073741824\n", "503000000\n", stat_v2, v2),
            Some(1_073_741_824 - 103_000_000)
        );
        let stat_v1 =
            "cache 505290752\nrss 1859584\ninactive_file 5\ntotal_inactive_file 500000000\n";
        assert_eq!(
            cgroup_left(
                "1073741824\n",
                "530821120\n",
                stat_v1,
                CGROUP_V1.inactive_file
            ),
            Some(1_073_741_824 - 30_821_120)
        );
    }

    #[test]
    fn the_tightest_cgroup_on_the_way_up_sets_the_headroom() {
        let root = std::env::temp_dir().join(format!("checker-cgroup-{}", std::process::id()));
        let write = |dir: &Path, files: [&str; 2], limit: u64, usage: u64| {
            std::fs::create_dir_all(dir).unwrap();
            let limit = if limit == u64::MAX {
                "max".to_string()
            } else {
                limit.to_string()
            };
            std::fs::write(dir.join(files[0]), limit + "\n").unwrap();
            std::fs::write(dir.join(files[1]), format!("{usage}\n")).unwrap();
        };
        let v2 = ["memory.max", "memory.current"];
        // A v2 tree: the job's own cgroup is unlimited, its parent's limit is tight,
        // the grandparent's loose.
        write(&root.join("slurm/job7/step0"), v2, u64::MAX, 10);
        write(&root.join("slurm/job7"), v2, 512 * MIB, 12 * MIB);
        write(&root.join("slurm"), v2, 4_096 * MIB, 100 * MIB);
        assert_eq!(
            cgroup_headroom(&root, "0::/slurm/job7/step0\n"),
            Some(500 * MIB)
        );
        // 2 MiB of the job's use is inactive file cache.
        std::fs::write(
            root.join("slurm/job7/memory.stat"),
            format!("anon 1\ninactive_file {}\n", 2 * MIB),
        )
        .unwrap();
        assert_eq!(
            cgroup_headroom(&root, "0::/slurm/job7/step0\n"),
            Some(502 * MIB)
        );
        assert_eq!(cgroup_headroom(&root, "0::/slurm\n"), Some(3_996 * MIB));
        // A cgroup the membership names but the mount does not show is skipped.
        assert_eq!(cgroup_headroom(&root, "0::/elsewhere\n"), None);
        // v1: the memory controller's own mount, with the container's cgroup at its
        // root whatever path the membership names.
        let v1 = ["memory.limit_in_bytes", "memory.usage_in_bytes"];
        write(&root.join("memory"), v1, 256 * MIB, 56 * MIB);
        assert_eq!(
            cgroup_headroom(&root, "4:memory:/docker/abc\n0::/\n"),
            Some(200 * MIB)
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
