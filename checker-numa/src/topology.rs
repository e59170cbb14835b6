//! The machine's NUMA nodes and the CPUs on each that this process may use.
//!
//! The engine partitions work by node first (each node's workers keep their tables in
//! that node's memory), so it needs to know which CPUs share a memory controller. With
//! the `hwloc` feature the system hwloc library answers; otherwise Linux's sysfs
//! (`/sys/devices/system/node/node*/cpulist`) does, and where neither is usable the
//! whole machine is treated as one node. Every path gives each CPU to one node (hwloc
//! also lists a memory-only node's neighbouring CPUs under it), keeps only the CPUs in
//! the process's affinity mask (so `taskset` and container cpusets are honoured) and
//! drops nodes left without CPUs (memory-only nodes, or nodes outside the mask).
//! [`detect`] also reads the process's CPU quota (a cgroup's `cpu.max`, as a container
//! or a batch scheduler sets it): below the CPU count, it is the number of workers that
//! can run at once, so the default worker count follows it.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the Linux kernel lists NUMA nodes.
pub const SYSFS_NODE_DIR: &str = "/sys/devices/system/node";

/// Largest CPU number [`parse_cpulist`] accepts: far above any kernel's `NR_CPUS`
/// (8192 on x86-64), and low enough that a hostile range cannot exhaust memory.
pub const MAX_CPU_ID: usize = (1 << 20) - 1;

/// One NUMA node: a memory controller and the usable CPUs closest to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaNode {
    /// The operating system's node number (what memory binding takes).
    pub id: usize,
    /// The operating system's numbers of this node's usable CPUs, ascending.
    pub cpus: Vec<usize>,
}

/// How a [`Topology`] was obtained, so logs show whether NUMA placement is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologySource {
    /// The hwloc library (cargo feature `hwloc`).
    Hwloc,
    /// Linux's `/sys/devices/system/node`.
    Sysfs,
    /// Nothing usable was found: all usable CPUs form one node.
    SingleNode,
}

impl fmt::Display for TopologySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hwloc => "hwloc",
            Self::Sysfs => "sysfs",
            Self::SingleNode => "single node fallback",
        })
    }
}

/// The NUMA nodes this process can run on, each with at least one usable CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Nodes in ascending `id` order, none without CPUs, no CPU in two of them.
    pub nodes: Vec<NumaNode>,
    /// How the nodes were found.
    pub source: TopologySource,
    /// Whole CPUs the process's CPU quota lets it use at once, where that is fewer
    /// than [`total_cpus`](Self::total_cpus) (e.g. `docker --cpus 4` on a 64-CPU
    /// machine); `None` without such a quota.
    pub cpu_quota: Option<usize>,
}

impl Topology {
    /// Number of usable CPUs over all nodes.
    pub fn total_cpus(&self) -> usize {
        self.nodes.iter().map(|node| node.cpus.len()).sum()
    }

    /// How many workers can run at once: the CPUs, or the CPU quota where it is lower.
    pub fn usable_cpus(&self) -> usize {
        let cpus = self.total_cpus();
        self.cpu_quota.map_or(cpus, |quota| quota.min(cpus))
    }

    /// This topology under a CPU quota of `quota` whole CPUs (see
    /// [`cpu_quota`](Self::cpu_quota)); a quota of 0 or of at least the CPU count is
    /// none.
    pub fn with_cpu_quota(mut self, quota: Option<usize>) -> Self {
        self.cpu_quota = quota.filter(|&quota| quota > 0 && quota < self.total_cpus());
        self
    }

    /// The whole of `cpus` as one node numbered 0.
    pub fn single_node(cpus: Vec<usize>) -> Self {
        Self {
            nodes: vec![NumaNode { id: 0, cpus }],
            source: TopologySource::SingleNode,
            cpu_quota: None,
        }
    }
}

impl fmt::Display for Topology {
    /// A header line, then one line per node, e.g.
    ///
    /// ```text
    /// 2 NUMA nodes, 8 CPUs (source: sysfs)
    ///   node 0: 4 CPUs [0-3]
    ///   node 1: 4 CPUs [4-7]
    /// ```
    ///
    /// and, under a CPU quota, a last line such as
    /// `CPU quota (cgroup): 2 CPUs at once, so 2 workers by default`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes = self.nodes.len();
        let cpus = self.total_cpus();
        write!(
            f,
            "{nodes} NUMA node{}, {cpus} CPU{} (source: {})",
            plural(nodes),
            plural(cpus),
            self.source
        )?;
        for node in &self.nodes {
            let count = node.cpus.len();
            write!(
                f,
                "\n  node {}: {count} CPU{} [{}]",
                node.id,
                plural(count),
                format_cpulist(&node.cpus)
            )?;
        }
        if let Some(quota) = self.cpu_quota {
            write!(
                f,
                "\nCPU quota (cgroup): {quota} CPU{} at once, so {quota} worker{} by default",
                plural(quota),
                plural(quota)
            )?;
        }
        Ok(())
    }
}

/// `"s"` unless `n` is 1.
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Why topology input could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// A cpulist string was malformed.
    #[error("invalid cpulist {input:?}: {reason}")]
    InvalidCpulist {
        /// The offending text.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A sysfs file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A topology source listed no node with a usable CPU.
    #[error("no NUMA node has a CPU this process may use")]
    NoUsableNodes,
    /// The hwloc library failed.
    #[error("hwloc: {0}")]
    Hwloc(String),
}

/// Parses a Linux cpulist such as `"0-3,8-11,16"` into ascending, distinct CPU numbers.
///
/// Surrounding whitespace (sysfs files end in a newline) is ignored, and an empty list
/// is valid (a memory-only node). Overlapping entries are merged before they are
/// expanded, so the result never holds more than [`MAX_CPU_ID`]` + 1` numbers however
/// often a range is repeated.
///
/// # Errors
///
/// [`TopologyError::InvalidCpulist`] for an empty entry, a non-decimal number, a
/// reversed range, or a CPU number above [`MAX_CPU_ID`].
pub fn parse_cpulist(input: &str) -> Result<Vec<usize>, TopologyError> {
    let invalid = |reason: String| TopologyError::InvalidCpulist {
        input: input.to_owned(),
        reason,
    };
    let list = input.trim();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let mut ranges = Vec::new();
    for entry in list.split(',') {
        let (first, last) = match entry.split_once('-') {
            Some((first, last)) => (parse_cpu(first), parse_cpu(last)),
            None => (parse_cpu(entry), parse_cpu(entry)),
        };
        let (first, last) = (first.map_err(&invalid)?, last.map_err(&invalid)?);
        if first > last {
            return Err(invalid(format!("range {entry:?} is reversed")));
        }
        ranges.push((first, last));
    }
    ranges.sort_unstable();
    let mut cpus = Vec::new();
    // The lowest CPU not listed yet by the ranges already expanded.
    let mut unlisted = 0;
    for (first, last) in ranges {
        let from = first.max(unlisted);
        if from <= last {
            cpus.extend(from..=last);
            unlisted = last + 1;
        }
    }
    Ok(cpus)
}

/// Parses one CPU number of a cpulist: plain decimal digits, at most [`MAX_CPU_ID`].
fn parse_cpu(text: &str) -> Result<usize, String> {
    if text.is_empty() {
        return Err("empty entry".to_owned());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a CPU number"));
    }
    match text.parse::<usize>() {
        Ok(cpu) if cpu <= MAX_CPU_ID => Ok(cpu),
        _ => Err(format!("CPU {text} is above the limit {MAX_CPU_ID}")),
    }
}

/// Formats CPU numbers as a compact cpulist (`[0, 1, 2, 3, 8]` → `"0-3,8"`), the
/// inverse of [`parse_cpulist`].
pub fn format_cpulist(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut rest = sorted.as_slice();
    while let Some(&first) = rest.first() {
        // Consecutive numbers: each one more than the one before (never stepping past
        // `usize::MAX`, which may end a run).
        let run = 1 + rest
            .windows(2)
            .take_while(|pair| pair[0].checked_add(1) == Some(pair[1]))
            .count();
        let last = rest[run - 1];
        if !out.is_empty() {
            out.push(',');
        }
        if run == 1 {
            out.push_str(&first.to_string());
        } else {
            out.push_str(&format!("{first}-{last}"));
        }
        rest = &rest[run..];
    }
    out
}

/// The CPUs this process may run on, ascending: its affinity mask (of any length on
/// Linux, see [`crate::affinity`]), or `0..available_parallelism` where the mask
/// cannot be read.
pub fn allowed_cpus() -> Vec<usize> {
    match affinity_mask() {
        Some(cpus) if !cpus.is_empty() => cpus,
        _ => {
            let count = std::thread::available_parallelism().map_or(1, usize::from);
            (0..count).collect()
        }
    }
}

/// The calling thread's affinity mask, ascending.
#[cfg(target_os = "linux")]
fn affinity_mask() -> Option<Vec<usize>> {
    crate::affinity::allowed_cpus()
}

/// The calling thread's affinity mask, ascending (core_affinity: at most 1,024 CPUs).
#[cfg(not(target_os = "linux"))]
fn affinity_mask() -> Option<Vec<usize>> {
    let mut cpus: Vec<usize> = core_affinity::get_core_ids()?
        .into_iter()
        .map(|core| core.id)
        .collect();
    cpus.sort_unstable();
    cpus.dedup();
    Some(cpus)
}

/// Detects this machine's topology: hwloc (with the `hwloc` feature), then sysfs, then
/// a single node of all usable CPUs, with the process's CPU quota where it is below
/// their count. Never fails; [`Topology::source`] says which answered.
pub fn detect() -> Topology {
    // The standard library reads the cgroup quota (v2 `cpu.max`, v1
    // `cpu.cfs_quota_us`) and takes the lower of it and the affinity mask's size.
    let quota = std::thread::available_parallelism().ok().map(usize::from);
    detect_nodes().with_cpu_quota(quota)
}

/// The nodes, as [`detect`] finds them, without the CPU quota.
fn detect_nodes() -> Topology {
    let allowed = allowed_cpus();
    #[cfg(feature = "hwloc")]
    if let Ok(topology) = detect_hwloc(&allowed) {
        return topology;
    }
    detect_sysfs(Path::new(SYSFS_NODE_DIR), &allowed)
        .unwrap_or_else(|_| Topology::single_node(allowed))
}

/// Reads the nodes under `node_dir` (normally [`SYSFS_NODE_DIR`]), keeping only CPUs in
/// `allowed`, each in the lowest-numbered node listing it, and only nodes left with at
/// least one.
///
/// # Errors
///
/// [`TopologyError::Io`] if `node_dir` or a node's `cpulist` cannot be read,
/// [`TopologyError::InvalidCpulist`] if a `cpulist` is malformed, and
/// [`TopologyError::NoUsableNodes`] if no node keeps a CPU.
pub fn detect_sysfs(node_dir: &Path, allowed: &[usize]) -> Result<Topology, TopologyError> {
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| TopologyError::Io { path, source }
    };
    let mut nodes = Vec::new();
    for entry in fs::read_dir(node_dir).map_err(io_error(node_dir))? {
        let entry = entry.map_err(io_error(node_dir))?;
        let Some(id) = node_id(&entry.file_name().to_string_lossy()) else {
            continue; // "online", "possible", "has_cpu", ...
        };
        let cpulist_path = entry.path().join("cpulist");
        let cpulist = fs::read_to_string(&cpulist_path).map_err(io_error(&cpulist_path))?;
        nodes.push(NumaNode {
            id,
            cpus: parse_cpulist(&cpulist)?,
        });
    }
    usable_topology(nodes, allowed, TopologySource::Sysfs)
}

/// The node number in a sysfs directory name `node<N>`, if it is one: `N` written as
/// the kernel writes it (`node%d`), so `node01` is not a second node 1.
fn node_id(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("node")?;
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    digits.parse().ok()
}

/// Gives each CPU to one node, restricts the nodes to `allowed` CPUs, drops empty
/// nodes, and orders them by id.
///
/// hwloc gives a memory-only node (CXL, HBM, MCDRAM) the cpuset of the object it is
/// attached to, so those CPUs are also listed by their own node. A CPU listed by
/// several nodes belongs to the lowest-numbered of them (Linux numbers the nodes with
/// CPUs before memory-only ones), so such a node keeps none and every CPU counts once.
fn usable_topology(
    mut nodes: Vec<NumaNode>,
    allowed: &[usize],
    source: TopologySource,
) -> Result<Topology, TopologyError> {
    let mut allowed = allowed.to_vec();
    allowed.sort_unstable();
    for node in &mut nodes {
        node.cpus.sort_unstable();
        node.cpus.dedup();
    }
    nodes.sort_by_key(|node| node.id);
    let mut claimed = HashSet::new();
    for node in &mut nodes {
        node.cpus
            .retain(|&cpu| allowed.binary_search(&cpu).is_ok() && claimed.insert(cpu));
    }
    nodes.retain(|node| !node.cpus.is_empty());
    if nodes.is_empty() {
        return Err(TopologyError::NoUsableNodes);
    }
    Ok(Topology {
        nodes,
        source,
        cpu_quota: None,
    })
}

/// Asks hwloc for the NUMA nodes and the CPUs (PUs) closest to each.
#[cfg(feature = "hwloc")]
fn detect_hwloc(allowed: &[usize]) -> Result<Topology, TopologyError> {
    use hwlocality::object::types::ObjectType;

    let topology =
        hwlocality::Topology::new().map_err(|error| TopologyError::Hwloc(error.to_string()))?;
    let nodes = topology
        .objects_with_type(ObjectType::NUMANode)
        .filter_map(|node| {
            // A NUMA node's cpuset is that of the CPUs it is attached to; its bits are
            // OS PU numbers, the same numbering as the affinity mask.
            let id = node.os_index()?;
            let cpus = node.cpuset()?.iter_set().map(usize::from).collect();
            Some(NumaNode { id, cpus })
        })
        .collect();
    usable_topology(nodes, allowed, TopologySource::Hwloc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_cpus_ranges_and_mixtures() {
        assert_eq!(parse_cpulist("0").unwrap(), [0]);
        assert_eq!(parse_cpulist("0-3").unwrap(), [0, 1, 2, 3]);
        assert_eq!(
            parse_cpulist("0-3,8-11,16\n").unwrap(),
            [0, 1, 2, 3, 8, 9, 10, 11, 16]
        );
        assert_eq!(parse_cpulist("5-5").unwrap(), [5]);
    }

    #[test]
    fn empty_list_is_a_node_without_cpus() {
        assert_eq!(parse_cpulist("").unwrap(), Vec::<usize>::new());
        assert_eq!(parse_cpulist("\n").unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn overlapping_and_unordered_entries_are_merged() {
        assert_eq!(parse_cpulist("4,0-2,1-3").unwrap(), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn malformed_lists_are_rejected_with_the_reason() {
        for (input, reason) in [
            ("3-1", "reversed"),
            ("a", "not a CPU number"),
            ("1-", "empty entry"),
            ("-1", "empty entry"),
            (",", "empty entry"),
            ("1,,2", "empty entry"),
            ("0,", "empty entry"),
            ("+1", "not a CPU number"),
            ("1 - 3", "not a CPU number"),
            ("0-2-4", "not a CPU number"),
            ("1048576", "above the limit"),
            ("0-99999999999999999999999", "above the limit"),
        ] {
            let error = parse_cpulist(input).expect_err(input).to_string();
            assert!(error.contains(reason), "{input:?} gave {error:?}");
            assert!(!error.contains('\n'), "errors are one line: {error:?}");
        }
    }

    /// A cpulist of a few KiB repeating the widest range once took memory and time in
    /// proportion to the repetitions (8 MiB each, about 3 GiB for one sysfs page).
    #[test]
    fn repeated_ranges_cost_no_more_than_one() {
        let widest = format!("0-{MAX_CPU_ID}");
        let list = vec![widest.as_str(); 4096].join(",");
        let cpus = parse_cpulist(&list).unwrap();
        assert_eq!(cpus.len(), MAX_CPU_ID + 1);
        assert_eq!((cpus[0], cpus[MAX_CPU_ID]), (0, MAX_CPU_ID));
        assert!(
            cpus.capacity() <= 2 * (MAX_CPU_ID + 1),
            "{}",
            cpus.capacity()
        );
        assert_eq!(
            parse_cpulist("8-11,0-3,2-9,12,1").unwrap(),
            (0..=12).collect::<Vec<_>>()
        );
    }

    #[test]
    fn formatting_compacts_runs_and_round_trips() {
        assert_eq!(format_cpulist(&[]), "");
        assert_eq!(format_cpulist(&[7]), "7");
        assert_eq!(
            format_cpulist(&[0, 1, 2, 3, 8, 9, 10, 11, 16]),
            "0-3,8-11,16"
        );
        assert_eq!(format_cpulist(&[3, 1, 2, 1]), "1-3");
        // A run ending at the largest number does not step past it.
        assert_eq!(
            format_cpulist(&[usize::MAX, usize::MAX - 1, 0]),
            format!("0,{}-{}", usize::MAX - 1, usize::MAX)
        );
        for list in ["0-3,8-11,16", "0,2,4", "5", "0-1023"] {
            let cpus = parse_cpulist(list).unwrap();
            assert_eq!(format_cpulist(&cpus), list);
        }
    }

    #[test]
    fn sysfs_node_names_are_recognised() {
        assert_eq!(node_id("node0"), Some(0));
        assert_eq!(node_id("node12"), Some(12));
        // The kernel writes `node%d`: a zero-padded name is not a node, or `node01`
        // would be a second node 1.
        for name in [
            "node", "nodes", "node-1", "online", "has_cpu", "node1a", "node01", "node00", "node+1",
        ] {
            assert_eq!(node_id(name), None, "{name}");
        }
    }

    /// hwloc gives a memory-only node (CXL, HBM, MCDRAM) the cpuset of the object it
    /// is attached to, so its CPUs were listed (and counted) twice; each CPU must count
    /// once, on the lowest-numbered node listing it.
    #[test]
    fn a_cpu_listed_by_several_nodes_belongs_to_one() {
        let node = |id, cpus: &[usize]| NumaNode {
            id,
            cpus: cpus.to_vec(),
        };
        let all: Vec<usize> = (0..8).collect();
        // A CXL node attached to the machine (id 2) over two sockets' nodes.
        let cxl = usable_topology(
            vec![
                node(2, &all),
                node(1, &[4, 5, 6, 7]),
                node(0, &[0, 1, 2, 3]),
            ],
            &all,
            TopologySource::Hwloc,
        )
        .unwrap();
        assert_eq!(cxl.nodes, [node(0, &[0, 1, 2, 3]), node(1, &[4, 5, 6, 7])]);
        assert_eq!(cxl.total_cpus(), 8);
        // Flat-mode HBM attached beside the DDR node: the same cpuset.
        let hbm = usable_topology(
            vec![node(1, &all), node(0, &all)],
            &all,
            TopologySource::Hwloc,
        )
        .unwrap();
        assert_eq!(hbm.nodes, [node(0, &all)]);
        // Within the affinity mask too.
        let masked = usable_topology(
            vec![node(1, &[2, 3]), node(0, &[0, 1, 2, 3])],
            &[0, 2],
            TopologySource::Sysfs,
        )
        .unwrap();
        assert_eq!(masked.nodes, [node(0, &[0, 2])]);
        assert_eq!(masked.total_cpus(), 2);
    }

    #[test]
    fn display_lists_nodes_cpus_and_source() {
        let topology = Topology {
            nodes: vec![
                NumaNode {
                    id: 0,
                    cpus: vec![0, 1, 2, 3],
                },
                NumaNode {
                    id: 2,
                    cpus: vec![8],
                },
            ],
            source: TopologySource::Sysfs,
            cpu_quota: None,
        };
        assert_eq!(topology.total_cpus(), 5);
        let nodes =
            "2 NUMA nodes, 5 CPUs (source: sysfs)\n  node 0: 4 CPUs [0-3]\n  node 2: 1 CPU [8]";
        assert_eq!(topology.to_string(), nodes);
        assert_eq!(
            topology.with_cpu_quota(Some(1)).to_string(),
            format!("{nodes}\nCPU quota (cgroup): 1 CPU at once, so 1 worker by default")
        );
    }
}
