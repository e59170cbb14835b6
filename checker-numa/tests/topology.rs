//! Topology detection and thread pinning against this machine and a fake sysfs tree.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;

use checker_numa::placement::{pin_current_thread, plan, Placement};
use checker_numa::topology::{
    allowed_cpus, detect, detect_sysfs, NumaNode, TopologyError, TopologySource,
};

/// A scratch directory removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "checker-numa-topology-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create scratch directory");
        Self(path)
    }

    /// Writes `contents` to `relative`, creating parent directories.
    fn write(&self, relative: &str, contents: &str) {
        let path = self.0.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn detect_finds_at_least_one_node_and_only_allowed_cpus() {
    let topology = detect();
    let allowed = allowed_cpus();
    assert!(!topology.nodes.is_empty(), "{topology}");
    assert!(topology.nodes.iter().all(|node| !node.cpus.is_empty()));
    assert!(
        topology.nodes.windows(2).all(|w| w[0].id < w[1].id),
        "nodes ascend by id: {topology}"
    );
    let mut detected: Vec<usize> = topology
        .nodes
        .iter()
        .flat_map(|node| node.cpus.iter().copied())
        .collect();
    detected.sort_unstable();
    // Every allowed CPU belongs to exactly one node, and nothing else does.
    assert_eq!(detected, allowed, "{topology}");
    assert_eq!(topology.total_cpus(), allowed.len());
    let expected_source = if cfg!(feature = "hwloc") {
        TopologySource::Hwloc
    } else if Path::new("/sys/devices/system/node/node0").exists() {
        TopologySource::Sysfs
    } else {
        TopologySource::SingleNode
    };
    assert_eq!(topology.source, expected_source);
    println!("{topology}");
}

#[test]
fn sysfs_nodes_are_restricted_to_allowed_cpus_and_empty_ones_dropped() {
    let sysfs = ScratchDir::new("restricted");
    sysfs.write("node1/cpulist", "4-7\n");
    sysfs.write("node0/cpulist", "0-3\n");
    sysfs.write("node2/cpulist", "\n"); // memory-only node
    sysfs.write("node3/cpulist", "8-9\n"); // outside the affinity mask
    sysfs.write("online", "0-3\n");
    sysfs.write("possible", "0-3\n");
    let topology = detect_sysfs(sysfs.path(), &[5, 0, 1, 2]).unwrap();
    assert_eq!(topology.source, TopologySource::Sysfs);
    assert_eq!(
        topology.nodes,
        [
            NumaNode {
                id: 0,
                cpus: vec![0, 1, 2]
            },
            NumaNode {
                id: 1,
                cpus: vec![5]
            },
        ]
    );
    assert_eq!(topology.total_cpus(), 4);
}

/// A CPU listed by two nodes counts once, on the lower-numbered; a zero-padded name is
/// not the kernel's and not a node.
#[test]
fn sysfs_cpus_count_once_and_padded_names_are_not_nodes() {
    let sysfs = ScratchDir::new("duplicates");
    sysfs.write("node0/cpulist", "0-3\n");
    sysfs.write("node1/cpulist", "2-5\n");
    sysfs.write("node01/cpulist", "6-7\n");
    let topology = detect_sysfs(sysfs.path(), &[0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    assert_eq!(
        topology.nodes,
        [
            NumaNode {
                id: 0,
                cpus: vec![0, 1, 2, 3]
            },
            NumaNode {
                id: 1,
                cpus: vec![4, 5]
            },
        ]
    );
    assert_eq!(topology.total_cpus(), 6);
}

#[test]
fn unusable_sysfs_trees_are_errors_not_panics() {
    let missing = detect_sysfs(Path::new("/nonexistent/checker-numa/node"), &[0]);
    assert!(
        matches!(missing, Err(TopologyError::Io { .. })),
        "{missing:?}"
    );

    let malformed = ScratchDir::new("malformed");
    malformed.write("node0/cpulist", "0-x\n");
    let error = detect_sysfs(malformed.path(), &[0]).unwrap_err();
    assert!(matches!(error, TopologyError::InvalidCpulist { .. }));
    assert_eq!(
        error.to_string(),
        "invalid cpulist \"0-x\\n\": \"x\" is not a CPU number"
    );

    let no_cpulist = ScratchDir::new("no-cpulist");
    no_cpulist.write("node0/meminfo", "");
    let error = detect_sysfs(no_cpulist.path(), &[0]).unwrap_err();
    assert!(matches!(error, TopologyError::Io { .. }), "{error:?}");

    let disjoint = ScratchDir::new("disjoint");
    disjoint.write("node0/cpulist", "2-3\n");
    let error = detect_sysfs(disjoint.path(), &[0, 1]).unwrap_err();
    assert!(matches!(error, TopologyError::NoUsableNodes), "{error:?}");
}

#[test]
fn a_worker_pins_itself_to_its_planned_cpu() {
    let topology = detect();
    let plan = plan(&topology, 0);
    let last = *plan.workers.last().unwrap();
    let affinity = thread::spawn(move || {
        let pinned = pin_current_thread(&last);
        (pinned, core_affinity::get_core_ids())
    })
    .join()
    .unwrap();
    let (pinned, cores) = affinity;
    assert!(pinned, "pinning to an allowed CPU succeeds");
    let cores: Vec<usize> = cores.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(cores, [last.cpu.unwrap()], "the thread now runs only there");
}

#[test]
fn impossible_pins_report_failure_without_panicking() {
    let outcomes = thread::spawn(|| {
        let unplaced = Placement {
            worker: 0,
            node: 0,
            cpu: None,
        };
        let absent = Placement {
            worker: 0,
            node: 0,
            cpu: Some(100_000),
        };
        let outside_mask = Placement {
            cpu: Some(1023),
            ..absent
        };
        let results = [
            pin_current_thread(&unplaced),
            pin_current_thread(&absent),
            pin_current_thread(&outside_mask),
        ];
        (results, core_affinity::get_core_ids())
    })
    .join()
    .unwrap();
    let (results, cores) = outcomes;
    if allowed_cpus().contains(&1023) {
        assert_eq!(results[..2], [false, false]);
    } else {
        assert_eq!(results, [false, false, false]);
    }
    // A failed pin leaves the thread's affinity as it was.
    let cores: Vec<usize> = cores.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(cores, allowed_cpus());
}
