//! Worker counts whose mailboxes cannot fit: rings are per (sender, receiver) pair, so
//! their memory grows with the square of the worker count. Such a run is refused
//! before anything is allocated, not aborted by the allocator.

mod common_graph;

use checker_core::CheckOptions;
use checker_numa::mailbox_memory::mailbox_memory;
use checker_numa::{check, EngineConfig, EngineError};
use common_graph::RandomGraph;
use std::time::{Duration, Instant};

#[test]
fn four_thousand_workers_are_refused_within_a_gib() {
    let m = RandomGraph::new(1_000, 3, 1);
    let config = EngineConfig {
        workers: 4_000,
        pin: false,
        memory_budget: Some(1 << 30),
        ..EngineConfig::default()
    };
    // Rings of 16 messages: 16 million pairs of about 3.6 KiB.
    let need = mailbox_memory(4_000, config.ring_capacity);
    assert!((50 << 30..60 << 30).contains(&need), "{need}");
    let started = Instant::now();
    let e = check(&m, &CheckOptions::default(), &config).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(e, EngineError::Config(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "4000 workers need about {:.1} GiB for their mailboxes alone, more than the memory budget of 1.0 GiB; use fewer workers",
            need as f64 / (1u64 << 30) as f64
        )
    );
}

/// A budget smaller than the mailboxes of a few workers is no reason to refuse them:
/// the run stops at its first level end instead, as with any budget too small.
#[test]
fn a_tiny_budget_still_stops_at_the_first_level_end() {
    let m = RandomGraph::new(1_000, 3, 1);
    let config = EngineConfig {
        workers: 4,
        pin: false,
        memory_budget: Some(1),
        ..EngineConfig::default()
    };
    let got = check(&m, &CheckOptions::default(), &config).unwrap();
    assert_eq!(
        got.outcome.verdict,
        checker_core::Verdict::Partial {
            reason: checker_core::StopReason::MemoryBudget
        }
    );
    assert_eq!(got.outcome.level_sizes.len(), 1);
}
