//! What machine a sweep ran on, recorded beside its numbers: scaling results mean
//! little without the CPU, the core count and whether NUMA placement was real.

use serde::Serialize;

use checker_numa::topology::Topology;

/// The machine facts stored in `results.json`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Machine {
    /// The CPU model as `/proc/cpuinfo` names it, or `unknown`.
    pub cpu_model: String,
    /// CPUs this process may use at once (the affinity mask and a CPU quota honoured):
    /// the limit for speed runs.
    pub cpus: usize,
    /// The CPU quota, where it is below the CPUs of the affinity mask.
    pub cpu_quota: Option<usize>,
    /// NUMA nodes with at least one usable CPU.
    pub numa_nodes: usize,
    /// How the topology was found: `hwloc`, `sysfs` or `single node fallback`.
    pub topology_source: String,
}

impl Machine {
    /// Describes this machine from its detected topology.
    pub fn describe(topology: &Topology) -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model_from(&text))
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            cpu_model,
            cpus: topology.usable_cpus(),
            cpu_quota: topology.cpu_quota,
            numa_nodes: topology.nodes.len(),
            topology_source: topology.source.to_string(),
        }
    }

    /// One line for the terminal, e.g. `AMD EPYC, 2 CPUs, 1 NUMA node (sysfs)`, or
    /// `AMD EPYC, 2 CPUs (CPU quota), 1 NUMA node (sysfs)`.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} CPU{}{}, {} NUMA node{} ({})",
            self.cpu_model,
            self.cpus,
            if self.cpus == 1 { "" } else { "s" },
            if self.cpu_quota.is_some() {
                " (CPU quota)"
            } else {
                ""
            },
            self.numa_nodes,
            if self.numa_nodes == 1 { "" } else { "s" },
            self.topology_source
        )
    }
}

/// The CPU model from the text of `/proc/cpuinfo`: `model name` on x86, else the first
/// of `Model`, `Hardware` or `cpu model` (Arm, MIPS and others name it differently).
pub fn cpu_model_from(cpuinfo: &str) -> Option<String> {
    ["model name", "Model", "Hardware", "cpu model"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                (name.trim() == *key && !value.trim().is_empty()).then(|| value.trim().to_string())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use checker_numa::topology::{NumaNode, TopologySource};

    #[test]
    fn reads_the_model_name() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model_from(text).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(
            cpu_model_from("processor : 0\nModel : Raspberry Pi 4\n").as_deref(),
            Some("Raspberry Pi 4")
        );
        assert_eq!(cpu_model_from("processor : 0\n"), None);
    }

    #[test]
    fn counts_cpus_and_nodes() {
        let topology = Topology {
            nodes: vec![
                NumaNode {
                    id: 0,
                    cpus: vec![0, 1],
                },
                NumaNode {
                    id: 1,
                    cpus: vec![2, 3, 4],
                },
            ],
            source: TopologySource::Sysfs,
            cpu_quota: None,
        };
        let machine = Machine::describe(&topology);
        assert_eq!((machine.cpus, machine.numa_nodes), (5, 2));
        assert_eq!(machine.topology_source, "sysfs");
        assert!(machine.summary().ends_with("5 CPUs, 2 NUMA nodes (sysfs)"));
        let quota = Machine::describe(&topology.with_cpu_quota(Some(3)));
        assert_eq!((quota.cpus, quota.cpu_quota), (3, Some(3)));
        assert!(quota
            .summary()
            .ends_with("3 CPUs (CPU quota), 2 NUMA nodes (sysfs)"));
    }
}
