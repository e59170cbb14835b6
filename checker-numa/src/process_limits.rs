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
//! absent.

use std::fmt;
use std::path::Path;

use crate::mailbox_memory::{meminfo_bytes, size_text};

/// Share of what a limit leaves that the run's budget may take.
pub const HEADROOM_SHARE: f64 = 0.75;

/// Which limits the budget is lowered to fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryLimits {
    /// None: only [`EngineConfig::memory_budget`](crate::EngineConfig::memory_budget).
    Ignored,
    /// The ones whose breach kills the run: the address-space and data-size limits,
    /// the cgroup's memory limit, and the commit limit under strict overcommit.
    #[default]
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
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", size_text(self.bytes, 1), self.source)
    }
}

/// Bytes each limit leaves the run when it starts, after what the workers' threads
/// and mailboxes will take of it; `None` where there is no such limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Headroom {
    /// `MemAvailable`.
    pub available: Option<u64>,
    /// `ulimit -v` less the address space in use and the threads' and mailboxes'.
    pub address_space: Option<u64>,
    /// `ulimit -d` less the data in use and the threads' stacks and mailboxes.
    pub data_size: Option<u64>,
    /// The tightest cgroup memory limit above the process, less that cgroup's use and
    /// the mailboxes.
    pub cgroup: Option<u64>,
    /// Under strict overcommit, the commit limit less the charge, the stacks and the
    /// mailboxes.
    pub commit: Option<u64>,
}

impl Headroom {
    /// Reads the limits as they stand, for a run whose threads reserve `threads`
    /// bytes of address space (`stacks` of it their stacks) and whose mailboxes take
    /// `mailboxes` bytes.
    pub fn read(threads: u64, stacks: u64, mailboxes: u64) -> Self {
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
            available: meminfo_bytes("MemAvailable"),
            address_space: left(
                soft_limit(&limits, "Max address space"),
                status_bytes(&status, "VmSize"),
                threads.saturating_add(mailboxes),
            ),
            data_size: left(
                soft_limit(&limits, "Max data size"),
                status_bytes(&status, "VmData"),
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
            })
        };
        let process = [
            share(self.address_space, BudgetSource::AddressSpace),
            share(self.data_size, BudgetSource::DataSize),
            share(self.cgroup, BudgetSource::Cgroup),
            share(self.commit, BudgetSource::Commit),
        ];
        let available = share(self.available, BudgetSource::Available);
        let given = given.map(|bytes| MemoryBudget {
            bytes,
            source: BudgetSource::Given,
        });
        let candidates: &[Option<MemoryBudget>] = match limits {
            MemoryLimits::Ignored => &[],
            MemoryLimits::Process => &process,
            MemoryLimits::ProcessAndAvailable => {
                &[process[0], process[1], process[2], process[3], available]
            }
        };
        // The given budget comes first, so that it wins a tie.
        std::iter::once(given)
            .chain(candidates.iter().copied())
            .flatten()
            .min_by_key(|b| b.bytes)
    }
}

/// The soft limit on the `name` line of `/proc/self/limits`; `None` when unlimited
/// or absent.
fn soft_limit(limits: &str, name: &str) -> Option<u64> {
    let line = limits.lines().find_map(|l| l.strip_prefix(name))?;
    line.split_whitespace().next()?.parse::<u64>().ok()
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kib.checked_mul(1024)
}

/// What the tightest memory limit among the process's cgroup and its ancestors
/// leaves, with the cgroup file system mounted at `root` and `membership` read from
/// `/proc/self/cgroup`: cgroup v2's `memory.max` less `memory.current`, or v1's
/// `memory.limit_in_bytes` less `memory.usage_in_bytes`.
fn cgroup_headroom(root: &Path, membership: &str) -> Option<u64> {
    let (v2, v1) = cgroup_paths(membership);
    let mut tightest: Option<u64> = None;
    let mut consider = |dir: &Path, limit_file: &str, usage_file: &str| {
        for dir in dir.ancestors() {
            let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
            if let (Some(limit), Some(usage)) = (read(limit_file), read(usage_file)) {
                if let Some(left) = cgroup_left(&limit, &usage) {
                    tightest = Some(tightest.map_or(left, |t| t.min(left)));
                }
            }
            if dir == root || dir.parent().is_none() {
                break;
            }
        }
    };
    if let Some(path) = v2 {
        consider(&root.join(path), "memory.max", "memory.current");
    }
    if let Some(path) = v1 {
        let mount = root.join("memory");
        consider(
            &mount.join(path),
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
        );
        // In a container the controller's mount often is the container's own cgroup,
        // whatever path the membership names.
        consider(&mount, "memory.limit_in_bytes", "memory.usage_in_bytes");
    }
    tightest
}

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
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        } else if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path);
        }
    }
    (v2, v1)
}

/// What a cgroup's limit leaves beside its usage, given the two files' contents;
/// `None` when unlimited (`max`, or v1's near-2^63 page-rounded maximum) or unreadable.
fn cgroup_left(limit: &str, usage: &str) -> Option<u64> {
    const UNLIMITED_V1: u64 = 1 << 62;
    let limit = limit.trim().parse::<u64>().ok()?;
    if limit >= UNLIMITED_V1 {
        return None;
    }
    let usage = usage.trim().parse::<u64>().ok()?;
    Some(limit.saturating_sub(usage))
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
        let budget = |bytes, source| Some(MemoryBudget { bytes, source });
        assert_eq!(
            headroom.budget(None, MemoryLimits::Process),
            budget(300 * MIB, BudgetSource::AddressSpace)
        );
        assert_eq!(
            headroom.budget(Some(100 * MIB), MemoryLimits::Process),
            budget(100 * MIB, BudgetSource::Given)
        );
        // A given budget past what the limits leave is lowered to fit.
        assert_eq!(
            headroom.budget(Some(4_000 * MIB), MemoryLimits::Process),
            budget(300 * MIB, BudgetSource::AddressSpace)
        );
        assert_eq!(
            headroom.budget(Some(4_000 * MIB), MemoryLimits::Ignored),
            budget(4_000 * MIB, BudgetSource::Given)
        );
        assert_eq!(headroom.budget(None, MemoryLimits::Ignored), None);
        // A tie goes to the given budget.
        assert_eq!(
            headroom.budget(Some(300 * MIB), MemoryLimits::Process),
            budget(300 * MIB, BudgetSource::Given)
        );
        let roomy = Headroom {
            address_space: None,
            ..headroom
        };
        assert_eq!(
            roomy.budget(None, MemoryLimits::Process),
            budget(750 * MIB, BudgetSource::Cgroup)
        );
        let unlimited = Headroom {
            available: Some(8_000 * MIB),
            ..Headroom::default()
        };
        assert_eq!(unlimited.budget(None, MemoryLimits::Process), None);
        assert_eq!(
            unlimited.budget(None, MemoryLimits::ProcessAndAvailable),
            budget(6_000 * MIB, BudgetSource::Available)
        );
        let strict = Headroom {
            commit: Some(40 * MIB),
            data_size: Some(80 * MIB),
            ..unlimited
        };
        assert_eq!(
            strict.budget(None, MemoryLimits::ProcessAndAvailable),
            budget(30 * MIB, BudgetSource::Commit)
        );
        assert_eq!(
            Headroom {
                commit: None,
                ..strict
            }
            .budget(None, MemoryLimits::Process),
            budget(60 * MIB, BudgetSource::DataSize)
        );
    }

    #[test]
    fn budgets_say_what_set_them() {
        let budget = MemoryBudget {
            bytes: 300 * MIB,
            source: BudgetSource::AddressSpace,
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
        assert_eq!(status_bytes(status, "VmSize"), Some(16 * MIB));
        assert_eq!(status_bytes(status, "VmData"), Some(2 * MIB));
        assert_eq!(status_bytes(status, "VmRSS"), None);
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
    }

    #[test]
    fn a_cgroup_limit_leaves_its_limit_less_its_usage() {
        assert_eq!(cgroup_left("max\n", "123\n"), None);
        assert_eq!(cgroup_left("9223372036854771712\n", "5\n"), None);
        assert_eq!(cgroup_left("1073741824\n", "268435456\n"), Some(768 * MIB));
        assert_eq!(cgroup_left("100\n", "200\n"), Some(0));
        assert_eq!(cgroup_left("100\n", "lots\n"), None);
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
