//! The sequential checker on tiny hand-made models whose answers are known by hand.

use checker_core::{sequential, Action, CheckOptions, Model, StopReason, Verdict, ViolationKind};

/// A counter 0..=limit that can add 1 or 2; optionally stops (deadlocks) at `limit`.
struct Counter {
    limit: u32,
    bad: Option<u32>,
}

impl Model for Counter {
    type State = u32;
    fn name(&self) -> String {
        format!("counter {}", self.limit)
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u32)) {
        emit(&0);
    }
    fn successors(&self, s: &u32, emit: &mut dyn FnMut(Action, &u32)) {
        for step in 1..=2 {
            if s + step <= self.limit {
                emit(Action(step), &(s + step));
            }
        }
    }
    fn invariant_names(&self) -> Vec<String> {
        vec!["NotBad".into()]
    }
    fn check_invariant(&self, _: usize, s: &u32) -> bool {
        Some(*s) != self.bad
    }
    fn action_label(&self, a: Action) -> String {
        format!("Add({})", a.0)
    }
    fn pack(&self, s: &u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&s.to_le_bytes());
    }
    fn unpack(&self, b: &[u8]) -> u32 {
        u32::from_le_bytes(b.try_into().unwrap())
    }
    fn render(&self, s: &u32) -> String {
        format!("n = {s}")
    }
}

#[test]
fn counts_levels_and_reports_deadlock() {
    let m = Counter {
        limit: 6,
        bad: None,
    };
    let out = sequential::check(&m, &CheckOptions::default()).unwrap();
    // Levels: {0} {1,2} {3,4} {5,6}; 6 is the deadlock at depth 3.
    assert_eq!(out.distinct, 7);
    assert_eq!(out.level_sizes, vec![1, 2, 2, 2]);
    assert_eq!(out.depth, 4);
    // generated: 1 initial + 2+2+2+2+2+1 (from 0..=5) = 12, 6 itself is the deadlock.
    assert_eq!(out.generated, 12);
    assert_eq!(out.deadlocks, 1);
    let v = out.violation().expect("deadlock expected");
    assert_eq!(v.kind, ViolationKind::Deadlock);
    let labels: Vec<_> = v.trace.steps.iter().map(|s| s.action.clone()).collect();
    assert_eq!(v.trace.transitions(), 3);
    assert_eq!(v.trace.steps.last().unwrap().state, "n = 6");
    assert_eq!(labels[0], None);
    assert_eq!(out.exit_code(), 1);
}

#[test]
fn no_deadlock_switch_explores_everything() {
    let m = Counter {
        limit: 6,
        bad: None,
    };
    let opts = CheckOptions {
        check_deadlock: false,
        ..CheckOptions::default()
    };
    let out = sequential::check(&m, &opts).unwrap();
    assert_eq!(out.verdict, Verdict::Holds);
    assert_eq!(out.deadlocks, 1);
    assert_eq!(out.distinct, 7);
}

#[test]
fn invariant_violation_has_shortest_trace_with_lowest_fingerprint_parent() {
    let m = Counter {
        limit: 100,
        bad: Some(5),
    };
    let out = sequential::check(&m, &CheckOptions::default()).unwrap();
    let v = out.violation().unwrap();
    assert_eq!(v.kind, ViolationKind::Invariant("NotBad".into()));
    assert_eq!(v.trace.transitions(), 3);
    assert_eq!(v.trace.steps.last().unwrap().state, "n = 5");
    // Level 3 (states 5 and 6) is complete when the search stops.
    assert_eq!(out.distinct, 7);
    assert_eq!(out.level_sizes, vec![1, 2, 2, 2]);
    assert_eq!(out.generated, 1 + 2 + 4 + 4);
}

#[test]
fn limits_give_partial_results() {
    let m = Counter {
        limit: 100,
        bad: None,
    };
    let depth = CheckOptions {
        max_depth: Some(3),
        ..CheckOptions::default()
    };
    let out = sequential::check(&m, &depth).unwrap();
    assert_eq!(
        out.verdict,
        Verdict::Partial {
            reason: StopReason::MaxDepth
        }
    );
    assert_eq!(out.depth, 3);
    assert_eq!(out.distinct, 5);
    let states = CheckOptions {
        max_states: Some(4),
        ..CheckOptions::default()
    };
    let out = sequential::check(&m, &states).unwrap();
    assert_eq!(
        out.verdict,
        Verdict::Partial {
            reason: StopReason::MaxStates
        }
    );
    assert_eq!(out.distinct, 5);
}

/// A fan: state 0 leads to `1..=width`, each `n` of those to `n + width`; the model
/// sets `interrupt` when it expands state `interrupt_at` (as a signal handler would).
struct Fan<'a> {
    width: u32,
    interrupt_at: u32,
    interrupt: &'a std::sync::atomic::AtomicBool,
}

impl Model for Fan<'_> {
    type State = u32;
    fn name(&self) -> String {
        format!("fan {}", self.width)
    }
    fn initial_states(&self, emit: &mut dyn FnMut(&u32)) {
        emit(&0);
    }
    fn successors(&self, s: &u32, emit: &mut dyn FnMut(Action, &u32)) {
        if *s == self.interrupt_at {
            self.interrupt
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        match *s {
            0 => (1..=self.width).for_each(|n| emit(Action(0), &n)),
            n if n <= self.width => emit(Action(0), &(n + self.width)),
            _ => emit(Action(0), s),
        }
    }
    fn action_label(&self, _: Action) -> String {
        "Step".into()
    }
    fn pack(&self, s: &u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&s.to_le_bytes());
    }
    fn unpack(&self, b: &[u8]) -> u32 {
        u32::from_le_bytes(b.try_into().unwrap())
    }
    fn render(&self, s: &u32) -> String {
        format!("n = {s}")
    }
}

#[test]
fn an_interrupt_stops_the_search_part_way_through_a_level() {
    let flag = std::sync::atomic::AtomicBool::new(false);
    let m = Fan {
        width: 20_000,
        interrupt_at: 5_000,
        interrupt: &flag,
    };
    let options = CheckOptions {
        interrupt: Some(&flag),
        ..CheckOptions::default()
    };
    let out = sequential::check(&m, &options).unwrap();
    assert_eq!(
        out.verdict,
        Verdict::Partial {
            reason: StopReason::Interrupted
        }
    );
    assert_eq!(out.exit_code(), 3);
    // The complete levels only; the flag is looked at every 4,096 states, so the
    // second level stopped after 5,000 to 5,000 + 4,096 of its 20,000 expansions.
    assert_eq!(out.level_sizes, vec![1, 20_000]);
    let expanded_in_level = out.distinct - 20_001;
    assert!(
        (5_000..5_000 + 4_096).contains(&expanded_in_level),
        "{expanded_in_level} states of the third level stored"
    );

    // Set before the search starts: it stops before expanding anything.
    let m = Fan {
        interrupt_at: u32::MAX,
        ..m
    };
    let out = sequential::check(&m, &options).unwrap();
    assert_eq!(out.level_sizes, vec![1]);
    assert_eq!(out.distinct, 1);
    assert_eq!(out.generated, 1);
}

/// A search whose levels hold two states each still calls the progress callback: the
/// states between two calls were counted within a level, so levels of fewer than
/// 4,096 states never reported progress at all.
#[test]
fn progress_is_reported_when_every_level_is_small() {
    let m = Counter {
        limit: 20_000,
        bad: None,
    };
    let reports = std::sync::Mutex::new(Vec::new());
    let progress = |p: &checker_core::Progress| reports.lock().unwrap().push(p.clone());
    let options = CheckOptions {
        progress: Some(&progress),
        progress_interval: std::time::Duration::ZERO,
        check_deadlock: false,
        ..CheckOptions::default()
    };
    let out = sequential::check(&m, &options).unwrap();
    assert_eq!(out.distinct, 20_001);
    assert_eq!(out.depth, 10_001);
    let reports = reports.into_inner().unwrap();
    // One call every 4,096 states gone through: 20,001 of them.
    assert_eq!(reports.len(), 4, "{reports:?}");
    for (r, next) in reports.iter().zip(&reports[1..]) {
        assert!(
            r.depth < next.depth && r.distinct < next.distinct,
            "{reports:?}"
        );
    }
    assert!(reports.iter().all(|r| r.frontier <= 2), "{reports:?}");
}
