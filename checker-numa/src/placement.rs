//! Which worker runs on which NUMA node and CPU.
//!
//! A worker owns its visited table, frontier and parent log, and allocates them on
//! the node it runs on, so where workers go decides which memory controllers the run
//! uses. The plan spreads workers over the nodes in proportion to their CPUs (16
//! workers on two 64-CPU nodes get 8 each, so both controllers serve the run, rather
//! than 16 on the first node), gives every worker its own CPU while there are enough,
//! and numbers workers node-major so that the workers of a node are contiguous.

use std::cmp::Reverse;
use std::fmt;

use crate::topology::Topology;

pub use crate::pin::pin_current_thread;

/// Where one worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The worker's number, `0..workers`, node-major.
    pub worker: usize,
    /// The operating system's number of the worker's NUMA node ([`NumaNode::id`]).
    ///
    /// [`NumaNode::id`]: crate::topology::NumaNode::id
    pub node: usize,
    /// The CPU to pin the worker to; `None` only when the topology lists no CPU at all,
    /// in which case the worker runs unpinned.
    pub cpu: Option<usize>,
}

/// A placement for every worker of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementPlan {
    /// One entry per worker, indexed by worker number.
    pub workers: Vec<Placement>,
    /// More workers than CPUs (or than the CPU quota lets run at once): workers share
    /// CPUs, so the run is correct but slower, and waiting workers sleep rather than
    /// spin.
    pub oversubscribed: bool,
    /// How many workers can run at once: [`Topology::usable_cpus`].
    pub cpus: usize,
}

/// Places `workers` workers on `topology`; `workers == 0` means one per usable CPU
/// ([`Topology::usable_cpus`]: the CPU quota, where it is below the CPU count).
///
/// Each node gets a share of the workers proportional to its CPU count (largest
/// remainder rounding; ties go to the node with fewer workers so far, then to the
/// lower-numbered one, which spreads workers over more memory controllers). Within a
/// node, workers take the node's CPUs in order, so while `workers` does not exceed the
/// CPU count every worker has a CPU to itself; beyond that, CPUs are reused round-robin
/// within each node and the plan is marked oversubscribed.
///
/// The caller validates `workers` (one `Placement` is allocated per worker).
pub fn plan(topology: &Topology, workers: usize) -> PlacementPlan {
    let total_cpus = topology.total_cpus();
    let cpus = topology.usable_cpus();
    let workers = if workers == 0 { cpus.max(1) } else { workers };
    let oversubscribed = workers > cpus;
    if total_cpus == 0 {
        // Only a hand-built topology can get here (detection always finds a CPU):
        // keep the run going, unpinned, on the first node.
        let node = topology.nodes.first().map_or(0, |node| node.id);
        let workers = (0..workers)
            .map(|worker| Placement {
                worker,
                node,
                cpu: None,
            })
            .collect();
        return PlacementPlan {
            workers,
            oversubscribed,
            cpus,
        };
    }
    let shares = node_shares(topology, workers, total_cpus);
    let mut placements = Vec::with_capacity(workers);
    for (node, share) in topology.nodes.iter().zip(shares) {
        for k in 0..share {
            placements.push(Placement {
                worker: placements.len(),
                node: node.id,
                // `share > 0` only for nodes with CPUs (see `node_shares`).
                cpu: Some(node.cpus[k % node.cpus.len()]),
            });
        }
    }
    PlacementPlan {
        workers: placements,
        oversubscribed,
        cpus,
    }
}

/// How many of `workers` each node gets: `workers * cpus / total_cpus` rounded by
/// largest remainder, so the shares sum to `workers`, differ from the exact proportion
/// by less than one, never exceed a node's CPU count while `workers <= total_cpus`, and
/// are 0 for nodes without CPUs.
fn node_shares(topology: &Topology, workers: usize, total_cpus: usize) -> Vec<usize> {
    // u128: `workers * cpus` cannot overflow.
    let (workers_wide, total_wide) = (workers as u128, total_cpus as u128);
    let exact = |cpus: usize| workers_wide * cpus as u128;
    let mut shares: Vec<usize> = topology
        .nodes
        .iter()
        .map(|node| {
            usize::try_from(exact(node.cpus.len()) / total_wide)
                .expect("a share is at most the worker count")
        })
        .collect();
    let leftover = workers - shares.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by_key(|&i| {
        let remainder = exact(topology.nodes[i].cpus.len()) % total_wide;
        (Reverse(remainder), shares[i], i)
    });
    // `leftover` is the sum of remainders over `total_cpus`, and each remainder is
    // below `total_cpus`, so it never exceeds the number of nodes with a non-zero
    // remainder: each such node gets at most one extra worker, and none other does.
    for &i in order.iter().take(leftover) {
        shares[i] += 1;
    }
    shares
}

impl fmt::Display for PlacementPlan {
    /// A table with one row per worker (`-` for no CPU), then a warning line if
    /// oversubscribed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}  {:>4}  {:>4}", "worker", "node", "cpu")?;
        for placement in &self.workers {
            let cpu = placement
                .cpu
                .map_or_else(|| "-".to_owned(), |cpu| cpu.to_string());
            write!(
                f,
                "\n{:>6}  {:>4}  {:>4}",
                placement.worker, placement.node, cpu
            )?;
        }
        if self.oversubscribed {
            write!(
                f,
                "\noversubscribed: {} workers share {} CPU{}",
                self.workers.len(),
                self.cpus,
                if self.cpus == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{NumaNode, TopologySource};

    /// A topology whose nodes have the given CPU counts, numbered consecutively.
    fn topology(cpus_per_node: &[usize]) -> Topology {
        let mut next_cpu = 0;
        let nodes = cpus_per_node
            .iter()
            .enumerate()
            .map(|(id, &count)| {
                let cpus = (next_cpu..next_cpu + count).collect();
                next_cpu += count;
                NumaNode { id, cpus }
            })
            .collect();
        Topology {
            nodes,
            source: TopologySource::Sysfs,
            cpu_quota: None,
        }
    }

    /// `(node, cpu)` of every worker, in worker order.
    fn layout(plan: &PlacementPlan) -> Vec<(usize, Option<usize>)> {
        plan.workers.iter().map(|p| (p.node, p.cpu)).collect()
    }

    #[test]
    fn more_workers_than_cpus_reuses_cpus_and_says_so() {
        let plan = plan(&topology(&[2]), 3);
        assert!(plan.oversubscribed);
        assert_eq!(layout(&plan), [(0, Some(0)), (0, Some(1)), (0, Some(0))]);
    }

    #[test]
    fn equal_nodes_split_workers_evenly_node_major() {
        let plan = plan(&topology(&[4, 4]), 4);
        assert!(!plan.oversubscribed);
        assert_eq!(
            layout(&plan),
            [(0, Some(0)), (0, Some(1)), (1, Some(4)), (1, Some(5))]
        );
    }

    #[test]
    fn sixteen_workers_on_two_big_nodes_use_both() {
        let plan = plan(&topology(&[64, 64]), 16);
        let on_node = |n| plan.workers.iter().filter(|p| p.node == n).count();
        assert_eq!((on_node(0), on_node(1)), (8, 8));
    }

    #[test]
    fn unequal_nodes_get_workers_in_proportion() {
        let plan = plan(&topology(&[3, 1]), 4);
        assert!(!plan.oversubscribed);
        assert_eq!(
            layout(&plan),
            [(0, Some(0)), (0, Some(1)), (0, Some(2)), (1, Some(3))]
        );
        // A tie in rounding goes to the node with fewer workers: both controllers used.
        let two = super::plan(&topology(&[3, 1]), 2);
        assert_eq!(layout(&two), [(0, Some(0)), (1, Some(3))]);
    }

    #[test]
    fn zero_workers_means_one_per_cpu() {
        let plan = plan(&topology(&[3, 1]), 0);
        assert!(!plan.oversubscribed);
        assert_eq!(plan.workers.len(), 4);
        let cpus: Vec<_> = plan.workers.iter().map(|p| p.cpu).collect();
        assert_eq!(cpus, [Some(0), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn a_cpu_quota_sets_the_default_count_and_what_oversubscribes() {
        // 8 CPUs on two nodes, a quota of 2: one worker on each node by default.
        let quota = topology(&[4, 4]).with_cpu_quota(Some(2));
        assert_eq!((quota.total_cpus(), quota.usable_cpus()), (8, 2));
        let default = plan(&quota, 0);
        assert_eq!(layout(&default), [(0, Some(0)), (1, Some(4))]);
        assert!(!default.oversubscribed);
        assert_eq!(default.cpus, 2);
        // More workers than the quota runs at once share it, on CPUs of their own.
        let four = plan(&quota, 4);
        assert!(four.oversubscribed);
        assert_eq!(
            layout(&four),
            [(0, Some(0)), (0, Some(1)), (1, Some(4)), (1, Some(5))]
        );
        assert!(four
            .to_string()
            .ends_with("oversubscribed: 4 workers share 2 CPUs"));
        // A quota of at least the CPU count is none.
        assert_eq!(topology(&[4, 4]).with_cpu_quota(Some(8)).cpu_quota, None);
        assert_eq!(topology(&[4, 4]).with_cpu_quota(Some(1)).usable_cpus(), 1);
        assert_eq!(topology(&[4, 4]).with_cpu_quota(Some(0)).cpu_quota, None);
    }

    #[test]
    fn a_topology_without_cpus_yields_unpinned_workers() {
        let empty = Topology {
            nodes: vec![],
            source: TopologySource::SingleNode,
            cpu_quota: None,
        };
        let plan = plan(&empty, 2);
        assert!(plan.oversubscribed);
        assert_eq!(layout(&plan), [(0, None), (0, None)]);
        assert_eq!(super::plan(&empty, 0).workers.len(), 1);
    }

    /// Every invariant the engine relies on, over all small shapes.
    #[test]
    fn plans_respect_their_invariants_for_all_small_shapes() {
        let shapes: &[&[usize]] = &[
            &[1],
            &[2],
            &[4],
            &[1, 1],
            &[3, 1],
            &[1, 3],
            &[2, 2],
            &[4, 0, 4],
            &[1, 2, 3],
            &[5, 5, 5, 1],
        ];
        for &shape in shapes {
            let topology = topology(shape);
            let total = topology.total_cpus();
            for requested in 0..=3 * total + 1 {
                let plan = plan(&topology, requested);
                let workers = if requested == 0 { total } else { requested };
                let context = format!("shape {shape:?}, {requested} workers");
                assert_eq!(plan.workers.len(), workers, "{context}");
                assert_eq!(plan.oversubscribed, workers > total, "{context}");
                // Numbered in order, node-major (node ids here ascend with position).
                for (i, p) in plan.workers.iter().enumerate() {
                    assert_eq!(p.worker, i, "{context}");
                    let node = &topology.nodes[p.node];
                    assert!(node.cpus.contains(&p.cpu.unwrap()), "{context}");
                }
                assert!(
                    plan.workers.windows(2).all(|w| w[0].node <= w[1].node),
                    "{context}"
                );
                // Proportional: each share within one of workers * cpus / total.
                for node in &topology.nodes {
                    let share = plan.workers.iter().filter(|p| p.node == node.id).count();
                    let exact = (workers * node.cpus.len()) as f64 / total as f64;
                    assert!((share as f64 - exact).abs() < 1.0, "{context}: {share}");
                }
                // Distinct CPUs while they suffice; otherwise as even as possible.
                let mut uses = vec![0usize; total];
                for p in &plan.workers {
                    uses[p.cpu.unwrap()] += 1;
                }
                if workers <= total {
                    assert!(uses.iter().all(|&n| n <= 1), "{context}: {uses:?}");
                }
                for node in &topology.nodes {
                    let node_uses = node.cpus.iter().map(|&cpu| uses[cpu]);
                    let (min, max) = (node_uses.clone().min(), node_uses.max());
                    if let (Some(min), Some(max)) = (min, max) {
                        assert!(max - min <= 1, "{context}: {uses:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn display_is_a_table_with_an_oversubscription_note() {
        let plan = plan(&topology(&[1, 1]), 3);
        assert_eq!(
            plan.to_string(),
            "worker  node   cpu\n     0     0     0\n     1     0     0\n     2     1     1\n\
             oversubscribed: 3 workers share 2 CPUs"
        );
    }
}
